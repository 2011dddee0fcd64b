import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { AsyncQueue, type OverflowPolicy } from './async-queue.js';
import { backoffDelay, resolveReconnect, type ReconnectOptions, type ResolvedReconnectOptions } from './backoff.js';
import { ExecutionTracker } from '../commands/execution-tracker.js';
import { openAuthenticated, type OpenResult, type Permissions } from './open.js';
import { FilterModel, SubscriptionModel, normalizeEventName } from './subscriptions.js';
import { type Connection, type LogRecord, isErrorReply, replyText } from '../transport/connection.js';
import {
  EslAbortError,
  EslAccessDeniedError,
  EslAuthError,
  EslCommandError,
  EslConnectError,
  EslConnectionClosedError,
  EslError,
  EslInvalidArgumentError,
  EslTimeoutError,
} from '../errors.js';
import type { EslEvent, EventFormat, EventName } from '../protocol/event.js';
import type { Frame } from '../protocol/frame.js';
import type { ParserOptions } from '../protocol/parser.js';
import { type HeaderInput, type LogLevel, commands, serializeCommand } from '../protocol/serializer.js';

export type { ReconnectOptions } from './backoff.js';
export type { Permissions } from './open.js';
export type { OverflowPolicy } from './async-queue.js';

/**
 * Life cycle: `connecting` (inside connect()) → `connected` ⇄ `reconnecting` (only with the
 * reconnect option) → `closing` → `closed`. `closed` is final.
 */
export type ClientState = 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed';

export interface StateChangeInfo {
  previous: ClientState;
  /** Why the link went down (on `reconnecting`) or why the client closed (on `closed`, if by failure). */
  error?: Error;
}

export interface ReconnectAttempt {
  /** 1-based count of attempts since the last stable connection. */
  attempt: number;
  /** Wait before this attempt, ms (backoff with jitter). */
  delay: number;
  /** Why the previous attempt (or the link) failed. */
  error: Error | undefined;
}

export interface ConnectOptions extends ParserOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8021. */
  port?: number;
  /** Default ClueCon (FreeSWITCH's shipped password). Never logged or put in an error. */
  password?: string;
  /** `user@domain` for `userauth` (per-user ESL permissions) instead of the global password. */
  user?: string;
  /** Bound on TCP connect + auth, ms, per attempt. Default 10 000. */
  connectTimeout?: number;
  /**
   * Default reply timeout for every command, ms. Default: none, because an `api` may legitimately
   * run for minutes. A per-call `timeout` overrides it (0 = none).
   */
  timeout?: number;
  /** Reconnect after the link drops (never after a wrong password). Default false. */
  reconnect?: boolean | ReconnectOptions;
  /** How long close() waits for the server to say goodbye before destroying the socket, ms. Default 5000. */
  closeTimeout?: number;
  /**
   * Subscribe by itself to the events bgapi and execute need (BACKGROUND_JOB; CHANNEL_EXECUTE_COMPLETE
   * and CHANNEL_HANGUP). Such events reach your handlers only if you subscribed to them too.
   * Default true.
   */
  autoSubscribe?: boolean;
  /** Aborts the initial connect. */
  signal?: AbortSignal;
}

export interface CommandOptions {
  /** Reply timeout, ms (0 = none). Defaults to the client's `timeout`. */
  timeout?: number;
  signal?: AbortSignal;
}

export interface ApiOptions extends CommandOptions {
  /** Resolve with `-ERR …` text instead of rejecting with EslCommandError. */
  raw?: boolean;
}

export interface BgapiOptions extends ApiOptions {
  /** Reject if the BACKGROUND_JOB result has not arrived this long after sending, ms. Default none. */
  completionTimeout?: number;
  /** Job-UUID to send (default: a random UUID). FreeSWITCH keeps at most 36 characters. */
  jobUuid?: string;
}

export interface ClientExecuteOptions {
  /** Event-UUID to send (comes back as Application-UUID). Default: a random UUID. */
  eventUuid?: string;
  /** Run with CF_EVENT_LOCK: later queued messages wait for this one. */
  eventLock?: boolean;
  /** `async: true` (queue instead of running inline on a sync outbound socket). */
  async?: boolean;
  /** Repeat count; negative = until hangup. The promise settles after the last iteration. */
  loops?: number;
  /** Hold music for the bridged partner while the application runs. */
  holdBleg?: boolean;
  /** Timeout for the sendmsg `+OK`, ms. Default: the client's `timeout`. */
  replyTimeout?: number;
  /** Same as replyTimeout (kept for symmetry with other commands). */
  timeout?: number;
  /** Timeout for CHANNEL_EXECUTE_COMPLETE, ms. Default none (a 3-minute playback must finish). */
  completionTimeout?: number;
  signal?: AbortSignal;
}

export interface EventStreamOptions {
  /** Event names to include (e.g. 'CHANNEL_ANSWER', 'CUSTOM', 'CUSTOM sofia::register'); default all. */
  names?: readonly string[];
  /** Buffered events before the overflow policy applies. Default 1000. */
  bufferSize?: number;
  /**
   * 'pause' (default) stops reading the socket while the buffer is full — nothing is lost, but
   * command replies wait too; 'drop' discards new events, 'drop-oldest' the oldest; both count
   * them in `dropped`.
   */
  overflow?: OverflowPolicy;
  /** Ends the iteration. */
  signal?: AbortSignal;
}

/** The bounded async iterator returned by `client.events()`; `dropped` counts discarded events. */
export type EventStream = AsyncQueue<EslEvent>;

/** The async iterator of state changes returned by `client.states()`. */
export type StateStream = AsyncQueue<ClientState>;

