/**
 * The FreeSWITCH side of the outbound-server benchmark, run as its own process (forked by
 * bench/server-child.ts) so its CPU and memory never count against the server being measured.
 *
 *   raw <port> <count>: opens <count> sockets like the `socket` application and answers the
 *     session commands the way mod_event_socket does, with the real connect reply of
 *     fixtures/outbound.bin (one UUID per socket). Sockets stay open until the parent says 'stop'.
 *   sim <port> <calls,calls,…> <concurrency>: starts the simulator and places inbound calls that
 *     run `socket 127.0.0.1:<port> async full`, keeping <concurrency> in flight, in phases of the
 *     given sizes; after each phase (every channel destroyed) it reports the phase's wall time and
 *     waits for the parent's 'next' before the next one, so the parent can read its CPU time at
 *     each boundary.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { CommandReader } from '../src/protocol/index.js';
import { Simulator } from '../src/testing/index.js';
import { fixture } from '../test/helpers/fixtures.js';

const CAPTURE_UUID = 'e472aa1c-5b16-424e-bca7-d4704076c0ff';

type Message =
  | { type: 'ready'; opened: number }
  | { type: 'phase'; calls: number; ms: number; failed: number; last: boolean }
  | { type: 'error'; message: string };

function send(msg: Message): void {
  process.send?.(msg);
}

function reply(sock: Socket, text: string): void {
  sock.write(`Content-Type: command/reply\nReply-Text: ${text}\n\n`);
}

async function raw(port: number, count: number): Promise<void> {
  const bin = fixture('outbound');
  const connectReply = bin.subarray(0, bin.indexOf('\n\n') + 2).toString('latin1');
  const sockets: Socket[] = [];
  const openOne = () =>
    new Promise<void>((resolve, reject) => {
      const uuid = randomUUID();
      const block = Buffer.from(connectReply.replaceAll(CAPTURE_UUID, uuid), 'latin1');
      const sock = connect({ host: '127.0.0.1', port }, () => resolve());
      sock.once('error', reject);
      sock.setNoDelay(true);
      const reader = new CommandReader((cmd) => {
        const word = cmd.line.split(' ')[0]!.toLowerCase();
        switch (word) {
          case 'connect':
            sock.write(block);
            break;
          case 'myevents':
            reply(sock, '+OK Events Enabled');
            break;
          case 'event':
            reply(sock, `+OK event listener enabled ${/json/.test(cmd.line) ? 'json' : 'plain'}`);
            break;
          case 'filter': {
            const [, h, v] = cmd.line.split(' ');
            reply(sock, `+OK filter added. [${h}]=[${v}]`);
            break;
          }
          case 'linger':
            reply(sock, '+OK will linger');
            break;
          case 'exit':
            reply(sock, '+OK bye');
            sock.end();
            break;
          default:
            reply(sock, '-ERR command not found');
        }
      });
      sock.on('data', (c) => reader.push(c));
      sock.on('close', () => {});
      sockets.push(sock);
    });
  // One at a time: on the loopback of the VMs this was measured on, concurrent connects are
  // several times slower than sequential ones (and sequential is what FreeSWITCH's calls look like).
  const window = Number(process.env['PEER_WINDOW'] ?? 2);
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < count) {
        next++;
        await openOne();
      }
    }),
  );
  send({ type: 'ready', opened: sockets.length });
  await new Promise<void>((resolve) => process.on('message', (m) => m === 'stop' && resolve()));
  for (const s of sockets) s.destroy();
}

async function sim(port: number, phases: number[], concurrency: number): Promise<void> {
  // Call setups per second are what is measured: FreeSWITCH's default limit of 30 a second is lifted.
  const simulator = await Simulator.start({ playbackMs: 1, sessionsPerSecond: Infinity });
  const next = () => new Promise<void>((resolve) => process.once('message', () => resolve()));
  for (let p = 0; p < phases.length; p++) {
    const calls = phases[p]!;
    let started = 0;
    let failed = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (started < calls) {
        started++;
        try {
          const uuid = await simulator.originate({
            direction: 'inbound',
            destination: '5000',
            socket: { port, async: true, full: true },
          });
          const ch = simulator.channel(uuid);
          if (ch) await ch.gone;
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const last = p === phases.length - 1;
    const wait = last ? Promise.resolve() : next();
    send({ type: 'phase', calls, ms: performance.now() - t0, failed, last });
    await wait;
  }
  await simulator.stop();
}

const [mode, portArg, a, b] = process.argv.slice(2);
const port = Number(portArg);
(mode === 'raw' ? raw(port, Number(a)) : sim(port, a!.split(',').map(Number), Number(b)))
  .then(() => process.exit(0))
  .catch((err: unknown) => {
    send({ type: 'error', message: String(err) });
    process.exit(1);
  });
