/** One ESL connection over a socket: frames in through the Parser, commands out with checked first-in-first-out reply pairing. */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import {
  EslAbortError,
  EslConnectionClosedError,
  EslError,
  EslOutOfSyncError,
  EslTimeoutError,
} from '../errors.js';
import { EslEvent } from '../protocol/event.js';
import { LOG_LEVEL_NAMES } from '../protocol/log-levels.js';
import type { Frame } from '../protocol/frame.js';
import { Parser, type ParserOptions } from '../protocol/parser.js';
import { emitSafely, rethrowLater } from '../emit.js';

/** The two reply types FreeSWITCH pairs with commands, strictly in command order (MES §6). */
export type ReplyKind = 'command/reply' | 'api/response';

/** A `log/data` frame (MES: headers built in listener_run, body is the log text). */
export interface LogRecord {
  /** 0 (CONSOLE) … 7 (DEBUG). */
  level: number;
  levelName: string;
  /** Text-Channel: 0 = LOG, 1 = LOG_CLEAN, 3 = SESSION. */
  channel: number;
  file: string;
  func: string;
  line: number;
  /** For session logs, the session's UUID; otherwise ''. */
  userData: string;
  text: string;
}

export { LOG_LEVEL_NAMES };

export interface SendOptions {
  /** Reject if no reply arrives within this many ms. No default: a long api call must be able to finish. */
  timeout?: number;
  signal?: AbortSignal;
}

export interface ConnectionOptions extends ParserOptions {}

/**
 * The owner of a connection, told of its traffic by direct calls before any listener: one object
 * per connection instead of a listener closure per event (an outbound server holds thousands of
 * idle connections). An exception it throws surfaces as a throwing listener's does (emitSafely).
 */
export interface ConnectionSink {
  connectionEvent(event: EslEvent): void;
  connectionLog(record: LogRecord): void;
  connectionNotice(frame: Frame): void;
  connectionClosed(err: EslError | undefined): void;
}

interface Pending {
  kind: ReplyKind;
  label: string;
  /** Set once the caller stopped waiting (timeout/abort): the reply is still consumed to keep pairing. */
  settled: boolean;
  resolve(frame: Frame): void;
  reject(err: Error): void;
  cleanup: (() => void) | undefined;
}

export interface ConnectionEventMap {
  event: [EslEvent];
  log: [LogRecord];
  'disconnect-notice': [Frame];
  'rude-rejection': [Frame];
  'auth-request': [Frame];
  /** Frames of any other Content-Type (forward compatibility). */
  frame: [Frame];
  /** A protocol or socket failure; the connection is closing. Only emitted when someone listens. */
  error: [Error];
  /** The socket is gone. `error` is set when it closed because of a failure. */
  close: [EslError | undefined];
  drain: [];
}

/**
 * One ESL connection over a socket, either direction: frames in through the Parser, commands out
 * with first-in-first-out reply pairing. Used by the inbound client and by outbound call sessions.
 *
 * Pairing is checked, not assumed: each pending command knows which reply type it expects, and a
 * reply of the other type means the stream is out of sync, so every pending command fails and the
 * connection closes rather than hand a reply to the wrong caller.
 */
export class Connection extends EventEmitter<ConnectionEventMap> {
  readonly socket: Socket;
  private readonly parser: Parser;
  private readonly queue: Pending[] = [];
  private queueHead = 0;
  /** Writes held back while the socket asks us to wait for 'drain' (allocated when it first does). */
  private outgoing: Array<Buffer | undefined> | undefined;
  /** Index of the next queued write (shift() on a long array is O(n) per call). */
  private outgoingHead = 0;
  private blocked = false;
  private corked = false;
  private closedWith: EslError | undefined | null = null; // null = open
  private closing = false;
  private readonly sink: ConnectionSink | undefined;

  constructor(socket: Socket, options: ConnectionOptions = {}, sink?: ConnectionSink) {
    super();
    this.socket = socket;
    this.sink = sink;
    this.parser = new Parser((frame) => this.dispatch(frame), options);
    socket.setNoDelay(true);
    // Module-level listeners that find their connection on the socket: no closures per
    // connection (an outbound server holds thousands of idle ones).
    (socket as OwnedSocket)[OWNER] = this;
    socket.on('data', onSocketData);
    socket.on('drain', onSocketDrain);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    socket.on('end', onSocketEnd);
  }

  /** @internal A chunk from the socket. */
  received(chunk: Buffer): void {
    if (this.closedWith !== null) return;
    try {
      this.parser.push(chunk);
    } catch (err) {
      this.fail(err instanceof EslError ? err : new EslError('ESL_PARSE', String(err)));
    }
  }

  /** @internal The socket failed. */
  socketFailed(err: Error): void {
    this.fail(new EslConnectionClosedError(`socket error: ${err.message}`, { cause: err }));
  }

  /** @internal The socket is closed. */
  socketClosed(): void {
    this.finish(undefined);
  }

