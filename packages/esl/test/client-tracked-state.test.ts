/**
 * State the inbound client tracks stays consistent: reconnect restores filters before
 * subscriptions and shows no event before `connected` (checked on the simulator under event
 * load), a parse error is not retried, and sendCommand() refuses commands that would change
 * tracked state behind the library's back.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { connect, type EslClient } from '../src/inbound/client.js';
import { EslInvalidArgumentError, EslParseError } from '../src/errors.js';
import type { EslEvent } from '../src/protocol/event.js';
import { Simulator } from '../src/testing/index.js';
import { FaultServer, plainEvent } from './helpers/fault-server.js';

const sims: Simulator[] = [];
const clients: EslClient[] = [];
const faults: FaultServer[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(sims.splice(0).map((s) => s.stop()));
  await Promise.all(faults.splice(0).map((s) => s.close()));
});

async function simulatorClient(extra: Parameters<typeof connect>[0] = {}): Promise<{ sim: Simulator; client: EslClient }> {
  const sim = await Simulator.start({ password: 'ClueCon' });
  sims.push(sim);
  const client = await connect({ port: sim.port, password: 'ClueCon', ...extra });
  clients.push(client);
  return { sim, client };
}

function nextEmit(c: EslClient, name: 'reconnect' | 'close'): Promise<void> {
  return new Promise((resolve) => c.once(name, () => resolve()));
}

describe('reconnect under event load', () => {
  test('20 reconnects: no event the filter excludes and no event before connected reaches a handler', async () => {
    const { sim, client } = await simulatorClient({ reconnect: { initialDelay: 2, maxDelay: 10, jitter: 0 } });
    await client.filter('X-Load', 'keep');
    await client.subscribe(['CUSTOM', 'load::test']);
    const wrong: string[] = [];
    let kept = 0;
    client.on('CUSTOM load::test', (ev: EslEvent) => {
      if (client.state !== 'connected') wrong.push(`an event while ${client.state}`);
      const tag = ev.get('X-Load');
      if (tag !== 'keep') wrong.push(`an excluded event (${tag})`);
      else kept++;
    });
    // Events fired on every turn of the event loop, half of them excluded by the filter.
    let firing = true;
    let n = 0;
    const fire = () => {
      if (!firing) return;
      for (let i = 0; i < 10; i++) sim.fireEvent('CUSTOM', { 'X-Load': n++ % 2 === 0 ? 'drop' : 'keep' }, undefined, 'load::test');
      setImmediate(fire);
    };
    fire();
    try {
      for (let round = 0; round < 20; round++) {
        const reconnected = nextEmit(client, 'reconnect');
        sim.dropConnections();
        await reconnected;
        const before = kept;
        while (kept < before + 10) await delay(1); // the restored subscription delivers again
      }
    } finally {
      firing = false;
    }
    assert.deepEqual(wrong, []);
    assert.ok(kept >= 200, `${kept} kept events`);
  });

  test('an event that arrives with the restored subscription\'s reply is held back until connected, then delivered', async () => {
    let restoring = false;
    const s = await FaultServer.start({
      onCommand: (cmd, conn) => {
        if (!restoring || !cmd.line.startsWith('event ')) return false;
        // The reply and an event in one write: the client parses both before anything else runs.
        conn.write(`Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n${plainEvent({ 'Event-Name': 'HEARTBEAT', Seq: '1' })}`);
        return true;
      },
    });
    faults.push(s);
    const client = await connect({ port: s.port, reconnect: { initialDelay: 2, jitter: 0 } });
    clients.push(client);
    await client.subscribe('HEARTBEAT');
    await client.log('INFO'); // restored after the subscription: the event comes before its reply
    const seen: string[] = [];
    client.on('HEARTBEAT', (ev: EslEvent) => seen.push(`${ev.get('Seq')} while ${client.state}`));
    restoring = true;
    const reconnected = nextEmit(client, 'reconnect');
    s.connections[0]!.destroy();
    await reconnected;
    assert.deepEqual(seen, ['1 while connected']);
  });

  test('a parse error closes the client instead of reconnecting (EslParseError is not retriable)', async () => {
    const s = await FaultServer.start();
    faults.push(s);
    const client = await connect({ port: s.port, reconnect: { initialDelay: 2, jitter: 0 } });
    clients.push(client);
    const closed = new Promise<Error | undefined>((resolve) => client.once('close', resolve));
    let reconnecting = false;
    client.on('reconnecting', () => {
      reconnecting = true;
    });
    s.connections[0]!.write('Content-Length: nonsense\n\n');
    const err = await closed;
    assert.ok(err instanceof EslParseError, String(err));
    assert.equal(err.retriable, false);
    assert.equal(reconnecting, false);
    assert.equal(client.state, 'closed');
  });
});

describe('sendCommand() and tracked state', () => {
  const refused: Array<[string, RegExp]> = [
    ['noevents', /noevents\(\)/],
    ['event plain ALL', /subscribe\(\)/],
    ['nixevent CHANNEL_ANSWER', /unsubscribe\(\)/],
    ['filter Unique-ID x', /filter\(\)/],
    ['myevents', /myevents\(\)/],
    ['divert_events on', /divertEvents\(\)/],
    ['linger', /linger\(\)/],
    ['nolinger', /nolinger\(\)/],
    ['log DEBUG', /log\(\)/],
    ['nolog', /nolog\(\)/],
    ['exit', /close\(\)/],
    ['auth ClueCon', /connect\(\)/],
    ['userauth a@b:c', /connect\(\)/],
    ['connect', /connect/],
    ['resume', /resume\(\)/],
    ['  NoEvents', /noevents\(\)/],
  ];

  test('refuses every command that changes tracked state, naming the method to use, and sends nothing', async () => {
    const { client } = await simulatorClient();
    for (const [line, method] of refused) {
      const err = await client.sendCommand(line).catch((e: unknown) => e);
      assert.ok(err instanceof EslInvalidArgumentError, `${line}: ${String(err)}`);
      assert.match(err.message, method, line);
      assert.match(err.message, /sendCommand/, line);
    }
    assert.equal(client.pendingCount, 0);
    // Untracked commands still go through.
    assert.match(await client.sendCommand('api status'), /UP/);
    assert.match(await client.sendCommand('sendevent CUSTOM', { headers: { 'Event-Subclass': 'x::y' } }), /^\+OK/);
  });

  test("sendCommand('noevents') is refused and 1,000 pending bgapi calls still settle", async () => {
    const { sim, client } = await simulatorClient();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    sim.registerApi('held', async (arg) => {
      await gate;
      return `+OK ${arg ?? ''}\n`;
    });
    const jobs = Array.from({ length: 1000 }, (_, i) => client.bgapi(`held ${i}`));
    await client.api('status'); // every bgapi has been accepted by now (replies come in order)
    await assert.rejects(client.sendCommand('noevents'), EslInvalidArgumentError);
    release();
    const results = await Promise.all(jobs);
    assert.equal(results.length, 1000);
    results.forEach((r, i) => assert.equal(r, `+OK ${i}\n`));
  });
});
