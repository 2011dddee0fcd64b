/**
 * Event-stream parsing: freeswitch-esl against esl 11.2.1 and modesl 1.2.1 and the bare framing
 * floor, on the same bytes, with a consumer that reads Event-Name and Unique-ID of each event.
 *
 * In process: the stream is cut in 64 KiB chunks (what a socket read hands over) and pushed by
 * hand. Over loopback: a replay server in a worker thread sends the same stream on 127.0.0.1.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { measureInterleaved, printTable, type PassOutput } from './harness.js';
import { contenders, BARE, ESL, MODESL, OURS, type Consumer, type Contender } from './contenders.js';
import { capturedPlainStream, generatedChannelStream, type Stream } from './streams.js';
import type { SuiteOptions } from './run.js';

const CHUNK = 64 * 1024;

const RATIOS: Array<[string, string]> = [
  [OURS, ESL],
  [OURS, MODESL],
  [BARE, OURS],
];

function inProcessPass(c: Contender, stream: Stream): PassOutput {
  const consumer = c.create(stream.eventNames);
  for (const chunk of stream.chunks) consumer.push(chunk);
  const out = consumer.output();
  if (out.items !== stream.events) throw new Error(`${c.name}: saw ${out.items} of ${stream.events} events`);
  return out;
}

async function startReplayServer(stream: Stream): Promise<{ port: number; stop: () => Promise<void> }> {
  const worker = new Worker(new URL('./replay-server.js', import.meta.url), {
    workerData: { data: stream.data, chunkSize: CHUNK },
  });
  const [msg] = (await once(worker, 'message')) as [{ port: number }];
  return {
    port: msg.port,
    stop: async () => {
      await worker.terminate();
    },
  };
}

async function socketPass(c: Contender, stream: Stream, port: number): Promise<PassOutput> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  let consumer: Consumer;
  if (c.attach !== undefined) {
    consumer = c.attach(socket, stream.eventNames);
  } else {
    const own = c.create(stream.eventNames);
    socket.on('data', (chunk: Buffer) => own.push(chunk));
    consumer = own;
  }
  await new Promise<void>((resolve, reject) => {
    socket.once('close', () => resolve());
    socket.once('error', reject);
  });
  socket.destroy();
  const out = consumer.output();
  if (out.items !== stream.events) throw new Error(`${c.name} over loopback: saw ${out.items} of ${stream.events} events`);
  return out;
}

function describe(stream: Stream): string {
  return `${stream.label}: ${stream.events.toLocaleString('en-US')} events, ${(stream.data.length / 1024 / 1024).toFixed(1)} MB`;
}

export async function run(options: SuiteOptions): Promise<boolean> {
  // Sized so that one pass of the slowest peer takes about a second (the run stays well under a
  // minute); the fast contenders simply run more passes.
  const scale = options.quick ? 0.2 : 1;
  const streams = [
    capturedPlainStream(Math.max(1, Math.round(25 * scale)), CHUNK),
    generatedChannelStream(Math.max(200, Math.round(3_000 * scale)), CHUNK),
  ];
  const secondsPerRound = options.quick ? 0.1 : 0.3;
  let ok = true;

  for (const stream of streams) {
    const rows = await measureInterleaved(
      contenders.map((c) => ({ name: c.name, pass: () => inProcessPass(c, stream) })),
      { rounds: 5, secondsPerRound, bytesPerPass: stream.data.length },
    );
    ok = printTable(`In process, 64 KiB chunks — ${describe(stream)}`, rows, RATIOS) && ok;
  }

  if (!options.noSocket) {
    for (const stream of streams) {
      const server = await startReplayServer(stream);
      try {
        const rows = await measureInterleaved(
          contenders.map((c) => ({ name: c.name, pass: () => socketPass(c, stream, server.port) })),
          // A loopback pass also measures the kernel and the TCP window, which take a few passes
          // to settle and shift with the machine's state: more warm-up and more, shorter rounds,
          // and no forced collection between them (see `collect`; memory is measured in process).
          {
            rounds: options.quick ? 3 : 9,
            warmup: 3,
            collect: false,
            secondsPerRound: secondsPerRound / 2,
            maxPassesPerRound: 2,
            bytesPerPass: stream.data.length,
          },
        );
        ok = printTable(`Over loopback TCP (replay server in a worker thread) — ${describe(stream)}`, rows, RATIOS) && ok;
      } finally {
        await server.stop();
      }
    }
  }
  return ok;
}
