import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Simulator } from 'freeswitch-esl/testing';
import { EXIT } from '../src/cli.js';
import { controlSocketPath } from '../src/control-client.js';
import { batchedWriter, createLogger, formatRecordJson } from '../src/log.js';
import { PrepaidStore } from '../src/store.js';
import { cli, startServe, tempDir, waitFor } from './serve-support.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.js');

describe('prepaid CLI while serve runs on the embedded database', () => {
  it('goes through the control socket with the same output and exit codes as on the database itself', async () => {
    const { dir, remove } = await tempDir('prepaid-control-');
    try {
      const direct = await cli(['account', 'create', 'acme', '--interval-duration', '6', '--credit', '10', '--data', dir]);
      assert.equal(direct.code, EXIT.ok, direct.err);
      const store = await PrepaidStore.open({ kind: 'disk', dataDir: dir });
      const call = randomUUID();
      for (const interval of [1, 2]) await store.chargeInterval({ account: 'acme', call, interval, intervalDuration: 6 });
      await store.close();
      const commands = [
        ['account', 'show', 'acme'],
        ['account', 'show', 'acme', '--json'],
        ['account', 'list'],
        ['account', 'list', '--json'],
        ['calls'],
        ['calls', '--account', 'acme', '--json'],
        ['account', 'show', 'nobody'],
        ['account', 'credit', 'nobody', '3'],
        ['account', 'create', 'acme', '--interval-duration', '6'],
        ['account', 'create', 'bad name!', '--interval-duration', '6'],
      ];
      const before = [];
      for (const args of commands) before.push(await cli([...args, '--data', dir]));

      const serve = await startServe(dir);
      try {
        const socket = await stat(controlSocketPath(dir));
        assert.ok(socket.isSocket());
        assert.equal(socket.mode & 0o777, 0o600, 'only the owner may connect');
        for (const [i, args] of commands.entries()) {
          const through = await cli([...args, '--data', dir]);
          assert.deepEqual(through, before[i], args.join(' '));
        }
        assert.equal(before[6]!.code, EXIT.notFound);
        assert.match(before[7]!.err, /^prepaid: no account nobody\n$/);
        assert.match(before[8]!.err, /already exists/);

        // Writes while the server runs, exactly as without it.
        let r = await cli(['account', 'create', 'zed', '--interval-duration', '30', '--name', 'Zed', '--credit', '4', '--data', dir]);
        assert.equal(r.code, EXIT.ok, r.err);
        assert.equal(r.out, `created account zed (interval 30 s, 4 intervals) in embedded PouchDB in ${path.join(dir, 'prepaid')}\n`);
        r = await cli(['account', 'credit', 'zed', '5', '--id', 'pay-1', '--reason', 'card', '--data', dir]);
        assert.equal(r.out, 'credited 5 intervals to zed; 9 remaining\n');
        r = await cli(['account', 'credit', 'zed', '5', '--id', 'pay-1', '--data', dir]);
        assert.equal(r.out, 'credit pay-1 was already applied to zed; 9 remaining\n');
        r = await cli(['account', 'list', '--data', dir]);
        assert.match(r.out, /^account\s+name\s+interval\s+remaining\s+created at\nacme\s+6 s\s+8\s+\S+\nzed\s+Zed\s+30 s\s+9\s+\S+\n$/);
      } finally {
        assert.equal(await serve.stop(), EXIT.ok);
      }
      await assert.rejects(stat(controlSocketPath(dir)), /ENOENT/, 'the socket goes with the server');
      const after = await cli(['account', 'show', 'zed', '--json', '--data', dir]);
      assert.equal(JSON.parse(after.out).remaining, 9, 'the writes made through the server are in the database');
    } finally {
      await remove();
    }
  });

  it('a control socket left by a crashed server is ignored by the CLI and replaced by the next serve', async () => {
    const { dir, remove } = await tempDir('prepaid-control-');
    try {
      // A process killed while listening leaves its socket file behind, with nobody answering.
      const holder = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(controlSocketPath(dir))}, () => console.log('up'))`], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('close', resolve));
      assert.ok((await stat(controlSocketPath(dir))).isSocket(), 'the stale socket file is there');
      let r = await cli(['account', 'list', '--data', dir]);
      assert.equal(r.code, EXIT.ok, r.err);
      assert.equal(r.out, 'no accounts\n');
      const serve = await startServe(dir);
      try {
        r = await cli(['account', 'list', '--json', '--data', dir]);
        assert.deepEqual(JSON.parse(r.out), []);
      } finally {
        await serve.stop();
      }
    } finally {
      await remove();
    }
  });
});

describe('prepaid CLI rough edges', () => {
  it('`serve --help` and every command\'s --help print the usage and exit 0; the help names every serve option', async () => {
    for (const args of [['serve', '--help'], ['serve', '-h'], ['account', 'create', '--help'], ['calls', '--help'], ['--help']]) {
      const r = await cli(args);
      assert.equal(r.code, EXIT.ok, args.join(' '));
      assert.match(r.out, /^Usage: prepaid/);
    }
    const { out } = await cli(['--help']);
    for (const option of ['--close-deadline-ms', '--admin', '--log-format', '--listen', '--allow', '--freeswitch', '--ring-check-ms', '--log-level', 'account list', 'PREPAID_ADMIN_TOKEN']) {
      assert.ok(out.includes(option), option);
    }
    for (const endpoint of ['/health', '/metrics', '/api/accounts', '/api/accounts/ID/credits', '/api/calls?account=&limit=', '/api/calls/live', '/api/events']) {
      assert.ok(out.includes(endpoint), endpoint);
    }
  });

  it('`account show x | head -1`: a closed stdout ends the command quietly with its own exit code', async () => {
    const { dir, remove } = await tempDir('prepaid-epipe-');
    try {
      assert.equal((await cli(['account', 'create', 'acme', '--interval-duration', '6', '--credit', '10', '--data', dir])).code, EXIT.ok);
      for (let i = 0; i < 3; i++) {
        const child = spawn(process.execPath, [MAIN, 'account', 'show', 'acme', '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
        // The reader goes away before the command writes anything: every write meets EPIPE.
        child.stdout.destroy();
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
        assert.equal(stderr, '');
        assert.equal(code, EXIT.ok);
      }
    } finally {
      await remove();
    }
  });

  it('a dialplan socket without `full` ends with a message saying it needs `async full`', async () => {
    const { dir, remove } = await tempDir('prepaid-nofull-');
    const sim = await Simulator.start({ password: 'ClueCon' });
    try {
      await cli(['account', 'create', 'acme', '--interval-duration', '1', '--credit', '10', '--data', dir]);
      const serve = await startServe(dir);
      try {
        const uuid = await sim.originate({
          direction: 'inbound',
          variables: { ccnq_account: 'acme', target: 'sim/2000/answer-after-20/hangup-after-250' },
          socket: `127.0.0.1:${serve.port} async`,
        });
        await waitFor('the call to end', () => (serve.output.err.includes('call ended') ? true : undefined));
        assert.match(
          serve.output.err,
          new RegExp(`call=${uuid} the dialplan's socket application needs "async full" .*this socket is async without full`),
        );
        assert.match(serve.output.err, /call ended: error/);
        assert.doesNotMatch(serve.output.err, /unexpected failure/);
      } finally {
        await serve.stop();
      }
    } finally {
      await sim.stop();
      await remove();
    }
  });
});

