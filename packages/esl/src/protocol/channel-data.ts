/** The channel data of an outbound `connect` reply, held compactly: header names shared between calls, each call's values in one string. */
import { asciiLower, decodePlainString } from './event.js';

/**
 * The header names of one connect reply, in wire order, with their lookup tables. Calls routed
 * through the same dialplan list the same names in the same order, and the names are two thirds
 * of the block (2.2 of the 3.4 KiB of the captured reply), so one shape serves every such call.
 */
class HeaderShape {
  readonly names: readonly string[];
  /** First index of each name as spelled. */
  private readonly exact = new Map<string, number>();
  /** First index of each name folded to ASCII lower case; built on the first miss of `exact`. */
  private folded: Map<string, number> | undefined;

  constructor(names: readonly string[]) {
    this.names = names;
    for (let i = 0; i < names.length; i++) if (!this.exact.has(names[i]!)) this.exact.set(names[i]!, i);
  }

  /** Index of the header `name` resolves to: the first spelled exactly so, else the first in any case (strcasecmp). */
  indexOf(name: string): number | undefined {
    const i = this.exact.get(name);
    if (i !== undefined) return i;
    if (this.folded === undefined) {
      this.folded = new Map();
      for (let k = 0; k < this.names.length; k++) {
        const key = asciiLower(this.names[k]!);
        if (!this.folded.has(key)) this.folded.set(key, k);
      }
    }
    return this.folded.get(asciiLower(name));
  }
}

/** Shapes seen lately, by their names joined with LF (a name never holds one). */
const shapes = new Map<string, HeaderShape>();
/** Enough for every dialplan route of a busy server; a new shape beyond it evicts the oldest. */
const MAX_SHAPES = 64;

/** The shape used last: consecutive calls nearly always share it, and comparing names costs less than hashing them. */
let lastShape: HeaderShape | undefined;

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function shapeOf(names: string[]): HeaderShape {
  if (lastShape !== undefined && sameNames(lastShape.names, names)) return lastShape;
  lastShape = keyedShape(names);
  return lastShape;
}

function keyedShape(names: string[]): HeaderShape {
  const key = names.join('\n');
  let shape = shapes.get(key);
  if (shape === undefined) {
    if (shapes.size >= MAX_SHAPES) shapes.delete(shapes.keys().next().value!);
    shape = new HeaderShape(names);
    shapes.set(key, shape);
  }
  return shape;
}

/**
 * The header block of a `connect` reply: a serialized CHANNEL_DATA event whose values are
 * URL-encoded (mod_event_socket.c, parse_command, "connect": switch_event_serialize of the
 * channel's event). An idle call session holds this for its whole life, so it keeps only a
 * shared HeaderShape and the still-encoded values joined with LF (a value never holds one);
 * a value is decoded when it is asked for, as a plain event's is.
 */
export class ChannelData {
  private readonly shape: HeaderShape;
  private readonly values: string;

  private constructor(shape: HeaderShape, values: string) {
    this.shape = shape;
    this.values = values;
  }

  /** From the header pairs of the reply frame, values as sent (URL-encoded). */
  static fromEncoded(headers: ReadonlyArray<readonly [string, string]>): ChannelData {
    const names: string[] = new Array(headers.length);
    const values: string[] = new Array(headers.length);
    for (let i = 0; i < headers.length; i++) {
      names[i] = headers[i]![0];
      values[i] = headers[i]![1];
    }
    return new ChannelData(shapeOf(names), values.join('\n'));
  }

  /** Number of header lines. */
  get size(): number {
    return this.shape.names.length;
  }

  /** Decoded value of a header; names match case-insensitively, the first exact spelling winning. */
  get(name: string): string | undefined {
    const i = this.shape.indexOf(name);
    return i === undefined ? undefined : decodePlainString(this.encodedAt(i));
  }

  /** Every header, decoded, in wire order (duplicates included). */
  *headers(): IterableIterator<[string, string]> {
    const names = this.shape.names;
    let start = 0;
    for (let i = 0; i < names.length; i++) {
      let end = this.values.indexOf('\n', start);
      if (end === -1) end = this.values.length;
      yield [names[i]!, decodePlainString(this.values.slice(start, end))];
      start = end + 1;
    }
  }

  private encodedAt(index: number): string {
    let start = 0;
    for (let k = 0; k < index; k++) start = this.values.indexOf('\n', start) + 1;
    const end = this.values.indexOf('\n', start);
    return this.values.slice(start, end === -1 ? this.values.length : end);
  }
}