export interface EslClientEventMap {
  /** Every event you subscribed to. */
  event: [EslEvent];
  /** `log/data` records after `client.log(level)`. */
  log: [LogRecord];
  state: [ClientState, StateChangeInfo];
  /** The link dropped (reconnect may follow). */
  disconnect: [Error];
  /** A reconnect attempt is scheduled. */
  reconnecting: [ReconnectAttempt];
  /** Reconnected and subscriptions, filters and log level restored. */
  reconnect: [];
  /** Final: the client is closed (`error` set when it closed because of a failure). */
  close: [Error | undefined];
  /** Non-fatal trouble (e.g. a subscription that could not be restored) and the final failure. Only emitted when listened to. */
  error: [Error];
  /** The socket's write buffer drained after backpressure. */
  drain: [];
}

/** Names accepted by `on` for FreeSWITCH events: a type name, or 'CUSTOM <subclass>'. */
export type EventSelector = EventName | `CUSTOM ${string}`;

interface Job {
  resolve(ev: EslEvent): void;
  reject(err: Error): void;
  cleanup(): void;
}

interface OpFilter {
  header: string;
  value: string;
  onWire: boolean;
}

/** One authenticated connection and everything that dies with it. */
interface Link {
  conn: Connection;
  /** What this connection has actually been sent (user subscriptions plus the library's own). */
  wire: SubscriptionModel;
  /** In-flight `event` commands the library sent for its own needs, by type. */
  internalSubs: Map<string, Promise<void>>;
  jobs: Map<string, Job>;
  executions: ExecutionTracker;
  /** Filters protecting the events of pending bgapi/execute calls while user filters exist. */
  opFilters: Map<string, OpFilter>;
  notice: string | undefined;
  stableTimer: NodeJS.Timeout | undefined;
  detach(): void;
}

/** Our own emitter names: a server-sent Event-Name must never be emitted under one of them. */
const RESERVED = new Set(['event', 'log', 'state', 'disconnect', 'reconnecting', 'reconnect', 'close', 'error', 'drain', 'newListener', 'removeListener']);
const EMPTY: CommandOptions = Object.freeze({});
const DEFAULT_CONNECT_TIMEOUT = 10_000;
const DEFAULT_CLOSE_TIMEOUT = 5_000;

function firstWord(s: string): string {
  const i = s.indexOf(' ');
  return i === -1 ? s : s.slice(0, i);
}

/** The words FreeSWITCH will parse after the command word, taken from the exact bytes we send. */
function wordsAfterCommand(bytes: Buffer): string[] {
  const text = bytes.toString('utf8');
  const line = text.slice(0, text.indexOf('\n'));
  return line.split(' ').slice(1).filter(Boolean);
}

function asList(names: string | readonly string[]): readonly string[] {
  return typeof names === 'string' ? [names] : names;
}

export interface EslClient {
  on<K extends keyof EslClientEventMap>(name: K, listener: (...args: EslClientEventMap[K]) => void): this;
  on(name: EventSelector, listener: (event: EslEvent) => void): this;
  on(name: string | symbol, listener: (...args: any[]) => void): this;
  once<K extends keyof EslClientEventMap>(name: K, listener: (...args: EslClientEventMap[K]) => void): this;
  once(name: EventSelector, listener: (event: EslEvent) => void): this;
  once(name: string | symbol, listener: (...args: any[]) => void): this;
  off<K extends keyof EslClientEventMap>(name: K, listener: (...args: EslClientEventMap[K]) => void): this;
  off(name: EventSelector, listener: (event: EslEvent) => void): this;
  off(name: string | symbol, listener: (...args: any[]) => void): this;
  addListener<K extends keyof EslClientEventMap>(name: K, listener: (...args: EslClientEventMap[K]) => void): this;
  addListener(name: EventSelector, listener: (event: EslEvent) => void): this;
  addListener(name: string | symbol, listener: (...args: any[]) => void): this;
  removeListener<K extends keyof EslClientEventMap>(name: K, listener: (...args: EslClientEventMap[K]) => void): this;
  removeListener(name: EventSelector, listener: (event: EslEvent) => void): this;
  removeListener(name: string | symbol, listener: (...args: any[]) => void): this;
}

/**
 * An inbound ESL client: one authenticated connection to FreeSWITCH's event socket (plus, if
 * asked, automatic reconnection). Create it with `connect()`.
 *
 * Commands are pipelined: each call writes at once and its promise settles when its own reply
 * arrives, paired first-in-first-out and checked by reply type. Every promise settles — with a
 * typed EslError at worst — when the connection or the client closes.
 */
export class EslClient extends EventEmitter {
  readonly host: string;
  readonly port: number;
  readonly user: string | undefined;
  /** What `userauth` granted; undefined with plain `auth`. */
  permissions: Permissions | undefined;

  readonly #password: string;
  private readonly connectTimeout: number;
  private readonly defaultTimeout: number | undefined;
  private readonly closeTimeout: number;
  private readonly autoSubscribe: boolean;
  private readonly parserOptions: ParserOptions;
  private readonly reconnectOptions: ResolvedReconnectOptions | undefined;

  private currentState: ClientState = 'connecting';
  private link: Link | undefined;
  /** The user's subscriptions, filters and log level: what is shown to them and restored on reconnect. */
  private readonly subs = new SubscriptionModel();
  private readonly filters = new FilterModel();
  private logLevel: LogLevel | undefined;
  /** Event types the library subscribed to for its own needs (grows, never shrinks). */
  private readonly internalTypes = new Set<string>();
  private pauseRequests = 0;
  private attempt = 0;
  private reconnectAbort: AbortController | undefined;
  private closePromise: Promise<void> | undefined;
  private destroyError: Error | undefined;
  private closeError: Error | undefined;
  private started = false;

  /** Use `connect()`. */
  constructor(options: ConnectOptions = {}) {
    super();
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 8021;
    if (!Number.isInteger(this.port) || this.port < 0 || this.port > 65535) {
      throw new EslInvalidArgumentError(`invalid port: ${String(options.port)}`);
    }
    this.user = options.user;
    this.#password = options.password ?? 'ClueCon';
    this.connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
    this.defaultTimeout = options.timeout !== undefined && options.timeout > 0 ? options.timeout : undefined;
    this.closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    this.autoSubscribe = options.autoSubscribe ?? true;
    this.parserOptions = { maxHeaderBytes: options.maxHeaderBytes, maxBodyBytes: options.maxBodyBytes };
    this.reconnectOptions = resolveReconnect(options.reconnect);
  }

