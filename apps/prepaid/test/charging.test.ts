import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChargingSession, DEFAULT_RESCHEDULE_LEAD_MS, HANGUP_CAUSE, MAX_CHARGE_AHEAD_MS, SLOW_CHARGE_GRACE_MS, type HangupReason } from '../src/charging.js';
import { MemoryLedger, RecordingDeadline, VirtualClock, flush } from './support.js';

const CALL = '3f0c8a5e-0000-4000-8000-000000000001';

/** The virtual clock starts on a whole second; FreeSWITCH's clock runs `switchOffsetMs` ahead of it. */
function setup(credit: number, options: { intervalDuration?: number; ringCheckMs?: number; switchOffsetMs?: number } = {}) {
  const clock = new VirtualClock();
  const ledger = new MemoryLedger();
  ledger.credit('acme', credit);
  const deadline = new RecordingDeadline(options.switchOffsetMs ?? 0);
  const session = new ChargingSession(ledger, {
    account: 'acme',
    call: CALL,
    intervalDuration: options.intervalDuration ?? 1,
    ringCheckMs: options.ringCheckMs ?? 10_000,
    clock,
    deadline,
  });
  const hangups: Array<{ reason: HangupReason; at: number; cause: string }> = [];
  session.on('hangup', (h: { reason: HangupReason; cause: string }) => hangups.push({ ...h, at: clock.now() }));
  const t0 = clock.now();
  /** An epoch second `ms` after the start, in FreeSWITCH's clock. */
  const second = (ms: number) => (t0 + (options.switchOffsetMs ?? 0) + ms) / 1000;
  return { clock, ledger, session, hangups, deadline, t0, second };
}

describe('ChargingSession: step 7, the balance check before bridging', () => {
  it('proceeds only while more than one interval remains', async () => {
    assert.equal(await setup(2).session.canProceed(), true);
    assert.equal(await setup(1).session.canProceed(), false);
    assert.equal(await setup(0).session.canProceed(), false);
    const failing = setup(10);
    failing.ledger.failRemaining = () => true;
    await assert.rejects(failing.session.canProceed());
  });
});

describe('ChargingSession: step 8, re-checks while ringing', () => {
  it('re-checks every ringCheckMs, and hangs up once not more than one interval is left', async () => {
    const { clock, ledger, session, hangups } = setup(5, { ringCheckMs: 10_000 });
    session.startRinging();
    const t0 = clock.now();
    await clock.advance(9_999);
    assert.equal(ledger.remainingCalls, 0);
    await clock.advance(1);
    assert.equal(ledger.remainingCalls, 1);
    await clock.advance(30_000);
    assert.equal(ledger.remainingCalls, 4);
    assert.equal(hangups.length, 0);
    // Another call spends the credit down to one interval: the next check cuts this one off.
    ledger.credits.set('acme', 1);
    await clock.advance(10_000);
    assert.deepEqual(hangups.map((h) => [h.reason, h.at - t0, h.cause]), [['insufficient-credit', 50_000, 'OUTGOING_CALL_BARRED']]);
    assert.equal(ledger.records.size, 0, 'ringing is never charged');
    await clock.advance(60_000);
    assert.equal(ledger.remainingCalls, 5, 'no more checks after the hangup request');
  });

  it('a database error while ringing hangs up (fail closed)', async () => {
    const { clock, ledger, session, hangups } = setup(5, { ringCheckMs: 100 });
    session.startRinging();
    ledger.failRemaining = () => true;
    await clock.advance(100);
    assert.deepEqual(hangups.map((h) => h.reason), ['database-error']);
    assert.equal(HANGUP_CAUSE['database-error'], 'NORMAL_TEMPORARY_FAILURE');
  });
});

