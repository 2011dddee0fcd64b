/**
 * One outbound server under measurement, in a fresh process (started by bench/server.ts with
 * --expose-gc), with the FreeSWITCH side forked off as bench/server-peer.ts.
 *
 *   node --expose-gc server-child.js memory <contender> <count>
 *   node --expose-gc server-child.js setups <contender> <calls,calls,…> <concurrency>
 *
 * Prints one JSON line with the figures. Every contender does the same work per call:
 *  - memory: connect, this channel's events, linger; then the session sits idle.
 *  - setups: connect, this channel's events, linger, execute `answer` then `playback` (each
 *    waiting for its CHANNEL_EXECUTE_COMPLETE), sendmsg hangup, then `exit` on the linger notice
 *    (freeswitch-esl waits for CHANNEL_HANGUP_COMPLETE first, as it does for every lingering call).
 *    The calls come in phases (the first from a cold start, the later ones on a warmed-up server);
 *    the CPU time (user and system apart) is read at each phase's end, once its sockets closed.
 * All three send `myevents`; on top of it modesl's own setup sends `event plain BACKGROUND_JOB
 * CHANNEL_EXECUTE_COMPLETE`, and esl 11's two filters and `event json CHANNEL_EXECUTE_COMPLETE
 * BACKGROUND_JOB` (which makes its events JSON).
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import { FreeSwitchServer, type FreeSwitchResponse } from 'esl';
import { createServer } from '../src/index.js';

type Mode = 'memory' | 'setups';

/** What every contender plays (the simulator plays any file in `playbackMs`). */
const PLAYBACK_FILE = 'tone_stream://%(100,0,440)';

interface Running {
  port: number;
  close(): Promise<void>;
}

interface Hooks {
  /** A session finished its setup and is idle (memory mode). */
  idle(): void;
  /** A call's flow completed on the server side (setups mode). */
  done(): void;
  failed(err: unknown): void;
}

const forever = new Promise<void>(() => {});

const contenders: Record<string, (mode: Mode, hooks: Hooks) => Promise<Running>> = {
  async 'freeswitch-esl'(mode, hooks) {
    const server = createServer(async (call) => {
      await call.myevents();
      await call.linger();
      if (mode === 'memory') {
        hooks.idle();
        await forever;
        return;
      }
      await call.execute('answer');
      await call.execute('playback', PLAYBACK_FILE);
      await call.hangup();
      await call.ended;
      hooks.done();
    });
    server.on('handler-error', (err) => hooks.failed(err));
    const { port } = await server.listen({ port: 0 });
    return { port, close: () => server.destroy() };
  },

  async 'esl 11'(mode, hooks) {
    const quiet = { debug() {}, info() {}, error() {} };
    const server = new FreeSwitchServer({ all_events: false, my_events: true, logger: quiet });
    server.on('error', (err) => hooks.failed(err));
    server.on('connection', (call: FreeSwitchResponse) => {
      void (async () => {
        if (mode === 'setups') {
          call.once('cleanup_linger', () => {
            call.exit().catch(() => {});
          });
          call.once('socket.close', () => hooks.done());
        }
        // Its own setup sent two filters and `event json CHANNEL_EXECUTE_COMPLETE BACKGROUND_JOB`;
        // myevents makes the event stream the same as the other contenders'.
        await call.send('myevents');
        await call.linger();
        if (mode === 'memory') {
          hooks.idle();
          return;
        }
        await call.command('answer', '', 10_000);
        await call.command('playback', PLAYBACK_FILE, 10_000);
        await call.hangup();
      })().catch((err: unknown) => hooks.failed(err));
    });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const port = (Reflect.get(server, '__server') as { address(): AddressInfo }).address().port;
    return { port, close: () => server.close() };
  },

  'bare socket': bareFloor,

  async 'modesl'(mode, hooks) {
    const require = createRequire(import.meta.url);
    const esl = require('modesl') as { Server: new (opts: object) => ModeslServer };
    // modesl's Server reads `opts.port || 8022`, so port 0 would bind 8022: hand it a listening server.
    const net = createNetServer();
    await new Promise<void>((resolve) => net.listen(0, '127.0.0.1', resolve));
    const server = new esl.Server({ server: net, myevents: true });
    server.on('connection::ready', (conn: ModeslConnection) => {
      conn.on('error', (err: unknown) => hooks.failed(err));
      if (mode === 'setups') {
        conn.on('esl::event::disconnect::notice', (ev: { getHeader(n: string): string | undefined }) => {
          if (ev.getHeader('Content-Disposition') === 'linger') conn.disconnect();
        });
        conn.on('esl::end', () => hooks.done());
      }
      conn.sendRecv('linger', () => {
        if (mode === 'memory') {
          hooks.idle();
          return;
        }
        conn.execute('answer', '', () => {
          conn.execute('playback', PLAYBACK_FILE, () => {
            conn.sendRecv('sendmsg', { 'call-command': 'hangup', 'hangup-cause': 'NORMAL_CLEARING' });
          });
        });
      });
    });
    const port = (net.address() as AddressInfo).port;
    return {
      port,
      close: () =>
        new Promise<void>((resolve) => {
          net.close(() => resolve());
          for (const c of Object.values(server.connections)) c.socket?.destroy();
        }),
    };
  },
};

