/** The commands the inbound client and the outbound call session share: one implementation, the same arguments, results and errors. */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { EslCommandError, EslInvalidArgumentError } from '../errors.js';
import type { EslEvent, EventFormat, EventName } from '../protocol/event.js';
import { commands, serializeCommand, type HeaderInput, type LogLevel } from '../protocol/serializer.js';
import { type Connection, isErrorReply, replyText } from '../transport/connection.js';
import { emitSafely } from '../emit.js';
import type { ExecutionTracker } from './execution-tracker.js';
import type { BackgroundJobs } from './jobs.js';
import type { ApiOptions, BgapiOptions, CommandOptions, ExecuteOptions, SendCommandOptions } from './options.js';

/** Where a command goes out: the live connection and the waiters that die with it. */
export interface CommandTarget {
  readonly conn: Connection;
  readonly jobs: BackgroundJobs;
  readonly executions: ExecutionTracker;
}

/** The reserved names of each list of an emitter's own events (see CommandLayer.reserved). */
const RESERVED_BY_LIST = new WeakMap<readonly string[], ReadonlySet<string>>();

/** Names accepted by `on` for FreeSWITCH events: a type name, or 'CUSTOM <subclass>'. */
export type EventSelector = EventName | `CUSTOM ${string}`;

/** An emitter's own events: name → listener arguments. */
export type EventMapOf<M> = { [K in keyof M]: unknown[] };

/**
 * Commands that change state the library keeps track of (subscriptions, filters, log level,
 * linger, the connection itself), with the method that sends them tracked. `sendCommand` refuses
 * them: sent untracked they would silently break the library's bookkeeping (`noevents` would
 * drop the BACKGROUND_JOB subscription pending bgapi calls wait on).
 */
const TRACKED_COMMANDS: Readonly<Record<string, string>> = {
  event: 'subscribe()',
  nixevent: 'unsubscribe()',
  noevents: 'noevents()',
  filter: 'filter() or filterDelete()',
  myevents: 'myevents() of the call session',
  divert_events: 'divertEvents()',
  linger: 'linger() of the call session',
  nolinger: 'nolinger() of the call session',
  resume: 'resume() of the call session',
  log: 'log()',
  nolog: 'nolog()',
  exit: 'close() (client) or exit() (call session)',
  '...': 'close() (client) or exit() (call session)',
  auth: 'the password option of connect()',
  userauth: 'the user and password options of connect()',
  connect: 'nothing: the server sends connect itself',
};

/** The first word of a command line, as FreeSWITCH reads it (for messages and labels). */
export function firstWord(s: string): string {
  const i = s.indexOf(' ');
  return i === -1 ? s : s.slice(0, i);
}

/** The words FreeSWITCH will parse after the command word, taken from the exact bytes we send. */
export function wordsAfterCommand(bytes: Buffer): string[] {
  const text = bytes.toString('utf8');
  const line = text.slice(0, text.indexOf('\n'));
  return line.split(' ').slice(1).filter(Boolean);
}

/** Event-Name values that must never be emitted under their own name (they are the emitter's own events). */
const EMITTER_EVENTS = ['event', 'error', 'newListener', 'removeListener'];

/**
 * The command layer: api, bgapi jobs, execute tracking, sendevent, sendmsg, log, sendCommand and
 * the dispatch of incoming events to the waiters and to user listeners. The inbound client and
 * the outbound call session extend it; they say where a command goes (`target`), which events
 * their waiters need (`needEvents`) and how subscriptions are kept.
 *
 * Every method takes the same arguments on both, resolves with the same type and rejects with the
 * same errors; where the client names a channel by UUID, the call session means its own channel.
 */
export abstract class CommandLayer<M extends EventMapOf<M>, T extends CommandTarget = CommandTarget> extends EventEmitter {
  /** The log level set with log() (undefined after nolog()). */
  protected logLevel: LogLevel | undefined;
  /** Names this emitter uses for itself; an Event-Name equal to one is emitted only as 'event'. */
  private readonly reserved: ReadonlySet<string>;

  protected constructor(ownEvents: readonly (keyof M & string)[]) {
    super();
    // One set per list of names, shared by every instance (a server holds thousands of sessions).
    let reserved = RESERVED_BY_LIST.get(ownEvents);
    if (reserved === undefined) RESERVED_BY_LIST.set(ownEvents, (reserved = new Set([...EMITTER_EVENTS, ...ownEvents])));
    this.reserved = reserved;
  }