  /** Current life-cycle state. */
  get state(): ClientState {
    return this.currentState;
  }

  /** Commands written whose replies have not arrived yet. */
  get pendingCount(): number {
    return this.link?.conn.pendingCount ?? 0;
  }

  /** True while the socket's write buffer is full (writes are queued until 'drain'). */
  get writeBlocked(): boolean {
    return this.link?.conn.writeBlocked ?? false;
  }

  /** The event format in use (set by the last subscribe). */
  get eventFormat(): EventFormat {
    return this.subs.format;
  }

  /** @internal Opens the first connection; called by connect(). */
  async start(signal?: AbortSignal): Promise<this> {
    if (this.started) throw new EslInvalidArgumentError('start() runs once, from connect()');
    this.started = true;
    let opened;
    try {
      opened = await this.openFirst(signal);
    } catch (err) {
      this.currentState = 'closed';
      throw err;
    }
    this.permissions = opened.permissions;
    this.adopt(this.makeLink(opened.conn));
    return this;
  }

  /** The first connection; retried with backoff only when `reconnect.initial` asks for it. */
  private async openFirst(signal: AbortSignal | undefined): Promise<OpenResult> {
    const o = this.reconnectOptions;
    for (let attempt = 1; ; attempt++) {
      try {
        return await openAuthenticated(this.openOptions(signal), this.#password);
      } catch (err) {
        if (o === undefined || !o.initial) throw err;
        if (!isRetriable(err as Error) || err instanceof EslAbortError) throw err;
        if (attempt >= o.maxAttempts) {
          throw new EslConnectError(`gave up connecting after ${attempt} attempt${attempt === 1 ? '' : 's'}`, { cause: err });
        }
        try {
          await sleep(backoffDelay(attempt, o), undefined, { signal });
        } catch {
          throw abortError('connect', signal);
        }
      }
    }
  }

  // ---------------------------------------------------------------- commands

  /**
   * `api <command>`: resolves with the response body. A body starting `-ERR` (or `-USAGE`)
   * rejects with EslCommandError carrying the text in `.reply`, unless `raw` is set.
   */
  api(command: string, options?: ApiOptions): Promise<string> {
    const link = this.link;
    if (link === undefined || this.currentState !== 'connected') return Promise.reject(this.notConnected('api'));
    let bytes: Buffer;
    try {
      bytes = commands.api(command);
    } catch (err) {
      return Promise.reject(err);
    }
    return link.conn.send(bytes, 'api/response', `api ${firstWord(command)}`, this.sendOptions(options)).then((frame) => {
      // replyText also covers the command/reply "-ERR permission denied" userauth sends for a refused api.
      const text = replyText(frame);
      if (options?.raw !== true && isErrorReply(text)) throw new EslCommandError(`api ${command}`, text);
      return text;
    });
  }

  /**
   * `bgapi <command>` with its own Job-UUID: resolves with the BACKGROUND_JOB body. The waiter is
   * registered before writing; `-ERR` results reject like api() unless `raw` is set.
   */
  bgapi(command: string, options: BgapiOptions = {}): Promise<string> {
    return this.bgapiEvent(command, options).then((ev) => {
      const text = ev.body;
      if (options.raw !== true && isErrorReply(text)) throw new EslCommandError(`bgapi ${command}`, text);
      return text;
    });
  }

  /** Like bgapi() but resolves with the whole BACKGROUND_JOB event (Job-UUID, Job-Command, body). */
  bgapiEvent(command: string, options: BgapiOptions = {}): Promise<EslEvent> {
    const link = this.link;
    if (link === undefined || this.currentState !== 'connected') return Promise.reject(this.notConnected('bgapi'));
    const jobUuid = options.jobUuid ?? randomUUID();
    let bytes: Buffer;
    try {
      bytes = commands.bgapi(command, jobUuid);
    } catch (err) {
      return Promise.reject(err);
    }
    if (link.jobs.has(jobUuid)) return Promise.reject(new EslInvalidArgumentError(`Job-UUID ${jobUuid} is already pending`));
    const ready = this.ensureInternal(link, ['BACKGROUND_JOB']);
    const filterKey = this.addOpFilter(link, 'Job-UUID', jobUuid);
    const result = new Promise<EslEvent>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const signal = options.signal;
      const onAbort = () => this.failJob(link, jobUuid, abortError('bgapi', signal));
      const job: Job = {
        resolve,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.removeOpFilter(link, filterKey);
        },
      };
      link.jobs.set(jobUuid, job);
      if (options.completionTimeout !== undefined && options.completionTimeout > 0) {
        const ms = options.completionTimeout;
        timer = setTimeout(() => this.failJob(link, jobUuid, new EslTimeoutError(`no BACKGROUND_JOB result for bgapi ${firstWord(command)} within ${ms} ms`)), ms);
      }
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    ready?.catch((err: Error) => this.failJob(link, jobUuid, err));
    link.conn.send(bytes, 'command/reply', `bgapi ${firstWord(command)}`, this.sendOptions(options)).then(
      (frame) => {
        const text = replyText(frame);
        if (isErrorReply(text)) this.failJob(link, jobUuid, new EslCommandError(`bgapi ${command}`, text));
      },
      (err: Error) => this.failJob(link, jobUuid, err),
    );
    return result;
  }

  /**
   * `event <format> <names…>`. Names may be types ('CHANNEL_ANSWER'), 'ALL', or
   * 'CUSTOM sub::class' (CUSTOM words are put last, as FreeSWITCH requires). The format applies
   * to the whole connection; default: the current one (plain at first).
   */
  subscribe(names: string | readonly string[], format?: EventFormat, options?: CommandOptions): Promise<string> {
    return this.run('event', (link) => {
      const bytes = commands.event(format ?? this.subs.format, asList(names));
      const words = wordsAfterCommand(bytes);
      this.subs.applyEvent(words);
      link.wire.applyEvent(words);
      return this.command(link, bytes, bytes.toString('utf8').trim(), options);
    });
  }

