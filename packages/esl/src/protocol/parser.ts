import { EslParseError } from '../errors.js';
import { Frame, parseHeaderLines } from './frame.js';

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

const LF = 0x0a;
const CR = 0x0d;
const LFLF = Buffer.from('\n\n', 'latin1');

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
 * the block is complete, and a body is either a zero-copy slice of the chunk that holds it or
 * filled once into a buffer of exactly Content-Length bytes. Body contents are never scanned here;
 * decoding happens later, and only for what is read.
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
  private headerParts: Buffer[] = [];
  private headerBytes = 0;
  /** Bytes in the current line so far (across chunks); 0 means we are at a line start. */
  private lineBytes = 0;
  /** True if the current line so far is exactly "\r" (a CRLF blank line in progress). */
  private lineIsCR = false;

  // Body being collected.
  private pendingHeaders: Array<[string, string]> = [];
  private body: Buffer | undefined;
  private bodyFilled = 0;

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
      this.headerParts = [];
      this.body = undefined;
      throw this.error;
    }
  }

  /** Discards any partial frame and clears a failure, e.g. before reusing the parser on a new socket. */
  reset(): void {
    this.state = State.Headers;
    this.error = undefined;
    this.headerParts = [];
    this.headerBytes = 0;
    this.lineBytes = 0;
    this.lineIsCR = false;
    this.body = undefined;
    this.bodyFilled = 0;
    this.pendingHeaders = [];
  }

  private consume(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    /** Offset of the next CR at or after `pos` in this chunk: -1 none, -2 not looked for yet. */
    let crAt = -2;
    while (pos < len) {
      if (this.state === State.Body) {
        pos = this.consumeBody(chunk, pos);
        continue;
      }
      // Skip stray line breaks between frames (never sent by FreeSWITCH, harmless to accept).
      if (this.headerBytes === 0) {
        while (pos < len && (chunk[pos] === LF || chunk[pos] === CR)) pos++;
        if (pos === len) return;
      }
      const blockStart = pos;
      let end = -1; // index just past the blank line, when found in this chunk
      if (this.headerBytes === 0) {
        // Fast path: a block that lies whole in this chunk and holds no CR ends at its first "\n\n"
        // (what the line-by-line scan below would find too). FreeSWITCH never sends CR.
        const blank = chunk.indexOf(LFLF, pos);
        if (blank !== -1) {
          if (crAt === -2 || (crAt !== -1 && crAt < pos)) crAt = chunk.indexOf(CR, pos);
          if (crAt === -1 || crAt > blank) end = blank + 2;
        }
      }
      let scan = end === -1 ? pos : len;
      while (scan < len) {
        const nl = chunk.indexOf(LF, scan);
        if (nl === -1) {
          const tail = len - scan;
          this.lineIsCR = (this.lineBytes === 0 && tail === 1 && chunk[scan] === CR);
          this.lineBytes += tail;
          break;
        }
        const lineLen = this.lineBytes + (nl - scan);
        const blank =
          lineLen === 0 ||
          (lineLen === 1 && (this.lineBytes === 1 ? this.lineIsCR : chunk[scan] === CR));
        this.lineBytes = 0;
        this.lineIsCR = false;
        scan = nl + 1;
        if (blank) {
          end = scan;
          break;
        }
      }
      if (end === -1) {
        this.headerBytes += len - blockStart;
        if (this.headerBytes > this.maxHeaderBytes) {
          throw new EslParseError(`header block exceeds ${this.maxHeaderBytes} bytes`);
        }
        this.headerParts.push(blockStart === 0 ? chunk : chunk.subarray(blockStart));
        return;
      }
      const blockBytes = this.headerBytes + (end - blockStart);
      if (blockBytes > this.maxHeaderBytes) {
        throw new EslParseError(`header block exceeds ${this.maxHeaderBytes} bytes`);
      }
      this.headerBytes = 0;
      if (this.headerParts.length === 0) {
        this.finishHeaders(chunk, blockStart, end);
      } else {
        this.headerParts.push(chunk.subarray(blockStart, end));
        const block = Buffer.concat(this.headerParts, blockBytes);
        this.headerParts = [];
        this.finishHeaders(block, 0, block.length);
      }
      pos = end;
      if ((this.state as State) === State.Body) {
        pos = this.consumeBody(chunk, pos);
      }
    }
  }

  private finishHeaders(block: Buffer, start: number, end: number): void {
    const headers = parseHeaderLines(block, start, end);
    let contentLength = 0;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      const name = h[0];
      if (name.length === 14 && (name === 'Content-Length' || name.toLowerCase() === 'content-length')) {
        contentLength = parseContentLength(h[1], this.maxBodyBytes);
        break;
      }
    }
    if (contentLength === 0) {
      this.onFrame(new Frame(headers, undefined));
      return;
    }
    this.pendingHeaders = headers;
    this.body = undefined;
    this.bodyFilled = contentLength; // remaining bytes while body is unallocated; see consumeBody
    this.state = State.Body;
  }

  private consumeBody(chunk: Buffer, pos: number): number {
    const available = chunk.length - pos;
    if (this.body === undefined) {
      const need = this.bodyFilled;
      if (available >= need) {
        // Whole body inside this chunk: hand out a view, no copy.
        const body = chunk.subarray(pos, pos + need);
        this.completeBody(body);
        return pos + need;
      }
      this.body = Buffer.allocUnsafe(need);
      this.bodyFilled = 0;
    }
    const body = this.body;
    const want = body.length - this.bodyFilled;
    const take = available < want ? available : want;
    chunk.copy(body, this.bodyFilled, pos, pos + take);
    this.bodyFilled += take;
    if (this.bodyFilled === body.length) {
      this.body = undefined;
      this.completeBody(body);
    }
    return pos + take;
  }

  private completeBody(body: Buffer): void {
    const headers = this.pendingHeaders;
    this.pendingHeaders = [];
    this.bodyFilled = 0;
    this.state = State.Headers;
    this.onFrame(new Frame(headers, body));
  }
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
      if (n > max) throw new EslParseError(`Content-Length ${n} exceeds the ${max}-byte body limit`);
      return n;
    }
  }
  const text = raw.trim();
  if (!/^\d{1,15}$/.test(text)) {
    throw new EslParseError(`invalid Content-Length: ${JSON.stringify(raw.slice(0, 40))}`);
  }
  const n = Number(text);
  if (n > max) throw new EslParseError(`Content-Length ${n} exceeds the ${max}-byte body limit`);
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
