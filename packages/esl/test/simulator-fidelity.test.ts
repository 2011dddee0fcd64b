/**
 * Fidelity: the scenarios of the real FreeSWITCH 1.10.12 captures in test/fixtures,
 * replayed against the simulator. Frames must match in content types, reply texts, event types,
 * header names (and their order, per event type and situation) and value encoding; values that
 * are naturally different (UUIDs, times, counters) are masked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EslEvent, type Frame, parseFrames } from '../src/protocol/index.js';
import { fixture } from './helpers/fixtures.js';
import { OutboundServer, Wire, startSim } from './helpers/simulator.js';

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Masks what legitimately differs: UUIDs, numbers (times, counters, sizes), plural endings after numbers. */
function mask(text: string): string {
  return text
    .replace(UUID_RE, '<uuid>')
    .replace(/\d+(\.\d+)? (year|day|hour|minute|second|millisecond|microsecond)s?\b/g, 'N $2')
    .replace(/\d+(\.\d+)?/g, 'N');
}

/** The situation an event was fired in: type, loopback leg, state, application, call state. */
function situation(ev: EslEvent): string {
  const leg = (ev.get('Channel-Name') ?? '').slice(-2);
  return [ev.name, leg, ev.get('Channel-State') ?? '', ev.get('Application') ?? '', ev.get('Channel-Call-State') ?? ''].join('|');
}

function headerNames(ev: EslEvent): string {
  return [...ev.headers()].map(([n]) => n).join(',');
}

/** Per situation, the distinct ordered header-name lists. */
function shapes(frames: Frame[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of frames) {
    const ev = EslEvent.fromFrame(f);
    if (!ev || TIMING_ONLY.has(ev.name)) continue;
    const key = situation(ev);
    if (!out.has(key)) out.set(key, new Set());
    out.get(key)!.add(headerNames(ev));
  }
  return out;
}

function eventCounts(frames: Frame[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of frames) {
    const ev = EslEvent.fromFrame(f);
    if (ev && !TIMING_ONLY.has(ev.name)) out[ev.name] = (out[ev.name] ?? 0) + 1;
  }
  return out;
}

/** Events that depend on wall-clock timing (xml.bin caught a heartbeat); checked separately. */
const TIMING_ONLY = new Set(['HEARTBEAT', 'RE_SCHEDULE']);

function nonEventFrames(frames: Frame[]): string[] {
  return frames
    .filter((f) => !f.contentType.startsWith('text/event-'))
    .map((f) => mask(`${f.contentType} ${f.headers.filter(([n]) => n !== 'Content-Type').map(([n, v]) => `${n}=${v}`).join(' ')} ${f.bodyText}`));
}

for (const format of ['plain', 'json', 'xml'] as const) {
  test(`fidelity ${format}.bin: event ALL, 3x bgapi originate loopback &park, api hupall`, { timeout: 20_000 }, async (t) => {
    const sim = await startSim(t, { timeScale: 0.01 });
    const w = await Wire.login(sim);
    await w.command(`event ${format} ALL`);
    for (let i = 0; i < 3; i++) {
      await w.command("bgapi originate {origination_caller_id_name='Jürgen Ünal'}loopback/9999/default &park");
    }
    await w.count((e) => e.name === 'BACKGROUND_JOB', 3);
    await w.count((e) => e.name === 'CHANNEL_PARK' || e.name === 'PLAYBACK_START', 6);
    await w.command('api hupall');
    await w.count((e) => e.name === 'CHANNEL_STATE' && e.channelState === 'CS_DESTROY', 6);
    w.close();

    const ours = parseFrames(w.raw);
    const theirs = parseFrames(fixture(`${format}.bin`));

    // Same non-event frames in the same order, same texts (UUIDs masked).
    assert.deepEqual(nonEventFrames(ours), nonEventFrames(theirs));
    // Same event types, same number of each.
    assert.deepEqual(eventCounts(ours), eventCounts(theirs));
    // Same header names in the same order, for every situation.
    const a = shapes(ours);
    const b = shapes(theirs);
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [key, set] of b) assert.deepEqual([...a.get(key)!].sort(), [...set].sort(), key);

    // Same values too (masked), in the first event of every situation, apart from the switch's identity and dates.
    const firstValues = (frames: Frame[]): Map<string, Record<string, string>> => {
      const m = new Map<string, Record<string, string>>();
      for (const f of frames) {
        const ev = EslEvent.fromFrame(f);
        if (ev && !TIMING_ONLY.has(ev.name) && !m.has(situation(ev))) m.set(situation(ev), ev.toObject());
      }
      return m;
    };
    const ourValues = firstValues(ours);
    for (const [key, theirsObj] of firstValues(theirs)) {
      const oursObj = ourValues.get(key)!;
      for (const [h, v] of Object.entries(theirsObj)) {
        if (/^(FreeSWITCH-|Core-UUID|Event-Date-)/.test(h)) continue;
        assert.equal(mask(oursObj[h]!), mask(v), `${key} ${h}`);
      }
    }

    // Encoding: plain and xml URL-encode values, json carries raw UTF-8; Content-Length counts bytes.
    const ourCreate = ours.find((f) => EslEvent.fromFrame(f)?.name === 'CHANNEL_CREATE')!;
    const theirCreate = theirs.find((f) => EslEvent.fromFrame(f)?.name === 'CHANNEL_CREATE')!;
    const name = format === 'json' ? 'Jürgen Ünal' : 'J%C3%BCrgen%20%C3%9Cnal';
    for (const f of [ourCreate, theirCreate]) {
      assert.ok(f.body!.includes(Buffer.from(name)), `${format} encodes the caller name as ${name}`);
      assert.equal(Number(f.get('Content-Length')), f.body!.length);
      assert.deepEqual(f.headers.map(([n]) => n), ['Content-Length', 'Content-Type']);
    }
    const ourEv = EslEvent.fromFrame(ourCreate)!;
    assert.equal(ourEv.callerIdName, 'Jürgen Ünal');
    assert.equal(ourEv.variable('origination_caller_id_name'), 'Jürgen Ünal');
  });
}

