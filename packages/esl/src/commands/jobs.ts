/** Pairs each pending bgapi with its BACKGROUND_JOB event by Job-UUID, on one connection. */
import { EslAbortError, EslTimeoutError } from '../errors.js';
import type { EslEvent } from '../protocol/event.js';

export interface JobWaitOptions {
  /** Reject with EslTimeoutError when the result has not arrived this long after the call, ms. */
  completionTimeout?: number;
  signal?: AbortSignal;
  /** For error messages: the api command the job runs. */
  label: string;
  /** Runs once when the job settles, whichever way. */
  onSettle?: () => void;
}

interface Job {
  resolve(ev: EslEvent): void;
  reject(err: Error): void;
  cleanup(): void;
}

/**
 * The bgapi jobs waiting on one connection. A job is registered before its command is written,
 * so a fast BACKGROUND_JOB cannot be missed; `handle` is fed every event of the connection.
 */
export class BackgroundJobs {
  private readonly pending = new Map<string, Job>();

  get size(): number {
    return this.pending.size;
  }

  has(jobUuid: string): boolean {
    return this.pending.has(jobUuid);
  }

  /** Resolves with the BACKGROUND_JOB event whose Job-UUID is `jobUuid`. */
  wait(jobUuid: string, options: JobWaitOptions): Promise<EslEvent> {
    return new Promise<EslEvent>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const signal = options.signal;
      const onAbort = () => this.fail(jobUuid, new EslAbortError(`bgapi ${options.label} aborted`, { cause: signal?.reason }));
      this.pending.set(jobUuid, {
        resolve,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          options.onSettle?.();
        },
      });
      if (options.completionTimeout !== undefined && options.completionTimeout > 0) {
        const ms = options.completionTimeout;
        timer = setTimeout(() => this.fail(jobUuid, new EslTimeoutError(`no BACKGROUND_JOB result for bgapi ${options.label} within ${ms} ms`)), ms);
      }
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** FreeSWITCH answered with another Job-UUID than the one sent (it keeps at most 36 characters). */
  rename(from: string, to: string): void {
    const job = this.pending.get(from);
    if (job === undefined || from === to) return;
    this.pending.delete(from);
    this.pending.set(to, job);
  }

  /** Settles the job a BACKGROUND_JOB event belongs to, if one is waiting. */
  handle(ev: EslEvent): void {
    if (this.pending.size === 0) return;
    const id = ev.get('Job-UUID');
    const job = id === undefined ? undefined : this.take(id);
    job?.resolve(ev);
  }

  fail(jobUuid: string, err: Error): void {
    this.take(jobUuid)?.reject(err);
  }

  failAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.fail(id, err);
  }

  private take(id: string): Job | undefined {
    const job = this.pending.get(id);
    if (job === undefined) return undefined;
    this.pending.delete(id);
    job.cleanup();
    return job;
  }
}
