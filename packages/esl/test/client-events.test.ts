/**
 * Inbound client against raw servers: events (typed handlers, formats, hidden internal
 * subscriptions), bgapi, filters, log records, sendevent/sendmsg/execute, streams and leaks.
 */
import assert from 'node:assert/strict';
import { getEventListeners, setMaxListeners } from 'node:events';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { connect, type EslClient } from '../src/inbound/client.js';
import type { LogRecord } from '../src/transport/connection.js';
import {
  EslAbortError,
  EslCommandError,
  EslHangupError,
  EslInvalidArgumentError,
  EslTimeoutError,
} from '../src/errors.js';
import type { EslEvent } from '../src/protocol/event.js';
import type { Command } from '../src/protocol/command-reader.js';
import { FaultServer, type FaultConnection, type FaultServerOptions, plainEvent } from './helpers/fault-server.js';

const servers: FaultServer[] = [];
const clients: EslClient[] = [];

async function setup(options: FaultServerOptions = {}, extra: Parameters<typeof connect>[0] = {}) {
  const s = await FaultServer.start(options);
  servers.push(s);
  const c = await connect({ port: s.port, ...extra });
  clients.push(c);
  return { s, c, conn: s.connections[0]! };
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const lines = (conn: FaultConnection) => conn.received.map((c) => c.line);

/** Resolves once the server has seen `count` commands after auth. */
async function commandsSeen(conn: FaultConnection, count: number): Promise<string[]> {
  while (conn.received.length < count + 1) await delay(1);
  return lines(conn).slice(1);
}

describe('events', () => {
  test('typed handlers by name, CUSTOM and CUSTOM <subclass>, with decoded values and body', async () => {
    const { c, conn } = await setup();
    assert.equal(await c.subscribe(['CHANNEL_ANSWER', 'CUSTOM my::subclass']), '+OK event listener enabled plain');
    assert.equal(lines(conn)[1], 'event plain CHANNEL_ANSWER CUSTOM my::subclass');
    const seen: string[] = [];
    const answered = new Promise<EslEvent>((resolve) => c.on('CHANNEL_ANSWER', resolve));
    const custom = new Promise<EslEvent>((resolve) => c.on('CUSTOM', resolve));
    const sub = new Promise<EslEvent>((resolve) => c.on('CUSTOM my::subclass', resolve));
    c.on('event', (ev) => seen.push(ev.name));
    conn.event({ 'Event-Name': 'CHANNEL_ANSWER', 'Unique-ID': 'u1', 'Caller-Caller-ID-Name': 'Jürgen Ünal' });
    conn.event({ 'Event-Name': 'CUSTOM', 'Event-Subclass': 'my::subclass', 'X-Data': 'a b&c' }, 'hello\nworld\n');
    const a = await answered;
    assert.equal(a.name, 'CHANNEL_ANSWER');
    assert.equal(a.get('Caller-Caller-ID-Name'), 'Jürgen Ünal');
    assert.equal(a.get('unique-id'), 'u1');
    const cu = await custom;
    assert.equal(cu, await sub);
    assert.equal(cu.subclass, 'my::subclass');
    assert.equal(cu.get('X-Data'), 'a b&c');
    assert.equal(cu.body, 'hello\nworld\n');
    assert.deepEqual(seen, ['CHANNEL_ANSWER', 'CUSTOM']);
  });

  test('json and xml formats', async () => {
    const { c, conn } = await setup();
    await c.subscribe('ALL', 'json');
    assert.equal(c.eventFormat, 'json');
    const got: EslEvent[] = [];
    c.on('event', (ev) => got.push(ev));
    const json = JSON.stringify({ 'Event-Name': 'HEARTBEAT', 'Up-Time': '1 year', _body: 'b' });
    conn.write(`Content-Length: ${Buffer.byteLength(json)}\nContent-Type: text/event-json\n\n${json}`);
    await c.subscribe('ALL', 'xml');
    const xml = '<event>\n  <headers>\n    <Event-Name>RELOADXML</Event-Name>\n    <X>a%20b</X>\n  </headers>\n</event>';
    conn.write(`Content-Length: ${Buffer.byteLength(xml)}\nContent-Type: text/event-xml\n\n${xml}`);
    await c.api('sync');
    assert.deepEqual(got.map((e) => [e.name, e.format]), [['HEARTBEAT', 'json'], ['RELOADXML', 'xml']]);
    assert.equal(got[0]!.body, 'b');
    assert.equal(got[1]!.get('X'), 'a b');
    assert.deepEqual(lines(conn).slice(1, 3), ['event json ALL', 'event xml ALL']);
  });

  test('a server-sent Event-Name equal to one of our emitter names is not emitted under it', async () => {
    const { c, conn } = await setup();
    await c.subscribe('ALL');
    const events: string[] = [];
    c.on('event', (ev) => events.push(ev.name));
    conn.event({ 'Event-Name': 'error' });
    await c.api('sync');
    assert.deepEqual(events, ['error']);
  });

  test('unsubscribe, noevents, filters and divert_events send the right commands', async () => {
    const { c, conn } = await setup();
    await c.subscribe(['CHANNEL_ANSWER', 'CHANNEL_HANGUP']);
    assert.equal(await c.unsubscribe('CHANNEL_ANSWER'), '+OK events nixed');
    assert.equal(await c.filter('Unique-ID', 'abc def'), '+OK filter added. [Unique-ID]=[abc def]');
    await c.filterDelete('Unique-ID', 'abc def');
    await c.filterDelete('Unique-ID');
    assert.equal(await c.noevents(), '+OK no longer listening for events');
    await assert.rejects(c.divertEvents(true), (e: unknown) => e instanceof EslCommandError && /not controlling/.test(e.reply));
    assert.deepEqual(lines(conn).slice(1), [
      'event plain CHANNEL_ANSWER CHANNEL_HANGUP',
      'nixevent CHANNEL_ANSWER',
      'filter Unique-ID abc def',
      'filter delete Unique-ID abc def',
      'filter delete Unique-ID',
      'noevents',
      'divert_events on',
    ]);
  });

  test('log records', async () => {
    const { c, conn } = await setup();
    assert.match(await c.log('INFO'), /^\+OK log level INFO/);
    const rec = new Promise<LogRecord>((resolve) => c.on('log', resolve));
    conn.logData(6, '2026-11-26 23:00:10.342094 16.13% [INFO] switch_time.c:1436 Timezone reloaded 597 definitions\n', 'switch_time.c', 'switch_load_timezones', 1436);
    const r = await rec;
    assert.equal(r.level, 6);
    assert.equal(r.levelName, 'INFO');
    assert.equal(r.file, 'switch_time.c');
    assert.equal(r.func, 'switch_load_timezones');
    assert.equal(r.line, 1436);
    assert.match(r.text, /Timezone reloaded/);
    assert.equal(await c.nolog(), '+OK no longer logging');
    assert.deepEqual(lines(conn).slice(1), ['log INFO', 'nolog']);
  });
});

describe('bgapi', () => {
  test('sends its own Job-UUID, subscribes BACKGROUND_JOB itself and hides those events', async () => {
    const { c, conn } = await setup();
    const seen: string[] = [];
    c.on('event', (ev) => seen.push(ev.name));
    c.on('BACKGROUND_JOB', () => seen.push('handler'));
    const body = await c.bgapi('status');
    assert.equal(body, '+OK ran status\n');
    const [sub, bg] = conn.received.slice(1);
    assert.equal(sub!.line, 'event plain BACKGROUND_JOB');
    assert.equal(bg!.line, 'bgapi status');
    assert.match(bg!.get('Job-UUID')!, /^[0-9a-f-]{36}$/);
    assert.deepEqual(seen, [], 'BACKGROUND_JOB not shown to a client that did not subscribe');
    await c.bgapi('again');
    assert.equal(conn.received.filter((r) => r.line.startsWith('event')).length, 1, 'subscribed once');
    // Once the user subscribes, they see them.
    await c.subscribe('BACKGROUND_JOB');
    await c.bgapi('visible');
    assert.deepEqual(seen, ['BACKGROUND_JOB', 'handler']);
  });

  test('registers the waiter before writing: a result racing the reply is not lost', async () => {
    const { c } = await setup({
      onCommand: (cmd, conn) => {
        if (!cmd.line.startsWith('bgapi')) return false;
        const job = cmd.get('Job-UUID')!;
        // Event first, then the reply: not what FreeSWITCH does, but nothing may be lost.
        conn.event({ 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': job }, 'early');
        conn.reply(`+OK Job-UUID: ${job}`, `Job-UUID: ${job}\n`);
        return true;
      },
    });
    assert.equal(await c.bgapi('fast'), 'early');
  });

  test('-ERR results reject (raw returns them); a refused bgapi rejects; bgapiEvent gives the event', async () => {
    const { c } = await setup({
      onCommand: (cmd, conn) => {
        if (cmd.line === 'bgapi refused') {
          conn.reply('-ERR permission denied');
          return true;
        }
        if (cmd.line === 'bgapi fails') {
          const job = cmd.get('Job-UUID')!;
          conn.reply(`+OK Job-UUID: ${job}`, `Job-UUID: ${job}\n`);
          conn.event({ 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': job, 'Job-Command': 'fails' }, '-ERR fails Command not found!\n');
          return true;
        }
        return false;
      },
    });
    const e1 = await c.bgapi('fails').catch((e: unknown) => e);
    assert.ok(e1 instanceof EslCommandError);
    assert.equal(e1.reply, '-ERR fails Command not found!\n');
    assert.equal(await c.bgapi('fails', { raw: true }), '-ERR fails Command not found!\n');
    const e2 = await c.bgapi('refused').catch((e: unknown) => e);
    assert.ok(e2 instanceof EslCommandError && e2.reply === '-ERR permission denied');
    const ev = await c.bgapiEvent('status', { jobUuid: 'my-job' });
    assert.equal(ev.get('Job-UUID'), 'my-job');
    assert.equal(ev.get('Job-Command'), 'status');
  });

  test('completion timeout and abort, without leaking listeners', async () => {
    const { c } = await setup({
      onCommand: (cmd, conn) => {
        if (!cmd.line.startsWith('bgapi')) return false;
        const job = cmd.get('Job-UUID')!;
        conn.reply(`+OK Job-UUID: ${job}`, `Job-UUID: ${job}\n`);
        return true; // never finishes
      },
    });
    await assert.rejects(c.bgapi('slow', { completionTimeout: 20 }), EslTimeoutError);
    const ac = new AbortController();
    const p = c.bgapi('slow', { signal: ac.signal });
    await delay(5);
    ac.abort();
    await assert.rejects(p, EslAbortError);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });

  test('with user filters, each pending job gets a Job-UUID filter that is removed afterwards', async () => {
    let release: (() => void) | undefined;
    const { c, conn } = await setup({
      onCommand: (cmd, conn) => {
        if (!cmd.line.startsWith('bgapi')) return false;
        const job = cmd.get('Job-UUID')!;
        conn.reply(`+OK Job-UUID: ${job}`, `Job-UUID: ${job}\n`);
        release = () => conn.event({ 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': job }, 'done');
        return true;
      },
    });
    await c.filter('Unique-ID', 'abc');
    const p = c.bgapi('originate', { jobUuid: 'job-7' });
    await commandsSeen(conn, 4);
    release!();
    assert.equal(await p, 'done');
    await c.api('sync');
    assert.deepEqual(lines(conn).slice(1), [
      'filter Unique-ID abc',
      'event plain BACKGROUND_JOB',
      'filter Job-UUID job-7',
      'bgapi originate',
      'filter delete Job-UUID job-7',
      'api sync',
    ]);
  });

  test('a first user filter added while a job is pending lets the job filter in first; deleting the last filter removes both', async () => {
    let release: (() => void) | undefined;
    const { c, conn } = await setup({
      onCommand: (cmd, conn) => {
        if (!cmd.line.startsWith('bgapi')) return false;
        const job = cmd.get('Job-UUID')!;
        conn.reply(`+OK Job-UUID: ${job}`, `Job-UUID: ${job}\n`);
        release = () => conn.event({ 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': job }, 'done');
        return true;
      },
    });
    const p = c.bgapi('originate', { jobUuid: 'job-8' });
    await c.filter('Unique-ID', 'abc');
    await c.filterDelete('Unique-ID', 'abc');
    release!();
    assert.equal(await p, 'done');
    await c.api('sync');
    assert.deepEqual(lines(conn).slice(1), [
      'event plain BACKGROUND_JOB',
      'bgapi originate',
      'filter Job-UUID job-8',
      'filter Unique-ID abc',
      'filter delete all',
      'api sync',
    ]);
  });

  test('noevents while a job is pending keeps BACKGROUND_JOB (nixes the rest); when idle it re-subscribes', async () => {
    let release: (() => void) | undefined;
    const { c, conn } = await setup({
      onCommand: (cmd, conn) => {
        if (!cmd.line.startsWith('bgapi')) return false;
        const job = cmd.get('Job-UUID')!;
        conn.reply(`+OK Job-UUID: ${job}`, `Job-UUID: ${job}\n`);
        release = () => conn.event({ 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': job }, 'done');
        return true;
      },
    });
    await c.subscribe(['CHANNEL_ANSWER', 'BACKGROUND_JOB', 'CUSTOM a::b']);
    const p = c.bgapi('slow');
    const seen: string[] = [];
    c.on('event', (ev) => seen.push(ev.name));
    await c.noevents();
    await c.unsubscribe('BACKGROUND_JOB');
    release!();
    assert.equal(await p, 'done');
    assert.deepEqual(seen, [], 'the job result is hidden now that the user has no subscription');
    await c.noevents();
    await c.subscribe('CHANNEL_HANGUP');
    await c.unsubscribe(['CHANNEL_HANGUP', 'BACKGROUND_JOB']);
    await c.unsubscribe('ALL');
    assert.deepEqual(lines(conn).slice(1), [
      'event plain CHANNEL_ANSWER BACKGROUND_JOB CUSTOM a::b',
      'bgapi slow',
      'nixevent CHANNEL_ANSWER CUSTOM a::b',
      'noevents',
      'event plain BACKGROUND_JOB',
      'event plain CHANNEL_HANGUP',
      'nixevent CHANNEL_HANGUP',
      'nixevent ALL',
      'event plain BACKGROUND_JOB',
    ]);
  });

  test('autoSubscribe: false sends no subscription of its own', async () => {
    const { c, conn } = await setup({}, { autoSubscribe: false });
    await c.subscribe('BACKGROUND_JOB');
    assert.equal(await c.bgapi('x'), '+OK ran x\n');
    assert.deepEqual(lines(conn).slice(1), ['event plain BACKGROUND_JOB', 'bgapi x']);
  });
});

describe('sendevent, sendmsg, execute', () => {
  /** A server that runs sendmsg execute like FreeSWITCH: +OK, then EXECUTE and EXECUTE_COMPLETE events. */
  function executingServer(opts: { hangupOn?: string; shortRuns?: boolean } = {}) {
    return {
      onCommand: (cmd: Command, conn: FaultConnection) => {
        if (!cmd.line.startsWith('sendmsg ')) return false;
        const uuid = cmd.line.slice(8);
        if (uuid === 'missing') {
          conn.reply(`-ERR invalid session id [${uuid}]`);
          return true;
        }
        conn.reply('+OK');
        if (cmd.get('call-command') !== 'execute') return true;
        const app = cmd.get('execute-app-name')!;
        const arg = cmd.get('execute-app-arg') ?? cmd.bodyText;
        const appUuid = cmd.get('Event-UUID')!;
        const loops = Number(cmd.get('loops') ?? 1);
        if (app === opts.hangupOn) {
          conn.event({ 'Event-Name': 'CHANNEL_HANGUP', 'Unique-ID': uuid, 'Hangup-Cause': 'NORMAL_CLEARING' });
          return true;
        }
        let t = 1_000_000;
        const runs = loops < 0 ? 3 : loops;
        for (let i = 1; i <= runs; i++) {
          const common = {
            'Unique-ID': uuid,
            Application: app,
            'Application-Data': arg,
            'Application-UUID': appUuid,
            variable_current_loop: String(i),
            variable_total_loops: String(loops),
          };
          conn.event({ 'Event-Name': 'CHANNEL_EXECUTE', 'Event-Date-Timestamp': String(t), ...common });
          t += opts.shortRuns && i === 2 ? 100_000 : 2_000_000;
          conn.event({
            'Event-Name': 'CHANNEL_EXECUTE_COMPLETE',
            'Event-Date-Timestamp': String(t),
            'Application-Response': `run ${i}`,
            ...common,
          });
          if (opts.shortRuns && i === 2) break;
        }
        return true;
      },
    };
  }

  test('execute sends Event-UUID and resolves with the matching CHANNEL_EXECUTE_COMPLETE', async () => {
    const { c, conn } = await setup(executingServer());
    const seen: string[] = [];
    c.on('event', (ev) => seen.push(ev.name));
    const ev = await c.execute('chan-1', 'playback', 'tone_stream://%(500,0,440)', { eventLock: true, async: true });
    assert.equal(ev.name, 'CHANNEL_EXECUTE_COMPLETE');
    assert.equal(ev.applicationResponse, 'run 1');
    assert.equal(ev.applicationData, 'tone_stream://%(500,0,440)');
    const sent = conn.received.find((r) => r.line === 'sendmsg chan-1')!;
    assert.equal(sent.get('call-command'), 'execute');
    assert.equal(sent.get('execute-app-name'), 'playback');
    assert.equal(sent.get('event-lock'), 'true');
    assert.equal(sent.get('async'), 'true');
    assert.equal(sent.get('Event-UUID'), ev.applicationUuid);
    assert.deepEqual(seen, [], 'internal execute events are hidden');
    assert.equal(lines(conn)[1], 'event plain CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP');
  });

  test('a multi-line argument goes in a text/plain body', async () => {
    const { c, conn } = await setup(executingServer());
    const ev = await c.execute('chan-1', 'set', 'multi=line one\nline two');
    assert.equal(ev.applicationData, 'multi=line one\nline two');
    const sent = conn.received.find((r) => r.line === 'sendmsg chan-1')!;
    assert.equal(sent.get('execute-app-arg'), undefined);
    assert.equal(sent.get('content-type'), 'text/plain');
    assert.equal(sent.bodyText, 'multi=line one\nline two');
  });

  test('loops: settles after the last iteration, or after a run shorter than 0.5 s', async () => {
    const { c } = await setup(executingServer());
    const ev = await c.execute('chan-1', 'playback', 'a.wav', { loops: 3 });
    assert.equal(ev.applicationResponse, 'run 3');
    servers[0]!.options.onCommand = executingServer({ shortRuns: true }).onCommand;
    const short = await c.execute('chan-1', 'playback', 'a.wav', { loops: 5 });
    assert.equal(short.applicationResponse, 'run 2');
    await assert.rejects(c.execute('chan-1', 'playback', 'a.wav', { loops: 0 }), EslInvalidArgumentError);
  });

  test('rejects on -ERR, on hangup, on completion timeout and on abort', async () => {
    const { c } = await setup(executingServer({ hangupOn: 'park' }));
    const bad = await c.execute('missing', 'playback', 'x').catch((e: unknown) => e);
    assert.ok(bad instanceof EslCommandError && bad.reply === '-ERR invalid session id [missing]');
    const hung = await c.execute('chan-2', 'park').catch((e: unknown) => e);
    assert.ok(hung instanceof EslHangupError);
    assert.equal(hung.hangupCause, 'NORMAL_CLEARING');
    servers[0]!.options.onCommand = (cmd, conn) => {
      if (!cmd.line.startsWith('sendmsg')) return false;
      conn.reply('+OK');
      return true;
    };
    await assert.rejects(c.execute('chan-3', 'playback', 'long.wav', { completionTimeout: 20 }), EslTimeoutError);
    const ac = new AbortController();
    const p = c.execute('chan-3', 'playback', 'long.wav', { signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    await assert.rejects(p, EslAbortError);
  });

  test('no default timeout: a long-running application completes whenever it completes', async () => {
    let finish: (() => void) | undefined;
    const { c } = await setup(
      { onCommand: (cmd, conn) => {
          if (!cmd.line.startsWith('sendmsg')) return false;
          conn.reply('+OK');
          const id = cmd.get('Event-UUID')!;
          finish = () => conn.event({ 'Event-Name': 'CHANNEL_EXECUTE_COMPLETE', 'Unique-ID': 'c', 'Application-UUID': id, 'Application-Response': 'FILE PLAYED' });
          return true;
        } },
      { timeout: 300 },
    );
    const p = c.execute('c', 'playback', 'three-minutes.wav');
    await delay(400); // past the reply timeout: only the +OK is bound by it
    finish!();
    assert.equal((await p).applicationResponse, 'FILE PLAYED');
  });

  test('sendevent returns the Event-UUID; sendmsg and hangup send the headers', async () => {
    const { c, conn } = await setup();
    assert.equal(
      await c.sendevent('CUSTOM', { 'Event-Subclass': 'test::demo', 'Event-UUID': '39f66e45-c2d6-4cdb-9f2b-16c9009469ea' }, 'hello\nline two\n'),
      '39f66e45-c2d6-4cdb-9f2b-16c9009469ea',
    );
    const se = conn.received[1]!;
    assert.equal(se.line, 'sendevent CUSTOM');
    assert.equal(se.get('Event-Subclass'), 'test::demo');
    assert.equal(se.bodyText, 'hello\nline two\n');
    assert.equal(await c.sendmsg('u-1', { 'call-command': 'nomedia', 'nomedia-uuid': 'u-2' }), '+OK');
    assert.equal(await c.hangup('u-1', 'USER_BUSY'), '+OK');
    assert.equal(conn.received[3]!.get('hangup-cause'), 'USER_BUSY');
    assert.equal(conn.received[3]!.get('call-command'), 'hangup');
    await assert.rejects(c.sendmsg('u-1', { 'bad\nname': 'x' }), EslInvalidArgumentError);
  });
});

describe('streams and leaks', () => {
  test('events(): pause mode stops reading the socket and loses nothing', async () => {
    const { c, conn } = await setup();
    await c.subscribe('CUSTOM');
    const stream = c.events({ bufferSize: 10 });
    const n = 5000;
    const pad = 'x'.repeat(200);
    let blob = '';
    for (let i = 0; i < n; i++) blob += plainEvent({ 'Event-Name': 'CUSTOM', Seq: String(i), Pad: pad });
    conn.write(blob);
    while (stream.size < 10) await delay(2);
    await delay(30);
    // Without the pause the client would have read all 1.5 MB at once; paused, it holds at most
    // the capacity plus what one socket read (64 KiB, ~200 of these events) carried.
    assert.ok(stream.size < 1000, `buffer stayed bounded (${stream.size})`);
    let i = 0;
    for await (const ev of stream) {
      assert.equal(ev.get('Seq'), String(i));
      if (++i === n) break;
    }
    assert.equal(stream.dropped, 0);
    assert.equal(await c.api('still alive'), 'still alive', 'the socket was resumed');
  });

  test('events(): drop mode counts what it discards; names select', async () => {
    const { c, conn } = await setup();
    await c.subscribe('ALL');
    const dropping = c.events({ bufferSize: 10, overflow: 'drop', names: ['CUSTOM'] });
    const oldest = c.events({ bufferSize: 10, overflow: 'drop-oldest', names: ['CUSTOM x::y'] });
    for (let i = 0; i < 100; i++) conn.event({ 'Event-Name': 'CUSTOM', 'Event-Subclass': 'x::y', Seq: String(i) });
    conn.event({ 'Event-Name': 'HEARTBEAT' });
    await c.api('sync');
    assert.equal(dropping.size, 10);
    assert.equal(dropping.dropped, 90);
    assert.equal(oldest.dropped, 90);
    assert.equal((await dropping.next()).value!.get('Seq'), '0');
    assert.equal((await oldest.next()).value!.get('Seq'), '90');
    dropping.return();
    oldest.return();
  });

  test('events() ends on close, throws the failure on a failed close, and can be aborted', async () => {
    const { c, conn } = await setup();
    await c.subscribe('ALL');
    const ac = new AbortController();
    const aborted = c.events({ signal: ac.signal });
    ac.abort();
    assert.deepEqual(await aborted.next(), { value: undefined, done: true });
    const s1 = c.events();
    conn.event({ 'Event-Name': 'HEARTBEAT' });
    await c.api('sync');
    conn.destroy();
    assert.equal((await s1.next()).value!.name, 'HEARTBEAT', 'buffered events are still delivered');
    await assert.rejects(s1.next(), /closed by the server/);
    assert.deepEqual(await s1.next(), { value: undefined, done: true });
  });

  test('thousands of commands, subscriptions, streams and signals leave no listeners behind', async () => {
    const { c, conn } = await setup();
    const names = () => Object.fromEntries(c.eventNames().map((n) => [String(n), c.listenerCount(n)]));
    const before = names();
    const socketBefore = conn.socket.listenerCount('data');
    const ac = new AbortController();
    setMaxListeners(0, ac.signal); // thousands of calls share it on purpose
    const work: Array<Promise<unknown>> = [];
    for (let i = 0; i < 2000; i++) {
      work.push(c.api(`n ${i}`, { signal: ac.signal, timeout: 10_000 }));
      work.push(c.subscribe(i % 2 ? 'CHANNEL_ANSWER' : 'CUSTOM a::b'));
      work.push(c.unsubscribe('CHANNEL_ANSWER'));
      work.push(c.bgapi(`job ${i}`, { signal: ac.signal, completionTimeout: 10_000 }));
      const s = c.events({ names: ['CHANNEL_ANSWER'] });
      s.return();
      const st = c.states();
      st.return();
      const h = () => undefined;
      c.on('CHANNEL_ANSWER', h);
      c.off('CHANNEL_ANSWER', h);
    }
    await Promise.all(work);
    assert.deepEqual(names(), before);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    assert.equal(conn.socket.listenerCount('data'), socketBefore);
  });
});
