// Group commit of the store's creations, the reads a call's first charge costs, and the lookup of a call's charging.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import PouchDB from 'pouchdb';
import { CreateBatcher } from '../src/group-commit.js';
import { PrepaidDbError, PrepaidInputError, PrepaidStore, type DocDatabase } from '../src/store.js';

/** A real in-memory PouchDB behind a DocDatabase that counts requests and can break bulkDocs. */
async function countedDatabase(options: { maxLedgerEnds?: number } = {}) {
  const name = `group-commit-${randomUUID()}`;
  // Opening a memory store loads PouchDB's memory adapter.
  await (await PrepaidStore.open({ kind: 'memory', name }, { setup: false })).close();
  const db = new PouchDB(name, { adapter: 'memory' });
  const counts = { bulk: [] as number[], put: 0, query: 0, allDocs: 0 };
  const faults = { bulkRejects: 0, docError: undefined as string | undefined };
  const wrapped: DocDatabase = {
    info: () => db.info(),
    get: (id: string) => db.get(id),
    put: (doc: PouchDB.Doc) => {
      counts.put++;
      return db.put(doc);
    },
    allDocs: (o?: Record<string, unknown>) => {
      counts.allDocs++;
      return db.allDocs(o);
    },
    query: <V>(view: string, o?: Record<string, unknown>) => {
      counts.query++;
      return db.query<V>(view, o);
    },
    bulkDocs: async (docs: PouchDB.Doc[], o?: Record<string, unknown>) => {
      counts.bulk.push(docs.length);
      if (faults.bulkRejects > 0) {
        faults.bulkRejects--;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5984'), { code: 'ECONNREFUSED' });
      }
      // The refused document is not written; its place in the answer holds the error.
      const results = [...(await db.bulkDocs(docs.filter((d) => d._id !== faults.docError), o))];
      return docs.map((d) => (d._id === faults.docError ? { id: d._id, error: 'forbidden', reason: 'not allowed', status: 403 } : results.shift()));
    },
    close: () => db.close(),
    destroy: () => db.destroy(),
  };
  const store = PrepaidStore.fromDatabase(wrapped, { opTimeoutMs: 2000, ...options });
  await store.installDesign();
  return { store, counts, faults, db: wrapped };
}

