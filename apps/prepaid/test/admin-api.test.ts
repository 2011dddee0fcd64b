import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Simulator } from 'freeswitch-esl/testing';
import { AdminService } from '../src/admin.js';
import { EXIT } from '../src/cli.js';
import { silentLogger } from '../src/log.js';
import { PrepaidMetrics } from '../src/metrics.js';
import { storeOperations } from '../src/operations.js';
import { PrepaidServer } from '../src/prepaid-server.js';
import { parseAdminAddress } from '../src/serve.js';
import { PrepaidStore } from '../src/store.js';
import { cli, startServe, tempDir, waitFor, type RunningServe } from './serve-support.js';

const TOKEN = 'test-admin-token-123';

async function api(base: string, method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = {};
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

describe('admin address', () => {
  it('a bare port is loopback; HOST:PORT as given', () => {
    assert.deepEqual(parseAdminAddress('8085'), { host: '127.0.0.1', port: 8085 });
    assert.deepEqual(parseAdminAddress('[::1]:9'), { host: '::1', port: 9 });
    assert.throws(() => parseAdminAddress('nope'), /--admin must be HOST:PORT/);
  });

  it('refuses a non-loopback --admin without PREPAID_ADMIN_TOKEN, before opening anything', async () => {
    const { dir, remove } = await tempDir('prepaid-admin-');
    try {
      const r = await cli(['serve', '--listen', '127.0.0.1:0', '--data', dir, '--admin', '0.0.0.0:0']);
      assert.equal(r.code, EXIT.usage);
      assert.match(r.err, /--admin 0\.0\.0\.0:0 is not a loopback address: set PREPAID_ADMIN_TOKEN/);
      assert.doesNotMatch(r.out, /listening/);
    } finally {
      await remove();
    }
  });
});

describe('admin API on a running serve', () => {
  let sim: Simulator;
  let serve: RunningServe;
  let base: string;
  let remove: () => Promise<void>;
  before(async () => {
    sim = await Simulator.start({ password: 'ClueCon' });
    const tmp = await tempDir('prepaid-admin-');
    remove = tmp.remove;
    serve = await startServe(tmp.dir, ['--admin', '127.0.0.1:0', '--ring-check-ms', '50'], { PREPAID_ADMIN_TOKEN: TOKEN });
    base = serve.admin!;
  });
  after(async () => {
    assert.equal(await serve.stop(), EXIT.ok);
    await sim.stop();
    await remove();
  });

  it('/health and /metrics answer without the token; /api/* and / need it', async () => {
    const health = await api(base, 'GET', '/health', undefined, null);
    assert.equal(health.status, 200);
    assert.equal(health.json.status, 'ok');
    assert.equal(health.json.listener.address, `127.0.0.1:${serve.port}`);
    assert.equal(health.json.database.ok, true);
    const metrics = await api(base, 'GET', '/metrics', undefined, null);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type')!, /^text\/plain/);
    assert.match(metrics.text, /^prepaid_live_calls 0$/m);
    assert.match(metrics.text, /^process_cpu_user_seconds_total /m);
    for (const path of ['/', '/api/accounts', '/api/calls/live', '/api/events']) {
      for (const token of [null, 'wrong']) {
        const r = await api(base, 'GET', path, undefined, token);
        assert.equal(r.status, 401, `${path} with ${token}`);
        assert.equal(r.json.code, 'UNAUTHORIZED');
        assert.match(r.headers.get('www-authenticate')!, /Bearer realm="prepaid"/);
      }
    }
    const basic = await fetch(base + '/', { headers: { authorization: `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}` } });
    assert.equal(basic.status, 200);
    assert.match(await basic.text(), /<title>prepaid<\/title>/);
    assert.equal((await api(base, 'GET', '/nothing-here')).status, 404);
  });

  it('accounts: create, list, show, credit with an idempotency key; bad input 400 and nothing written', async () => {
    const created = await api(base, 'POST', '/api/accounts', { account: 'acme', interval_duration: 6, name: 'Acme Ltd', credit: 10 });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.account.account, 'acme');
    assert.equal(created.json.remaining, 10);
    const again = await api(base, 'POST', '/api/accounts', { account: 'acme', interval_duration: 6 });
    assert.equal(again.status, 409);
    assert.equal(again.json.code, 'ACCOUNT_EXISTS');

    const bad: Array<[unknown, RegExp]> = [
      [{ account: 'half', interval_duration: 6, credit: 1.5 }, /credit must be a positive whole number/],
      [{ account: 'half', interval_duration: -1 }, /interval_duration must be a positive number/],
      [{ account: 'half' }, /interval_duration is required/],
      [{ account: 'half', interval_duration: '6' }, /interval_duration is required \(a number\)/],
      [{ account: 'bad name!', interval_duration: 6 }, /invalid account name/],
      [{ account: 'half', interval_duration: 6, name: 7 }, /name must be a string/],
      ['{not json', /not JSON/],
      ['[1,2]', /must be a JSON object/],
    ];
    for (const [body, message] of bad) {
      const r = await api(base, 'POST', '/api/accounts', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.json.code, 'BAD_REQUEST');
      assert.match(r.json.error, message);
    }
    const plain = await fetch(base + '/api/accounts', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{}' });
    assert.equal(plain.status, 415);

    const list = await api(base, 'GET', '/api/accounts');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.accounts.map((a: { account: string }) => a.account), ['acme'], 'no half-written account');
    assert.equal(list.json.accounts[0].remaining, 10);
    assert.equal(list.json.accounts[0].name, 'Acme Ltd');

    const credit = await api(base, 'POST', '/api/accounts/acme/credits', { intervals: 5, id: 'pay-1', reason: 'card' });
    assert.equal(credit.status, 201, credit.text);
    assert.deepEqual([credit.json.applied, credit.json.remaining], [true, 15]);
    const repeat = await api(base, 'POST', '/api/accounts/acme/credits', { intervals: 5, id: 'pay-1' });
    assert.equal(repeat.status, 200);
    assert.deepEqual([repeat.json.applied, repeat.json.remaining], [false, 15]);
    for (const body of [{ intervals: 0 }, { intervals: 2.5 }, { intervals: '3' }, { intervals: 1, id: 'bad id!' }]) {
      const r = await api(base, 'POST', '/api/accounts/acme/credits', body);
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    const missing = await api(base, 'POST', '/api/accounts/nobody/credits', { intervals: 1 });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { error: 'no account nobody', code: 'NOT_FOUND' });
    assert.equal((await api(base, 'GET', '/api/accounts/nobody')).status, 404);
    assert.equal((await api(base, 'GET', '/api/accounts/%E0%A4%A')).status, 400);

    const show = await api(base, 'GET', '/api/accounts/acme');
    assert.equal(show.status, 200);
    assert.equal(show.json.remaining, 15);
    assert.equal(show.json.credited, 15);
    assert.deepEqual(show.json.credits.map((c: { reason?: string }) => c.reason), ['initial credit', 'card']);
    assert.equal((await api(base, 'DELETE', '/api/accounts/acme')).status, 405);
    assert.equal((await api(base, 'GET', '/api/calls?limit=0')).status, 400);
  });

  it('a call shows in /api/calls/live with its paid time, then in /api/calls and the metrics', async () => {
    await api(base, 'POST', '/api/accounts', { account: 'live', interval_duration: 0.2, credit: 100 });
    const events = await fetch(base + '/api/events', { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(events.headers.get('content-type'), 'text/event-stream');
    const reader = events.body!.getReader();
    let stream = '';
    const readUntil = async (pattern: RegExp) =>
      waitFor(`event stream to match ${pattern}`, async () => {
        if (pattern.test(stream)) return true;
        const { value } = await reader.read();
        stream += Buffer.from(value ?? new Uint8Array()).toString('utf8');
        return pattern.test(stream) ? true : undefined;
      });
    await readUntil(/event: snapshot\ndata: .*"account":"live"/);

    const uuid = await sim.originate({
      direction: 'inbound',
      variables: { ccnq_account: 'live', target: 'sim/2000/answer-after-20/hangup-after-700' },
      socket: `127.0.0.1:${serve.port} async full`,
    });
    const talking = await waitFor('the call to be talking with paid time', async () => {
      const { json } = await api(base, 'GET', '/api/calls/live');
      return json.calls.find((c: { uuid: string; paidUntil: string | null }) => c.uuid === uuid && c.paidUntil !== null);
    });
    assert.equal(talking.account, 'live');
    assert.equal(talking.target, 'sim/2000/answer-after-20/hangup-after-700');
    assert.equal(talking.phase, 'talking');
    assert.equal(talking.intervalDuration, 0.2);
    assert.ok(talking.intervalsCharged >= 1);
    const paidAhead = Date.parse(talking.paidUntil) - Date.parse(talking.answeredAt);
    // Charging starts at the answer: the paid time is the intervals charged, give or take the
    // moment charging started (generous: a loaded machine may take a while to get there).
    assert.ok(Math.abs(paidAhead - talking.intervalsCharged * 200) < 1000, `paid ${paidAhead} ms for ${talking.intervalsCharged} interval(s)`);
    await readUntil(new RegExp(`event: call\\ndata: .*"uuid":"${uuid}".*"phase":"talking"`));
    await readUntil(/event: balance\ndata: .*"account":"live"/);
    await readUntil(new RegExp(`event: ended\\ndata: .*"uuid":"${uuid}".*"outcome":"completed"`));
    await reader.cancel();

    const live = await api(base, 'GET', '/api/calls/live');
    assert.deepEqual(live.json.calls, []);
    const calls = await api(base, 'GET', '/api/calls?account=live&limit=5');
    assert.equal(calls.json.calls.length, 1);
    assert.equal(calls.json.calls[0].call, uuid);
    const charged = calls.json.calls[0].intervals;
    assert.ok(charged >= 3, `a 700 ms call on 200 ms intervals: ${charged}`);
    assert.deepEqual((await api(base, 'GET', '/api/calls?account=acme')).json.calls, []);

    const metrics = (await api(base, 'GET', '/metrics', undefined, null)).text;
    assert.match(metrics, /^prepaid_calls_total\{outcome="completed"\} 1$/m);
    assert.match(metrics, new RegExp(`^prepaid_intervals_charged_total ${charged}$`, 'm'));
    assert.match(metrics, /^prepaid_db_operation_duration_seconds_count\{operation="record interval",result="ok"\} \d+$/m);
    assert.match(metrics, /^prepaid_live_calls 0$/m);
  });
});

describe('GET /health', () => {
  it('503 with the reasons when the listener is not accepting or the database does not answer', async () => {
    const store = await PrepaidStore.open({ kind: 'memory', name: `health-${process.pid}-${Date.now()}` });
    const server = new PrepaidServer({ store, logger: silentLogger });
    const metrics = new PrepaidMetrics();
    metrics.watch(server);
    const service = new AdminService({
      operations: storeOperations(store),
      calls: server,
      metrics,
      pingDatabase: () => store.ping(),
      listener: () => server.address(),
      logger: silentLogger,
    });
    try {
      const { port } = await service.listen('127.0.0.1', 0);
      const base = `http://127.0.0.1:${port}`;
      let r = await api(base, 'GET', '/health', undefined, null);
      assert.equal(r.status, 503);
      assert.match(r.json.reason, /not accepting calls from FreeSWITCH/);
      assert.equal(r.json.database.ok, true);
      await server.listen({ host: '127.0.0.1', port: 0 });
      r = await api(base, 'GET', '/health', undefined, null);
      assert.equal(r.status, 200, r.text);
      await store.close();
      r = await api(base, 'GET', '/health', undefined, null);
      assert.equal(r.status, 503);
      assert.equal(r.json.listener.ok, true);
      assert.equal(r.json.database.ok, false);
      assert.match(r.json.reason, /^database: /);
      const down = await api(base, 'GET', '/api/accounts');
      assert.equal(down.status, 503, 'no token configured: the API is open on loopback');
      assert.match(down.json.code, /^PREPAID_DB_/);
    } finally {
      await service.close();
      await server.close();
      await store.destroy().catch(() => {});
    }
  });
});
