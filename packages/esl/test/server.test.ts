/**
 * Outbound server against a raw fake FreeSWITCH (test/server-fake-fs.ts) and byte-exact replays
 * of the real capture: what the session sends, how it reads the connect reply, and its lifecycle.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import {
  CallSession,
  createServer,
  EslCommandError,
  EslHangupError,
  EslInvalidArgumentError,
  EslTimeoutError,
  type CallEnd,
  type CallHandler,
  type Server,
  type ServerOptions,
} from '../src/index.js';
import { Command, CommandReader } from '../src/protocol/command-reader.js';
import { fixture } from './helpers/fixtures.js';
import { FakeCall } from './server-fake-fs.js';

async function withServer<T>(
  handler: CallHandler,
  options: ServerOptions,
  body: (server: Server, port: number) => Promise<T>,
): Promise<T> {
  const server = createServer(handler, options);
  const { port } = await server.listen({ port: 0 });
  try {
    return await body(server, port);
  } finally {
    await server.destroy();
  }
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function once<T = unknown>(emitter: NodeJS.EventEmitter, name: string): Promise<T[]> {
  return new Promise((resolve) => emitter.once(name, (...args: T[]) => resolve(args)));
}

describe('outbound server: listen and connect reply', () => {
  it('listens on 127.0.0.1 with an OS-chosen port by default host', async () => {
    const server = createServer(() => {});
    const addr = await server.listen({ port: 0 });
    assert.equal(addr.host, '127.0.0.1');
    assert.ok(addr.port > 0);
    assert.deepEqual(server.address(), addr);
    await server.close();
  });

  it('replays outbound.bin: exact commands, decoded channel data, execute, linger then exit', async () => {
    const bin = fixture('outbound');
    // Byte offsets of the capture's frames (see fixtures/README): connect reply, myevents reply,
    // linger reply, then the sendmsg +OK and every event up to CHANNEL_HANGUP_COMPLETE.
    const cut = (from: number, to?: number) => bin.subarray(from, to);
    const connectEnd = bin.indexOf('\n\n') + 2;
    const myeventsEnd = bin.indexOf('\n\n', connectEnd) + 2;
    const lingerEnd = bin.indexOf('\n\n', myeventsEnd) + 2;
    const received: Buffer[] = [];
    const sentCommands: Command[] = [];
    const ended = deferred<CallEnd>();
    const seen: string[] = [];
    const result = deferred<{ response: string | undefined; appUuid: string | undefined }>();

    await withServer(
      async (call) => {
        assert.equal(call.uuid, 'e472aa1c-5b16-424e-bca7-d4704076c0ff');
        assert.equal(call.get('Channel-Name'), 'loopback/7001-b');
        assert.equal(call.get('channel-name'), 'loopback/7001-b', 'case-insensitive');
        assert.equal(call.get('Caller-Callee-ID-Name'), 'Outbound Call', 'URL-decoded');
        assert.equal(call.get('Reply-Text'), '+OK\n');
        assert.equal(call.variable('socket_host'), '127.0.0.1');
        assert.equal(call.variable('current_application_data'), '127.0.0.1:8084 async full');
        assert.equal(call.variable('DP_MATCH'), 'ARRAY::7001|:7001');
        assert.deepEqual(call.channelData.getArray('variable_DP_MATCH'), ['7001', '7001']);
        assert.equal(call.destinationNumber, '7001');
        assert.equal(call.callerIdNumber, '0000000000');
        assert.equal(call.channelData.name, 'CHANNEL_DATA');
        assert.equal(call.socketMode, 'async');
        assert.equal(call.control, 'full');
        assert.equal(call.variables['call_uuid'], 'e472aa1c-5b16-424e-bca7-d4704076c0ff');
        assert.ok(call.headers().some(([n, v]) => n === 'Channel-Callee-ID-Name' && v === 'Outbound Call'));
        call.on('event', (ev) => seen.push(ev.name));
        await call.myevents();
        await call.linger();
        const done = await call.execute('playback', 'tone_stream://%(500,0,440)', {
          eventUuid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
        });
        result.resolve({ response: done.get('Application-Response'), appUuid: done.applicationUuid });
        ended.resolve(await call.ended);
      },
      {},
      async (_server, port) => {
        const sock = connect({ host: '127.0.0.1', port });
        const exitSeen = deferred<void>();
        const reader = new CommandReader((cmd) => {
          sentCommands.push(cmd);
          switch (sentCommands.length) {
            case 1:
              sock.write(cut(0, connectEnd));
              break;
            case 2:
              sock.write(cut(connectEnd, myeventsEnd));
              break;
            case 3:
              sock.write(cut(myeventsEnd, lingerEnd));
              break;
            case 4:
              // Everything FreeSWITCH sent after the sendmsg: +OK, the events, the linger notice.
              sock.write(cut(lingerEnd));
              break;
            case 5:
              exitSeen.resolve();
              sock.write('Content-Type: command/reply\nReply-Text: +OK bye\n\n');
              sock.end();
              break;
          }
        });
        sock.on('data', (c) => {
          received.push(c);
          reader.push(c);
        });
        await exitSeen.promise;
        await once(sock, 'close');
        const end = await ended.promise;
        assert.equal(end.reason, 'linger');
        assert.equal(end.hangupCause, 'NORMAL_CLEARING');
        assert.equal(end.disposition, 'linger');
      },
    );
    const sentText = fixture('outbound-sent.txt').toString('utf8');
    assert.ok(sentText.startsWith('"connect\\n\\n"\n"myevents\\n\\n"\n"linger\\n\\n"\n'));
    const raw = Buffer.concat(received).toString('utf8');
    assert.ok(raw.startsWith('connect\n\nmyevents\n\nlinger\n\nsendmsg\n'), raw.slice(0, 60));
    assert.deepEqual(
      sentCommands.map((c) => c.line),
      ['connect', 'myevents', 'linger', 'sendmsg', 'exit'],
    );
    const sendmsg = sentCommands[3]!;
    assert.equal(sendmsg.get('call-command'), 'execute');
    assert.equal(sendmsg.get('execute-app-name'), 'playback');
    assert.equal(sendmsg.get('execute-app-arg'), 'tone_stream://%(500,0,440)');
    assert.equal(sendmsg.get('Event-UUID'), 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
    const r = await result.promise;
    assert.equal(r.appUuid, 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
    // Real FreeSWITCH: playback sets current_application_response.
    assert.equal(r.response, 'FILE PLAYED');
    // The session saw the final events (linger) through CHANNEL_HANGUP_COMPLETE.
    assert.deepEqual(seen, [
      'CHANNEL_PROGRESS_MEDIA',
      'CHANNEL_EXECUTE',
      'CHANNEL_EXECUTE_COMPLETE',
      'CHANNEL_HANGUP',
      'CHANNEL_UNPARK',
      'CHANNEL_EXECUTE_COMPLETE',
      'CHANNEL_STATE',
      'CHANNEL_STATE',
      'CHANNEL_HANGUP_COMPLETE',
    ]);
  });

  it('server options myevents/linger are pipelined right behind connect', async () => {
    const handled = deferred<string[]>();
    await withServer(
      async () => {},
      { myevents: 'json', linger: 30 },
      async (_s, port) => {
        const fake = await FakeCall.connect(port);
        await fake.closed;
        handled.resolve(fake.lines());
        assert.equal(fake.format, 'json');
      },
    );
    // It lingered, so the handler's end sends exit.
    assert.deepEqual(await handled.promise, ['connect', 'myevents json', 'linger 30', 'exit']);
  });

  it('exposes the connect reply of a sync, single-channel socket', async () => {
    const got = deferred<{ mode: string; control: string; name?: string | undefined; acct?: string | undefined }>();
    await withServer(
      (call) => {
        got.resolve({
          mode: call.socketMode,
          control: call.control,
          name: call.callerIdName,
          acct: call.variable('ccnq_account'),
        });
      },
      {},
      async (_s, port) => {
        const fake = await FakeCall.connect(port, {
          mode: 'static',
          full: false,
          callerIdName: 'Jürgen Ünal',
          variables: { ccnq_account: 'acct 1&2' },
        });
        await fake.closed;
      },
    );
    assert.deepEqual(await got.promise, {
      mode: 'static',
      control: 'single-channel',
      name: 'Jürgen Ünal',
      acct: 'acct 1&2',
    });
  });
});

for (const mode of ['async', 'static'] as const) {
  describe(`outbound call flow (${mode} socket, raw fake)`, () => {
    it('answers, plays, sets and reads variables, collects digits, runs api and bgapi', async () => {
      const out = deferred<Record<string, unknown>>();
      let fake!: FakeCall;
      await withServer(
        async (call) => {
          const answered: string[] = [];
          call.on('CHANNEL_ANSWER', (ev) => answered.push(ev.uniqueId ?? ''));
          const a = await call.answer();
          const p = await call.playback('ivr/welcome.wav', { eventLock: true });
          await call.setVariable('lang', 'fr ca');
          const lang = await call.getVariable('lang');
          const missing = await call.getVariable('nope');
          const digits = await call.playAndGetDigits({ min: 1, max: 4, file: 'ivr/enter.wav', variableName: 'pin' });
          const multi = await call.execute('echo_arg', 'line one\nline two');
          const looped = await call.execute('echo_arg', 'x', { loops: 3 });
          const api = await call.api('echo hello there');
          const job = await call.bgapiEvent('status');
          const jobResult = job.body;
          let apiErr: unknown;
          try {
            await call.api('nosuch');
          } catch (err) {
            apiErr = err;
          }
          out.resolve({
            answerApp: a.get('Application'),
            playResponse: p.get('Application-Response'),
            lang,
            missing,
            digits,
            multi: multi.get('Application-Response'),
            looped: looped.get('Application-Response'),
            api,
            jobUuid: job.jobUuid,
            jobResult,
            apiErr,
            answered: answered.length,
          });
        },
        {},
        async (_s, port) => {
          fake = await FakeCall.connect(port, { mode, digits: '1234' });
          await fake.closed;
        },
      );
      const r = await out.promise;
      assert.equal(r['answerApp'], 'answer');
      assert.equal(r['playResponse'], 'FILE PLAYED');
      assert.equal(r['lang'], 'fr ca');
      assert.equal(r['missing'], undefined);
      assert.equal(r['digits'], '1234');
      assert.equal(r['multi'], 'line one\nline two');
      assert.equal(r['looped'], 'x');
      assert.equal(r['api'], 'hello there');
      assert.equal(r['jobResult'], 'UP 0 years, 0 days\n');
      assert.ok(r['apiErr'] instanceof EslCommandError);
      assert.match((r['apiErr'] as EslCommandError).reply, /-ERR nosuch Command not found!/);
      assert.equal(r['answered'], 1);
      // execute subscribed on its own (myevents) before the first sendmsg.
      const lines = fake.lines();
      assert.equal(lines[0], 'connect');
      assert.equal(lines[1], 'myevents');
      assert.equal(lines[2], 'sendmsg');
      // The bgapi result needed BACKGROUND_JOB events: subscribed once, in the session's format.
      assert.equal(lines.filter((l) => l === 'event plain BACKGROUND_JOB').length, 1);
      const sendmsgs = fake.commands.filter((c) => c.line === 'sendmsg');
      const play = sendmsgs.find((c) => c.get('execute-app-name') === 'playback')!;
      assert.equal(play.get('event-lock'), 'true');
      const multi = sendmsgs.find((c) => c.get('execute-app-name') === 'echo_arg' && c.body !== undefined)!;
      assert.equal(multi.get('execute-app-arg'), undefined);
      assert.equal(multi.get('content-type'), 'text/plain');
      assert.equal(multi.bodyText, 'line one\nline two');
      const loops = sendmsgs.find((c) => c.get('loops') !== undefined)!;
      assert.equal(loops.get('loops'), '3');
      const pagd = sendmsgs.find((c) => c.get('execute-app-name') === 'play_and_get_digits')!;
      assert.equal(pagd.get('execute-app-arg'), '1 4 3 5000 # ivr/enter.wav silence_stream://250 pin \\d+ 5000');
      // Handler settled with the channel up and no linger: the socket is simply closed.
      assert.equal(lines.at(-1) === 'exit', false);
      for (const c of sendmsgs) assert.match(c.get('Event-UUID') ?? '', /^[0-9a-f-]{36}$/);
    });

    it('rejects a pending execute with EslHangupError carrying the cause when the channel hangs up', async () => {
      const out = deferred<unknown>();
      const end = deferred<CallEnd>();
      await withServer(
        async (call) => {
          void call.ended.then(end.resolve);
          try {
            await call.playback('long.wav');
            out.resolve('resolved');
          } catch (err) {
            out.resolve(err);
          }
          assert.equal(call.hungUp, true);
          assert.equal(call.hangupCause, 'USER_BUSY');
          await assert.rejects(call.execute('answer'), EslHangupError);
        },
        {},
        async (_s, port) => {
          const fake = await FakeCall.connect(port, { mode, playbackMs: 10_000 });
          await fake.waitCommand('sendmsg');
          await new Promise((r) => setTimeout(r, 5));
          fake.hangup('USER_BUSY');
          await fake.closed;
        },
      );
      const err = await out.promise;
      assert.ok(err instanceof EslHangupError, String(err));
      assert.equal(err.hangupCause, 'USER_BUSY');
      const e = await end.promise;
      assert.equal(e.reason, 'disconnect');
      assert.equal(e.hangupCause, 'USER_BUSY');
    });

    it('a handler that hangs up and returns still lets the final events reach its listeners', async () => {
      for (const linger of [true, false]) {
        const seen: string[] = [];
        let session!: CallSession;
        let fake!: FakeCall;
        await withServer(
          async (call) => {
            session = call;
            call.on('CHANNEL_HANGUP', () => seen.push('CHANNEL_HANGUP'));
            call.on('CHANNEL_HANGUP_COMPLETE', () => seen.push('CHANNEL_HANGUP_COMPLETE'));
            call.on('disconnect-notice', (n: { disposition: string }) => seen.push(`notice ${n.disposition}`));
            await call.myevents();
            if (linger) await call.linger();
            await call.answer();
            await call.hangup('NORMAL_CLEARING');
          },
          {},
          async (_s, port) => {
            fake = await FakeCall.connect(port, { mode });
            await fake.closed;
          },
        );
        const end = await session.ended;
        if (linger) {
          assert.equal(end.reason, 'linger');
          assert.equal(end.hangupCause, 'NORMAL_CLEARING');
          assert.equal(fake.lines().at(-1), 'exit');
          assert.deepEqual(
            seen.slice(0, 3),
            mode === 'async'
              ? ['CHANNEL_HANGUP', 'notice linger', 'CHANNEL_HANGUP_COMPLETE']
              : ['CHANNEL_HANGUP', 'notice linger', 'notice disconnect'],
          );
        } else {
          assert.equal(end.reason, 'disconnect');
          // CHANNEL_HANGUP may or may not make it out before FreeSWITCH flushes the queue.
          assert.equal(seen.at(-1), 'notice disconnect');
          assert.ok(!seen.includes('CHANNEL_HANGUP_COMPLETE'));
          assert.ok(!fake.lines().includes('exit'));
        }
      }
    });

    it('lingers: final events arrive, then exit; without linger the disconnect notice ends it', async () => {
      for (const linger of [true, false]) {
        const end = deferred<CallEnd>();
        const events: string[] = [];
        let fake!: FakeCall;
        await withServer(
          async (call) => {
            call.on('event', (ev) => events.push(ev.name));
            await call.myevents();
            if (linger) await call.linger();
            await call.answer();
            fake.hangup('NORMAL_CLEARING');
            end.resolve(await call.ended);
          },
          {},
          async (_s, port) => {
            fake = await FakeCall.connect(port, { mode });
            await fake.closed;
          },
        );
        const e = await end.promise;
        if (linger) {
          assert.equal(e.reason, 'linger');
          assert.equal(e.disposition, 'linger');
          assert.equal(fake.lines().at(-1), 'exit');
          // Async sockets deliver CHANNEL_HANGUP_COMPLETE while lingering; sync ones cannot (§5).
          assert.equal(events.includes('CHANNEL_HANGUP_COMPLETE'), mode === 'async');
        } else {
          assert.equal(e.reason, 'disconnect');
          assert.equal(e.disposition, 'disconnect');
          assert.ok(!fake.lines().includes('exit'));
        }
        assert.equal(e.hangupCause, 'NORMAL_CLEARING');
        assert.ok(events.includes('CHANNEL_HANGUP'));
      }
    });
  });
}

describe('outbound server: session commands', () => {
  it('sends myevents in each format and reads events in it', async () => {
    for (const format of ['plain', 'json', 'xml'] as const) {
      const got = deferred<string | undefined>();
      await withServer(
        async (call) => {
          await call.myevents(format);
          // A second myevents would get "-ERR aready enabled." from FreeSWITCH: it is a no-op.
          await call.myevents();
          const ev = await call.execute('echo_arg', 'a b&c=d%');
          got.resolve(ev.get('Application-Response'));
        },
        {},
        async (_s, port) => {
          const fake = await FakeCall.connect(port);
          await fake.closed;
          assert.equal(fake.format, format);
          assert.equal(fake.lines().filter((l) => l.startsWith('myevents')).length, 1);
          assert.equal(fake.lines()[1], format === 'plain' ? 'myevents plain' : `myevents ${format}`);
        },
      );
      assert.equal(await got.promise, 'a b&c=d%');
    }
  });

  it('sends subscribe, filter, filter delete, linger N, nolinger, resume, divert_events with their replies', async () => {
    const replies = deferred<string[]>();
    await withServer(
      async (call) => {
        const r: string[] = [];
        r.push(await call.subscribe(['CHANNEL_ANSWER', 'CUSTOM', 'test::demo'], 'json'));
        r.push(await call.filter('Unique-ID', call.uuid));
        r.push(await call.filterDelete('Unique-ID'));
        r.push(await call.linger(10));
        assert.equal(call.lingering, true);
        r.push(await call.nolinger());
        assert.equal(call.lingering, false);
        r.push(await call.resume());
        r.push(await call.divertEvents(true));
        replies.resolve(r);
      },
      {},
      async (_s, port) => {
        const fake = await FakeCall.connect(port);
        await fake.closed;
        assert.deepEqual(fake.lines().slice(1), [
          'event json CHANNEL_ANSWER CUSTOM test::demo',
          `filter Unique-ID ${fake.uuid}`,
          'filter delete Unique-ID',
          'linger 10',
          'nolinger',
          'resume',
          'divert_events on',
        ]);
      },
    );
    const r = await replies.promise;
    assert.equal(r[0], '+OK event listener enabled json');
    assert.match(r[1]!, /^\+OK filter added\./);
    assert.equal(r[3], '+OK will linger 10 seconds');
    assert.equal(r[4], '+OK will not linger');
    assert.equal(r[6], '+OK events diverted');
  });

  it('emits CUSTOM events under CUSTOM and CUSTOM <subclass>; execute timeout covers a missing +OK', async () => {
    const out = deferred<{ custom: string[]; err: unknown }>();
    let fake!: FakeCall;
    await withServer(
      async (call) => {
        const custom: string[] = [];
        call.on('CUSTOM', (ev) => custom.push(`any ${ev.subclass}`));
        call.on('CUSTOM test::demo', (ev) => custom.push(`demo ${ev.body}`));
        await call.subscribe(['CUSTOM', 'test::demo']);
        const got = new Promise((resolve) => call.once('CUSTOM test::demo', resolve));
        fake.sendEvent('CUSTOM', { 'Event-Subclass': 'test::demo' }, 'hello body', null);
        await got;
        let err: unknown;
        try {
          await call.execute('sleep', '1', { timeout: 30 });
        } catch (e) {
          err = e;
        }
        out.resolve({ custom, err });
      },
      {},
      async (_s, port) => {
        fake = await FakeCall.connect(port);
        fake.intercept = (cmd) => cmd.line === 'sendmsg'; // swallowed: no +OK ever
        await fake.closed;
      },
    );
    const { custom, err } = await out.promise;
    assert.deepEqual(custom, ['any test::demo', 'demo hello body']);
    assert.ok(err instanceof EslTimeoutError, String(err));
  });

  it('rejects -ERR replies with EslCommandError (no full control) and bad arguments before sending', async () => {
    const out = deferred<unknown[]>();
    await withServer(
      async (call) => {
        const errs: unknown[] = [];
        for (const f of [() => call.api('status'), () => call.linger(), () => call.subscribe('ALL')]) {
          try {
            await f();
          } catch (err) {
            errs.push(err);
          }
        }
        for (const f of [
          () => call.execute('playback', 'x', { eventUuid: 'a\nb' }),
          () => call.filter('Unique-ID\nx', 'y'),
          () => call.setVariable('a=b', 'c'),
          () => call.linger(-1),
        ]) {
          try {
            await f();
          } catch (err) {
            errs.push(err);
          }
        }
        out.resolve(errs);
      },
      {},
      async (_s, port) => {
        const fake = await FakeCall.connect(port, { full: false });
        await fake.closed;
        assert.ok(!fake.lines().some((l) => l.includes('\n')));
      },
    );
    const errs = await out.promise;
    assert.equal(errs.length, 7);
    for (const e of errs.slice(0, 3)) {
      assert.ok(e instanceof EslCommandError);
      assert.equal(e.reply, '-ERR command not found');
    }
    for (const e of errs.slice(3)) assert.ok(e instanceof EslInvalidArgumentError, String(e));
  });

  it('hangup(cause) sends sendmsg hangup; execute completionTimeout and abort settle', async () => {
    const out = deferred<unknown[]>();
    let fake!: FakeCall;
    await withServer(
      async (call) => {
        const r: unknown[] = [];
        try {
          await call.execute('sleep', '5000', { completionTimeout: 20 });
        } catch (err) {
          r.push(err);
        }
        const ac = new AbortController();
        const p = call.execute('sleep', '5000');
        const q = call.execute('sleep', '5000', { signal: ac.signal });
        ac.abort();
        try {
          await q;
        } catch (err) {
          r.push(err);
        }
        await call.hangup('CALL_REJECTED');
        try {
          await p;
        } catch (err) {
          r.push(err);
        }
        out.resolve(r);
      },
      {},
      async (_s, port) => {
        fake = await FakeCall.connect(port);
        await fake.closed;
      },
    );
    const r = await out.promise;
    assert.ok(r[0] instanceof EslTimeoutError);
    assert.equal((r[1] as Error).name, 'EslAbortError');
    assert.ok(r[2] instanceof EslHangupError);
    assert.equal((r[2] as EslHangupError).hangupCause, 'CALL_REJECTED');
    const h = fake.commands.find((c) => c.get('call-command') === 'hangup')!;
    assert.equal(h.get('hangup-cause'), 'CALL_REJECTED');
  });

  it('an unknown application hangs up the channel: execute rejects with its cause', async () => {
    const out = deferred<unknown>();
    await withServer(
      async (call) => {
        try {
          await call.execute('no_such_app');
        } catch (err) {
          out.resolve(err);
        }
      },
      {},
      async (_s, port) => {
        const fake = await FakeCall.connect(port);
        await fake.closed;
      },
    );
    const err = await out.promise;
    assert.ok(err instanceof EslHangupError);
    assert.equal(err.hangupCause, 'DESTINATION_OUT_OF_ORDER');
  });

  it('bgapi uuid_kill on the same socket hangs the call up (the seed prepaid pattern)', async () => {
    const out = deferred<CallEnd>();
    await withServer(
      async (call) => {
        await call.myevents();
        await call.linger();
        // The session ends (the channel is killed) before the job's result can arrive.
        const job = call.bgapi(`uuid_kill ${call.uuid}`).then(
          () => 'resolved',
          (err: unknown) => err,
        );
        out.resolve(await call.ended);
        assert.ok((await job) instanceof EslHangupError);
      },
      {},
      async (_s, port) => {
        const fake = await FakeCall.connect(port);
        await fake.closed;
        assert.equal(fake.lines().at(-1), 'exit');
      },
    );
    const e = await out.promise;
    assert.equal(e.reason, 'linger');
    assert.equal(e.hangupCause, 'NORMAL_CLEARING');
  });
});

describe('outbound server: handler errors, allow-list, limits, close', () => {
  it('a throwing or rejecting handler is reported, the call hung up and closed; the server goes on', async () => {
    const reported: Array<[unknown, CallSession]> = [];
    let calls = 0;
    await withServer(
      async (call) => {
        calls++;
        if (calls === 1) throw new Error('boom');
        if (calls === 2) return Promise.reject('not an error object');
        await call.answer();
      },
      {},
      async (server, port) => {
        server.on('handler-error', (err, call) => reported.push([err, call]));
        for (let i = 0; i < 3; i++) {
          const fake = await FakeCall.connect(port);
          await fake.closed;
          const hangup = fake.commands.find((c) => c.get('call-command') === 'hangup');
          if (i < 2) {
            assert.equal(hangup?.get('hangup-cause'), 'NORMAL_TEMPORARY_FAILURE');
          } else {
            assert.equal(hangup, undefined);
            assert.ok(fake.answered);
          }
        }
        await until(() => server.activeCalls === 0);
      },
    );
    assert.equal(reported.length, 2);
    assert.equal((reported[0]![0] as Error).message, 'boom');
    assert.equal((reported[1]![0] as Error).message, 'not an error object');
    const end = await reported[0]![1].ended;
    assert.equal(end.reason, 'error');
    assert.equal(end.error?.message, 'boom');
  });

  it('hangupOnHandlerError: false only closes the socket (the dialplan continues)', async () => {
    await withServer(
      () => {
        throw new Error('nope');
      },
      { hangupOnHandlerError: false },
      async (server, port) => {
        const reported = once(server, 'handler-error');
        const fake = await FakeCall.connect(port);
        await fake.closed;
        assert.deepEqual(fake.lines(), ['connect']);
        assert.equal(fake.up, true);
        await reported;
      },
    );
  });

  it('with no handler-error listener the error becomes a process warning, not a crash', async () => {
    const warned = deferred<Error>();
    const onWarning = (w: Error) => warned.resolve(w);
    process.on('warning', onWarning);
    try {
      await withServer(
        () => {
          throw new Error('quiet failure');
        },
        {},
        async (_s, port) => {
          const fake = await FakeCall.connect(port);
          await fake.closed;
        },
      );
      const w = await warned.promise;
      assert.equal(w.message, 'quiet failure');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a handler that lets the hangup error escape is a normal end, not a handler error', async () => {
    let reported = 0;
    await withServer(
      async (call) => {
        await call.playback('long.wav');
      },
      {},
      async (server, port) => {
        server.on('handler-error', () => reported++);
        const fake = await FakeCall.connect(port, { playbackMs: 10_000 });
        await fake.waitCommand('sendmsg');
        fake.hangup('ORIGINATOR_CANCEL');
        await fake.closed;
        await new Promise((r) => setImmediate(r));
      },
    );
    assert.equal(reported, 0);
  });

  it('closes peers outside the allow-list at once, before anything is sent', async () => {
    let handled = 0;
    await withServer(
      () => {
        handled++;
      },
      { allow: ['10.1.2.3', '192.168.0.0/16', '::2'] },
      async (server, port) => {
        const rejected = once<{ address: string; reason: string }>(server, 'rejected');
        const fake = await FakeCall.connect(port);
        await fake.closed;
        assert.deepEqual(fake.commands, []);
        const [info] = await rejected;
        assert.equal(info!.reason, 'not-allowed');
        assert.equal(info!.address, '127.0.0.1');
        assert.equal(server.activeCalls, 0);
      },
    );
    assert.equal(handled, 0);
    await withServer(
      () => {
        handled++;
      },
      { allow: ['127.0.0.0/8'] },
      async (_s, port) => {
        const fake = await FakeCall.connect(port);
        await fake.closed;
        assert.deepEqual(fake.lines(), ['connect']);
      },
    );
    assert.equal(handled, 1);
    assert.throws(() => createServer(() => {}, { allow: ['not-an-ip'] }), EslInvalidArgumentError);
    assert.throws(() => createServer(() => {}, { allow: ['10.0.0.0/33'] }), EslInvalidArgumentError);
  });

  it('maxCalls: connections beyond the limit are closed at once', async () => {
    const release = deferred<void>();
    await withServer(
      async () => {
        await release.promise;
      },
      { maxCalls: 2 },
      async (server, port) => {
        const a = await FakeCall.connect(port);
        const b = await FakeCall.connect(port);
        await a.waitCommand('connect');
        await b.waitCommand('connect');
        const rejected = once<{ reason: string }>(server, 'rejected');
        const c = await FakeCall.connect(port);
        await c.closed;
        assert.equal((await rejected)[0]!.reason, 'max-calls');
        assert.deepEqual(c.commands, []);
        assert.equal(server.activeCalls, 2);
        release.resolve();
        await Promise.all([a.closed, b.closed]);
        await until(() => server.activeCalls === 0);
        const d = await FakeCall.connect(port);
        await d.closed;
        assert.deepEqual(d.lines(), ['connect']);
      },
    );
  });

  it('close() stops accepting, lets live calls finish, then resolves', async () => {
    const release = deferred<void>();
    const server = createServer(async (call) => {
      await release.promise;
      await call.answer();
    });
    const { port } = await server.listen({ port: 0 });
    const fake = await FakeCall.connect(port);
    await fake.waitCommand('connect');
    while (server.activeCalls === 0 || !(await isActive(server))) await new Promise((r) => setTimeout(r, 1));
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    const closeEvent = once(server, 'close');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(closed, false, 'waits for the live call');
    // New connections are refused while closing (the listener is closed).
    await assert.rejects(FakeCall.connect(port));
    release.resolve();
    await closing;
    await closeEvent;
    assert.ok(fake.answered, 'the live call finished its work');
    await fake.closed;
    assert.equal(server.activeCalls, 0);
  });

  it('close() destroys calls still running at the deadline; destroy() at once', async () => {
    const server = createServer(() => new Promise(() => {}), { closeDeadline: 30 });
    const { port } = await server.listen({ port: 0 });
    const fake = await FakeCall.connect(port);
    await fake.waitCommand('connect');
    while (!(await isActive(server))) await new Promise((r) => setTimeout(r, 1));
    const [call] = [...server.calls()];
    await server.close();
    await fake.closed;
    assert.equal((await call!.ended).reason, 'closed');

    const server2 = createServer(() => new Promise(() => {}));
    const { port: port2 } = await server2.listen({ port: 0 });
    const fake2 = await FakeCall.connect(port2);
    await fake2.waitCommand('connect');
    await server2.destroy();
    await fake2.closed;
    assert.equal(server2.activeCalls, 0);
  });

  it('a peer that closes before the connect reply, or never answers it, is cleaned up', async () => {
    await withServer(
      () => assert.fail('handler must not run'),
      { connectTimeout: 50 },
      async (server, port) => {
        const errors: Error[] = [];
        server.on('error', (e) => errors.push(e));
        const a = await FakeCall.connect(port, { silent: true });
        await a.waitCommand('connect');
        a.socket.destroy();
        const b = await FakeCall.connect(port, { silent: true });
        await b.closed; // closed by us after connectTimeout
        while (server.activeCalls > 0) await new Promise((r) => setTimeout(r, 2));
        assert.equal(errors.length, 2);
        assert.ok(errors.some((e) => e instanceof EslTimeoutError));
      },
    );
  });

  it('a malformed frame ends the session with an error; pending commands settle', async () => {
    const out = deferred<{ err: unknown; end: CallEnd }>();
    await withServer(
      async (call) => {
        let err: unknown;
        try {
          await call.execute('sleep', '1000');
        } catch (e) {
          err = e;
        }
        out.resolve({ err, end: await call.ended });
      },
      {},
      async (_s, port) => {
        const fake = await FakeCall.connect(port);
        fake.intercept = (cmd, f) => {
          if (cmd.line !== 'sendmsg') return false;
          f.write('this is not a header line\n\n');
          return true;
        };
        await fake.closed;
      },
    );
    const { err, end } = await out.promise;
    assert.ok(err instanceof Error);
    assert.equal(end.reason, 'error');
    assert.equal(end.error?.name, 'EslParseError');
  });

  it('call.exit() sends exit even without linger; call.close() does not', async () => {
    for (const how of ['exit', 'close'] as const) {
      const end = deferred<CallEnd>();
      await withServer(
        async (call) => {
          end.resolve(await call[how]());
          assert.equal(call.connected, false);
        },
        {},
        async (_s, port) => {
          const fake = await FakeCall.connect(port);
          await fake.closed;
          assert.deepEqual(fake.lines(), how === 'exit' ? ['connect', 'exit'] : ['connect']);
        },
      );
      assert.equal((await end.promise).reason, 'exit');
    }
  });
});

describe('outbound server: no leaks', () => {
  it('after 2,000 calls, maps and listener counts are back to baseline', async () => {
    const server = createServer(async (call) => {
      call.on('event', () => {});
      call.on('CHANNEL_ANSWER', () => {});
      await call.myevents();
      await call.linger();
      await call.answer();
      await call.playback('x');
    });
    // Each fake plays for 10 s: the hangup below always interrupts it.
    const { port } = await server.listen({ port: 0 });
    const baseline = server.eventNames().map((n) => [n, server.listenerCount(n)]);
    const sessions: CallSession[] = [];
    server.on('call', (c: CallSession) => sessions.push(c));
    const baseline2 = server.eventNames().map((n) => [n, server.listenerCount(n)]);
    for (let round = 0; round < 8; round++) {
      // Connected one at a time: on loopback here that is faster than all at once.
      const fakes: FakeCall[] = [];
      for (let i = 0; i < 250; i++) fakes.push(await FakeCall.connect(port, { playbackMs: 10_000 }));
      await Promise.all(fakes.map((f) => f.waitCommand((c) => c.get('execute-app-name') === 'playback')));
      for (const f of fakes) f.hangup();
      await Promise.all(fakes.map((f) => f.closed));
    }
    await Promise.all(sessions.map((s) => s.ended));
    assert.equal(sessions.length, 2000);
    assert.equal(server.activeCalls, 0);
    assert.deepEqual(
      server.eventNames().map((n) => [n, server.listenerCount(n)]),
      baseline2,
    );
    assert.ok(baseline.length <= baseline2.length);
    for (const s of sessions) {
      assert.deepEqual(s.eventNames(), [], 'session listeners removed');
      assert.equal(s.conn.listenerCount('event'), 0);
      assert.equal(s.conn.listenerCount('close'), 0);
      assert.equal(s.conn.closed, true);
      assert.equal((await s.ended).reason, 'linger');
    }
    await server.close();
  });
});

describe('outbound server: scale (raw fake)', () => {
  it('runs 1,000 concurrent full call flows (connect, myevents, linger, answer, playback, hangup)', { timeout: 60_000 }, async () => {
    const N = 1000;
    let inCount = 0;
    const allIn = deferred<void>();
    const ends: CallEnd[] = [];
    await withServer(
      async (call) => {
        await call.myevents();
        await call.linger();
        if (++inCount === N) allIn.resolve();
        await allIn.promise;
        await call.answer();
        const p = await call.playback('ivr/short.wav');
        assert.equal(p.get('Application-Response'), 'FILE PLAYED');
        await call.hangup();
        ends.push(await call.ended);
      },
      { maxCalls: N },
      async (server, port) => {
        const fakes: FakeCall[] = [];
        for (let i = 0; i < N; i++) fakes.push(await FakeCall.connect(port));
        await allIn.promise;
        assert.equal(server.activeCalls, N);
        await Promise.all(fakes.map((f) => f.closed));
        await until(() => server.activeCalls === 0);
        assert.equal(ends.length, N);
        for (const e of ends) assert.equal(e.reason, 'linger');
        for (const f of fakes) assert.deepEqual(f.lines().slice(0, 3), ['connect', 'myevents', 'linger']);
        for (const f of fakes) assert.equal(f.lines().at(-1), 'exit');
      },
    );
  });
});

async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function isActive(server: Server): Promise<boolean> {
  for (const c of server.calls()) if (c.connected) return true;
  return false;
}