/**
 * The floor: the same call flow over a bare net.Socket, with only what the flow needs: frame
 * boundaries, Content-Type, Event-Name and Application of the events, replies counted in order.
 * It decodes nothing else and keeps nothing; not a usable library, a measure of what Node's
 * sockets and a minimal framing loop cost per call.
 */
const EMPTY = Buffer.alloc(0);

function bareFloor(mode: Mode, hooks: Hooks): Promise<Running> {
  const net = createNetServer((sock) => {
    sock.setNoDelay(true);
    let buf: Buffer = EMPTY;
    const replies: Array<() => void> = [];
    let completed: ((app: string) => void) | undefined;
    const command = (text: string) =>
      new Promise<void>((resolve) => {
        replies.push(resolve);
        sock.write(text);
      });
    const executeDone = (app: string) =>
      new Promise<void>((resolve) => {
        completed = (done) => {
          if (done !== app) return;
          completed = undefined;
          resolve();
        };
      });
    const header = (block: string, name: string): string | undefined => {
      const at = block.indexOf(`${name}: `);
      if (at === -1) return undefined;
      const end = block.indexOf('\n', at);
      return block.slice(at + name.length + 2, end === -1 ? undefined : end);
    };
    const onFrame = (head: string, body: Buffer | undefined) => {
      const type = header(head, 'Content-Type');
      if (type === 'command/reply' || type === 'api/response') return replies.shift()?.();
      if (type === 'text/disconnect-notice') {
        if (mode === 'setups' && header(head, 'Content-Disposition') === 'linger') sock.end('exit\n\n');
        return;
      }
      if (type === 'text/event-plain' && body !== undefined) {
        const text = body.toString('latin1');
        if (header(text, 'Event-Name') === 'CHANNEL_EXECUTE_COMPLETE') completed?.(header(text, 'Application') ?? '');
      }
    };
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\n\n');
        if (end === -1) return;
        const head = buf.toString('latin1', 0, end + 1);
        const length = Number(header(head, 'Content-Length') ?? 0);
        if (buf.length < end + 2 + length) return;
        const body = length > 0 ? buf.subarray(end + 2, end + 2 + length) : undefined;
        // An empty rest must not pin the socket's chunk (an idle session would keep it).
        buf = buf.length === end + 2 + length ? EMPTY : buf.subarray(end + 2 + length);
        onFrame(head, body);
      }
    });
    sock.on('error', (err) => hooks.failed(err));
    sock.on('close', () => mode === 'setups' && hooks.done());
    const execute = (app: string, arg: string) => {
      const done = executeDone(app);
      return command(`sendmsg\ncall-command: execute\nexecute-app-name: ${app}\nexecute-app-arg: ${arg}\n\n`).then(() => done);
    };
    void (async () => {
      await command('connect\n\n');
      await command('myevents\n\n');
      await command('linger\n\n');
      if (mode === 'memory') return hooks.idle();
      await execute('answer', '');
      await execute('playback', PLAYBACK_FILE);
      await command('sendmsg\ncall-command: hangup\n\n');
    })().catch((err: unknown) => hooks.failed(err));
  });
  return new Promise((resolve) =>
    net.listen(0, '127.0.0.1', () =>
      resolve({
        port: (net.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => net.close(() => r())),
      }),
    ),
  );
}

