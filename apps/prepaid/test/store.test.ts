import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import PouchDB from 'pouchdb';
import {
  PrepaidStore,
  PrepaidDbError,
  PrepaidInputError,
  findLedgerConflicts,
  ledgerEntryId,
  reconcileLedgerConflicts,
  toDbError,
  type DocDatabase,
} from '../src/store.js';
import { DESIGN_DOC_ID, DESIGN_VERSION, VIEW_CURRENT } from '../src/design.js';
import { redactText, redactUrl } from '../src/redact.js';
import { CouchCompatibleServer, Faults } from './harness.js';

const memory = () => PrepaidStore.open({ kind: 'memory', name: `store-test-${randomUUID()}` }, { opTimeoutMs: 2000 });

describe('PrepaidStore (in memory)', () => {
  let store: PrepaidStore;
  before(async () => {
    store = await memory();
  });
  after(async () => {
    await store.destroy();
  });

  it('installs the design document on open, and leaves it alone when current', async () => {
    assert.equal(await store.installDesign(), 'unchanged');
  });

  it('creates and loads accounts; a missing or impossible account is null', async () => {
    const created = await store.createAccount({ account: 'alice', intervalDuration: 60, name: 'Alice' });
    assert.equal(created._id, 'account:alice');
    const loaded = await store.getAccount('alice');
    assert.equal(loaded?.interval_duration, 60);
    assert.equal(loaded?.name, 'Alice');
    assert.equal(await store.getAccount('nobody'), null);
    assert.equal(await store.getAccount('bad name with spaces'), null);
    assert.equal(await store.getAccount(''), null);
    await assert.rejects(store.createAccount({ account: 'alice', intervalDuration: 6 }), PrepaidInputError);
    await assert.rejects(store.createAccount({ account: 'x:y', intervalDuration: 6 }), PrepaidInputError);
    await assert.rejects(store.createAccount({ account: 'zero', intervalDuration: 0 }), PrepaidInputError);
  });

  it('credits add up in the current view; a credit id applies once', async () => {
    await store.createAccount({ account: 'bob', intervalDuration: 30 });
    assert.equal(await store.remaining('bob'), 0);
    await store.addCredit('bob', 10);
    const first = await store.addCredit('bob', 5, { id: 'payment-1', reason: 'card' });
    const again = await store.addCredit('bob', 5, { id: 'payment-1', reason: 'card' });
    assert.equal(first.applied, true);
    assert.equal(again.applied, false);
    assert.equal(await store.remaining('bob'), 15);
    await assert.rejects(store.addCredit('bob', 0), PrepaidInputError);
    await assert.rejects(store.addCredit('bob', 1.5), PrepaidInputError);
    await assert.rejects(store.addCredit('nobody', 3), PrepaidInputError);
  });

  it('charges are ledger entries in sequence, each within the credit; the seed view still gives the balance', async () => {
    await store.createAccount({ account: 'carol', intervalDuration: 6 });
    await store.addCredit('carol', 3);
    const call = randomUUID();
    const charge = (interval: number) => store.chargeInterval({ account: 'carol', call, interval, intervalDuration: 6 });
    assert.deepEqual(await charge(1), { outcome: 'charged', remaining: 2 });
    assert.deepEqual(await charge(2), { outcome: 'charged', remaining: 1 });
    assert.deepEqual(await charge(3), { outcome: 'charged', remaining: 0 });
    assert.deepEqual(await charge(4), { outcome: 'refused', remaining: 0 }, 'no credit: refused, nothing written');
    assert.equal(ledgerEntryId('carol', 3), 'ledger:carol:000000000003');
    const { charged } = await store.callIntervals('carol', call);
    assert.deepEqual(charged.map((r) => [r._id, r.interval, r.intervals, r.type, r.seq, r.used]), [
      [ledgerEntryId('carol', 1), 1, -1, 'interval_record', 1, 1],
      [ledgerEntryId('carol', 2), 2, -1, 'interval_record', 2, 2],
      [ledgerEntryId('carol', 3), 3, -1, 'interval_record', 3, 3],
    ]);
    // A top-up lets the next charge through; giving an unused interval back is a +1 entry.
    await store.addCredit('carol', 2);
    assert.deepEqual(await charge(4), { outcome: 'charged', remaining: 1 });
    assert.deepEqual(await store.giveBackInterval({ account: 'carol', call, interval: 4, intervalDuration: 6 }), { outcome: 'charged', remaining: 2 });
    assert.deepEqual((await store.callIntervals('carol', call)).givenBack, [4]);
    assert.equal(await store.remaining('carol'), 2);
    // The seed's view, as an operator queries it, agrees.
    const raw = new PouchDB(store.description.replace('in-memory PouchDB ', ''), { adapter: 'memory' });
    const view = await raw.query(VIEW_CURRENT, { key: 'carol', reduce: true, group: true });
    assert.equal(view.rows[0]?.value, 2);
    await assert.rejects(charge(0), PrepaidInputError);
  });

  it('many calls charging at once on one account spend exactly the credit, never more', async () => {
    await store.createAccount({ account: 'dave', intervalDuration: 1 });
    await store.addCredit('dave', 100);
    const calls = Array.from({ length: 50 }, () => randomUUID());
    const results = await Promise.all(
      calls.flatMap((call) =>
        [1, 2, 3].map((interval) => store.chargeInterval({ account: 'dave', call, interval, intervalDuration: 1 })),
      ),
    );
    assert.equal(results.filter((r) => r.outcome === 'charged').length, 100);
    assert.equal(results.filter((r) => r.outcome === 'refused').length, 50);
    assert.equal(await store.remaining('dave'), 0);
  });

  it('several stores on one database (several servers) race for the same ledger and never overspend', async () => {
    const name = store.description.replace('in-memory PouchDB ', '');
    const others = await Promise.all([1, 2, 3].map(() => PrepaidStore.open({ kind: 'memory', name })));
    await store.createAccount({ account: 'hal', intervalDuration: 1 });
    await store.addCredit('hal', 40);
    const all = [store, ...others];
    const results = await Promise.all(
      Array.from({ length: 80 }, (_, i) =>
        all[i % all.length]!.chargeInterval({ account: 'hal', call: `call-${i % 20}`, interval: 1 + Math.floor(i / 20), intervalDuration: 1 }),
      ),
    );
    assert.equal(results.filter((r) => r.outcome === 'charged').length, 40);
    assert.equal(await store.remaining('hal'), 0);
    const ids = (await store.run('list', (db) => db.allDocs({ startkey: 'ledger:hal:', endkey: 'ledger:hal:\ufff0' }))).rows.map((r) => r.id);
    assert.deepEqual(ids, Array.from({ length: 40 }, (_, i) => ledgerEntryId('hal', i + 1)), 'entries 1..40, no gap');
  });

  it('lists charged calls and summarises an account', async () => {
    await store.createAccount({ account: 'erin', intervalDuration: 6 });
    await store.addCredit('erin', 20, { id: 'c1' });
    const older = randomUUID();
    const newer = randomUUID();
    const t0 = Date.parse('2025-01-01T00:00:00Z');
    for (let i = 1; i <= 3; i++) {
      await store.chargeInterval({ account: 'erin', call: older, interval: i, intervalDuration: 6, at: new Date(t0 + i * 6000) });
    }
    await store.chargeInterval({ account: 'erin', call: newer, interval: 1, intervalDuration: 6, at: new Date(t0 + 60_000) });
    const calls = await store.recentCalls({ account: 'erin' });
    assert.deepEqual(calls.map((c) => [c.call, c.intervals]), [[newer, 1], [older, 3]]);
    assert.equal(calls[1]?.firstChargeAt.getTime(), t0 + 6000);
    assert.equal(calls[1]?.lastChargeAt.getTime(), t0 + 18000);
    assert.equal((await store.recentCalls({ limit: 1 })).length, 1);
    const summary = await store.accountSummary('erin');
    assert.ok(summary);
    assert.equal(summary.credited, 20);
    assert.equal(summary.charged, 4);
    assert.equal(summary.remaining, 16);
    assert.equal(summary.calls, 2);
    assert.equal(await store.accountSummary('nobody'), null);
  });

  it('an account document without a usable interval_duration is an error, not a free call', async () => {
    const raw = new PouchDB(store.description.replace('in-memory PouchDB ', ''), { adapter: 'memory' });
    await raw.put({ _id: 'account:broken', type: 'account', account: 'broken' });
    await assert.rejects(store.getAccount('broken'), PrepaidDbError);
  });
});

