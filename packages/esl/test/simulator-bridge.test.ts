/**
 * The bridge application and its legs, event by event, as a real FreeSWITCH 1.10.12 sends them
 * (compared on a local server with the same dialplan: 9999 answers and plays a tone forever, 9998
 * answers, sleeps 2 s and hangs up). Only the order within one channel is asserted: between
 * channels it is thread timing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EslEvent } from '../src/protocol/index.js';
import type { SimulatorOptions } from '../src/testing/index.js';
import { OutboundServer, Wire, startSim, until } from './helpers/simulator.js';

const DIALPLAN: SimulatorOptions['dialplan'] = {
  '9999': { actions: ['answer', 'playback tone_stream://%(1000,0,440);loops=-1'], dpMatch: false },
  '9998': { actions: ['answer', 'sleep 2000', 'hangup'], dpMatch: false },
};

/** One channel's events as NAME, NAME:state for CHANNEL_STATE, NAME:callstate, NAME:app=response. */
function sequence(w: Wire, uuid: string, from?: (e: EslEvent) => boolean): string[] {
  let evs = w.events().filter((e) => e.uniqueId === uuid);
  if (from) evs = evs.slice(Math.max(0, evs.findIndex(from)));
  return evs.map((e) => {
    if (e.name === 'CHANNEL_STATE') return `${e.name}:${e.channelState}`;
    if (e.name === 'CHANNEL_CALLSTATE') return `${e.name}:${e.callState}`;
    if (e.name === 'CHANNEL_EXECUTE') return `${e.name}:${e.application}`;
    if (e.name === 'CHANNEL_EXECUTE_COMPLETE') return `${e.name}:${e.application}=${e.applicationResponse}`;
    if (e.name === 'CHANNEL_HANGUP' || e.name === 'CHANNEL_HANGUP_COMPLETE') return `${e.name}:${e.hangupCause}`;
    return e.name;
  });
}

const find = (w: Wire, uuid: string, name: string, nth = 1): EslEvent => {
  const e = w.events().filter((x) => x.uniqueId === uuid && x.name === name)[nth - 1];
  assert.ok(e, `${name} #${nth} of ${uuid}`);
  return e;
};

async function originate(w: Wire, args: string): Promise<string> {
  const r = await w.command(`api originate ${args}`);
  const m = /^\+OK ([0-9a-f-]{36})\n$/.exec(r.bodyText);
  assert.ok(m, r.bodyText);
  return m[1]!;
}

const ENDING = ['CHANNEL_STATE:CS_HANGUP', 'CHANNEL_CALLSTATE:HANGUP', 'CHANNEL_STATE:CS_REPORTING'];

