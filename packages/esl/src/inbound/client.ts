/** The inbound ESL client: one authenticated connection to FreeSWITCH's event socket, its commands and its life cycle. */
import { CommandLayer, wordsAfterCommand } from '../commands/command-layer.js';
import type { CommandOptions, ExecuteOptions } from '../commands/options.js';
import {
  EslConnectionClosedError,
  EslError,
  EslInvalidArgumentError,
  isRetriable,
} from '../errors.js';
import type { EslEvent, EventFormat } from '../protocol/event.js';
import type { Frame } from '../protocol/frame.js';
import type { ParserOptions } from '../protocol/parser.js';
import { type HeaderInput, commands } from '../protocol/serializer.js';
import type { Connection, LogRecord } from '../transport/connection.js';
import { resolveReconnect, type ReconnectOptions, type ResolvedReconnectOptions } from './backoff.js';
import { type ClientState, EventStreams, type EventStream, type EventStreamOptions, type StateStream } from './event-streams.js';
import { InternalSubscriptions, type LinkSender } from './internal-subscriptions.js';
import { type Link, newLink } from './link.js';
import { openAuthenticated, type OpenResult, type Permissions } from './open.js';
import { Reconnector, abortError, restore, type ReconnectAttempt, type ReconnectHost } from './reconnect.js';
import { FilterModel, SubscriptionModel } from './subscriptions.js';

export type { ClientState, EventStream, EventStreamOptions, StateStream } from './event-streams.js';
export type { OverflowPolicy } from './async-queue.js';
export type { ReconnectOptions } from './backoff.js';
export type { Permissions } from './open.js';
export type { ReconnectAttempt } from './reconnect.js';

export interface StateChangeInfo {
  previous: ClientState;
  /** Why the link went down (on `reconnecting`) or why the client closed (on `closed`, if by failure). */
  error?: Error;
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

const CLIENT_EVENTS = ['event', 'log', 'state', 'disconnect', 'reconnecting', 'reconnect', 'close', 'error', 'drain'] as const;
const EMPTY: CommandOptions = Object.freeze({});
const DEFAULT_CONNECT_TIMEOUT = 10_000;
const DEFAULT_CLOSE_TIMEOUT = 5_000;

function asList(names: string | readonly string[]): readonly string[] {
  return typeof names === 'string' ? [names] : names;
}

/**
 * An inbound ESL client: one authenticated connection to FreeSWITCH's event socket (plus, if
 * asked, automatic reconnection). Create it with `connect()`.
 *
 * Commands are pipelined: each call writes at once and its promise settles when its own reply
 * arrives, paired first-in-first-out and checked by reply type. Every promise settles — with a
 * typed EslError at worst — when the connection or the client closes.
 *
 * The commands are those of the command layer (shared with the outbound call session); this
 * class adds the life cycle, the user's subscriptions and filters (hiding the library's own, see
 * InternalSubscriptions), event streams (EventStreams) and reconnection (Reconnector).
 */
export class EslClient extends CommandLayer<EslClientEventMap, Link> {
  readonly host: string;
  readonly port: number;
  readonly user: string | undefined;
  /** What `userauth` granted; undefined with plain `auth`. */
  permissions: Permissions | undefined;

  readonly #password: string;
  private readonly connectTimeout: number;
  private readonly defaultTimeout: number | undefined;
  private readonly closeTimeout: number;
  private readonly parserOptions: ParserOptions;
  private readonly reconnector: Reconnector | undefined;

  private currentState: ClientState = 'connecting';
  private link: Link | undefined;
  /** The user's subscriptions and filters: what is shown to them and restored on reconnect. */
  private readonly subs = new SubscriptionModel();
  private readonly filters = new FilterModel();
  private readonly internal: InternalSubscriptions;
  private readonly streams: EventStreams;
  private closePromise: Promise<void> | undefined;
  private destroyError: Error | undefined;
  private closeError: Error | undefined;
  private started = false;