describe('PrepaidStore: ledger entries a cluster partition wrote twice', () => {
  it('finds them by _conflicts and appends the hidden charge again, once, even after a crash midway', async () => {
    const name = `conflicts-${randomUUID()}`;
    const store = await PrepaidStore.open({ kind: 'memory', name });
    const raw = new PouchDB(name, { adapter: 'memory' });
    try {
      await store.createAccount({ account: 'ivy', intervalDuration: 6 });
      await store.addCredit('ivy', 5);
      await store.chargeInterval({ account: 'ivy', call: 'side-a', interval: 1, intervalDuration: 6 });
      // The other side of the partition charged another call at the same place; replication brings it in.
      const id = ledgerEntryId('ivy', 1);
      await raw.bulkDocs(
        [{ _id: id, _rev: '1-0123456789abcdef0123456789abcdef', type: 'interval_record', account: 'ivy', call: 'side-b', interval: 1, intervals: -1, seq: 1, used: 1, interval_duration: 6, at: new Date().toISOString() }],
        { new_edits: false },
      );
      const found = await findLedgerConflicts(store);
      assert.equal(found.length, 1);
      assert.equal(found[0]!.losers.length, 1);
      const hidden = found[0]!.winner.call === 'side-a' ? 'side-b' : 'side-a';
      assert.equal(await store.remaining('ivy'), 4, 'before reconciling, one charge is hidden');
      // A crash after the copy was appended, before the losing revision was deleted...
      const realRun = store.run.bind(store);
      let crash = true;
      store.run = (async (what: string, fn: never) => {
        if (crash && what === 'delete a losing revision') {
          crash = false;
          throw new Error('crash');
        }
        return realRun(what, fn);
      }) as typeof store.run;
      await assert.rejects(reconcileLedgerConflicts(store), /crash/);
      // ...and the rerun finds its marker and the copy: nothing appended twice.
      const appended = await reconcileLedgerConflicts(store);
      assert.equal(appended.get('ivy') ?? 0, 0);
      assert.deepEqual(await findLedgerConflicts(store), []);
      assert.equal(await store.remaining('ivy'), 3, 'both charges count');
      const copy = (await store.callIntervals('ivy', hidden)).charged;
      assert.equal(copy.length, 1);
      assert.equal(copy[0]!.seq, 2);
      const view = await raw.query(VIEW_CURRENT, { key: 'ivy', reduce: true, group: true });
      assert.equal(view.rows[0]?.value, 3, "the seed's view agrees");
    } finally {
      await store.destroy();
    }
  });
});

