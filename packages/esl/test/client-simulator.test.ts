/**
 * Inbound client against the FreeSWITCH simulator (freeswitch-esl/testing): the acceptance-level
 * paths — auth, api/bgapi, events in three formats, CUSTOM subclasses, sendevent, execute,
 * hangup, logs, filters, ACL, shutdown notice, reconnect.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { connect, type EslClient } from '../src/inbound/client.js';
import type { LogRecord } from '../src/transport/connection.js';
import {
  EslAccessDeniedError,
  EslAuthError,
  EslCommandError,
  EslConnectionClosedError,
  EslHangupError,
} from '../src/errors.js';
import type { EslEvent } from '../src/protocol/event.js';
import { Simulator } from '../src/testing/index.js';
import type { SimulatorOptions } from '../src/testing/index.js';

const sims: Simulator[] = [];
const clients: EslClient[] = [];

async function setup(options: SimulatorOptions = {}, extra: Parameters<typeof connect>[0] = {}) {
  const sim = await Simulator.start({ password: 'ClueCon', ...options });
  sims.push(sim);
  const client = await connect({ host: '127.0.0.1', port: sim.port, password: options.password ?? 'ClueCon', ...extra });
  clients.push(client);
  return { sim, client };
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ timeout: 1000 })));
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

function once(c: EslClient, name: string, pred: (ev: EslEvent) => boolean = () => true): Promise<EslEvent> {
  return new Promise((resolve) => {
    const on = (ev: EslEvent) => {
      if (!pred(ev)) return;
      c.off(name, on);
      resolve(ev);
    };
    c.on(name, on);
  });
}

describe('simulator: connect and commands', () => {
  test('auth, api status, api reloadxml, close', async () => {
    const { client } = await setup({ password: 'pw1' });
    assert.match(await client.api('status'), /is ready/);
    assert.match(await client.api('reloadxml'), /^\+OK/);
    const err = await client.api('nosuchcommand').catch((e: unknown) => e);
    assert.ok(err instanceof EslCommandError);
    assert.match(err.reply, /^-ERR nosuchcommand Command not found!/);
    await client.close();
    assert.equal(client.state, 'closed');
  });

  test('wrong password: EslAuthError', async () => {
    const sim = await Simulator.start({ password: 'right' });
    sims.push(sim);
    await assert.rejects(connect({ port: sim.port, password: 'wrong' }), EslAuthError);
  });

  test('userauth with per-user permissions', async () => {
    const { client } = await setup(
      { users: { 'ops@example.com': { password: 'u-pass', allowedApi: 'status,echo', allowedEvents: 'CHANNEL_ANSWER' } } },
      { user: 'ops@example.com', password: 'u-pass' },
    );
    assert.equal(client.permissions?.allowedApi, 'status,echo');
    assert.equal(await client.api('echo hi'), 'hi');
    const denied = await client.api('reloadxml').catch((e: unknown) => e);
    assert.ok(denied instanceof EslCommandError, String(denied));
    assert.match(denied.reply, /permission denied/);
    assert.equal(await client.api('echo still paired'), 'still paired');
  });

  test('ACL rejection: EslAccessDeniedError', async () => {
    const sim = await Simulator.start({ acl: ['10.0.0.0/8'] });
    sims.push(sim);
    await assert.rejects(connect({ port: sim.port }), EslAccessDeniedError);
  });

  test('pipelined api calls pair correctly', async () => {
    const { client } = await setup();
    const results = await Promise.all(Array.from({ length: 2000 }, (_, i) => client.api(`echo ${i}`)));
    results.forEach((r, i) => assert.equal(r, String(i)));
  });

  test('bgapi resolves with the BACKGROUND_JOB body', async () => {
    const { client } = await setup();
    const seen: string[] = [];
    client.on('event', (ev) => seen.push(ev.name));
    assert.match(await client.bgapi('status'), /is ready/);
    const ev = await client.bgapiEvent('echo background');
    assert.equal(ev.body, 'background');
    assert.equal(ev.get('Job-Command'), 'echo');
    assert.deepEqual(seen, []);
  });
});

describe('simulator: events', () => {
  for (const format of ['plain', 'json', 'xml'] as const) {
    test(`CHANNEL_ANSWER in ${format}`, async () => {
      const { sim, client } = await setup();
      assert.equal(await client.subscribe(['CHANNEL_ANSWER'], format), `+OK event listener enabled ${format}`);
      const answered = once(client, 'CHANNEL_ANSWER');
      const uuid = await sim.originate({ destination: '1000', app: 'park', answerAfterMs: 5, callerIdName: 'Jürgen Ünal' });
      const ev = await answered;
      assert.equal(ev.name, 'CHANNEL_ANSWER');
      assert.equal(ev.format, format);
      assert.equal(ev.get('Unique-ID'), uuid);
      assert.equal(ev.get('Caller-Caller-ID-Name'), 'Jürgen Ünal');
      sim.hangup(uuid);
    });
  }

  test('CUSTOM subclass with a body; only subscribed subclasses arrive', async () => {
    const { sim, client } = await setup();
    await client.subscribe('CUSTOM my::subclass');
    const got: EslEvent[] = [];
    client.on('CUSTOM', (ev) => got.push(ev));
    const sub = once(client, 'CUSTOM my::subclass');
    sim.fireEvent('CUSTOM', { 'X-Other': '1' }, undefined, 'other::subclass');
    sim.fireEvent('CUSTOM', { 'X-Data': 'a b' }, 'line one\nline two\n', 'my::subclass');
    const ev = await sub;
    assert.equal(ev.subclass, 'my::subclass');
    assert.equal(ev.get('X-Data'), 'a b');
    assert.equal(ev.body, 'line one\nline two\n');
    await client.api('echo sync');
    assert.deepEqual(got.map((e) => e.subclass), ['my::subclass']);
  });

  test('sendevent returns the Event-UUID and the event comes back', async () => {
    const { client } = await setup();
    await client.subscribe('CUSTOM test::demo');
    const back = once(client, 'CUSTOM test::demo');
    const id = await client.sendevent('CUSTOM', { 'Event-Subclass': 'test::demo', 'X-Test': 'yes' }, 'hello from the client\n');
    const ev = await back;
    assert.equal(ev.get('Event-UUID'), id);
    assert.equal(ev.get('X-Test'), 'yes');
    assert.equal(ev.body, 'hello from the client\n');
  });

  test('filters restrict events to one channel; filterDelete lifts them', async () => {
    const { sim, client } = await setup();
    await client.subscribe('CHANNEL_ANSWER');
    const a = await sim.originate({ app: 'park', answerAfterMs: 1000 });
    const b = await sim.originate({ app: 'park', answerAfterMs: 1000 });
    await client.filter('Unique-ID', b);
    const seen: string[] = [];
    client.on('CHANNEL_ANSWER', (ev) => seen.push(ev.get('Unique-ID')!));
    sim.answer(a);
    sim.answer(b);
    await client.api('echo sync');
    assert.deepEqual(seen, [b]);
    await client.filterDelete('Unique-ID');
    const c = await sim.originate({ app: 'park', answerAfterMs: 1 });
    await once(client, 'CHANNEL_ANSWER', (ev) => ev.get('Unique-ID') === c);
    for (const u of [a, b, c]) sim.hangup(u);
  });

  test('log records', async () => {
    const { sim, client } = await setup();
    await client.log('INFO');
    const rec = new Promise<LogRecord>((resolve) => client.on('log', resolve));
    sim.log('WARNING', 'disk almost full', { file: 'mod_test.c', func: 'check', line: 7 });
    const r = await rec;
    assert.equal(r.level, 4);
    assert.equal(r.levelName, 'WARNING');
    assert.equal(r.file, 'mod_test.c');
    assert.match(r.text, /disk almost full/);
    await client.nolog();
  });

  test('events() iterator over a real call', async () => {
    const { sim, client } = await setup();
    await client.subscribe(['CHANNEL_CREATE', 'CHANNEL_ANSWER', 'CHANNEL_HANGUP_COMPLETE']);
    const stream = client.events({ names: ['CHANNEL_CREATE', 'CHANNEL_ANSWER', 'CHANNEL_HANGUP_COMPLETE'], bufferSize: 4 });
    const uuid = await sim.originate({ app: 'park', answerAfterMs: 1, hangupAfterMs: 5 });
    const names: string[] = [];
    for await (const ev of stream) {
      if (ev.get('Unique-ID') !== uuid) continue;
      names.push(ev.name);
      if (ev.name === 'CHANNEL_HANGUP_COMPLETE') break;
    }
    assert.deepEqual(names, ['CHANNEL_CREATE', 'CHANNEL_ANSWER', 'CHANNEL_HANGUP_COMPLETE']);
  });
});

describe('simulator: calls', () => {
  test('execute playback resolves with CHANNEL_EXECUTE_COMPLETE and Application-Response', async () => {
    const { sim, client } = await setup({ playbackMs: 30 });
    const uuid = await sim.originate({ app: 'park', answerAfterMs: 1 });
    const ev = await client.execute(uuid, 'playback', 'tone_stream://%(500,0,440)');
    assert.equal(ev.name, 'CHANNEL_EXECUTE_COMPLETE');
    assert.equal(ev.get('Unique-ID'), uuid);
    assert.equal(ev.application, 'playback');
    assert.ok(ev.applicationResponse);
    const set = await client.execute(uuid, 'set', 'greeting=hello\nworld');
    assert.equal(set.application, 'set');
    assert.equal(await client.api(`uuid_getvar ${uuid} greeting`), 'hello\nworld');
    sim.hangup(uuid);
  });

  test('a hangup during execute rejects with EslHangupError; hangup() sends the cause', async () => {
    const { sim, client } = await setup({ playbackMs: 60_000 });
    const uuid = await sim.originate({ app: 'park', answerAfterMs: 1 });
    const playing = client.execute(uuid, 'playback', 'long.wav');
    await client.subscribe('CHANNEL_HANGUP');
    const hung = once(client, 'CHANNEL_HANGUP', (ev) => ev.get('Unique-ID') === uuid);
    assert.equal(await client.hangup(uuid, 'USER_BUSY'), '+OK');
    const err = await playing.catch((e: unknown) => e);
    assert.ok(err instanceof EslHangupError, String(err));
    assert.equal(err.hangupCause, 'USER_BUSY');
    assert.equal((await hung).get('Hangup-Cause'), 'USER_BUSY');
  });

  test('execute on an unknown uuid rejects with the -ERR text', async () => {
    const { client } = await setup();
    const err = await client.execute('00000000-0000-0000-0000-000000000000', 'playback', 'x').catch((e: unknown) => e);
    assert.ok(err instanceof EslCommandError);
    assert.match(err.reply, /invalid session id/);
  });
});

describe('simulator: going away', () => {
  test('shutdown notice without reconnect closes with a clear error', async () => {
    const { sim, client } = await setup();
    const closed = new Promise<Error | undefined>((resolve) => client.once('close', resolve));
    sim.dropConnections({ notice: true });
    const err = await closed;
    assert.ok(err instanceof EslConnectionClosedError);
    assert.match(err.message, /The system is being shut down/);
  });

  test('reconnect restores subscriptions and filters after the connections drop', async () => {
    const { sim, client } = await setup({}, { reconnect: { initialDelay: 5, maxDelay: 20 } });
    await client.subscribe(['CHANNEL_ANSWER', 'CUSTOM app::ping'], 'json');
    await client.filter('X-Tenant', 'acme');
    sim.dropConnections();
    await new Promise<void>((resolve) => client.once('reconnect', resolve));
    const ping = once(client, 'CUSTOM app::ping');
    sim.fireEvent('CUSTOM', { 'X-Tenant': 'other' }, undefined, 'app::ping');
    sim.fireEvent('CUSTOM', { 'X-Tenant': 'acme' }, undefined, 'app::ping');
    const ev = await ping;
    assert.equal(ev.format, 'json');
    assert.equal(ev.get('X-Tenant'), 'acme', 'the filter was restored');
    assert.match(await client.bgapi('status'), /is ready/, 'bgapi works with filters in place');
  });
});
