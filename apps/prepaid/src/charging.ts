/**
 * The charging logic of one call (steps 7–10 of the call flow), with no socket in sight: it asks a
 * ledger for balances and charges, keeps FreeSWITCH's scheduled hangup at the end of the paid time
 * (through a SwitchDeadline), keeps its own timers (through an injectable clock, so tests run it in
 * virtual time), and asks its owner to hang up.
 *
 * Rules
 * - Before bridging, and every `ringCheckMs` while ringing, the call may go on only while MORE
 *   THAN ONE interval remains (the seed's rule: one for the interval about to start, one spare).
 * - On answer, interval 1 is charged at once; interval n+1 when interval n ends. Each charge is
 *   atomic against the account's credit (the ledger refuses a charge the credit does not cover),
 *   so concurrent calls never spend more than was credited.
 * - After each charge the channel's scheduled hangup moves to the end of the paid time, rounded UP
 *   to FreeSWITCH's whole second (its scheduler has no finer resolution): the call never gets cut
 *   before its paid time, and if this process dies, its socket breaks or its database freezes, the
 *   switch ends the call at most 1 s after it (plus the scheduler's 0.5 s look).
 * - That hangup must be moved before it fires, which takes a charge and two api commands. When an
 *   interval's start lies less than `rescheduleLeadMs` before the whole second the hangup is set
 *   for, that interval (and, for intervals shorter than the lead, those after it up to that
 *   second) is charged `rescheduleLeadMs` before that second instead; never more than
 *   MAX_CHARGE_AHEAD_MS before its start. When the call ends, an interval charged ahead whose
 *   start the call never reached is given back, and one that started but was not charged yet (a
 *   late timer) is charged (`settle`).
 * - A refused charge ahead is tried again when its interval starts (a top-up may have arrived);
 *   refused then, the call is cut off (ALLOTTED_TIMEOUT) exactly at the end of what it paid.
 * - A database error cuts the call off at the end of its paid time, and a charge still unanswered
 *   when FreeSWITCH's scheduled hangup is due cuts the call off then (fail closed). Stopping (hangup) cancels every timer; an answer from
 *   an operation that was in flight then still counts the interval it charged.
 */
import { EventEmitter } from 'node:events';
import type { ChargeResult, IntervalChargeInput } from './documents.js';

export interface Ledger {
  remaining(account: string): Promise<number>;
  chargeInterval(input: IntervalChargeInput): Promise<ChargeResult>;
  giveBackInterval(input: { account: string; call: string; interval: number; intervalDuration: number; server?: string }): Promise<ChargeResult>;
}

/** FreeSWITCH's side of the paid time: the one scheduled hangup a charged call's channel carries. */
export interface SwitchDeadline {
  /** ms to add to the clock's time to get FreeSWITCH's (learnt from events' Event-Date-Timestamp). */
  offsetMs(): number;
  /** Replace the channel's scheduled hangup by one at this epoch second of FreeSWITCH's clock. */
  schedule(epochSecond: number): Promise<void>;
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

/** Default time before FreeSWITCH's scheduled hangup at which the next interval is charged at the latest. */
export const DEFAULT_RESCHEDULE_LEAD_MS = 500;
/**
 * The prepaid server's default spread of that lead over its calls (ChargingOptions.chargeSpreadMs)
 * with an embedded database: a whole second, so that with the cap below the charges of calls whose
 * hangups share a second fall all over that second (docs/prepaid-charging.md).
 */
export const DEFAULT_CHARGE_SPREAD_MS = 1000;
/**
 * Its default with a CouchDB server: less, because charges spread evenly leave in more and smaller
 * grouped writes, and a CouchDB server pays for each request whatever its size (docs/benchmarks.md).
 */
export const COUCH_CHARGE_SPREAD_MS = 400;
/** No interval is charged longer than this before it starts, whatever the lead and its spread. */
export const MAX_CHARGE_AHEAD_MS = 1000;
/**
 * With no switch deadline: how long past the paid time a charge still in flight is waited for
 * before the call is cut off (a database that stopped answering).
 */
export const SLOW_CHARGE_GRACE_MS = 1000;

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
  /** FreeSWITCH's scheduled hangup; without one the switch enforces nothing. */
  deadline?: SwitchDeadline;
  /** See the rules above (default 500 ms). */
  rescheduleLeadMs?: number;
  /**
   * Up to this much more lead, the same for every charge of a call and different from call to
   * call (from its uuid), so that calls whose hangups fall on the same whole second are not all
   * charged at the same moment (default 0). The lead with it is cut to MAX_CHARGE_AHEAD_MS
   * before the interval's start.
   */
  chargeSpreadMs?: number;
}

