import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EslEvent } from '../src/protocol/index.js';
import { OutboundServer, Wire, delay, startSim, until } from './helpers/simulator.js';

const of = (uuid: string) => (e: EslEvent): boolean => e.uniqueId === uuid;

test('api originate sim/… &park: blocks until answer, +OK <uuid>, the A-leg event sequence', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  await w.command('event plain ALL');
  // originate_function's switch_separate_string drops the quotes but keeps `\,`, which the
  // {…} block's own split (switch_event_create_brackets) then turns into a comma.
  const r = await w.command('api originate {foo=bar,quoted=\'a\\, b\'}sim/1000/answer-after-30 &park');
  const m = /^\+OK ([0-9a-f-]{36})\n$/.exec(r.bodyText);
  assert.ok(m, r.bodyText);
  const uuid = m[1]!;
  await w.event((e) => e.name === 'CHANNEL_PARK' && e.uniqueId === uuid);
  const names = w.events().filter(of(uuid)).map((e) => e.name + (e.name === 'CHANNEL_STATE' ? `:${e.channelState}` : ''));
  assert.deepEqual(names, [
    'CODEC', 'CODEC', 'CHANNEL_OUTGOING', 'CHANNEL_STATE:CS_INIT', 'CHANNEL_CREATE', 'CHANNEL_ORIGINATE',
    'CHANNEL_STATE:CS_ROUTING', 'CHANNEL_STATE:CS_CONSUME_MEDIA', 'CHANNEL_PROGRESS', 'CHANNEL_CALLSTATE',
    'CHANNEL_ANSWER', 'CHANNEL_CALLSTATE', 'CHANNEL_STATE:CS_EXECUTE', 'CHANNEL_EXECUTE', 'CHANNEL_PARK',
  ]);
  const create = w.events().find((e) => e.name === 'CHANNEL_CREATE' && e.uniqueId === uuid)!;
  assert.equal(create.variable('foo'), 'bar');
  assert.equal(create.variable('quoted'), 'a, b');
  assert.equal(create.callDirection, 'outbound');
  const info = sim.getChannel(uuid)!;
  assert.equal(info.state, 'CS_EXECUTE');
  assert.equal(info.answerState, 'answered');
  assert.equal(info.application, 'park');
  assert.equal(info.variables['foo'], 'bar');
  w.close();
});

test('api originate failures: busy, reject, no answer, unknown endpoint, usage', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { timeScale: 0.01, farEnds: { '2000': { busy: true } } });
  const w = await Wire.login(sim);
  assert.equal((await w.command('api originate sim/2000 &park')).bodyText, '-ERR USER_BUSY\n');
  assert.equal((await w.command('api originate sim/3000/reject-CALL_REJECTED &park')).bodyText, '-ERR CALL_REJECTED\n');
  assert.equal((await w.command('api originate {originate_timeout=2}sim/4000/no-answer &park')).bodyText, '-ERR NO_ANSWER\n');
  assert.equal((await w.command('api originate error/user_busy &park')).bodyText, '-ERR USER_BUSY\n');
  assert.equal((await w.command('api originate bogus/1 &park')).bodyText, '-ERR CHAN_NOT_IMPLEMENTED\n');
  assert.match((await w.command('api originate')).bodyText, /^-USAGE: <call url> <exten>/);
  await delay(30);
  assert.equal(sim.channels.length, 0);
  w.close();
});

test('api originate to an extension runs the dialplan; bgapi originate reports via BACKGROUND_JOB', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { dialplan: { '5000': { actions: ['set reached=5000', 'park'] } } });
  const w = await Wire.login(sim);
  await w.command('event plain BACKGROUND_JOB CHANNEL_EXECUTE');
  const r = await w.command('bgapi originate sim/1000 5000 XML default');
  const job = r.get('Job-UUID');
  const bg = await w.event((e) => e.name === 'BACKGROUND_JOB');
  assert.equal(bg.jobUuid, job);
  assert.equal(bg.get('Job-Command'), 'originate');
  assert.equal(bg.get('Job-Command-Arg'), 'sim/1000 5000 XML default');
  const uuid = /^\+OK (\S+)\n$/.exec(bg.body)![1]!;
  const park = await w.event((e) => e.application === 'park');
  assert.equal(park.uniqueId, uuid);
  assert.equal(park.variable('reached'), '5000');
  assert.equal(park.get('Caller-Destination-Number'), '5000');
  w.close();
});

