/**
 * The event consumers being compared. Each one reads the same byte stream and, for every event,
 * reads Event-Name and Unique-ID. Each can be fed in process (chunks pushed by hand, as a socket
 * would hand them over) or from a real socket.
 *
 *  - bare framing: the floor no parser can beat. It only finds frame boundaries (scan for the
 *    blank line, read Content-Length, skip the body) and reads no header values.
 *  - freeswitch-esl: Parser + EslEvent (lazy lookups on plain events).
 *  - esl 11.2.1: FreeSwitchResponse, the object its client and server wrap around a socket; its
 *    parser is not exported, so it is fed through a socket-like EventEmitter (or a real socket).
 *  - modesl 1.2.1: its Parser, which takes any EventEmitter that emits 'data'.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { FreeSwitchResponse } from 'esl';
import { EslEvent, Parser } from '../src/protocol/index.js';
import type { PassOutput } from './harness.js';

/** Receives bytes; counts events and a checksum of what it read. */
export interface Consumer {
  push(chunk: Buffer): void;
  readonly events: number;
  output(): PassOutput;
}

export interface Contender {
  name: string;
  /** A consumer fed by hand. `eventNames` lists the Event-Name values present. */
  create(eventNames: readonly string[]): Consumer;
  /** A consumer reading a connected socket (defaults to pushing its 'data' chunks). */
  attach?(socket: Socket, eventNames: readonly string[]): Consumer;
}

function checksum(events: number, sum: number): PassOutput {
  return { items: events, check: `${events} events, ${sum} chars` };
}

const LF = 0x0a;
const LFLF = Buffer.from('\n\n');
const CONTENT_LENGTH = Buffer.from('Content-Length: ');

/**
 * Frame boundaries only: find "\n\n", read Content-Length, skip that many bytes. Keeps no header
 * or body bytes; a header block cut by a chunk boundary is joined with the start of the next chunk.
 */
class BareFramer implements Consumer {
  events = 0;
  private skip = 0;
  private head: Buffer | undefined;

  push(input: Buffer): void {
    let chunk = input;
    let pos = 0;
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      pos = n;
      if (this.skip > 0) return;
    }
    if (this.head !== undefined) {
      // Join the partial block with just enough of this chunk to finish it.
      const head = this.head;
      this.head = undefined;
      let upto = Math.min(chunk.length, pos + 4096);
      let joined = Buffer.concat([head, chunk.subarray(pos, upto)]);
      if (joined.indexOf(LFLF) === -1 && upto < chunk.length) {
        upto = chunk.length;
        joined = Buffer.concat([head, chunk.subarray(pos)]);
      }
      const after = this.frame(joined, 0);
      if (after === -1) {
        this.head = joined;
        return;
      }
      // `after` is an offset in `joined`; map it back into `chunk`.
      pos = pos + (after - head.length);
      if (pos >= chunk.length) {
        this.skip = pos - chunk.length;
        return;
      }
    }
    while (pos < chunk.length) {
      const after = this.frame(chunk, pos);
      if (after === -1) {
        this.head = chunk.subarray(pos);
        return;
      }
      pos = after;
    }
    if (pos > chunk.length) this.skip = pos - chunk.length;
  }

  /** Counts the frame starting at `pos`; returns the offset just past it (maybe past the end). */
  private frame(buf: Buffer, pos: number): number {
    // Stray line breaks between frames.
    while (buf[pos] === LF) pos++;
    const blank = buf.indexOf(LFLF, pos);
    if (blank === -1) return -1;
    let len = 0;
    const cl = buf.indexOf(CONTENT_LENGTH, pos);
    if (cl !== -1 && cl < blank) {
      let i = cl + CONTENT_LENGTH.length;
      for (let c = buf[i]!; c >= 0x30 && c <= 0x39; c = buf[++i]!) len = len * 10 + c - 0x30;
    }
    this.events++;
    return blank + 2 + len;
  }

  output(): PassOutput {
    return { items: this.events, check: '' };
  }
}

class Ours implements Consumer {
  events = 0;
  private sum = 0;
  private readonly parser = new Parser((frame) => {
    const ev = EslEvent.fromFrame(frame);
    if (ev === undefined) return;
    this.events++;
    this.sum += ev.name.length + (ev.uniqueId?.length ?? 0);
  });

  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  output(): PassOutput {
    return checksum(this.events, this.sum);
  }
}

/** Enough of a net.Socket for FreeSwitchResponse's constructor. */
class FakeSocket extends EventEmitter {
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  end(): this {
    return this;
  }
  write(): boolean {
    return true;
  }
}

const quiet = { debug() {}, info() {}, error() {} };

interface EslMessage {
  body: Record<string, string | undefined>;
}

class EslPeer implements Consumer {
  events = 0;
  private sum = 0;
  private readonly socket: EventEmitter | undefined;

  constructor(eventNames: readonly string[], socket?: Socket) {
    const fake = socket === undefined ? new FakeSocket() : undefined;
    this.socket = fake;
    const res = new FreeSwitchResponse((socket ?? fake) as unknown as Socket, quiet);
    const onEvent = (msg: EslMessage): void => {
      this.events++;
      this.sum += (msg.body['Event-Name']?.length ?? 0) + (msg.body['Unique-ID']?.length ?? 0);
    };
    const on = res.on.bind(res) as unknown as (name: string, handler: (msg: EslMessage) => void) => void;
    for (const name of eventNames) on(name, onEvent);
  }

  push(chunk: Buffer): void {
    this.socket!.emit('data', chunk);
  }

  output(): PassOutput {
    return checksum(this.events, this.sum);
  }
}

interface ModeslEvent {
  getHeader(name: string): string | null;
}
type ModeslParserCtor = new (socket: EventEmitter) => EventEmitter;

const require = createRequire(import.meta.url);
let modeslParser: ModeslParserCtor | undefined;

class ModeslPeer implements Consumer {
  events = 0;
  private sum = 0;
  private readonly socket: EventEmitter | undefined;

  constructor(socket?: Socket) {
    modeslParser ??= require('modesl/lib/esl/Parser') as ModeslParserCtor;
    const fake = socket === undefined ? new EventEmitter() : undefined;
    this.socket = fake;
    const parser = new modeslParser((socket ?? fake)!);
    parser.on('esl::event', (ev: ModeslEvent) => {
      this.events++;
      this.sum += (ev.getHeader('Event-Name')?.length ?? 0) + (ev.getHeader('Unique-ID')?.length ?? 0);
    });
  }

  push(chunk: Buffer): void {
    this.socket!.emit('data', chunk);
  }

  output(): PassOutput {
    return checksum(this.events, this.sum);
  }
}

export const BARE = 'bare framing';
export const OURS = 'freeswitch-esl';
export const ESL = 'esl 11.2.1';
export const MODESL = 'modesl 1.2.1';

export const contenders: Contender[] = [
  { name: BARE, create: () => new BareFramer() },
  { name: OURS, create: () => new Ours() },
  {
    name: ESL,
    create: (names) => new EslPeer(names),
    attach: (socket, names) => {
      const peer = new EslPeer(names, socket);
      return peer;
    },
  },
  {
    name: MODESL,
    create: () => new ModeslPeer(),
    attach: (socket) => new ModeslPeer(socket),
  },
];
