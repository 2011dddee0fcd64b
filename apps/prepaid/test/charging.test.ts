import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChargingSession, HANGUP_CAUSE, type HangupReason } from '../src/charging.js';
import { MemoryLedger, VirtualClock, flush } from './support.js';

const CALL = '3f0c8a5e-0000-4000-8000-000000000001';

function setup(credit: number, options: { intervalDuration?: number; ringCheckMs?: number } = {}) {
  const clock = new VirtualClock();
  const ledger = new MemoryLedger();
  ledger.credit('acme', credit);
  const session = new ChargingSession(ledger, {
    account: 'acme',
    call: CALL,
    intervalDuration: options.intervalDuration ?? 1,
    ringCheckMs: options.ringCheckMs ?? 10_000,
    clock,
  });
  const hangups: Array<{ reason: HangupReason; at: number; cause: string }> = [];
  session.on('hangup', (h: { reason: HangupReason; cause: string }) => hangups.push({ ...h, at: clock.now() }));
  return { clock, ledger, session, hangups };
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
  it('stops the ringing timer and records interval 1 at once, then one per interval', async () => {
    const { clock, ledger, session, hangups } = setup(100, { intervalDuration: 6, ringCheckMs: 10_000 });
    const charged: number[] = [];
    session.on('charged', (c: { interval: number }) => charged.push(c.interval));
    session.startRinging();
    await clock.advance(4_000);
    const answerAt = clock.now();
    session.answered();
    await flush();
    assert.deepEqual(ledger.intervalsOf(CALL), [1]);
    assert.equal(session.state, 'charging');
    await clock.advance(5_999);
    assert.deepEqual(ledger.intervalsOf(CALL), [1]);
    await clock.advance(1);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2]);
    await clock.advance(12_000);
    assert.deepEqual(charged, [1, 2, 3, 4]);
    // Each record is stamped with the start of the interval it pays for.
    const at = [...ledger.records.values()].map((r) => r.at!.getTime() - answerAt);
    assert.deepEqual(at, [0, 6000, 12000, 18000]);
    assert.equal(hangups.length, 0);
    assert.equal(session.remaining, 96);
    const checksBefore = ledger.remainingCalls;
    session.stop();
    await clock.advance(60_000);
    assert.equal(ledger.recordCalls, 4);
    assert.equal(ledger.remainingCalls, checksBefore, 'no ringing check survives the answer');
  });

  it('cuts the call off exactly when the credit runs out, charging exactly the credit', async () => {
    const { clock, ledger, session, hangups } = setup(5, { intervalDuration: 1 });
    assert.equal(await session.canProceed(), true);
    session.startRinging();
    const answerAt = clock.now();
    session.answered();
    await clock.advance(4_999);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2, 3, 4, 5]);
    assert.equal(hangups.length, 0, 'the fifth interval is paid for: the call goes on until it ends');
    await clock.advance(1);
    assert.deepEqual(hangups.map((h) => [h.reason, h.at - answerAt, h.cause]), [['credit-exhausted', 5_000, 'ALLOTTED_TIMEOUT']]);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2, 3, 4, 5]);
    assert.equal(await ledger.remaining('acme'), 0);
  });

  it('credit added during the last paid interval lets the call go on', async () => {
    const { clock, ledger, session, hangups } = setup(2, { intervalDuration: 1 });
    session.answered();
    await clock.advance(1_500);
    assert.equal(session.remaining, 0);
    ledger.credit('acme', 3);
    await clock.advance(3_000);
    assert.equal(hangups.length, 0);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2, 3, 4, 5]);
    await clock.advance(1_000);
    assert.deepEqual(hangups.map((h) => h.reason), ['credit-exhausted']);
  });

  it('a balance below zero after a record (a concurrent call won the race) hangs up at once', async () => {
    const { clock, ledger, session, hangups } = setup(3, { intervalDuration: 1 });
    session.answered();
    await clock.advance(500);
    ledger.credits.set('acme', 1); // others spent it meanwhile
    await clock.advance(500);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2]);
    assert.deepEqual(hangups.map((h) => [h.reason, h.at]), [['credit-exhausted', clock.now()]]);
    assert.equal(await ledger.remaining('acme'), -1, 'over by at most the one interval just recorded');
  });

  it('a failed record or balance read hangs up (fail closed)', async () => {
    const a = setup(10);
    a.ledger.failRecord = (r) => r.interval === 3;
    a.session.answered();
    await a.clock.advance(2_000);
    assert.deepEqual(a.hangups.map((h) => h.reason), ['database-error']);
    assert.deepEqual(a.ledger.intervalsOf(CALL), [1, 2]);

    const b = setup(10);
    b.ledger.failRemaining = () => true;
    b.session.answered();
    await b.clock.advance(0);
    assert.deepEqual(b.hangups.map((h) => h.reason), ['database-error']);
  });
});

describe('ChargingSession: step 10, hangup stops everything', () => {
  it('stop() cancels the timers and ignores answers still in flight', async () => {
    const { clock, ledger, session, hangups } = setup(10);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const realRecord = ledger.recordInterval.bind(ledger);
    ledger.recordInterval = async (input) => {
      if (input.interval === 2) await gate;
      return realRecord(input);
    };
    session.answered();
    await clock.advance(1_000); // interval 2 is being written
    session.stop();
    release();
    await session.whenIdle();
    await clock.advance(10_000);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2], 'the interval that had started is still charged');
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
});

describe('ChargingSession: taking over a call after a restart', () => {
  it('charges every interval started since, skips what was written, then goes on', async () => {
    const { clock, ledger, session, hangups } = setup(20, { intervalDuration: 1 });
    const firstIntervalAt = clock.now() - 3_500; // interval 4 is in progress
    for (const interval of [1, 2]) {
      await ledger.recordInterval({ account: 'acme', call: CALL, interval, intervalDuration: 1, at: new Date(firstIntervalAt + (interval - 1) * 1000) });
    }
    const writesBefore = ledger.recordCalls;
    session.resume(firstIntervalAt, [1, 2]);
    await flush();
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2, 3, 4]);
    assert.equal(ledger.recordCalls - writesBefore, 2, 'intervals already written are not written again');
    await clock.advance(499);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2, 3, 4]);
    await clock.advance(1);
    assert.deepEqual(ledger.intervalsOf(CALL), [1, 2, 3, 4, 5], 'the schedule keeps the original answer time');
    assert.equal(await ledger.remaining('acme'), 15);
    assert.equal(hangups.length, 0);
    session.stop();
  });
});
