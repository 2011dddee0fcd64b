/**
 * Inbound client benchmarks: freeswitch-esl's `connect()` client against esl 11.2.1's
 * FreeSwitchClient and modesl 1.2.1's Connection, each on the same loopback server in the same run.
 *
 *  1. Pipelined `api` round trips per second: a batch of calls issued at once, every reply checked
 *     (the server answers each `api` with one fixed api/response).
 *  2. End-to-end events per second: connect, authenticate, subscribe to ALL, and receive a replayed
 *     stream of real FreeSWITCH events (reading Event-Name and Unique-ID of each), then close.
 *
 * The server (bench/client-server.ts) runs in a worker thread so its work is not on the measured
 * event loop. Each table's "events/s" column is calls/s for the api table.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { FreeSwitchClient, type FreeSwitchResponse } from 'esl';
import { connect } from '../src/inbound/client.js';
import { ESL, MODESL, OURS } from './contenders.js';
import { measureAsync, printTable, type PassOutput, type Result } from './harness.js';
import type { SuiteOptions } from './run.js';
import { capturedPlainStream, generatedChannelStream, type Stream } from './streams.js';

const CHUNK = 64 * 1024;
const API_BODY = '+OK [Success]\n';
const RATIOS: Array<[string, string]> = [
  [OURS, ESL],
  [OURS, MODESL],
];

/** One contender's connected client, reduced to what the benchmarks need. */
export interface Driver {
  /** Sends `n` pipelined `api status` and resolves with how many replies had the expected body. */
  api(n: number): Promise<number>;
  close(): Promise<void>;
}

export interface ClientContender {
  name: string;
  open(port: number): Promise<Driver>;
  /** Connects, subscribes to ALL, resolves after `count` events (reading two headers of each), closes. */
  receive(port: number, count: number, eventNames: readonly string[]): Promise<PassOutput>;
}

const silentLogger = { debug: () => undefined, info: () => undefined, error: () => undefined };

// modesl is CommonJS without types: the small part used here.
interface ModeslEvent {
  getHeader(name: string): string | null;
  getBody(): string;
}
interface ModeslConnection {
  api(command: string, cb: (ev: ModeslEvent) => void): void;
  events(format: string, names: string, cb?: () => void): void;
  on(name: string, listener: (ev: ModeslEvent) => void): void;
  on(name: 'error', listener: (err: Error) => void): void;
  disconnect(): void;
}
type ModeslConnectionCtor = new (host: string, port: number, password: string, ready: () => void) => ModeslConnection;
const require = createRequire(import.meta.url);
const modesl = require('modesl') as { Connection: ModeslConnectionCtor };

function modeslConnect(port: number): Promise<ModeslConnection> {
  return new Promise((resolve) => {
    const conn: ModeslConnection = new modesl.Connection('127.0.0.1', port, 'ClueCon', () => resolve(conn));
    // Its emitter throws on an unheard 'error' (e.g. ECONNRESET when the server stops).
    conn.on('error', () => undefined);
  });
}

function eslConnect(port: number): Promise<{ client: FreeSwitchClient; call: FreeSwitchResponse }> {
  return new Promise((resolve, reject) => {
    const client = new FreeSwitchClient({ host: '127.0.0.1', port, logger: silentLogger });
    client.once('connect', (call) => resolve({ client, call }));
    client.once('error', reject);
    client.connect();
  });
}

const ours: ClientContender = {
  name: OURS,
  async open(port) {
    const c = await connect({ host: '127.0.0.1', port });
    return {
      async api(n) {
        const calls: Array<Promise<string>> = new Array(n);
        for (let i = 0; i < n; i++) calls[i] = c.api('status');
        let ok = 0;
        for (const body of await Promise.all(calls)) if (body === API_BODY) ok++;
        return ok;
      },
      close: () => c.close(),
    };
  },
  async receive(port, count) {
    const c = await connect({ host: '127.0.0.1', port });
    let seen = 0;
    let chars = 0;
    const done = new Promise<void>((resolve) => {
      c.on('event', (ev) => {
        chars += ev.name.length + (ev.get('Unique-ID')?.length ?? 0);
        if (++seen === count) resolve();
      });
    });
    await c.subscribe('ALL');
    await done;
    c.destroy();
    return { items: seen, check: `${seen} events, ${chars} chars` };
  },
};