test('loopback: two legs, B runs the dialplan, answer and hangup cross over', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { dialplan: { '600': { actions: ['answer', 'park'] } } });
  const w = await Wire.login(sim);
  await w.command('event plain CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE');
  const r = await w.command('api originate loopback/600 &echo');
  const a = r.bodyText.slice(4, -1);
  const b = sim.getChannel(a)!.variables['other_loopback_leg_uuid']!;
  assert.equal(sim.getChannel(b)!.name, 'loopback/600-b');
  assert.equal(sim.getChannel(a)!.name, 'loopback/600-a');
  assert.equal((await w.command(`api uuid_kill ${b} USER_BUSY`)).bodyText, '+OK\n');
  const ends = [await w.event((e) => e.name === 'CHANNEL_HANGUP_COMPLETE'), await w.event((e) => e.name === 'CHANNEL_HANGUP_COMPLETE')];
  assert.deepEqual(ends.map((e) => e.hangupCause), ['USER_BUSY', 'USER_BUSY']);
  assert.deepEqual(new Set(ends.map((e) => e.uniqueId)), new Set([a, b]));
  w.close();
});

test('sim.originate: outbound to a far end that answers then hangs up; hangup variables', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const created: string[] = [];
  sim.on('channelCreate', (c) => created.push(c.uuid));
  const done = sim.waitForEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE');
  const uuid = await sim.originate({ app: 'park', answerAfterMs: 10, hangupAfterMs: 30, variables: { x: 1 }, callerIdName: 'Alice', callerIdNumber: '555' });
  assert.deepEqual(created, [uuid]);
  assert.equal(sim.getChannel(uuid)!.answerState, 'ringing');
  const end = await done;
  assert.equal(end.get('Unique-ID'), uuid);
  assert.equal(end.get('Hangup-Cause'), 'NORMAL_CLEARING');
  assert.equal(end.get('variable_hangup_cause_q850'), '16');
  assert.equal(end.get('variable_x'), '1');
  assert.equal(end.get('variable_caller_id'), '"Alice" <555>');
  assert.equal(end.get('variable_last_app'), 'park');
  assert.ok(Number(end.get('variable_billmsec')) >= 20);
  await delay(10);
  assert.equal(sim.getChannel(uuid), undefined);
});

test('sim.originate busy / noAnswer leave no channel behind', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { timeScale: 0.01 });
  const causes: string[] = [];
  sim.on('event', (e) => {
    if (e.name === 'CHANNEL_HANGUP_COMPLETE') causes.push(e.get('Hangup-Cause')!);
  });
  await sim.originate({ app: 'park', busy: true, answerAfterMs: 5 });
  await sim.originate({ app: 'park', noAnswer: true, timeoutSec: 1 });
  await until(() => causes.length === 2 && sim.channels.length === 0);
  assert.deepEqual(causes.sort(), ['NO_ANSWER', 'USER_BUSY']);
});

test('inbound call: hangupAfterMs, unanswered; no route → NO_ROUTE_DESTINATION', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const uuid = await sim.originate({ direction: 'inbound', app: 'park', hangupAfterMs: 20 });
  const info = sim.getChannel(uuid)!;
  assert.equal(info.direction, 'inbound');
  const end = await sim.waitForEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.get('Unique-ID') === uuid);
  assert.equal(end.get('Answer-State'), 'hangup');
  assert.equal(end.get('variable_answersec'), '0');
  const ends = new Map<string, string>();
  sim.on('event', (e) => {
    if (e.name === 'CHANNEL_HANGUP_COMPLETE') ends.set(e.get('Unique-ID')!, e.get('Hangup-Cause')!);
  });
  const u2 = await sim.originate({ direction: 'inbound', destination: 'nowhere' });
  await until(() => ends.has(u2));
  assert.equal(ends.get(u2), 'NO_ROUTE_DESTINATION');
});

