/**
 * The charging logic of one call (steps 7–10 of the call flow), with no socket in sight: it asks a
 * ledger for balances and writes interval records, keeps its own timers (through an injectable
 * clock, so tests run it in virtual time), and asks its owner to hang up.
 *
 * Rules
 * - Before bridging, and every `ringCheckMs` while ringing, the call may go on only while MORE
 *   THAN ONE interval remains (the seed's rule: one for the interval about to start, one spare).
 * - On answer, interval 1 is recorded at once; interval n+1 at answer + n × interval_duration.
 *   Each record pays for the interval that is starting, and the balance is read again after it:
 *   - below 0: a concurrent call spent the last interval first; hang up now (this call is over
 *     by at most the interval just recorded);
 *   - exactly 0: this interval is paid, there is none after it. When it ends the balance is read
 *     once more (a top-up may have arrived) and the call is cut off if it is still < 1. So a call
 *     is cut off exactly when its credit runs out, without being charged for time it cannot use.
 * - Any ledger error hangs up (fail closed). Stopping (hangup) cancels every timer; an answer
 *   from an operation that was in flight then is ignored.
 */
import { EventEmitter } from 'node:events';
import type { IntervalRecordInput } from './store.js';

export interface Ledger {
  remaining(account: string): Promise<number>;
  recordInterval(input: IntervalRecordInput): Promise<'recorded' | 'duplicate'>;
}

/** Time source and timers; tests pass a virtual clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Why the charging logic wants the call hung up. */
export type HangupReason =
  /** Not more than one interval left, before the bridge or while ringing. */
  | 'insufficient-credit'
  /** The credit ran out while talking. */
  | 'credit-exhausted'
  /** The database failed: fail closed. */
  | 'database-error';

/** FreeSWITCH hangup cause used for each reason. */
export const HANGUP_CAUSE: Readonly<Record<HangupReason, string>> = {
  'insufficient-credit': 'OUTGOING_CALL_BARRED',
  // FreeSWITCH's own cause for "the time this call was allowed is over" (switch_types.h).
  'credit-exhausted': 'ALLOTTED_TIMEOUT',
  'database-error': 'NORMAL_TEMPORARY_FAILURE',
};

export interface ChargingOptions {
  account: string;
  call: string;
  /** Seconds per interval (the account's interval_duration). */
  intervalDuration: number;
  /** ms between balance checks while the call rings (default 10 000). */
  ringCheckMs?: number;
  /** Written into each interval record (diagnostics). */
  server?: string;
  clock?: Clock;
}

export type ChargingState = 'idle' | 'ringing' | 'charging' | 'stopped';

export interface ChargeInfo {
  interval: number;
  remaining: number;
  outcome: 'recorded' | 'duplicate';
}

/**
 * Events: `balance` ({ remaining, phase }), `charged` (ChargeInfo), `hangup` ({ reason, detail }),
 * `stopped`. Call `stop()` when the channel hangs up; `hangup` is emitted at most once.
 */
export class ChargingSession extends EventEmitter {
  readonly account: string;
  readonly call: string;
  readonly intervalMs: number;
  readonly ringCheckMs: number;
  private readonly ledger: Ledger;
  private readonly clock: Clock;
  private readonly server: string | undefined;

  private phase: ChargingState = 'idle';
  private timer: unknown;
  private timerDue: number | undefined;
  /** Start of interval 1 (ms since epoch, on `clock`). */
  private base: number | undefined;
  private nextInterval = 1;
  private lastRemaining: number | undefined;
  /** Interval numbers known to be recorded for this call (by this session or before a restart). */
  private readonly paid = new Set<number>();
  private hangupAsked = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(ledger: Ledger, options: ChargingOptions) {
    super();
    if (!(options.intervalDuration > 0)) throw new RangeError('intervalDuration must be positive');
    this.ledger = ledger;
    this.account = options.account;
    this.call = options.call;
    this.intervalMs = options.intervalDuration * 1000;
    this.ringCheckMs = options.ringCheckMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
    this.server = options.server;
  }

  get state(): ChargingState {
    return this.phase;
  }
  /** Intervals recorded for this call so far (each counted once, however often it was written). */
  get intervalsCharged(): number {
    return this.paid.size;
  }
  /** Balance seen by the last check, if any. */
  get remaining(): number | undefined {
    return this.lastRemaining;
  }
  /** When the next timer fires (clock ms), for display and tests. */
  get nextCheckAt(): number | undefined {
    return this.timerDue;
  }

  /**
   * Step 7: may the call proceed? True only while more than one interval remains. A ledger error
   * rejects (the caller hangs up); nothing is emitted as `hangup` here, the caller decides.
   */
  async canProceed(): Promise<boolean> {
    const remaining = await this.track(this.ledger.remaining(this.account));
    this.lastRemaining = remaining;
    this.emit('balance', { remaining, phase: 'check' });
    return remaining > 1;
  }

  /** Step 8: the bridge is under way; re-check the balance every ringCheckMs until answer. */
  startRinging(): void {
    if (this.phase !== 'idle') return;
    this.phase = 'ringing';
    this.schedule(this.clock.now() + this.ringCheckMs, () => this.ringCheck());
  }

  private async ringCheck(): Promise<void> {
    let remaining: number;
    try {
      remaining = await this.track(this.ledger.remaining(this.account));
    } catch (err) {
      if (this.phase === 'ringing') this.askHangup('database-error', describe(err));
      return;
    }
    if (this.phase !== 'ringing') return; // answered or stopped meanwhile
    this.lastRemaining = remaining;
    this.emit('balance', { remaining, phase: 'ringing' });
    if (remaining > 1) {
      this.schedule(this.clock.now() + this.ringCheckMs, () => this.ringCheck());
    } else {
      this.askHangup('insufficient-credit', `${remaining} interval(s) left while ringing`);
    }
  }

