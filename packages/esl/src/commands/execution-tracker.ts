/** Pairs each sendmsg execute with its CHANNEL_EXECUTE_COMPLETE, loops included, on one connection. */
import { EslAbortError, EslHangupError, EslTimeoutError } from '../errors.js';
import type { EslEvent } from '../protocol/event.js';

export interface ExecutionWaitOptions {
  completionTimeout?: number;
  signal?: AbortSignal;
}

interface Execution {
  channel: string | undefined;
  /** The loops header sent (undefined = 1). */
  loops: number | undefined;
  /** Event-Date-Timestamp (µs) at which the current iteration started, when known. */
  iterationStart: number | undefined;
  resolve(ev: EslEvent): void;
  reject(err: Error): void;
  cleanup(): void;
}

/** FreeSWITCH ends a loop early when one run took less than this (µs; switch_ivr_parse_event). */
const SHORT_RUN_US = 500_000;

/**
 * Pairs sendmsg `execute` with its CHANNEL_EXECUTE_COMPLETE by Application-UUID (the Event-UUID we
 * sent; switch_core_session_exec copies it into both EXECUTE events), aware of `loops`: FreeSWITCH fires one CHANNEL_EXECUTE_COMPLETE
 * per iteration with the same Application-UUID, so the waiter settles on the last one — when
 * variable_current_loop reaches variable_total_loops, or when an iteration ran under 0.5 s (the
 * rule by which FreeSWITCH stops looping), measured between the iteration's CHANNEL_EXECUTE and its
 * CHANNEL_EXECUTE_COMPLETE. A CHANNEL_HANGUP of the channel rejects with EslHangupError.
 */
export class ExecutionTracker {
  private readonly pending = new Map<string, Execution>();
  private looping = 0;

  get size(): number {
    return this.pending.size;
  }

  /** True while some execution needs CHANNEL_EXECUTE events (loop timing). */
  get needsExecuteEvents(): boolean {
    return this.looping > 0;
  }

  wait(appUuid: string, channel: string | undefined, loops: number | undefined, options: ExecutionWaitOptions = {}): Promise<EslEvent> {
    return new Promise<EslEvent>((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new EslAbortError('execute aborted', { cause: options.signal.reason }));
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => this.take(appUuid)?.reject(new EslAbortError('execute aborted', { cause: options.signal?.reason }));
      const tracksLoops = loops !== undefined && loops !== 1;
      const execution: Execution = {
        channel,
        loops,
        iterationStart: undefined,
        resolve,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          if (tracksLoops) this.looping--;
        },
      };
      if (options.completionTimeout !== undefined && options.completionTimeout > 0) {
        const ms = options.completionTimeout;
        timer = setTimeout(() => this.take(appUuid)?.reject(new EslTimeoutError(`application did not complete within ${ms} ms`)), ms);
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (tracksLoops) this.looping++;
      this.pending.set(appUuid, execution);
    });
  }

  cancel(appUuid: string, err: Error): void {
    this.take(appUuid)?.reject(err);
  }

  /** Rejects every execution on one channel (a hangup learnt by other means, e.g. a disconnect notice). */
  rejectChannel(channel: string, err: Error): void {
    for (const [id, x] of this.pending) if (x.channel === channel) this.take(id)?.reject(err);
  }

  rejectAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.take(id)?.reject(err);
  }

  /** Feed every event of the connection here (name already read). */
  handle(ev: EslEvent, name: string): void {
    if (this.pending.size === 0) return;
    switch (name) {
      case 'CHANNEL_EXECUTE': {
        const x = this.lookup(ev);
        if (x !== undefined && x.loops !== undefined) x.iterationStart = timestamp(ev);
        return;
      }
      case 'CHANNEL_EXECUTE_COMPLETE': {
        const id = ev.get('Application-UUID');
        if (id === undefined) return;
        const x = this.pending.get(id);
        if (x === undefined) return;
        if (isLastIteration(x, ev)) this.take(id)?.resolve(ev);
        else x.iterationStart = timestamp(ev);
        return;
      }
      case 'CHANNEL_HANGUP':
      case 'CHANNEL_HANGUP_COMPLETE': {
        const channel = ev.get('Unique-ID');
        if (channel === undefined) return;
        this.rejectChannel(channel, new EslHangupError(ev.get('Hangup-Cause')));
        return;
      }
      default:
    }
  }

  private lookup(ev: EslEvent): Execution | undefined {
    const id = ev.get('Application-UUID');
    return id === undefined ? undefined : this.pending.get(id);
  }

  private take(id: string): Execution | undefined {
    const x = this.pending.get(id);
    if (x === undefined) return undefined;
    this.pending.delete(id);
    x.cleanup();
    return x;
  }
}

function timestamp(ev: EslEvent): number | undefined {
  const t = Number(ev.get('Event-Date-Timestamp'));
  return Number.isFinite(t) ? t : undefined;
}

function isLastIteration(x: Execution, ev: EslEvent): boolean {
  if (x.loops === undefined || x.loops === 1) return true;
  const current = Number(ev.get('variable_current_loop'));
  const total = Number(ev.get('variable_total_loops'));
  if (!Number.isFinite(current) || !Number.isFinite(total)) return true;
  if (total > 0 && current >= total) return true;
  const end = timestamp(ev);
  return x.iterationStart !== undefined && end !== undefined && end - x.iterationStart < SHORT_RUN_US;
}
