/** One outbound call session: the connection FreeSWITCH's `socket` application opened for a call, and the commands that drive the channel. */
import type { Socket } from 'node:net';
import { CommandLayer, wordsAfterCommand, type CommandTarget } from '../commands/command-layer.js';
import { ExecutionTracker } from '../commands/execution-tracker.js';
import { BackgroundJobs } from '../commands/jobs.js';
import type { CommandOptions, ExecuteOptions } from '../commands/options.js';
import {
  EslCommandError,
  EslConnectionClosedError,
  EslError,
  EslHangupError,
  EslInvalidArgumentError,
  EslParseError,
  EslServerError,
} from '../errors.js';
import { ChannelData } from '../protocol/channel-data.js';
import { EslEvent, type EventFormat } from '../protocol/event.js';
import type { Frame } from '../protocol/frame.js';
import { commands, type HeaderInput } from '../protocol/serializer.js';
import { Connection, replyText, type ConnectionOptions, type ConnectionSink, type LogRecord } from '../transport/connection.js';
import { SubscriptionModel } from '../inbound/subscriptions.js';

/** How a call session ended (`call.ended` resolves with it, `call.on('end')` receives it). */
export interface CallEnd {
  /**
   * - `linger`: the channel hung up while the session lingered (FreeSWITCH sent the
   *   `Content-Disposition: linger` notice); the final events were delivered, then `exit` was sent.
   * - `disconnect`: FreeSWITCH sent the `Content-Disposition: disconnect` notice on its own (the
   *   channel hung up with no linger, the linger time ran out, or the module shut down).
   * - `exit`: this side ended it while the channel was still up (the handler settled, or
   *   `exit()`/`close()` was called); FreeSWITCH then continues the dialplan.
   * - `closed`: the socket closed with no notice at all.
   * - `error`: a protocol or socket error, or the handler threw/rejected (`error` holds it).
   */
  reason: 'linger' | 'disconnect' | 'exit' | 'closed' | 'error';
  /** Hangup-Cause from CHANNEL_HANGUP / CHANNEL_HANGUP_COMPLETE, when one was seen. */
  hangupCause?: string;
  /** Content-Disposition of the first disconnect notice FreeSWITCH sent, if any. */
  disposition?: string;
  error?: Error;
}

/** The `disconnect-notice` event: FreeSWITCH's text/disconnect-notice frame. */
export interface DisconnectNotice {
  /** Content-Disposition: `linger` (the channel hung up, events still follow) or `disconnect`. */
  disposition: string;
  /** Linger-Time of a linger notice, seconds (-1: until this side exits). */
  lingerTime: number | undefined;
  frame: Frame;
}

/** The call session's own events; FreeSWITCH events are emitted by name too (see CallSession). */
export interface CallSessionEventMap {
  /** Every event the session receives. */
  event: [EslEvent];
  /** `log/data` records after `call.log(level)`. */
  log: [LogRecord];
  'disconnect-notice': [DisconnectNotice];
  /** The channel is known to be down (CHANNEL_HANGUP, or a disconnect notice). */
  hangup: [{ cause: string | undefined }];
  /** The session is over; every listener is removed right after. */
  end: [CallEnd];
}

const SESSION_EVENTS = ['event', 'log', 'disconnect-notice', 'hangup', 'end'] as const;

export interface PlayAndGetDigitsOptions {
  min?: number;
  max?: number;
  tries?: number;
  /** ms to wait for the first digit after the prompt. */
  timeout?: number;
  terminators?: string;
  file: string;
  invalidFile?: string;
  /** Channel variable the digits are stored in (default `pagd_input`). */
  variableName?: string;
  regexp?: string;
  /** ms allowed between digits. */
  digitTimeout?: number;
  /** `<extension> <dialplan> <context>` to transfer to when all tries fail. */
  transferOnFailure?: string;
}