  /** Use `connect()`. */
  constructor(options: ConnectOptions = {}) {
    super(CLIENT_EVENTS);
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
    this.parserOptions = { maxHeaderBytes: options.maxHeaderBytes, maxBodyBytes: options.maxBodyBytes };
    const send: LinkSender = (link, bytes, text, o) => this.command(link, bytes, text, o);
    this.internal = new InternalSubscriptions(options.autoSubscribe ?? true, send, this.filters, (err) => this.report(err));
    this.streams = new EventStreams(this, () => this.link?.conn);
    const reconnect: ResolvedReconnectOptions | undefined = resolveReconnect(options.reconnect);
    this.reconnector = reconnect === undefined ? undefined : new Reconnector(reconnect, this.reconnectHost(send));
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
      opened = this.reconnector === undefined ? await this.open(signal) : await this.reconnector.first(signal);
    } catch (err) {
      this.currentState = 'closed';
      throw err;
    }
    this.permissions = opened.permissions;
    this.adopt(this.makeLink(opened.conn));
    return this;
  }

  // ---------------------------------------------------------------- commands with a channel argument

  /** `sendmsg <uuid>` with headers (and an optional body); resolves with the Reply-Text. */
  sendmsg(uuid: string, headers: HeaderInput, body?: string | Buffer, options?: CommandOptions): Promise<string> {
    return this.sendmsgTo(uuid, headers, body, options);
  }

  /**
   * Runs a dialplan application on a channel (sendmsg `execute`) and resolves with its
   * CHANNEL_EXECUTE_COMPLETE event (see `applicationResponse`). Rejects with EslCommandError if
   * FreeSWITCH refuses the sendmsg, EslHangupError if the channel hangs up first, EslTimeoutError
   * or EslAbortError per the options. A multi-line `arg` is sent as a body.
   */
  execute(uuid: string, app: string, arg?: string, options: ExecuteOptions = {}): Promise<EslEvent> {
    return this.executeOn(uuid, uuid, app, arg, options);
  }

  /** sendmsg `hangup` with an optional cause (FreeSWITCH's default: NORMAL_CLEARING). */
  hangup(uuid: string, cause?: string, options?: CommandOptions): Promise<string> {
    return this.hangupOn(uuid, cause, options);
  }