test('bridge to a leg that hangs up: RING_WAIT/ACTIVE on the caller, CS_EXCHANGE_MEDIA and no CALL_UPDATE on the dialled leg', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { dialplan: DIALPLAN, timeScale: 0.05 });
  const w = await Wire.login(sim);
  await w.command('event plain ALL');
  const a = await originate(w, 'loopback/9999/default &bridge(loopback/9998/default)');
  await w.event((e) => e.name === 'CHANNEL_DESTROY' && e.uniqueId === a, 5000).catch(() => undefined);
  const bridge = find(w, a, 'CHANNEL_BRIDGE');
  const b = bridge.get('Bridge-B-Unique-ID')!;
  await w.command(`api uuid_kill ${a}`);
  await w.count((e) => e.name === 'CHANNEL_DESTROY' && (e.uniqueId === a || e.uniqueId === b), 2, 5000);

  // The caller (the originate's A leg): the cid flip before CS_EXECUTE, then the bridge.
  assert.deepEqual(sequence(w, a, (e) => e.name === 'CHANNEL_ANSWER'), [
    'CHANNEL_ANSWER', 'CHANNEL_CALLSTATE:ACTIVE', 'CALL_UPDATE', 'CHANNEL_STATE:CS_EXECUTE', 'CHANNEL_EXECUTE:bridge',
    'CHANNEL_CALLSTATE:RING_WAIT', 'CHANNEL_CALLSTATE:ACTIVE', 'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE',
    'CHANNEL_EXECUTE_COMPLETE:bridge=_none_', 'CHANNEL_HANGUP:NORMAL_CLEARING', ...ENDING,
    'CHANNEL_HANGUP_COMPLETE:NORMAL_CLEARING', 'CHANNEL_DESTROY', 'CHANNEL_STATE:CS_DESTROY',
  ]);
  // The dialled leg: no CALL_UPDATE, CS_EXCHANGE_MEDIA while bridged, and it hangs up from there.
  assert.deepEqual(sequence(w, b, (e) => e.name === 'CHANNEL_OUTGOING'), [
    'CHANNEL_OUTGOING', 'CHANNEL_STATE:CS_INIT', 'CHANNEL_CREATE', 'CHANNEL_ORIGINATE', 'CHANNEL_STATE:CS_ROUTING',
    'CHANNEL_STATE:CS_CONSUME_MEDIA', 'CHANNEL_ANSWER', 'CHANNEL_CALLSTATE:ACTIVE', 'CHANNEL_STATE:CS_EXCHANGE_MEDIA',
    'CHANNEL_HANGUP:NORMAL_CLEARING', ...ENDING, 'CHANNEL_HANGUP_COMPLETE:NORMAL_CLEARING', 'CHANNEL_DESTROY',
    'CHANNEL_STATE:CS_DESTROY',
  ]);
  assert.equal(find(w, b, 'CHANNEL_HANGUP').channelState, 'CS_EXCHANGE_MEDIA');

  // Other-Leg on the caller from the ACTIVE that ends the originate; Bridge-A/B on (UN)BRIDGE.
  assert.equal(find(w, a, 'CHANNEL_CALLSTATE', 2).callState, 'RING_WAIT');
  assert.equal(find(w, a, 'CHANNEL_CALLSTATE', 2).get('Other-Leg-Unique-ID'), undefined);
  assert.equal(find(w, a, 'CHANNEL_CALLSTATE', 3).get('Other-Leg-Unique-ID'), b);
  assert.equal(bridge.get('Bridge-A-Unique-ID'), a);
  assert.equal(bridge.get('Other-Type'), 'originatee');
  assert.equal(bridge.get('Other-Leg-Channel-Name'), 'loopback/9998-a');
  assert.equal(bridge.get('Other-Leg-Profile-Index'), undefined);
  // The end of switch_ivr_originate; the bridge variables come after CHANNEL_BRIDGE.
  assert.equal(bridge.variable('originate_disposition'), 'SUCCESS');
  assert.equal(bridge.variable('DIALSTATUS'), 'SUCCESS');
  assert.equal(bridge.variable('originated_legs'), `${b};Outbound Call;default`);
  assert.equal(bridge.variable('originate_causes'), `${b};NONE`);
  assert.equal(bridge.variable('bridge_to'), undefined);
  assert.equal(bridge.variable('bridge_channel'), undefined);
  const unbridge = find(w, a, 'CHANNEL_UNBRIDGE');
  assert.equal(unbridge.get('Bridge-B-Unique-ID'), b);
  assert.equal(unbridge.get('Other-Leg-Unique-ID'), b);
  assert.equal(unbridge.variable('bridge_to'), undefined);
  assert.equal(unbridge.variable('last_bridge_to'), b);
  assert.equal(unbridge.variable('bridge_channel'), 'loopback/9998-a');
  assert.equal(unbridge.variable('bridge_uuid'), b);
  assert.equal(unbridge.variable('signal_bond'), b);
  assert.equal(unbridge.variable('last_bridge_hangup_cause'), 'NORMAL_CLEARING');
  assert.equal(unbridge.variable('bridge_hangup_cause'), 'NORMAL_CLEARING');
  assert.equal(unbridge.variable('last_bridge_role'), undefined);
  // The dialled leg shares the caller's call uuid while bridged and records its role at hangup.
  const exchange = w.events().find((e) => e.uniqueId === b && e.channelState === 'CS_EXCHANGE_MEDIA')!;
  assert.equal(exchange.get('Channel-Call-UUID'), a);
  const peerHangup = find(w, b, 'CHANNEL_HANGUP');
  assert.equal(peerHangup.variable('last_bridge_role'), 'originatee');
  assert.equal(peerHangup.variable('bridge_channel'), 'loopback/9999-a');
  assert.equal(peerHangup.variable('signal_bond'), a);
  assert.equal(peerHangup.variable('originating_leg_uuid'), a);
  assert.equal(find(w, b, 'CHANNEL_HANGUP_COMPLETE').get('Channel-Call-UUID'), b);
  w.close();
});