/** Settings a CallSession takes from its server. */
export interface CallSessionOptions extends ConnectionOptions {
  /** ms to wait for the `connect` reply. */
  connectTimeout: number;
  /** ms to wait for CHANNEL_HANGUP_COMPLETE after a linger notice (async sockets). */
  lingerWait: number;
  /** ms allowed for the socket to close after `exit`/end before it is destroyed. */
  exitTimeout: number;
  /** Format used when the session subscribes on its own (execute, bgapi). */
  eventFormat: EventFormat;
  /** Called once the session has ended, right before `ended` resolves. */
  onEnded?: (call: CallSession) => void;
}

type State = 'new' | 'connecting' | 'active' | 'ending' | 'ended';

const MYEVENTS_TYPES = new Set([
  'CHANNEL_ANSWER', 'CHANNEL_APPLICATION', 'CHANNEL_BRIDGE', 'CHANNEL_CREATE', 'CHANNEL_DATA',
  'CHANNEL_DESTROY', 'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP',
  'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_ORIGINATE', 'CHANNEL_UUID', 'CHANNEL_OUTGOING', 'CHANNEL_PARK',
  'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_STATE', 'CHANNEL_UNBRIDGE', 'CHANNEL_UNPARK',
  'DETECTED_SPEECH', 'DTMF', 'NOTALK', 'TALK',
]);

const noop = () => {};

/**
 * The command layer's target for one call session. The bgapi and execute waiters are made on
 * first use: an idle session (most of a server's sessions, most of the time) never needs them.
 */
class SessionTarget implements CommandTarget {
  readonly conn: Connection;
  private jobsMade: BackgroundJobs | undefined;
  private executionsMade: ExecutionTracker | undefined;

  constructor(conn: Connection) {
    this.conn = conn;
  }

  get jobs(): BackgroundJobs {
    return (this.jobsMade ??= new BackgroundJobs());
  }

  get executions(): ExecutionTracker {
    return (this.executionsMade ??= new ExecutionTracker());
  }

  /** Executes waiting for their completion (without making the tracker). */
  get pendingExecutions(): number {
    return this.executionsMade?.size ?? 0;
  }

  /** Jobs waiting for their BACKGROUND_JOB (without making the registry). */
  get pendingJobs(): number {
    return this.jobsMade?.size ?? 0;
  }
}

/**
 * One call delivered by FreeSWITCH's `socket` dialplan application: the connection it opened,
 * the channel data from the `connect` reply, and the commands that drive the channel.
 *
 * The commands are those of the command layer shared with the inbound client (same arguments,
 * results and errors; the session's own channel stands in for the client's uuid argument), plus
 * the outbound-only ones: myevents, linger, nolinger, resume, getvar and the execute helpers.
 *
 * Events (typed, CallSessionEventMap): `event` (EslEvent) for every event, and each event under
 * its own name (`CHANNEL_ANSWER`, and for CUSTOM events also `CUSTOM <subclass>`, e.g.
 * `CUSTOM sofia::register`); `log` (LogRecord); `disconnect-notice` (DisconnectNotice);
 * `hangup` ({ cause }); `end` (CallEnd). Every listener on the session is removed once `end` has
 * been emitted.
 */
export class CallSession extends CommandLayer<CallSessionEventMap> {
  // The connection's sink (ConnectionSink), through the connection* methods below. Not declared
  // with `implements`: the published declarations leave those internal methods out and would
  // then not match; `new Connection(socket, options, this)` checks the shape.
  readonly conn: Connection;
  /** The connection and the bgapi/execute waiters of this session (the command layer's target). */
  private readonly link: SessionTarget;
  private readonly opts: CallSessionOptions;
  private state: State = 'new';
  private data: ChannelData | undefined;
  /** channelData, built on first use from `data`. */
  private dataEvent: EslEvent | undefined;
  private mode: 'async' | 'static' = 'async';
  private controlMode: 'full' | 'single-channel' = 'full';
  private id = '';

  // What the session has asked FreeSWITCH for; needed to know what to subscribe on its own.
  private myeventsOn = false;
  /** Format of myevents and of the session's own subscriptions, until `wireMade` keeps it. */
  private formatBeforeWire: EventFormat = 'plain';
  /** The `event`/`nixevent`/`noevents` state of this connection, as FreeSWITCH keeps it; made by the first of them. */
  private wireMade: SubscriptionModel | undefined;
  private lingerOn = false;

