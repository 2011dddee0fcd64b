import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { Simulator } from '../src/testing/index.js';
import { OutboundServer, Wire, delay, startSim } from './helpers/simulator.js';

const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

test('start: 127.0.0.1 and an OS-chosen port by default; connections count', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  assert.equal(sim.host, '127.0.0.1');
  assert.ok(sim.port > 0);
  assert.equal(sim.connections, 0);
  const a = await Wire.login(sim);
  const b = await Wire.login(sim);
  assert.equal(sim.connections, 2);
  a.close();
  await a.waitClosed();
  await delay(20);
  assert.equal(sim.connections, 1);
  b.close();
});

test('dropConnections: abrupt (no notice) or with the shutdown notice; new connections still accepted', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const a = await Wire.login(sim);
  sim.dropConnections();
  await a.waitClosed();
  assert.equal(a.frames.filter((f) => f.contentType === 'text/disconnect-notice').length, 0);
  const b = await Wire.login(sim);
  sim.dropConnections({ notice: true });
  await b.waitClosed();
  const notice = b.frames.find((f) => f.contentType === 'text/disconnect-notice')!;
  assert.equal(notice.bodyText, 'The system is being shut down.\n');
  assert.equal(sim.connections, 0);
  const c = await Wire.login(sim);
  c.close();
});

test('first-command timer: an idle inbound connection gets the disconnect notice and is closed', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { firstCommandTimeoutMs: 50 });
  const w = await Wire.connect(sim.port);
  await w.waitClosed();
  assert.equal(w.raw.toString(), `Content-Type: auth/request\n\nContent-Type: text/disconnect-notice\nContent-Length: 67\n\n${GOODBYE}`);
  // Only the first command is timed: after it the connection may idle.
  const w2 = await Wire.connect(sim.port);
  await w2.next();
  await w2.command('api status');
  await delay(120);
  assert.equal(w2.closed, false);
  w2.close();
});

test('first-command timer on an outbound socket: notice, close, the dialplan goes on', { timeout: 20_000 }, async (t) => {
  const app = await OutboundServer.start();
  t.after(() => app.stop());
  const sim = await startSim(t, { firstCommandTimeoutMs: 50, dialplan: { '7001': { socket: `127.0.0.1:${app.port} async full`, actions: ['set went_on=1'] } } });
  const uuid = await sim.originate({ direction: 'inbound', destination: '7001' });
  const end = sim.waitForEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE');
  const w = await app.accept();
  await w.waitClosed();
  const notice = w.frames[0]!;
  assert.equal(notice.contentType, 'text/disconnect-notice');
  assert.equal(notice.get('Controlled-Session-UUID'), uuid);
  assert.equal(notice.get('Content-Disposition'), 'disconnect');
  const ev = await end;
  assert.equal(ev.get('variable_went_on'), '1');
  assert.equal(ev.get('Hangup-Cause'), 'NORMAL_CLEARING');
});

test('linger <secs>: events keep coming after hangup, then disconnect after the linger time', { timeout: 20_000 }, async (t) => {
  const app = await OutboundServer.start();
  t.after(() => app.stop());
  const sim = await startSim(t);
  const uuid = await sim.originate({ direction: 'inbound', socket: { port: app.port } });
  const w = await app.accept();
  await w.command('connect');
  await w.command('myevents');
  assert.equal((await w.command('linger 1')).get('Reply-Text'), '+OK will linger 1 seconds');
  const destroyed = sim.waitForEvent((e) => e.name === 'CHANNEL_DESTROY' && e.get('Unique-ID') === uuid);
  sim.hangup(uuid, 'CALL_REJECTED');
  await w.event((e) => e.name === 'CHANNEL_HANGUP_COMPLETE');
  assert.equal(w.closed, false);
  await w.waitClosed(3000);
  const notices = w.frames.filter((f) => f.contentType === 'text/disconnect-notice');
  assert.deepEqual(notices.map((f) => f.get('Content-Disposition')), ['linger', 'disconnect']);
  assert.equal(notices[1]!.bodyText, GOODBYE);
  // The socket is gone: now the session is destroyed.
  await destroyed;
  assert.equal(sim.getChannel(uuid), undefined);
});

test('nolinger after linger: back to disconnect at hangup', { timeout: 20_000 }, async (t) => {
  const app = await OutboundServer.start();
  t.after(() => app.stop());
  const sim = await startSim(t);
  const uuid = await sim.originate({ direction: 'inbound', socket: { port: app.port } });
  const w = await app.accept();
  await w.command('connect');
  await w.command('linger');
  assert.equal((await w.command('nolinger')).get('Reply-Text'), '+OK will not linger');
  sim.hangup(uuid);
  await w.waitClosed();
  assert.deepEqual(w.frames.filter((f) => f.contentType === 'text/disconnect-notice').map((f) => f.get('Content-Disposition')), ['disconnect']);
});