  // ---------------------------------------------------------------- subscriptions

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
      return this.internal.nixevent(link, bytes, words, options);
    });
  }

  noevents(options?: CommandOptions): Promise<string> {
    return this.run('noevents', (link) => {
      this.subs.applyNoevents();
      return this.internal.noevents(link, options);
    });
  }

  /** Restored after reconnect (before the subscriptions, so no excluded event slips through). */
  filter(header: string, value: string, options?: CommandOptions): Promise<string> {
    return this.run('filter', (link) => {
      const bytes = commands.filter(header, value);
      this.internal.beforeFirstUserFilter(link);
      this.filters.add(header, value);
      return this.command(link, bytes, `filter ${header} ${value}`, options);
    });
  }

  filterDelete(header: string, value?: string, options?: CommandOptions): Promise<string> {
    return this.run('filter delete', (link) => {
      commands.filterDelete(header, value); // refuses bad arguments before the model changes
      const removed = this.filters.delete(header, value);
      return this.internal.filterDelete(link, header, value, removed, options);
    });
  }

  // ---------------------------------------------------------------- streams

  /** See EventStreams.events. */
  events(options: EventStreamOptions = {}): EventStream {
    return this.streams.events(options);
  }

  /** See EventStreams.states. */
  states(): StateStream {
    return this.streams.states();
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
    this.reconnector?.abort();
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
    this.reconnector?.abort();
    if (link === undefined) {
      this.finalize(error);
      return;
    }
    const reason = error instanceof EslError ? error : new EslConnectionClosedError('client destroyed', { cause: error });
    link.conn.destroy(reason);
  }

  // ---------------------------------------------------------------- the command layer's hooks

  protected target(what: string): Link | Error {
    const link = this.link;
    if (link === undefined || this.currentState !== 'connected') {
      return new EslConnectionClosedError(`cannot send ${what}: client is ${this.currentState}`);
    }
    return link;
  }

  protected sendOptions(options: CommandOptions | undefined): CommandOptions {
    if (options === undefined) return this.defaultTimeout === undefined ? EMPTY : { timeout: this.defaultTimeout };
    if (options.timeout === undefined && this.defaultTimeout !== undefined) return { ...options, timeout: this.defaultTimeout };
    return options;
  }

  protected needEvents(target: Link, types: readonly string[]): Promise<void> | undefined {
    return this.internal.ensure(target, types);
  }

  protected override guardEvents(target: Link, header: string, value: string): () => void {
    return this.internal.guard(target, header, value);
  }

  // ---------------------------------------------------------------- internals

  /** What the reconnect loop may do with this client. */
  private reconnectHost(send: LinkSender): ReconnectHost {
    const client = this;
    return {
      get state() {
        return client.currentState;
      },
      open: (signal) => this.open(signal),
      wrap: (opened) => {
        this.permissions = opened.permissions;
        return this.makeLink(opened.conn);
      },
      restore: (link) =>
        restore(link, { subs: this.subs, filters: this.filters, internal: this.internal, logLevel: this.logLevel, send, report: (err) => this.report(err) }),
      adopt: (link) => this.adopt(link),
      finalize: (err) => this.finalize(err),
      attempting: (info) => this.emitSafely('reconnecting', info),
      reconnected: () => this.emitSafely('reconnect'),
    };
  }

  private open(signal: AbortSignal | undefined): Promise<OpenResult> {
    const options = { host: this.host, port: this.port, user: this.user, connectTimeout: this.connectTimeout, signal, ...this.parserOptions };
    return openAuthenticated(options, this.#password);
  }

  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emitSafely('error', err);
  }

  private setState(state: ClientState, error?: Error): void {
    const previous = this.currentState;
    if (previous === state) return;
    this.currentState = state;
    const info: StateChangeInfo = error === undefined ? { previous } : { previous, error };
    this.emitSafely('state', state, info);
  }

  private makeLink(conn: Connection): Link {
    const link = newLink(conn);
    const onEvent = (ev: EslEvent) => this.handleEvent(link, ev);
    const onLog = (record: LogRecord) => this.emitSafely('log', record);
    const onNotice = (frame: Frame) => this.handleNotice(link, frame);
    const onClose = (err: EslError | undefined) => this.handleLinkClose(link, err);
    const onDrain = () => this.emitSafely('drain');
    conn.on('event', onEvent);
    conn.on('log', onLog);
    conn.on('disconnect-notice', onNotice);
    conn.on('close', onClose);
    conn.on('drain', onDrain);
    link.detach = () => {
      conn.off('event', onEvent);
      conn.off('log', onLog);
      conn.off('disconnect-notice', onNotice);
      conn.off('close', onClose);
      conn.off('drain', onDrain);
    };
    return link;
  }

  private adopt(link: Link): void {
    this.link = link;
    this.reconnector?.watchStability(link);
    this.streams.adopted(link.conn);
    this.setState('connected');
    // Events that arrived while the link was being restored: only now may user handlers see them.
    const early = link.early;
    link.early = undefined;
    if (early !== undefined) for (const ev of early) this.emitUserEvent(ev, ev.name);
  }

  private handleEvent(link: Link, ev: EslEvent): void {
    const name = ev.name;
    this.trackEvent(link, ev, name);
    if (link.early !== undefined) link.early.push(ev);
    else this.emitUserEvent(ev, name);
  }

  /** Only what the user subscribed to: the library's own subscriptions stay invisible. */
  private emitUserEvent(ev: EslEvent, name: string): void {
    if (this.subs.wants(name, name === 'CUSTOM' ? ev.subclass : undefined)) this.emitEvent(ev, name);
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
    if (link.jobs.size > 0) link.jobs.failAll(lost('the BACKGROUND_JOB result arrived (the job may still run)'));
    link.executions.rejectAll(lost('the application completed'));
    link.opFilters.clear();
    if (this.link !== link) return; // a reconnect attempt's connection that never became current
    this.link = undefined;
    if (closing) {
      this.finalize(this.destroyError);
      return;
    }
    this.emitSafely('disconnect', reason);
    if (this.reconnector !== undefined && isRetriable(reason)) {
      this.setState('reconnecting', reason);
      void this.reconnector.run(reason);
    } else {
      this.finalize(reason);
    }
  }

  private finalize(err: Error | undefined): void {
    if (this.currentState === 'closed') return;
    this.reconnector?.abort();
    this.closeError = err;
    this.setState('closed', err);
    if (err !== undefined) this.report(err);
    this.emitSafely('close', err);
  }
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