  /** The target for a command now, or the error to reject it with (e.g. not connected). */
  protected abstract target(what: string): T | Error;
  /** Fills in default options (the client's `timeout`). */
  protected abstract sendOptions(options: CommandOptions | undefined): CommandOptions;
  /**
   * Makes sure the connection receives the event types a waiter needs (BACKGROUND_JOB for bgapi;
   * CHANNEL_EXECUTE_COMPLETE and CHANNEL_HANGUP, plus CHANNEL_EXECUTE with loops, for execute).
   * Resolves once the subscription is confirmed; undefined when nothing had to be sent.
   */
  protected abstract needEvents(target: T, types: readonly string[]): Promise<void> | undefined;

  /**
   * Keeps a pending operation's events (`header: value`) from being hidden by filters; returns
   * what undoes it when the operation settles. Default: nothing to do.
   */
  protected guardEvents(_target: T, _header: string, _value: string): (() => void) | undefined {
    return undefined;
  }

  /** The error a failed execute rejects with (the call session turns a lost connection into a hangup). */
  protected executeFailure(err: Error): Error {
    return err;
  }

  // ---------------------------------------------------------------- subscriptions (kept per side)

  /**
   * `event <format> <names…>`. Names may be types ('CHANNEL_ANSWER'), 'ALL', or
   * 'CUSTOM sub::class' (CUSTOM words are put last, as FreeSWITCH requires). The format applies
   * to the whole connection; default: the current one (plain at first).
   */
  abstract subscribe(names: string | readonly string[], format?: EventFormat, options?: CommandOptions): Promise<string>;
  /** `nixevent <names…>`. */
  abstract unsubscribe(names: string | readonly string[], options?: CommandOptions): Promise<string>;
  /** `noevents`: drops every subscription (filters stay). */
  abstract noevents(options?: CommandOptions): Promise<string>;
  /**
   * `filter <header> <value>`: once any filter exists FreeSWITCH only queues events matching one
   * (value `/regex/`, `-value` excludes).
   */
  abstract filter(header: string, value: string, options?: CommandOptions): Promise<string>;
  /** `filter delete <header> [<value>]`; header 'all' removes every filter. */
  abstract filterDelete(header: string, value?: string, options?: CommandOptions): Promise<string>;

  // ---------------------------------------------------------------- commands

  /**
   * `api <command>`: resolves with the response body. A body starting `-ERR` (or `-USAGE`)
   * rejects with EslCommandError carrying the text in `.reply`, unless `raw` is set.
   */
  api(command: string, options?: ApiOptions): Promise<string> {
    const target = this.target('api');
    if (target instanceof Error) return Promise.reject(target);
    let bytes: Buffer;
    try {
      bytes = commands.api(command);
    } catch (err) {
      return Promise.reject(err);
    }
    return target.conn.send(bytes, 'api/response', `api ${firstWord(command)}`, this.sendOptions(options)).then((frame) => {
      // replyText also covers the command/reply "-ERR permission denied" userauth sends for a refused api.
      const text = replyText(frame);
      if (options?.raw !== true && isErrorReply(text)) throw new EslCommandError(`api ${command}`, text);
      return text;
    });
  }

  /**
   * `bgapi <command>` with its own Job-UUID: resolves with the BACKGROUND_JOB body. The waiter is
   * registered before writing; `-ERR` results reject like api() unless `raw` is set. Subscribes
   * to BACKGROUND_JOB by itself when needed.
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
    const target = this.target('bgapi');
    if (target instanceof Error) return Promise.reject(target);
    const jobUuid = options.jobUuid ?? randomUUID();
    let bytes: Buffer;
    try {
      bytes = commands.bgapi(command, jobUuid);
    } catch (err) {
      return Promise.reject(err);
    }
    const { jobs } = target;
    if (jobs.has(jobUuid)) return Promise.reject(new EslInvalidArgumentError(`Job-UUID ${jobUuid} is already pending`));
    const label = firstWord(command);
    const ready = this.needEvents(target, ['BACKGROUND_JOB']);
    const result = jobs.wait(jobUuid, {
      label,
      completionTimeout: options.completionTimeout,
      signal: options.signal,
      onSettle: this.guardEvents(target, 'Job-UUID', jobUuid),
    });
    ready?.catch((err: Error) => jobs.fail(jobUuid, err));
    target.conn.send(bytes, 'command/reply', `bgapi ${label}`, this.sendOptions(options)).then(
      (frame) => {
        const text = replyText(frame);
        if (isErrorReply(text)) {
          jobs.fail(jobUuid, new EslCommandError(`bgapi ${command}`, text));
          return;
        }
        const echoed = frame.get('Job-UUID');
        if (echoed !== undefined) jobs.rename(jobUuid, echoed);
      },
      (err: Error) => jobs.fail(jobUuid, err),
    );
    return result;
  }

  /** `sendevent <name>` with headers and an optional body; resolves with the new event's Event-UUID. */
  sendevent(name: string, headers?: HeaderInput, body?: string | Buffer, options?: CommandOptions): Promise<string> {
    return this.run('sendevent', (t) =>
      this.command(t, commands.sendevent(name, headers, body), `sendevent ${name}`, options).then((text) => text.replace(/^\+OK\s*/, '')),
    );
  }