  private hungUpFlag = false;
  private hangupRequested = false;
  private cause: string | undefined;
  private hangupCompleteSeen = false;
  private disposition: string | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private endInfo: CallEnd | undefined;
  private handlerError: Error | undefined;

  /** Resolves (never rejects) once the socket is closed and everything is cleaned up. */
  readonly ended: Promise<CallEnd>;
  private resolveEnded!: (end: CallEnd) => void;

  constructor(socket: Socket, options: CallSessionOptions) {
    super(SESSION_EVENTS);
    this.opts = options;
    // The session is the connection's sink (ConnectionSink); a failure's cause arrives with the close.
    this.conn = new Connection(socket, options, this);
    this.link = new SessionTarget(this.conn);
    this.ended = new Promise<CallEnd>((resolve) => {
      this.resolveEnded = resolve;
    });
  }

  // ---------------------------------------------------------------- channel data

  /** The `connect` reply: a CHANNEL_DATA event with every channel header, decoded. */
  get channelData(): EslEvent {
    if (this.data === undefined) throw new EslServerError('channel data is not available before connect');
    return (this.dataEvent ??= EslEvent.fromHeaders(this.data.headers()));
  }

  /** Unique-ID of the controlled channel. */
  get uuid(): string {
    return this.id;
  }

  /** A decoded header of the channel data (names match case-insensitively). */
  get(name: string): string | undefined {
    return this.data?.get(name);
  }

  /** Channel variable from the channel data (`variable_<name>`), as it was at connect time. */
  variable(name: string): string | undefined {
    return this.data?.get(`variable_${name}`);
  }

  get callerIdName(): string | undefined {
    return this.get('Caller-Caller-ID-Name');
  }
  get callerIdNumber(): string | undefined {
    return this.get('Caller-Caller-ID-Number');
  }
  get destinationNumber(): string | undefined {
    return this.get('Caller-Destination-Number');
  }
  get channelName(): string | undefined {
    return this.get('Channel-Name');
  }
  get callDirection(): string | undefined {
    return this.get('Call-Direction');
  }
  get answerState(): string | undefined {
    return this.get('Answer-State');
  }