  /** True once the socket is gone (or going). */
  get closed(): boolean {
    return this.closedWith !== null || this.closing;
  }

  /** Commands written whose replies have not arrived yet. */
  get pendingCount(): number {
    return this.queue.length - this.queueHead;
  }

  /**
   * Writes a command and resolves with its reply frame (command/reply or api/response). The reply
   * slot is registered before the bytes are written, so a fast reply cannot be missed.
   */
  send(bytes: Buffer, expect: ReplyKind, label: string, options: SendOptions = {}): Promise<Frame> {
    if (this.closedWith !== null || this.closing) {
      return Promise.reject(new EslConnectionClosedError(`cannot send ${label}: connection closed`));
    }
    if (options.signal?.aborted) {
      return Promise.reject(new EslAbortError(`${label} aborted`, { cause: options.signal.reason }));
    }
    return new Promise<Frame>((resolve, reject) => {
      const entry: Pending = { kind: expect, label, settled: false, resolve, reject, cleanup: undefined };
      // Timer and abort plumbing only when asked for: pipelined calls create thousands of entries.
      if ((options.timeout !== undefined && options.timeout > 0) || options.signal !== undefined) {
        let timer: NodeJS.Timeout | undefined;
        const onAbort = () => settleEarly(new EslAbortError(`${label} aborted`, { cause: options.signal?.reason }));
        const settleEarly = (err: Error) => {
          if (entry.settled) return;
          entry.settled = true;
          entry.cleanup?.();
          reject(err);
        };
        if (options.timeout !== undefined && options.timeout > 0) {
          timer = setTimeout(() => settleEarly(new EslTimeoutError(`no reply to ${label} within ${options.timeout} ms`)), options.timeout);
        }
        options.signal?.addEventListener('abort', onAbort, { once: true });
        entry.cleanup = () => {
          if (timer) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
        };
      }
      this.queue.push(entry);
      this.write(bytes);
    });
  }

  /** Writes bytes with no reply expected, honouring socket backpressure. */
  write(bytes: Buffer): void {
    if (this.closedWith !== null) return;
    if (this.blocked) {
      (this.outgoing ??= []).push(bytes);
      return;
    }
    // Commands written while others await their replies (pipelined calls) leave together in one
    // writev at the end of the tick instead of a syscall each. A lone command, the usual case of a
    // call session, goes out at once: deferring it would cost a tick and save nothing.
    if (!this.corked && this.queue.length - this.queueHead > 1) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncorkConnection, this);
    }
    if (!this.socket.write(bytes)) this.blocked = true;
  }

  /** @internal The end of the tick in which the first of a run of writes was made. */
  uncorked(): void {
    this.corked = false;
    this.socket.uncork();
  }

  /** True when the socket asked us to wait for 'drain'. */
  get writeBlocked(): boolean {
    return this.blocked;
  }

  /** @internal The socket drained: writes held back go out. */
  flush(): void {
    this.blocked = false;
    const outgoing = this.outgoing;
    this.socket.cork();
    while (outgoing !== undefined && this.outgoingHead < outgoing.length && !this.blocked) {
      const next = outgoing[this.outgoingHead]!;
      outgoing[this.outgoingHead++] = undefined;
      if (!this.socket.write(next)) this.blocked = true;
    }
    if (outgoing !== undefined && this.outgoingHead === outgoing.length) {
      this.outgoing = undefined;
      this.outgoingHead = 0;
    }
    this.socket.uncork();
    if (!this.blocked) this.emit('drain');
  }

  /** Pause/resume reading from the socket (used for event backpressure). */
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }

  /** Half-closes: no more writes; resolves when the socket is fully closed. */
  end(): Promise<void> {
    if (this.closedWith !== null) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      this.once('close', () => resolve());
      this.socket.end();
    });
  }

  /** Closes at once; pending commands reject with `err` or EslConnectionClosedError. */
  destroy(err?: EslError): void {
    if (this.closedWith !== null) return;
    this.finish(err);
    this.socket.destroy();
  }

  private fail(err: EslError): void {
    if (this.closedWith !== null) return;
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.destroy(err);
  }

  private finish(err: EslError | undefined): void {
    if (this.closedWith !== null) return;
    this.closedWith = err;
    this.outgoing = undefined;
    this.outgoingHead = 0;
    const pending = this.queue.splice(this.queueHead);
    this.queue.length = 0;
    this.queueHead = 0;
    for (const p of pending) {
      if (p.settled) continue;
      p.settled = true;
      p.cleanup?.();
      const reason =
        err instanceof EslOutOfSyncError || err instanceof EslConnectionClosedError
          ? err
          : new EslConnectionClosedError(`connection closed before the reply to ${p.label}`, { cause: err });
      p.reject(reason);
    }
    this.toSink('connectionClosed', err);
    this.emit('close', err);
  }

  private dispatch(frame: Frame): void {
    // The rest of a chunk after a failure is not delivered: the peer is no longer trusted.
    if (this.closedWith !== null) return;
    const type = frame.contentType;
    switch (type) {
      case 'command/reply':
      case 'api/response':
        this.reply(type, frame);
        return;
      case 'text/event-plain':
      case 'text/event-json':
      case 'text/event-xml': {
        const event = EslEvent.fromFrame(frame)!;
        const invalid = event.decodeError;
        if (invalid !== undefined) {
          this.fail(invalid);
          return;
        }
        this.toSink('connectionEvent', event);
        this.deliver('event', event);
        return;
      }
      case 'log/data': {
        const record = toLogRecord(frame);
        this.toSink('connectionLog', record);
        this.deliver('log', record);
        return;
      }
      case 'text/disconnect-notice':
        this.toSink('connectionNotice', frame);
        this.deliver('disconnect-notice', frame);
        return;
      case 'text/rude-rejection':
        this.deliver('rude-rejection', frame);
        return;
      case 'auth/request':
        this.deliver('auth-request', frame);
        return;
      default:
        this.deliver('frame', frame);
    }
  }

  /** Tells the sink, if any; its exception surfaces in a microtask, as a listener's does (emitSafely). */
  private toSink<K extends keyof ConnectionSink>(method: K, arg: Parameters<ConnectionSink[K]>[0]): void {
    const sink = this.sink;
    if (sink === undefined) return;
    try {
      (sink[method] as (a: typeof arg) => void).call(sink, arg);
    } catch (err) {
      rethrowLater(err);
    }
  }

  /** Runs listeners without letting their exceptions unwind into the parser mid-stream. */
  private deliver<K extends 'event' | 'log' | 'disconnect-notice' | 'rude-rejection' | 'auth-request' | 'frame'>(
    name: K,
    ...args: ConnectionEventMap[K]
  ): void {
    emitSafely(this, name, ...args);
  }

  private reply(type: ReplyKind, frame: Frame): void {
    const entry = this.queue[this.queueHead];
    if (entry === undefined) {
      this.fail(new EslOutOfSyncError(`unexpected ${type} with no command pending`));
      return;
    }
    // FreeSWITCH answers an api refused by userauth's allowed-API list (or not permitted on a
    // non-full outbound socket) with a command/reply "-ERR ..." in place of the api/response
    // (MES parse_command): that is the reply to this api, not a sign of lost sync.
    if (entry.kind !== type && !(entry.kind === 'api/response' && isErrorReply(frame.get('Reply-Text') ?? ''))) {
      this.fail(new EslOutOfSyncError(`expected ${entry.kind} for ${entry.label}, got ${type}`));
      return;
    }
    this.queue[this.queueHead] = undefined as unknown as Pending;
    this.queueHead++;
    if (this.queueHead === this.queue.length) {
      // All answered (the usual state between commands): drop the slots, so an idle connection holds none.
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    if (entry.settled) return; // caller gave up (timeout/abort); the slot only kept pairing intact
    entry.settled = true;
    entry.cleanup?.();
    try {
      entry.resolve(frame);
    } catch {
      // resolve never throws
    }
  }
}

