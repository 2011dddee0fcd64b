import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Simulator } from 'freeswitch-esl/testing';
import { runCli, EXIT, type CliIo } from '../src/cli.js';
import { PrepaidStore } from '../src/store.js';
import { CouchCompatibleServer, Faults } from './harness.js';

function io(env: Record<string, string | undefined> = {}, signal?: AbortSignal) {
  const captured = { out: '', err: '' };
  const cli: CliIo = {
    stdout: (t) => void (captured.out += t),
    stderr: (t) => void (captured.err += t),
    env,
    ...(signal ? { signal } : {}),
  };
  return { cli, captured };
}

describe('prepaid CLI', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'prepaid-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('account create | credit | show, and calls, on the embedded database', async () => {
    const run = async (...args: string[]) => {
      const { cli, captured } = io();
      const code = await runCli([...args, '--data', dir], cli);
      return { code, ...captured };
    };
    let r = await run('account', 'create', 'acme', '--interval-duration', '6', '--name', 'Acme Ltd', '--credit', '10');
    assert.equal(r.code, EXIT.ok, r.err);
    assert.match(r.out, /created account acme \(interval 6 s, 10 intervals\)/);
    r = await run('account', 'create', 'acme', '--interval-duration', '6');
    assert.equal(r.code, EXIT.failure);
    assert.match(r.err, /already exists/);
    r = await run('account', 'credit', 'acme', '5', '--id', 'pay-1', '--reason', 'card');
    assert.equal(r.code, EXIT.ok);
    assert.match(r.out, /credited 5 intervals to acme; 15 remaining/);
    r = await run('account', 'credit', 'acme', '5', '--id', 'pay-1');
    assert.match(r.out, /already applied/);
    r = await run('account', 'credit', 'nobody', '5');
    assert.equal(r.code, EXIT.failure);

    const store = await PrepaidStore.open({ kind: 'disk', dataDir: dir });
    const call = randomUUID();
    for (const interval of [1, 2, 3]) await store.chargeInterval({ account: 'acme', call, interval, intervalDuration: 6 });
    await store.close();

    r = await run('account', 'show', 'acme');
    assert.equal(r.code, EXIT.ok, r.err);
    assert.match(r.out, /remaining\s+12 intervals \(1 min 12 s\)/);
    assert.match(r.out, /credited\s+15 intervals in 2 credit\(s\)/);
    assert.match(r.out, /charged\s+3 intervals over 1 call\(s\)/);
    assert.match(r.out, /pay-1\s+card/);
    r = await run('account', 'show', 'acme', '--json');
    assert.equal(JSON.parse(r.out).remaining, 12);
    r = await run('account', 'show', 'nobody');
    assert.equal(r.code, EXIT.notFound);

    r = await run('calls');
    assert.equal(r.code, EXIT.ok);
    assert.match(r.out, new RegExp(`acme\\s+${call}\\s+3`));
    r = await run('calls', '--account', 'other', '--json');
    assert.deepEqual(JSON.parse(r.out), []);
  });

  it('storage options may come before the command', async () => {
    const first = io();
    assert.equal(await runCli(['--data', dir, 'account', 'create', 'early', '--interval-duration', '3', '--credit', '2'], first.cli), EXIT.ok, first.captured.err);
    const second = io();
    assert.equal(await runCli([`--data=${dir}`, '--db-timeout-ms', '2000', 'account', 'show', 'early', '--json'], second.cli), EXIT.ok, second.captured.err);
    assert.equal(JSON.parse(second.captured.out).remaining, 2);
    const bad = io();
    assert.equal(await runCli(['--listen', '127.0.0.1:1', 'serve'], bad.cli), EXIT.usage, 'only storage options may lead');
  });

  it('usage errors exit 2 with the usage text', async () => {
    for (const args of [['bogus'], ['account', 'create', 'x'], ['account', 'credit', 'x', '-3'], ['calls', '--limit', 'zero'], []]) {
      const { cli, captured } = io();
      const code = await runCli([...args, '--data', dir], cli);
      assert.equal(code, EXIT.usage, args.join(' '));
      assert.match(captured.out + captured.err, /Usage: prepaid/);
    }
    const { cli, captured } = io();
    assert.equal(await runCli(['--help'], cli), EXIT.ok);
    assert.match(captured.out, /account create/);
  });

  it('--couch talks to a CouchDB-compatible server and never prints the password', async () => {
    const couch = new CouchCompatibleServer(new Faults());
    const port = await couch.listen();
    try {
      const url = `http://admin:hunter2-secret@127.0.0.1:${port}/cli-${randomUUID().slice(0, 8)}`;
      const { cli, captured } = io({ PREPAID_COUCH_URL: url });
      assert.equal(await runCli(['account', 'create', 'zed', '--interval-duration', '30', '--credit', '4'], cli), EXIT.ok, captured.err);
      assert.match(captured.out, /CouchDB http:\/\/admin:\*\*\*@127\.0\.0\.1/);
      await couch.down();
      const down = io({ PREPAID_COUCH_URL: url });
      assert.equal(await runCli(['account', 'show', 'zed', '--db-timeout-ms', '1000'], down.cli), EXIT.failure);
      assert.match(down.captured.err, /database error/);
      for (const text of [captured.out, captured.err, down.captured.out, down.captured.err]) assert.doesNotMatch(text, /hunter2/);
    } finally {
      await couch.stop();
    }
  });

  it('serve runs the outbound server until stopped', async () => {
    const sim = await Simulator.start({ password: 'ClueCon' });
    const controller = new AbortController();
    const { cli, captured } = io({}, controller.signal);
    const setup = io();
    await runCli(['account', 'create', 'srv', '--interval-duration', '0.1', '--credit', '10', '--data', dir], setup.cli);
    const serving = runCli(['serve', '--listen', '127.0.0.1:0', '--data', dir, '--ring-check-ms', '50', '--log-level', 'debug'], cli);
    try {
      let port = 0;
      for (let i = 0; i < 200 && port === 0; i++) {
        port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(captured.out)?.[1] ?? 0);
        if (port === 0) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(port > 0, captured.err);
      const uuid = await sim.originate({
        direction: 'inbound',
        variables: { ccnq_account: 'srv', target: 'sim/2000/answer-after-20/hangup-after-250' },
        socket: `127.0.0.1:${port} async full`,
      });
      for (let i = 0; i < 300 && !captured.err.includes('call ended'); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(captured.err, new RegExp(`call=${uuid} .*call ended: completed`));
    } finally {
      controller.abort();
      assert.equal(await serving, EXIT.ok);
      await sim.stop();
    }
  });
});