describe('ChargingSession: step 9, charging from the answer', () => {
  it('reports how late each charge was against when it was due', async () => {
    const { clock, ledger, session } = setup(100, { intervalDuration: 6 });
    const late: Array<[number, number]> = [];
    session.on('charged', (c: { interval: number; lateMs: number }) => late.push([c.interval, c.lateMs]));
    ledger.holdRecords = true;
    session.answered();
    await clock.advance(30);
    ledger.holdRecords = false;
    ledger.release();
    await flush();
    await clock.advance(12_000);
    // Interval 1 waited 30 ms for the ledger; the next ones were charged when due.
    assert.deepEqual(late, [[1, 30], [2, 0], [3, 0]]);
    session.stop();
  });

  it('stops the ringing timer and charges interval 1 at once, then each when it starts', async () => {
    const { clock, ledger, session, hangups, t0 } = setup(100, { intervalDuration: 6, ringCheckMs: 10_000 });
    const charged: number[] = [];
    session.on('charged', (c: { interval: number }) => charged.push(c.interval));
    session.startRinging();
    await clock.advance(4_200);
    session.answered();
    await flush();
    assert.deepEqual(ledger.intervalsOf(CALL), [1]);
    assert.equal(session.state, 'charging');
    assert.equal(session.paidUntil, t0 + 10_200);
    await clock.advance(5_999);
    assert.deepEqual(ledger.intervalsOf(CALL), [1]);
    await clock.advance(1);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2]);
    await clock.advance(12_000);
    assert.deepEqual(charged, [1, 2, 3, 4]);
    // Each record is stamped with the start of the interval it pays for.
    const at = [...ledger.records.values()].map((r) => r.at!.getTime() - t0);
    assert.deepEqual(at, [4_200, 10_200, 16_200, 22_200]);
    assert.equal(hangups.length, 0);
    assert.equal(session.remaining, 96);
    const checksBefore = ledger.remainingCalls;
    session.stop();
    await clock.advance(60_000);
    assert.equal(ledger.recordCalls, 4);
    assert.equal(ledger.remainingCalls, checksBefore, 'no ringing check survives the answer');
    assert.equal(clock.pendingTimers, 0);
  });

  it("keeps FreeSWITCH's one scheduled hangup at the paid time, rounded up to its whole second", async () => {
    const { clock, session, deadline, second } = setup(100, { intervalDuration: 6, switchOffsetMs: 250 });
    await clock.advance(200);
    session.answered();
    await flush();
    // Paid until +6.2 s here, +6.45 s on FreeSWITCH's clock: its hangup at the next whole second.
    assert.deepEqual(deadline.scheduled, [Math.ceil(second(6_200))]);
    assert.equal(session.switchDeadline, Math.ceil(second(6_200)));
    await clock.advance(6_000);
    await clock.advance(6_000);
    assert.deepEqual(deadline.scheduled, [Math.ceil(second(6_200)), Math.ceil(second(12_200)), Math.ceil(second(18_200))]);
    session.stop();
  });

  it('an interval starting less than the lead before that second is charged ahead of it', async () => {
    const { clock, ledger, session, deadline, second } = setup(100, { intervalDuration: 1 });
    await clock.advance(700);
    session.answered();
    await flush();
    // Paid until +1.7 s: FreeSWITCH's hangup at +2 s; interval 2 is charged at +1.5 s, not +1.7 s.
    assert.deepEqual(deadline.scheduled, [second(2_000)]);
    await clock.advance(799);
    assert.deepEqual(ledger.intervalsOf(CALL), [1]);
    await clock.advance(1);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2]);
    assert.deepEqual(deadline.scheduled, [second(2_000), second(3_000)]);
    session.stop();
  });

  it('the spread of the lead puts the charges of many calls all over the second, never more than MAX_CHARGE_AHEAD_MS early', async () => {
    const clock = new VirtualClock();
    const ledger = new MemoryLedger();
    const t0 = clock.now();
    const charges: Array<{ startsAt: number; at: number; hangupAt: number }> = [];
    const sessions: ChargingSession[] = [];
    for (let i = 0; i < 200; i++) {
      const call = `3f0c8a5e-0000-4000-8000-${String(i).padStart(12, '0')}`;
      ledger.credit(call, 100);
      const deadline = new RecordingDeadline();
      const session = new ChargingSession(ledger, { account: call, call, intervalDuration: 1, clock, deadline, chargeSpreadMs: 1000 });
      const answeredAt = t0 + i * 5; // answers all over one second
      session.on('charged', (c: { interval: number }) => {
        // The hangup this charge has to move: the one set for the paid time before it.
        const hangupAt = (deadline.scheduled.at(-1) ?? Infinity) * 1000;
        charges.push({ startsAt: answeredAt + (c.interval - 1) * 1000, at: clock.now(), hangupAt });
      });
      sessions.push(session);
      clock.setTimeout(() => session.answered(), i * 5);
    }
    await clock.advance(6_000);
    for (const session of sessions) session.stop();
    const ahead = charges.slice(sessions.length); // interval 1 is charged at the answer
    assert.ok(ahead.length >= 900, `${ahead.length} charges after the first`);
    for (const c of ahead) {
      assert.ok(c.at <= c.startsAt, 'charged by the start of its interval');
      assert.ok(c.startsAt - c.at <= MAX_CHARGE_AHEAD_MS, `${c.startsAt - c.at} ms ahead`);
      assert.ok(c.hangupAt - c.at >= DEFAULT_RESCHEDULE_LEAD_MS, `${c.hangupAt - c.at} ms before the hangup`);
    }
    // Without the spread every charge would fall in the first half of a second (the lead is
    // 500 ms before the whole second); with it, each tenth of the second gets its share.
    const tenths = Array.from({ length: 10 }, () => 0);
    for (const c of ahead) tenths[Math.floor(((c.at - t0) % 1000) / 100)]!++;
    for (const n of tenths) assert.ok(n >= ahead.length / 20, `charges per tenth of a second: ${tenths.join(' ')}`);
  });

  it('intervals shorter than a second: the hangup moves once a second, never leaving the paid time', async () => {
    const { clock, ledger, session, deadline, t0 } = setup(1000, { intervalDuration: 0.1 });
    await clock.advance(30);
    session.answered();
    for (let ms = 0; ms < 5_000; ms += 10) {
      await clock.advance(10);
      const now = clock.now();
      const paidUntil = session.paidUntil!;
      assert.ok(paidUntil > now, `paid until ${paidUntil - t0} at ${now - t0}`);
      // The scheduled second is never before the paid time, and at most a second after it.
      const hangupAt = session.switchDeadline! * 1000;
      assert.ok(hangupAt >= paidUntil && hangupAt < paidUntil + 1000, `hangup ${hangupAt - t0} for paid ${paidUntil - t0}`);
      // Charged ahead by at most the lead and one interval.
      assert.ok(paidUntil - now <= 500 + 100 + 100, `${paidUntil - now} ms ahead`);
    }
    assert.equal(new Set(deadline.scheduled).size, deadline.scheduled.length, 'each second scheduled once');
    assert.ok(deadline.scheduled.length >= 5 && deadline.scheduled.length <= 7, `${deadline.scheduled.length} moves in 5 s`);
    // The call ends: what was charged ahead and never started goes back.
    const endedAt = clock.now();
    session.stop();
    const settled = await session.settle(endedAt);
    assert.ok(settled.givenBack >= 1, `${settled.givenBack} given back`);
    const started = Math.ceil((endedAt - (t0 + 30)) / 100);
    assert.deepEqual(ledger.intervalsOf(CALL), Array.from({ length: started }, (_, i) => i + 1));
    assert.equal(session.intervalsCharged, started);
  });

  it('cuts the call off exactly when the credit runs out, charging exactly the credit', async () => {
    const { clock, ledger, session, hangups, t0 } = setup(5, { intervalDuration: 1 });
    assert.equal(await session.canProceed(), true);
    session.startRinging();
    await clock.advance(200);
    session.answered();
    await clock.advance(4_999);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2, 3, 4, 5]);
    assert.equal(hangups.length, 0, 'the fifth interval is paid for: the call goes on until it ends');
    await clock.advance(1);
    assert.deepEqual(hangups.map((h) => [h.reason, h.at - t0, h.cause]), [['credit-exhausted', 5_200, 'ALLOTTED_TIMEOUT']]);
    assert.equal(await ledger.remaining('acme'), 0);
  });

  it('a charge refused ahead of time is tried again when its interval starts; a top-up lets the call go on', async () => {
    const cut = setup(2, { intervalDuration: 1 });
    await cut.clock.advance(700);
    cut.session.answered();
    await cut.clock.advance(1_800); // interval 3 refused at +2.5 s, ahead of its start at +2.7 s
    assert.equal(cut.hangups.length, 0);
    await cut.clock.advance(200);
    assert.deepEqual(cut.hangups.map((h) => [h.reason, h.at - cut.t0]), [['credit-exhausted', 2_700]], 'at the end of what it paid');

    const topped = setup(2, { intervalDuration: 1 });
    await topped.clock.advance(700);
    topped.session.answered();
    await topped.clock.advance(1_850);
    topped.ledger.credit('acme', 3);
    await topped.clock.advance(3_000);
    assert.equal(topped.hangups.length, 0);
    assert.deepEqual(topped.ledger.intervalsOf(CALL), [1, 2, 3, 4, 5]);
    await topped.clock.advance(1_000);
    assert.deepEqual(topped.hangups.map((h) => h.reason), ['credit-exhausted']);
  });

  it('concurrent calls on one account: the atomic ledger refuses what the credit does not cover', async () => {
    const { clock, ledger, session, hangups } = setup(3, { intervalDuration: 1 });
    await clock.advance(200);
    session.answered();
    await clock.advance(500);
    ledger.credits.set('acme', 1); // others spent it meanwhile
    await clock.advance(500);
    assert.deepEqual(ledger.intervalsOf(CALL), [1]);
    assert.deepEqual(hangups.map((h) => [h.reason, h.at]), [['credit-exhausted', clock.now()]]);
    assert.equal(await ledger.remaining('acme'), 0, 'never below zero');
  });

  it('a failed charge hangs up at the end of the paid time (fail closed)', async () => {
    const { clock, ledger, session, hangups, t0 } = setup(10);
    ledger.failRecord = (r) => r.interval === 3;
    await clock.advance(200);
    session.answered();
    await clock.advance(2_000);
    assert.deepEqual(hangups.map((h) => [h.reason, h.at - t0]), [['database-error', 2_200]]);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2]);
  });

  it("a database that stops answering: cut off when FreeSWITCH's scheduled hangup is due", async () => {
    const { clock, ledger, session, hangups, t0 } = setup(10);
    await clock.advance(200);
    session.answered();
    await clock.advance(1_500);
    ledger.holdRecords = true;
    await clock.advance(2_000);
    // Paid until +2.2 s: the switch's hangup is at +3 s, and so is ours.
    assert.deepEqual(hangups.map((h) => [h.reason, h.at - t0]), [['database-error', 3_000]]);
    ledger.release();
    await session.whenIdle();
  });

  it('without a switch deadline, a database that stops answering is cut off SLOW_CHARGE_GRACE_MS after the paid time', async () => {
    const clock = new VirtualClock();
    const ledger = new MemoryLedger();
    ledger.credit('acme', 10);
    const session = new ChargingSession(ledger, { account: 'acme', call: CALL, intervalDuration: 1, clock });
    const hangups: number[] = [];
    session.on('hangup', () => hangups.push(clock.now()));
    const t0 = clock.now();
    session.answered();
    await clock.advance(500);
    ledger.holdRecords = true;
    await clock.advance(3_000);
    assert.deepEqual(hangups.map((at) => at - t0), [1_000 + SLOW_CHARGE_GRACE_MS]);
    ledger.release();
    await session.whenIdle();
  });

  it('a hangup that cannot be moved stays where it was (the call ends early, never late)', async () => {
    const { clock, session, deadline, second } = setup(10);
    const errors: Error[] = [];
    session.on('deadline-error', (err: Error) => errors.push(err));
    await clock.advance(200);
    session.answered();
    await flush();
    deadline.fail = true;
    await clock.advance(1_000);
    assert.equal(errors.length, 1);
    assert.equal(session.switchDeadline, second(2_000), 'the last one FreeSWITCH has');
    session.stop();
  });
});