const esl: ClientContender = {
  name: ESL,
  async open(port) {
    const { client, call } = await eslConnect(port);
    return {
      async api(n) {
        const calls: Array<Promise<{ body: string }>> = new Array(n);
        for (let i = 0; i < n; i++) calls[i] = call.api('status');
        let ok = 0;
        for (const r of await Promise.all(calls)) if (r.body === API_BODY) ok++;
        return ok;
      },
      async close() {
        client.end();
      },
    };
  },
  async receive(port, count, eventNames) {
    const { client, call } = await eslConnect(port);
    let seen = 0;
    let chars = 0;
    const done = new Promise<void>((resolve) => {
      // esl emits each event under its Event-Name only.
      for (const name of eventNames) {
        call.on(name as never, ((msg: { body: Record<string, string | undefined> }) => {
          chars += (msg.body['Event-Name']?.length ?? 0) + (msg.body['Unique-ID']?.length ?? 0);
          if (++seen === count) resolve();
        }) as never);
      }
    });
    await call.event_json('ALL');
    await done;
    client.end();
    return { items: seen, check: `${seen} events, ${chars} chars` };
  },
};

const modeslContender: ClientContender = {
  name: MODESL,
  async open(port) {
    const conn = await modeslConnect(port);
    return {
      api(n) {
        return new Promise((resolve) => {
          let ok = 0;
          let answered = 0;
          for (let i = 0; i < n; i++) {
            conn.api('status', (ev) => {
              if (ev.getBody() === API_BODY) ok++;
              if (++answered === n) resolve(ok);
            });
          }
        });
      },
      async close() {
        conn.disconnect();
      },
    };
  },
  async receive(port, count) {
    const conn = await modeslConnect(port);
    let seen = 0;
    let chars = 0;
    const done = new Promise<void>((resolve) => {
      // modesl emits 'esl::event::<Event-Name>[::<uuid>]' on a wildcard emitter.
      conn.on('esl::event::**', (ev) => {
        const name = ev.getHeader('Event-Name'); // null for command replies
        if (name === null) return;
        chars += name.length + (ev.getHeader('Unique-ID')?.length ?? 0);
        if (++seen === count) resolve();
      });
    });
    conn.events('plain', 'all');
    await done;
    conn.disconnect();
    return { items: seen, check: `${seen} events, ${chars} chars` };
  },
};

export const contenders: ClientContender[] = [ours, esl, modeslContender];

async function startServer(events: Buffer): Promise<{ port: number; stop: () => Promise<void> }> {
  const worker = new Worker(new URL('./client-server.js', import.meta.url), {
    workerData: { events, chunkSize: CHUNK },
  });
  const [msg] = (await once(worker, 'message')) as [{ port: number }];
  return {
    port: msg.port,
    stop: async () => {
      await worker.terminate();
    },
  };
}

function describeStream(stream: Stream): string {
  return `${stream.label}: ${stream.events.toLocaleString('en-US')} events, ${(stream.data.length / 1024 / 1024).toFixed(1)} MB`;
}

export async function run(options: SuiteOptions): Promise<boolean> {
  if (options.noSocket) {
    console.log('client: needs loopback TCP; skipped (--no-socket)');
    return true;
  }
  const minSeconds = options.quick ? 0.3 : 1.5;
  const batch = options.quick ? 5_000 : 20_000;
  let ok = true;

  // 1. Pipelined api round trips.
  const apiServer = await startServer(Buffer.alloc(0));
  try {
    const rows: Result[] = [];
    for (const c of contenders) {
      const driver = await c.open(apiServer.port);
      try {
        rows.push(
          await measureAsync(
            c.name,
            async () => {
              const good = await driver.api(batch);
              if (good !== batch) throw new Error(`${c.name}: ${good} of ${batch} api replies were right`);
              return { items: batch, check: `${batch} replies` };
            },
            { minSeconds, maxPasses: 50, bytesPerPass: 0 },
          ),
        );
      } finally {
        await driver.close();
      }
    }
    ok = printTable(`Pipelined api round trips over loopback (batches of ${batch.toLocaleString('en-US')}; events/s = calls/s)`, rows, RATIOS) && ok;
  } finally {
    await apiServer.stop();
  }

  // 2. End-to-end events from a replay server.
  const scale = options.quick ? 0.2 : 1;
  const streams = [
    capturedPlainStream(Math.max(2, Math.round(100 * scale)), CHUNK),
    generatedChannelStream(Math.max(500, Math.round(10_000 * scale)), CHUNK),
  ];
  for (const stream of streams) {
    const server = await startServer(stream.data);
    try {
      const rows: Result[] = [];
      for (const c of contenders) {
        rows.push(
          await measureAsync(c.name, () => c.receive(server.port, stream.events, stream.eventNames), {
            minSeconds: minSeconds / 2,
            maxPasses: 5,
            bytesPerPass: stream.data.length,
          }),
        );
      }
      ok = printTable(`End-to-end events (connect, auth, subscribe ALL, receive) — ${describeStream(stream)}`, rows, RATIOS) && ok;
    } finally {
      await server.stop();
    }
  }
  return ok;
}