interface ModeslConnection {
  socket: { destroy(): void } | null;
  on(event: string, fn: (...args: never[]) => void): void;
  sendRecv(command: string, argsOrCb?: object | (() => void), cb?: () => void): void;
  execute(app: string, arg: string, cb: () => void): void;
  disconnect(): void;
}
interface ModeslServer {
  connections: Record<string, ModeslConnection>;
  on(event: string, fn: (conn: ModeslConnection) => void): void;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 300));
}

function fullGc(): void {
  for (let i = 0; i < 4; i++) gc();
}

/**
 * Bytes committed to V8's young generation. It grows in steps with the allocation rate, not with
 * what is kept (full GCs empty it but do not shrink it), so its growth is taken out of the RSS.
 */
function youngBytes(): number {
  let total = 0;
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space' || s.space_name === 'new_large_object_space') total += s.space_size;
  return total;
}

async function main(): Promise<void> {
  const [modeArg, name, countArg, concurrencyArg] = process.argv.slice(2);
  const mode = modeArg as Mode;
  const factory = contenders[name!];
  if (!factory) throw new Error(`unknown contender ${name}`);
  const count = Number(countArg);
  const failures: string[] = [];
  let idle = 0;
  let done = 0;
  let wake: () => void = () => {};
  const hooks: Hooks = {
    idle: () => {
      idle++;
      wake();
    },
    done: () => {
      done++;
      wake();
    },
    failed: (err) => {
      if (failures.length < 5) failures.push(String(err));
    },
  };
  const running = await factory(mode, hooks);
  const peerPath = fileURLToPath(new URL('./server-peer.js', import.meta.url));

  if (mode === 'memory') {
    await settle();
    fullGc();
    const m0 = process.memoryUsage();
    const young0 = youngBytes();
    const peer = fork(peerPath, ['raw', String(running.port), String(count)], { stdio: 'inherit' });
    const ready = new Promise<void>((resolve, reject) => {
      peer.on('message', (m: { type: string; message?: string }) => {
        if (m.type === 'ready') resolve();
        if (m.type === 'error') reject(new Error(m.message));
      });
      peer.once('exit', (code, signal) => signal === null && reject(new Error(`peer exited with ${code}`)));
    });
    await ready;
    const deadline = Date.now() + 30_000;
    while (idle < count && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    await settle();
    fullGc();
    const m1 = process.memoryUsage();
    const young1 = youngBytes();
    // Tearing 10,000 sockets down politely takes seconds and measures nothing: the figures are
    // printed and both processes exit (the OS closes the sockets).
    peer.kill('SIGKILL');
    console.log(
      JSON.stringify({
        idle,
        count,
        heapPerSession: (m1.heapUsed - m0.heapUsed) / idle,
        externalPerSession: (m1.external - m0.external) / idle,
        rssPerSession: (m1.rss - m0.rss - (young1 - young0)) / idle,
        failures,
      }),
    );
    return;
  }

  const concurrency = Number(concurrencyArg);
  const phases: { calls: number; ms: number; failed: number; completed: number; userMs: number; systemMs: number }[] = [];
  let cpu0 = process.cpuUsage();
  let expected = 0;
  const peer = fork(peerPath, ['sim', String(running.port), countArg!, String(concurrency)], { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    peer.on('message', (m: { type: string; calls: number; ms: number; failed: number; last: boolean; message?: string }) => {
      if (m.type === 'error') return reject(new Error(m.message));
      if (m.type !== 'phase') return;
      void (async () => {
        // The peer counts a call done when its channel is destroyed; let the last sockets close here.
        expected += m.calls;
        const closeBy = Date.now() + 2000;
        while (done < expected && Date.now() < closeBy) await new Promise((r) => setTimeout(r, 10));
        const cpu = process.cpuUsage(cpu0);
        phases.push({ calls: m.calls, ms: m.ms, failed: m.failed, completed: done - (expected - m.calls), userMs: cpu.user / 1000, systemMs: cpu.system / 1000 });
        if (m.last) return resolve();
        cpu0 = process.cpuUsage();
        peer.send('next');
      })();
    });
    peer.once('exit', (code) => code !== 0 && reject(new Error(`peer exited with ${code}`)));
  });
  await running.close();
  console.log(JSON.stringify({ phases, failures }));
}

main()
  .then(() => process.exit(0))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