describe("serve's log writer", () => {
  it('the lines of one turn of the event loop leave in one write, in order', async () => {
    const writes: string[] = [];
    const write = batchedWriter((text) => writes.push(text));
    write('a\n');
    write('b\n');
    assert.deepEqual(writes, [], 'not before the end of the turn');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes, ['a\nb\n']);
    write('c\n');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes, ['a\nb\n', 'c\n']);
  });

  it('lines logged just before the process exits are written', async () => {
    const module = new URL('../src/log.js', import.meta.url).href;
    const script = `import { batchedWriter } from ${JSON.stringify(module)};
      const write = batchedWriter((text) => process.stderr.write(text));
      write('first\\n'); write('last\\n'); process.exit(3);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 3);
    assert.equal(err, 'first\nlast\n');
  });
});

describe('--log-format json', () => {
  it('one JSON object a line: time, level, msg, then the fields, credentials redacted', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', level: 'debug', write: (l) => lines.push(l) }).child({ call: 'abc' });
    log.info('opened http://admin:secret@db:5984/prepaid', { attempt: 2, ok: true, msg: 'cannot override' });
    const record = JSON.parse(lines[0]!);
    assert.deepEqual(Object.keys(record), ['time', 'level', 'msg', 'call', 'attempt', 'ok']);
    assert.equal(record.level, 'info');
    assert.equal(record.call, 'abc');
    assert.equal(record.attempt, 2);
    assert.doesNotMatch(lines[0]!, /secret/);
    assert.ok(!Number.isNaN(Date.parse(record.time)));
    assert.equal(formatRecordJson({ time: new Date(0), level: 'warn', message: 'x', fields: { n: null } }), '{"time":"1970-01-01T00:00:00.000Z","level":"warn","msg":"x"}');
  });

  it('serve --log-format json writes JSON lines; a bad format is a usage error', async () => {
    const { dir, remove } = await tempDir('prepaid-json-');
    try {
      const serve = await startServe(dir, ['--log-format', 'json']);
      await serve.stop();
      const lines = serve.output.err.trim().split('\n');
      assert.ok(lines.length > 2);
      for (const line of lines) assert.equal(typeof JSON.parse(line).msg, 'string', line);
      const bad = await cli(['serve', '--log-format', 'xml', '--data', dir]);
      assert.equal(bad.code, EXIT.usage);
      assert.match(bad.err, /--log-format must be one of text, json/);
    } finally {
      await remove();
    }
  });
});