  /** `divert_events on|off`: the events of the controlled session's own inputs come here. */
  divertEvents(on: boolean, options?: CommandOptions): Promise<string> {
    return this.run('divert_events', (t) => this.command(t, commands.divertEvents(on), `divert_events ${on ? 'on' : 'off'}`, options));
  }

  /** `log <level>`: log lines at or below the level arrive as 'log' records. */
  log(level: LogLevel = 'DEBUG', options?: CommandOptions): Promise<string> {
    return this.run('log', (t) => {
      const previous = this.logLevel;
      const bytes = commands.log(level);
      this.logLevel = level;
      return this.command(t, bytes, `log ${level}`, options).catch((err: unknown) => {
        if (err instanceof EslCommandError && this.logLevel === level) this.logLevel = previous;
        throw err;
      });
    });
  }

  /** `nolog`: stop log records. */
  nolog(options?: CommandOptions): Promise<string> {
    return this.run('nolog', (t) => {
      this.logLevel = undefined;
      return this.command(t, commands.nolog(), 'nolog', options);
    });
  }

  /**
   * Any other command that FreeSWITCH answers with a command/reply (or, for `api …`, an
   * api/response); resolves with the Reply-Text. Commands that change state the library tracks
   * (event, filter, log, linger, exit, auth, …) are refused with EslInvalidArgumentError naming
   * the method that sends them tracked.
   */
  sendCommand(command: string, options: SendCommandOptions = {}): Promise<string> {
    const word = firstWord(command.trimStart()).toLowerCase();
    const method = Object.hasOwn(TRACKED_COMMANDS, word) ? TRACKED_COMMANDS[word] : undefined;
    if (method !== undefined) {
      return Promise.reject(new EslInvalidArgumentError(`${word} changes state the library tracks; use ${method} instead of sendCommand()`));
    }
    return this.run('command', (t) => {
      const bytes = serializeCommand(command, options.headers, options.body);
      const kind = word === 'api' ? 'api/response' : 'command/reply';
      return t.conn.send(bytes, kind, firstWord(command), this.sendOptions(options)).then((frame) => {
        const text = replyText(frame);
        if (options.raw !== true && isErrorReply(text)) throw new EslCommandError(command, text);
        return text;
      });
    });
  }

  /** sendmsg to `uuid` (undefined: the connection's own channel); resolves with the Reply-Text. */
  protected sendmsgTo(uuid: string | undefined, headers: HeaderInput, body: string | Buffer | undefined, options: CommandOptions | undefined): Promise<string> {
    return this.run('sendmsg', (t) => this.command(t, commands.sendmsg(uuid, headers, body), sendmsgLabel(uuid), options));
  }

  /** sendmsg `hangup` to `uuid` (undefined: the connection's own channel). */
  protected hangupOn(uuid: string | undefined, cause: string | undefined, options: CommandOptions | undefined): Promise<string> {
    return this.run('hangup', (t) => this.command(t, commands.hangup(uuid, cause), `${sendmsgLabel(uuid)} hangup`, options));
  }

  /**
   * sendmsg `execute` to `uuid` (undefined: the connection's own channel, `channel`), resolving
   * with its CHANNEL_EXECUTE_COMPLETE (loop-aware, see ExecutionTracker).
   */
  protected executeOn(uuid: string | undefined, channel: string, app: string, arg: string | undefined, options: ExecuteOptions): Promise<EslEvent> {
    const target = this.target('execute');
    if (target instanceof Error) return Promise.reject(target);
    // FreeSWITCH runs nothing for loops 0, so no completion would ever come.
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
    const { executions } = target;
    const ready = this.needEvents(target, types);
    const unguard = this.guardEvents(target, 'Application-UUID', eventUuid);
    const done = executions.wait(eventUuid, channel, loops, {
      completionTimeout: options.completionTimeout,
      signal: options.signal,
    });
    if (unguard !== undefined) done.then(unguard, unguard);
    ready?.catch((err: Error) => executions.cancel(eventUuid, err));
    const label = `${sendmsgLabel(uuid)} execute ${app}`;
    const replyTimeout = options.replyTimeout ?? options.timeout;
    target.conn.send(bytes, 'command/reply', label, this.sendOptions({ timeout: replyTimeout, signal: options.signal })).then(
      (frame) => {
        const text = replyText(frame);
        if (isErrorReply(text)) executions.cancel(eventUuid, new EslCommandError(label, text));
      },
      (err: Error) => executions.cancel(eventUuid, this.executeFailure(err)),
    );
    return done;
  }

