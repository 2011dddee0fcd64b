/**
 * Small byte helpers for the hot paths of framing and event lookups. Each one does what a
 * public Buffer method does, minus argument handling that costs more than the work itself on
 * short ranges (a view through `subarray` costs about twice a direct construction;
 * `toString(encoding, start, end)` adds a dispatch on the encoding name).
 */

type ViewConstructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;

// Node's own Buffer class (FastBuffer) is what Buffer's species getter hands to subarray().
const species = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species];
const ViewOf: ViewConstructor | undefined =
  typeof species === 'function' && species !== Buffer && Buffer.isBuffer(new (species as ViewConstructor)(new ArrayBuffer(1), 0, 1))
    ? (species as ViewConstructor)
    : undefined;

/**
 * A Buffer over `length` bytes of `arrayBuffer` from `byteOffset` (what `Buffer.from(arrayBuffer,
 * byteOffset, length)` returns). Callers that cut many views from one chunk read its `buffer`
 * and `byteOffset` once: each read of `buffer` is a call into V8.
 */
export const viewOf: (arrayBuffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer =
  ViewOf === undefined
    ? (arrayBuffer, byteOffset, length) => Buffer.from(arrayBuffer as ArrayBuffer, byteOffset, length)
    : (arrayBuffer, byteOffset, length) => new ViewOf(arrayBuffer, byteOffset, length);

/** A Buffer sharing the bytes [start, end) of `buf` (what `buf.subarray(start, end)` returns). */
export function view(buf: Buffer, start: number, end: number): Buffer {
  return viewOf(buf.buffer, buf.byteOffset + start, end - start);
}

/** Bytes [start, end) decoded as UTF-8 (malformed sequences become U+FFFD). */
export function utf8(buf: Buffer, start: number, end: number): string {
  return buf.toString('utf8', start, end);
}

/** An ASCII constant together with its bytes, to be recognised in a buffer without decoding. */
export interface Word {
  readonly text: string;
  readonly bytes: Uint8Array;
}

export function word(text: string): Word {
  return { text, bytes: new Uint8Array(Buffer.from(text, 'latin1')) };
}

/**
 * Whether the bytes of `buf` from `start` are those of `w`. Compares bytes with bytes: reading
 * the characters of the string instead costs about half as much again.
 */
export function spells(buf: Buffer, start: number, w: Word): boolean {
  const bytes = w.bytes;
  const n = bytes.length;
  if (start + n > buf.length) return false;
  for (let i = 0; i < n; i++) if (buf[start + i] !== bytes[i]) return false;
  return true;
}