test('api channel commands: uuid_getvar/setvar/answer/kill, show channels, show calls, hupall', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  const uuid = await sim.originate({ direction: 'inbound', app: 'park', destination: '1234' });
  assert.equal((await w.command(`api uuid_setvar ${uuid} color blue`)).bodyText, '+OK\n');
  assert.equal((await w.command(`api uuid_getvar ${uuid} color`)).bodyText, 'blue');
  assert.equal((await w.command(`api uuid_getvar ${uuid} nosuch`)).bodyText, '_undef_');
  assert.equal((await w.command('api uuid_getvar 1-2-3 color')).bodyText, '-ERR No such channel!\n');
  assert.equal((await w.command(`api uuid_answer ${uuid}`)).bodyText, '+OK\n');
  assert.equal(sim.getChannel(uuid)!.answerState, 'answered');
  const csv = (await w.command('api show channels')).bodyText;
  const lines = csv.split('\n');
  assert.ok(lines[0]!.startsWith('uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,application,'));
  assert.ok(lines[1]!.startsWith(`${uuid},inbound,`));
  assert.ok(csv.endsWith('\n\n1 total.\n'));
  const json = JSON.parse((await w.command('api show channels as json')).bodyText) as { row_count: number; rows: Array<Record<string, string>> };
  assert.equal(json.row_count, 1);
  assert.equal(json.rows[0]!['uuid'], uuid);
  assert.equal(json.rows[0]!['dest'], '1234');
  assert.equal(json.rows[0]!['application'], 'park');
  assert.match((await w.command('api show calls')).bodyText, /\n\n1 total\.\n$/);
  const destroyed = sim.waitForEvent((e) => e.name === 'CHANNEL_DESTROY');
  assert.equal((await w.command('api hupall NORMAL_CLEARING color blue')).bodyText, '+OK hangup all channels matching [color]=[blue] with cause: NORMAL_CLEARING\n');
  await destroyed;
  assert.equal((await w.command('api show channels')).bodyText, '\n0 total.\n');
  assert.equal((await w.command('api show channels as json')).bodyText, '{"row_count": 0}\n');
  assert.equal((await w.command(`api uuid_kill ${uuid}`)).bodyText, '-ERR No such channel!\n');
  w.close();
});

/** Runs a call under an outbound socket and returns the program's side. */
async function controlled(t: Parameters<typeof startSim>[0], options: Parameters<typeof startSim>[1] = {}, originate: Parameters<Awaited<ReturnType<typeof startSim>>['originate']>[0] = {}) {
  const app = await OutboundServer.start();
  t.after(() => app.stop());
  const sim = await startSim(t, { timeScale: 0.02, ...options });
  const uuid = await sim.originate({ direction: 'inbound', socket: { port: app.port }, ...originate });
  const w = await app.accept();
  await w.command('connect');
  await w.command('myevents');
  await w.command('linger');
  return { sim, w, uuid };
}

function execute(app: string, arg?: string, extra: Record<string, string> = {}): string {
  let text = `sendmsg\ncall-command: execute\nexecute-app-name: ${app}`;
  if (arg !== undefined) text += `\nexecute-app-arg: ${arg}`;
  for (const [k, v] of Object.entries(extra)) text += `\n${k}: ${v}`;
  return text;
}