  /** Every channel variable at connect time, without the `variable_` prefix. */
  get variables(): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.data === undefined) return out;
    for (const [name, value] of this.data.headers()) {
      if (name.startsWith('variable_')) {
        const key = name.slice(9);
        if (!Object.hasOwn(out, key)) out[key] = value;
      }
    }
    return out;
  }

  /** All headers of the connect reply, decoded, in wire order. */
  headers(): Array<[string, string]> {
    return this.data === undefined ? [] : [...this.data.headers()];
  }

  /** `Socket-Mode` of the connect reply: `async`, or `static` for a sync socket. */
  get socketMode(): 'async' | 'static' {
    return this.mode;
  }

  /** `Control` of the connect reply: `full`, or `single-channel` without the `full` argument. */
  get control(): 'full' | 'single-channel' {
    return this.controlMode;
  }

  get remoteAddress(): string | undefined {
    return this.conn.socket.remoteAddress;
  }

  // ---------------------------------------------------------------- state

  /** True while the socket is open and the session has not started ending. */
  get connected(): boolean {
    return this.state === 'active' && !this.conn.closed;
  }

  /** True once the channel is known to be down (CHANNEL_HANGUP or a disconnect notice). */
  get hungUp(): boolean {
    return this.hungUpFlag;
  }

  get hangupCause(): string | undefined {
    return this.cause;
  }

  /** True while `linger` is in effect (set by linger(), cleared by nolinger()). */
  get lingering(): boolean {
    return this.lingerOn;
  }

  // ---------------------------------------------------------------- start (used by the server)

  /**
   * Sends `connect` (FreeSWITCH sends nothing before it and answers no other first command,
   * MES listener_run), pipelining the optional myevents/linger behind it.
   */
  async start(auto: { myevents?: EventFormat | undefined; linger?: number | true | undefined } = {}): Promise<void> {
    if (this.state !== 'new') throw new EslServerError('session already started');
    this.state = 'connecting';
    const connectReply = this.conn.send(commands.connect(), 'command/reply', 'connect', {
      timeout: this.opts.connectTimeout,
    });
    const extra: Array<Promise<unknown>> = [];
    if (auto.myevents !== undefined) extra.push(this.myevents(auto.myevents));
    if (auto.linger !== undefined) extra.push(this.linger(auto.linger === true ? undefined : auto.linger));
    // Attach handlers to every promise up front so a failed connect leaves no unhandled rejection.
    const all = Promise.all([connectReply, ...extra]);
    let frame: Frame;
    try {
      [frame] = await all;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.finish('error', error);
      throw error;
    }
    this.adoptChannelData(frame);
    if (this.state === 'connecting') this.state = 'active';
  }

  private adoptChannelData(frame: Frame): void {
    // The connect reply is a serialized CHANNEL_DATA event (MES parse_command "connect"): a plain
    // header block with URL-encoded values, kept compact and decoded on demand (ChannelData).
    const data = ChannelData.fromEncoded(frame.headers);
    const reply = data.get('Reply-Text') ?? '';
    if (!reply.startsWith('+OK')) {
      throw this.failConnect(new EslCommandError('connect', reply));
    }
    const uuid = data.get('Unique-ID');
    if (uuid === undefined || uuid === '') {
      throw this.failConnect(new EslParseError('connect reply carries no Unique-ID'));
    }
    this.data = data;
    this.id = uuid;
    this.mode = data.get('Socket-Mode') === 'static' ? 'static' : 'async';
    this.controlMode = data.get('Control') === 'single-channel' ? 'single-channel' : 'full';
  }

  private failConnect(err: Error): Error {
    this.finish('error', err);
    return err;
  }

  // ---------------------------------------------------------------- session commands

  /**
   * `myevents [format]`: this channel's events (the 23 per-channel types). Idempotent: FreeSWITCH
   * refuses a second myevents (`-ERR aready enabled.`), so a repeat with the same or no format
   * resolves without sending anything.
   */
  async myevents(format?: EventFormat, options?: CommandOptions): Promise<string> {
    if (this.myeventsOn && (format === undefined || format === this.format)) return '+OK Events Enabled';
    const previous = { on: this.myeventsOn, format: this.format };
    this.myeventsOn = true;
    if (format !== undefined) this.format = format;
    try {
      return await this.command(this.link, commands.myevents(format), 'myevents', options);
    } catch (err) {
      this.myeventsOn = previous.on;
      this.format = previous.format;
      throw err;
    }
  }

  /**
   * `event <format> <names…>` (needs `full` control). Subscriptions add up. With `myevents` on,
   * FreeSWITCH still only delivers this channel's events.
   */
  subscribe(names: string | readonly string[], format?: EventFormat, options?: CommandOptions): Promise<string> {
    return this.run('event', (t) => {
      const bytes = commands.event(format ?? this.format, typeof names === 'string' ? [names] : names);
      this.wire.applyEvent(wordsAfterCommand(bytes));
      return this.command(t, bytes, bytes.toString('utf8').trim(), options);
    });
  }

  /** `nixevent <names…>` (needs `full` control). */
  unsubscribe(names: string | readonly string[], options?: CommandOptions): Promise<string> {
    return this.run('nixevent', (t) => {
      const bytes = commands.nixevent(typeof names === 'string' ? [names] : names);
      this.wire.applyNixevent(wordsAfterCommand(bytes));
      return this.command(t, bytes, bytes.toString('utf8').trim(), options);
    });
  }

  /** `noevents` (needs `full` control): drops every `event` subscription; myevents and filters stay. */
  noevents(options?: CommandOptions): Promise<string> {
    return this.run('noevents', (t) => {
      this.wire.applyNoevents();
      return this.command(t, commands.noevents(), 'noevents', options);
    });
  }

  /** `filter <header> <value>`; once any filter exists only matching events are delivered. */
  filter(header: string, value: string, options?: CommandOptions): Promise<string> {
    return this.run('filter', (t) => this.command(t, commands.filter(header, value), `filter ${header} ${value}`, options));
  }

  /** `filter delete <header> [<value>]`; without a value every filter on that header goes. */
  filterDelete(header: string, value?: string, options?: CommandOptions): Promise<string> {
    const label = value === undefined ? `filter delete ${header}` : `filter delete ${header} ${value}`;
    return this.run('filter delete', (t) => this.command(t, commands.filterDelete(header, value), label, options));
  }

  /**
   * `linger [seconds]`: keep the socket after hangup so the final events arrive. No argument
   * lingers until this side exits (`+OK will linger`, Linger-Time -1).
   */
  async linger(seconds?: number, options?: CommandOptions): Promise<string> {
    if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0)) {
      throw new EslInvalidArgumentError(`linger seconds must be a positive number, got ${seconds}`);
    }
    const was = this.lingerOn;
    this.lingerOn = true;
    try {
      return await this.command(this.link, commands.linger(seconds), 'linger', options);
    } catch (err) {
      this.lingerOn = was;
      throw err;
    }
  }

  /** `nolinger` (does not stop a linger period that already started). */
  async nolinger(options?: CommandOptions): Promise<string> {
    const was = this.lingerOn;
    this.lingerOn = false;
    try {
      return await this.command(this.link, commands.nolinger(), 'nolinger', options);
    } catch (err) {
      this.lingerOn = was;
      throw err;
    }
  }

  /** `resume`: when the socket closes, the channel goes back to its dialplan (socket_resume=true). */
  resume(options?: CommandOptions): Promise<string> {
    return this.command(this.link, commands.resume(), 'resume', options);
  }

  /** Any sendmsg to this channel; resolves with the Reply-Text. */
  sendmsg(headers: HeaderInput, body?: string | Buffer, options?: CommandOptions): Promise<string> {
    return this.sendmsgTo(undefined, headers, body, options);
  }

  /**
   * Runs a dialplan application with sendmsg `execute` and resolves with its
   * CHANNEL_EXECUTE_COMPLETE event (`.get('Application-Response')`).
   *
   * Works in both socket modes. The completion event needs this channel's events: unless the
   * session already has them (myevents, `event ALL` or CHANNEL_EXECUTE_COMPLETE subscribed), it
   * sends `myevents` first. In a sync socket FreeSWITCH runs the application inline and sends
   * the `+OK` only when it returns (PROTOCOL.md §5); the event follows the reply.
   *
   * Rejects with EslHangupError (`.hangupCause`) when the channel hangs up first, with
   * EslCommandError when FreeSWITCH refuses the sendmsg, EslTimeoutError after
   * `completionTimeout`, EslAbortError on `signal`. An argument with line breaks is sent as a
   * text/plain body, the only way FreeSWITCH accepts one.
   */
  execute(app: string, arg?: string, options: ExecuteOptions = {}): Promise<EslEvent> {
    if (this.hungUpFlag) return Promise.reject(new EslHangupError(this.cause));
    if (this.state === 'ending' || this.state === 'ended' || this.conn.closed) {
      return Promise.reject(new EslConnectionClosedError(`cannot execute ${app}: call session ended`));
    }
    return this.executeOn(undefined, this.id, app, arg, options);
  }

  answer(options?: ExecuteOptions): Promise<EslEvent> {
    return this.execute('answer', undefined, options);
  }

  preAnswer(options?: ExecuteOptions): Promise<EslEvent> {
    return this.execute('pre_answer', undefined, options);
  }

  /**
   * Hangs the channel up (sendmsg `call-command: hangup`, default cause NORMAL_CLEARING).
   * Resolves with the Reply-Text once FreeSWITCH accepted it, as the client's hangup does; a
   * channel already down resolves at once with '' (nothing is sent).
   */
  async hangup(cause?: string, options?: CommandOptions): Promise<string> {
    if (this.hungUpFlag || this.state === 'ending' || this.state === 'ended' || this.conn.closed) return '';
    this.hangupRequested = true;
    try {
      return await this.hangupOn(undefined, cause, options);
    } catch (err) {
      this.hangupRequested = false;
      throw err;
    }
  }

  bridge(target: string, options?: ExecuteOptions): Promise<EslEvent> {
    return this.execute('bridge', target, options);
  }

  playback(file: string, options?: ExecuteOptions): Promise<EslEvent> {
    return this.execute('playback', file, options);
  }

  /** Sets a channel variable (the `set` application). */
  async setVariable(name: string, value: string, options?: ExecuteOptions): Promise<void> {
    if (name.length === 0 || /[=\s]/.test(name)) throw new EslInvalidArgumentError(`invalid variable name: ${JSON.stringify(name)}`);
    await this.execute('set', `${name}=${value}`, options);
  }

  /**
   * Current value of a channel variable (`getvar`), or undefined when unset or empty: FreeSWITCH
   * answers both with `-ERR command not found` (MES parse_command). Reply-Text is limited to 511
   * bytes, so longer values come back cut off.
   */
  async getVariable(name: string, options?: CommandOptions): Promise<string | undefined> {
    if (name.length === 0 || /\s/.test(name)) throw new EslInvalidArgumentError(`invalid variable name: ${JSON.stringify(name)}`);
    const frame = await this.conn.send(commands.getvar(name), 'command/reply', `getvar ${name}`, options);
    const text = replyText(frame);
    if (text === '-ERR command not found') return undefined;
    return text;
  }

  /**
   * The `play_and_get_digits` application; resolves with the digits collected ('' if none).
   * Files and terminators cannot contain spaces (the application splits its argument on them).
   */
  async playAndGetDigits(o: PlayAndGetDigitsOptions, options?: ExecuteOptions): Promise<string> {
    const variableName = o.variableName ?? 'pagd_input';
    const parts = [
      o.min ?? 1,
      o.max ?? 1,
      o.tries ?? 3,
      o.timeout ?? 5000,
      o.terminators ?? '#',
      o.file,
      o.invalidFile ?? 'silence_stream://250',
      variableName,
      o.regexp ?? '\\d+',
      o.digitTimeout ?? o.timeout ?? 5000,
    ].map(String);
    if (o.transferOnFailure !== undefined) parts.push(o.transferOnFailure);
    for (const p of parts.slice(0, 10)) {
      if (p.length === 0 || /\s/.test(p)) {
        throw new EslInvalidArgumentError(`play_and_get_digits arguments cannot be empty or contain spaces: ${JSON.stringify(p)}`);
      }
    }
    const ev = await this.execute('play_and_get_digits', parts.join(' '), options);
    // CHANNEL_EXECUTE_COMPLETE carries the channel variables; ask when it does not.
    return ev.variable(variableName) ?? (await this.getVariable(variableName)) ?? '';
  }

  // ---------------------------------------------------------------- ending

  /**
   * @internal Called by the server when the handler has settled. With the channel going down
   * (hung up, or hangup() sent), FreeSWITCH's goodbye is let through first — the linger notice
   * and CHANNEL_HANGUP_COMPLETE, or the disconnect notice — so listeners the handler left behind
   * (e.g. on CHANNEL_HANGUP_COMPLETE) still get the final events; at most `lingerWait` ms.
   * Otherwise the session ends now, and FreeSWITCH continues the dialplan.
   */
  handlerDone(): void {
    if (this.state === 'ending' || this.state === 'ended') return;
    if ((this.hungUpFlag || this.hangupRequested) && !this.conn.closed) {
      if (this.lingerTimer === undefined) {
        this.lingerTimer = setTimeout(() => this.finish('exit'), this.opts.lingerWait);
        this.lingerTimer.unref();
      }
      return;
    }
    this.finish('exit');
  }

  /**
   * Sends `exit` (FreeSWITCH answers `+OK bye`, sends the disconnect notice and closes) and
   * resolves once the socket is closed. The dialplan continues if the channel is still up.
   */
  async exit(): Promise<CallEnd> {
    this.finish('exit', undefined, true);
    return this.ended;
  }

  /** Ends the session (with `exit` if it lingered) and resolves once the socket is closed. */
  async close(): Promise<CallEnd> {
    this.finish('exit');
    return this.ended;
  }

  /** Closes the socket at once. */
  destroy(err?: Error): void {
    if (this.state === 'ended') return;
    if (this.endInfo === undefined) this.endInfo = this.makeEnd(err ? 'error' : 'closed', err);
    this.state = 'ending';
    this.conn.destroy(err instanceof EslError ? err : undefined);
  }

  /**
   * Starts ending the session. The first reason wins. `exit` is sent when the session lingers
   * (or when asked), unless FreeSWITCH already said it is disconnecting; then our side closes.
   */
  finish(reason: CallEnd['reason'], error?: Error, forceExit = false): void {
    if (this.state === 'ending' || this.state === 'ended') return;
    this.state = 'ending';
    // Ending from this side after the channel went down is still the channel's own ending.
    if (reason === 'exit' && this.hungUpFlag) reason = this.lingerOn || this.disposition === 'linger' ? 'linger' : 'disconnect';
    this.endInfo = this.makeEnd(reason, error);
    this.clearLingerTimer();
    this.rejectPending();
    if (this.conn.closed) return;
    if ((forceExit || this.lingerOn) && this.disposition !== 'disconnect') {
      this.conn.send(commands.exit(), 'command/reply', 'exit').catch(noop);
    }
    void this.conn.end();
    this.closeTimer = setTimeout(() => this.conn.destroy(), this.opts.exitTimeout);
    this.closeTimer.unref();
  }

  /**
   * @internal Used by the server when the handler failed: however the session then ends (the
   * hangup it sends makes FreeSWITCH disconnect), it ends with reason `error`.
   */
  noteHandlerError(error: Error): void {
    this.handlerError ??= error;
  }

  private makeEnd(reason: CallEnd['reason'], error?: Error): CallEnd {
    if (this.handlerError !== undefined) {
      reason = 'error';
      error = this.handlerError;
    }
    const end: CallEnd = { reason };
    if (this.cause !== undefined) end.hangupCause = this.cause;
    if (this.disposition !== undefined) end.disposition = this.disposition;
    if (error !== undefined) end.error = error;
    return end;
  }

  private rejectPending(): void {
    const link = this.link;
    if (link.pendingExecutions === 0 && link.pendingJobs === 0) return; // errors capture stacks: only when needed
    const err = this.hungUpFlag
      ? new EslHangupError(this.cause)
      : new EslConnectionClosedError('call session ended');
    if (link.pendingExecutions > 0) link.executions.rejectAll(err);
    if (link.pendingJobs > 0) link.jobs.failAll(err);
  }

  private clearLingerTimer(): void {
    if (this.lingerTimer !== undefined) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
  }

  // ---------------------------------------------------------------- incoming (ConnectionSink)

  /** @internal */
  connectionEvent(ev: EslEvent): void {
    this.handleEvent(ev);
  }

  /** @internal */
  connectionLog(record: LogRecord): void {
    this.emitSafely('log', record);
  }

  /** @internal */
  connectionNotice(frame: Frame): void {
    this.handleNotice(frame);
  }

  /** @internal */
  connectionClosed(err: EslError | undefined): void {
    this.handleClose(err);
  }

  private handleEvent(ev: EslEvent): void {
    const name = ev.name;
    this.trackEvent(this.link, ev, name);
    if ((name === 'CHANNEL_HANGUP' || name === 'CHANNEL_HANGUP_COMPLETE') && ev.get('Unique-ID') === this.id) {
      const cause = ev.get('Hangup-Cause');
      if (cause !== undefined) this.cause = cause;
      if (name === 'CHANNEL_HANGUP_COMPLETE') this.hangupCompleteSeen = true;
      this.markHungUp();
    }
    this.emitEvent(ev, name);
    // After the linger notice, CHANNEL_HANGUP_COMPLETE is the last event worth waiting for.
    if (name === 'CHANNEL_HANGUP_COMPLETE' && this.hangupCompleteSeen && this.disposition === 'linger') {
      this.finish('linger');
    }
  }

  private markHungUp(): void {
    if (this.hungUpFlag) return;
    this.hungUpFlag = true;
    // The tracker fails this channel's executes on CHANNEL_HANGUP itself; a disconnect notice
    // without events (no subscription) has to do it here.
    if (this.link.pendingExecutions > 0) this.link.executions.rejectChannel(this.id, new EslHangupError(this.cause));
    this.emitSafely('hangup', { cause: this.cause });
  }

  private handleNotice(frame: Frame): void {
    const disposition = frame.get('Content-Disposition') ?? 'disconnect';
    const first = this.disposition === undefined;
    if (first || disposition === 'disconnect') this.disposition = disposition;
    const linger = frame.get('Linger-Time');
    this.emitSafely('disconnect-notice', {
      disposition,
      lingerTime: linger === undefined ? undefined : Number(linger),
      frame,
    } satisfies DisconnectNotice);
    if (this.state === 'ending' || this.state === 'ended') return;
    // Both notices mean the channel is down (MES read_packet: switch_channel_down), unless we
    // asked to leave, which the `ending` check above covers.
    this.markHungUp();
    if (disposition === 'linger') {
      if (this.hangupCompleteSeen || !this.expectsHangupComplete()) {
        this.finish('linger');
        return;
      }
      this.clearLingerTimer();
      this.lingerTimer = setTimeout(() => this.finish('linger'), this.opts.lingerWait);
      this.lingerTimer.unref();
    } else {
      this.finish('disconnect');
    }
  }

  /**
   * Whether CHANNEL_HANGUP_COMPLETE can still come after the linger notice. Not in a sync socket:
   * the channel's own thread runs the socket loop, and that thread is the one that would fire it
   * (PROTOCOL.md §5, switch_core_session_reporting_state). Not without a subscription either.
   */
  private expectsHangupComplete(): boolean {
    if (this.mode === 'static') return false;
    return this.receives('CHANNEL_HANGUP_COMPLETE');
  }

  private handleClose(err: EslError | undefined): void {
    if (this.state === 'ended') return;
    if (this.endInfo === undefined) {
      this.endInfo = this.makeEnd(err ? 'error' : 'closed', err);
    } else if (this.endInfo.hangupCause === undefined && this.cause !== undefined) {
      this.endInfo.hangupCause = this.cause;
    }
    this.state = 'ended';
    this.clearLingerTimer();
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.rejectPending();
    const end = this.endInfo;
    this.opts.onEnded?.(this);
    this.resolveEnded(end);
    this.emitSafely('end', end);
    this.removeAllListeners();
  }

  // ---------------------------------------------------------------- the command layer's hooks

  protected target(): CommandTarget {
    return this.link;
  }

  protected sendOptions(options: CommandOptions | undefined): CommandOptions {
    return options ?? {};
  }

  /**
   * BACKGROUND_JOB is subscribed with `event` (with myevents on, FreeSWITCH then delivers only the
   * jobs this channel owns: Job-Owner-UUID); an execute's CHANNEL_EXECUTE_COMPLETE comes with
   * `myevents`. Sent pipelined: FreeSWITCH answers in order, so the subscription is active before
   * the command that needs it.
   */
  protected needEvents(_target: CommandTarget, types: readonly string[]): Promise<void> | undefined {
    if (types.includes('BACKGROUND_JOB')) {
      return this.receives('BACKGROUND_JOB') ? undefined : this.subscribe(['BACKGROUND_JOB']).then(() => undefined);
    }
    return this.receives('CHANNEL_EXECUTE_COMPLETE') ? undefined : this.myevents().then(() => undefined);
  }

  protected override executeFailure(err: Error): Error {
    return this.hungUpFlag ? new EslHangupError(this.cause) : err;
  }

  /** Whether FreeSWITCH sends this session events of type `name` (myevents or a subscription). */
  private receives(name: string): boolean {
    return (this.myeventsOn && MYEVENTS_TYPES.has(name)) || (this.wireMade?.hasType(name) ?? false);
  }

  private get wire(): SubscriptionModel {
    if (this.wireMade === undefined) {
      this.wireMade = new SubscriptionModel();
      this.wireMade.format = this.formatBeforeWire;
    }
    return this.wireMade;
  }

  /** The event format FreeSWITCH uses on this connection (the last myevents or `event <format>`). */
  private get format(): EventFormat {
    return this.wireMade?.format ?? this.formatBeforeWire;
  }

  private set format(format: EventFormat) {
    if (this.wireMade === undefined) this.formatBeforeWire = format;
    else this.wireMade.format = format;
  }
}
