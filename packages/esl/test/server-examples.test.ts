/**
 * The outbound-server examples (examples/ivr.mjs, examples/web-query-variable.mjs) run as users
 * run them (`node examples/<file>.mjs`, importing 'freeswitch-esl'), with the simulator placing
 * the calls that run `socket` to them.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Simulator, type SimEvent } from '../src/testing/index.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url)); // dist/test → repository root

interface Running {
  proc: ChildProcess;
  port: number;
  output: string[];
  stop(): Promise<number | null>;
}

async function startExample(file: string, args: string[]): Promise<Running> {
  const proc = spawn(process.execPath, [`examples/${file}`, '--port', '0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        output.push(line);
        const m = / listening on 127\.0\.0\.1:(\d+)$/.exec(line);
        if (m) resolve(Number(m[1]));
      }
    });
    proc.stderr!.on('data', (c: Buffer) => output.push(`stderr: ${c.toString('utf8').trim()}`));
    void exited.then((code) => reject(new Error(`${file} exited with ${code}: ${output.join('\n')}`)));
  });
  return {
    proc,
    port,
    output,
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function recorder(sim: Simulator): SimEvent[] {
  const events: SimEvent[] = [];
  sim.on('event', (ev) => events.push(ev));
  return events;
}

const of = (events: SimEvent[], uuid: string, name: string) =>
  events.filter((e) => e.get('Unique-ID') === uuid && e.name === name);

describe('examples/ivr.mjs', () => {
  for (const mode of ['async', 'sync'] as const) {
    it(`answers, reads a digit and acts on it (${mode} socket)`, async () => {
      const ivr = await startExample('ivr.mjs', []);
      const sim = await Simulator.start({ playbackMs: 10 });
      const events = recorder(sim);
      try {
        const uuid = await sim.originate({
          direction: 'inbound',
          destination: '7000',
          callerIdNumber: '1001',
          dtmf: '1',
          socket: { port: ivr.port, async: mode === 'async', full: true },
        });
        await until(() => of(events, uuid, 'CHANNEL_HANGUP_COMPLETE').length === 1, 'the call to end');
        const apps = of(events, uuid, 'CHANNEL_EXECUTE')
          .filter((e) => e.get('Application') !== 'socket')
          .map((e) => `${e.get('Application')} ${e.get('Application-Data') ?? ''}`.trim());
        assert.deepEqual(apps.slice(0, 5), [
          'answer',
          'playback ivr/ivr-welcome.wav',
          'play_and_get_digits 1 1 3 5000 # ivr/ivr-please_choose_from_the_following.wav ivr/ivr-that_was_an_invalid_entry.wav pagd_input [0-9] 5000',
          'playback tone_stream://%(1000,0,440)',
          'playback ivr/ivr-thank_you_for_calling.wav',
        ]);
        assert.equal(of(events, uuid, 'CHANNEL_HANGUP')[0]!.get('Hangup-Cause'), 'NORMAL_CLEARING');
        await until(() => ivr.output.some((l) => l.includes(`[${uuid}] ended (linger, NORMAL_CLEARING)`)), 'the log line');
        assert.ok(ivr.output.includes(`[${uuid}] caller chose 1`), ivr.output.join('\n'));
        assert.ok(ivr.output.includes(`[${uuid}] call from 1001 to 7000`));
      } finally {
        await sim.stop();
        assert.equal(await ivr.stop(), 0);
      }
    });
  }

  it('survives the caller hanging up in the middle of the menu', async () => {
    const ivr = await startExample('ivr.mjs', []);
    const sim = await Simulator.start({ playbackMs: 5_000 });
    try {
      const uuid = await sim.originate({ direction: 'inbound', destination: '7000', hangupAfterMs: 100, socket: { port: ivr.port } });
      await until(() => ivr.output.some((l) => l.startsWith(`[${uuid}] ended`)), 'the log line');
      assert.ok(!ivr.output.some((l) => l.includes('handler failed')), ivr.output.join('\n'));
    } finally {
      await sim.stop();
      assert.equal(await ivr.stop(), 0);
    }
  });
});

describe('examples/web-query-variable.mjs', () => {
  it('sets the variable from the web answer and the dialplan continues with it', async () => {
    const requests: URL[] = [];
    let status = 200;
    const http = createHttpServer((req: IncomingMessage, res) => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      requests.push(u);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? `route-${u.searchParams.get('caller_id_number')}\n` : 'broken');
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/route?key=abc`;
    const app = await startExample('web-query-variable.mjs', ['--url', url]);
    const sim = await Simulator.start({
      dialplan: {
        '7100': {
          socket: `127.0.0.1:${app.port} async full`,
          actions: [['set', 'routed_to=${web_query_result}'], ['set', 'failure=${web_query_error}'], 'hangup'],
        },
        '7101': {
          socket: `127.0.0.1:${app.port} full`, // sync socket
          actions: [['set', 'routed_to=${web_query_result}'], 'hangup'],
        },
      },
    });
    const events = recorder(sim);
    const setsOf = (uuid: string) =>
      of(events, uuid, 'CHANNEL_EXECUTE')
        .filter((e) => e.get('Application') === 'set')
        .map((e) => e.get('Application-Data'));
    try {
      for (const destination of ['7100', '7101']) {
        const uuid = await sim.originate({ direction: 'inbound', destination, callerIdNumber: '2002' });
        await until(() => of(events, uuid, 'CHANNEL_HANGUP_COMPLETE').length === 1, 'the call to end');
        assert.ok(setsOf(uuid).includes('web_query_result=route-2002'), String(setsOf(uuid)));
        assert.ok(setsOf(uuid).includes('routed_to=route-2002'), String(setsOf(uuid)));
        const q = requests.at(-1)!;
        assert.equal(q.pathname, '/route');
        assert.equal(q.searchParams.get('key'), 'abc');
        assert.equal(q.searchParams.get('uuid'), uuid);
        assert.equal(q.searchParams.get('destination_number'), destination);
      }
      // A failing query leaves the variable unset and says why.
      status = 500;
      const uuid = await sim.originate({ direction: 'inbound', destination: '7100', callerIdNumber: '2003' });
      await until(() => of(events, uuid, 'CHANNEL_HANGUP_COMPLETE').length === 1, 'the call to end');
      assert.ok(setsOf(uuid).includes('web_query_error=HTTP 500'), String(setsOf(uuid)));
      assert.ok(setsOf(uuid).includes('routed_to='), String(setsOf(uuid)));
    } finally {
      await sim.stop();
      assert.equal(await app.stop(), 0);
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});