test('sendmsg execute: answer, set, export, playback (PLAYBACK events, variables), sleep, hangup with cause', { timeout: 20_000 }, async (t) => {
  const { w, uuid } = await controlled(t);
  await w.command('event plain PLAYBACK_START PLAYBACK_STOP');
  // Each waits for the previous one: queued messages would otherwise run nested inside playback.
  let n = 0;
  for (const [app, arg] of [['answer'], ['set', 'greeting=hello world'], ['export', 'exported=1'], ['playback', 'silence_stream://1000'], ['sleep', '500']] as Array<[string, string?]>) {
    await w.command(execute(app, arg));
    n++;
    await w.count((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE', n);
  }
  await w.command('sendmsg\ncall-command: hangup\nhangup-cause: USER_BUSY');
  await w.event((e) => e.name === 'CHANNEL_HANGUP');
  const evs = w.events();
  const apps = evs.filter((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE').slice(0, 5).map((e) => `${e.application}:${e.applicationResponse}`);
  assert.deepEqual(apps, ['answer:_none_', 'set:_none_', 'export:_none_', 'playback:FILE PLAYED', 'sleep:_none_']);
  const stop = evs.find((e) => e.name === 'PLAYBACK_STOP')!;
  assert.equal(stop.get('Playback-File-Path'), 'silence_stream://1000');
  assert.equal(stop.get('Playback-Status'), 'done');
  assert.equal(stop.variable('playback_ms'), '1000');
  assert.equal(stop.variable('playback_samples'), '8000');
  assert.equal(stop.variable('greeting'), 'hello world');
  assert.equal(stop.variable('export_vars'), 'exported');
  const hangup = evs.find((e) => e.name === 'CHANNEL_HANGUP')!;
  assert.equal(hangup.hangupCause, 'USER_BUSY');
  assert.equal(hangup.uniqueId, uuid);
});

test('sendmsg execute: Event-UUID, text/plain body as argument, ${var} expansion, unicast ignored', { timeout: 20_000 }, async (t) => {
  const { w } = await controlled(t);
  await w.command(execute('set', 'who=world'));
  const body = 'multi=line\nvalue';
  await w.command(`sendmsg\ncall-command: execute\nexecute-app-name: set\nEvent-UUID: my-app-uuid\ncontent-type: text/plain\ncontent-length: ${Buffer.byteLength(body)}\n\n${body}`);
  await w.command(execute('set', 'greeting=hello ${who}'));
  assert.equal((await w.command('sendmsg\ncall-command: unicast\nlocal-ip: 127.0.0.1')).get('Reply-Text'), '+OK');
  assert.equal((await w.command('sendmsg\nno-call-command: x')).get('Reply-Text'), '+OK');
  await w.command(execute('log', 'INFO done'));
  await w.count((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE', 4);
  const completes = w.events().filter((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE');
  assert.equal(completes[1]!.applicationUuid, 'my-app-uuid');
  assert.equal(completes[1]!.applicationData, body);
  assert.equal(completes[2]!.applicationData, 'greeting=hello world');
  assert.equal(completes[2]!.variable('greeting'), 'hello world');
  assert.equal(completes[3]!.application, 'log');
});

test('sendmsg loops: repeats with current_loop/total_loops; a run under 0.5 s stops the loop', { timeout: 20_000 }, async (t) => {
  const { w } = await controlled(t);
  await w.command(execute('playback', 'silence_stream://600', { loops: '3' }));
  await w.count((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'playback', 3);
  await w.command(execute('sleep', '100', { loops: '5' }));
  await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'sleep');
  await w.command(execute('set', 'after=1'));
  await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'set');
  const runs = w.events().filter((e) => e.name === 'CHANNEL_EXECUTE');
  assert.deepEqual(runs.map((e) => `${e.application}:${e.variable('current_loop')}/${e.variable('total_loops')}`), [
    'playback:1/3', 'playback:2/3', 'playback:3/3', 'sleep:1/5', 'set:1/1',
  ]);
});

test('without event-lock a queued message runs nested inside playback; with event-lock it waits', { timeout: 20_000 }, async (t) => {
  const { w } = await controlled(t);
  await w.command(execute('playback', 'silence_stream://2000'));
  await w.event((e) => e.name === 'CHANNEL_EXECUTE' && e.application === 'playback');
  await w.command(execute('set', 'nested=1'));
  await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'playback');
  const order1 = w.events().filter((e) => e.name.startsWith('CHANNEL_EXECUTE')).map((e) => `${e.name.slice(15) || 'START'}:${e.application}`);
  assert.deepEqual(order1, ['START:playback', 'START:set', '_COMPLETE:set', '_COMPLETE:playback']);

  await w.command(execute('playback', 'silence_stream://2000', { 'event-lock': 'true' }));
  await w.event((e) => e.name === 'CHANNEL_EXECUTE' && e.application === 'playback');
  await w.command(execute('set', 'locked=1'));
  await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'set' && e.variable('locked') === '1');
  const order2 = w.events().filter((e) => e.name.startsWith('CHANNEL_EXECUTE')).slice(4).map((e) => `${e.name.slice(15) || 'START'}:${e.application}`);
  assert.deepEqual(order2, ['START:playback', '_COMPLETE:playback', 'START:set', '_COMPLETE:set']);
});

test('sendmsg to another channel by UUID from an inbound connection; uuid_break ends playback', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { timeScale: 1 });
  const w = await Wire.login(sim);
  const uuid = await sim.originate({ app: 'park' });
  await w.command('event plain CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE PLAYBACK_STOP');
  assert.equal((await w.command(`sendmsg ${uuid}\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: silence_stream://60000`)).get('Reply-Text'), '+OK');
  await w.event((e) => e.name === 'CHANNEL_EXECUTE' && e.application === 'playback');
  assert.equal((await w.command(`api uuid_break ${uuid}`)).bodyText, '+OK\n');
  const stop = await w.event((e) => e.name === 'PLAYBACK_STOP');
  assert.equal(stop.get('Playback-Status'), 'break');
  // session-id header instead of the UUID on the command line.
  const destroyed = sim.waitForEvent((e) => e.name === 'CHANNEL_DESTROY');
  assert.equal((await w.command(`sendmsg\nsession-id: ${uuid}\ncall-command: hangup`)).get('Reply-Text'), '+OK');
  await destroyed;
  w.close();
});

test('bridge to a simulated far end: answer-after/hangup-after, CHANNEL_BRIDGE/UNBRIDGE, caller continues', { timeout: 20_000 }, async (t) => {
  const { w, uuid } = await controlled(t);
  await w.command('event plain CHANNEL_BRIDGE CHANNEL_UNBRIDGE');
  await w.command(execute('bridge', 'sim/2000/answer-after-20/hangup-after-40'));
  const bridge = await w.event((e) => e.name === 'CHANNEL_BRIDGE');
  assert.equal(bridge.get('Bridge-A-Unique-ID'), uuid);
  const peer = bridge.get('Bridge-B-Unique-ID')!;
  assert.equal(bridge.get('Other-Type'), 'originatee');
  assert.equal(bridge.get('Other-Leg-Unique-ID'), peer);
  assert.equal(bridge.answerState, 'answered');
  const unbridge = await w.event((e) => e.name === 'CHANNEL_UNBRIDGE');
  assert.equal(unbridge.get('Bridge-B-Unique-ID'), peer);
  const done = await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'bridge');
  assert.equal(done.variable('last_bridge_hangup_cause'), 'NORMAL_CLEARING');
  assert.equal(done.answerState, 'answered', 'the caller is still up after the far end hung up');
});

test('bridge failures: busy hangs the caller up; NO_ANSWER continues; continue_on_fail', { timeout: 20_000 }, async (t) => {
  const { w, uuid } = await controlled(t, { farEnds: { '3000': { noAnswer: true } } });
  await w.command(execute('bridge', '{originate_timeout=1}sim/3000'));
  const c1 = await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'bridge');
  assert.equal(c1.variable('originate_disposition'), 'NO_ANSWER');
  await w.command(execute('set', 'continue_on_fail=true'));
  await w.command(execute('bridge', 'sim/3001/busy'));
  const c2 = await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'bridge');
  assert.equal(c2.variable('originate_failed_cause'), 'USER_BUSY');
  assert.equal(c2.answerState, 'ringing');
  await w.command(execute('set', 'continue_on_fail=false'));
  await w.command(execute('bridge', 'sim/3002/busy'));
  const h = await w.event((e) => e.name === 'CHANNEL_HANGUP');
  assert.equal(h.uniqueId, uuid);
  assert.equal(h.hangupCause, 'USER_BUSY');
});