test('bridge: the caller hangs up (uuid_kill): HANGUP before UNBRIDGE, the dialled leg hangs up too', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { dialplan: DIALPLAN });
  const w = await Wire.login(sim);
  await w.command('event plain ALL');
  const a = await originate(w, 'loopback/9999/default &bridge(loopback/9999/default)');
  const bridge = await w.event((e) => e.name === 'CHANNEL_BRIDGE' && e.uniqueId === a);
  const b = bridge.get('Bridge-B-Unique-ID')!;
  assert.equal((await w.command(`api uuid_kill ${a}`)).bodyText, '+OK\n');
  await w.count((e) => e.name === 'CHANNEL_DESTROY' && (e.uniqueId === a || e.uniqueId === b), 2, 5000);
  assert.deepEqual(sequence(w, a, (e) => e.name === 'CHANNEL_EXECUTE'), [
    'CHANNEL_EXECUTE:bridge', 'CHANNEL_CALLSTATE:RING_WAIT', 'CHANNEL_CALLSTATE:ACTIVE', 'CHANNEL_BRIDGE',
    'CHANNEL_HANGUP:NORMAL_CLEARING', 'CHANNEL_UNBRIDGE', 'CHANNEL_EXECUTE_COMPLETE:bridge=_none_', ...ENDING,
    'CHANNEL_HANGUP_COMPLETE:NORMAL_CLEARING', 'CHANNEL_DESTROY', 'CHANNEL_STATE:CS_DESTROY',
  ]);
  assert.deepEqual(sequence(w, b, (e) => e.name === 'CHANNEL_ANSWER'), [
    'CHANNEL_ANSWER', 'CHANNEL_CALLSTATE:ACTIVE', 'CHANNEL_STATE:CS_EXCHANGE_MEDIA', 'CHANNEL_HANGUP:NORMAL_CLEARING',
    ...ENDING, 'CHANNEL_HANGUP_COMPLETE:NORMAL_CLEARING', 'CHANNEL_DESTROY', 'CHANNEL_STATE:CS_DESTROY',
  ]);
  const hangup = find(w, a, 'CHANNEL_HANGUP');
  assert.equal(hangup.answerState, 'hangup');
  assert.equal(hangup.variable('last_bridge_role'), 'originator');
  assert.equal(hangup.variable('last_bridge_hangup_cause'), undefined);
  // The cause goes to the partner (switch_channel_perform_hangup).
  assert.equal(find(w, b, 'CHANNEL_HANGUP').variable('last_bridge_hangup_cause'), 'NORMAL_CLEARING');
  // The dialled leg leaves the bridge before it hangs up: no bridge_to, no role; the caller's cause
  // reaches it after its HANGUP_COMPLETE (captures).
  assert.equal(find(w, b, 'CHANNEL_HANGUP').variable('bridge_to'), undefined);
  assert.equal(find(w, b, 'CHANNEL_HANGUP').variable('last_bridge_role'), undefined);
  assert.equal(find(w, b, 'CHANNEL_HANGUP_COMPLETE').variable('bridge_hangup_cause'), undefined);
  assert.equal(find(w, b, 'CHANNEL_DESTROY').variable('bridge_hangup_cause'), 'NORMAL_CLEARING');
  // The killed caller's loopback B leg: its playback fails before its hangup (the pair is unlinked at
  // once, the hangup comes from the caller's CS_HANGUP); the dialled leg's B leg hangs up first.
  const ab = find(w, a, 'CHANNEL_CREATE').variable('other_loopback_leg_uuid')!;
  const bb = find(w, b, 'CHANNEL_CREATE').variable('other_loopback_leg_uuid')!;
  await w.count((e) => e.name === 'CHANNEL_DESTROY' && (e.uniqueId === ab || e.uniqueId === bb), 2, 5000);
  const tail = ['CHANNEL_STATE:CS_HANGUP', 'CHANNEL_CALLSTATE:HANGUP', 'CHANNEL_STATE:CS_REPORTING', 'CHANNEL_HANGUP_COMPLETE:NORMAL_CLEARING', 'CHANNEL_DESTROY', 'CHANNEL_STATE:CS_DESTROY'];
  assert.deepEqual(sequence(w, ab, (e) => e.name === 'PLAYBACK_START'), [
    'PLAYBACK_START', 'PLAYBACK_STOP', 'CHANNEL_EXECUTE_COMPLETE:playback=PLAYBACK ERROR', 'CHANNEL_HANGUP:NORMAL_CLEARING', ...tail,
  ]);
  assert.deepEqual(sequence(w, bb, (e) => e.name === 'PLAYBACK_START'), [
    'PLAYBACK_START', 'CHANNEL_HANGUP:NORMAL_CLEARING', 'PLAYBACK_STOP', 'CHANNEL_EXECUTE_COMPLETE:playback=PLAYBACK ERROR', ...tail,
  ]);
  const unbridge = find(w, a, 'CHANNEL_UNBRIDGE');
  assert.equal(unbridge.answerState, 'hangup');
  assert.equal(unbridge.variable('bridge_hangup_cause'), 'NORMAL_CLEARING');
  w.close();
});

