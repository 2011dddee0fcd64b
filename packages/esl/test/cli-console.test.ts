import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Simulator } from '../src/testing/index.js';
import { stripAnsi } from '../src/cli/format.js';
import { BIN, CliProcess, cleanEnv, closedPort, hasStackTrace, runCli, scratchDir } from './cli-helpers.js';

// The console (no -x): driven as a script through a stdin pipe, and as a person would through a
// pseudo-terminal (util-linux `script`), against the simulator.

function findScript(): string | undefined {
  for (const p of ['/usr/bin/script', '/bin/script']) if (existsSync(p)) return p;
  try {
    return execFileSync('which', ['script'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

describe('fs-esl console', () => {
  let sim: Simulator;
  let scratch: ReturnType<typeof scratchDir>;
  let env: Record<string, string>;
  let port: string;

  before(async () => {
    sim = await Simulator.start({});
    sim.registerApi('my_custom_api', () => '+OK custom\n');
    port = String(sim.port);
    scratch = scratchDir();
    env = cleanEnv(scratch.dir);
  });
  after(async () => {
    await sim.stop();
    scratch.cleanup();
  });

  test('stdin script: api and slash commands run in order; a failure makes the exit status 1', async () => {
    const script = ['status', '/event plain CHANNEL_ANSWER', '/help', 'nosuchcommand', '/bogus', '/bgapi echo job done', '/full on', 'echo last', ''].join('\n');
    const r = await runCli(['-P', port], { env, cwd: scratch.dir, input: script });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(hasStackTrace(r.stdout + r.stderr), false);
    const out = r.stdout;
    assert.doesNotMatch(out, /freeswitch@/, 'no prompt when stdin is not a terminal');
    assert.doesNotMatch(out, /\u001b\[/, 'no colours when stdout is not a terminal');
    const order = [
      /^UP \d+ years/m,
      /^\+OK event listener enabled plain$/m,
      /^ {2}\/event \[plain\|json\|xml\] NAME \.\.\./m,
      /^-ERR nosuchcommand Command not found!$/m,
      /^unknown command \/bogus \(type \/help for the list\)$/m,
      /^Job-UUID: [0-9a-f-]{36} /m,
      /^events are printed in full$/m,
      /^last$/m,
    ];
    let at = 0;
    for (const re of order) {
      const m = re.exec(out.slice(at));
      assert.ok(m, `expected ${re} after offset ${at} in:\n${out}`);
      at += m.index + m[0].length;
    }
    // The background job's result arrives before the console ends.
    assert.match(out, /^\[bgapi echo job done\] [0-9a-f-]{36}\njob done$/m);
  });

  test('stdin script without failures exits 0; /exit stops reading', async () => {
    const r = await runCli(['-P', port], { env, cwd: scratch.dir, input: 'echo one\n/exit\necho never\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'one\n');
    const dots = await runCli(['-P', port], { env, cwd: scratch.dir, input: 'echo two\n...\necho never\n' });
    assert.equal(dots.stdout, 'two\n');
    const eof = await runCli(['-P', port], { env, cwd: scratch.dir, input: 'echo three' });
    assert.equal(eof.code, 0);
    assert.equal(eof.stdout, 'three\n');
  });

  test('--json console: one JSON object per result', async () => {
    const r = await runCli(['-P', port, '--json'], { env, cwd: scratch.dir, input: 'echo hi\n/log info\nnosuchcommand\n' });
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines[0], { type: 'api', command: 'echo hi', ok: true, body: 'hi' });
    assert.deepEqual(lines[1], { type: 'reply', command: '/log info', ok: true, reply: '+OK log level 6 [6]' });
    assert.equal(lines[2].ok, false);
    assert.equal(lines[2].error, 'ESL_COMMAND_FAILED');
  });

  test('-d LEVEL shows server log lines, coloured by level with --color', async () => {
    const r = await runCli(['-P', port, '-d', 'info', '--color'], { env, cwd: scratch.dir, input: 'reloadxml\n' });
    assert.equal(r.code, 0, r.stderr);
    // INFO is green (fs_cli's colour table); the line is FreeSWITCH's own text.
    assert.match(r.stdout, /\u001b\[32m.*\[INFO\] switch_time\.c:1436 Timezone reloaded 597 definitions\u001b\[39m/);
    assert.match(r.stdout, /\+OK \[Success\]/);
    const quiet = await runCli(['-P', port, '-d', 'err'], { env, cwd: scratch.dir, input: 'reloadxml\n' });
    assert.doesNotMatch(quiet.stdout, /Timezone reloaded/, 'an INFO line is above level err');
  });

  test('events arrive while the console waits for input; /full switches to every header; /noevents stops them', async () => {
    const p = new CliProcess(['-P', port], { env, cwd: scratch.dir });
    try {
      p.write('/event plain CHANNEL_ANSWER\n');
      await p.waitFor('stdout', /\+OK event listener enabled plain\n/);
      const first = await sim.originate({ app: 'park' });
      await p.waitFor('stdout', new RegExp(`CHANNEL_ANSWER uuid=${first} channel=sim/1000 `));
      p.write('/full on\n');
      await p.waitFor('stdout', /events are printed in full\n/);
      const second = await sim.originate({ app: 'park' });
      await p.waitFor('stdout', new RegExp(`\\[EVENT CHANNEL_ANSWER\\]\\n(?:.+\\n)*?Unique-ID: ${second}\\n`));
      p.write('/noevents\n');
      await p.waitFor('stdout', /\+OK no longer listening for events\n/);
      p.write('/exit\n');
      const r = await p.exited;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
    } finally {
      await p.stop('SIGKILL');
    }
  });

  test('--format json: events as JSON lines while results stay text', async () => {
    const p = new CliProcess(['-P', port, '--format', 'json'], { env, cwd: scratch.dir });
    try {
      p.write('/event plain CHANNEL_ANSWER\n');
      await p.waitFor('stdout', /^\+OK event listener enabled plain\n/m);
      const uuid = await sim.originate({ app: 'park' });
      const [line] = await p.waitFor('stdout', /^\{"type":"event".*\}$/m);
      const ev = JSON.parse(line!);
      assert.equal(ev.name, 'CHANNEL_ANSWER');
      assert.equal(ev.headers['Unique-ID'], uuid);
      p.write('/exit\n');
      assert.equal((await p.exited).code, 0);
    } finally {
      await p.stop('SIGKILL');
    }
  });

  test('/filter narrows the events; /filter delete removes it', async () => {
    const p = new CliProcess(['-P', port], { env, cwd: scratch.dir });
    try {
      const wanted = '11111111-2222-3333-4444-000000000001';
      p.write(`/filter Unique-ID ${wanted}\n/event plain CHANNEL_ANSWER\n`);
      await p.waitFor('stdout', /\+OK event listener enabled plain\n/);
      assert.match(p.stdout, new RegExp(`\\+OK filter added\\. \\[Unique-ID\\]=\\[${wanted}\\]`));
      await sim.originate({ app: 'park', uuid: '11111111-2222-3333-4444-000000000002' });
      await sim.originate({ app: 'park', uuid: wanted });
      await p.waitFor('stdout', new RegExp(`CHANNEL_ANSWER uuid=${wanted}`));
      assert.doesNotMatch(p.stdout, /uuid=11111111-2222-3333-4444-000000000002/);
      p.write(`/filter delete Unique-ID ${wanted}\n/exit\n`);
      const r = await p.exited;
      assert.match(r.stdout, /\+OK filter deleted\./);
      assert.equal(r.code, 0);
    } finally {
      await p.stop('SIGKILL');
    }
  });

  test('Ctrl-C (SIGINT) with stdin not a terminal ends the console cleanly', async () => {
    const p = new CliProcess(['-P', port], { env, cwd: scratch.dir });
    try {
      p.write('echo ready\n');
      await p.waitFor('stdout', /^ready\n/m);
      const r = await p.stop('SIGINT');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(hasStackTrace(r.stderr), false);
    } finally {
      await p.stop('SIGKILL');
    }
  });

  test('the server going away ends the console with exit 6 and a message', async () => {
    const own = await Simulator.start({});
    const p = new CliProcess(['-P', String(own.port)], { env, cwd: scratch.dir });
    try {
      p.write('echo up\n');
      await p.waitFor('stdout', /^up\n/m);
      await own.stop();
      const r = await p.exited;
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /^fs-esl: connection to 127\.0\.0\.1:\d+ lost/m);
      assert.equal(hasStackTrace(r.stderr), false);
    } finally {
      await p.stop('SIGKILL');
      await own.stop();
    }
  });

  test('-R: the console survives a server restart and goes on', async () => {
    const fixed = await closedPort();
    let own = await Simulator.start({ port: fixed });
    const p = new CliProcess(['-P', String(fixed), '-R'], { env, cwd: scratch.dir });
    try {
      p.write('/event plain CHANNEL_ANSWER\n');
      await p.waitFor('stdout', /\+OK event listener enabled plain\n/);
      await own.stop();
      await p.waitFor('stdout', /\[connection lost.*; reconnecting in \d+ ms \(attempt 1\)\]/);
      own = await Simulator.start({ port: fixed });
      await p.waitFor('stdout', /\[reconnected; subscriptions, filters and log level restored\]/, 10_000);
      const uuid = await own.originate({ app: 'park' });
      await p.waitFor('stdout', new RegExp(`CHANNEL_ANSWER uuid=${uuid}`));
      p.write('echo again\n');
      await p.waitFor('stdout', /^again$/m);
      p.child.stdin!.end();
      const r = await p.exited;
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await p.stop('SIGKILL');
      await own.stop();
    }
  });

  const script = findScript();
  test('in a pseudo-terminal: prompt, completion from `show api`, history file, Ctrl-C, /exit', { skip: script === undefined ? 'util-linux script not installed' : false }, async () => {
    const home = scratchDir();
    const showApi = 'name,description,syntax,ikey\nmy_custom_api,Test command,,mod_test\nstatus,Show current status,,mod_commands\n\n2 total.\n';
    // The simulator has no `show api`; answer it like FreeSWITCH (CSV) so completion can use it.
    sim.setApiOutput('show', showApi);
    writeFileSync(join(home.dir, '.fs_esl_history'), 'version\n');
    const p = new CliProcess(
      ['-qfec', `${process.execPath} ${BIN} -P ${port}`, '/dev/null'],
      { env: { ...cleanEnv(home.dir), TERM: 'xterm' }, cwd: home.dir },
      script!,
      [],
    );
    const screen = () => stripAnsi(p.stdout);
    try {
      await p.waitFor('stdout', new RegExp(`freeswitch@127\\.0\\.0\\.1:${port}> `), 5000, { stripAnsi: true });
      assert.match(p.stdout, /\u001b\[1m\u001b\[34mfreeswitch@/, 'the prompt is coloured on a terminal');
      assert.match(screen(), /Connected to 127\.0\.0\.1:\d+\. Type \/help/);
      assert.match(screen(), /\+OK log level 7 \[7\]/, 'the console subscribes to logs like fs_cli');

      // Tab completes an api name the server listed in `show api` (not in the built-in list).
      p.write('my_cus\t');
      await p.waitFor('stdout', /my_custom_api/);
      p.write('\r');
      await p.waitFor('stdout', /\+OK custom/);

      // Up-arrow twice: past the line just run to the one from the history file.
      p.write('\u001b[A');
      await new Promise((r) => setTimeout(r, 100));
      p.write('\u001b[A');
      await new Promise((r) => setTimeout(r, 100));
      p.write('\r');
      await p.waitFor('stdout', /FreeSWITCH Version 1\.10\.12-release/);

      // Ctrl-C on a half-typed line clears it and stays.
      p.write('echo half');
      await p.waitFor('stdout', /echo half/);
      p.write('\u0003');
      await p.waitFor('stdout', /\^C/);
      p.write('echo still here\r');
      await p.waitFor('stdout', /\nstill here\r?\n/);
      assert.doesNotMatch(screen(), /\nhalf\r?\n/, 'the cleared line never ran');

      p.write('/exit\r');
      const r = await p.exited;
      assert.equal(r.code, 0, screen());
      assert.equal(hasStackTrace(screen()), false);
      const history = readFileSync(join(home.dir, '.fs_esl_history'), 'utf8').split('\n').filter(Boolean);
      // Oldest first; running `version` again moved it up (duplicates are dropped).
      assert.deepEqual(history, ['my_custom_api', 'version', 'echo still here', '/exit']);
      assert.equal(statSync(join(home.dir, '.fs_esl_history')).mode & 0o777, 0o600);
    } finally {
      await p.stop('SIGKILL');
      sim.setApiOutput('show', undefined);
      home.cleanup();
    }
  });

  test('in a pseudo-terminal: Ctrl-C on an empty line leaves with exit 0', { skip: script === undefined ? 'util-linux script not installed' : false }, async () => {
    const home = scratchDir();
    const p = new CliProcess(['-qfec', `${process.execPath} ${BIN} -P ${port} -q --no-history`, '/dev/null'], { env: { ...cleanEnv(home.dir), TERM: 'xterm' }, cwd: home.dir }, script!, []);
    try {
      await p.waitFor('stdout', /freeswitch@127\.0\.0\.1:\d+> /, 5000, { stripAnsi: true });
      assert.doesNotMatch(p.stdout, /log level/, '-q: no log subscription');
      p.write('\u0003');
      const r = await p.exited;
      assert.equal(r.code, 0);
      assert.equal(hasStackTrace(stripAnsi(r.stdout)), false);
      assert.equal(existsSync(join(home.dir, '.fs_esl_history')), false, '--no-history writes nothing');
    } finally {
      await p.stop('SIGKILL');
      home.cleanup();
    }
  });
});
