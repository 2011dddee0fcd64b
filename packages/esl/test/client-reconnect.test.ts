/**
 * Reconnect: backoff, state changes, restoring subscriptions/filters/log level, never resending
 * what was in flight, terminal auth failures, giving up.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { backoffDelay, resolveReconnect } from '../src/inbound/backoff.js';
import { SubscriptionModel } from '../src/inbound/subscriptions.js';
import { connect, type ClientState, type EslClient, type ReconnectAttempt } from '../src/inbound/client.js';
import { EslAbortError, EslAuthError, EslConnectError, EslConnectionClosedError, EslInvalidArgumentError } from '../src/errors.js';
import { EVENT_NAMES, type EslEvent } from '../src/protocol/event.js';
import { FaultServer, closedPort, type FaultServerOptions } from './helpers/fault-server.js';

const servers: FaultServer[] = [];
const clients: EslClient[] = [];

async function server(options: FaultServerOptions = {}) {
  const s = await FaultServer.start(options);
  servers.push(s);
  return s;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const FAST = { initialDelay: 5, maxDelay: 40, factor: 2, jitter: 0 };

function nextState(c: EslClient, want: ClientState): Promise<void> {
  return new Promise((resolve) => {
    const on = (s: ClientState) => {
      if (s === want) {
        c.off('state', on);
        resolve();
      }
    };
    c.on('state', on);
  });
}

/** Replaying restoreLines() on a fresh model must give a model that passes exactly the same events. */
function assertSameBehaviour(m: SubscriptionModel): void {
  const r = new SubscriptionModel();
  for (const line of m.restoreLines()) {
    const [cmd, ...words] = line.split(' ');
    if (cmd === 'event') r.applyEvent(words);
    else r.applyNixevent(words);
  }
  for (const name of EVENT_NAMES) {
    for (const sub of [undefined, 'a::b', 'x::y', 'other::one']) {
      assert.equal(r.wants(name, sub), m.wants(name, sub), `${name} ${sub ?? ''}`);
    }
  }
  assert.deepEqual(r.restoreLines(), m.restoreLines());
}

describe('backoff', () => {
  test('exponential, capped, jitter only shortens', () => {
    const o = resolveReconnect({ initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.5 })!;
    assert.deepEqual([1, 2, 3, 4, 5, 50].map((a) => backoffDelay(a, o, () => 0)), [100, 200, 400, 800, 1000, 1000]);
    assert.deepEqual([1, 2, 5].map((a) => backoffDelay(a, o, () => 1)), [50, 100, 500]);
    assert.equal(backoffDelay(5000, o, () => 0.5), 750, 'no overflow to Infinity/NaN');
    assert.equal(resolveReconnect(false), undefined);
    assert.equal(resolveReconnect(true)!.maxAttempts, Infinity);
    assert.throws(() => resolveReconnect({ jitter: 2 }), EslInvalidArgumentError);
    assert.throws(() => resolveReconnect({ factor: 0.5 }), EslInvalidArgumentError);
  });

  test('subscription model rebuilds FreeSWITCH state', () => {
    const m = new SubscriptionModel();
    m.applyEvent(['json', 'ALL']);
    m.applyNixevent(['HEARTBEAT']);
    m.applyNixevent(['CUSTOM', 'x::y']);
    assert.equal(m.wants('HEARTBEAT', undefined), false);
    assert.equal(m.wants('CUSTOM', 'a::b'), true);
    assert.equal(m.wants('CUSTOM', 'x::y'), false);
    assert.deepEqual(m.restoreLines(), ['event json ALL', 'nixevent CUSTOM x::y', 'nixevent HEARTBEAT']);
    assertSameBehaviour(m);
    m.applyNixevent(['ALL']);
    m.applyEvent(['HEARTBEAT']);
    assert.deepEqual(m.restoreLines(), ['event json ALL', 'nixevent CUSTOM x::y', 'nixevent ALL', 'event json HEARTBEAT']);
    assertSameBehaviour(m);
    m.applyEvent(['CUSTOM']);
    assertSameBehaviour(m);
    m.applyEvent(['ALL']);
    assertSameBehaviour(m);
    const p = new SubscriptionModel();
    p.applyEvent(['plain', 'switch_event_channel_answer', 'CUSTOM', 'a::b']);
    assert.equal(p.wants('CHANNEL_ANSWER', undefined), true);
    assert.equal(p.wants('CUSTOM', 'a::b'), true);
    assert.equal(p.wants('CUSTOM', 'c::d'), false);
    assert.deepEqual(p.restoreLines(), ['event plain CHANNEL_ANSWER CUSTOM a::b']);
    assertSameBehaviour(p);
    p.applyNixevent(['ALL']);
    // FreeSWITCH keeps the subclass hash through `nixevent ALL`: a later bare `event CUSTOM` revives it.
    assert.deepEqual(p.restoreLines(), ['event plain CUSTOM a::b', 'nixevent ALL']);
    assertSameBehaviour(p);
    p.applyEvent(['CHANNEL_HANGUP', 'CUSTOM']);
    assert.equal(p.wants('CUSTOM', 'a::b'), true);
    assertSameBehaviour(p);
    p.applyNoevents();
    assert.deepEqual(p.restoreLines(), []);
  });
});