describe('group commit', () => {
  it('charges due together go out in a few bulk writes, each with its own outcome', async () => {
    const { store, counts } = await countedDatabase();
    const accounts = Array.from({ length: 200 }, (_, i) => `acct-${i}`);
    await Promise.all(accounts.map((account) => store.createAccount({ account, intervalDuration: 1 })));
    await Promise.all(accounts.map((account) => store.addCredit(account, 2)));
    counts.bulk.length = 0;
    counts.put = 0;
    // One call per account charges three intervals at once: the third finds no credit.
    const results = await Promise.all(
      accounts.flatMap((account) =>
        [1, 2, 3].map((interval) => store.chargeInterval({ account, call: `call-${account}`, interval, intervalDuration: 1 })),
      ),
    );
    assert.equal(results.filter((r) => r.outcome === 'charged').length, 400);
    assert.equal(results.filter((r) => r.outcome === 'refused').length, 200);
    const written = counts.bulk.reduce((a, b) => a + b, 0) + counts.put;
    assert.equal(written, 400, 'one creation per charge');
    assert.ok(counts.bulk.length + counts.put <= 10, `400 charges in ${counts.bulk.length + counts.put} writes`);
    for (const account of accounts.slice(0, 5)) assert.equal(await store.remaining(account), 0);
  });

  it('a creation that finds its id taken inside a batch is told so; the others are created', async () => {
    const { store, counts } = await countedDatabase();
    await store.createAccount({ account: 'taken', intervalDuration: 1 });
    counts.bulk.length = 0;
    const outcomes = await Promise.allSettled([
      store.createAccount({ account: 'fresh-1', intervalDuration: 1 }),
      store.createAccount({ account: 'taken', intervalDuration: 1 }),
      store.createAccount({ account: 'fresh-2', intervalDuration: 1 }),
    ]);
    assert.deepEqual(counts.bulk, [3]);
    assert.equal(outcomes[0]!.status, 'fulfilled');
    assert.equal(outcomes[2]!.status, 'fulfilled');
    assert.ok(outcomes[1]!.status === 'rejected' && outcomes[1]!.reason instanceof PrepaidInputError);
  });

  it('one document refused inside a batch fails only its own creation, with a typed error', async () => {
    const { store, faults } = await countedDatabase();
    faults.docError = 'account:refused';
    const outcomes = await Promise.allSettled(
      ['ok-1', 'refused', 'ok-2'].map((account) => store.createAccount({ account, intervalDuration: 1 })),
    );
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    const err = (outcomes[1] as PromiseRejectedResult).reason as PrepaidDbError;
    assert.ok(err instanceof PrepaidDbError);
    assert.equal(err.code, 'PREPAID_DB_ERROR');
    assert.match(err.message, /create account: not allowed|create account: forbidden/);
    assert.equal(await store.getAccount('refused'), null);
  });

  it('a batch that fails as a whole fails every creation in it, and the next batch goes on', async () => {
    const { store, faults } = await countedDatabase();
    faults.bulkRejects = 1;
    const failed = await Promise.allSettled(['a', 'b', 'c'].map((account) => store.createAccount({ account, intervalDuration: 1 })));
    for (const o of failed) {
      assert.equal(o.status, 'rejected');
      assert.ok((o as PromiseRejectedResult).reason instanceof PrepaidDbError);
      assert.equal(((o as PromiseRejectedResult).reason as PrepaidDbError).code, 'PREPAID_DB_UNAVAILABLE');
    }
    const retried = await Promise.allSettled(['a', 'b', 'c'].map((account) => store.createAccount({ account, intervalDuration: 1 })));
    assert.deepEqual(retried.map((o) => o.status), ['fulfilled', 'fulfilled', 'fulfilled']);
  });

  it('CreateBatcher keeps the order of creations and splits at its batch size', async () => {
    const seen: string[][] = [];
    const batcher = new CreateBatcher(async (batch) => {
      seen.push(batch.map((e) => e.doc._id));
      await new Promise((resolve) => setTimeout(resolve, 5));
      for (const e of batch) e.resolve(!e.doc._id.endsWith('x'));
    }, 3);
    const first = batcher.create('w', { _id: 'a' });
    await new Promise((resolve) => setImmediate(resolve));
    // Asked while the first write is in flight: they go together in the next ones, 3 at most each.
    const rest = ['b', 'c', 'dx', 'e'].map((id) => batcher.create('w', { _id: id }));
    assert.deepEqual(await Promise.all([first, ...rest]), [true, true, true, false, true]);
    assert.deepEqual(seen, [['a'], ['b', 'c', 'dx'], ['e']]);
  });
});

