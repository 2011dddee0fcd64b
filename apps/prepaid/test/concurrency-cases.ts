import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, type StorageMode } from './harness.js';

export function defineConcurrencyTest(mode: StorageMode): void {
  describe(`prepaid: 100 concurrent calls on one account (${mode} storage)`, () => {
    it('never spend more than the credit', async (t) => {
      const CREDIT = 150;
      const CALLS = 100;
      const h = await Harness.start({
        mode,
        ringCheckMs: 200,
        opTimeoutMs: 10_000,
        // Charges on one account are written one after another (each takes the ledger's next
        // place): 100 calls at 0.5 s intervals ask for 200 a second, which a database in this
        // process keeps up with on a loaded machine; at 0.25 s it sometimes did not, and every
        // call ended as a database error (too early, never too late) before the credit ran out.
        accounts: [{ account: 'shared', intervalDuration: 0.5, credit: CREDIT }],
        // 100 calls at once: far above FreeSWITCH's default of 30 new sessions a second.
        simulator: { sessionsPerSecond: Infinity },
      });
      t.after(() => h.stop());
      // Every call would talk for 30 s: together they want far more than the credit, so the credit
      // ends every call.
      const placed = await Promise.all(
        Array.from({ length: CALLS }, () => h.placeCall({ account: 'shared', target: 'sim/2000/answer-after-20/hangup-after-30000' })),
      );
      const reports = await Promise.all(placed.map((p) => p.end));
      let total = 0;
      for (const { uuid } of placed) {
        const numbers = await h.intervalsOf(uuid);
        assert.deepEqual(numbers, numbers.map((_, i) => i + 1), 'each call: intervals 1..n, none twice');
        total += numbers.length;
      }
      const remaining = await h.store.remaining('shared');
      assert.equal(remaining, CREDIT - total, 'the balance is exactly the credit minus the records');
      assert.ok(total <= CREDIT && remaining >= 0, `charged ${total} intervals for a credit of ${CREDIT}`);
      for (const r of reports) {
        // A charge that a loaded database answers after FreeSWITCH's scheduled hangup is due ends
        // the call as a database error: too early for the caller, never too late.
        assert.ok(['cut-off', 'no-credit', 'database-error'].includes(r.outcome!), `${r.uuid}: ${r.outcome} ${r.detail}`);
      }
      const outcomes = new Map<string, number>();
      for (const r of reports) outcomes.set(r.outcome!, (outcomes.get(r.outcome!) ?? 0) + 1);
      const details = [...new Set(reports.map((r) => `${r.outcome}: ${r.detail}`))].slice(0, 5);
      assert.ok((outcomes.get('cut-off') ?? 0) > 0, `outcomes: ${JSON.stringify([...outcomes])}; ${details.join(' | ')}`);
      assert.equal(h.server.activeCalls, 0);
      t.diagnostic(`${mode}: ${total} intervals charged for a credit of ${CREDIT}; final balance ${remaining}`);
    });
  });
}