test('fidelity xml.bin: HEARTBEAT and RE_SCHEDULE shapes (heartbeat enabled)', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { heartbeatIntervalMs: 20 });
  const w = await Wire.login(sim);
  await w.command('event xml HEARTBEAT RE_SCHEDULE');
  const hb = await w.event((e) => e.name === 'HEARTBEAT');
  const rs = await w.event((e) => e.name === 'RE_SCHEDULE');
  w.close();
  const theirs = parseFrames(fixture('xml.bin')).map((f) => EslEvent.fromFrame(f)).filter((e): e is EslEvent => e !== undefined);
  const tHb = theirs.find((e) => e.name === 'HEARTBEAT')!;
  const tRs = theirs.find((e) => e.name === 'RE_SCHEDULE')!;
  assert.equal(headerNames(hb), headerNames(tHb));
  assert.equal(headerNames(rs), headerNames(tRs));
  assert.equal(hb.get('Event-Calling-Function'), tHb.get('Event-Calling-Function'));
  assert.equal(mask(hb.get('Up-Time')!), mask(tHb.get('Up-Time')!));
  assert.equal(hb.get('FreeSWITCH-Version'), tHb.get('FreeSWITCH-Version'));
});

/** The commands of a transcript, in order (`>>> SEND "<json string>"` lines). */
function transcriptCommands(name: string): string[] {
  return fixture(name)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith('>>> SEND '))
    .map((l) => JSON.parse(l.slice(9)) as string);
}

test('fidelity misc.bin: every command of misc-transcript.txt gets the same reply', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.connect(sim.port);
  await w.next();
  for (const cmd of transcriptCommands('misc-transcript.txt')) {
    w.send(cmd);
    if (cmd.startsWith('exit')) break;
    await w.reply();
    if (cmd.startsWith('bgapi')) await w.event((e) => e.name === 'BACKGROUND_JOB');
    if (cmd.startsWith('sendevent')) await w.event((e) => e.name === 'CUSTOM');
    if (cmd.startsWith('api reloadxml')) await w.next((f) => f.contentType === 'log/data');
  }
  await w.waitClosed();
  const ours = parseFrames(w.raw);
  const theirs = parseFrames(fixture('misc.bin'));
  assert.deepEqual(ours.map((f) => f.contentType), theirs.map((f) => f.contentType));
  for (let i = 0; i < theirs.length; i++) {
    const o = ours[i]!;
    const th = theirs[i]!;
    assert.deepEqual(o.headers.map(([n]) => n), th.headers.map(([n]) => n), `frame ${i} header names`);
    const ev = EslEvent.fromFrame(th);
    if (ev) {
      const oe = EslEvent.fromFrame(o)!;
      assert.equal(headerNames(oe), headerNames(ev), `event ${ev.name}`);
      assert.equal(mask(oe.body), mask(ev.body), `body of ${ev.name}`);
      for (const h of ['Event-Name', 'Event-Subclass', 'Job-UUID', 'Job-Command', 'Command', 'Content-Type', 'Event-Calling-File', 'Event-Calling-Function', 'Event-Calling-Line-Number']) {
        assert.equal(oe.get(h), ev.get(h), `${ev.name} ${h}`);
      }
    } else if (th.contentType === 'log/data') {
      for (const h of ['Log-Level', 'Text-Channel', 'Log-File', 'Log-Func', 'Log-Line', 'User-Data']) assert.equal(o.get(h), th.get(h), h);
      assert.equal(mask(o.bodyText), mask(th.bodyText));
    } else {
      assert.equal(mask(o.headers.map(([n, v]) => `${n}: ${v}`).join('\n')), mask(th.headers.map(([n, v]) => `${n}: ${v}`).join('\n')), `frame ${i}`);
      assert.equal(mask(o.bodyText), mask(th.bodyText), `frame ${i} body`);
    }
  }
});

