/**
 * The call-flow tests, run once per storage mode (flow-embedded.test.ts, flow-http.test.ts).
 * Intervals are 100 ms and the ringing re-check 50 ms, so a whole call takes well under a second.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'freeswitch-esl';
import { COUCH_CHARGE_SPREAD_MS, DEFAULT_CHARGE_SPREAD_MS } from '../src/charging.js';
import { Harness, type HarnessOptions, type StorageMode } from './harness.js';
import type { CallReport } from '../src/prepaid-server.js';

const INTERVAL = 0.1;
const TALK = (ms: number) => `sim/2000/answer-after-40/hangup-after-${ms}`;

export function defineFlowTests(mode: StorageMode): void {
  async function start(t: TestContext, options: Partial<HarnessOptions> = {}): Promise<Harness> {
    const h = await Harness.start({
      mode,
      ringCheckMs: 50,
      accounts: [
        { account: 'acme', intervalDuration: INTERVAL, credit: 20 },
        { account: 'short', intervalDuration: INTERVAL, credit: 4 },
        { account: 'one', intervalDuration: INTERVAL, credit: 1 },
        { account: 'two', intervalDuration: INTERVAL, credit: 2 },
      ],
      ...options,
    });
    t.after(() => h.stop());
    return h;
  }

  /**
   * Calls to `destination` reach the prepaid socket already answered: a first socket session
   * answers them and lets the dialplan go on to the prepaid server's socket.
   */
  async function answeredOnArrival(t: TestContext, h: Harness, destination: string): Promise<void> {
    const answerer = createServer(async (call) => {
      await call.execute('answer');
    });
    const { port } = await answerer.listen({ host: '127.0.0.1', port: 0 });
    t.after(() => answerer.destroy());
    h.sim.setDialplan(destination, { socket: `127.0.0.1:${port} async full`, actions: [['socket', h.socketArg]] });
  }

  /** The intervals charged to a call (net of any given back), checked to be 1..n with no gap. */
  async function recorded(h: Harness, uuid: string): Promise<number> {
    const { charged } = await h.store.callIntervals(h.accountOfCall(uuid), uuid);
    for (const r of charged) {
      assert.equal(r.type, 'interval_record');
      assert.equal(r.intervals, -1);
      assert.equal(r.call, uuid);
    }
    const numbers = await h.intervalsOf(uuid);
    assert.deepEqual(numbers, numbers.map((_, i) => i + 1), 'interval records run 1..n without gaps');
    return numbers.length;
  }

  /** After a call ended nothing more may happen to it: wait a few intervals and look again. */
  async function assertQuietAfter(h: Harness, uuid: string): Promise<void> {
    const before = (await h.intervalsOf(uuid)).length;
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL * 1000));
    assert.equal((await h.intervalsOf(uuid)).length, before, 'no interval is charged after the end');
    assert.equal(h.server.activeCalls, 0);
  }

  const exitAfterLinger = (cmds: string[]) => cmds.at(-1) === 'exit';

  describe(`prepaid call flow, every step (${mode} storage)`, () => {
    it('a call within its credit: steps 1-10 in order, charged per started interval', async (t) => {
      const h = await start(t);
      const target = TALK(330);
      const { uuid, end } = await h.placeCall({ account: 'acme', target });
      const report = await end;
      assert.equal(report.outcome, 'completed');
      assert.equal(report.account, 'acme', 'step 1: account from variable_ccnq_account');
      assert.equal(report.target, target, 'step 1: target from variable_target');
      assert.equal(report.intervalDuration, INTERVAL, 'step 5: interval_duration from the account');
      const [cmds, ...others] = h.commandsFor(uuid);
      assert.equal(others.length, 0);
      assert.deepEqual(cmds!.slice(0, 6), [
        'connect',
        'linger',
        `filter Unique-ID ${uuid}`,
        'event json ALL',
        // FreeSWITCH ends interval 1 by itself if nobody charges on (whole seconds: +2 covers 0.1 s).
        'sendmsg execute set execute_on_answer=sched_hangup +2 ALLOTTED_TIMEOUT',
        `sendmsg execute bridge ${target}`,
      ]);
      // After each charge the one scheduled hangup moves: sched_del, then sched_hangup at a whole second.
      const sched = cmds!.filter((c) => c.startsWith('api sched_'));
      assert.ok(sched.length >= 2, sched.join(' | '));
      for (let i = 0; i < sched.length; i += 2) {
        assert.equal(sched[i], `api sched_del ${uuid}`);
        assert.match(sched[i + 1] ?? '', new RegExp(`^api sched_hangup \\d{10} ${uuid} ALLOTTED_TIMEOUT$`));
      }
      assert.ok(cmds!.includes('sendmsg hangup NORMAL_CLEARING'), 'the caller leg is hung up after the far end left');
      // Step 2: lingering, the session ends on the linger notice with `exit`.
      assert.equal(report.sessionEnd, 'linger');
      assert.ok(exitAfterLinger(cmds!), `exit last: ${cmds!.join(' | ')}`);
      // Step 9: one interval per started interval of talk time.
      const n = await recorded(h, uuid);
      const talkMs = report.endedAt!.getTime() - report.answeredAt!.getTime();
      // (Timer and database lag on a loaded machine can only make the count smaller, never larger.)
      assert.ok(n >= 1 && n <= Math.ceil(talkMs / 100) + 1, `${n} intervals for ${talkMs} ms of talk`);
      assert.equal(report.intervalsCharged, n);
      assert.equal(await h.store.remaining('acme'), 20 - n);
      assert.equal(report.remaining, 20 - n);
      // Step 10: stopped with the hangup.
      await assertQuietAfter(h, uuid);
      // Every log line about the call carries its uuid; none carries the CouchDB password.
      const lines = h.logs.filter((r) => !/listening|closing|closed/.test(r.message));
      assert.ok(lines.length > 5);
      for (const r of lines) assert.equal(r.fields['call'], uuid, r.message);
      for (const r of h.logs) assert.doesNotMatch(r.message, /s3cret-pw/);
      assert.equal(h.logLines(uuid).length, lines.length);
    });

    it("the lead's spread defaults to a whole second embedded, less with a CouchDB server", async (t) => {
      const h = await start(t);
      assert.equal(h.store.remote, mode === 'http');
      assert.equal(h.server.chargeSpreadMs, mode === 'http' ? COUCH_CHARGE_SPREAD_MS : DEFAULT_CHARGE_SPREAD_MS);
      assert.ok(COUCH_CHARGE_SPREAD_MS < DEFAULT_CHARGE_SPREAD_MS);
    });

    it('step 4: an unknown or missing account is hung up (CALL_REJECTED) before anything else', async (t) => {
      const h = await start(t);
      for (const account of ['nobody', undefined, 'not a valid name']) {
        const { uuid, end } = await h.placeCall({ account, target: TALK(1000) });
        const report = await end;
        assert.equal(report.outcome, 'unknown-account');
        assert.equal(report.hangupRequested, 'CALL_REJECTED');
        assert.deepEqual(h.commandsFor(uuid)[0]!.slice(0, 2), ['connect', 'sendmsg hangup CALL_REJECTED']);
        assert.equal(report.intervalsCharged, 0);
        assert.equal(h.sim.getChannel(uuid)?.state ?? 'CS_DESTROY', 'CS_DESTROY');
      }
    });

    it('step 7: proceeds only while more than one interval remains', async (t) => {
      const h = await start(t);
      const poor = await h.placeCall({ account: 'one', target: TALK(1000) });
      const report = await poor.end;
      assert.equal(report.outcome, 'no-credit');
      assert.equal(report.hangupRequested, 'OUTGOING_CALL_BARRED');
      const cmds = h.commandsFor(poor.uuid)[0]!;
      assert.ok(!cmds.some((c) => c.startsWith('sendmsg execute bridge')), 'never bridged');
      assert.ok(cmds.includes('event json ALL'), 'step 6 came before the check');
      assert.equal(await h.store.remaining('one'), 1);

      const enough = await h.placeCall({ account: 'two', target: TALK(1000) });
      const cut = await enough.end;
      assert.ok(h.commandsFor(enough.uuid)[0]!.includes(`sendmsg execute bridge ${TALK(1000)}`), 'two intervals: bridged');
      assert.equal(cut.outcome, 'cut-off');
      assert.equal(await recorded(h, enough.uuid), 2);
    });

    it('a call is cut off exactly when its credit runs out', async (t) => {
      const h = await start(t);
      const { uuid, end } = await h.placeCall({ account: 'short', target: TALK(5000) });
      const report = await end;
      assert.equal(report.outcome, 'cut-off');
      assert.equal(report.hangupRequested, 'ALLOTTED_TIMEOUT');
      assert.equal(report.hangupCause, 'ALLOTTED_TIMEOUT');
      assert.equal(await recorded(h, uuid), 4, 'exactly the credit, no interval more');
      assert.equal(await h.store.remaining('short'), 0);
      // Cut when the fourth paid interval ended, not before.
      const talkMs = report.endedAt!.getTime() - report.answeredAt!.getTime();
      assert.ok(talkMs >= 4 * 100 - 5, `talked ${talkMs} ms of 400 paid`);
      assert.ok(h.commandsFor(uuid)[0]!.includes('sendmsg hangup ALLOTTED_TIMEOUT'));
      await assertQuietAfter(h, uuid);
    });

    it('step 8: while the answer never comes the balance is re-checked; nothing is charged', async (t) => {
      const h = await start(t);
      // originate_timeout 1 s, scaled by the simulator's timeScale 0.25: NO_ANSWER after 250 ms.
      const target = '{originate_timeout=1}sim/2000/no-answer';
      const { uuid, end } = await h.placeCall({ account: 'acme', target });
      const report = await end;
      assert.equal(report.outcome, 'not-answered');
      const ringingChecks = h.logLines(uuid).filter((l) => l.includes('(ringing)')).length;
      assert.ok(ringingChecks >= 2, `${ringingChecks} re-checks while ringing`);
      assert.equal(await recorded(h, uuid), 0);
      assert.equal(await h.store.remaining('acme'), 20);
      await assertQuietAfter(h, uuid);
    });

    it('step 8: a re-check while ringing hangs up once the credit was spent elsewhere', async (t) => {
      const h = await start(t);
      const { uuid, end } = await h.placeCall({ account: 'acme', target: 'sim/2000/answer-after-800' });
      await h.when(uuid, (r) => r.phase === 'ringing');
      for (let i = 1; i <= 19; i++) {
        await h.store.chargeInterval({ account: 'acme', call: 'other-call', interval: i, intervalDuration: INTERVAL });
      }
      const report = await end;
      assert.equal(report.outcome, 'no-credit');
      assert.equal(report.hangupRequested, 'OUTGOING_CALL_BARRED');
      assert.equal(report.answeredAt, undefined);
      assert.equal(await recorded(h, uuid), 0);
    });

    it('a busy far end ends the call without a charge', async (t) => {
      const h = await start(t);
      const { uuid, end } = await h.placeCall({ account: 'acme', target: 'sim/2000/busy' });
      const report = await end;
      assert.equal(report.outcome, 'not-answered');
      assert.equal(report.hangupCause, 'USER_BUSY');
      assert.equal(await recorded(h, uuid), 0);
    });
  });

  describe(`prepaid: hangup at every stage (${mode} storage)`, () => {
    const abandoned = async (h: Harness, uuid: string, report: CallReport) => {
      assert.equal(report.outcome, 'abandoned');
      assert.equal(report.intervalsCharged, 0);
      assert.equal(await recorded(h, uuid), 0);
      await assertQuietAfter(h, uuid);
    };

    it('while the database is being checked (step 3)', async (t) => {
      const h = await start(t);
      h.faults.delay('ping', 150);
      const { uuid, end } = await h.placeCall({ account: 'acme', target: TALK(1000), hangupAfterMs: 40 });
      const report = await end;
      await abandoned(h, uuid, report);
      assert.deepEqual(h.commandsFor(uuid)[0], ['connect'], 'nothing sent to a channel that is gone');
    });

    it('while the account loads (step 4)', async (t) => {
      const h = await start(t);
      h.faults.delay('account', 150);
      const { uuid, end } = await h.placeCall({ account: 'acme', target: TALK(1000), hangupAfterMs: 40 });
      await abandoned(h, uuid, await end);
      assert.deepEqual(h.commandsFor(uuid)[0], ['connect']);
    });

    it('during the balance check (step 7)', async (t) => {
      const h = await start(t);
      h.faults.delay('balance', 150);
      const { uuid, end } = await h.placeCall({ account: 'acme', target: TALK(1000), hangupAfterMs: 60 });
      await abandoned(h, uuid, await end);
      assert.ok(!h.commandsFor(uuid)[0]!.some((c) => c.includes('bridge')));
    });

    it('while ringing (step 8)', async (t) => {
      const h = await start(t);
      const { uuid, end } = await h.placeCall({ account: 'acme', target: 'sim/2000/answer-after-1500' });
      await h.when(uuid, (r) => r.phase === 'ringing');
      await new Promise((resolve) => setTimeout(resolve, 50));
      h.sim.hangup(uuid, 'NORMAL_CLEARING');
      await abandoned(h, uuid, await end);
      assert.ok(h.commandsFor(uuid)[0]!.some((c) => c.startsWith('sendmsg execute bridge')));
    });

    it('while talking (step 9), by the caller', async (t) => {
      const h = await start(t);
      const { uuid, end } = await h.placeCall({ account: 'acme', target: 'sim/2000/answer-after-40' });
      await h.talkedFor(uuid, 2.5 * INTERVAL * 1000);
      h.sim.hangup(uuid, 'NORMAL_CLEARING');
      const report = await end;
      assert.equal(report.outcome, 'completed');
      const n = await recorded(h, uuid);
      assert.ok(n >= 2, `${n} intervals`);
      assert.equal(report.intervalsCharged, n);
      assert.equal(await h.store.remaining('acme'), 20 - n);
      await assertQuietAfter(h, uuid);
    });
  });

  describe(`prepaid: database down at every stage, always fail closed (${mode} storage)`, () => {
    it('unreachable when the call arrives (step 3): bgapi uuid_kill', async (t) => {
      const h = await start(t);
      await h.dbDown();
      const { uuid, end } = await h.placeCall({ account: 'acme', target: TALK(1000) });
      const report = await end;
      assert.equal(report.outcome, 'database-down');
      const cmds = h.commandsFor(uuid)[0]!;
      assert.ok(cmds.includes(`bgapi uuid_kill ${uuid}`), cmds.join(' | '));
      assert.ok(!cmds.includes('linger'));
      assert.equal(h.sim.getChannel(uuid)?.state ?? 'CS_DESTROY', 'CS_DESTROY');
      await h.dbUp();
      const again = await h.placeCall({ account: 'acme', target: TALK(150) });
      assert.equal((await again.end).outcome, 'completed', 'back to normal once the database is');
    });

    describe('step 3 resting on an answer the database just gave (the default)', () => {
      const recent = { server: { reachableWithinMs: 60_000 } };

      it('a call arriving just after an answer sends no ping', async (t) => {
        const h = await start(t, recent);
        await h.store.remaining('acme');
        h.faults.seen.length = 0;
        const { end } = await h.placeCall({ account: 'acme', target: TALK(150) });
        assert.equal((await end).outcome, 'completed');
        assert.ok(!h.faults.seen.includes('ping'), `operations: ${h.faults.seen.join(' ')}`);
        assert.ok(h.faults.seen.includes('account'));
      });

      it('the database gone since: the account read fails, a ping confirms it, the call is killed', async (t) => {
        const h = await start(t, recent);
        await h.store.remaining('acme');
        await h.dbDown();
        const { uuid, end } = await h.placeCall({ account: 'acme', target: TALK(1000) });
        assert.equal((await end).outcome, 'database-down');
        const cmds = h.commandsFor(uuid)[0]!;
        assert.ok(cmds.includes(`bgapi uuid_kill ${uuid}`), cmds.join(' | '));
        assert.ok(!cmds.includes('linger'));
        await h.dbUp();
        const again = await h.placeCall({ account: 'acme', target: TALK(150) });
        assert.equal((await again.end).outcome, 'completed');
      });

      it('the account read failing while the database answers a ping: hung up, as after a ping', async (t) => {
        const h = await start(t, recent);
        await h.store.remaining('acme');
        h.faults.seen.length = 0;
        h.faults.fail('account');
        const { uuid, end } = await h.placeCall({ account: 'acme', target: TALK(1000) });
        assert.equal((await end).outcome, 'database-error');
        assert.deepEqual(h.commandsFor(uuid)[0]!.slice(0, 2), ['connect', 'sendmsg hangup NORMAL_TEMPORARY_FAILURE']);
        assert.deepEqual(h.faults.seen.slice(0, 2), ['account', 'ping']);
      });
    });

    it('failing while the account loads (step 4)', async (t) => {
      const h = await start(t);
      h.faults.fail('account');
      const { uuid, end } = await h.placeCall({ account: 'acme', target: TALK(1000) });
      const report = await end;
      assert.equal(report.outcome, 'database-error');
      assert.deepEqual(h.commandsFor(uuid)[0]!.slice(0, 2), ['connect', 'sendmsg hangup NORMAL_TEMPORARY_FAILURE']);
    });

    it("failing while the earlier records of a call that arrives answered are read", async (t) => {
      const h = await start(t);
      await answeredOnArrival(t, h, '7100');
      h.faults.fail('records');
      const { uuid, end } = await h.placeCall({ account: 'acme', target: TALK(1000), destination: '7100' });
      assert.equal((await end).outcome, 'database-error');
      assert.ok(!h.commandsFor(uuid)[0]!.some((c) => c.includes('bridge')));
    });

    it('a call that reaches the socket unanswered is not looked up (it cannot have been charged); one that arrives answered is', async (t) => {
      const h = await start(t);
      const fresh = await h.placeCall({ account: 'acme', target: TALK(150) });
      assert.equal((await fresh.end).outcome, 'completed');
      assert.ok(!h.faults.seen.includes('records'), `operations: ${h.faults.seen.join(' ')}`);
      await answeredOnArrival(t, h, '7100');
      const answered = await h.placeCall({ account: 'acme', target: TALK(150), destination: '7100' });
      assert.equal((await answered.end).outcome, 'completed');
      assert.ok(h.faults.seen.includes('records'));
    });

    it('failing at the balance check (step 7)', async (t) => {
      const h = await start(t);
      h.faults.fail('balance');
      const { uuid, end } = await h.placeCall({ account: 'acme', target: TALK(1000) });
      const report = await end;
      assert.equal(report.outcome, 'database-error');
      assert.equal(report.hangupRequested, 'NORMAL_TEMPORARY_FAILURE');
      assert.ok(!h.commandsFor(uuid)[0]!.some((c) => c.includes('bridge')));
    });

    it('going down while ringing (step 8)', async (t) => {
      const h = await start(t);
      const { uuid, end } = await h.placeCall({ account: 'acme', target: 'sim/2000/answer-after-800' });
      await h.when(uuid, (r) => r.phase === 'ringing');
      await h.dbDown();
      const report = await end;
      assert.equal(report.outcome, 'database-error');
      assert.equal(report.answeredAt, undefined);
      await h.dbUp();
      assert.equal(await recorded(h, uuid), 0);
    });

    it('going down while talking (step 9): the next interval cannot be charged, so the call ends', async (t) => {
      const h = await start(t);
      const { uuid, end } = await h.placeCall({ account: 'acme', target: 'sim/2000/answer-after-40' });
      await h.talkedFor(uuid, 2.5 * INTERVAL * 1000);
      await h.dbDown();
      const report = await end;
      assert.equal(report.outcome, 'database-error');
      assert.equal(report.hangupCause, 'NORMAL_TEMPORARY_FAILURE');
      await h.dbUp();
      const n = await recorded(h, uuid);
      assert.ok(n >= 2);
      assert.equal(await h.store.remaining('acme'), 20 - n, 'no record lost, none doubled');
    });

    it('a database that stops answering while talking: the operation bound hangs up', async (t) => {
      const h = await start(t, { opTimeoutMs: 1000 });
      const { uuid, end } = await h.placeCall({ account: 'acme', target: 'sim/2000/answer-after-40' });
      await h.talkedFor(uuid, 2.5 * INTERVAL * 1000);
      h.faults.hang('record');
      h.faults.hang('balance');
      const report = await end;
      assert.equal(report.outcome, 'database-error');
      h.faults.clear();
      assert.ok((await recorded(h, uuid)) >= 2);
    });
  });
}
