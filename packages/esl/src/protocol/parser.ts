import { EslParseError } from '../errors.js';
import { spells, utf8, view, viewOf, word, type Word } from './bytes.js';
import { Frame, appendHeaderLines, contentPairs, parseHeaderLines } from './frame.js';

export interface ParserOptions {
  /**
   * Largest header block accepted, in bytes. FreeSWITCH's own client reads at most 64 KiB of
   * headers; the outbound `connect` reply (the largest block it sends) is typically 5–30 KiB.
   */
  maxHeaderBytes?: number;
  /**
   * Largest body accepted, in bytes. FreeSWITCH puts no cap on event or api bodies, so the
   * default is generous; it exists to stop a runaway peer from eating all memory.
   */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_HEADER_BYTES = 1024 * 1024;
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024;

/**
 * Bodies of a few KiB that span chunks (most events) are carved from a slab shared by every
 * parser in the thread, as Node pools small Buffers, rather than each getting an ArrayBuffer of
 * its own, which costs an allocation and adds to V8's external-memory accounting, so to garbage
 * collections. Shared, not per parser: 10,000 idle connections must not hold 10,000 slabs. A body
 * that is kept keeps its slab alive, as a body cut from a socket chunk keeps that chunk.
 */
const SLAB_BYTES = 64 * 1024;
const SLAB_MAX_BODY_BYTES = 16 * 1024;
/** A larger body that spans chunks is received in blocks of this size (see consumeBody). */
const BODY_BLOCK_BYTES = 64 * 1024;
let slab: Buffer | undefined;
let slabUsed = 0;

function carveBody(size: number): Buffer {
  if (slab === undefined || slabUsed + size > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const start = slabUsed;
  slabUsed = (start + size + 7) & ~7;
  return view(slab, start, start + size);
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const COLON = 0x3a;

/** Outer header names FreeSWITCH sends: matched with their ':' in the bytes, never decoded. */
const NAMES_BY_FIRST_BYTE = byFirstByte([
  'Content-Type', 'Content-Length', 'Reply-Text', 'Job-UUID', 'Content-Disposition',
  'Controlled-Session-UUID', 'Socket-Mode', 'Control', 'Channel-Unique-ID', 'Linger',
]);

/** Content-Type values FreeSWITCH sends (mod_event_socket.c), matched the same way. */
const TYPES_BY_FIRST_BYTE = byFirstByte([
  'text/event-plain', 'text/event-json', 'text/event-xml', 'api/response', 'command/reply',
  'auth/request', 'log/data', 'text/disconnect-notice', 'text/rude-rejection',
]);

function byFirstByte(texts: string[]): Word[][] {
  const table: Word[][] = [];
  for (const t of texts) (table[t.charCodeAt(0)] ??= []).push(word(t));
  return table;
}

/**
 * The entry of `table` spelled at `start` and followed by the byte `after` (a name's ':', a
 * content type's LF), looking at bytes before `end` only; undefined when none is.
 */
function known(table: Word[][], buf: Buffer, start: number, end: number, after: number): string | undefined {
  const candidates = table[buf[start]!];
  if (candidates === undefined) return undefined;
  for (let k = 0; k < candidates.length; k++) {
    const w = candidates[k]!;
    const n = w.bytes.length;
    if (start + n < end && buf[start + n] === after && spells(buf, start, w)) return w.text;
  }
  return undefined;
}

const enum State {
  Headers,
  Body,
  Failed,
}

/**
 * Socket-free ESL frame parser: push Buffers of any size, get complete frames through `onFrame`.
 *
 * Linear by construction: every byte is examined once while looking for the blank line that ends
 * a header block (the search state survives chunk boundaries), header pieces are joined once when
 * the block is complete, and a body is either a zero-copy view of the chunk that holds it or
 * joined once into a buffer of exactly Content-Length bytes. Memory grows with the bytes that
 * arrive, never with what Content-Length announces: a peer that announces 256 MiB and sends
 * 10 bytes holds 10 bytes. Body contents are never scanned here;
 * decoding happens later, and only for what is read. A block that lies whole in one chunk (nearly
 * every block) is split into headers in the same pass that finds its end (readBlock); the outer
 * names and content types FreeSWITCH sends become shared constants, not decoded strings. A block
 * with other headers (the connect reply's channel data) is split in one decoded string instead.
 *
 * On bad input `push` throws an EslParseError and the parser stays failed: every later push
 * throws the same error, so a caller that forgets to stop feeding cannot resynchronise on garbage.
 */
export class Parser {
  private readonly onFrame: (frame: Frame) => void;
  private readonly maxHeaderBytes: number;
  private readonly maxBodyBytes: number;

  private state: State = State.Headers;
  private error: EslParseError | undefined;

  // Header block being collected.
  /** Pieces of a header block that spans chunks (allocated when one first does). */
  private headerParts: Buffer[] | undefined;
  private headerBytes = 0;
  /** Bytes in the current line so far (across chunks); 0 means we are at a line start. */
  private lineBytes = 0;
  /** True if the current line so far is exactly "\r" (a CRLF blank line in progress). */
  private lineIsCR = false;

  // Body being collected.
  /** Headers of the frame whose body is being collected; undefined for a bare frame (below). */
  private pendingHeaders: Array<[string, string]> | undefined;
  private pendingType: string | undefined;
  private pendingLengthFirst = false;
  /** The block of a body that spans chunks being filled (all of a small body; see consumeBody). */
  private body: Buffer | undefined;
  private bodyFilled = 0;
  /** The full blocks of a large body received so far. */
  private bodyParts: Buffer[] | undefined;
  /** Bytes of the body still to come. */
  private bodyRemaining = 0;
  /** The ArrayBuffer of the chunk being consumed (read once per push: each read calls into V8). */
  private chunkBuffer: ArrayBufferLike | undefined;

  constructor(onFrame: (frame: Frame) => void, options: ParserOptions = {}) {
    this.onFrame = onFrame;
    this.maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** True when no partial frame is buffered (a clean point to close the stream). */
  get idle(): boolean {
    return this.state === State.Headers && this.headerBytes === 0;
  }

  push(chunk: Buffer): void {
    if (this.state === State.Failed) throw this.error!;
    try {
      this.consume(chunk);
    } catch (err) {
      this.state = State.Failed;
      this.error = err instanceof EslParseError ? err : new EslParseError(String(err));
      this.headerParts = undefined;
      this.body = undefined;
      this.bodyParts = undefined;
      throw this.error;
    } finally {
      // Not kept past this push: an idle connection must not pin its last socket chunk.
      this.chunkBuffer = undefined;
    }
  }

  /** Discards any partial frame and clears a failure, e.g. before reusing the parser on a new socket. */
  reset(): void {
    this.state = State.Headers;
    this.error = undefined;
    this.headerParts = undefined;
    this.headerBytes = 0;
    this.lineBytes = 0;
    this.lineIsCR = false;
    this.body = undefined;
    this.bodyParts = undefined;
    this.bodyFilled = 0;
    this.bodyRemaining = 0;
    this.pendingHeaders = undefined;
    this.pendingType = undefined;
    this.chunkBuffer = undefined;
  }

  private consume(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      if (this.state === State.Body) {
        pos = this.consumeBody(chunk, pos);
        continue;
      }
      if (this.headerBytes === 0) {
        // Skip stray line breaks between frames (never sent by FreeSWITCH, harmless to accept).
        while (pos < len && (chunk[pos] === LF || chunk[pos] === CR)) pos++;
        if (pos === len) return;
        pos = this.readBlock(chunk, pos);
        continue;
      }
      pos = this.scanHeaderLines(chunk, pos);
    }
  }

  /**
   * Fast path for a header block that starts at `pos`: one pass over its bytes, in which the
   * usual outer names and content types are matched in the bytes instead of decoded and
   * Content-Length is read as a number. Returns the offset past the blank line, or the chunk's
   * length when the chunk ends first: the block is then handed to the general scanner with the
   * line state reached, so no byte is searched twice. From a header outside the usual few, the
   * rest of the block is read by readOtherHeaders, which also reports a malformed line.
   */
  private readBlock(chunk: Buffer, pos: number): number {
    const len = chunk.length;
    // While the block holds only a known Content-Type and a plain Content-Length (nearly every
    // frame), no header pairs are built: `headers` stays undefined and the frame is made bare.
    let headers: Array<[string, string]> | undefined;
    let type: string | undefined;
    let lengthFirst = false;
    let lengthBare = false;
    let contentLength = 0; // -1: finishHeaders looks it up
    let seenLength = false;
    let i = pos;
    for (;;) {
      if (i === len) return this.carryOver(chunk, pos, i);
      if (i - pos > this.maxHeaderBytes) throw headerTooLarge(this.maxHeaderBytes);
      const c = chunk[i]!;
      if (c === LF) {
        i += 1; // the blank line
        break;
      }
      if (c === CR) {
        if (i + 1 === len) return this.carryOver(chunk, pos, i);
        if (chunk[i + 1] === LF) {
          i += 2; // a CRLF blank line
          break;
        }
      }
      const name = known(NAMES_BY_FIRST_BYTE, chunk, i, len, COLON);
      if (name === undefined) {
        headers ??= contentPairs(type, lengthBare ? contentLength : -1, lengthFirst);
        return this.readOtherHeaders(chunk, pos, i, headers, seenLength ? contentLength : -1);
      }
      let value: string | undefined;
      let v = i + name.length + 1;
      let eol = -1;
      while (v < len && chunk[v] === SPACE) v++;
      let bare = false;
      if (name === 'Content-Type') {
        value = known(TYPES_BY_FIRST_BYTE, chunk, v, len, LF);
        if (value !== undefined) {
          eol = v + value.length;
          if (headers === undefined && type === undefined) {
            type = value;
            lengthFirst = lengthBare;
            bare = true;
          }
        }
      } else if (name.length === 14 && !seenLength) {
        // The first Content-Length counts. Anything unusual about it (another spelling of the
        // name, a value that is not plain digits) is left to finishHeaders' general lookup.
        seenLength = true;
        contentLength = -1;
        if (name === 'Content-Length') {
          let n = 0;
          let k = v;
          for (let d = chunk[k]! - 0x30; k < len && k - v < 15 && d >= 0 && d <= 9; d = chunk[++k]! - 0x30) n = n * 10 + d;
          if (k > v && chunk[k] === LF && (k - v === 1 || chunk[v] !== 0x30)) {
            contentLength = n;
            eol = k;
            if (headers === undefined) lengthBare = bare = true;
            else value = String(n);
          }
        }
      }
      if (eol === -1) {
        eol = chunk.indexOf(LF, v);
        if (eol === -1) return this.carryOver(chunk, pos, i);
      }
      if (!bare) {
        if (value === undefined) {
          const valueEnd = chunk[eol - 1] === CR && eol - 1 >= v ? eol - 1 : eol; // CRLF peers
          value = utf8(chunk, v, valueEnd);
        }
        headers ??= contentPairs(type, lengthBare ? contentLength : -1, lengthFirst); // what the block had so far
        headers.push([name, value]);
      }
      i = eol + 1;
    }
    if (i - pos > this.maxHeaderBytes) throw headerTooLarge(this.maxHeaderBytes);
    if (headers === undefined) this.finishBare(type, lengthBare ? contentLength : -1, lengthFirst);
    else if (contentLength === -1) this.finishHeaders(headers);
    else this.finishHeaders(headers, contentLength);
    return i;
  }

  /**
   * The rest of a block, from the line at `lineStart`, once it has a header outside the usual few:
   * such a block is nearly always the `connect` reply, a whole channel's data in a hundred lines
   * or more. Its end is found by a search of the bytes and its lines are split in one decoded
   * string (appendHeaderLines), which costs a third of decoding each name and value on its own.
   * `headers`: the pairs of the block's lines before `lineStart`; `contentLength`: the one read
   * among them (-1: none, finishHeaders looks it up). Returns the offset past the blank line.
   */
  private readOtherHeaders(chunk: Buffer, pos: number, lineStart: number, headers: Array<[string, string]>, contentLength: number): number {
    const end = blockEnd(chunk, lineStart);
    if (end === -1) return this.carryOver(chunk, pos, Math.max(lineStart, chunk.lastIndexOf(LF) + 1));
    if (end - pos > this.maxHeaderBytes) throw headerTooLarge(this.maxHeaderBytes);
    appendHeaderLines(headers, chunk, lineStart, end);
    this.finishHeaders(headers, contentLength);
    return end;
  }

  /**
   * Hands a header block that the end of `chunk` cut off to the general scanner: its bytes from
   * `pos` are kept, and the scan goes on with the next chunk from the line that starts at
   * `lineStart`. Returns the chunk's length (all of it is consumed).
   */
  private carryOver(chunk: Buffer, pos: number, lineStart: number): number {
    const len = chunk.length;
    this.headerBytes = len - pos;
    if (this.headerBytes > this.maxHeaderBytes) {
      throw headerTooLarge(this.maxHeaderBytes);
    }
    (this.headerParts ??= []).push(pos === 0 ? chunk : chunk.subarray(pos));
    this.lineBytes = len - lineStart;
    this.lineIsCR = this.lineBytes === 1 && chunk[lineStart] === CR;
    return len;
  }

  /**
   * The general case: a header block that started in an earlier chunk or does not end in this
   * one. Walks line by line from `pos`, carrying the line state across chunks, and keeps the
   * block's pieces until its blank line arrives; returns where the scan stopped.
   */
  private scanHeaderLines(chunk: Buffer, pos: number): number {
    const len = chunk.length;
    let scan = pos;
    let end = -1;
    while (scan < len) {
      const nl = chunk.indexOf(LF, scan);
      if (nl === -1) {
        const tail = len - scan;
        this.lineIsCR = this.lineBytes === 0 && tail === 1 && chunk[scan] === CR;
        this.lineBytes += tail;
        break;
      }
      const lineLen = this.lineBytes + (nl - scan);
      const blank = lineLen === 0 || (lineLen === 1 && (this.lineBytes === 1 ? this.lineIsCR : chunk[scan] === CR));
      this.lineBytes = 0;
      this.lineIsCR = false;
      scan = nl + 1;
      if (blank) {
        end = scan;
        break;
      }
    }
    if (end === -1) {
      this.headerBytes += len - pos;
      if (this.headerBytes > this.maxHeaderBytes) {
        throw headerTooLarge(this.maxHeaderBytes);
      }
      (this.headerParts ??= []).push(pos === 0 ? chunk : chunk.subarray(pos));
      return len;
    }
    const blockBytes = this.headerBytes + (end - pos);
    if (blockBytes > this.maxHeaderBytes) {
      throw headerTooLarge(this.maxHeaderBytes);
    }
    this.headerBytes = 0;
    let headers: Array<[string, string]>;
    const parts = this.headerParts;
    if (parts === undefined) {
      headers = parseHeaderLines(chunk, pos, end);
    } else {
      parts.push(chunk.subarray(pos, end));
      const block = Buffer.concat(parts, blockBytes);
      this.headerParts = undefined;
      headers = parseHeaderLines(block);
    }
    this.finishHeaders(headers);
    return end;
  }

  /** `knownLength`: the Content-Length already read by the fast path; otherwise it is looked up. */
  private finishHeaders(headers: Array<[string, string]>, knownLength = -1): void {
    let contentLength = 0;
    if (knownLength !== -1) {
      contentLength = knownLength;
    } else {
      for (let i = 0; i < headers.length; i++) {
        const h = headers[i]!;
        const name = h[0];
        if (name.length === 14 && (name === 'Content-Length' || name.toLowerCase() === 'content-length')) {
          contentLength = parseContentLength(h[1], this.maxBodyBytes);
          break;
        }
      }
    }
    if (contentLength === 0) {
      this.onFrame(new Frame(headers, undefined));
      return;
    }
    this.expectBody(contentLength, headers, undefined, false);
  }

  /** A block of only a known Content-Type and/or a plain Content-Length (-1: none). */
  private finishBare(type: string | undefined, contentLength: number, lengthFirst: boolean): void {
    if (contentLength <= 0) {
      this.onFrame(Frame.bare(type, contentLength, lengthFirst, undefined));
      return;
    }
    this.expectBody(contentLength, undefined, type, lengthFirst);
  }

  private expectBody(contentLength: number, headers: Array<[string, string]> | undefined, type: string | undefined, lengthFirst: boolean): void {
    if (contentLength > this.maxBodyBytes) throw bodyTooLarge(contentLength, this.maxBodyBytes);
    this.pendingHeaders = headers;
    this.pendingType = type;
    this.pendingLengthFirst = lengthFirst;
    this.body = undefined;
    this.bodyParts = undefined;
    this.bodyRemaining = contentLength;
    this.state = State.Body;
  }

  private consumeBody(chunk: Buffer, pos: number): number {
    const available = chunk.length - pos;
    if (this.body === undefined) {
      const need = this.bodyRemaining;
      if (available >= need) {
        // Whole body inside this chunk: hand out a view, no copy.
        const body = viewOf((this.chunkBuffer ??= chunk.buffer), chunk.byteOffset + pos, need);
        this.completeBody(body);
        return pos + need;
      }
      this.body = this.nextBodyBlock(need);
      this.bodyFilled = 0;
    }
    let at = pos;
    while (at < chunk.length) {
      const body = this.body!;
      const take = Math.min(chunk.length - at, body.length - this.bodyFilled);
      chunk.copy(body, this.bodyFilled, at, at + take);
      at += take;
      this.bodyFilled += take;
      this.bodyRemaining -= take;
      if (this.bodyFilled < body.length) break;
      if (this.bodyRemaining === 0) {
        const parts = this.bodyParts;
        this.body = undefined;
        this.bodyParts = undefined;
        this.completeBody(parts === undefined ? body : Buffer.concat([...parts, body]));
        break;
      }
      // A large body is received in blocks, so memory follows the bytes that arrive rather than
      // what Content-Length announces; the blocks are joined once at the end.
      (this.bodyParts ??= []).push(body);
      this.body = this.nextBodyBlock(this.bodyRemaining);
      this.bodyFilled = 0;
    }
    return at;
  }

  /** Room for the next `remaining` bytes of a body that spans chunks: a slab slice or a block. */
  private nextBodyBlock(remaining: number): Buffer {
    if (this.bodyParts === undefined && remaining <= SLAB_MAX_BODY_BYTES) return carveBody(remaining);
    return Buffer.allocUnsafe(Math.min(remaining, BODY_BLOCK_BYTES));
  }

  private completeBody(body: Buffer): void {
    const headers = this.pendingHeaders;
    this.pendingHeaders = undefined;
    this.state = State.Headers;
    this.onFrame(headers === undefined ? Frame.bare(this.pendingType, body.length, this.pendingLengthFirst, body) : new Frame(headers, body));
  }
}

const BLANK_LINE = Buffer.from('\n\n');
const CRLF_BLANK_LINE = Buffer.from('\n\r\n');

/**
 * The offset past the blank line that ends the header block whose line at `lineStart` is not
 * blank; -1 when the chunk ends first. The blank line is an LF or a CRLF after a line's LF.
 */
function blockEnd(chunk: Buffer, lineStart: number): number {
  const lf = chunk.indexOf(BLANK_LINE, lineStart);
  // A CRLF blank line before the first LF one, looked for only up to it.
  const crlf = view(chunk, lineStart, lf === -1 ? chunk.length : lf + 2).indexOf(CRLF_BLANK_LINE);
  if (crlf !== -1) return lineStart + crlf + 3;
  return lf === -1 ? -1 : lf + 2;
}

function headerTooLarge(max: number): EslParseError {
  return new EslParseError(`header block exceeds ${max} bytes`);
}

function bodyTooLarge(n: number, max: number): EslParseError {
  return new EslParseError(`Content-Length ${n} exceeds the ${max}-byte body limit`);
}

function parseContentLength(raw: string, max: number): number {
  // Common case first: nothing but 1 to 15 digits.
  const len = raw.length;
  if (len > 0 && len <= 15) {
    let n = 0;
    let i = 0;
    for (; i < len; i++) {
      const c = raw.charCodeAt(i) - 0x30;
      if (c < 0 || c > 9) break;
      n = n * 10 + c;
    }
    if (i === len) {
      if (n > max) throw bodyTooLarge(n, max);
      return n;
    }
  }
  const text = raw.trim();
  if (!/^\d{1,15}$/.test(text)) {
    throw new EslParseError(`invalid Content-Length: ${JSON.stringify(raw.slice(0, 40))}`);
  }
  const n = Number(text);
  if (n > max) throw bodyTooLarge(n, max);
  return n;
}

/** Parses a complete byte string into frames; throws EslParseError on bad or truncated input. */
export function parseFrames(data: Buffer, options?: ParserOptions): Frame[] {
  const frames: Frame[] = [];
  const parser = new Parser((f) => frames.push(f), options);
  parser.push(data);
  if (!parser.idle) throw new EslParseError('input ends inside a frame');
  return frames;
}