describe('PrepaidStore design document upgrades', () => {
  it('upgrades an older design and never downgrades a newer one', async () => {
    const name = `design-${randomUUID()}`;
    const store = await PrepaidStore.open({ kind: 'memory', name });
    const raw = new PouchDB(name, { adapter: 'memory' });
    try {
      const current = await raw.get(DESIGN_DOC_ID);
      assert.equal(current.prepaid_version, DESIGN_VERSION);
      await raw.put({ ...current, prepaid_version: DESIGN_VERSION - 1, views: { old: { map: 'function(doc){}' } } });
      assert.equal(await store.installDesign(), 'upgraded');
      const upgraded = await raw.get(DESIGN_DOC_ID);
      assert.ok((upgraded.views as Record<string, unknown>)['current']);
      await raw.put({ ...upgraded, prepaid_version: DESIGN_VERSION + 1 });
      assert.equal(await store.installDesign(), 'unchanged');
      assert.equal((await raw.get(DESIGN_DOC_ID)).prepaid_version, DESIGN_VERSION + 1);
      // Several servers installing at once all succeed.
      await raw.put({ ...(await raw.get(DESIGN_DOC_ID)), prepaid_version: 0 });
      const outcomes = await Promise.all([store.installDesign(), store.installDesign(), store.installDesign()]);
      assert.ok(outcomes.includes('upgraded'));
      assert.equal((await raw.get(DESIGN_DOC_ID)).prepaid_version, DESIGN_VERSION);
    } finally {
      await store.destroy();
    }
  });
});