  /** Sends a command/reply command; `-ERR` rejects with EslCommandError(text, reply). */
  protected command(target: T, bytes: Buffer, text: string, options?: CommandOptions): Promise<string> {
    return target.conn.send(bytes, 'command/reply', firstWord(text), this.sendOptions(options)).then((frame) => {
      const reply = replyText(frame);
      if (isErrorReply(reply)) throw new EslCommandError(text, reply);
      return reply;
    });
  }

  /** Runs `fn` on the current target, turning synchronous throws (bad arguments) into rejections. */
  protected run(what: string, fn: (target: T) => Promise<string>): Promise<string> {
    const target = this.target(what);
    if (target instanceof Error) return Promise.reject(target);
    try {
      return fn(target);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // ---------------------------------------------------------------- incoming events

  /** Feeds an event to the waiters of its connection (bgapi jobs, executions). */
  protected trackEvent(target: T, ev: EslEvent, name: string): void {
    if (name === 'BACKGROUND_JOB') target.jobs.handle(ev);
    else if (target.executions.size > 0) target.executions.handle(ev, name);
  }

  /** Emits an event to user listeners: as 'event', under its name, and for CUSTOM as 'CUSTOM <subclass>'. */
  protected emitEvent(ev: EslEvent, name: string): void {
    this.emitSafely('event', ev);
    if (name !== '' && !this.reserved.has(name)) this.emitSafely(name, ev);
    const subclass = name === 'CUSTOM' ? ev.subclass : undefined;
    if (subclass !== undefined) this.emitSafely(`CUSTOM ${subclass}`, ev);
  }

  /** See emitSafely: a throwing listener never unwinds into the library's bookkeeping. */
  protected emitSafely(name: string, ...args: unknown[]): void {
    emitSafely(this, name, ...args);
  }
}

/**
 * A name known only at run time (typed `string`, not a literal): accepted with untyped
 * arguments. A literal that is neither one of the emitter's own events nor an EventSelector
 * (a misspelling such as 'disconect-notice') does not compile.
 */
type DynamicName<N extends string> = string extends N ? N : never;
type AnyListener = (...args: any[]) => void;

/**
 * The typed listener methods of an emitter with event map `M`, plus FreeSWITCH events by name
 * (EventSelector), EventEmitter's own 'newListener'/'removeListener', and names only known at
 * run time.
 */
export interface CommandLayer<M extends EventMapOf<M>, T extends CommandTarget = CommandTarget> {
  on<K extends keyof M>(name: K, listener: (...args: M[K]) => void): this;
  on(name: EventSelector, listener: (event: EslEvent) => void): this;
  on(name: 'newListener' | 'removeListener', listener: (name: string | symbol, listener: AnyListener) => void): this;
  on<N extends string>(name: DynamicName<N>, listener: AnyListener): this;
  once<K extends keyof M>(name: K, listener: (...args: M[K]) => void): this;
  once(name: EventSelector, listener: (event: EslEvent) => void): this;
  once(name: 'newListener' | 'removeListener', listener: (name: string | symbol, listener: AnyListener) => void): this;
  once<N extends string>(name: DynamicName<N>, listener: AnyListener): this;
  off<K extends keyof M>(name: K, listener: (...args: M[K]) => void): this;
  off(name: EventSelector, listener: (event: EslEvent) => void): this;
  off(name: 'newListener' | 'removeListener', listener: (name: string | symbol, listener: AnyListener) => void): this;
  off<N extends string>(name: DynamicName<N>, listener: AnyListener): this;
  addListener<K extends keyof M>(name: K, listener: (...args: M[K]) => void): this;
  addListener(name: EventSelector, listener: (event: EslEvent) => void): this;
  addListener<N extends string>(name: DynamicName<N>, listener: AnyListener): this;
  removeListener<K extends keyof M>(name: K, listener: (...args: M[K]) => void): this;
  removeListener(name: EventSelector, listener: (event: EslEvent) => void): this;
  removeListener<N extends string>(name: DynamicName<N>, listener: AnyListener): this;
  prependListener<K extends keyof M>(name: K, listener: (...args: M[K]) => void): this;
  prependListener(name: EventSelector, listener: (event: EslEvent) => void): this;
  prependListener<N extends string>(name: DynamicName<N>, listener: AnyListener): this;
}

function sendmsgLabel(uuid: string | undefined): string {
  return uuid === undefined ? 'sendmsg' : `sendmsg ${uuid}`;
}