  /** `nixevent <names…>`. Types the library itself needs stay subscribed on the wire (but hidden from you). */
  unsubscribe(names: string | readonly string[], options?: CommandOptions): Promise<string> {
    return this.run('nixevent', (link) => {
      const bytes = commands.nixevent(asList(names));
      const words = wordsAfterCommand(bytes);
      this.subs.applyNixevent(words);
      if (this.internalTypes.size === 0) {
        link.wire.applyNixevent(words);
        return this.command(link, bytes, bytes.toString('utf8').trim(), options);
      }
      const customAt = words.findIndex((w) => normalizeEventName(w) === 'CUSTOM');
      const typeWords = customAt === -1 ? words : words.slice(0, customAt);
      if (typeWords.some((w) => normalizeEventName(w) === 'ALL')) return this.clearEventsKeepingInternal(link, 'nixevent ALL', options);
      const kept = typeWords.filter((w) => !this.internalTypes.has(normalizeEventName(w)));
      const wire = customAt === -1 ? kept : [...kept, ...words.slice(customAt)];
      if (wire.length === 0) return Promise.resolve('+OK events nixed'); // nothing left to send: all were the library's
      const wireBytes = serializeCommand(`nixevent ${wire.join(' ')}`);
      link.wire.applyNixevent(wire);
      return this.command(link, wireBytes, `nixevent ${wire.join(' ')}`, options);
    });
  }

  /** `noevents`: drops every subscription (filters stay). */
  noevents(options?: CommandOptions): Promise<string> {
    return this.run('noevents', (link) => {
      this.subs.applyNoevents();
      if (this.internalTypes.size === 0) {
        link.wire.applyNoevents();
        return this.command(link, commands.noevents(), 'noevents', options);
      }
      return this.clearEventsKeepingInternal(link, 'noevents', options);
    });
  }

  /**
   * `filter <header> <value>`: once any filter exists FreeSWITCH only sends events matching one
   * (value `/regex/`, `-value` excludes). Restored after reconnect.
   */
  filter(header: string, value: string, options?: CommandOptions): Promise<string> {
    return this.run('filter', (link) => {
      const bytes = commands.filter(header, value);
      // The first user filter would starve pending bgapi/execute results: let theirs in first.
      if (this.filters.size === 0) for (const f of link.opFilters.values()) if (!f.onWire) this.sendOpFilter(link, f);
      this.filters.add(header, value);
      return this.command(link, bytes, `filter ${header} ${value}`, options);
    });
  }

  /** `filter delete <header> [<value>]`; header 'all' removes every filter. */
  filterDelete(header: string, value?: string, options?: CommandOptions): Promise<string> {
    return this.run('filter delete', (link) => {
      const bytes = commands.filterDelete(header, value);
      const label = value === undefined ? `filter delete ${header}` : `filter delete ${header} ${value}`;
      const removed = this.filters.delete(header, value);
      const ours = [...link.opFilters.values()].filter((f) => f.onWire);
      if (ours.length === 0) return this.command(link, bytes, label, options);
      if (this.filters.size === 0) {
        // No user filter left: with no filter at all every event passes, so ours can go too.
        for (const f of ours) f.onWire = false;
        return this.command(link, commands.filterDelete('all'), 'filter delete all', options);
      }
      const h = header.toLowerCase();
      const touchesOurs = h === 'all' || ours.some((f) => f.header.toLowerCase() === h && (value === undefined || value === f.value));
      if (!touchesOurs) return this.command(link, bytes, label, options);
      // Delete the user's entries one by one so the library's stay in place.
      const pairs = new Map(removed.map(([rh, rv]) => [`${rh.toLowerCase()}\0${rv}`, [rh, rv] as const]));
      if (pairs.size === 0) return Promise.resolve(`+OK filter deleted. [${header}][${value ?? ''}]`);
      const replies = [...pairs.values()].map(([rh, rv]) =>
        this.command(link, commands.filterDelete(rh, rv), `filter delete ${rh} ${rv}`, options),
      );
      return Promise.all(replies).then((texts) => texts[texts.length - 1]!);
    });
  }

  /** `divert_events on|off` (only meaningful on a connection controlling a session). */
  divertEvents(on: boolean, options?: CommandOptions): Promise<string> {
    return this.run('divert_events', (link) => this.command(link, commands.divertEvents(on), `divert_events ${on ? 'on' : 'off'}`, options));
  }

  /** `sendevent <name>` with headers and an optional body; resolves with the new event's Event-UUID. */
  sendevent(name: string, headers?: HeaderInput, body?: string | Buffer, options?: CommandOptions): Promise<string> {
    return this.run('sendevent', (link) =>
      this.command(link, commands.sendevent(name, headers, body), `sendevent ${name}`, options).then((text) => text.replace(/^\+OK\s*/, '')),
    );
  }

  /** `sendmsg <uuid>` with headers (and an optional body); resolves with the Reply-Text. */
  sendmsg(uuid: string, headers: HeaderInput, body?: string | Buffer, options?: CommandOptions): Promise<string> {
    return this.run('sendmsg', (link) => this.command(link, commands.sendmsg(uuid, headers, body), `sendmsg ${uuid}`, options));
  }

