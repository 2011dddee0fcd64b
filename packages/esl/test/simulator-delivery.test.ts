/**
 * Event delivery with many listeners at once: each connection gets exactly the events MES
 * event_handler would give it (subscriptions, ALL minus nixevent, CUSTOM subclasses, filters,
 * myevents bound to a session, Job-Owner-UUID, noevents, per-connection formats), checked
 * against a model of those rules over every event the simulator fired.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EslEvent } from '../src/protocol/index.js';
import type { SimEvent } from '../src/testing/index.js';
import { OutboundServer, Wire, delay, startSim, until } from './helpers/simulator.js';

/** The per-channel types `myevents` subscribes to (MES parse_command). */
const MYEVENTS = new Set([
  'CHANNEL_ANSWER', 'CHANNEL_APPLICATION', 'CHANNEL_BRIDGE', 'CHANNEL_CREATE', 'CHANNEL_DATA', 'CHANNEL_DESTROY',
  'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_ORIGINATE',
  'CHANNEL_UUID', 'CHANNEL_OUTGOING', 'CHANNEL_PARK', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_STATE',
  'CHANNEL_UNBRIDGE', 'CHANNEL_UNPARK', 'DETECTED_SPEECH', 'DTMF', 'NOTALK', 'TALK',
]);

const sequence = (e: EslEvent | SimEvent): string => e.get('Event-Sequence') ?? '?';

test('many listeners: each gets exactly what its subscription, filters and myevents allow', { timeout: 20_000 }, async (t) => {
  const app = await OutboundServer.start();
  t.after(() => app.stop());
  const sim = await startSim(t, { timeScale: 0.02 });
  const fired: SimEvent[] = [];
  sim.on('event', (ev) => fired.push(ev));

  // Two calls controlled by outbound sockets with myevents (A plain plus its own jobs, B json).
  const sessions: Array<{ uuid: string; w: Wire }> = [];
  for (const format of ['', 'json']) {
    const uuid = await sim.originate({ direction: 'inbound', socket: { port: app.port } });
    const w = await app.accept();
    const parked = sim.waitForEvent((e) => e.name === 'CHANNEL_PARK' && e.get('Unique-ID') === uuid);
    await w.command('connect');
    await parked;
    await w.command(`myevents ${format}`.trim());
    await w.command('linger');
    sessions.push({ uuid, w });
  }
  const [a, b] = sessions as [{ uuid: string; w: Wire }, { uuid: string; w: Wire }];
  await a.w.command('event plain BACKGROUND_JOB');

  // Inbound listeners, subscribed while nothing runs (the calls are parked).
  const all = await Wire.login(sim);
  await all.command('event plain ALL');
  const picky = await Wire.login(sim);
  await picky.command('event json CHANNEL_ANSWER CUSTOM sim::one');
  const allButAnswer = await Wire.login(sim);
  await allButAnswer.command('event xml ALL');
  await allButAnswer.command('nixevent CHANNEL_ANSWER');
  const filtered = await Wire.login(sim);
  await filtered.command('event plain ALL');
  await filtered.command(`filter Unique-ID ${a.uuid}`);
  // Filters of plain values only are indexed by value: two values, header name and value in
  // other cases; two header names; an exclusion (not indexed); one deleted again (all events).
  const filteredBoth = await Wire.login(sim);
  await filteredBoth.command('event plain ALL');
  await filteredBoth.command(`filter unique-id ${a.uuid.toUpperCase()}`);
  await filteredBoth.command(`filter Unique-ID ${b.uuid}`);
  const filteredNames = await Wire.login(sim);
  await filteredNames.command('event plain ALL');
  await filteredNames.command('filter Event-Name CHANNEL_ANSWER');
  await filteredNames.command('filter Event-Subclass sim::one');
  const filteredExcept = await Wire.login(sim);
  await filteredExcept.command('event plain ALL');
  await filteredExcept.command(`filter Unique-ID ${a.uuid}`);
  await filteredExcept.command('filter Event-Name -CHANNEL_ANSWER');
  const unfiltered = await Wire.login(sim);
  await unfiltered.command('event plain ALL');
  await unfiltered.command(`filter Unique-ID ${a.uuid}`);
  await unfiltered.command(`filter delete Unique-ID ${a.uuid}`);
  const watcher = await Wire.login(sim);
  assert.equal((await watcher.command(`myevents ${a.uuid}`)).get('Reply-Text'), '+OK Events Enabled');
  // The watcher holds the session like a controlling socket: without linger it would be cut off at hangup.
  await watcher.command('linger');
  const silenced = await Wire.login(sim);
  await silenced.command('event plain ALL');
  await silenced.command('noevents');
  const start = fired.length;
  const offsets = new Map([a.w, b.w].map((w) => [w, w.events().length]));

  // Activity: both calls answer, CUSTOM events, a job owned by A and one owned by nobody, hangups.
  const execute = (app: string): string => `sendmsg\ncall-command: execute\nexecute-app-name: ${app}`;
  await a.w.command(execute('answer'));
  await b.w.command(execute('answer'));
  await until(() => fired.filter((e) => e.name === 'CHANNEL_ANSWER').length === 2);
  sim.fireEvent('CUSTOM', { 'X-Note': 'one' }, undefined, 'sim::one');
  sim.fireEvent('CUSTOM', { 'X-Note': 'two' }, undefined, 'sim::two');
  await a.w.command('bgapi echo from a');
  await all.command('bgapi echo from nobody');
  await until(() => fired.filter((e) => e.name === 'BACKGROUND_JOB').length === 2);
  sim.hangup(a.uuid);
  sim.hangup(b.uuid);
  await until(() => fired.filter((e) => e.name === 'CHANNEL_HANGUP_COMPLETE').length === 2);

  const activity = fired.slice(start);
  const uid = (e: SimEvent): string | undefined => e.get('Unique-ID');
  const expected: Array<[string, Wire, (e: SimEvent) => boolean, string]> = [
    ['event ALL', all, () => true, 'plain'],
    ['names and a CUSTOM subclass', picky, (e) => e.name === 'CHANNEL_ANSWER' || (e.name === 'CUSTOM' && e.subclass === 'sim::one'), 'json'],
    ['ALL minus nixevent', allButAnswer, (e) => e.name !== 'CHANNEL_ANSWER', 'xml'],
    ['filter Unique-ID', filtered, (e) => uid(e) === a.uuid, 'plain'],
    ['two Unique-ID filters', filteredBoth, (e) => uid(e) === a.uuid || uid(e) === b.uuid, 'plain'],
    ['filters on two headers', filteredNames, (e) => e.name === 'CHANNEL_ANSWER' || e.subclass === 'sim::one', 'plain'],
    ['a filter and an exclusion', filteredExcept, (e) => uid(e) === a.uuid && e.name !== 'CHANNEL_ANSWER', 'plain'],
    ['a filter deleted again', unfiltered, () => true, 'plain'],
    ['inbound myevents <uuid>', watcher, (e) => MYEVENTS.has(e.name) && uid(e) === a.uuid, 'plain'],
    ['noevents', silenced, () => false, 'plain'],
    ['outbound A', a.w, (e) => (MYEVENTS.has(e.name) && uid(e) === a.uuid) || (e.name === 'BACKGROUND_JOB' && e.get('Job-Owner-UUID') === a.uuid), 'plain'],
    ['outbound B (json)', b.w, (e) => MYEVENTS.has(e.name) && uid(e) === b.uuid, 'json'],
  ];
  for (const [what, w, wanted] of expected) {
    const want = activity.filter(wanted).map(sequence);
    const got = (): EslEvent[] => w.events().slice(offsets.get(w) ?? 0);
    await until(() => got().length >= want.length, 5000, `${what}: ${want.length} events`);
  }
  // Anything delivered beyond the model would show up by now.
  await delay(50);
  for (const [what, w, wanted, format] of expected) {
    const want = activity.filter(wanted).map(sequence);
    const frames = w.frames.filter((f) => f.contentType?.startsWith('text/event-'));
    const got = w.events().slice(offsets.get(w) ?? 0);
    assert.deepEqual(got.map(sequence), want, what);
    if (want.length > 0) assert.ok(frames.every((f) => f.contentType === `text/event-${format}`), `${what}: format`);
  }
  assert.ok(activity.some((e) => e.name === 'CUSTOM' && e.subclass === 'sim::two'));
  for (const w of [all, picky, allButAnswer, filtered, filteredBoth, filteredNames, filteredExcept, unfiltered, watcher, silenced, a.w, b.w]) {
    w.close();
  }
});

