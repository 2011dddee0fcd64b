/**
 * uuid_bridge of two parked calls, event by event, as a real FreeSWITCH 1.10.12 sends them (compared
 * on a local server: two `originate loopback/9999/default &park()`, then uuid_bridge, then one leg
 * killed). Only the order within one channel is asserted: between channels it is thread timing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EslEvent } from '../src/protocol/index.js';
import type { SimulatorOptions } from '../src/testing/index.js';
import { Wire, startSim, until } from './helpers/simulator.js';

const DIALPLAN: SimulatorOptions['dialplan'] = {
  '9999': { actions: ['answer', 'playback tone_stream://%(1000,0,440);loops=-1'], dpMatch: false },
};

/** One channel's events from its CHANNEL_PARK on, as NAME, NAME:state, NAME:app(data)=response. */
function sequence(w: Wire, uuid: string): string[] {
  const evs = w.events().filter((e) => e.uniqueId === uuid);
  return evs.slice(evs.findIndex((e) => e.name === 'CHANNEL_PARK')).map((e) => {
    if (e.name === 'CHANNEL_STATE') return `${e.name}:${e.channelState}`;
    if (e.name === 'CHANNEL_CALLSTATE') return `${e.name}:${e.callState}`;
    if (e.name === 'CHANNEL_EXECUTE') return `${e.name}:${e.application}(${e.get('Application-Data') ?? ''})`;
    if (e.name === 'CHANNEL_EXECUTE_COMPLETE') return `${e.name}:${e.application}=${e.applicationResponse}`;
    if (e.name === 'CHANNEL_HANGUP' || e.name === 'CHANNEL_HANGUP_COMPLETE') return `${e.name}:${e.hangupCause}`;
    return e.name;
  });
}

const find = (w: Wire, uuid: string, name: string, pred: (e: EslEvent) => boolean = () => true): EslEvent => {
  const e = w.events().find((x) => x.uniqueId === uuid && x.name === name && pred(x));
  assert.ok(e, `${name} of ${uuid}`);
  return e;
};

async function parked(w: Wire, vars = ''): Promise<string> {
  const r = await w.command(`api originate {${vars}}loopback/9999/default &park()`);
  const m = /^\+OK ([0-9a-f-]{36})\n$/.exec(r.bodyText);
  assert.ok(m, r.bodyText);
  return m[1]!;
}

const ENDING = ['CHANNEL_STATE:CS_HANGUP', 'CHANNEL_CALLSTATE:HANGUP', 'CHANNEL_STATE:CS_REPORTING', 'CHANNEL_HANGUP_COMPLETE:NORMAL_CLEARING', 'CHANNEL_DESTROY', 'CHANNEL_STATE:CS_DESTROY'];
const INTO_BRIDGE = ['CHANNEL_PARK', 'CHANNEL_UNPARK', 'CHANNEL_EXECUTE_COMPLETE:park=_none_', 'CHANNEL_STATE:CS_HIBERNATE', 'CHANNEL_STATE:CS_RESET', 'CHANNEL_STATE:CS_SOFT_EXECUTE'];

async function bridged(t: Parameters<typeof startSim>[0], vars = ''): Promise<{ w: Wire; a: string; b: string }> {
  const sim = await startSim(t, { dialplan: DIALPLAN, timeScale: 0.05 });
  const w = await Wire.login(sim);
  await w.command('event plain ALL');
  const a = await parked(w, vars);
  const b = await parked(w, vars);
  await until(() => sim.getChannel(a)?.application === 'park' && sim.getChannel(b)?.application === 'park');
  assert.equal((await w.command(`api uuid_bridge ${a} ${b}`)).bodyText, `+OK ${b}\n`);
  await w.event((e) => e.name === 'CHANNEL_BRIDGE' && e.uniqueId === a);
  await until(() => sim.getChannel(b)?.state === 'CS_EXCHANGE_MEDIA');
  assert.equal(sim.getChannel(a)!.state, 'CS_SOFT_EXECUTE');
  assert.equal(sim.getChannel(a)!.application, 'uuid_bridge');
  assert.equal(sim.getChannel(a)!.bridgedTo, b);
  return { w, a, b };
}