  /**
   * Runs a dialplan application on a channel (sendmsg `execute`) and resolves with its
   * CHANNEL_EXECUTE_COMPLETE event (see `applicationResponse`). Rejects with EslCommandError if
   * FreeSWITCH refuses the sendmsg, EslHangupError if the channel hangs up first, EslTimeoutError
   * or EslAbortError per the options. A multi-line `arg` is sent as a body.
   */
  execute(uuid: string, app: string, arg?: string, options: ClientExecuteOptions = {}): Promise<EslEvent> {
    const link = this.link;
    if (link === undefined || this.currentState !== 'connected') return Promise.reject(this.notConnected('execute'));
    if (options.loops === 0) return Promise.reject(new EslInvalidArgumentError('loops: 0 runs nothing and would never complete'));
    const eventUuid = options.eventUuid ?? randomUUID();
    let bytes: Buffer;
    try {
      bytes = commands.execute(uuid, app, arg, { ...options, eventUuid });
    } catch (err) {
      return Promise.reject(err);
    }
    const loops = options.loops;
    const types = ['CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP'];
    if (loops !== undefined && loops !== 1) types.push('CHANNEL_EXECUTE');
    const ready = this.ensureInternal(link, types);
    const filterKey = this.addOpFilter(link, 'Application-UUID', eventUuid);
    const done = link.executions.wait(eventUuid, uuid, loops, {
      completionTimeout: options.completionTimeout,
      signal: options.signal,
    });
    const dropFilter = () => this.removeOpFilter(link, filterKey);
    done.then(dropFilter, dropFilter);
    ready?.catch((err: Error) => link.executions.cancel(eventUuid, err));
    const replyTimeout = options.replyTimeout ?? options.timeout;
    link.conn
      .send(bytes, 'command/reply', `sendmsg execute ${app}`, this.sendOptions({ timeout: replyTimeout, signal: options.signal }))
      .then(
        (frame) => {
          const text = replyText(frame);
          if (isErrorReply(text)) link.executions.cancel(eventUuid, new EslCommandError(`sendmsg ${uuid} execute ${app}`, text));
        },
        (err: Error) => link.executions.cancel(eventUuid, err),
      );
    return done;
  }

  /** sendmsg `hangup` with an optional cause (FreeSWITCH's default: NORMAL_CLEARING). */
  hangup(uuid: string, cause?: string, options?: CommandOptions): Promise<string> {
    return this.run('hangup', (link) => this.command(link, commands.hangup(uuid, cause), `sendmsg ${uuid} hangup`, options));
  }

  /** `log <level>`: log lines at or below the level arrive as 'log' records. Restored after reconnect. */
  log(level: LogLevel = 'DEBUG', options?: CommandOptions): Promise<string> {
    return this.run('log', (link) => {
      const previous = this.logLevel;
      const bytes = commands.log(level);
      this.logLevel = level;
      return this.command(link, bytes, `log ${level}`, options).catch((err: unknown) => {
        if (err instanceof EslCommandError && this.logLevel === level) this.logLevel = previous;
        throw err;
      });
    });
  }

  /** `nolog`: stop log records. */
  nolog(options?: CommandOptions): Promise<string> {
    return this.run('nolog', (link) => {
      this.logLevel = undefined;
      return this.command(link, commands.nolog(), 'nolog', options);
    });
  }

  /**
   * Any other command that FreeSWITCH answers with a command/reply (or, for `api …`, an
   * api/response); resolves with the Reply-Text. Subscriptions, filters and log level changed
   * this way are not tracked (not restored, not used to hide events): use the methods for those.
   */
  sendCommand(command: string, options: ApiOptions & { headers?: HeaderInput; body?: string | Buffer } = {}): Promise<string> {
    if (/^\s*(user)?auth\b/i.test(command)) {
      return Promise.reject(new EslInvalidArgumentError('authentication is done by connect(); pass password/user there'));
    }
    return this.run('command', (link) => {
      const bytes = serializeCommand(command, options.headers, options.body);
      const isApi = /^api\s/i.test(command);
      return link.conn.send(bytes, isApi ? 'api/response' : 'command/reply', firstWord(command), this.sendOptions(options)).then((frame) => {
        const text = replyText(frame);
        if (options.raw !== true && isErrorReply(text)) throw new EslCommandError(command, text);
        return text;
      });
    });
  }

  // ---------------------------------------------------------------- streams

  /**
   * A bounded async iterator over the events you are subscribed to (optionally only `names`).
   * Registered at once, so nothing between this call and the first next() is missed. Ends when
   * the client closes (throws the failure if it closed because of one) or on `break`.
   */
  events(options: EventStreamOptions = {}): EventStream {
    const bufferSize = options.bufferSize ?? 1000;
    const overflow = options.overflow ?? 'pause';
    if (overflow !== 'pause' && overflow !== 'drop' && overflow !== 'drop-oldest') {
      throw new EslInvalidArgumentError(`overflow must be 'pause', 'drop' or 'drop-oldest'`);
    }
    const wanted = options.names === undefined ? undefined : new Set(options.names.map((n) => n.trim()));
    let paused = false;
    const onEvent = (ev: EslEvent) => {
      if (wanted !== undefined) {
        const name = ev.name;
        if (!wanted.has(name) && !(name === 'CUSTOM' && wanted.has(`CUSTOM ${ev.subclass ?? ''}`))) return;
      }
      stream.push(ev);
    };
    const onClose = (err: Error | undefined) => stream.end(err);
    const onAbort = () => void stream.return();
    const stream: EventStream = new AsyncQueue<EslEvent>(bufferSize, overflow, {
      pause: () => {
        paused = true;
        this.requestPause();
      },
      resume: () => {
        if (!paused) return;
        paused = false;
        this.releasePause();
      },
      detach: () => {
        this.off('event', onEvent);
        this.off('close', onClose);
        options.signal?.removeEventListener('abort', onAbort);
      },
    });
    if (this.currentState === 'closed') {
      stream.end();
      return stream;
    }
    this.on('event', onEvent);
    this.on('close', onClose);
    if (options.signal?.aborted) void stream.return();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    return stream;
  }

