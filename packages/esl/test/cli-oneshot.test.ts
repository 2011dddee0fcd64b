import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Simulator } from '../src/testing/index.js';
import { createServer, type Socket } from 'node:net';
import { CliProcess, LAUNCHER, cleanEnv, closedPort, hasStackTrace, runCli, scratchDir } from './cli-helpers.js';

// The real built binary against the simulator: `fs-esl -x ...` and friends, end to end.

describe('fs-esl one-shot (-x) against the simulator', () => {
  let sim: Simulator;
  let scratch: ReturnType<typeof scratchDir>;
  let env: Record<string, string>;
  let port: string;
  const releaseSlow: Array<() => void> = [];
  const slowStarted: Array<() => void> = [];

  before(async () => {
    sim = await Simulator.start({
      password: 'ClueCon',
      users: { '1000@default': { password: 'userpass' } },
    });
    // An api that answers only when the test lets it (for -t/--timeout).
    sim.registerApi('test_slow', () => {
      for (const notify of slowStarted.splice(0)) notify();
      return new Promise<string>((resolve) => releaseSlow.push(() => resolve('+OK slow\n')));
    });
    port = String(sim.port);
    scratch = scratchDir();
    env = cleanEnv(scratch.dir);
  });
  after(async () => {
    for (const release of releaseSlow) release();
    await sim.stop();
    scratch.cleanup();
  });

  const cli = (args: string[], extraEnv: Record<string, string> = {}, cwd?: string) =>
    runCli(args, { env: { ...env, ...extraEnv }, cwd: cwd ?? scratch.dir });

  test('the bin launcher is executable, starts with a node shebang and runs the CLI', async () => {
    assert.ok((statSync(LAUNCHER).mode & 0o111) !== 0, 'bin/fs-esl.js must be executable');
    assert.ok(readFileSync(LAUNCHER, 'utf8').startsWith('#!/usr/bin/env node\n'));
    const r = await runCli(['--version'], { env, cwd: scratch.dir }, LAUNCHER);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^fs-esl \d+\.\d+\.\d+\n$/);
  });

  test('a line break inside -x is a usage error (exit 2), printed escaped, before connecting', async () => {
    // Port 1 has no listener: an attempt to connect would exit 3.
    const r = await cli(['-P', '1', '-x', 'status\r\nexit']);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes('"status\\r\\nexit"'), r.stderr);
    assert.ok(!r.stderr.includes('\r'), 'no raw control characters on stderr');
    assert.equal(r.stdout, '');
  });

  test('--help lists options and exit codes; --version prints the version', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    for (const text of ['-H, --host', '-P, --port', '-p, --password', '-u, --user', '-x, --execute', '-t, --timeout', '-T, --connect-timeout', '-r, --retry', '-R, --reconnect', '-d, --debug', '-b, --batch', '--events', '--format plain|json', '--json', 'FS_ESL_HOST', '.fs-esl.json', 'Exit status']) {
      assert.ok(help.stdout.includes(text), `help mentions ${text}`);
    }
    assert.equal(help.stderr, '');
    const version = await cli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^fs-esl \d+\.\d+\.\d+/);
    const simHelp = await cli(['simulate', '--help']);
    assert.equal(simHelp.code, 0);
    assert.match(simHelp.stdout, /--outbound HOST:PORT/);
  });

  test('usage errors: exit 2, one clear line, no stack trace', async () => {
    for (const args of [['--bogus'], ['-P', 'eighty'], ['-d', 'loud'], ['--format', 'xml'], ['--config', 'missing.json', '-x', 'status']]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^fs-esl: /);
      assert.equal(hasStackTrace(r.stderr), false, r.stderr);
      assert.equal(r.stdout, '');
    }
    const r = await cli(['--bogus']);
    assert.equal(r.stderr, 'fs-esl: unknown option --bogus\nTry fs-esl --help\n');
    // An unquoted command: its second word looks like a profile name.
    const unquoted = await cli(['-P', port, '-x', 'show', 'channels']);
    assert.equal(unquoted.code, 2);
    assert.match(unquoted.stderr, /quote it: -x "show channels"/);
  });

  test('-x status prints the body and exits 0', async () => {
    const r = await cli(['-P', port, '-x', 'status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^UP \d+ years/);
    assert.match(r.stdout, /FreeSWITCH \(Version 1\.10\.12-release {2}64bit\) is ready\n/);
    assert.equal(r.stderr, '');
  });

  test('several -x run in order', async () => {
    const r = await cli(['-P', port, '-x', 'reloadxml', '-x', 'version', '--execute', 'echo hello world']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '+OK [Success]\nFreeSWITCH Version 1.10.12-release~64bit ( 64bit)\nhello world\n');
  });

  test('-x with a -ERR reply: exit 1, the reply on stderr, no stack trace', async () => {
    const r = await cli(['-P', port, '-x', 'nosuchcommand']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'fs-esl: -ERR nosuchcommand Command not found!\n');
  });

  test('a failing -x among several: the others still run, exit 1, the failure is named', async () => {
    const r = await cli(['-P', port, '-x', 'version', '-x', 'nosuchcommand', '-x', 'echo after']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'FreeSWITCH Version 1.10.12-release~64bit ( 64bit)\nafter\n');
    assert.equal(r.stderr, 'fs-esl: nosuchcommand: -ERR nosuchcommand Command not found!\n');
  });

  test('--json -x: one JSON object per command, failures included', async () => {
    const r = await cli(['-P', port, '--json', '-x', 'echo hi', '-x', 'nosuchcommand']);
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines[0], { type: 'api', command: 'echo hi', ok: true, body: 'hi' });
    assert.equal(lines[1].ok, false);
    assert.equal(lines[1].command, 'nosuchcommand');
    assert.equal(lines[1].error, 'ESL_COMMAND_FAILED');
    assert.equal(lines[1].body, '-ERR nosuchcommand Command not found!\n');
  });

  test('wrong password: exit 4, clear message, no stack trace', async () => {
    const r = await cli(['-P', port, '-p', 'wrong', '-x', 'status']);
    assert.equal(r.code, 4);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^fs-esl: authentication failed at 127\.0\.0\.1:\d+: -ERR invalid/);
    assert.equal(hasStackTrace(r.stderr), false);
  });

  test('userauth with -u user@domain; a wrong user password fails with exit 4', async () => {
    const ok = await cli(['-P', port, '-u', '1000@default', '-p', 'userpass', '-x', 'echo as user']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'as user\n');
    const bad = await cli(['-P', port, '-u', '1000@default', '-p', 'nope', '-x', 'status']);
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /authentication failed/);
  });

  test('unreachable host (a just-closed port): exit 3, "connection refused", no stack trace', async () => {
    const closed = await closedPort();
    const r = await cli(['-H', '127.0.0.1', '-P', String(closed), '-x', 'status']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^fs-esl: cannot connect to 127\\.0\\.0\\.1:${closed}: connection refused`));
    assert.equal(hasStackTrace(r.stderr), false);
    const json = await cli(['-P', String(closed), '--json', '-x', 'status']);
    assert.equal(json.code, 3);
    assert.equal(JSON.parse(json.stdout).error, 'ESL_CONNECT_FAILED');
  });

  test('-T: a server that never asks for auth makes the connect time out: exit 3', async () => {
    const silent = createServer((socket) => socket.on('error', () => undefined));
    const sockets = new Set<Socket>();
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const silentPort = (silent.address() as { port: number }).port;
      const r = await cli(['-P', String(silentPort), '-T', '300', '-x', 'status']);
      assert.equal(r.code, 3);
      assert.equal(r.stderr, `fs-esl: cannot connect to 127.0.0.1:${silentPort}: timed out after 300 ms (authentication)\n`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('an ACL rejection (text/rude-rejection): exit 4, access denied', async () => {
    const guarded = await Simulator.start({ acl: ['10.0.0.0/8'] });
    try {
      const r = await cli(['-P', String(guarded.port), '-x', 'status']);
      assert.equal(r.code, 4);
      assert.match(r.stderr, /^fs-esl: access denied by 127\.0\.0\.1:\d+: its ACL does not allow this address/);
    } finally {
      await guarded.stop();
    }
  });

  test('Ctrl-C while -x waits for a reply: exit 130, no stack trace', async () => {
    const started = new Promise<void>((resolve) => slowStarted.push(resolve));
    const p = new CliProcess(['-P', port, '-x', 'test_slow'], { env, cwd: scratch.dir });
    try {
      await started; // the command reached the server: fs-esl is waiting for its reply

      const r = await p.stop('SIGINT');
      assert.equal(r.code, 130, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(hasStackTrace(r.stderr), false);
    } finally {
      await p.stop('SIGKILL');
    }
  });

  // `fs-esl -x … | head -1`: the reader goes away after the first line, and the next write fails
  // with EPIPE. test_slow holds the second command's reply until the pipe is closed, so that
  // write is certain to come after it.
  for (const [label, leading, expected] of [
    ['every command succeeded: exit 0', [], 0],
    ['a command had failed before: exit 1', ['-x', 'nosuchcommand'], 1],
  ] as const) {
    test(`the reader closing stdout (| head -1) ends fs-esl quietly; ${label}`, async () => {
      const started = new Promise<void>((resolve) => slowStarted.push(resolve));
      const p = new CliProcess([...leading, '-P', port, '-x', 'echo first', '-x', 'test_slow', '-x', 'status'], { env, cwd: scratch.dir });
      try {
        await p.waitFor('stdout', /^first\n/);
        p.child.stdout!.destroy();
        await started;
        for (const release of releaseSlow.splice(0)) release();
        const r = await p.exited;
        assert.equal(r.code, expected, r.stderr);
        assert.equal(r.stderr, leading.length === 0 ? '' : 'fs-esl: nosuchcommand: -ERR nosuchcommand Command not found!\n');
      } finally {
        await p.stop('SIGKILL');
      }
    });
  }

  test('-t: a command with no reply in time exits 5 with a timeout message', async () => {
    const r = await cli(['-P', port, '-t', '300', '-x', 'test_slow']);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /^fs-esl: timeout: no reply to api test_slow within 300 ms\n$/);
    assert.equal(hasStackTrace(r.stderr), false);
  });

  test('settings from the environment: FS_ESL_PORT, FS_ESL_PASSWORD, FS_ESL_USER', async () => {
    const r = await cli(['-x', 'echo from env'], { FS_ESL_PORT: port, FS_ESL_HOST: '127.0.0.1', FS_ESL_PASSWORD: 'ClueCon' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from env\n');
    const user = await cli(['-x', 'echo env user'], { FS_ESL_PORT: port, FS_ESL_USER: '1000@default', FS_ESL_PASSWORD: 'userpass' });
    assert.equal(user.code, 0, user.stderr);
    const wrong = await cli(['-x', 'status'], { FS_ESL_PORT: port, FS_ESL_PASSWORD: 'wrong' });
    assert.equal(wrong.code, 4);
    // A flag beats the environment.
    const flag = await cli(['-p', 'ClueCon', '-x', 'echo flag wins'], { FS_ESL_PORT: port, FS_ESL_PASSWORD: 'wrong' });
    assert.equal(flag.code, 0, flag.stderr);
    const badEnv = await cli(['-x', 'status'], { FS_ESL_PORT: 'eighty' });
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /FS_ESL_PORT/);
  });

  test('settings from a config file: ./.fs-esl.json, --config, profiles; env beats the file', async () => {
    const dir = scratchDir();
    try {
      writeFileSync(join(dir.dir, '.fs-esl.json'), JSON.stringify({ port: Number(port), password: 'wrong', profiles: { good: { password: 'ClueCon' } } }));
      const fileOnly = await cli(['-x', 'status'], {}, dir.dir);
      assert.equal(fileOnly.code, 4, 'the file was read (its wrong password was used)');
      const profile = await cli(['--profile', 'good', '-x', 'echo profile'], {}, dir.dir);
      assert.equal(profile.code, 0, profile.stderr);
      assert.equal(profile.stdout, 'profile\n');
      const positional = await cli(['good', '-x', 'echo positional'], {}, dir.dir);
      assert.equal(positional.code, 0, positional.stderr);
      const envWins = await cli(['-x', 'echo env wins'], { FS_ESL_PASSWORD: 'ClueCon' }, dir.dir);
      assert.equal(envWins.code, 0, envWins.stderr);

      const custom = join(dir.dir, 'custom.json');
      writeFileSync(custom, JSON.stringify({ host: '127.0.0.1', port: Number(port), password: 'ClueCon', timeout: 5000 }));
      const explicit = await cli(['--config', custom, '-x', 'echo explicit']);
      assert.equal(explicit.code, 0, explicit.stderr);
      assert.equal(explicit.stdout, 'explicit\n');
      const viaEnv = await cli(['-x', 'echo via env'], { FS_ESL_CONFIG: custom });
      assert.equal(viaEnv.code, 0, viaEnv.stderr);

      writeFileSync(join(dir.dir, '.fs-esl.json'), '{"port": 1, ');
      const broken = await cli(['-x', 'status'], {}, dir.dir);
      assert.equal(broken.code, 2);
      assert.match(broken.stderr, /\.fs-esl\.json is not valid JSON/);
      assert.equal(hasStackTrace(broken.stderr), false);
    } finally {
      dir.cleanup();
    }
  });

  test('the user config file in ~/.config/fs-esl/config.json is read', async () => {
    const home = scratchDir();
    try {
      mkdirSync(join(home.dir, '.config', 'fs-esl'), { recursive: true });
      writeFileSync(join(home.dir, '.config', 'fs-esl', 'config.json'), JSON.stringify({ port: Number(port) }));
      const r = await runCli(['-x', 'echo home config'], { env: cleanEnv(home.dir), cwd: home.dir });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'home config\n');
    } finally {
      home.cleanup();
    }
  });
});

describe('fs-esl -r/--retry', () => {
  test('keeps trying until the server comes up', async () => {
    const port = await closedPort();
    const scratch = scratchDir();
    let sim: Simulator | undefined;
    const p = new CliProcess(['-P', String(port), '-r', '-x', 'echo finally'], { env: cleanEnv(scratch.dir), cwd: scratch.dir });
    try {
      // Start listening on that port only once the first attempt has failed.
      await p.waitFor('stderr', /connection refused.*; retrying \(1\/119\)/);
      sim = await Simulator.start({ port });
      const r = await p.exited;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'finally\n');
    } finally {
      await p.stop('SIGKILL');
      await sim?.stop();
      scratch.cleanup();
    }
  });

  test('does not retry a wrong password', async () => {
    const sim = await Simulator.start({});
    const scratch = scratchDir();
    try {
      const r = await runCli(['-P', String(sim.port), '-p', 'bad', '-r', '-x', 'status'], { env: cleanEnv(scratch.dir), cwd: scratch.dir });
      assert.equal(r.code, 4);
      assert.doesNotMatch(r.stderr, /retrying/);
    } finally {
      await sim.stop();
      scratch.cleanup();
    }
  });
});