test('bridge to a destination that fails: NO_ROUTE_DESTINATION, the caller hangs up with it, Application-Response _none_', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { dialplan: DIALPLAN });
  const w = await Wire.login(sim);
  await w.command('event plain ALL');
  const a = await originate(w, 'loopback/9999/default &bridge(loopback/nosuchext/default)');
  await w.count((e) => e.name === 'CHANNEL_DESTROY', 4, 5000);
  assert.deepEqual(sequence(w, a, (e) => e.name === 'CHANNEL_EXECUTE'), [
    'CHANNEL_EXECUTE:bridge', 'CHANNEL_CALLSTATE:RING_WAIT', 'CHANNEL_CALLSTATE:ACTIVE',
    'CHANNEL_HANGUP:NO_ROUTE_DESTINATION', 'CHANNEL_EXECUTE_COMPLETE:bridge=_none_', ...ENDING,
    'CHANNEL_HANGUP_COMPLETE:NO_ROUTE_DESTINATION', 'CHANNEL_DESTROY', 'CHANNEL_STATE:CS_DESTROY',
  ]);
  const leg = w.events().find((e) => e.name === 'CHANNEL_HANGUP' && e.channelName === 'loopback/nosuchext-a')!;
  assert.equal(leg.hangupCause, 'NO_ROUTE_DESTINATION');
  const done = find(w, a, 'CHANNEL_EXECUTE_COMPLETE', 1);
  assert.equal(done.application, 'bridge');
  assert.equal(done.variable('originate_disposition'), 'NO_ROUTE_DESTINATION');
  assert.equal(done.variable('DIALSTATUS'), 'NO_ROUTE_DESTINATION');
  assert.equal(done.variable('originate_failed_cause'), 'NO_ROUTE_DESTINATION');
  assert.equal(done.variable('last_bridge_hangup_cause'), 'NO_ROUTE_DESTINATION');
  assert.equal(done.variable('originate_causes'), `${leg.uniqueId};NO_ROUTE_DESTINATION`);
  assert.equal(w.events().some((e) => e.name === 'CHANNEL_BRIDGE'), false);
  w.close();
});