  /**
   * State changes as an async iterable, starting with the current state and ending after
   * 'closed'. Buffers up to 64 changes for a slow reader (oldest dropped first).
   */
  states(): StateStream {
    const onState = (state: ClientState) => {
      queue.push(state);
      if (state === 'closed') queue.end();
    };
    const queue = new AsyncQueue<ClientState>(64, 'drop-oldest', { detach: () => this.off('state', onState) });
    queue.push(this.currentState);
    if (this.currentState === 'closed') queue.end();
    else this.on('state', onState);
    return queue;
  }

  /** Resolves when the client is connected (at once if it is); rejects once it is closed. */
  ready(signal?: AbortSignal): Promise<void> {
    if (this.currentState === 'connected') return Promise.resolve();
    if (this.currentState === 'closed') return Promise.reject(this.closeError ?? new EslConnectionClosedError('client is closed'));
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.off('state', onState);
        signal?.removeEventListener('abort', onAbort);
      };
      const onState = (state: ClientState, info: StateChangeInfo) => {
        if (state === 'connected') {
          done();
          resolve();
        } else if (state === 'closed') {
          done();
          reject(info.error ?? new EslConnectionClosedError('client closed'));
        }
      };
      const onAbort = () => {
        done();
        reject(abortError('ready', signal));
      };
      if (signal?.aborted) return onAbort();
      this.on('state', onState);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  // ---------------------------------------------------------------- closing

  /**
   * Graceful close: sends `exit`, lets replies to commands already sent arrive, waits for the
   * disconnect notice and the socket to close (at most `timeout` ms, then destroys it).
   * Pending bgapi/execute waiters reject with EslConnectionClosedError.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    if (this.currentState === 'closed') return Promise.resolve();
    if (this.closePromise !== undefined) return this.closePromise;
    this.closePromise = new Promise<void>((resolve) => this.once('close', () => resolve()));
    const link = this.link;
    this.setState('closing');
    this.reconnectAbort?.abort();
    if (link === undefined) {
      this.finalize(undefined);
      return this.closePromise;
    }
    // A paused reader would never see the goodbye.
    link.conn.resume();
    link.conn.send(commands.exit(), 'command/reply', 'exit').catch(() => undefined);
    const timer = setTimeout(
      () => link.conn.destroy(new EslConnectionClosedError('server did not close the connection after exit')),
      options.timeout ?? this.closeTimeout,
    );
    void this.closePromise.then(() => clearTimeout(timer));
    return this.closePromise;
  }

  /** Immediate close: the socket is destroyed and everything pending rejects (with `error` if given). */
  destroy(error?: Error): void {
    if (this.currentState === 'closed') return;
    this.destroyError = error;
    this.closePromise ??= new Promise<void>((resolve) => this.once('close', () => resolve()));
    const link = this.link;
    if (this.currentState !== 'closing') this.setState('closing');
    this.reconnectAbort?.abort();
    if (link === undefined) {
      this.finalize(error);
      return;
    }
    const reason = error instanceof EslError ? error : new EslConnectionClosedError('client destroyed', { cause: error });
    link.conn.destroy(reason);
  }

  // ---------------------------------------------------------------- internals

  private openOptions(signal: AbortSignal | undefined) {
    return {
      host: this.host,
      port: this.port,
      user: this.user,
      connectTimeout: this.connectTimeout,
      signal,
      ...this.parserOptions,
    };
  }

  private sendOptions(options: CommandOptions | undefined): CommandOptions {
    if (options === undefined) return this.defaultTimeout === undefined ? EMPTY : { timeout: this.defaultTimeout };
    if (options.timeout === undefined && this.defaultTimeout !== undefined) return { ...options, timeout: this.defaultTimeout };
    return options;
  }

  private notConnected(what: string): EslConnectionClosedError {
    return new EslConnectionClosedError(`cannot send ${what}: client is ${this.currentState}`);
  }

