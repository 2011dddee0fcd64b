/**
 * Outbound server against the simulator's outbound side: the simulator runs the dialplan's
 * `socket 127.0.0.1:<port> [async] full` and connects to our server, in async and sync modes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createServer,
  EslHangupError,
  EslInvalidArgumentError,
  type CallEnd,
  type CallHandler,
  type CallSession,
  type Server,
  type ServerOptions,
} from '../src/index.js';
import { Simulator, type SimEvent, type SimulatorOptions } from '../src/testing/index.js';

interface Rig {
  server: Server;
  port: number;
  sim: Simulator;
  /** Every event fired inside the simulator. */
  events: SimEvent[];
  /** Places an inbound call that runs `socket` to our server. */
  call(opts?: { mode?: 'async' | 'sync'; destination?: string; variables?: Record<string, string>; dtmf?: string; hangupAfterMs?: number }): Promise<string>;
  done(): Promise<void>;
}

async function rig(
  handler: CallHandler,
  options: ServerOptions = {},
  simOptions: (port: number) => SimulatorOptions = () => ({}),
): Promise<Rig> {
  const server = createServer(handler, options);
  const { port } = await server.listen({ port: 0 });
  const sim = await Simulator.start({ playbackMs: 20, ...simOptions(port) });
  const events: SimEvent[] = [];
  sim.on('event', (ev) => events.push(ev));
  return {
    server,
    port,
    sim,
    events,
    call: (o = {}) =>
      sim.originate({
        direction: 'inbound',
        destination: o.destination ?? '5000',
        variables: o.variables,
        dtmf: o.dtmf,
        hangupAfterMs: o.hangupAfterMs,
        callerIdName: 'Alice Example',
        callerIdNumber: '1001',
        ...(o.destination === undefined ? { socket: { port, async: (o.mode ?? 'async') === 'async', full: true } } : {}),
      }),
    async done() {
      await server.destroy();
      await sim.stop();
    },
  };
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function eventsOf(r: Rig, uuid: string, name?: string): SimEvent[] {
  return r.events.filter((e) => e.get('Unique-ID') === uuid && (name === undefined || e.name === name));
}

for (const mode of ['async', 'sync'] as const) {
  describe(`outbound server with the simulator (${mode} socket)`, () => {
    it('runs a full call flow: channel data, answer, playback, variables, digits, api, bgapi, hangup', async () => {
      const result = deferred<Record<string, unknown>>();
      const r = await rig(async (call) => {
        const seen: string[] = [];
        call.on('event', (ev) => seen.push(ev.name));
        await call.myevents();
        await call.linger();
        const info = {
          uuid: call.uuid,
          mode: call.socketMode,
          control: call.control,
          name: call.callerIdName,
          number: call.callerIdNumber,
          dest: call.destinationNumber,
          account: call.variable('account'),
          accountHeader: call.get('variable_account'),
        };
        const answered = await call.answer();
        const played = await call.playback('ivr/welcome.wav');
        await call.setVariable('lang', 'fr ca');
        const lang = await call.getVariable('lang');
        const digits = await call.playAndGetDigits({ min: 1, max: 3, file: 'ivr/pin.wav', terminators: '#', timeout: 200 });
        const status = await call.api('status');
        const jobResult = await call.bgapi('echo from bgapi');
        const hungUp = await call.hangup('NORMAL_CLEARING');
        const end = await call.ended;
        const again = await call.hangup();
        result.resolve({ ...info, answeredApp: answered.get('Application'), played: played.get('Application-Response'), lang, digits, status, jobResult, end, seen, hungUp, again });
      });
      try {
        const uuid = await r.call({ mode, variables: { account: 'acct 42&x' }, dtmf: '42#' });
        const out = await result.promise;
        assert.equal(out['uuid'], uuid);
        assert.equal(out['mode'], mode === 'async' ? 'async' : 'static');
        assert.equal(out['control'], 'full');
        assert.equal(out['name'], 'Alice Example');
        assert.equal(out['number'], '1001');
        assert.equal(out['dest'], '5000');
        assert.equal(out['account'], 'acct 42&x');
        assert.equal(out['accountHeader'], 'acct 42&x');
        assert.equal(out['answeredApp'], 'answer');
        assert.equal(out['hungUp'], '+OK', 'hangup resolves with the reply text, as the client does');
        assert.equal(out['again'], '', 'a channel already down: nothing sent');
        assert.equal(out['played'], 'FILE PLAYED');
        assert.equal(out['lang'], 'fr ca');
        assert.equal(out['digits'], '42');
        assert.match(out['status'] as string, /^UP /);
        assert.equal(out['jobResult'], 'from bgapi');
        const end = out['end'] as CallEnd;
        assert.equal(end.reason, 'linger');
        assert.equal(end.hangupCause, 'NORMAL_CLEARING');
        const seen = out['seen'] as string[];
        assert.ok(seen.includes('CHANNEL_ANSWER'));
        assert.ok(seen.includes('CHANNEL_HANGUP'));
        // Async sockets get CHANNEL_HANGUP_COMPLETE while lingering; sync ones cannot (PROTOCOL §5).
        if (mode === 'async') assert.equal(seen.at(-1), 'CHANNEL_HANGUP_COMPLETE');
        assert.equal(eventsOf(r, uuid, 'CHANNEL_ANSWER').length, 1);
        await until(() => r.server.activeCalls === 0, 'session cleanup');
      } finally {
        await r.done();
      }
    });

    it('hangup during execute rejects it with EslHangupError carrying the cause', async () => {
      for (const linger of [true, false]) {
        const result = deferred<{ err: unknown; end: CallEnd; hungUp: boolean }>();
        const r = await rig(
          async (call) => {
            let err: unknown;
            try {
              if (linger) await call.linger();
              await call.answer();
              await call.playback('ivr/very-long.wav');
            } catch (e) {
              err = e;
            }
            result.resolve({ err, end: await call.ended, hungUp: call.hungUp });
          },
          {},
          () => ({ playbackMs: 60_000 }),
        );
        try {
          await r.call({ mode, hangupAfterMs: 80 });
          const { err, end, hungUp } = await result.promise;
          assert.ok(err instanceof EslHangupError, String(err));
          assert.equal(hungUp, true);
          if (linger) {
            assert.equal(err.hangupCause, 'NORMAL_CLEARING');
            assert.equal(end.reason, 'linger');
            assert.equal(end.hangupCause, 'NORMAL_CLEARING');
          } else {
            // Without linger FreeSWITCH flushes the queued events (CHANNEL_HANGUP among them)
            // and sends only the disconnect notice, which carries no cause (MES flush_listener).
            assert.equal(end.reason, 'disconnect');
          }
        } finally {
          await r.done();
        }
      }
    });

    it('linger delivers the final events before the session ends; no linger ends at the disconnect notice', async () => {
      for (const linger of [true, false]) {
        const result = deferred<{ end: CallEnd; seen: string[] }>();
        const r = await rig(async (call) => {
          const seen: string[] = [];
          call.on('event', (ev) => seen.push(ev.name));
          await call.myevents();
          if (linger) await call.linger();
          await call.answer();
          // The far end hangs up once the call is answered (a hangup timed from the originate
          // could come before the answer on a loaded machine, and the handler would never finish).
          r.sim.hangup(call.uuid);
          const end = await call.ended;
          result.resolve({ end, seen });
        });
        try {
          await r.call({ mode });
          const { end, seen } = await result.promise;
          assert.equal(end.reason, linger ? 'linger' : 'disconnect');
          assert.equal(end.disposition, linger ? 'linger' : 'disconnect');
          // An async socket's session winds down in its own thread before the listener notices the
          // hangup, so its last events arrive even without linger (real FreeSWITCH 1.10.12, 8 of 8).
          if (linger || mode === 'async') {
            assert.equal(end.hangupCause, 'NORMAL_CLEARING');
            assert.ok(seen.includes('CHANNEL_HANGUP'));
          }
          assert.equal(seen.includes('CHANNEL_HANGUP_COMPLETE'), mode === 'async');
        } finally {
          await r.done();
        }
      }
    });

    it('a failing handler is reported and its call hung up; the next call is served', async () => {
      let n = 0;
      const reported: unknown[] = [];
      const r = await rig(async (call) => {
        n++;
        if (n === 1) throw new Error('handler bug');
        await call.answer();
        await call.hangup();
      });
      r.server.on('handler-error', (err) => reported.push(err));
      try {
        const first = await r.call({ mode });
        await until(() => eventsOf(r, first, 'CHANNEL_HANGUP').length === 1, 'first hangup');
        assert.equal(eventsOf(r, first, 'CHANNEL_HANGUP')[0]!.get('Hangup-Cause'), 'NORMAL_TEMPORARY_FAILURE');
        const second = await r.call({ mode });
        await until(() => eventsOf(r, second, 'CHANNEL_HANGUP').length === 1, 'second hangup');
        assert.equal(eventsOf(r, second, 'CHANNEL_ANSWER').length, 1);
        assert.equal(eventsOf(r, second, 'CHANNEL_HANGUP')[0]!.get('Hangup-Cause'), 'NORMAL_CLEARING');
        assert.equal(reported.length, 1);
        assert.equal((reported[0] as Error).message, 'handler bug');
        await until(() => r.server.activeCalls === 0, 'cleanup');
      } finally {
        await r.done();
      }
    });

    it('when the handler returns with the channel up, the dialplan continues after socket', async () => {
      const ended = deferred<CallEnd>();
      const r = await rig(
        async (call) => {
          await call.myevents();
          await call.linger();
          await call.setVariable('from_handler', 'yes');
          void call.ended.then(ended.resolve);
        },
        {},
        (port) => ({
          dialplan: {
            '6000': {
              socket: `127.0.0.1:${port}${mode === 'async' ? ' async' : ''} full`,
              actions: [['set', 'after_socket=${from_handler}'], 'answer', 'hangup'],
            },
          },
        }),
      );
      try {
        const uuid = await r.call({ destination: '6000' });
        const end = await ended.promise;
        assert.equal(end.reason, 'exit');
        await until(() => eventsOf(r, uuid, 'CHANNEL_HANGUP_COMPLETE').length === 1, 'dialplan end');
        const sets = eventsOf(r, uuid, 'CHANNEL_EXECUTE').filter((e) => e.get('Application') === 'set');
        assert.deepEqual(
          sets.map((e) => e.get('Application-Data')),
          ['from_handler=yes', 'after_socket=yes'],
        );
        assert.equal(eventsOf(r, uuid, 'CHANNEL_ANSWER').length, 1);
      } finally {
        await r.done();
      }
    });

    it('a peer outside the allow-list is closed at once and the dialplan continues', async () => {
      let handled = 0;
      const r = await rig(
        () => {
          handled++;
        },
        { allow: ['10.0.0.0/8', '::2'] },
        (port) => ({
          dialplan: {
            '6000': { socket: `127.0.0.1:${port}${mode === 'async' ? ' async' : ''} full`, actions: [['set', 'after_socket=1'], 'hangup'] },
          },
        }),
      );
      const rejected: unknown[] = [];
      r.server.on('rejected', (info) => rejected.push(info));
      try {
        const uuid = await r.call({ destination: '6000' });
        await until(() => eventsOf(r, uuid, 'CHANNEL_HANGUP_COMPLETE').length === 1, 'dialplan end');
        assert.ok(eventsOf(r, uuid, 'CHANNEL_EXECUTE').some((e) => e.get('Application-Data') === 'after_socket=1'));
        assert.equal(handled, 0);
        assert.deepEqual(rejected, [{ address: '127.0.0.1', port: (rejected[0] as { port: number }).port, reason: 'not-allowed' }]);
        assert.equal(r.server.activeCalls, 0);
      } finally {
        await r.done();
      }
    });

    it('close() lets calls in progress finish and refuses new ones', async () => {
      const started = deferred<void>();
      let live = 0;
      const ends: CallEnd[] = [];
      const r = await rig(
        async (call: CallSession) => {
          live++;
          if (live === 3) started.resolve();
          await call.answer();
          await call.playback('ivr/short.wav');
          await call.hangup();
          ends.push(await call.ended);
        },
        {},
        () => ({ playbackMs: 150 }),
      );
      try {
        await Promise.all([r.call({ mode }), r.call({ mode }), r.call({ mode })]);
        await started.promise;
        const closing = r.server.close();
        // The listener is closed: a new call's socket app fails to connect (dialplan continues).
        const late = await r.call({ mode });
        await closing;
        assert.equal(ends.length, 3);
        for (const e of ends) assert.equal(e.reason, 'disconnect');
        assert.equal(r.server.activeCalls, 0);
        await until(() => eventsOf(r, late, 'CHANNEL_HANGUP_COMPLETE').length === 1, 'late call ends');
        assert.equal(eventsOf(r, late, 'CHANNEL_ANSWER').length, 0);
      } finally {
        await r.done();
      }
    });
  });
}

describe('outbound server with the simulator: scale', () => {
  // The full flow of every call runs through the simulator at once: connect, myevents, linger,
  // execute answer, a short playback, sendmsg hangup, the linger notice with the final events,
  // exit. The timeout only bounds a hang; it says nothing about speed.
  it('handles 1,000 concurrent full call flows (connect, myevents, linger, answer, playback, hangup, linger notice, exit)', { timeout: 180_000 }, async () => {
    const N = 1000;
    const allIn = deferred<void>();
    const sessions: CallSession[] = [];
    const results = new Map<string, { answered: string | undefined; played: string | undefined; seen: string[]; end: CallEnd }>();
    const r = await rig(
      async (call) => {
        sessions.push(call);
        const seen: string[] = [];
        const onEvent = (ev: { name: string; get(name: string): string | undefined }): void => {
          seen.push(ev.name === 'CHANNEL_EXECUTE_COMPLETE' ? `${ev.name} ${ev.get('Application')}` : ev.name);
        };
        call.on('event', onEvent);
        await call.myevents();
        await call.linger();
        // Hold every call until all N are connected at once.
        if (sessions.length === N) allIn.resolve();
        await allIn.promise;
        const answered = await call.answer();
        const played = await call.playback('ivr/short.wav');
        await call.hangup('NORMAL_CLEARING');
        const end = await call.ended;
        call.off('event', onEvent);
        results.set(call.uuid, { answered: answered.get('Application'), played: played.get('Application-Response'), seen, end });
      },
      { maxCalls: N },
      // 1,000 calls at once: far above FreeSWITCH's default of 30 sessions per second.
      () => ({ playbackMs: 10, sessionsPerSecond: Infinity }),
    );
    try {
      const baseline = r.server.eventNames().map((n) => [n, r.server.listenerCount(n)]);
      const uuids = await Promise.all(Array.from({ length: N }, () => r.call()));
      await allIn.promise;
      assert.equal(r.server.activeCalls, N);
      await until(() => results.size === N, `${N} calls to end`, 170_000);
      await until(() => r.server.activeCalls === 0, 'cleanup');
      await until(() => r.sim.connections === 0, 'simulator sockets closed');
      // CHANNEL_DESTROY waits for the socket's hold on the session: every listener ended after exit.
      await until(() => r.sim.channels.length === 0, 'channels destroyed');
      // One pass over the simulator's events, grouped by channel.
      const byUuid = new Map<string, string[]>();
      for (const ev of r.events) {
        const uuid = ev.get('Unique-ID');
        if (uuid === undefined) continue;
        let names = byUuid.get(uuid);
        if (!names) byUuid.set(uuid, (names = []));
        names.push(ev.name);
      }
      for (const uuid of uuids) {
        const res = results.get(uuid);
        assert.ok(res, `no result for ${uuid}`);
        assert.equal(res.answered, 'answer');
        assert.equal(res.played, 'FILE PLAYED');
        assert.equal(res.end.reason, 'linger');
        assert.equal(res.end.hangupCause, 'NORMAL_CLEARING');
        // myevents delivered the call's own events, the last ones while lingering.
        assert.ok(res.seen.includes('CHANNEL_ANSWER'), uuid);
        // The socket application itself completes once the channel hung up (seen while lingering).
        assert.deepEqual(
          res.seen.filter((n) => n.startsWith('CHANNEL_EXECUTE_COMPLETE')),
          ['CHANNEL_EXECUTE_COMPLETE answer', 'CHANNEL_EXECUTE_COMPLETE playback', 'CHANNEL_EXECUTE_COMPLETE socket'],
          uuid,
        );
        assert.equal(res.seen.at(-1), 'CHANNEL_HANGUP_COMPLETE', uuid);
        const names = byUuid.get(uuid) ?? [];
        assert.equal(names.filter((n) => n === 'CHANNEL_ANSWER').length, 1, uuid);
        assert.equal(names.at(-2), 'CHANNEL_DESTROY', uuid);
      }
      assert.deepEqual(r.server.eventNames().map((n) => [n, r.server.listenerCount(n)]), baseline);
      for (const s of sessions) {
        assert.deepEqual(s.eventNames(), []);
        assert.equal(s.conn.listenerCount('event'), 0);
      }
    } finally {
      await r.done();
    }
  });
});

describe('outbound call session: the command layer it shares with the client', () => {
  it('log, nolog, sendevent, unsubscribe, noevents, raw api, bgapiEvent and sendCommand behave as on the client', async () => {
    const result = deferred<Record<string, unknown>>();
    const r = await rig(async (call) => {
      const logs: string[] = [];
      call.on('log', (rec) => logs.push(`${rec.levelName} ${rec.text.trim().split(' ').slice(-3).join(' ')}`));
      const custom: string[] = [];
      call.on('CUSTOM shared::layer', (ev) => custom.push(ev.get('X-Step') ?? ''));
      const logReply = await call.log('INFO');
      r.sim.log('INFO', 'shown at INFO');
      r.sim.log('DEBUG', 'hidden at INFO');
      await until(() => logs.length > 0, 'a log record');
      await call.nolog();
      await call.subscribe(['CUSTOM', 'shared::layer']);
      const eventUuid = await call.sendevent('CUSTOM', { 'Event-Subclass': 'shared::layer', 'X-Step': 'one' });
      await until(() => custom.length === 1, 'the CUSTOM event');
      const nixed = await call.unsubscribe(['CUSTOM', 'shared::layer']);
      const cleared = await call.noevents().catch((err: Error) => err.message);
      const rawErr = await call.api('nosuch_command', { raw: true });
      const job = await call.bgapiEvent('status');
      const refused = await call.sendCommand('linger').catch((err: Error) => err);
      const viaCommand = await call.sendCommand('api status');
      await call.hangup();
      result.resolve({ logReply, logs, eventUuid, custom, nixed, cleared, rawErr, jobBody: job.body, jobUuid: job.jobUuid, refused, viaCommand });
    });
    try {
      await r.call();
      const out = await result.promise;
      assert.match(String(out['logReply']), /^\+OK log level/);
      assert.deepEqual(out['logs'], ['INFO shown at INFO']);
      assert.match(String(out['eventUuid']), /^[0-9a-f-]{36}$/);
      assert.deepEqual(out['custom'], ['one']);
      assert.match(String(out['nixed']), /^\+OK/);
      assert.match(String(out['cleared']), /no longer listening|not listening/);
      assert.match(String(out['rawErr']), /^-ERR/);
      assert.match(String(out['jobBody']), /UP/);
      assert.match(String(out['jobUuid']), /^[0-9a-f-]{36}$/);
      assert.ok(out['refused'] instanceof EslInvalidArgumentError);
      assert.match((out['refused'] as Error).message, /linger\(\)/);
      assert.match(String(out['viaCommand']), /UP/);
    } finally {
      await r.done();
    }
  });
});
