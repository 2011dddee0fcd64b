import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import PouchDB from 'pouchdb';
import memoryAdapter from 'pouchdb-adapter-memory';
import { AccountExistsError, AccountNotFoundError, INITIAL_CREDIT_ID, storeOperations } from '../src/operations.js';
import { PrepaidDbError, PrepaidInputError, PrepaidStore, type DocDatabase } from '../src/store.js';

PouchDB.plugin(memoryAdapter);

/** An in-memory database whose credit writes fail while `failCredits` is set. */
function database(name: string, state: { failCredits: boolean }): DocDatabase {
  const db = new PouchDB(name, { adapter: 'memory' });
  return {
    info: () => db.info(),
    get: (id: string) => db.get(id),
    put: (doc: PouchDB.Doc) =>
      state.failCredits && doc._id.startsWith('credit:')
        ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED (injected)'), { code: 'ECONNREFUSED' }))
        : db.put(doc),
    allDocs: (options?: Record<string, unknown>) => db.allDocs(options),
    query: <V>(view: string, options?: Record<string, unknown>) => db.query<V>(view, options),
    close: () => db.close(),
    destroy: () => db.destroy(),
  } as unknown as DocDatabase;
}

describe('storeOperations', () => {
  it('validates a new account completely before writing; a failed initial credit says how to add it', async () => {
    const state = { failCredits: false };
    const store = PrepaidStore.fromDatabase(database(`ops-${process.pid}-${Date.now()}`, state));
    await store.installDesign();
    const ops = storeOperations(store);
    try {
      await assert.rejects(ops.createAccount({ account: 'a', intervalDuration: 6, credit: 0 }), PrepaidInputError);
      await assert.rejects(ops.createAccount({ account: 'a', intervalDuration: 0 }), PrepaidInputError);
      assert.deepEqual(await ops.listAccounts(), [], 'refused requests wrote nothing');

      state.failCredits = true;
      const err = await ops.createAccount({ account: 'a', intervalDuration: 6, credit: 10 }).then(
        () => assert.fail('the credit write failed'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof PrepaidDbError);
      assert.equal(err.code, 'PREPAID_DB_UNAVAILABLE');
      assert.match(err.message, /account a was created, but its initial credit was not recorded .*prepaid account credit a 10 --id initial$/);
      state.failCredits = false;
      const retried = await ops.addCredit('a', { intervals: 10, id: INITIAL_CREDIT_ID });
      assert.deepEqual([retried.applied, retried.remaining], [true, 10]);
      assert.equal((await ops.addCredit('a', { intervals: 10, id: INITIAL_CREDIT_ID })).applied, false, 'applied once');

      await assert.rejects(ops.createAccount({ account: 'a', intervalDuration: 6 }), AccountExistsError);
      await assert.rejects(ops.addCredit('nobody', { intervals: 1 }), AccountNotFoundError);
      assert.equal(await ops.accountSummary('nobody'), null);
    } finally {
      await store.destroy();
    }
  });
});