test('PRIVATE_COMMAND: fired for queued messages once media flows, with the message headers', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  await w.command('event plain PRIVATE_COMMAND');
  const uuid = await sim.originate({ app: 'park' });
  await sim.waitForEvent((e) => e.name === 'CHANNEL_PARK');
  await w.command(`sendmsg ${uuid}\ncall-command: execute\nexecute-app-name: set\nexecute-app-arg: a=b`);
  const ev = await w.event();
  const names = [...ev.headers()].map(([n]) => n);
  assert.deepEqual(names.slice(0, 5), ['Command', 'call-command', 'execute-app-name', 'execute-app-arg', 'Event-Name']);
  assert.equal(ev.get('Command'), `sendmsg ${uuid}`);
  assert.equal(ev.uniqueId, uuid);
  assert.equal(ev.get('Event-Calling-Function'), 'switch_ivr_parse_next_event');
  w.close();
});

test('heartbeat: HEARTBEAT every interval when enabled; none by default', { timeout: 20_000 }, async (t) => {
  const quiet = await startSim(t);
  const q = await Wire.login(quiet);
  await q.command('event plain HEARTBEAT');
  const sim = await startSim(t, { heartbeatIntervalMs: 30 });
  const w = await Wire.login(sim);
  await w.command('event plain HEARTBEAT');
  await w.count((e) => e.name === 'HEARTBEAT', 2);
  const hb = w.events()[0]!;
  assert.equal(hb.get('Event-Info'), 'System Ready');
  assert.equal(hb.get('Session-Count'), '0');
  assert.equal(q.events().length, 0);
  w.close();
  q.close();
});

test('stop(): closes every socket, ends calls and timers; later originate rejects', { timeout: 20_000 }, async () => {
  const app = await OutboundServer.start();
  const sim = await Simulator.start({ heartbeatIntervalMs: 10 });
  const w = await Wire.login(sim);
  await sim.originate({ app: 'park', answerAfterMs: 100000 });
  await sim.originate({ direction: 'inbound', socket: { port: app.port } });
  const o = await app.accept();
  await sim.stop();
  await w.waitClosed();
  await o.waitClosed();
  assert.equal(sim.connections, 0);
  assert.equal(sim.channels.length, 0);
  await assert.rejects(sim.originate({ app: 'park' }));
  await sim.stop(); // idempotent
  await app.stop();
  // The port is free again.
  await new Promise<void>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: sim.port });
    s.on('connect', () => reject(new Error('still listening')));
    s.on('error', () => resolve());
  });
});

test('channels / getChannel / waitForEvent / channelCreate & channelDestroy hooks', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const destroyed: string[] = [];
  sim.on('channelDestroy', (c) => destroyed.push(c.uuid));
  const uuid = await sim.originate({ app: 'park', variables: { who: 'me' } });
  await sim.waitForEvent((e) => e.name === 'CHANNEL_PARK');
  const list = sim.channels;
  assert.equal(list.length, 1);
  assert.equal(list[0]!.uuid, uuid);
  assert.equal(list[0]!.variables['who'], 'me');
  assert.equal(list[0]!.state, 'CS_EXECUTE');
  assert.equal(sim.hangup(uuid, 'USER_BUSY'), true);
  assert.equal(sim.hangup(uuid), false);
  await sim.waitForEvent((e) => e.name === 'CHANNEL_DESTROY');
  await delay(5);
  assert.deepEqual(destroyed, [uuid]);
  await assert.rejects(sim.waitForEvent(() => false, 20), /timed out/);
});

test('a command split across packets is answered once it is complete', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  w.send('api orig');
  await delay(20);
  w.send('inate\n\n');
  const r = await w.reply();
  assert.match(r.bodyText, /^-USAGE: /);
  w.close();
});

test('event queue overflow: more than 500 lost events kill the listener with a notice', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  await w.command('event plain CUSTOM');
  // A half-received command stops event writing, so the queue fills up.
  w.send('api ech');
  await delay(20);
  const ev = sim.fireEvent('CUSTOM', { N: '0' });
  for (let i = 0; i < 100_000 + 501; i++) sim.fire(ev);
  await w.waitClosed();
  const notice = w.frames.find((f) => f.contentType === 'text/disconnect-notice')!;
  assert.equal(notice.bodyText, 'killed listener because of lost events\n');
  assert.equal(w.events().length, 0);
});

test('pauseListening / resumeListening: refused while paused, same port afterwards', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const port = sim.port;
  const w = await Wire.login(sim);
  await sim.pauseListening();
  await assert.rejects(Wire.connect(port), /ECONNREFUSED/);
  assert.equal((await w.command('api echo still here')).bodyText, 'still here', 'existing connections live on');
  await sim.resumeListening();
  assert.equal(sim.port, port);
  const w2 = await Wire.login(sim);
  w2.close();
  w.close();
});
