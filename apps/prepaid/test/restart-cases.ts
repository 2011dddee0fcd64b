/**
 * Server restarts in the middle of a call. FreeSWITCH keeps a bridge going when the socket drops
 * and runs the next dialplan step when it ends; the test dialplan runs `socket` to the prepaid
 * server again there, as a production dialplan would to get the rest of the call charged.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CHARGE_AHEAD_MS } from '../src/charging.js';
import { Harness, type StorageMode } from './harness.js';

const CREDIT = 100;

export function defineRestartTests(mode: StorageMode): void {
  async function start(t: { after: (fn: () => Promise<void>) => void }): Promise<Harness> {
    const h = await Harness.start({ mode, ringCheckMs: 50, accounts: [{ account: 'acme', intervalDuration: 0.1, credit: CREDIT }] });
    t.after(() => h.stop());
    // The channel comes back to the prepaid socket when the first socket session is over.
    h.sim.setDialplan('7000', { socket: h.socketArg, actions: [['socket', h.socketArg]] });
    return h;
  }

  async function intervals(h: Harness, uuid: string): Promise<number[]> {
    return h.intervalsOf(uuid);
  }

  describe(`prepaid: server restart mid-call (${mode} storage)`, () => {
    it('a crash mid-call: the restarted server charges the rest, loses no record, doubles none', async (t) => {
      const h = await start(t);
      const { uuid, end: firstEnd } = await h.placeCall({
        account: 'acme',
        target: 'sim/2000/answer-after-40/hangup-after-30000',
        destination: '7000',
      });
      const answered = await h.talkedFor(uuid, 350);
      // Crash at a moment FreeSWITCH's scheduled hangup is still 400 ms away, so the far end can
      // hang up first (below) and the channel comes back to the socket.
      await h.when(uuid, (r) => r.switchDeadline !== undefined && r.switchDeadline * 1000 - Date.now() > 400);
      // Crash: every socket dropped, the database handle abandoned, nothing written on the way out.
      const oldStore = h.store;
      const startedAtCrash = Math.floor((Date.now() - answered.answeredAt!.getTime()) / 100) + 1;
      await h.server.destroy();
      assert.equal((await firstEnd).outcome, 'socket-lost');
      await oldStore.close();
      // Restart on the same address and the same data.
      h.store = await h.openStore();
      h.forget(uuid);
      const secondEnd = h.endOf(uuid);
      await h.startServer(h.store);
      // The far end hangs up while the call is not being charged.
      const farEnd = h.sim.getChannel(uuid)?.bridgedTo;
      assert.ok(farEnd, 'still bridged');
      h.sim.hangup(farEnd);
      const second = await secondEnd;
      assert.equal(second.resumed, true);
      assert.equal(second.outcome, 'taken-over-ended');
      const numbers = await intervals(h, uuid);
      assert.deepEqual(numbers, numbers.map((_, i) => i + 1), 'no interval missing, none twice');
      assert.ok(numbers.length >= startedAtCrash, `the time up to the crash and after it was charged (${startedAtCrash} -> ${numbers.length})`);
      const talkMs = second.endedAt!.getTime() - answered.answeredAt!.getTime();
      // After a crash the intervals the first server charged ahead (up to its lead and this
      // call's share of the spread of that lead, at most MAX_CHARGE_AHEAD_MS) stay charged.
      const ahead = Math.min(h.server.rescheduleLeadMs + h.server.chargeSpreadMs, MAX_CHARGE_AHEAD_MS) + 100;
      assert.ok(numbers.length <= Math.ceil((talkMs + ahead) / 100) + 1, `${numbers.length} intervals for ${talkMs} ms`);
      assert.equal(await h.store.remaining('acme'), CREDIT - numbers.length, 'the balance counts each interval once');
      // The restarted server serves new calls as usual.
      const next = await h.placeCall({ account: 'acme', target: 'sim/2000/answer-after-40/hangup-after-250' });
      assert.equal((await next.end).outcome, 'completed');
    });

    it('a graceful restart: calls are charged until they end or the deadline, then hung up', async (t) => {
      const h = await start(t);
      const { uuid, end } = await h.placeCall({ account: 'acme', target: 'sim/2000/answer-after-40/hangup-after-5000' });
      await h.talkedFor(uuid, 250);
      await h.server.close({ deadline: 250 });
      const report = await end;
      assert.equal(report.outcome, 'shutdown');
      assert.equal(report.hangupRequested, 'SYSTEM_SHUTDOWN');
      const numbers = await intervals(h, uuid);
      assert.deepEqual(numbers, numbers.map((_, i) => i + 1));
      assert.ok(numbers.length >= 4, `charged on until the deadline (${numbers.length})`);
      await h.startServer();
      // The call's channel is gone and its charging is marked complete: nothing more is ever sold.
      assert.equal(await h.store.remaining('acme'), CREDIT - numbers.length);
      const next = await h.placeCall({ account: 'acme', target: 'sim/2000/answer-after-40/hangup-after-250' });
      assert.equal((await next.end).outcome, 'completed');
      assert.equal(await h.store.remaining('acme'), CREDIT - numbers.length - (await intervals(h, next.uuid)).length);
    });
  });
}