/** Where a socket's listeners find their connection. */
const OWNER = Symbol('esl.connection');
type OwnedSocket = Socket & { [OWNER]: Connection };

function onSocketData(this: Socket, chunk: Buffer): void {
  (this as OwnedSocket)[OWNER].received(chunk);
}
function onSocketDrain(this: Socket): void {
  (this as OwnedSocket)[OWNER].flush();
}
function onSocketError(this: Socket, err: Error): void {
  (this as OwnedSocket)[OWNER].socketFailed(err);
}
function onSocketClose(this: Socket): void {
  (this as OwnedSocket)[OWNER].socketClosed();
}
function onSocketEnd(this: Socket): void {
  // FreeSWITCH closes its side after a disconnect notice; close ours too. Not a second time:
  // Writable.end on an ended stream builds an ERR_STREAM_ALREADY_FINISHED error (a stack trace
  // per call, the costliest step of a call's teardown).
  if (!this.destroyed && !this.writableEnded) this.end();
}
function uncorkConnection(connection: Connection): void {
  connection.uncorked();
}

function toLogRecord(frame: Frame): LogRecord {
  const level = Number(frame.get('Log-Level') ?? 7);
  return {
    level,
    levelName: LOG_LEVEL_NAMES[level] ?? String(level),
    channel: Number(frame.get('Text-Channel') ?? 0),
    file: frame.get('Log-File') ?? '',
    func: frame.get('Log-Func') ?? '',
    line: Number(frame.get('Log-Line') ?? 0),
    userData: frame.get('User-Data') ?? '',
    text: frame.bodyText,
  };
}

/** Reply-Text of a command/reply, or the body of an api/response. */
export function replyText(frame: Frame): string {
  return frame.contentType === 'api/response' ? frame.bodyText : (frame.get('Reply-Text') ?? '');
}

/** True if a reply text is FreeSWITCH's error form. */
export function isErrorReply(text: string): boolean {
  return text.startsWith('-ERR') || text.startsWith('-USAGE');
}
