import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulator } from '../src/testing/index.js';
import { CliProcess, cleanEnv, closedPort, hasStackTrace, scratchDir } from './cli-helpers.js';

// `fs-esl --events ...`: the event tail, against the simulator, with calls originated by the test.

describe('fs-esl --events (event tail)', () => {
  let sim: Simulator;
  let scratch: ReturnType<typeof scratchDir>;
  let env: Record<string, string>;

  before(async () => {
    sim = await Simulator.start({});
    scratch = scratchDir();
    env = cleanEnv(scratch.dir);
  });
  after(async () => {
    await sim.stop();
    scratch.cleanup();
  });

  const tail = (args: string[]) => new CliProcess(['-P', String(sim.port), ...args], { env, cwd: scratch.dir });
  const subscribed = (p: CliProcess) => p.waitFor('stderr', /^fs-esl: \+OK event listener enabled (plain|json)/m);

  test('prints each subscribed event on one line; Ctrl-C ends it with exit 0', async () => {
    const p = tail(['--events', 'CHANNEL_ANSWER']);
    try {
      await subscribed(p);
      const uuid = await sim.originate({ app: 'park' });
      const [line] = await p.waitFor('stdout', new RegExp(`^\\d\\d:\\d\\d:\\d\\d CHANNEL_ANSWER uuid=${uuid} channel=sim/1000 .*answer=answered$`, 'm'));
      assert.ok(line);
      sim.hangup(uuid);
      const r = await p.stop('SIGINT');
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /HANGUP/, 'only the subscribed event type');
      assert.equal(r.stdout.trim().split('\n').length, 1);
      assert.equal(hasStackTrace(r.stderr), false);
    } finally {
      await p.stop('SIGKILL');
    }
  });

  test('--json: one JSON object per event, with decoded headers', async () => {
    const p = tail(['--events', 'CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE', '--json']);
    try {
      await subscribed(p);
      const uuid = await sim.originate({ app: 'park', callerIdName: 'Jürgen Ünal', callerIdNumber: '1000' });
      await p.waitFor('stdout', /"name":"CHANNEL_ANSWER"/);
      sim.hangup(uuid, 'USER_BUSY');
      await p.waitFor('stdout', /"name":"CHANNEL_HANGUP_COMPLETE"/);
      const r = await p.stop('SIGTERM');
      assert.equal(r.code, 0, r.stderr);
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(events.map((e) => e.name), ['CHANNEL_ANSWER', 'CHANNEL_HANGUP_COMPLETE']);
      for (const e of events) {
        assert.equal(e.type, 'event');
        assert.equal(e.headers['Unique-ID'], uuid);
        assert.equal(e.headers['Caller-Caller-ID-Name'], 'Jürgen Ünal');
      }
      assert.equal(events[1].headers['Hangup-Cause'], 'USER_BUSY');
    } finally {
      await p.stop('SIGKILL');
    }
  });

  test('--full prints every header; --filter keeps only matching events', async () => {
    const wanted = '22222222-2222-3333-4444-000000000001';
    const p = tail(['--events', 'CHANNEL_ANSWER', '--full', '--filter', `Unique-ID ${wanted}`]);
    try {
      await subscribed(p);
      await sim.originate({ app: 'park', uuid: '22222222-2222-3333-4444-000000000002' });
      await sim.originate({ app: 'park', uuid: wanted });
      await p.waitFor('stdout', new RegExp(`Unique-ID: ${wanted}\\n`));
      const r = await p.stop('SIGINT');
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^\[EVENT CHANNEL_ANSWER\]\nEvent-Name: CHANNEL_ANSWER\n/);
      assert.equal(r.stdout.match(/\[EVENT /g)?.length, 1, 'the other call was filtered out');
      assert.doesNotMatch(r.stdout, /000000000002/);
    } finally {
      await p.stop('SIGKILL');
    }
  });

  test('-d LEVEL adds log lines to the tail', async () => {
    const p = tail(['--events', 'CUSTOM test::tail', '-d', 'notice']);
    try {
      await p.waitFor('stderr', /^fs-esl: \+OK event listener enabled plain; \+OK log level 5 \[5\] \(127\.0\.0\.1:\d+\); Ctrl-C to stop$/m);
      sim.log(5, 'a notice for the tail\n', { file: 'test.c', func: 'tail', line: 1 });
      sim.log(7, 'a debug line that is filtered by level\n');
      sim.fireEvent('CUSTOM', { 'Test-Header': 'x' }, undefined, 'test::tail');
      await p.waitFor('stdout', /CUSTOM test::tail/);
      await p.waitFor('stdout', /\[NOTICE\] test\.c:1 a notice for the tail/);
      const r = await p.stop('SIGINT');
      assert.doesNotMatch(r.stdout, /debug line/);
    } finally {
      await p.stop('SIGKILL');
    }
  });

  test('the server going away ends the tail with exit 6', async () => {
    const own = await Simulator.start({});
    const p = new CliProcess(['-P', String(own.port), '--events', 'ALL'], { env, cwd: scratch.dir });
    try {
      await subscribed(p);
      await own.stop();
      const r = await p.exited;
      assert.equal(r.code, 6);
      assert.match(r.stderr, /^fs-esl: connection to 127\.0\.0\.1:\d+ lost/m);
      assert.equal(hasStackTrace(r.stderr), false);
    } finally {
      await p.stop('SIGKILL');
      await own.stop();
    }
  });

  test('-R reconnects after the server restarts and keeps the subscription', async () => {
    const port = await closedPort();
    let own = await Simulator.start({ port });
    const p = new CliProcess(['-P', String(port), '--events', 'CHANNEL_ANSWER', '-R'], { env, cwd: scratch.dir });
    try {
      await subscribed(p);
      await own.stop();
      await p.waitFor('stderr', /reconnecting in \d+ ms/);
      own = await Simulator.start({ port });
      await p.waitFor('stderr', /reconnected/, 10_000);
      const uuid = await own.originate({ app: 'park' });
      await p.waitFor('stdout', new RegExp(`CHANNEL_ANSWER uuid=${uuid}`));
      const r = await p.stop('SIGINT');
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await p.stop('SIGKILL');
      await own.stop();
    }
  });

  test('a subscription refused by the server is reported with a non-zero exit', async () => {
    const own = await Simulator.start({ users: { 'watcher@default': { password: 'pw', allowedEvents: 'CHANNEL_ANSWER' } } });
    const p = new CliProcess(['-P', String(own.port), '-u', 'watcher@default', '-p', 'pw', '--events', 'CHANNEL_HANGUP'], { env, cwd: scratch.dir });
    try {
      const r = await p.exited;
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^fs-esl: -ERR /m);
      assert.equal(hasStackTrace(r.stderr), false);
    } finally {
      await p.stop('SIGKILL');
      await own.stop();
    }
  });
});