describe('reconnect', () => {
  test('after a server restart: in-flight commands reject (retriable, never resent); state is restored', async () => {
    const s1 = await server({ onCommand: (cmd) => cmd.line === 'api inflight' });
    const port = s1.port;
    const c = await connect({ port, reconnect: FAST });
    clients.push(c);
    const states: ClientState[] = [];
    c.on('state', (st) => states.push(st));
    await c.subscribe(['CHANNEL_ANSWER', 'CUSTOM a::b'], 'json');
    await c.filter('Unique-ID', 'x');
    await c.log('INFO');
    await c.bgapi('warm up'); // the library's own BACKGROUND_JOB subscription
    const inflight = c.api('inflight');
    while (!s1.connections[0]!.received.some((r) => r.line === 'api inflight')) await delay(1);

    await s1.close(); // the switch goes away...
    const err = await inflight.catch((e: unknown) => e);
    assert.ok(err instanceof EslConnectionClosedError, String(err));
    assert.equal(err.retriable, true);
    await assert.rejects(c.api('while down'), /reconnecting/);
    await delay(30); // ...a few refused attempts...
    const s2 = await server({ port }); // ...and comes back on the same port
    await c.ready();
    const restored = s2.connections[0]!;
    while (restored.received.length < 5) await delay(1);
    assert.deepEqual(
      restored.received.map((r) => r.line),
      // Filters first: FreeSWITCH filters an event when it queues it, so no event slips in unfiltered.
      ['auth ClueCon', 'filter Unique-ID x', 'event json CHANNEL_ANSWER CUSTOM a::b', 'event json BACKGROUND_JOB', 'log INFO'],
    );
    assert.deepEqual(states.slice(0, 1), ['reconnecting']);
    assert.equal(states.at(-1), 'connected');
    const answered = new Promise<EslEvent>((resolve) => c.on('CHANNEL_ANSWER', resolve));
    restored.event({ 'Event-Name': 'CHANNEL_ANSWER', 'Unique-ID': 'x' });
    assert.equal((await answered).get('Unique-ID'), 'x');
    assert.equal(await c.api('after'), 'after');
    assert.ok(!restored.received.some((r) => r.line === 'api inflight' || r.line === 'api while down'), 'nothing resent');
  });

  test('pending bgapi and execute waiters reject when the link drops', async () => {
    const s = await server({
      onCommand: (cmd, conn) => {
        if (cmd.line.startsWith('bgapi')) {
          const job = cmd.get('Job-UUID')!;
          conn.reply(`+OK Job-UUID: ${job}`, `Job-UUID: ${job}\n`);
          return true;
        }
        return false;
      },
    });
    const c = await connect({ port: s.port, reconnect: FAST });
    clients.push(c);
    const job = c.bgapi('originate');
    const exec = c.execute('chan', 'playback', 'x.wav');
    await c.api('sync');
    s.connections[0]!.destroy();
    const [j, e] = await Promise.allSettled([job, exec]);
    assert.ok(j.status === 'rejected' && j.reason instanceof EslConnectionClosedError && j.reason.retriable);
    assert.ok(e.status === 'rejected' && e.reason instanceof EslConnectionClosedError);
    await c.ready();
  });

  test('subscriptions with ALL minus some are restored as such', async () => {
    const s = await server();
    const c = await connect({ port: s.port, reconnect: FAST });
    clients.push(c);
    await c.subscribe('ALL');
    await c.unsubscribe('HEARTBEAT');
    const dropped = new Promise<Error>((resolve) => c.once('disconnect', resolve));
    s.connections[0]!.destroy();
    assert.ok((await dropped) instanceof EslConnectionClosedError);
    await c.ready();
    const again = s.connections[1]!;
    while (again.received.length < 3) await delay(1);
    assert.deepEqual(again.received.map((r) => r.line).slice(1), ['event plain ALL', 'nixevent HEARTBEAT']);
  });

  test('a wrong password on reconnect closes for good with EslAuthError', async () => {
    const s1 = await server();
    const port = s1.port;
    const c = await connect({ port, reconnect: FAST });
    clients.push(c);
    const closed = new Promise<Error | undefined>((resolve) => c.once('close', resolve));
    await s1.close();
    const s2 = await server({ port, password: 'changed' });
    const why = await closed;
    assert.ok(why instanceof EslAuthError, String(why));
    assert.equal(c.state, 'closed');
    await delay(50);
    assert.equal(s2.connections.length, 1, 'no retry loop after an auth failure');
    await assert.rejects(c.ready(), EslAuthError);
  });

  test('gives up after maxAttempts with EslConnectError; attempts back off', async () => {
    const s = await server();
    const c = await connect({ port: s.port, reconnect: { ...FAST, maxAttempts: 3 } });
    clients.push(c);
    const attempts: ReconnectAttempt[] = [];
    c.on('reconnecting', (a) => attempts.push(a));
    const closed = new Promise<Error | undefined>((resolve) => c.once('close', resolve));
    await s.close();
    const why = await closed;
    assert.ok(why instanceof EslConnectError, String(why));
    assert.match(why.message, /gave up reconnecting after 3 attempts/);
    assert.deepEqual(attempts.map((a) => [a.attempt, a.delay]), [[1, 5], [2, 10], [3, 20]]);
    assert.ok(attempts[1]!.error instanceof EslConnectError, 'each attempt says why the last one failed');
  });

  test('backoff keeps growing against a flapping server and resets once a connection lasts stableAfter', async () => {
    // Phase 1: every connection dies right after auth and stableAfter is far away: no reset.
    let dropOnAuth = false;
    const flapping = await server({
      onCommand: (cmd, conn) => {
        if (dropOnAuth && cmd.line.startsWith('auth')) setImmediate(() => conn.destroy());
        return false;
      },
    });
    const c = await connect({ port: flapping.port, reconnect: { ...FAST, stableAfter: 60_000 } });
    clients.push(c);
    const attempts: number[] = [];
    c.on('reconnecting', (a) => attempts.push(a.attempt));
    dropOnAuth = true;
    flapping.connections[0]!.destroy();
    while (attempts.length < 4) await delay(2);
    assert.deepEqual(attempts.slice(0, 4), [1, 2, 3, 4]);
    c.destroy();

    // Phase 2: each connection outlives stableAfter (its timer is set before 'reconnect' is
    // emitted, so a longer timer started afterwards fires later): every drop starts over at 1.
    const steady = await server();
    const c2 = await connect({ port: steady.port, reconnect: { ...FAST, stableAfter: 20 } });
    clients.push(c2);
    const attempts2: number[] = [];
    c2.on('reconnecting', (a) => attempts2.push(a.attempt));
    for (let k = 0; k < 3; k++) {
      await delay(40);
      const reconnected = new Promise<void>((resolve) => c2.once('reconnect', resolve));
      steady.connections.at(-1)!.destroy();
      await reconnected;
    }
    assert.deepEqual(attempts2, [1, 1, 1]);
  });

  test('state changes as events and as an async iterable; close() during reconnect stops it', async () => {
    const s = await server();
    const c = await connect({ port: s.port, reconnect: { ...FAST, initialDelay: 1000 } });
    clients.push(c);
    const collected: ClientState[] = [];
    const iterating = (async () => {
      for await (const st of c.states()) collected.push(st);
    })();
    const reconnecting = nextState(c, 'reconnecting');
    s.connections[0]!.destroy();
    await reconnecting;
    await c.close();
    await iterating;
    assert.deepEqual(collected, ['connected', 'reconnecting', 'closing', 'closed']);
    await delay(20);
    assert.equal(s.connections.length, 1, 'no attempt after close()');
  });

  test('without reconnect, a drop is final', async () => {
    const s = await server();
    const c = await connect({ port: s.port });
    clients.push(c);
    const closed = new Promise<Error | undefined>((resolve) => c.once('close', resolve));
    s.connections[0]!.destroy();
    assert.ok((await closed) instanceof EslConnectionClosedError);
    assert.equal(c.state, 'closed');
  });

  test('a restore command the server refuses is reported on error, the client still connects', async () => {
    let refuse = false;
    const s = await server({
      onCommand: (cmd, conn) => {
        if (refuse && cmd.line.startsWith('log')) {
          conn.reply('-ERR permission denied');
          return true;
        }
        return false;
      },
    });
    const c = await connect({ port: s.port, reconnect: FAST });
    clients.push(c);
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    await c.log('DEBUG');
    refuse = true;
    s.connections[0]!.destroy();
    await nextState(c, 'reconnecting');
    await c.ready();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /permission denied/);
  });
});

