import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EslEvent } from '../src/protocol/index.js';
import { OutboundServer, Wire, delay, startSim } from './helpers/simulator.js';

const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

async function setup(t: Parameters<typeof startSim>[0], socketArg = 'async full', extra: Parameters<typeof startSim>[1] = {}) {
  const app = await OutboundServer.start();
  t.after(() => app.stop());
  const sim = await startSim(t, { ...extra, dialplan: { '7001': { socket: `127.0.0.1:${app.port} ${socketArg}` }, ...(extra.dialplan ?? {}) } });
  return { app, sim };
}

test('outbound: nothing is sent before connect; connect reply shape (CHANNEL_DATA, no body)', { timeout: 20_000 }, async (t) => {
  const { app, sim } = await setup(t);
  const uuid = await sim.originate({ destination: '7001', direction: 'inbound', callerIdNumber: '0000000000' });
  const w = await app.accept();
  await delay(30);
  assert.equal(w.raw.length, 0, 'FreeSWITCH sends nothing until connect');
  const reply = await w.command('connect');
  assert.equal(reply.contentType, 'command/reply');
  assert.equal(reply.body, undefined);
  const names = reply.headers.map(([n]) => n);
  assert.equal(names[0], 'Event-Name');
  assert.deepEqual(names.slice(-4), ['Content-Type', 'Reply-Text', 'Socket-Mode', 'Control']);
  assert.equal(reply.get('Reply-Text'), '%2BOK%0A');
  assert.equal(reply.get('Socket-Mode'), 'async');
  assert.equal(reply.get('Control'), 'full');
  const ev = EslEvent.fromHeaders(reply.headers, undefined, { encoded: true });
  assert.equal(ev.get('Event-Name'), 'CHANNEL_DATA');
  assert.equal(ev.get('Unique-ID'), uuid);
  assert.equal(ev.get('Channel-Destination-Number'), '7001');
  assert.equal(ev.get('Caller-Destination-Number'), '7001');
  assert.equal(ev.get('variable_current_application'), 'socket');
  assert.equal(ev.get('variable_socket_host'), '127.0.0.1');
  assert.equal(ev.get('Reply-Text'), '+OK\n');
  // The Channel-* profile comes right after the standard headers, before the basic data.
  assert.equal(names[13], 'Channel-Direction');
  assert.ok(names.indexOf('Channel-State') > names.indexOf('Channel-Privacy-Hide-Number'));
  w.close();
});

