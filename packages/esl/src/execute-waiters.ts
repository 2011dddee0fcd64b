import type { Connection } from './connection.js';
import { EslAbortError, EslConnectionClosedError, type EslError, EslHangupError, EslTimeoutError } from './errors.js';
import type { EslEvent } from './protocol/event.js';

export interface CompletionOptions {
  /** Reject if CHANNEL_EXECUTE_COMPLETE does not arrive within this many ms. No default. */
  completionTimeout?: number;
  signal?: AbortSignal;
}

interface Waiter {
  channel: string | undefined;
  resolve(ev: EslEvent): void;
  reject(err: Error): void;
  cleanup(): void;
}

/**
 * Pairs sendmsg `execute` calls with their CHANNEL_EXECUTE_COMPLETE by Application-UUID (the
 * Event-UUID we sent; switch_core_session_exec copies it into both EXECUTE events). A channel's
 * CHANNEL_HANGUP rejects its waiters with the hangup cause, and a closed connection rejects all,
 * so no execute is left pending forever. One listener per connection, whatever the number of calls.
 */
export class ExecuteWaiters {
  private readonly waiters = new Map<string, Waiter>();
  private readonly onEvent = (ev: EslEvent) => this.handle(ev);
  private readonly onClose = (err: EslError | undefined) =>
    this.rejectAll(err ?? new EslConnectionClosedError('connection closed before the application completed'));

  constructor(private readonly conn: Connection) {
    conn.on('event', this.onEvent);
    conn.on('close', this.onClose);
  }

  get size(): number {
    return this.waiters.size;
  }

  /**
   * Registers a waiter for `appUuid` (call before writing the sendmsg). `channel` is the channel's
   * Unique-ID, used to fail the waiter when that channel hangs up.
   */
  wait(appUuid: string, channel: string | undefined, options: CompletionOptions = {}): Promise<EslEvent> {
    return new Promise<EslEvent>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        this.take(appUuid)?.reject(new EslAbortError('execute aborted', { cause: options.signal?.reason }));
      };
      const waiter: Waiter = {
        channel,
        resolve,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
        },
      };
      if (options.signal?.aborted) {
        reject(new EslAbortError('execute aborted', { cause: options.signal.reason }));
        return;
      }
      if (options.completionTimeout !== undefined && options.completionTimeout > 0) {
        timer = setTimeout(() => {
          this.take(appUuid)?.reject(
            new EslTimeoutError(`application did not complete within ${options.completionTimeout} ms`),
          );
        }, options.completionTimeout);
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(appUuid, waiter);
    });
  }

  /** Fails and forgets the waiter for `appUuid` (e.g. its sendmsg was refused). */
  cancel(appUuid: string, err: Error): void {
    this.take(appUuid)?.reject(err);
  }

  /** Rejects every waiter of one channel (hangup seen by other means, e.g. a disconnect notice). */
  rejectChannel(channel: string, err: Error): void {
    for (const [id, w] of this.waiters) if (w.channel === channel) this.take(id)?.reject(err);
  }

  rejectAll(err: Error): void {
    for (const id of [...this.waiters.keys()]) this.take(id)?.reject(err);
  }

  /** Detaches from the connection, rejecting what is left. */
  dispose(err: Error = new EslConnectionClosedError('session ended')): void {
    this.rejectAll(err);
    this.conn.off('event', this.onEvent);
    this.conn.off('close', this.onClose);
  }

  private take(appUuid: string): Waiter | undefined {
    const w = this.waiters.get(appUuid);
    if (w === undefined) return undefined;
    this.waiters.delete(appUuid);
    w.cleanup();
    return w;
  }

  private handle(ev: EslEvent): void {
    if (this.waiters.size === 0) return;
    const name = ev.name;
    if (name === 'CHANNEL_EXECUTE_COMPLETE') {
      const id = ev.get('Application-UUID');
      if (id !== undefined) this.take(id)?.resolve(ev);
    } else if (name === 'CHANNEL_HANGUP' || name === 'CHANNEL_HANGUP_COMPLETE') {
      const channel = ev.get('Unique-ID');
      if (channel !== undefined) this.rejectChannel(channel, new EslHangupError(ev.get('Hangup-Cause')));
    }
  }
}
