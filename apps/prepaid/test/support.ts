/** Test doubles shared by the prepaid tests: a virtual clock and an in-memory ledger with faults. */
import type { Clock, Ledger } from '../src/charging.js';
import { intervalRecordId, PrepaidDbError, type IntervalRecordInput } from '../src/store.js';

/** Lets every pending promise chain (and setImmediate callback) run. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface VirtualTimer {
  id: number;
  due: number;
  fn: () => void;
}

/** A clock whose time only moves when the test says so. */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: VirtualTimer[] = [];
  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { id: ++this.seq, due: this.t + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  get pendingTimers(): number {
    return this.timers.length;
  }
  /** Moves time forward, firing due timers in order and letting async work settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await flush();
    for (;;) {
      this.timers.sort((a, b) => a.due - b.due || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.due > end) break;
      this.timers.shift();
      this.t = next.due;
      next.fn();
      await flush();
    }
    this.t = end;
    await flush();
  }
}

/** Balances and interval records in a Map; failures injectable per operation. */
export class MemoryLedger implements Ledger {
  readonly credits = new Map<string, number>();
  readonly records = new Map<string, IntervalRecordInput>();
  remainingCalls = 0;
  recordCalls = 0;
  failRemaining: (() => boolean) | undefined;
  failRecord: ((input: IntervalRecordInput) => boolean) | undefined;

  credit(account: string, intervals: number): void {
    this.credits.set(account, (this.credits.get(account) ?? 0) + intervals);
  }
  async remaining(account: string): Promise<number> {
    this.remainingCalls++;
    await Promise.resolve();
    if (this.failRemaining?.()) throw new PrepaidDbError('PREPAID_DB_UNAVAILABLE', 'check balance: database is closed');
    let total = this.credits.get(account) ?? 0;
    for (const r of this.records.values()) if (r.account === account) total -= 1;
    return total;
  }
  async recordInterval(input: IntervalRecordInput): Promise<'recorded' | 'duplicate'> {
    this.recordCalls++;
    await Promise.resolve();
    if (this.failRecord?.(input)) throw new PrepaidDbError('PREPAID_DB_UNAVAILABLE', 'record interval: ECONNREFUSED');
    const id = intervalRecordId(input.call, input.interval);
    if (this.records.has(id)) return 'duplicate';
    this.records.set(id, { ...input });
    return 'recorded';
  }
  intervalsOf(call: string): number[] {
    return [...this.records.values()].filter((r) => r.call === call).map((r) => r.interval).sort((a, b) => a - b);
  }
}