describe("the reads of a call's first charge", () => {
  it('a charge after a balance check starts from the ledger end that check read: no read between them', async () => {
    const { store, counts } = await countedDatabase();
    await store.createAccount({ account: 'acme', intervalDuration: 1 });
    await store.addCredit('acme', 3);
    assert.equal(await store.remaining('acme'), 3);
    counts.allDocs = 0;
    counts.query = 0;
    assert.equal((await store.chargeInterval({ account: 'acme', call: 'c1', interval: 1, intervalDuration: 1 })).outcome, 'charged');
    assert.equal((await store.chargeInterval({ account: 'acme', call: 'c1', interval: 2, intervalDuration: 1 })).outcome, 'charged');
    assert.equal(counts.allDocs + counts.query, 0);
    assert.equal(await store.remaining('acme'), 1);
  });

  it('the ledger ends kept are bounded: past the bound, the account used longest ago is read again', async () => {
    const { store, counts } = await countedDatabase({ maxLedgerEnds: 2 });
    for (const account of ['a', 'b', 'c']) {
      await store.createAccount({ account, intervalDuration: 1 });
      await store.addCredit(account, 5);
    }
    const charge = (account: string, interval: number) =>
      store.chargeInterval({ account, call: `call-${account}`, interval, intervalDuration: 1 });
    await charge('a', 1);
    await charge('b', 1);
    counts.allDocs = 0;
    await charge('a', 2); // a and b kept: no read
    assert.equal(counts.allDocs, 0);
    await charge('c', 1); // c is new: read; b, used longest ago, is dropped
    assert.equal(counts.allDocs, 2);
    await charge('a', 3);
    assert.equal(counts.allDocs, 2, 'a was kept');
    await charge('b', 2);
    assert.equal(counts.allDocs, 4, 'b was read again');
    for (const [account, left] of [['a', 2], ['b', 3], ['c', 4]] as const) assert.equal(await store.remaining(account), left);
  });

  it('another writer appended after the check: the charge takes the next free place, never a second', async () => {
    const { store, db } = await countedDatabase();
    await store.createAccount({ account: 'shared', intervalDuration: 1 });
    await store.addCredit('shared', 2);
    assert.equal(await store.remaining('shared'), 2);
    // A second server on the same database charges the account after this one's check.
    const other = PrepaidStore.fromDatabase(db, { opTimeoutMs: 2000 });
    assert.equal((await other.chargeInterval({ account: 'shared', call: 'other-call', interval: 1, intervalDuration: 1 })).outcome, 'charged');
    // The end this store saw is taken: it reads the newer end and charges after it.
    assert.equal((await store.chargeInterval({ account: 'shared', call: 'c1', interval: 1, intervalDuration: 1 })).outcome, 'charged');
    // The credit is spent now; the next one is refused, on a fresh read.
    assert.equal((await store.chargeInterval({ account: 'shared', call: 'c1', interval: 2, intervalDuration: 1 })).outcome, 'refused');
    assert.equal(await store.remaining('shared'), 0);
  });

  it('a balance read that ends after this process appended keeps the later end', async () => {
    const { store } = await countedDatabase();
    await store.createAccount({ account: 'busy', intervalDuration: 1 });
    await store.addCredit('busy', 5);
    // The check and two charges at once: whatever order their reads end in, no place is used twice.
    const [left, a, b] = await Promise.all([
      store.remaining('busy'),
      store.chargeInterval({ account: 'busy', call: 'c1', interval: 1, intervalDuration: 1 }),
      store.chargeInterval({ account: 'busy', call: 'c2', interval: 1, intervalDuration: 1 }),
    ]);
    assert.ok(left >= 3 && left <= 5, String(left));
    assert.deepEqual([a.outcome, b.outcome], ['charged', 'charged']);
    assert.equal((await store.chargeInterval({ account: 'busy', call: 'c3', interval: 1, intervalDuration: 1 })).outcome, 'charged');
    assert.equal(await store.remaining('busy'), 2);
  });
});

describe("looking up a call's charging", () => {
  it("callState finds a call's records through the index and its end marker by id", async () => {
    const { store, counts } = await countedDatabase();
    await store.createAccount({ account: 'acme', intervalDuration: 1 });
    await store.addCredit('acme', 10);
    assert.deepEqual(await store.callState('acme', 'new-call'), { records: [], end: undefined });
    await store.chargeInterval({ account: 'acme', call: 'known-call', interval: 1, intervalDuration: 1 });
    await store.chargeInterval({ account: 'acme', call: 'known-call', interval: 2, intervalDuration: 1 });
    counts.query = 0;
    const state = await store.callState('acme', 'known-call');
    assert.deepEqual(state.records.map((r) => r.interval), [1, 2]);
    assert.equal(state.end, undefined);
    assert.ok(counts.query > 0, 'read from the index');
    await store.finishCall({ account: 'acme', call: 'known-call', intervalsCharged: 2, outcome: 'completed' });
    assert.equal((await store.callState('acme', 'known-call')).end?.intervals_charged, 2);
  });
});