describe('PrepaidStore failures are typed, bounded and redacted', () => {
  it('an operation that never answers fails with PREPAID_DB_TIMEOUT', async () => {
    const name = `hang-${randomUUID()}`;
    const real = new PouchDB(name, { adapter: 'memory' });
    const hanging: DocDatabase = {
      info: () => new Promise(() => {}),
      get: (id) => real.get(id),
      put: (doc) => real.put(doc),
      allDocs: (o) => real.allDocs(o),
      query: (v, o) => real.query(v, o),
      close: () => real.close(),
      destroy: () => real.destroy(),
    };
    const store = PrepaidStore.fromDatabase(hanging, { opTimeoutMs: 50 });
    await assert.rejects(store.ping(), (err: unknown) => err instanceof PrepaidDbError && err.code === 'PREPAID_DB_TIMEOUT');
    await store.destroy();
  });

  it('a write whose answer was lost is retried without charging twice', async () => {
    const name = `lost-${randomUUID()}`;
    const real = new PouchDB(name, { adapter: 'memory' });
    let lostAnswers = 1;
    const lossy: DocDatabase = {
      info: () => real.info(),
      get: (id) => real.get(id),
      put: async (doc) => {
        const result = await real.put(doc);
        if (doc._id.startsWith('ledger:') && lostAnswers-- > 0) {
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        return result;
      },
      allDocs: (o) => real.allDocs(o),
      query: (v, o) => real.query(v, o),
      close: () => real.close(),
      destroy: () => real.destroy(),
    };
    const store = PrepaidStore.fromDatabase(lossy);
    await store.installDesign();
    await store.createAccount({ account: 'frank', intervalDuration: 6 });
    await store.addCredit('frank', 5);
    const call = randomUUID();
    assert.equal((await store.chargeInterval({ account: 'frank', call, interval: 1, intervalDuration: 6 })).outcome, 'duplicate');
    assert.equal(lostAnswers, 0);
    assert.equal(await store.remaining('frank'), 4);
    await store.destroy();
  });

  it('error messages never carry credentials', () => {
    const err = toDbError(new Error('request to http://admin:s3cret@127.0.0.1:5984/prepaid failed, reason: connect ECONNREFUSED'), 'ping');
    assert.equal(err.code, 'PREPAID_DB_UNAVAILABLE');
    assert.doesNotMatch(err.message, /s3cret/);
    assert.match(err.message, /admin:\*\*\*@127\.0\.0\.1/);
    assert.equal(redactUrl('https://u:p@h/db'), 'https://u:***@h/db');
    assert.equal(redactUrl('http://h:5984/db'), 'http://h:5984/db');
    assert.equal(redactText('a http://x@h b https://y:z@k c'), 'a http://x:***@h b https://y:***@k c');
    assert.equal(toDbError({ status: 404, name: 'not_found', message: 'missing' }, 'get').code, 'PREPAID_DB_ERROR');
  });
});

describe('PrepaidStore over HTTP', () => {
  it('requests share kept-alive connections instead of opening one each', async () => {
    const couch = new CouchCompatibleServer(new Faults());
    let connections = 0;
    couch.server.on('connection', () => connections++);
    const port = await couch.listen();
    const store = await PrepaidStore.open({ kind: 'couch', url: `http://127.0.0.1:${port}/keepalive-${randomUUID().slice(0, 8)}` }, { opTimeoutMs: 5000 });
    try {
      await store.createAccount({ account: 'kim', intervalDuration: 6 });
      await store.addCredit('kim', 30);
      const before = connections;
      for (let i = 1; i <= 20; i++) {
        await store.ping();
        assert.equal((await store.chargeInterval({ account: 'kim', call: 'call-kim', interval: i, intervalDuration: 6 })).outcome, 'charged');
      }
      assert.equal(await store.remaining('kim'), 10);
      // 40 requests and more, one after the other: one connection serves them all.
      assert.ok(connections - before <= 1, `${connections - before} new connections`);
      // Idle, the pool drops its connections before Node's http server would (5 s): no request is
      // sent on a connection the server is closing.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const open = await new Promise<number>((resolve, reject) => couch.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
      assert.equal(open, 0);
    } finally {
      await store.close();
      await couch.stop();
    }
  });
});

describe('PrepaidStore on disk', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'prepaid-store-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('checkReachable: an answer within the window needs no ping; a closed store is unreachable whatever came before', async () => {
    const store = await PrepaidStore.open({ kind: 'disk', dataDir: path.join(dir, 'reachable') });
    try {
      await store.getAccount('nobody');
      assert.equal(await store.checkReachable(60_000), 'recent');
      assert.equal(await store.checkReachable(0), 'pinged');
      await store.close();
      await assert.rejects(store.checkReachable(60_000), (err: unknown) => err instanceof PrepaidDbError && err.code === 'PREPAID_DB_UNAVAILABLE');
      await store.reopen();
      assert.equal(await store.checkReachable(60_000), 'pinged', 'no answer since the reopen');
      assert.equal(await store.checkReachable(60_000), 'recent');
    } finally {
      await store.destroy();
    }
  });

  it('keeps data across close and a new open (a restart), and fails closed while closed', async () => {
    const first = await PrepaidStore.open({ kind: 'disk', dataDir: dir });
    assert.match(first.description, /embedded PouchDB in/);
    await first.createAccount({ account: 'gina', intervalDuration: 10 });
    await first.addCredit('gina', 7);
    const call = randomUUID();
    await first.chargeInterval({ account: 'gina', call, interval: 1, intervalDuration: 10 });
    await first.close();
    await assert.rejects(first.ping(), (err: unknown) => err instanceof PrepaidDbError && err.code === 'PREPAID_DB_UNAVAILABLE');
    await assert.rejects(first.remaining('gina'), PrepaidDbError);
    await first.reopen();
    assert.equal(await first.remaining('gina'), 6);
    await first.close();

    const second = await PrepaidStore.open({ kind: 'disk', dataDir: dir });
    assert.equal(await second.remaining('gina'), 6);
    assert.equal((await second.chargeInterval({ account: 'gina', call, interval: 2, intervalDuration: 10 })).outcome, 'charged');
    assert.equal(await second.remaining('gina'), 5);
    await second.destroy();
  });

  it('a directory another process holds open is reported as in use, not as a bare LevelDB error', async () => {
    // LevelDB locks the directory per process: a second process (an operator command while
    // `prepaid serve` runs) cannot open it.
    const storeUrl = new URL('../src/store.js', import.meta.url).href;
    const holder = spawn(
      process.execPath,
      ['--input-type=module', '-e', `const { PrepaidStore } = await import(${JSON.stringify(storeUrl)}); await PrepaidStore.open({ kind: 'disk', dataDir: ${JSON.stringify(dir)} }); console.log('open'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      const [first] = (await once(holder.stdout!, 'data')) as [Buffer];
      assert.equal(first.toString().trim(), 'open');
      await assert.rejects(
        PrepaidStore.open({ kind: 'disk', dataDir: dir }),
        (err: unknown) =>
          err instanceof PrepaidDbError &&
          err.code === 'PREPAID_DB_UNAVAILABLE' &&
          /the embedded database is in use by another process/.test(err.message),
      );
    } finally {
      holder.stdin!.end();
      await once(holder, 'exit');
    }
    const reopened = await PrepaidStore.open({ kind: 'disk', dataDir: dir });
    await reopened.close();
  });
});
