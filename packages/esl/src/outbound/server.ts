/** The outbound-socket server: accepts FreeSWITCH's `socket` connections and runs a handler per call. */
import { EventEmitter } from 'node:events';
import { BlockList, createServer as createNetServer, isIP, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { CallSession, type CallEnd, type CallSessionOptions } from './call-session.js';
import { EslConnectionClosedError, EslHangupError, EslInvalidArgumentError, EslServerError } from '../errors.js';
import type { EventFormat } from '../protocol/event.js';

export type CallHandler = (call: CallSession) => unknown;

export interface ServerOptions {
  /**
   * Peer addresses allowed to connect: IPv4/IPv6 addresses or CIDR ranges ('10.0.0.0/8'), or a
   * net.BlockList of allowed ranges. Anyone else is closed at once, before a byte is read.
   * Default: every peer (the listen address is loopback unless you choose otherwise).
   */
  allow?: readonly string[] | BlockList;
  /** Most calls handled at once; connections beyond it are closed at once. Default: no limit. */
  maxCalls?: number;
  /** Hang the call up when the handler throws or rejects. Default true. */
  hangupOnHandlerError?: boolean;
  /** Hangup cause used then. Default NORMAL_TEMPORARY_FAILURE. */
  handlerErrorCause?: string;
  /** Send `myevents` (this format, or plain for `true`) with `connect`, before the handler runs. */
  myevents?: boolean | EventFormat;
  /** Send `linger` (forever for `true`, or this many seconds) with `connect`, before the handler runs. */
  linger?: boolean | number;
  /** ms `close()` lets live calls run before destroying them. Default 30000. */
  closeDeadline?: number;
  /** ms to wait for the `connect` reply. Default 10000. */
  connectTimeout?: number;
  /** ms to wait for CHANNEL_HANGUP_COMPLETE after a linger notice in async sockets. Default 5000. */
  lingerWait?: number;
  /** ms allowed for a socket to close after exit/end before it is destroyed. Default 5000. */
  exitTimeout?: number;
  /** Format the session uses when it subscribes on its own (execute, bgapi). Default plain. */
  eventFormat?: EventFormat;
  /** Parser limits (see ParserOptions). */
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
}

export interface ListenOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8084 (the socket application's default port); 0 lets the OS choose. */
  port?: number;
  backlog?: number;
}

export interface RejectedConnection {
  address: string | undefined;
  port: number | undefined;
  reason: 'not-allowed' | 'max-calls' | 'closing';
}

export interface ServerEventMap {
  listening: [address: { host: string; port: number }];
  call: [call: CallSession];
  'handler-error': [error: Error, call: CallSession];
  rejected: [info: RejectedConnection];
  error: [error: Error];
  close: [];
}

/**
 * Events: `listening` ({ host, port }), `call` (CallSession, once connected, before the handler
 * runs), `handler-error` (error, call), `rejected` (RejectedConnection), `error` (per-connection
 * failures such as a peer that closes before `connect` is answered; emitted only when someone
 * listens, so a misbehaving peer can never crash the process), `close`.
 */
export class Server extends EventEmitter<ServerEventMap> {
  private readonly handler: CallHandler;
  private readonly options: Required<
    Pick<
      ServerOptions,
      'hangupOnHandlerError' | 'handlerErrorCause' | 'closeDeadline' | 'connectTimeout' | 'lingerWait' | 'exitTimeout' | 'eventFormat'
    >
  > &
    ServerOptions;
  private readonly allow: BlockList | undefined;
  private readonly maxCalls: number;
  private readonly autoMyevents: EventFormat | undefined;
  private readonly autoLinger: number | true | undefined;
  private readonly sessions = new Set<CallSession>();
  /** What every call session gets (one object for all: an idle session should hold little of its own). */
  private readonly sessionOptions: CallSessionOptions;
  private readonly net: NetServer;
  private listening = false;
  private closing: Promise<void> | undefined;
  private bound: { host: string; port: number } | undefined;

  constructor(handler: CallHandler, options: ServerOptions = {}) {
    super();
    if (typeof handler !== 'function') throw new EslInvalidArgumentError('createServer needs a handler function');
    this.handler = handler;
    this.options = {
      hangupOnHandlerError: true,
      handlerErrorCause: 'NORMAL_TEMPORARY_FAILURE',
      closeDeadline: 30_000,
      connectTimeout: 10_000,
      lingerWait: 5_000,
      exitTimeout: 5_000,
      eventFormat: 'plain',
      ...stripUndefined(options),
    };
    this.allow = options.allow === undefined ? undefined : toBlockList(options.allow);
    const max = options.maxCalls;
    if (max !== undefined && !(Number.isInteger(max) && max >= 0)) {
      throw new EslInvalidArgumentError(`maxCalls must be a non-negative integer, got ${max}`);
    }
    this.maxCalls = max ?? Infinity;
    this.autoMyevents =
      options.myevents === undefined || options.myevents === false
        ? undefined
        : options.myevents === true
          ? this.options.eventFormat
          : options.myevents;
    this.autoLinger =
      options.linger === undefined || options.linger === false ? undefined : options.linger === true ? true : options.linger;
    const o = this.options;
    this.sessionOptions = {
      connectTimeout: o.connectTimeout,
      lingerWait: o.lingerWait,
      exitTimeout: o.exitTimeout,
      eventFormat: o.eventFormat,
      ...(o.maxHeaderBytes === undefined ? {} : { maxHeaderBytes: o.maxHeaderBytes }),
      ...(o.maxBodyBytes === undefined ? {} : { maxBodyBytes: o.maxBodyBytes }),
      onEnded: (call) => this.sessions.delete(call),
    };
    this.net = createNetServer({ noDelay: true }, (socket) => this.accept(socket));
    this.net.on('error', (err) => {
      if (this.listening && this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  /** Starts listening; resolves with the bound address (port 0 = chosen by the OS). */
  listen(options: ListenOptions = {}): Promise<{ host: string; port: number }> {
    if (this.listening) return Promise.reject(new EslServerError('server is already listening'));
    if (this.closing) return Promise.reject(new EslServerError('server is closed'));
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 8084;
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.net.once('error', onError);
      this.net.listen({ host, port, backlog: options.backlog ?? 511 }, () => {
        this.net.off('error', onError);
        this.listening = true;
        const addr = this.net.address() as AddressInfo;
        this.bound = { host: addr.address, port: addr.port };
        this.emit('listening', this.bound);
        resolve(this.bound);
      });
    });
  }

  /** The bound address, once listening. */
  address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  /** Calls in progress (connecting ones included). */
  get activeCalls(): number {
    return this.sessions.size;
  }

  /** The call sessions in progress. */
  calls(): IterableIterator<CallSession> {
    return this.sessions.values();
  }

  /**
   * Stops accepting, lets live calls finish, and resolves when all are gone. Calls still up
   * after `deadline` ms (default: the closeDeadline option) are destroyed.
   */
  close(options: { deadline?: number } = {}): Promise<void> {
    if (this.closing) return this.closing;
    const deadline = options.deadline ?? this.options.closeDeadline;
    this.closing = (async () => {
      const stopped = this.stopAccepting();
      if (this.sessions.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const allEnded = Promise.all([...this.sessions].map((s) => s.ended));
        const timedOut = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, deadline);
        });
        await Promise.race([allEnded, timedOut]);
        clearTimeout(timer);
        await this.destroySessions();
      }
      await stopped;
      this.emit('close');
    })();
    return this.closing;
  }

  /** Stops accepting and closes every call's socket at once. */
  destroy(): Promise<void> {
    if (this.closing) {
      void this.destroySessions();
      return this.closing;
    }
    this.closing = (async () => {
      const stopped = this.stopAccepting();
      await this.destroySessions();
      await stopped;
      this.emit('close');
    })();
    return this.closing;
  }

  private stopAccepting(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.listening) {
        resolve();
        return;
      }
      this.net.close(() => resolve());
      this.listening = false;
    });
  }

  private async destroySessions(): Promise<void> {
    const live = [...this.sessions];
    for (const s of live) s.destroy();
    await Promise.all(live.map((s) => s.ended));
  }

  private accept(socket: Socket): void {
    const reason = this.refusal(socket);
    if (reason !== undefined) {
      const info: RejectedConnection = { address: socket.remoteAddress, port: socket.remotePort, reason };
      socket.on('error', () => {});
      socket.destroy();
      this.emit('rejected', info);
      return;
    }
    const call = new CallSession(socket, this.sessionOptions);
    this.sessions.add(call);
    void this.run(call);
  }

  private refusal(socket: Socket): RejectedConnection['reason'] | undefined {
    if (this.closing) return 'closing';
    if (this.allow !== undefined && !isAllowed(this.allow, socket.remoteAddress)) return 'not-allowed';
    if (this.sessions.size >= this.maxCalls) return 'max-calls';
    return undefined;
  }

  private async run(call: CallSession): Promise<void> {
    try {
      await call.start({ myevents: this.autoMyevents, linger: this.autoLinger });
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err as Error);
      return;
    }
    let failure: unknown;
    let failed = false;
    try {
      this.emit('call', call);
      await this.handler(call);
    } catch (err) {
      failed = true;
      failure = err;
    }
    // The caller hanging up under a pending command is how calls end, not a handler bug.
    if (!failed || failure instanceof EslHangupError) {
      call.handlerDone();
      return;
    }
    const error = failure instanceof Error ? failure : new Error(String(failure));
    // A closed-connection error after the session ended is a consequence, not a bug to report.
    if (!(error instanceof EslConnectionClosedError && !call.connected)) this.report(error, call);
    call.noteHandlerError(error);
    if (this.options.hangupOnHandlerError && call.connected && !call.hungUp) {
      try {
        await call.hangup(this.options.handlerErrorCause, { timeout: this.options.exitTimeout });
      } catch {
        // The socket is closed next either way.
      }
    }
    call.finish('error', error);
  }

  private report(error: Error, call: CallSession): void {
    if (this.listenerCount('handler-error') > 0) this.emit('handler-error', error, call);
    else if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error instanceof Error ? error : String(error), { code: 'ESL_HANDLER_ERROR', detail: `call ${call.uuid}` });
  }
}

