/** The inbound client's async-iterable views: bounded event streams (with socket backpressure) and state changes. */
import type { EventEmitter } from 'node:events';
import { EslInvalidArgumentError } from '../errors.js';
import type { EslEvent } from '../protocol/event.js';
import type { Connection } from '../transport/connection.js';
import { AsyncQueue, type OverflowPolicy } from './async-queue.js';

/**
 * Life cycle: `connecting` (inside connect()) → `connected` ⇄ `reconnecting` (only with the
 * reconnect option) → `closing` → `closed`. `closed` is final.
 */
export type ClientState = 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed';

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

/** What the streams read from the client: its 'event', 'close' and 'state' emissions, its state and its current socket. */
export interface StreamSource extends EventEmitter {
  readonly state: ClientState;
}

/**
 * Creates the client's streams and pauses the socket while any 'pause' stream is full (reading
 * stops, so FreeSWITCH's own queue holds the events). Pause requests outlive a reconnect: a new
 * connection starts paused if a stream is still full.
 */
export class EventStreams {
  private pauseRequests = 0;

  constructor(
    private readonly source: StreamSource,
    /** The current connection, if any. */
    private readonly connection: () => Connection | undefined,
  ) {}

  /** A fresh connection became current. */
  adopted(conn: Connection): void {
    if (this.pauseRequests > 0) conn.pause();
  }

  /**
   * A bounded async iterator over the events the user is subscribed to (optionally only `names`).
   * Registered at once, so nothing between this call and the first next() is missed. Ends when
   * the client closes (throws the failure if it closed because of one) or on `break`.
   */
  events(options: EventStreamOptions = {}): EventStream {
    const source = this.source;
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
        source.off('event', onEvent);
        source.off('close', onClose);
        options.signal?.removeEventListener('abort', onAbort);
      },
    });
    if (source.state === 'closed') {
      stream.end();
      return stream;
    }
    source.on('event', onEvent);
    source.on('close', onClose);
    if (options.signal?.aborted) void stream.return();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    return stream;
  }

  /**
   * State changes as an async iterable, starting with the current state and ending after
   * 'closed'. Buffers up to 64 changes for a slow reader (oldest dropped first).
   */
  states(): StateStream {
    const source = this.source;
    const onState = (state: ClientState) => {
      queue.push(state);
      if (state === 'closed') queue.end();
    };
    const queue = new AsyncQueue<ClientState>(64, 'drop-oldest', { detach: () => source.off('state', onState) });
    queue.push(source.state);
    if (source.state === 'closed') queue.end();
    else source.on('state', onState);
    return queue;
  }

  private requestPause(): void {
    if (this.pauseRequests++ === 0 && this.source.state === 'connected') this.connection()?.pause();
  }

  private releasePause(): void {
    if (--this.pauseRequests === 0) this.connection()?.resume();
  }
}