test('outbound: the capture sequence (myevents, linger, sendmsg playback, uuid_kill) with linger notice', { timeout: 20_000 }, async (t) => {
  const { app, sim } = await setup(t, 'async full', { timeScale: 0.05 });
  const uuid = await sim.originate({ destination: '7001', direction: 'inbound' });
  const w = await app.accept();
  await w.command('connect');
  assert.equal((await w.command('myevents')).get('Reply-Text'), '+OK Events Enabled');
  assert.equal((await w.command('linger')).get('Reply-Text'), '+OK will linger');
  const r = await w.command(
    'sendmsg\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: tone_stream://%(500,0,440)\nEvent-UUID: aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  );
  assert.equal(r.get('Reply-Text'), '+OK');
  const complete = await w.event((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE');
  assert.equal(complete.application, 'playback');
  assert.equal(complete.applicationUuid, 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
  assert.equal(complete.applicationResponse, 'FILE PLAYED');
  assert.equal(sim.hangup(uuid, 'NORMAL_CLEARING'), true);
  const notice = await w.next((f) => f.contentType === 'text/disconnect-notice');
  assert.deepEqual(notice.headers, [
    ['Content-Type', 'text/disconnect-notice'],
    ['Controlled-Session-UUID', uuid],
    ['Content-Disposition', 'linger'],
    ['Channel-Name', notice.get('Channel-Name')!],
    ['Linger-Time', '-1'],
    ['Content-Length', '0'],
  ]);
  await w.event((e) => e.name === 'CHANNEL_HANGUP_COMPLETE');
  const names = w.events().map((e) => e.name);
  assert.deepEqual(names, [
    'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP',
    'CHANNEL_UNPARK', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_STATE', 'CHANNEL_STATE', 'CHANNEL_HANGUP_COMPLETE',
  ]);
  // Linger forever: the socket stays open, and CHANNEL_DESTROY waits for it.
  await delay(50);
  assert.equal(w.closed, false);
  assert.ok(sim.getChannel(uuid), 'channel not destroyed while the socket lingers');
  assert.equal((await w.command('exit')).get('Reply-Text'), '+OK bye');
  const bye = await w.next((f) => f.contentType === 'text/disconnect-notice');
  assert.equal(bye.get('Content-Disposition'), 'disconnect');
  assert.equal(bye.bodyText, GOODBYE);
  await w.waitClosed();
  assert.equal(w.events().some((e) => e.name === 'CHANNEL_DESTROY'), false);
});

/** An outbound session without linger that subscribed with myevents, hung up from outside: what it received. */
async function hangUpWithoutLinger(t: Parameters<typeof startSim>[0], socketArg: string) {
  const { app, sim } = await setup(t, socketArg);
  const uuid = await sim.originate({ destination: '7001', direction: 'inbound' });
  const w = await app.accept();
  await w.command('connect');
  await w.command('myevents');
  sim.hangup(uuid);
  const notice = await w.next((f) => f.contentType === 'text/disconnect-notice');
  await w.waitClosed();
  return { uuid, notice, events: w.events() };
}

test('outbound async without linger: the session\'s last events, then the disconnect notice', { timeout: 20_000 }, async (t) => {
  const { uuid, notice, events } = await hangUpWithoutLinger(t, 'async full');
  assert.deepEqual(notice.headers, [
    ['Content-Type', 'text/disconnect-notice'],
    ['Controlled-Session-UUID', uuid],
    ['Content-Disposition', 'disconnect'],
    ['Content-Length', '67'],
  ]);
  assert.equal(notice.bodyText, GOODBYE);
  // What a real FreeSWITCH 1.10.12 sends here, 8 sessions of 8 (after sendmsg hangup or uuid_kill).
  const seen = events.map((e) => (e.name === 'CHANNEL_EXECUTE_COMPLETE' ? `${e.name}:${e.application}` : e.name));
  assert.deepEqual(seen, [
    'CHANNEL_HANGUP', 'CHANNEL_UNPARK', 'CHANNEL_EXECUTE_COMPLETE:socket', 'CHANNEL_STATE', 'CHANNEL_STATE', 'CHANNEL_HANGUP_COMPLETE',
  ]);
  const states = events.filter((e) => e.name === 'CHANNEL_STATE').map((e) => e.channelState);
  assert.deepEqual(states, ['CS_HANGUP', 'CS_REPORTING']);
  assert.equal(events.find((e) => e.name === 'CHANNEL_HANGUP_COMPLETE')!.get('Hangup-Cause'), 'NORMAL_CLEARING');
});

test('outbound sync without linger: the disconnect notice right after the hangup', { timeout: 20_000 }, async (t) => {
  const { notice, events } = await hangUpWithoutLinger(t, '');
  assert.equal(notice.get('Content-Disposition'), 'disconnect');
  // The session thread runs this listener: its wind-down waits until the socket is gone.
  assert.deepEqual(events.map((e) => e.name), ['CHANNEL_HANGUP']);
});

test('outbound async: myevents sent along with connect gets the channel\'s CHANNEL_PARK', { timeout: 20_000 }, async (t) => {
  const { app, sim } = await setup(t);
  const uuid = await sim.originate({ destination: '7001', direction: 'inbound' });
  const w = await app.accept();
  w.send('connect\n\nmyevents\n\n');
  await w.reply();
  assert.equal((await w.reply()).get('Reply-Text'), '+OK Events Enabled');
  const park = await w.event();
  assert.equal(park.name, 'CHANNEL_PARK');
  assert.equal(park.uniqueId, uuid);
});

test('outbound: first command must be connect, otherwise its reply is never sent', { timeout: 20_000 }, async (t) => {
  const { app, sim } = await setup(t);
  await sim.originate({ destination: '7001', direction: 'inbound' });
  const w = await app.accept();
  w.send('myevents\n\n');
  const r = await w.command('getvar socket_host');
  assert.equal(r.get('Reply-Text'), '127.0.0.1');
  assert.equal(w.frames.length, 1);
  w.close();
});

test('outbound: without full most commands are refused', { timeout: 20_000 }, async (t) => {
  const { app, sim } = await setup(t, 'async');
  await sim.originate({ destination: '7001', direction: 'inbound' });
  const w = await app.accept();
  const c = await w.command('connect');
  assert.equal(c.get('Control'), 'single-channel');
  for (const cmd of ['api status', 'bgapi status', 'event plain ALL', 'linger', 'log 7', 'sendevent CUSTOM', 'noevents']) {
    assert.equal((await w.command(cmd)).get('Reply-Text'), '-ERR command not found', cmd);
  }
  assert.equal((await w.command('myevents json')).get('Reply-Text'), '+OK Events Enabled');
  assert.equal((await w.command('getvar nosuchvar')).get('Reply-Text'), '-ERR command not found');
  assert.equal((await w.command('resume')).get('Reply-Text'), '+OK');
  assert.equal((await w.command('getvar socket_resume')).get('Reply-Text'), 'true');
  assert.equal((await w.command('divert_events on')).get('Reply-Text'), '+OK events diverted');
  assert.equal((await w.command('filter Unique-ID x')).get('Reply-Text'), '+OK filter added. [Unique-ID]=[x]');
  w.close();
});

test('outbound: closing the socket lets the dialplan continue; nothing left → NORMAL_CLEARING', { timeout: 20_000 }, async (t) => {
  const { app, sim } = await setup(t, 'async full', {
    dialplan: { '7002': { socket: '127.0.0.1:1 async full', actions: ['set after=yes'] } },
  });
  const uuid = await sim.originate({ destination: '7001', direction: 'inbound' });
  const w = await app.accept();
  await w.command('connect');
  const hangup = sim.waitForEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.get('Unique-ID') === uuid);
  w.close();
  const ev = await hangup;
  assert.equal(ev.get('Hangup-Cause'), 'NORMAL_CLEARING');

  // A refused socket: the dialplan continues with the next application.
  const uuid2 = await sim.originate({ destination: '7002', direction: 'inbound' });
  const done = await sim.waitForEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.get('Unique-ID') === uuid2);
  assert.equal(done.get('variable_after'), 'yes');
});

test('outbound sync mode: sendmsg runs inline, +OK after the application', { timeout: 20_000 }, async (t) => {
  const { app, sim } = await setup(t, 'full', { timeScale: 0.05 });
  await sim.originate({ destination: '7001', direction: 'inbound' });
  const w = await app.accept();
  const c = await w.command('connect');
  assert.equal(c.get('Socket-Mode'), 'static');
  await w.command('myevents');
  await w.command('sendmsg\ncall-command: execute\nexecute-app-name: sleep\nexecute-app-arg: 400');
  // By the time +OK arrived, the whole application had run.
  await delay(20);
  const names = w.events().map((e) => e.name);
  assert.ok(names.includes('CHANNEL_EXECUTE_COMPLETE'), names.join(','));
  w.close();
});

test('outbound: sim.originate({ socket }) connects without a dialplan entry; unknown app hangs up DESTINATION_OUT_OF_ORDER', { timeout: 20_000 }, async (t) => {
  const app = await OutboundServer.start();
  t.after(() => app.stop());
  const sim = await startSim(t);
  const uuid = await sim.originate({ socket: { port: app.port }, answerAfterMs: 5 });
  const w = await app.accept();
  const c = await w.command('connect');
  assert.equal(c.get('Unique-ID'), uuid);
  await w.command('myevents');
  await w.command('linger 1');
  await w.command('sendmsg\ncall-command: execute\nexecute-app-name: nosuchapp');
  const h = await w.event((e) => e.name === 'CHANNEL_HANGUP');
  assert.equal(h.hangupCause, 'DESTINATION_OUT_OF_ORDER');
  assert.equal(w.events().some((e) => e.name === 'CHANNEL_EXECUTE'), false);
  const notice = await w.next((f) => f.contentType === 'text/disconnect-notice');
  assert.equal(notice.get('Linger-Time'), '1');
  w.close();
});

test('inbound connection can watch an outbound-controlled call', { timeout: 20_000 }, async (t) => {
  const { app, sim } = await setup(t);
  const inbound = await Wire.login(sim);
  await inbound.command('event plain CHANNEL_PARK CHANNEL_EXECUTE');
  const uuid = await sim.originate({ destination: '7001', direction: 'inbound' });
  const w = await app.accept();
  await w.command('connect');
  const park = await inbound.event((e) => e.name === 'CHANNEL_PARK');
  assert.equal(park.uniqueId, uuid);
  w.close();
  inbound.close();
});
