import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from '../src/outbound/server.js';
import type { CallSession } from '../src/outbound/call-session.js';
import { Simulator } from '../src/testing/index.js';
import { CliProcess, cleanEnv, hasStackTrace, runCli, scratchDir } from './cli-helpers.js';

// `fs-esl simulate`: the simulator as a process, reached by the CLI itself and by an outbound server.

describe('fs-esl simulate', () => {
  test('--port 0 --json: prints where it listens, serves fs-esl, stops on Ctrl-C with exit 0', async () => {
    const scratch = scratchDir();
    const env = cleanEnv(scratch.dir);
    const sim = new CliProcess(['simulate', '--port', '0', '--json'], { env, cwd: scratch.dir });
    try {
      const [line] = await sim.waitFor('stdout', /^\{.*\}\n/);
      const info = JSON.parse(line!);
      assert.equal(info.type, 'listening');
      assert.equal(info.host, '127.0.0.1');
      assert.equal(info.password, 'ClueCon');
      assert.ok(Number.isInteger(info.port) && info.port > 0);
      assert.equal(info.connect, `fs-esl -H 127.0.0.1 -P ${info.port} -p ClueCon`);

      const r = await runCli(['-P', String(info.port), '-x', 'status'], { env, cwd: scratch.dir });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /is ready/);

      const end = await sim.stop('SIGINT');
      assert.equal(end.code, 0, end.stderr);
      assert.deepEqual(JSON.parse(end.stdout.trim().split('\n').pop()!), { type: 'stopped' });
      assert.equal(end.stderr, '');
    } finally {
      await sim.stop('SIGKILL');
      scratch.cleanup();
    }
  });

  test('plain output tells how to connect; -p sets the password it requires', async () => {
    const scratch = scratchDir();
    const env = cleanEnv(scratch.dir);
    const sim = new CliProcess(['simulate', '-P', '0', '-p', 's3cret'], { env, cwd: scratch.dir });
    try {
      const m = await sim.waitFor('stdout', /listening on 127\.0\.0\.1:(\d+) \(password s3cret\)\nConnect with: {2}fs-esl -H 127\.0\.0\.1 -P (\d+) -p s3cret\n/);
      assert.equal(m[1], m[2]);
      const port = m[1]!;
      const good = await runCli(['-P', port, '-p', 's3cret', '-x', 'echo ok'], { env, cwd: scratch.dir });
      assert.equal(good.code, 0, good.stderr);
      const bad = await runCli(['-P', port, '-x', 'echo ok'], { env, cwd: scratch.dir });
      assert.equal(bad.code, 4);
      assert.equal((await sim.stop('SIGTERM')).code, 0);
    } finally {
      await sim.stop('SIGKILL');
      scratch.cleanup();
    }
  });

  test('--outbound host:port --calls N places demo calls to an outbound-socket server', async () => {
    const scratch = scratchDir();
    const calls: Array<{ uuid: string; destination: string | undefined }> = [];
    let notify: () => void = () => undefined;
    const server = createServer(async (call: CallSession) => {
      calls.push({ uuid: call.uuid, destination: call.destinationNumber });
      notify();
      await call.answer();
    });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const sim = new CliProcess(['simulate', '--port', '0', '--json', '--outbound', `127.0.0.1:${port}`, '--calls', '2', '--interval', '50', '--hangup-after', '200', '--destination', '5000'], { env: cleanEnv(scratch.dir), cwd: scratch.dir });
    try {
      await sim.waitFor('stdout', /"type":"call","n":2/);
      while (calls.length < 2) await new Promise<void>((resolve) => (notify = resolve));
      const printed = sim.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'call');
      assert.deepEqual(printed.map((c) => c.uuid).sort(), calls.map((c) => c.uuid).sort());
      for (const c of calls) assert.equal(c.destination, '5000');
      assert.equal(printed[0].outbound, `127.0.0.1:${port}`);
      const end = await sim.stop('SIGINT');
      assert.equal(end.code, 0, end.stderr);
    } finally {
      await sim.stop('SIGKILL');
      await server.close();
      scratch.cleanup();
    }
  });

  test('--var NAME=VALUE sets channel variables on every demo call', async () => {
    const scratch = scratchDir();
    const seen: Array<Record<string, string | undefined>> = [];
    let notify: () => void = () => undefined;
    const server = createServer(async (call: CallSession) => {
      seen.push({ account: call.variable('ccnq_account'), note: call.variable('note'), empty: call.variable('empty'), mode: call.socketMode });
      notify();
      await call.hangup();
    });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const args = ['simulate', '--port', '0', '--json', '--outbound', `127.0.0.1:${port}`, '--var', 'ccnq_account=acme', '--var', 'note=a b=c', '--var', 'empty='];
    const sim = new CliProcess(args, { env: cleanEnv(scratch.dir), cwd: scratch.dir });
    try {
      const [line] = await sim.waitFor('stdout', /^\{"type":"call".*\}\n/m);
      assert.deepEqual(JSON.parse(line!).variables, { ccnq_account: 'acme', note: 'a b=c', empty: '' });
      while (seen.length < 1) await new Promise<void>((resolve) => (notify = resolve));
      // An empty value sets nothing (switch_channel_set_variable).
      assert.deepEqual(seen, [{ account: 'acme', note: 'a b=c', empty: undefined, mode: 'async' }]);
      assert.equal((await sim.stop('SIGINT')).code, 0);
    } finally {
      await sim.stop('SIGKILL');
      await server.close();
      scratch.cleanup();
    }
  });

  test('a port already in use: exit 3 and a hint, no stack trace', async () => {
    const scratch = scratchDir();
    const busy = await Simulator.start({});
    try {
      const r = await runCli(['simulate', '--port', String(busy.port)], { env: cleanEnv(scratch.dir), cwd: scratch.dir });
      assert.equal(r.code, 3);
      assert.match(r.stderr, new RegExp(`^fs-esl: cannot listen on 127\\.0\\.0\\.1:${busy.port}: port ${busy.port} is in use .*--port 0\\n$`));
      assert.equal(hasStackTrace(r.stderr), false);
    } finally {
      await busy.stop();
      scratch.cleanup();
    }
  });

  test('usage errors in simulate options exit 2', async () => {
    const scratch = scratchDir();
    try {
      for (const args of [['simulate', '--calls', '2'], ['simulate', '--outbound', 'nowhere'], ['simulate', '--bogus'], ['simulate', '--var', 'novalue'], ['simulate', '--var', '=x']]) {
        const r = await runCli(args, { env: cleanEnv(scratch.dir), cwd: scratch.dir });
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(hasStackTrace(r.stderr), false);
      }
    } finally {
      scratch.cleanup();
    }
  });
});
