/**
 * Raw-socket helpers for the simulator tests: a plain node:net socket plus the protocol core's
 * Parser, so the simulator is checked without any client library.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { EslEvent, type Frame, Parser } from '../../src/protocol/index.js';
import { Simulator, type SimulatorOptions } from '../../src/testing/index.js';

/** A raw ESL connection: write bytes, await frames in order. */
export class Wire {
  readonly frames: Frame[] = [];
  private readonly waiters: Array<() => void> = [];
  private ended = false;
  private readonly endedPromise: Promise<void>;
  raw = Buffer.alloc(0);

  constructor(readonly socket: net.Socket) {
    const parser = new Parser((f) => {
      this.frames.push(f);
      this.notify();
    });
    socket.on('data', (d: Buffer) => {
      this.raw = Buffer.concat([this.raw, d]);
      parser.push(d);
    });
    this.endedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        this.notify();
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => resolve(new Wire(s)));
      s.once('error', reject);
    });
  }

  /** Connects to the simulator and authenticates; returns after the `+OK accepted` reply. */
  static async login(sim: Simulator, password = 'ClueCon'): Promise<Wire> {
    const w = await Wire.connect(sim.port);
    await w.next((f) => f.contentType === 'auth/request');
    const reply = await w.command(`auth ${password}`);
    assert.equal(reply.get('Reply-Text'), '+OK accepted');
    return w;
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  get closed(): boolean {
    return this.ended;
  }

  waitClosed(timeoutMs = 3000): Promise<void> {
    return withTimeout(this.endedPromise, timeoutMs, 'socket close');
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  private cursor = 0;

  /** Next frame (after the ones already consumed) that matches; frames skipped over stay readable via `frames`. */
  async next(match: (f: Frame) => boolean = () => true, timeoutMs = 3000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const f = this.frames[this.cursor++]!;
        if (match(f)) return f;
      }
      if (this.ended) throw new Error('connection closed while waiting for a frame');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await withTimeout(new Promise<void>((r) => this.waiters.push(r)), left, 'frame').catch(() => undefined);
    }
  }

  /** Sends a command (adds the blank line) and returns the next command/reply or api/response. */
  async command(text: string, timeoutMs = 3000): Promise<Frame> {
    this.send(text.endsWith('\n\n') ? text : `${text}\n\n`);
    return this.reply(timeoutMs);
  }

  reply(timeoutMs = 3000): Promise<Frame> {
    return this.next((f) => f.contentType === 'command/reply' || f.contentType === 'api/response', timeoutMs);
  }

  private eventCursor = 0;

  /**
   * The next event (in arrival order, with its own cursor independent of `next`/`reply`) that
   * matches; events skipped over are not returned again.
   */
  async event(match: (e: EslEvent) => boolean = () => true, timeoutMs = 3000): Promise<EslEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.eventCursor < this.frames.length) {
        const ev = EslEvent.fromFrame(this.frames[this.eventCursor++]!);
        if (ev !== undefined && match(ev)) return ev;
      }
      if (this.ended) throw new Error('connection closed while waiting for an event');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for an event');
      await withTimeout(new Promise<void>((r) => this.waiters.push(r)), left, 'event').catch(() => undefined);
    }
  }

  /** Waits until `cond` holds (checked whenever a frame arrives). */
  async until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.ended) throw new Error('connection closed while waiting');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a condition');
      await withTimeout(new Promise<void>((r) => this.waiters.push(r)), left, 'condition').catch(() => undefined);
    }
  }

  /** Waits until `n` events matching `match` have arrived in total. */
  async count(match: (e: EslEvent) => boolean, n: number, timeoutMs = 3000): Promise<void> {
    await this.until(() => this.events().filter(match).length >= n, timeoutMs);
  }

  /** Every event frame received so far, decoded. */
  events(): EslEvent[] {
    return this.frames.map((f) => EslEvent.fromFrame(f)).filter((e): e is EslEvent => e !== undefined);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** An outbound-socket test server: accepts the simulator's `socket` connections. */
export class OutboundServer {
  readonly connections: Wire[] = [];
  private readonly waiters: Array<() => void> = [];

  private constructor(readonly server: net.Server) {
    server.on('connection', (s) => {
      this.connections.push(new Wire(s));
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async start(): Promise<OutboundServer> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new OutboundServer(server);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async accept(timeoutMs = 3000): Promise<Wire> {
    const deadline = Date.now() + timeoutMs;
    const index = this.taken++;
    while (this.connections.length <= index) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no outbound connection');
      await withTimeout(new Promise<void>((r) => this.waiters.push(r)), left, 'outbound connection').catch(() => undefined);
    }
    return this.connections[index]!;
  }

  private taken = 0;

  async stop(): Promise<void> {
    for (const c of this.connections) c.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]);
}

/** Polls `cond` every few ms until it holds. */
export async function until(cond: () => boolean, timeoutMs = 3000, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts a simulator and stops it when the test ends. */
export async function startSim(t: { after: (fn: () => Promise<void> | void) => void }, options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await Simulator.start(options);
  t.after(() => sim.stop());
  return sim;
}
