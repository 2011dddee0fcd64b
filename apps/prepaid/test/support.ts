/** Test doubles shared by the prepaid tests: a virtual clock, an in-memory ledger with faults, a recording switch deadline. */
import type { Clock, Ledger, SwitchDeadline } from '../src/charging.js';
import { PrepaidDbError, type ChargeResult, type IntervalChargeInput } from '../src/store.js';

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

/** Credits and a ledger in memory, charges atomic as the store's are; failures injectable per operation. */
export class MemoryLedger implements Ledger {
  readonly credits = new Map<string, number>();
  /** `${call}:${interval}` → the charge (given-back ones removed). */
  readonly records = new Map<string, IntervalChargeInput>();
  readonly givenBack: Array<{ call: string; interval: number }> = [];
  remainingCalls = 0;
  recordCalls = 0;
  failRemaining: (() => boolean) | undefined;
  failRecord: ((input: IntervalChargeInput) => boolean) | undefined;
  /** Resolves each charge only when the test says so (a frozen database). */
  holdRecords = false;
  private readonly held: Array<() => void> = [];

  credit(account: string, intervals: number): void {
    this.credits.set(account, (this.credits.get(account) ?? 0) + intervals);
  }
  private balance(account: string): number {
    let total = this.credits.get(account) ?? 0;
    for (const r of this.records.values()) if (r.account === account) total -= 1;
    return total;
  }
  async remaining(account: string): Promise<number> {
    this.remainingCalls++;
    await Promise.resolve();
    if (this.failRemaining?.()) throw new PrepaidDbError('PREPAID_DB_UNAVAILABLE', 'check balance: database is closed');
    return this.balance(account);
  }
  async chargeInterval(input: IntervalChargeInput): Promise<ChargeResult> {
    this.recordCalls++;
    await Promise.resolve();
    if (this.holdRecords) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.failRecord?.(input)) throw new PrepaidDbError('PREPAID_DB_UNAVAILABLE', 'record interval: ECONNREFUSED');
    const id = `${input.call}:${input.interval}`;
    if (this.records.has(id)) return { outcome: 'duplicate', remaining: this.balance(input.account) };
    if (this.balance(input.account) < 1) return { outcome: 'refused', remaining: this.balance(input.account) };
    this.records.set(id, { ...input });
    return { outcome: 'charged', remaining: this.balance(input.account) };
  }
  async giveBackInterval(input: { account: string; call: string; interval: number }): Promise<ChargeResult> {
    await Promise.resolve();
    this.records.delete(`${input.call}:${input.interval}`);
    this.givenBack.push({ call: input.call, interval: input.interval });
    return { outcome: 'charged', remaining: this.balance(input.account) };
  }
  /** Lets every held charge go on. */
  release(): void {
    this.holdRecords = false;
    for (const go of this.held.splice(0)) go();
  }
  intervalsOf(call: string): number[] {
    return [...this.records.values()].filter((r) => r.call === call).map((r) => r.interval).sort((a, b) => a - b);
  }
}

/** A SwitchDeadline that records what FreeSWITCH would be told (its clock = the test clock + offset). */
export class RecordingDeadline implements SwitchDeadline {
  readonly scheduled: number[] = [];
  fail = false;
  constructor(private readonly offset = 0) {}
  offsetMs(): number {
    return this.offset;
  }
  async schedule(epochSecond: number): Promise<void> {
    await Promise.resolve();
    if (this.fail) throw new Error('the call socket is closed');
    this.scheduled.push(epochSecond);
  }
}