test('uuid_bridge: both legs leave park through CS_HIBERNATE/RESET/SOFT_EXECUTE; killing the first ends the second', { timeout: 20_000 }, async (t) => {
  const { w, a, b } = await bridged(t);
  await w.command(`api uuid_kill ${a}`);
  await w.count((e) => e.name === 'CHANNEL_DESTROY' && (e.uniqueId === a || e.uniqueId === b), 2, 5000);

  // The first leg (CF_UUID_BRIDGE_ORIGINATOR) runs the bridge in CS_SOFT_EXECUTE: an EXECUTE without COMPLETE.
  assert.deepEqual(sequence(w, a), [
    ...INTO_BRIDGE, `CHANNEL_EXECUTE:uuid_bridge(${b})`, 'CHANNEL_BRIDGE',
    'CHANNEL_HANGUP:NORMAL_CLEARING', 'CHANNEL_UNBRIDGE', ...ENDING,
  ]);
  // The second is bridged in CS_EXCHANGE_MEDIA and hangs up from there when its partner goes.
  assert.deepEqual(sequence(w, b), [
    ...INTO_BRIDGE, `CHANNEL_EXECUTE:uuid_bridge(${a})`, 'CHANNEL_STATE:CS_EXCHANGE_MEDIA',
    'CHANNEL_HANGUP:NORMAL_CLEARING', ...ENDING,
  ]);

  // The first leg's loopback B leg: its playback fails before its hangup (captures).
  const ab = find(w, a, 'CHANNEL_CREATE').variable('other_loopback_leg_uuid')!;
  await w.event((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.uniqueId === ab, 5000);
  const abSeq = w.events().filter((e) => e.uniqueId === ab).map((e) => e.name);
  assert.ok(abSeq.indexOf('PLAYBACK_STOP') < abSeq.indexOf('CHANNEL_HANGUP'), abSeq.join(' '));

  const ex = find(w, a, 'CHANNEL_EXECUTE', (e) => e.application === 'uuid_bridge');
  assert.equal(ex.get('Event-Calling-Function'), 'uuid_bridge_on_soft_execute');
  assert.equal(ex.get('Application-UUID'), undefined);
  // Set by switch_ivr_uuid_bridge before the legs move: the state number is already CS_HIBERNATE's.
  const unpark = find(w, a, 'CHANNEL_UNPARK');
  assert.equal(unpark.get('Channel-State'), 'CS_EXECUTE');
  assert.equal(unpark.get('Channel-State-Number'), '8');
  assert.equal(unpark.get('variable_uuid_bridge'), b);
  assert.equal(unpark.get('variable_signal_bond'), b);
  assert.equal(unpark.get('Other-Type'), 'originatee');
  assert.equal(unpark.get('Other-Leg-Unique-ID'), b);
  assert.equal(unpark.get('Other-Leg-Logical-Direction'), 'inbound');
  assert.equal(unpark.get('Other-Leg-Transfer-Source'), undefined);
  assert.equal(unpark.get('Caller-Profile-Index'), '2');
  assert.equal(unpark.get('Caller-Logical-Direction'), 'inbound');
  assert.match(unpark.get('Caller-Transfer-Source') ?? '', new RegExp(`^\\d+:[0-9a-f-]{36}:uuid_br:${b}$`));
  assert.equal(unpark.get('variable_transfer_source'), unpark.get('Caller-Transfer-Source'));
  assert.equal(unpark.get('variable_original_destination_number'), '9999');
  const unparkB = find(w, b, 'CHANNEL_UNPARK');
  assert.equal(unparkB.get('Other-Type'), 'originator');
  assert.equal(unparkB.get('Channel-HIT-Dialplan'), 'false');
  assert.equal(unparkB.get('Caller-Logical-Direction'), 'outbound');
  assert.equal(unparkB.get('variable_uuid_bridge'), undefined);
  assert.equal(unparkB.get('variable_bridge_uuid'), a);
  // Sent to the originator: the peer's callee id, the empty name replaced by the number.
  const br = find(w, a, 'CHANNEL_HANGUP');
  assert.equal(br.get('variable_last_sent_callee_id_name'), '0000000000');
  assert.equal(br.get('variable_uuid_bridge'), undefined);
  // The second leg hangs up on its own after the bridge: no bridge_to, no bridge role.
  const hb = find(w, b, 'CHANNEL_HANGUP');
  assert.equal(hb.get('variable_bridge_to'), undefined);
  assert.equal(hb.get('variable_last_bridge_role'), undefined);
  w.close();
});

test('uuid_bridge: when the second leg goes, the first returns to CS_EXECUTE and its extension (nothing left: hangup)', { timeout: 20_000 }, async (t) => {
  const { w, a, b } = await bridged(t);
  await w.command(`api uuid_kill ${b}`);
  await w.count((e) => e.name === 'CHANNEL_DESTROY' && (e.uniqueId === a || e.uniqueId === b), 2, 5000);
  assert.deepEqual(sequence(w, a), [
    ...INTO_BRIDGE, `CHANNEL_EXECUTE:uuid_bridge(${b})`, 'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE',
    'CHANNEL_STATE:CS_EXECUTE', 'CHANNEL_HANGUP:NORMAL_CLEARING', ...ENDING,
  ]);
  assert.deepEqual(sequence(w, b), [
    ...INTO_BRIDGE, `CHANNEL_EXECUTE:uuid_bridge(${a})`, 'CHANNEL_STATE:CS_EXCHANGE_MEDIA',
    'CHANNEL_HANGUP:NORMAL_CLEARING', ...ENDING,
  ]);
  w.close();
});

test('uuid_bridge with park_after_bridge: the first leg parks (CS_PARK) when the second goes', { timeout: 20_000 }, async (t) => {
  const { w, a, b } = await bridged(t, 'park_after_bridge=true');
  await w.command(`api uuid_kill ${b}`);
  await w.event((e) => e.name === 'CHANNEL_PARK' && e.uniqueId === a && e.channelState === 'CS_PARK');
  await w.command(`api uuid_kill ${a}`);
  await w.count((e) => e.name === 'CHANNEL_DESTROY' && (e.uniqueId === a || e.uniqueId === b), 2, 5000);
  assert.deepEqual(sequence(w, a), [
    ...INTO_BRIDGE, `CHANNEL_EXECUTE:uuid_bridge(${b})`, 'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE',
    'CHANNEL_STATE:CS_PARK', 'CHANNEL_PARK', 'CHANNEL_HANGUP:NORMAL_CLEARING', 'CHANNEL_UNPARK', ...ENDING,
  ]);
  w.close();
});

test('uuid_bridge refuses a missing leg or two legs without media', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { dialplan: DIALPLAN });
  const w = await Wire.login(sim);
  const a = await parked(w);
  assert.equal((await w.command(`api uuid_bridge ${a} nosuch`)).bodyText, '-ERR Invalid uuid\n');
  assert.equal((await w.command('api uuid_bridge')).bodyText, '-USAGE: <uuid> <other_uuid>\n');
  w.close();
});