export type ChargingState = 'idle' | 'ringing' | 'charging' | 'stopped';

export interface ChargeInfo {
  interval: number;
  remaining: number;
  outcome: 'charged' | 'duplicate';
  /** ms from when the charge was due (its timer's time, or the answer for interval 1) to the ledger's answer. */
  lateMs: number;
}

/**
 * Events: `balance` ({ remaining, phase }), `charged` (ChargeInfo), `deadline` ({ epochSecond }),
 * `deadline-error` (Error: the switch kept its earlier, earlier-ending hangup), `hangup`
 * ({ reason, detail, cause }), `stopped`. Call `stop()` when the channel hangs up; `hangup` is
 * emitted at most once.
 */
export class ChargingSession extends EventEmitter {
  readonly account: string;
  readonly call: string;
  readonly intervalMs: number;
  readonly ringCheckMs: number;
  readonly rescheduleLeadMs: number;
  /** This call's share of the spread of the lead (ChargingOptions.chargeSpreadMs). */
  readonly spreadShareMs: number;
  private readonly ledger: Ledger;
  private readonly clock: Clock;
  private readonly server: string | undefined;
  private readonly deadline: SwitchDeadline | undefined;

  private phase: ChargingState = 'idle';
  private chargeTimer: unknown;
  private chargeDue: number | undefined;
  private paidEndTimer: unknown;
  /** Start of interval 1 (ms, on `clock`). */
  private base: number | undefined;
  /** Every interval up to this one is paid. */
  private paidThrough = 0;
  /** Interval numbers known to be charged for this call (by this session or before a restart). */
  private readonly paid = new Set<number>();
  private readonly givenBack = new Set<number>();
  private charging = false;
  /** The next charge was refused ahead of its interval; it is tried again when that starts. */
  private refusedAhead = false;
  /** settle() ran, or catchUpOnly() charged the call to its bound. */
  private settled = false;
  private lastRemaining: number | undefined;
  private scheduledSecond: number | undefined;
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
    this.rescheduleLeadMs = options.rescheduleLeadMs ?? DEFAULT_RESCHEDULE_LEAD_MS;
    this.spreadShareMs = spreadOf(options.call, options.chargeSpreadMs ?? 0);
    this.clock = options.clock ?? systemClock;
    this.server = options.server;
    this.deadline = options.deadline;
  }

  get state(): ChargingState {
    return this.phase;
  }
  /** Intervals charged to this call so far, net of those given back. */
  get intervalsCharged(): number {
    return this.paid.size - this.givenBack.size;
  }
  /** Balance seen by the last check, if any. */
  get remaining(): number | undefined {
    return this.lastRemaining;
  }
  /** When the next charge is due (clock ms), for display and tests. */
  get nextCheckAt(): number | undefined {
    return this.chargeDue;
  }
  /** End of the paid time (clock ms), once talking. */
  get paidUntil(): number | undefined {
    return this.base === undefined ? undefined : this.base + this.paidThrough * this.intervalMs;
  }
  /** The epoch second (FreeSWITCH's clock) of the channel's scheduled hangup, once set. */
  get switchDeadline(): number | undefined {
    return this.scheduledSecond;
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
    this.scheduleCharge(this.clock.now() + this.ringCheckMs, () => this.ringCheck());
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
      this.scheduleCharge(this.clock.now() + this.ringCheckMs, () => this.ringCheck());
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
    this.startCharging(at, [], at);
  }

  /**
   * Take over a call another server (or an earlier run of this one) was already charging:
   * `firstIntervalAt` is when interval 1 started, `recorded` the interval numbers already charged.
   * Every interval that has started since is charged now, one by one and each against the credit
   * (the ones already recorded are skipped), then charging goes on as usual.
   */
  resume(firstIntervalAt: number, recorded: readonly number[]): void {
    if (this.phase === 'charging' || this.phase === 'stopped') return;
    this.startCharging(firstIntervalAt, recorded, this.clock.now());
  }

  /**
   * For a call whose bridge already ended: charge the intervals not in `recorded` that started
   * before the bridge can have ended — now, or FreeSWITCH's scheduled hangup of the paid time,
   * whichever is first — and nothing after; a refused charge ends the catching up. Resolves with
   * the number of intervals now charged; rejects on a ledger error.
   */
  async catchUpOnly(firstIntervalAt: number, recorded: readonly number[]): Promise<number> {
    if (this.phase === 'stopped') return this.intervalsCharged;
    this.cancelTimers();
    this.base = firstIntervalAt;
    for (const n of recorded) this.paid.add(n);
    this.advancePaidThrough();
    const paidEnd = this.paidUntil!;
    const until = Math.min(this.clock.now(), this.deadline ? this.switchSecondOf(paidEnd) * 1000 - this.deadline.offsetMs() : Infinity);
    for (let n = 1; this.base + (n - 1) * this.intervalMs < until; n++) {
      if (this.paid.has(n)) continue;
      const result = await this.track(this.ledger.chargeInterval(this.chargeInput(n)));
      this.lastRemaining = result.remaining;
      if (result.outcome === 'refused') break;
      this.paid.add(n);
    }
    this.emit('balance', { remaining: this.lastRemaining, phase: 'talking' });
    this.settled = true; // charged to its bound: nothing for settle() to add
    this.stop();
    return this.intervalsCharged;
  }

  /** Step 10: the channel hung up. Cancels every timer; late answers are still counted. */
  stop(): void {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.cancelTimers();
    this.emit('stopped');
  }

  /** Resolves once no ledger operation of this session is in flight. */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
    }
  }

  /**
   * The call ended at `endedAt` (clock ms): settle its charging with what it really used. Every
   * interval that had started by then and is not charged yet (its timer came late) is charged, each
   * against the credit; every interval charged ahead that had not started is given back. An interval
   * that started less than min(I/2, 250 ms) before the end counts as not started: the hangup asked
   * at its start lands just after it. Resolves with the counts; rejects on a ledger error (what is
   * not settled stays as it was).
   */
  async settle(endedAt: number): Promise<{ charged: number; givenBack: number }> {
    const counts = { charged: 0, givenBack: 0 };
    if (this.base === undefined || this.settled) return counts;
    this.settled = true;
    const grace = Math.min(this.intervalMs / 2, 250);
    const started = (n: number) => this.base! + (n - 1) * this.intervalMs + grace <= endedAt;
    for (let n = this.paidThrough + 1; started(n); n++) {
      if (this.paid.has(n)) continue;
      const result = await this.track(this.ledger.chargeInterval(this.chargeInput(n)));
      this.lastRemaining = result.remaining;
      if (result.outcome === 'refused') break;
      this.paid.add(n);
      counts.charged++;
    }
    this.advancePaidThrough();
    for (const n of [...this.paid].sort((a, b) => a - b)) {
      if (this.givenBack.has(n) || started(n)) continue;
      const input: { account: string; call: string; interval: number; intervalDuration: number; server?: string } = {
        account: this.account,
        call: this.call,
        interval: n,
        intervalDuration: this.intervalMs / 1000,
      };
      if (this.server !== undefined) input.server = this.server;
      const result = await this.track(this.ledger.giveBackInterval(input));
      this.lastRemaining = result.remaining;
      this.givenBack.add(n);
      counts.givenBack++;
    }
    return counts;
  }

  // ------------------------------------------------------------------ charging

  /** `due`: when the first charge is due (the answer; now, for a call taken over). */
  private startCharging(firstIntervalAt: number, recorded: readonly number[], due: number): void {
    this.cancelTimers();
    this.phase = 'charging';
    this.base = firstIntervalAt;
    for (const n of recorded) this.paid.add(n);
    this.advancePaidThrough();
    void this.chargeNext(Math.min(due, this.clock.now()));
  }

  /** Charges the first interval not yet paid, then moves FreeSWITCH's hangup and plans the next. */
  private async chargeNext(due: number = this.clock.now()): Promise<void> {
    if (this.phase !== 'charging' || this.charging) return;
    const n = this.paidThrough + 1;
    const startsAt = this.base! + (n - 1) * this.intervalMs;
    this.charging = true;
    let result: ChargeResult;
    try {
      result = await this.track(this.ledger.chargeInterval(this.chargeInput(n)));
    } catch (err) {
      this.charging = false;
      this.cutOffAtPaidEnd('database-error', `charging interval ${n} failed: ${describe(err)}`);
      return;
    } finally {
      this.charging = false;
    }
    this.lastRemaining = result.remaining;
    if (result.outcome === 'refused') {
      this.emit('balance', { remaining: result.remaining, phase: 'talking' });
      if (this.phase !== 'charging') return;
      if (this.clock.now() < startsAt) {
        // Refused ahead of time: look again when the interval starts (a top-up may have come).
        this.refusedAhead = true;
        this.scheduleCharge(startsAt, () => void this.chargeNext(startsAt));
      } else {
        this.askHangup('credit-exhausted', `credit ran out after ${this.paidThrough} interval(s)`);
      }
      return;
    }
    this.refusedAhead = false;
    this.paid.add(n);
    this.advancePaidThrough();
    const lateMs = Math.max(0, this.clock.now() - due);
    this.emit('charged', { interval: n, remaining: result.remaining, outcome: result.outcome, lateMs } satisfies ChargeInfo);
    if (this.phase !== 'charging') return;
    await this.moveSwitchDeadline();
    if (this.phase !== 'charging') return;
    this.armPaidEnd();
    const next = this.nextChargeAt();
    this.scheduleCharge(next, () => void this.chargeNext(next));
  }

  /**
   * When the next interval is charged: when it starts, or the lead and this call's share of its
   * spread before the switch's hangup; the share only as far as MAX_CHARGE_AHEAD_MS before the
   * start, the lead itself always.
   */
  private nextChargeAt(): number {
    const paidEnd = this.paidUntil!;
    if (this.scheduledSecond === undefined || !this.deadline) return paidEnd;
    const leadAt = this.scheduledSecond * 1000 - this.deadline.offsetMs() - this.rescheduleLeadMs;
    const spreadAt = Math.max(leadAt - this.spreadShareMs, paidEnd - MAX_CHARGE_AHEAD_MS);
    return Math.min(paidEnd, leadAt, spreadAt);
  }

  /** The whole second, in FreeSWITCH's clock, at which a call paid until `paidEnd` ends: rounded up. */
  private switchSecondOf(paidEnd: number): number {
    return Math.ceil((paidEnd + (this.deadline?.offsetMs() ?? 0)) / 1000);
  }

  private async moveSwitchDeadline(): Promise<void> {
    if (!this.deadline) return;
    // Never a second already begun: switch_scheduler_add_task_ex reads a runtime in the past as an
    // interval to repeat, which would put the hangup decades away.
    const begun = Math.floor((this.clock.now() + this.deadline.offsetMs()) / 1000);
    const second = Math.max(this.switchSecondOf(this.paidUntil!), begun + 1);
    if (second === this.scheduledSecond) return;
    try {
      await this.track(this.deadline.schedule(second));
      this.scheduledSecond = second;
      this.emit('deadline', { epochSecond: second });
    } catch (err) {
      // The earlier hangup stays in place: the call ends too early, never too late.
      this.emit('deadline-error', err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * A charge still unanswered when FreeSWITCH's scheduled hangup is due (SLOW_CHARGE_GRACE_MS after
   * the paid time without one): the database stopped answering; cut off now, rather than when the
   * switch's scheduler next looks.
   */
  private armPaidEnd(): void {
    if (this.paidEndTimer !== undefined) this.clock.clearTimeout(this.paidEndTimer);
    const paidEnd = this.paidUntil!;
    const due = this.deadline && this.scheduledSecond !== undefined
      ? this.scheduledSecond * 1000 - this.deadline.offsetMs()
      : paidEnd + SLOW_CHARGE_GRACE_MS;
    this.paidEndTimer = this.clock.setTimeout(() => {
      this.paidEndTimer = undefined;
      if (this.phase !== 'charging' || this.paidUntil! > paidEnd) return;
      if (this.refusedAhead) {
        // Only a top-up could have saved the call, and none came in time.
        this.askHangup('credit-exhausted', `credit ran out after ${this.paidThrough} interval(s)`);
      } else if (this.charging) {
        this.askHangup('database-error', `the database did not answer before the time paid for ran out (interval ${this.paidThrough + 1})`);
      }
    }, Math.max(0, due - this.clock.now()));
  }

  /** Fail closed at the end of what was paid (now, when that is past). */
  private cutOffAtPaidEnd(reason: HangupReason, detail: string): void {
    if (this.phase !== 'charging') return;
    const paidEnd = this.paidUntil!;
    if (paidEnd <= this.clock.now()) this.askHangup(reason, detail);
    else this.scheduleCharge(paidEnd, () => this.askHangup(reason, detail));
  }

  private advancePaidThrough(): void {
    while (this.paid.has(this.paidThrough + 1)) this.paidThrough++;
  }

  private chargeInput(n: number): IntervalChargeInput {
    const input: IntervalChargeInput = {
      account: this.account,
      call: this.call,
      interval: n,
      intervalDuration: this.intervalMs / 1000,
      // The start of the interval it pays for: a server taking the call over reads the
      // answer time back from it.
      at: new Date(this.base! + (n - 1) * this.intervalMs),
    };
    if (this.server !== undefined) input.server = this.server;
    return input;
  }

  // ------------------------------------------------------------------ plumbing

  private askHangup(reason: HangupReason, detail: string): void {
    this.cancelTimers();
    if (this.hangupAsked) return;
    this.hangupAsked = true;
    this.emit('hangup', { reason, detail, cause: HANGUP_CAUSE[reason] });
  }

  private scheduleCharge(due: number, fn: () => void): void {
    if (this.chargeTimer !== undefined) this.clock.clearTimeout(this.chargeTimer);
    this.chargeTimer = undefined;
    this.chargeDue = undefined;
    if (this.phase === 'stopped') return;
    this.chargeDue = due;
    this.chargeTimer = this.clock.setTimeout(() => {
      this.chargeTimer = undefined;
      this.chargeDue = undefined;
      fn();
    }, Math.max(0, due - this.clock.now()));
  }

  private cancelTimers(): void {
    if (this.chargeTimer !== undefined) this.clock.clearTimeout(this.chargeTimer);
    if (this.paidEndTimer !== undefined) this.clock.clearTimeout(this.paidEndTimer);
    this.chargeTimer = undefined;
    this.paidEndTimer = undefined;
    this.chargeDue = undefined;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }
}

/** A call's share of `spreadMs`: [0, spreadMs), from a hash of its uuid (FNV-1a). */
function spreadOf(call: string, spreadMs: number): number {
  if (!(spreadMs > 0)) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < call.length; i++) hash = Math.imul(hash ^ call.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % Math.floor(spreadMs);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