test('events fired once reach every listener with the same bytes for the same format', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const plain = [await Wire.login(sim), await Wire.login(sim)];
  const json = await Wire.login(sim);
  for (const w of plain) await w.command('event plain CUSTOM sim::bytes');
  await json.command('event json CUSTOM sim::bytes');
  const bodies = (w: Wire): string[] => w.frames.filter((f) => f.contentType?.startsWith('text/event-')).map((f) => f.bodyText);
  sim.fireEvent('CUSTOM', { 'X-Text': 'a b&c' }, 'body text', 'sim::bytes');
  for (const w of [...plain, json]) await w.until(() => bodies(w).length === 1);
  assert.equal(bodies(plain[0]!)[0], bodies(plain[1]!)[0]);
  assert.match(bodies(plain[0]!)[0]!, /^Event-Name: CUSTOM\n[\s\S]*X-Text: a%20b%26c\nContent-Length: 9\n\nbody text$/);
  assert.equal(JSON.parse(bodies(json)[0]!)['X-Text'], 'a b&c');
  // A listener that closed is no longer offered anything, and the others still are.
  plain[0]!.close();
  await until(() => sim.connections === 2);
  sim.fireEvent('CUSTOM', {}, undefined, 'sim::bytes');
  await plain[1]!.until(() => bodies(plain[1]!).length === 2);
  await json.until(() => bodies(json).length === 2);
  for (const w of [plain[1]!, json]) w.close();
});