describe('ChargingSession: step 10, hangup stops everything', () => {
  it('stop() cancels the timers; an answer still in flight counts the interval it charged', async () => {
    const { clock, ledger, session, hangups } = setup(10);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const realCharge = ledger.chargeInterval.bind(ledger);
    ledger.chargeInterval = async (input) => {
      if (input.interval === 2) await gate;
      return realCharge(input);
    };
    await clock.advance(200);
    session.answered();
    await clock.advance(1_000); // interval 2 is being written
    session.stop();
    release();
    await session.whenIdle();
    await clock.advance(10_000);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2], 'the interval that had started is still charged');
    assert.equal(session.intervalsCharged, 2);
    assert.equal(clock.pendingTimers, 0);
    assert.equal(hangups.length, 0);
  });

  it('stop() while ringing cancels the ringing timer', async () => {
    const { clock, ledger, session } = setup(10, { ringCheckMs: 100 });
    session.startRinging();
    session.stop();
    await clock.advance(1_000);
    assert.equal(ledger.remainingCalls, 0);
    assert.equal(clock.pendingTimers, 0);
    session.answered();
    await clock.advance(1_000);
    assert.equal(ledger.recordCalls, 0, 'an answer after the hangup charges nothing');
  });

  it('gives back the intervals charged ahead that the call never reached', async () => {
    const { clock, ledger, session, t0 } = setup(10);
    await clock.advance(700);
    session.answered();
    await clock.advance(800); // +1.5 s: interval 2 charged ahead of its start at +1.7 s
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2]);
    session.stop();
    assert.deepEqual(await session.settle(t0 + 1_550), { charged: 0, givenBack: 1 });
    assert.deepEqual(ledger.intervalsOf(CALL), [1]);
    assert.equal(session.intervalsCharged, 1);
    assert.deepEqual(await session.settle(t0 + 1_550), { charged: 0, givenBack: 0 }, 'once');
    assert.deepEqual(await session.settle(t0 + 9_000), { charged: 0, givenBack: 0 }, 'once, whatever the end');
  });

  it('charges the intervals that started before the end but whose timer came late', async () => {
    const { clock, ledger, session, t0 } = setup(3);
    await clock.advance(200);
    session.answered();
    await flush();
    session.stop(); // as if the timers of intervals 2.. never ran
    assert.deepEqual(await session.settle(t0 + 200 + 3_400), { charged: 2, givenBack: 0 }, 'intervals 2 and 3; 4 is beyond the credit');
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2, 3]);
  });
});