/**
 * Creates an outbound-socket server: FreeSWITCH's `socket <host>:<port> [async] [full]`
 * application connects to it once per call, and `handler(call)` drives the call. When the handler
 * settles, the session ends (`exit` if it lingered, then the socket closes) and FreeSWITCH
 * continues the dialplan if the channel is still up.
 */
export function createServer(handler: CallHandler, options: ServerOptions = {}): Server {
  return new Server(handler, options);
}

export type { CallEnd };

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function toBlockList(allow: readonly string[] | BlockList): BlockList {
  if (allow instanceof BlockList) return allow;
  const list = new BlockList();
  for (const entry of allow) {
    const [addr, bits, ...rest] = entry.trim().split('/');
    const family = isIP(addr ?? '');
    if (family === 0 || rest.length > 0) throw new EslInvalidArgumentError(`invalid allow-list entry: ${JSON.stringify(entry)}`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) {
      list.addAddress(addr!, type);
    } else {
      const prefix = Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
        throw new EslInvalidArgumentError(`invalid allow-list prefix: ${JSON.stringify(entry)}`);
      }
      list.addSubnet(addr!, prefix, type);
    }
  }
  return list;
}

function isAllowed(list: BlockList, address: string | undefined): boolean {
  if (address === undefined) return false;
  // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; match them as IPv4 too.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return list.check(mapped[1]!, 'ipv4') || list.check(address, 'ipv6');
  return list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}