test('fidelity misc-badauth.bin: byte-identical', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.connect(sim.port);
  await w.next();
  for (const cmd of transcriptCommands('misc-badauth-transcript.txt')) w.send(cmd);
  await w.waitClosed();
  assert.deepEqual(w.raw, fixture('misc-badauth.bin'));
});

test('fidelity outbound.bin: connect reply, myevents/linger/playback, uuid_kill, linger notice', { timeout: 20_000 }, async (t) => {
  const app = await OutboundServer.start();
  t.after(() => app.stop());
  const sim = await startSim(t, { timeScale: 0.01, dialplan: { '7001': { socket: `127.0.0.1:${app.port} async full` } } });
  const control = await Wire.login(sim);
  await control.command('bgapi originate loopback/7001/default &park');
  const w = await app.accept();
  const sent = fixture('outbound-sent.txt').toString('utf8').split('\n--- raw')[0]!.trim().split('\n').map((l) => JSON.parse(l) as string);
  for (const cmd of sent) {
    w.send(cmd);
    await w.reply();
  }
  await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'playback');
  const uuid = EslEvent.fromHeaders(w.frames[0]!.headers, undefined, { encoded: true }).uniqueId!;
  assert.equal((await control.command(`api uuid_kill ${uuid}`)).bodyText, '+OK\n');
  await w.event((e) => e.name === 'CHANNEL_HANGUP_COMPLETE');
  control.close();
  w.close();

  const ours = parseFrames(w.raw);
  const theirs = parseFrames(fixture('outbound.bin'));
  const describe = (f: Frame): string => {
    const ev = EslEvent.fromFrame(f);
    return ev ? `${ev.name}:${ev.application ?? ''}` : `${f.contentType}:${f.get('Reply-Text') ?? f.get('Content-Disposition') ?? ''}`;
  };
  assert.deepEqual(ours.map(describe), theirs.map(describe));
  for (let i = 0; i < theirs.length; i++) {
    const o = ours[i]!;
    const th = theirs[i]!;
    const te = EslEvent.fromFrame(th);
    const oe = EslEvent.fromFrame(o);
    if (te) assert.equal(headerNames(oe!), headerNames(te), describe(th));
    else assert.deepEqual(o.headers.map(([n]) => n), th.headers.map(([n]) => n), describe(th));
    // Values match too, masked, apart from the switch's identity and the dates.
    const theirPairs = te ? [...te.headers()] : i === 0 ? [...EslEvent.fromHeaders(th.headers, undefined, { encoded: true }).headers()] : [];
    const ourPairs = oe ? [...oe.headers()] : i === 0 ? [...EslEvent.fromHeaders(o.headers, undefined, { encoded: true }).headers()] : [];
    theirPairs.forEach(([h, v], j) => {
      if (/^(FreeSWITCH-|Core-UUID|Event-Date-)/.test(h)) return;
      assert.equal(mask(ourPairs[j]![1]), mask(v), `${describe(th)} ${h}`);
    });
  }
  // The connect reply: same header names and order, URL-encoded values, the same fixed trailer.
  const connect = ours[0]!;
  assert.deepEqual(connect.headers.slice(-4), theirs[0]!.headers.slice(-4));
  assert.equal(connect.body, undefined);
  const linger = ours.find((f) => f.contentType === 'text/disconnect-notice')!;
  const theirLinger = theirs.find((f) => f.contentType === 'text/disconnect-notice')!;
  assert.equal(linger.get('Linger-Time'), theirLinger.get('Linger-Time'));
  assert.equal(linger.get('Controlled-Session-UUID'), uuid);
  assert.equal(linger.get('Channel-Name'), 'loopback/7001-b');
  const exec = ours.map((f) => EslEvent.fromFrame(f)).find((e) => e?.name === 'CHANNEL_EXECUTE')!;
  assert.equal(exec.applicationUuid, 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
  assert.equal(exec.applicationData, 'tone_stream://%(500,0,440)');
  assert.equal(ours.some((f) => EslEvent.fromFrame(f)?.name === 'CHANNEL_DESTROY'), false);
});