test('ringing bridge: queued sendmsgs run while it rings; sendmsg hangup cancels the far end (ORIGINATOR_CANCEL)', { timeout: 20_000 }, async (t) => {
  const { sim, w, uuid } = await controlled(t);
  const watcher = await Wire.login(sim);
  await watcher.command('event plain CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE');
  // The far end never answers and the originate timeout is far away (3600 s x timeScale 0.02 = 72 s):
  // only the caller's hangup can end this bridge within the test. A fallback leg must not be dialled.
  await w.command(execute('bridge', '{originate_timeout=3600}sim/2000/no-answer|sim/3000'));
  const created = await watcher.event((e) => e.name === 'CHANNEL_CREATE' && e.get('Caller-Destination-Number') === '2000');
  const peer = created.uniqueId!;
  assert.equal(created.get('Other-Leg-Unique-ID'), uuid);
  // switch_ivr_originate's loop runs the caller's queued messages (switch_ivr_parse_all_events).
  await w.command(execute('set', 'while_ringing=yes'));
  const set = await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'set');
  assert.equal(set.variable('while_ringing'), 'yes');
  assert.equal(sim.getChannel(peer)?.answerState, 'ringing');
  await w.command('sendmsg\ncall-command: hangup\nhangup-cause: CALL_REJECTED');
  const cancelled = await watcher.event((e) => e.name === 'CHANNEL_HANGUP' && e.uniqueId === peer);
  assert.equal(cancelled.hangupCause, 'ORIGINATOR_CANCEL');
  const done = await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'bridge');
  assert.equal(done.get('Application-Response'), '_none_');
  assert.equal(done.variable('originate_disposition'), 'ORIGINATOR_CANCEL');
  assert.equal(done.variable('DIALSTATUS'), 'CANCEL');
  assert.equal(done.variable('originate_failed_cause'), 'ORIGINATOR_CANCEL');
  assert.equal(done.hangupCause, 'CALL_REJECTED');
  const notice = await w.next((f) => f.contentType === 'text/disconnect-notice');
  assert.equal(notice.get('Content-Disposition'), 'linger');
  await watcher.event((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.uniqueId === peer);
  assert.equal(watcher.events().filter((e) => e.name === 'CHANNEL_ANSWER').length, 0);
  assert.equal(watcher.events().filter((e) => e.name === 'CHANNEL_CREATE' && e.get('Caller-Destination-Number') === '3000').length, 0);
  watcher.close();
});