test('bridge over an outbound socket: mod_loopback pre-answers the unanswered caller, the answer then ACTIVE and CHANNEL_BRIDGE', { timeout: 20_000 }, async (t) => {
  const app = await OutboundServer.start();
  t.after(() => app.stop());
  const sim = await startSim(t, { dialplan: { ...DIALPLAN, '7000': { socket: { port: app.port } } } });
  const w = await Wire.login(sim);
  await w.command('event plain ALL');
  const originating = w.command('api originate loopback/7000/default &park', 5000);
  const s = await app.accept();
  const channelData = await s.command('connect');
  const b = channelData.get('Unique-ID')!;
  await s.command('myevents');
  await s.command('sendmsg\ncall-command: execute\nexecute-app-name: bridge\nexecute-app-arg: loopback/9999/default');
  const a = /^\+OK (\S+)\n$/.exec((await originating).bodyText)![1]!;
  // (Waits by condition: the channels' events interleave.)
  await w.until(() => w.events().some((e) => e.name === 'CHANNEL_PARK' && e.uniqueId === a));
  await w.until(() => w.events().some((e) => e.name === 'CHANNEL_BRIDGE' && e.uniqueId === b));
  const bridge = find(w, b, 'CHANNEL_BRIDGE');
  const peer = bridge.get('Bridge-B-Unique-ID')!;
  await w.until(() => w.events().some((e) => e.uniqueId === peer && e.channelState === 'CS_EXCHANGE_MEDIA'));
  // The socket leg (loopback B leg) runs bridge from the park of its async socket.
  assert.deepEqual(sequence(w, b, (e) => e.name === 'CHANNEL_EXECUTE'), [
    'CHANNEL_EXECUTE:socket', 'CHANNEL_PARK', 'CHANNEL_EXECUTE:bridge', 'CHANNEL_PROGRESS_MEDIA',
    'CHANNEL_CALLSTATE:EARLY', 'CHANNEL_ANSWER', 'CHANNEL_CALLSTATE:ACTIVE', 'CHANNEL_BRIDGE',
  ]);
  // Its A leg follows: early media, answer, then the cid flip of the originate.
  assert.deepEqual(sequence(w, a, (e) => e.name === 'CHANNEL_PROGRESS_MEDIA'), [
    'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_CALLSTATE:EARLY', 'CHANNEL_ANSWER', 'CHANNEL_CALLSTATE:ACTIVE', 'CALL_UPDATE',
    'CHANNEL_STATE:CS_EXECUTE', 'CHANNEL_EXECUTE:park', 'CHANNEL_PARK',
  ]);
  assert.equal(sequence(w, peer).includes('CALL_UPDATE'), false);
  assert.equal(bridge.get('Other-Leg-Channel-Name'), 'loopback/9999-a');
  // The socket sees its own channel's events (myevents: no CHANNEL_CALLSTATE there).
  await s.until(() => s.events().some((e) => e.name === 'CHANNEL_BRIDGE'));
  assert.deepEqual(
    s.events().filter((e) => e.uniqueId === b).map((e) => e.name),
    ['CHANNEL_EXECUTE', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_ANSWER', 'CHANNEL_BRIDGE'],
  );
  s.close();
  w.close();
});

/** The names of an event's variables, in order. */
const varNames = (e: EslEvent): string[] => [...e.headers()].filter(([k]) => k.startsWith('variable_')).map(([k]) => k.slice(9));

test('the leg bridge dials: a copy of the caller profile, the originate variables at creation, the caller\'s signal_bond', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { dialplan: DIALPLAN });
  const w = await Wire.login(sim);
  await w.command('event plain ALL');
  const a = await originate(w, 'loopback/9999/default &bridge(loopback/9999/default)');
  const bridge = await w.event((e) => e.name === 'CHANNEL_BRIDGE' && e.uniqueId === a);
  const b = bridge.get('Bridge-B-Unique-ID')!;
  const create = find(w, b, 'CHANNEL_CREATE');
  // switch_caller_profile_dup of the caller's: its Orig-* number and ANI, no Orig name (the caller has none).
  assert.equal(create.get('Caller-Caller-ID-Name'), 'Outbound Call');
  assert.equal(create.get('Caller-Orig-Caller-ID-Name'), undefined);
  assert.equal(create.get('Caller-Orig-Caller-ID-Number'), '0000000000');
  assert.equal(create.get('Caller-ANI'), '0000000000');
  assert.equal(create.get('Other-Type'), 'originator');
  assert.equal(create.get('Other-Leg-Logical-Direction'), 'inbound');
  assert.equal(create.get('Other-Leg-Callee-ID-Number'), '0000000000');
  assert.deepEqual(varNames(create), [
    'direction', 'is_outbound', 'uuid', 'session_id', 'read_codec', 'read_rate', 'write_codec', 'write_rate',
    'loopback_from_uuid', 'channel_name', 'max_forwards', 'originator_codec', 'originator', 'signal_bond', 'call_uuid',
    'originate_early_media', 'originating_leg_uuid', 'originate_endpoint', 'other_loopback_leg_uuid', 'loopback_leg',
  ]);
  for (const v of ['loopback_from_uuid', 'originator', 'signal_bond', 'call_uuid', 'originating_leg_uuid']) assert.equal(create.variable(v), a, v);
  assert.equal(create.variable('max_forwards'), '70');
  assert.equal(create.variable('originator_codec'), 'L16@8000h@20i');
  // Its loopback B leg gets other_loopback_from_uuid.
  const bb = create.variable('other_loopback_leg_uuid')!;
  assert.equal(find(w, bb, 'CHANNEL_CREATE').variable('other_loopback_from_uuid'), a);
  // The caller: signal_bond to the peer once the originate is over (originate_signal_bond is gone by then).
  assert.equal(find(w, a, 'CHANNEL_CALLSTATE', 3).variable('originate_signal_bond'), undefined);
  assert.equal(find(w, a, 'CHANNEL_CALLSTATE', 3).variable('signal_bond'), undefined);
  assert.equal(bridge.variable('signal_bond'), b);
  assert.equal(bridge.variable('originate_signal_bond'), undefined);
  assert.deepEqual(varNames(bridge).slice(-5), ['originated_legs', 'originate_disposition', 'DIALSTATUS', 'originate_causes', 'signal_bond']);
  // The caller is sent the peer's callee id; a loopback leg passes it on to its B leg (mod_loopback).
  const ab = find(w, a, 'CHANNEL_CREATE').variable('other_loopback_leg_uuid')!;
  await w.command(`api uuid_kill ${a}`);
  await w.count((e) => e.name === 'CHANNEL_DESTROY' && (e.uniqueId === a || e.uniqueId === b || e.uniqueId === ab), 3, 5000);
  assert.equal(find(w, a, 'CHANNEL_HANGUP').variable('last_sent_callee_id_name'), 'Outbound Call');
  assert.equal(find(w, a, 'CHANNEL_HANGUP').variable('last_sent_callee_id_number'), 'default');
  w.close();
});