describe('ChargingSession: taking over a call after a restart', () => {
  it('charges every interval started since, skips what was charged, then goes on', async () => {
    const { clock, ledger, session, hangups } = setup(20, { intervalDuration: 1 });
    const firstIntervalAt = clock.now() - 3_700; // interval 4 is in progress, paid until +0.3 s once charged
    for (const interval of [1, 2]) {
      await ledger.chargeInterval({ account: 'acme', call: CALL, interval, intervalDuration: 1, at: new Date(firstIntervalAt + (interval - 1) * 1000) });
    }
    const writesBefore = ledger.recordCalls;
    session.resume(firstIntervalAt, [1, 2]);
    await clock.advance(0);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2, 3, 4]);
    assert.equal(ledger.recordCalls - writesBefore, 2, 'intervals already charged are not charged again');
    await clock.advance(299);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2, 3, 4]);
    await clock.advance(1);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2, 3, 4, 5], 'the schedule keeps the original answer time');
    assert.equal(await ledger.remaining('acme'), 15);
    assert.equal(hangups.length, 0);
    session.stop();
  });

  it('a call whose bridge ended meanwhile: charged up to the scheduled hangup of its paid time, and no further', async () => {
    const { clock, ledger, session } = setup(20, { intervalDuration: 0.25 });
    // Interval 1 started 10 s ago and 2 were charged: paid until -9.5 s, FreeSWITCH's hangup at -9 s.
    const firstIntervalAt = clock.now() - 10_000;
    const charged = await session.catchUpOnly(firstIntervalAt, [1, 2]);
    assert.equal(charged, 4, 'the intervals started before the hangup at -9 s');
    assert.deepEqual(ledger.intervalsOf(CALL), [3, 4]);
    assert.equal(session.state, 'stopped');
  });
});