test('ringing bridge: uuid_kill, sim.hangup or hupall of the caller cancels the ringing leg (sim and loopback)', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, {
    timeScale: 0.02,
    dialplan: {
      '5000': { actions: ['bridge {originate_timeout=3600}sim/2000/no-answer'] },
      '5001': { actions: ['bridge {originate_timeout=3600}loopback/7000'] },
      '7000': { actions: ['park'] },
    },
  });
  const w = await Wire.login(sim);
  await w.command('event plain CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP CHANNEL_EXECUTE_COMPLETE');
  const cases: Array<{ destination: string; kill: (uuid: string) => Promise<void> | void; callerCause: string; peerCause: string }> = [
    { destination: '5000', kill: async (u) => void (await w.command(`api uuid_kill ${u} NO_USER_RESPONSE`)), callerCause: 'NO_USER_RESPONSE', peerCause: 'ORIGINATOR_CANCEL' },
    { destination: '5000', kill: (u) => void sim.hangup(u, 'NORMAL_CLEARING'), callerCause: 'NORMAL_CLEARING', peerCause: 'ORIGINATOR_CANCEL' },
    // hupall hangs up both legs itself; the originate still ends as cancelled (the caller is gone).
    { destination: '5000', kill: async () => void (await w.command('api hupall')), callerCause: 'MANAGER_REQUEST', peerCause: 'MANAGER_REQUEST' },
    { destination: '5001', kill: (u) => void sim.hangup(u, 'NORMAL_CLEARING'), callerCause: 'NORMAL_CLEARING', peerCause: 'ORIGINATOR_CANCEL' },
  ];
  for (const c of cases) {
    const uuid = await sim.originate({ direction: 'inbound', destination: c.destination });
    const created = await w.event((e) => e.name === 'CHANNEL_CREATE' && e.get('Other-Leg-Unique-ID') === uuid);
    const peer = created.uniqueId!;
    await c.kill(uuid);
    const done = await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.uniqueId === uuid && e.application === 'bridge');
    assert.equal(done.variable('originate_disposition'), 'ORIGINATOR_CANCEL', c.destination);
    assert.equal(done.variable('DIALSTATUS'), 'CANCEL');
    assert.equal(done.hangupCause, c.callerCause);
    const hangups = w.events().filter((e) => e.name === 'CHANNEL_HANGUP');
    assert.equal(hangups.find((e) => e.uniqueId === peer)?.hangupCause, c.peerCause, `${c.destination} ${c.callerCause}`);
    if (c.destination === '5001') {
      // The loopback B leg (running the dialplan for 7000) goes down with its A leg.
      const bLeg = created.variable('other_loopback_leg_uuid')!;
      await w.until(() => w.events().some((e) => e.name === 'CHANNEL_HANGUP' && e.uniqueId === bLeg));
    }
    await until(() => sim.channels.length === 0, 3000, 'every leg destroyed');
  }
  assert.equal(w.events().filter((e) => e.name === 'CHANNEL_ANSWER').length, 0);
  w.close();
});

test('play_and_get_digits with scripted DTMF; DTMF events; timeout path', { timeout: 20_000 }, async (t) => {
  const { sim, w, uuid } = await controlled(t, {}, { dtmf: '12#' });
  await w.command(execute('play_and_get_digits', '1 4 2 3000 # silence_stream://500 silence_stream://200 pin \\d+'));
  const c = await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'play_and_get_digits');
  assert.equal(c.variable('pin'), '12');
  assert.equal(c.variable('read_terminator_used'), '#');
  // Digits pressed while the prompt plays stop it.
  await w.command(execute('play_and_get_digits', '3 3 1 3000 # silence_stream://50000 silence_stream://0 code \\d+'));
  await w.count((e) => e.name === 'CHANNEL_EXECUTE' && e.application === 'play_and_get_digits', 2);
  await delay(20);
  sim.sendDtmf(uuid, '987');
  const c2 = await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'play_and_get_digits');
  assert.equal(c2.variable('code'), '987');
  assert.deepEqual(w.events().filter((e) => e.name === 'DTMF').map((e) => e.get('DTMF-Digit')), ['9', '8', '7']);
  await w.command(execute('play_and_get_digits', '2 2 2 100 # silence_stream://10 silence_stream://10 never \\d+'));
  const c3 = await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'play_and_get_digits');
  assert.equal(c3.variable('never'), undefined);
  assert.equal(c3.variable('read_result'), 'timeout');
});