  /** Runs `fn` with the live link, turning synchronous throws (bad arguments) into rejections. */
  private run(what: string, fn: (link: Link) => Promise<string>): Promise<string> {
    const link = this.link;
    if (link === undefined || this.currentState !== 'connected') return Promise.reject(this.notConnected(what));
    try {
      return fn(link);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Sends a command/reply command; `-ERR` rejects with EslCommandError(text, reply). */
  private command(link: Link, bytes: Buffer, text: string, options?: CommandOptions): Promise<string> {
    return link.conn.send(bytes, 'command/reply', firstWord(text), this.sendOptions(options)).then((frame) => {
      const reply = replyText(frame);
      if (isErrorReply(reply)) throw new EslCommandError(text, reply);
      return reply;
    });
  }

  /**
   * Makes sure the link receives the given event types for the library's own use (first bgapi or
   * execute). Resolves when the subscription is confirmed; undefined if nothing needed sending.
   */
  private ensureInternal(link: Link, types: readonly string[]): Promise<void> | undefined {
    if (!this.autoSubscribe) return undefined;
    for (const t of types) this.internalTypes.add(t);
    const missing = types.filter((t) => !link.wire.hasType(t));
    let sent: Promise<void> | undefined;
    if (missing.length > 0) {
      const bytes = commands.event(link.wire.format, missing);
      link.wire.applyEvent(wordsAfterCommand(bytes));
      const p = this.command(link, bytes, `event ${link.wire.format} ${missing.join(' ')}`).then(() => undefined);
      p.catch(() => {
        for (const t of missing) if (link.internalSubs.get(t) === p) link.internalSubs.delete(t);
      });
      for (const t of missing) link.internalSubs.set(t, p);
      sent = p;
    }
    const waits = types.map((t) => link.internalSubs.get(t)).filter((p): p is Promise<void> => p !== undefined);
    if (waits.length === 0) return undefined;
    if (waits.length === 1 && waits[0] === sent) return sent;
    return Promise.all(waits).then(() => undefined);
  }

  /**
   * noevents / nixevent ALL while the library needs some types. With a bgapi or execute pending,
   * FreeSWITCH's noevents would flush (and both would briefly stop) the events they wait for, so
   * the user's types are nixed one by one instead; otherwise the real command is sent and the
   * library's types are subscribed again right behind it.
   */
  private clearEventsKeepingInternal(link: Link, what: 'noevents' | 'nixevent ALL', options?: CommandOptions): Promise<string> {
    const busy = link.jobs.size > 0 || link.executions.size > 0;
    if (!busy) {
      const bytes = what === 'noevents' ? commands.noevents() : commands.nixevent(['ALL']);
      if (what === 'noevents') link.wire.applyNoevents();
      else link.wire.applyNixevent(['ALL']);
      link.internalSubs.clear();
      const reply = this.command(link, bytes, what, options);
      this.ensureInternal(link, [...this.internalTypes])?.catch((err: Error) => this.report(err));
      return reply;
    }
    const types = link.wire.enabledTypes().filter((t) => t !== 'CUSTOM' && !this.internalTypes.has(t));
    const subclasses = link.wire.subclassList();
    const words = subclasses.length > 0 ? [...types, 'CUSTOM', ...subclasses] : types;
    if (words.length === 0) return Promise.resolve(what === 'noevents' ? '+OK no longer listening for events' : '+OK events nixed');
    link.wire.applyNixevent(words);
    return this.command(link, serializeCommand(`nixevent ${words.join(' ')}`), `nixevent ${words.join(' ')}`, options);
  }

  private addOpFilter(link: Link, header: string, value: string): string {
    const key = `${header}\0${value}`;
    const f: OpFilter = { header, value, onWire: false };
    link.opFilters.set(key, f);
    if (this.filters.size > 0) this.sendOpFilter(link, f);
    return key;
  }

  private sendOpFilter(link: Link, f: OpFilter): void {
    f.onWire = true;
    this.command(link, commands.filter(f.header, f.value), `filter ${f.header} ${f.value}`).catch(() => undefined);
  }

  private removeOpFilter(link: Link, key: string): void {
    const f = link.opFilters.get(key);
    if (f === undefined) return;
    link.opFilters.delete(key);
    if (f.onWire && !link.conn.closed) {
      this.command(link, commands.filterDelete(f.header, f.value), `filter delete ${f.header}`).catch(() => undefined);
    }
  }

  private failJob(link: Link, jobUuid: string, err: Error): void {
    const job = link.jobs.get(jobUuid);
    if (job === undefined) return;
    link.jobs.delete(jobUuid);
    job.cleanup();
    job.reject(err);
  }

  private requestPause(): void {
    if (this.pauseRequests++ === 0 && this.currentState === 'connected') this.link?.conn.pause();
  }

  private releasePause(): void {
    if (--this.pauseRequests === 0) this.link?.conn.resume();
  }

  /**
   * Emits without letting a throwing listener unwind through the client's own bookkeeping (a
   * half-finished reconnect or close): the exception is rethrown on its own, as an uncaught
   * exception, exactly as a throwing listener would surface anywhere else in Node.
   */
  private safeEmit(name: string, ...args: unknown[]): void {
    try {
      this.emit(name, ...args);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.safeEmit('error', err);
  }

  private setState(state: ClientState, error?: Error): void {
    const previous = this.currentState;
    if (previous === state) return;
    this.currentState = state;
    const info: StateChangeInfo = error === undefined ? { previous } : { previous, error };
    this.safeEmit('state', state, info);
  }

  private makeLink(conn: Connection): Link {
    const link: Link = {
      conn,
      wire: new SubscriptionModel(),
      internalSubs: new Map(),
      jobs: new Map(),
      executions: new ExecutionTracker(),
      opFilters: new Map(),
      notice: undefined,
      stableTimer: undefined,
      detach: () => {
        conn.off('event', onEvent);
        conn.off('log', onLog);
        conn.off('disconnect-notice', onNotice);
        conn.off('close', onClose);
        conn.off('drain', onDrain);
      },
    };
    const onEvent = (ev: EslEvent) => this.handleEvent(link, ev);
    const onLog = (record: LogRecord) => this.safeEmit('log', record);
    const onNotice = (frame: Frame) => this.handleNotice(link, frame);
    const onClose = (err: EslError | undefined) => this.handleLinkClose(link, err);
    const onDrain = () => this.safeEmit('drain');
    conn.on('event', onEvent);
    conn.on('log', onLog);
    conn.on('disconnect-notice', onNotice);
    conn.on('close', onClose);
    conn.on('drain', onDrain);
    return link;
  }

  private adopt(link: Link): void {
    this.link = link;
    if (this.reconnectOptions !== undefined) {
      // Only a connection that stays up resets the backoff, so a flapping server is not hammered.
      link.stableTimer = setTimeout(() => {
        this.attempt = 0;
      }, this.reconnectOptions.stableAfter);
      link.stableTimer.unref();
    }
    if (this.pauseRequests > 0) link.conn.pause();
    this.setState('connected');
  }

  private handleEvent(link: Link, ev: EslEvent): void {
    const name = ev.name;
    if (name === 'BACKGROUND_JOB') {
      if (link.jobs.size > 0) {
        const id = ev.get('Job-UUID');
        const job = id === undefined ? undefined : link.jobs.get(id);
        if (job !== undefined) {
          link.jobs.delete(id!);
          job.cleanup();
          job.resolve(ev);
        }
      }
    } else if (link.executions.size > 0) {
      link.executions.handle(ev, name);
    }
    const subclass = name === 'CUSTOM' ? ev.subclass : undefined;
    // Only what the user subscribed to: the library's own subscriptions stay invisible.
    if (!this.subs.wants(name, subclass)) return;
    this.safeEmit('event', ev);
    if (!RESERVED.has(name)) this.safeEmit(name, ev);
    if (subclass !== undefined) this.safeEmit(`CUSTOM ${subclass}`, ev);
  }

  private handleNotice(link: Link, frame: Frame): void {
    // A linger notice (outbound sessions) announces more events, not the end.
    if (frame.get('Content-Disposition') === 'linger') return;
    const text = frame.bodyText.split('\n')[0]?.trim() || 'disconnected';
    link.notice = text;
    if (this.currentState === 'closing') return; // the goodbye we asked for; the server closes next
    link.conn.destroy(new EslConnectionClosedError(`server disconnected: ${text}`));
  }

  private handleLinkClose(link: Link, err: EslError | undefined): void {
    link.detach();
    if (link.stableTimer) clearTimeout(link.stableTimer);
    const closing = this.currentState === 'closing' || this.currentState === 'closed';
    const reason: Error = closing
      ? new EslConnectionClosedError('client closed', { cause: this.destroyError })
      : (err ?? new EslConnectionClosedError(link.notice ? `server disconnected: ${link.notice}` : 'connection closed by the server'));
    const lost = (what: string) =>
      reason instanceof EslConnectionClosedError && closing
        ? new EslConnectionClosedError(`client closed before ${what}`, { cause: this.destroyError })
        : new EslConnectionClosedError(`connection lost before ${what}: ${reason.message}`, { cause: reason });
    if (link.jobs.size > 0) {
      const e = lost('the BACKGROUND_JOB result arrived (the job may still run)');
      for (const id of [...link.jobs.keys()]) this.failJob(link, id, e);
    }
    link.executions.rejectAll(lost('the application completed'));
    link.opFilters.clear();
    if (this.link !== link) return; // a reconnect attempt's connection that never became current
    this.link = undefined;
    if (closing) {
      this.finalize(this.destroyError);
      return;
    }
    this.safeEmit('disconnect', reason);
    if (this.reconnectOptions !== undefined && isRetriable(reason)) {
      this.setState('reconnecting', reason);
      void this.reconnectLoop(reason);
    } else {
      this.finalize(reason);
    }
  }

  private async reconnectLoop(firstError: Error): Promise<void> {
    const o = this.reconnectOptions!;
    let lastError: Error | undefined = firstError;
    const abort = new AbortController();
    this.reconnectAbort = abort;
    while (this.currentState === 'reconnecting') {
      this.attempt++;
      if (this.attempt > o.maxAttempts) {
        this.finalize(new EslConnectError(`gave up reconnecting after ${o.maxAttempts} attempts`, { cause: lastError }));
        return;
      }
      const delay = backoffDelay(this.attempt, o);
      this.safeEmit('reconnecting', { attempt: this.attempt, delay, error: lastError });
      try {
        await sleep(delay, undefined, { signal: abort.signal });
      } catch {
        return; // close() or destroy() during the wait
      }
      if (this.currentState !== 'reconnecting') return;
      let link: Link;
      try {
        const opened = await openAuthenticated(this.openOptions(abort.signal), this.#password);
        if (this.currentState !== 'reconnecting') {
          opened.conn.destroy();
          return;
        }
        this.permissions = opened.permissions;
        link = this.makeLink(opened.conn);
      } catch (err) {
        if (this.currentState !== 'reconnecting') return;
        if (!isRetriable(err as Error)) {
          this.finalize(err as Error); // terminal: the same credentials cannot succeed
          return;
        }
        lastError = err as Error;
        continue;
      }
      try {
        await this.restore(link);
      } catch (err) {
        link.conn.destroy();
        if (this.currentState !== 'reconnecting') return;
        lastError = err as Error;
        continue;
      }
      if (this.currentState !== 'reconnecting' || link.conn.closed) {
        link.conn.destroy();
        if (this.currentState !== 'reconnecting') return;
        continue;
      }
      this.reconnectAbort = undefined;
      this.adopt(link);
      this.safeEmit('reconnect');
      return;
    }
  }

  /**
   * Replays subscriptions, the library's own event types, filters and log level on a fresh
   * connection (pipelined). A command the server refuses is reported on 'error' and skipped; a
   * connection that dies meanwhile fails the attempt.
   */
  private async restore(link: Link): Promise<void> {
    const sent: Array<Promise<string>> = [];
    for (const line of this.subs.restoreLines()) {
      const bytes = serializeCommand(line);
      const words = wordsAfterCommand(bytes);
      if (line.startsWith('event ')) link.wire.applyEvent(words);
      else link.wire.applyNixevent(words);
      sent.push(this.command(link, bytes, line));
    }
    if (this.internalTypes.size > 0) {
      const p = this.ensureInternal(link, [...this.internalTypes]);
      if (p !== undefined) sent.push(p.then(() => ''));
    }
    for (const [header, value] of this.filters.entries()) {
      sent.push(this.command(link, commands.filter(header, value), `filter ${header} ${value}`));
    }
    if (this.logLevel !== undefined) sent.push(this.command(link, commands.log(this.logLevel), `log ${this.logLevel}`));
    const results = await Promise.allSettled(sent);
    for (const r of results) {
      if (r.status === 'rejected') {
        if (!(r.reason instanceof EslCommandError)) throw r.reason;
        this.report(r.reason);
      }
    }
  }

  private finalize(err: Error | undefined): void {
    if (this.currentState === 'closed') return;
    this.reconnectAbort?.abort();
    this.reconnectAbort = undefined;
    this.closeError = err;
    this.setState('closed', err);
    if (err !== undefined) this.report(err);
    this.safeEmit('close', err);
  }
}

/** Errors worth reconnecting for: everything except a refused login. */
function isRetriable(err: Error): boolean {
  return !(err instanceof EslAuthError || err instanceof EslAccessDeniedError);
}

function abortError(what: string, signal: AbortSignal | undefined): EslAbortError {
  return new EslAbortError(`${what} aborted`, { cause: signal?.reason });
}

/**
 * Connects to FreeSWITCH's event socket and authenticates. Resolves with a connected client;
 * rejects with EslConnectError (unreachable, timeout), EslAuthError (wrong password — never
 * retried), EslAccessDeniedError (ACL rejection) or EslAbortError.
 */
export async function connect(options: ConnectOptions = {}): Promise<EslClient> {
  const client = new EslClient(options);
  return client.start(options.signal);
}