describe('reconnect.initial: retrying the first connection', () => {
  test('connect() waits for a FreeSWITCH that starts later, then works', async () => {
    const port = await closedPort();
    const connecting = connect({ port, reconnect: { ...FAST, initial: true } });
    let settled = false;
    void connecting.then(() => (settled = true), () => (settled = true));
    await delay(60); // several refused attempts
    assert.equal(settled, false, 'still waiting while nothing listens');
    const s = await server({ port });
    const c = await connecting;
    clients.push(c);
    assert.equal(c.state, 'connected');
    assert.equal(await c.api('hello'), 'hello');
    assert.equal(s.connections.length, 1);
  });

  test('gives up after maxAttempts with EslConnectError carrying the last failure', async () => {
    const port = await closedPort();
    const err = await connect({ port, reconnect: { ...FAST, initial: true, maxAttempts: 3 } }).catch((e: unknown) => e);
    assert.ok(err instanceof EslConnectError, String(err));
    assert.equal(err.message, 'gave up connecting after 3 attempts');
    assert.ok(err.cause instanceof EslConnectError, 'the refused connect');
    assert.equal(err.retriable, true);
  });

  test('a wrong password fails at once, without retrying', async () => {
    const s = await server();
    const err = await connect({ port: s.port, password: 'wrong', reconnect: { ...FAST, initial: true } }).catch((e: unknown) => e);
    assert.ok(err instanceof EslAuthError, String(err));
    assert.equal(s.connections.length, 1);
  });

  test('the signal stops the waiting', async () => {
    const port = await closedPort();
    const ac = new AbortController();
    const connecting = connect({ port, signal: ac.signal, reconnect: { initialDelay: 20, maxDelay: 20, jitter: 0, initial: true } });
    await delay(50);
    ac.abort();
    const err = await connecting.catch((e: unknown) => e);
    assert.ok(err instanceof EslAbortError, String(err));
  });

  test('without initial, the first failure is reported at once', async () => {
    const port = await closedPort();
    const started = Date.now();
    const err = await connect({ port, reconnect: { initialDelay: 1000 } }).catch((e: unknown) => e);
    assert.ok(err instanceof EslConnectError, String(err));
    assert.ok(Date.now() - started < 900, 'no backoff wait');
  });
});