test('pre_answer, echo and park; an application that needs media pre-answers an inbound call', { timeout: 20_000 }, async (t) => {
  const { w } = await controlled(t);
  await w.command(execute('playback', 'silence_stream://100'));
  const early = await w.event((e) => e.name === 'CHANNEL_PROGRESS_MEDIA');
  assert.equal(early.answerState, 'early');
  assert.equal(early.variable('endpoint_disposition'), 'EARLY MEDIA');
  await w.command(execute('echo'));
  await w.event((e) => e.name === 'CHANNEL_EXECUTE' && e.application === 'echo');
  await w.command('sendmsg\ncall-command: hangup');
  const done = await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'echo');
  assert.equal(done.hangupCause, 'NORMAL_CLEARING');
});

test('async: true in sync mode queues instead of running inline', { timeout: 20_000 }, async (t) => {
  const app = await OutboundServer.start();
  t.after(() => app.stop());
  const sim = await startSim(t, { timeScale: 0.02 });
  await sim.originate({ direction: 'inbound', socket: { port: app.port, async: false } });
  const w = await app.accept();
  await w.command('connect');
  await w.command('myevents');
  const fired: string[] = [];
  sim.on('event', (e) => fired.push(e.name));
  // Inline: the reply is written once the application has finished (its events follow the reply).
  await w.command(execute('sleep', '200'));
  assert.ok(fired.includes('CHANNEL_EXECUTE_COMPLETE'));
  await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE');
  // Queued: picked up by the next application that reads its queue (here a nested run inside sleep).
  await w.command(execute('set', 'q=1', { async: 'true' }));
  await w.command(execute('sleep', '200'));
  await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'set');
  w.close();
});

test('inbound myevents <uuid> binds the session; divert_events; sendevent with Unique-ID goes to the session', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const uuid = await sim.originate({ app: 'park' });
  const other = await sim.originate({ app: 'park' });
  const w = await Wire.login(sim);
  assert.equal((await w.command(`myevents ${uuid}`)).get('Reply-Text'), '+OK Events Enabled');
  assert.equal((await w.command(`myevents ${uuid}`)).get('Reply-Text'), '-ERR aready enabled.');
  sim.hangup(other);
  assert.equal((await w.command('divert_events on')).get('Reply-Text'), '+OK events diverted');
  const s = await Wire.login(sim);
  await s.command(`sendevent CUSTOM\nEvent-Subclass: my::thing\nUnique-ID: ${uuid}\nFoo: bar`);
  const got = await w.event((e) => e.name === 'CUSTOM');
  assert.equal(got.get('Foo'), 'bar');
  assert.equal(got.subclass, 'my::thing');
  assert.equal((await w.command('linger 5')).get('Reply-Text'), '+OK will linger 5 seconds');
  assert.equal((await w.command('nolinger')).get('Reply-Text'), '+OK will not linger');
  sim.hangup(uuid);
  const notice = await w.next((f) => f.contentType === 'text/disconnect-notice');
  assert.equal(notice.get('Controlled-Session-UUID'), uuid);
  assert.equal(w.events().some((e) => e.uniqueId === other), false, 'only the bound session');
  s.close();
});

test('bgapi from an outbound session carries Job-Owner-UUID and reaches myevents', { timeout: 20_000 }, async (t) => {
  const { w, uuid } = await controlled(t);
  await w.command('event plain BACKGROUND_JOB');
  await w.command('bgapi echo hi');
  const ev = await w.event((e) => e.name === 'BACKGROUND_JOB');
  assert.equal(ev.get('Job-Owner-UUID'), uuid);
  assert.equal(ev.body, 'hi');
});

test('log lines from the call reach log subscribers; sim.log and the on("log") hook', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  await w.command('log INFO');
  const lines: string[] = [];
  sim.on('log', (l) => lines.push(l.text));
  const uuid = await sim.originate({ app: 'log', appArg: 'NOTICE hello from the call' });
  const f = await w.next((fr) => fr.contentType === 'log/data' && fr.get('Log-Func') === 'log_function');
  assert.match(f.bodyText, /\[NOTICE\] mod_dptools\.c:\d+ hello from the call\n$/);
  assert.equal(f.get('Log-Level'), '5');
  assert.equal(f.get('Text-Channel'), '3');
  assert.equal(f.get('User-Data'), uuid);
  assert.ok(lines.some((l) => l.includes('hello from the call')));
  w.close();
});