  /**
   * Step 9: the far end answered. Stops the ringing timer and charges interval 1 at once.
   * `at` is the answer time on `clock` (default now).
   */
  answered(at: number = this.clock.now()): void {
    if (this.phase === 'charging' || this.phase === 'stopped') return;
    this.cancelTimer();
    this.phase = 'charging';
    this.base = at;
    this.nextInterval = 1;
    void this.charge();
  }

  /**
   * Take over a call another server (or an earlier run of this one) was already charging:
   * `firstIntervalAt` is when interval 1 started, `recorded` the interval numbers already written.
   * Every interval that has started since is charged now (already-written ones are duplicates and
   * cost nothing), then charging goes on as usual.
   */
  resume(firstIntervalAt: number, recorded: readonly number[]): void {
    if (this.phase === 'charging' || this.phase === 'stopped') return;
    this.cancelTimer();
    this.phase = 'charging';
    this.base = firstIntervalAt;
    const started = Math.max(1, Math.floor((this.clock.now() - firstIntervalAt) / this.intervalMs) + 1);
    const done = new Set(recorded);
    for (const n of done) this.paid.add(n);
    void this.catchUp(started, done);
  }

  /**
   * For a call whose bridge already ended: charge every interval that started until now that is
   * not in `recorded`, and nothing after. Resolves with the number of intervals now recorded;
   * rejects on a ledger error.
   */
  async catchUpOnly(firstIntervalAt: number, recorded: readonly number[]): Promise<number> {
    if (this.phase === 'stopped') return this.paid.size;
    this.cancelTimer();
    this.base = firstIntervalAt;
    for (const n of recorded) this.paid.add(n);
    const started = Math.max(1, Math.floor((this.clock.now() - firstIntervalAt) / this.intervalMs) + 1);
    for (let n = 1; n <= started; n++) {
      if (this.paid.has(n)) continue;
      await this.track(this.record(n));
      this.paid.add(n);
    }
    const remaining = await this.track(this.ledger.remaining(this.account));
    this.lastRemaining = remaining;
    this.emit('balance', { remaining, phase: 'talking' });
    this.stop();
    return this.paid.size;
  }

  private async catchUp(started: number, done: Set<number>): Promise<void> {
    for (let n = 1; n < started; n++) {
      if (this.phase !== 'charging') return;
      if (done.has(n)) continue;
      try {
        await this.track(this.record(n));
        this.paid.add(n);
      } catch (err) {
        if (this.phase === 'charging') this.askHangup('database-error', describe(err));
        return;
      }
    }
    this.nextInterval = started;
    // The interval in progress is charged by the normal path (which re-checks the balance).
    await this.charge(true);
  }

  /** Step 10: the channel hung up. Cancels every timer; late answers are ignored. */
  stop(): void {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.cancelTimer();
    this.emit('stopped');
  }

  /** Resolves once no ledger operation of this session is in flight. */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
    }
  }

  // ------------------------------------------------------------------ charging

  private async charge(force = false): Promise<void> {
    if (this.phase !== 'charging') return;
    const n = this.nextInterval;
    try {
      // The interval before this one was the last one paid for: look again before cutting off,
      // in case credit was added meanwhile.
      if (!force && n > 1 && (this.lastRemaining ?? 0) < 1) {
        const remaining = await this.track(this.ledger.remaining(this.account));
        if (this.phase !== 'charging') return;
        this.lastRemaining = remaining;
        this.emit('balance', { remaining, phase: 'talking' });
        if (remaining < 1) {
          this.askHangup('credit-exhausted', `credit ran out after ${n - 1} interval(s)`);
          return;
        }
      }
      const outcome = await this.track(this.record(n));
      this.paid.add(n);
      const remaining = await this.track(this.ledger.remaining(this.account));
      this.lastRemaining = remaining;
      this.emit('charged', { interval: n, remaining, outcome } satisfies ChargeInfo);
      if (this.phase !== 'charging') return;
      if (remaining < 0) {
        // Another call took the last interval between our check and our record.
        this.askHangup('credit-exhausted', `balance ${remaining} after interval ${n}`);
        return;
      }
      // A late tick (slow database) schedules the next one in the past, so it runs at once:
      // intervals are caught up one by one, each followed by a balance check, never in a batch
      // that could overdraw the account by more than the one interval.
      this.nextInterval = n + 1;
      this.schedule(this.base! + n * this.intervalMs, () => void this.charge());
    } catch (err) {
      if (this.phase === 'charging') this.askHangup('database-error', describe(err));
    }
  }

  private record(n: number): Promise<'recorded' | 'duplicate'> {
    const input: IntervalRecordInput = {
      account: this.account,
      call: this.call,
      interval: n,
      intervalDuration: this.intervalMs / 1000,
      // The start of the interval it pays for: a server taking the call over reads the
      // answer time back from interval 1.
      at: new Date(this.base! + (n - 1) * this.intervalMs),
    };
    if (this.server !== undefined) input.server = this.server;
    return this.ledger.recordInterval(input);
  }

  // ------------------------------------------------------------------ plumbing

  private askHangup(reason: HangupReason, detail: string): void {
    this.cancelTimer();
    if (this.hangupAsked) return;
    this.hangupAsked = true;
    this.emit('hangup', { reason, detail, cause: HANGUP_CAUSE[reason] });
  }

  private schedule(due: number, fn: () => void): void {
    this.cancelTimer();
    if (this.phase === 'stopped') return;
    this.timerDue = due;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerDue = undefined;
      fn();
    }, Math.max(0, due - this.clock.now()));
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = undefined;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