test('originate {origination_uuid=…}: CHANNEL_UUID after the CODEC events, and the variable is kept', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { dialplan: DIALPLAN });
  const w = await Wire.login(sim);
  await w.command('event plain ALL');
  const want = '0c2d4e6f-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
  assert.equal(await originate(w, `{origination_uuid=${want}}loopback/9999/default &park()`), want);
  const ev = find(w, want, 'CHANNEL_UUID');
  const old = ev.get('Old-Unique-ID')!;
  assert.match(old, /^[0-9a-f-]{36}$/);
  assert.notEqual(old, want);
  assert.equal(ev.get('Event-Calling-Function'), 'switch_core_session_set_uuid');
  assert.equal(ev.channelState, 'CS_NONE');
  assert.equal(ev.get('Channel-State-Number'), '1');
  assert.equal(ev.get('Other-Type'), undefined);
  // The codecs were set under the old uuid; CHANNEL_UUID is the new uuid's first event.
  assert.deepEqual(w.events().filter((e) => e.uniqueId === old).map((e) => e.name), ['CODEC', 'CODEC']);
  assert.deepEqual(w.events().filter((e) => e.uniqueId === want).slice(0, 2).map((e) => e.name), ['CHANNEL_UUID', 'CHANNEL_OUTGOING']);
  assert.deepEqual(varNames(ev).slice(-3), ['channel_name', 'uuid', 'call_uuid']);
  const create = find(w, want, 'CHANNEL_CREATE');
  assert.deepEqual(varNames(create).slice(7, 11), ['channel_name', 'uuid', 'call_uuid', 'origination_uuid']);
  assert.equal(create.variable('origination_uuid'), want);
  // The loopback B leg gets the dial variables too.
  assert.equal(find(w, create.variable('other_loopback_leg_uuid')!, 'CHANNEL_CREATE').variable('origination_uuid'), want);
  // A uuid in use is refused: the leg keeps its own.
  const r = await w.command(`api originate {origination_uuid=${want}}loopback/9999/default &park()`);
  assert.match(r.bodyText, /^\+OK [0-9a-f-]{36}\n$/);
  assert.notEqual(r.bodyText, `+OK ${want}\n`);
  // Simulator.originate chooses its uuid from the start: no CHANNEL_UUID.
  const direct = await sim.originate({ app: 'park' });
  await until(() => w.events().some((e) => e.uniqueId === direct && e.name === 'CHANNEL_CREATE'));
  assert.equal(w.events().some((e) => e.uniqueId === direct && e.name === 'CHANNEL_UUID'), false);
  w.close();
});