test('registerApi, setApiOutput, registerApp', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  sim.registerApi('my_cmd', (arg) => `got ${arg}\n`);
  sim.setApiOutput('status', 'overridden\n');
  sim.registerApp('my_app', (ch, arg) => {
    ch.setVar('my_app_ran', arg);
  });
  const w = await Wire.login(sim);
  assert.equal((await w.command('api my_cmd a b')).bodyText, 'got a b\n');
  assert.equal((await w.command('api status')).bodyText, 'overridden\n');
  sim.setApiOutput('status', undefined);
  assert.match((await w.command('api status')).bodyText, /^UP /);
  const uuid = await sim.originate({ app: 'my_app', appArg: 'yes' });
  const ev = await sim.waitForEvent((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.get('Unique-ID') === uuid);
  assert.equal(ev.get('variable_my_app_ran'), 'yes');
  w.close();
});

test('uuid_bridge links two parked calls; hanging one up ends both', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  await w.command('event plain CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_HANGUP');
  const a = await sim.originate({ app: 'park' });
  const b = await sim.originate({ app: 'park' });
  await until(() => sim.getChannel(a)?.application === 'park' && sim.getChannel(b)?.application === 'park');
  assert.equal((await w.command(`api uuid_bridge ${a} ${b}`)).bodyText, `+OK ${b}\n`);
  const br = await w.event((e) => e.name === 'CHANNEL_BRIDGE');
  assert.equal(br.get('Bridge-A-Unique-ID'), a);
  assert.equal(sim.getChannel(a)!.bridgedTo, b);
  sim.hangup(b, 'NORMAL_CLEARING');
  await w.count((e) => e.name === 'CHANNEL_HANGUP', 2);
  const order = w.events().filter((e) => e.name !== 'CHANNEL_BRIDGE').map((e) => `${e.name}:${e.uniqueId === a ? 'a' : 'b'}`);
  assert.deepEqual(order, ['CHANNEL_HANGUP:b', 'CHANNEL_UNBRIDGE:a', 'CHANNEL_HANGUP:a']);
  assert.equal((await w.command(`api uuid_bridge ${a} nosuch`)).bodyText, '-ERR Invalid uuid\n');
  w.close();
});

test('uuid_transfer moves a parked call to another extension; xferext replaces the extension', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { dialplan: { '8000': { actions: ['set moved=yes', 'park'] } } });
  const w = await Wire.login(sim);
  await w.command('event plain CHANNEL_EXECUTE');
  const uuid = await sim.originate({ app: 'park' });
  await until(() => sim.getChannel(uuid)?.application === 'park');
  assert.equal((await w.command(`api uuid_transfer ${uuid} 8000`)).bodyText, '+OK\n');
  await until(() => sim.getChannel(uuid)?.variables['moved'] === 'yes' && sim.getChannel(uuid)?.application === 'park');
  const ended = sim.waitForEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE');
  await w.command(`sendmsg ${uuid}\ncall-command: xferext\napplication: set via=xferext\napplication: hangup USER_BUSY`);
  const end = await ended;
  assert.equal(end.get('variable_via'), 'xferext');
  assert.equal(end.get('Hangup-Cause'), 'USER_BUSY');
  assert.equal((await w.command('api uuid_transfer nosuch 8000')).bodyText, '-ERR No such channel!\n');
  w.close();
});

test('export: the bridged far end gets exported variables (nolocal: only there); continue_on_fail by cause number', async (t) => {
  const { sim, w } = await controlled(t);
  await w.command('event plain CHANNEL_BRIDGE');
  await w.command(execute('export', 'shared=1'));
  await w.command(execute('export', 'nolocal:remote_only=2'));
  await w.command(execute('set', 'continue_on_fail=17,NORMAL_TEMPORARY_FAILURE'));
  await w.count((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE', 3);
  await w.command(execute('bridge', 'sim/4000/busy'));
  const failed = await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.application === 'bridge');
  assert.equal(failed.answerState, 'ringing', 'USER_BUSY (17) is in continue_on_fail');
  await w.command(execute('bridge', 'sim/4001'));
  const bridge = await w.event((e) => e.name === 'CHANNEL_BRIDGE');
  const peer = sim.getChannel(bridge.get('Bridge-B-Unique-ID')!)!;
  assert.equal(peer.variables['shared'], '1');
  assert.equal(peer.variables['remote_only'], '2');
  assert.equal(bridge.variable('remote_only'), undefined);
  assert.equal(bridge.variable('export_vars'), 'shared,remote_only');
});
