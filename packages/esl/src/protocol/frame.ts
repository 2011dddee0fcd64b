import { EslParseError } from '../errors.js';

/**
 * One message from FreeSWITCH: the outer header block and its optional body.
 *
 * Outer header values are kept exactly as sent (FreeSWITCH writes them raw with snprintf); only the
 * outbound `connect` reply carries URL-encoded values, and EslEvent handles that case.
 */
export class Frame {
  /** Exactly Content-Length bytes, or undefined when the frame has no body. */
  readonly body: Buffer | undefined;
  private pairs: ReadonlyArray<readonly [name: string, value: string]> | undefined;
  /** Without `pairs`: the only headers, Content-Type (if any) and Content-Length (-1: none). */
  private type: string | undefined;
  private length: number;
  private lengthFirst: boolean;
  private text: string | undefined;

  constructor(headers: ReadonlyArray<readonly [string, string]>, body: Buffer | undefined) {
    this.pairs = headers;
    this.body = body;
    this.type = undefined;
    this.length = -1;
    this.lengthFirst = false;
  }

  /**
   * A frame whose only headers are Content-Type and/or Content-Length, which is nearly every frame
   * FreeSWITCH sends (events, api responses, most replies): the header pairs are built only if
   * someone lists them. `lengthFirst`: Content-Length came first on the wire (event frames).
   */
  static bare(contentType: string | undefined, contentLength: number, lengthFirst: boolean, body: Buffer | undefined): Frame {
    const f = new Frame(EMPTY, body);
    f.pairs = undefined;
    f.type = contentType;
    f.length = contentLength;
    f.lengthFirst = lengthFirst;
    return f;
  }

  /** Outer headers in wire order; duplicates are kept. */
  get headers(): ReadonlyArray<readonly [name: string, value: string]> {
    this.pairs ??= contentPairs(this.type, this.length, this.lengthFirst);
    return this.pairs;
  }

  /** First value of an outer header; names compare case-insensitively as FreeSWITCH does. */
  get(name: string): string | undefined {
    if (this.pairs === undefined) {
      if (name === 'Content-Type') return this.type;
      if (name === 'Content-Length') return this.length === -1 ? undefined : String(this.length);
      if (name.length !== 12 && name.length !== 14) return undefined;
    }
    const headers = this.headers;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      if (h[0] === name) return h[1];
    }
    const lower = name.toLowerCase();
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      if (h[0].toLowerCase() === lower) return h[1];
    }
    return undefined;
  }

  get contentType(): string {
    if (this.pairs === undefined) return this.type ?? '';
    return this.get('Content-Type') ?? '';
  }

  /** The body decoded as UTF-8 (once, on first use); '' when there is none. */
  get bodyText(): string {
    if (this.text === undefined) this.text = this.body === undefined ? '' : this.body.toString('utf8');
    return this.text;
  }
}

const EMPTY: ReadonlyArray<readonly [string, string]> = [];

/** The header pairs of a Content-Type (if any) and a Content-Length (-1: none), in wire order. */
export function contentPairs(type: string | undefined, contentLength: number, lengthFirst: boolean): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (contentLength !== -1 && lengthFirst) pairs.push(['Content-Length', String(contentLength)]);
  if (type !== undefined) pairs.push(['Content-Type', type]);
  if (contentLength !== -1 && !lengthFirst) pairs.push(['Content-Length', String(contentLength)]);
  return pairs;
}

const CR = 0x0d;
const SPACE = 0x20;
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Splits a complete header block (every line ending in LF; a trailing CR is tolerated) into
 * name/value pairs. Each line splits at its first ':'; leading spaces of the value are dropped,
 * the way mod_event_socket reads them, so a value may itself contain ': '. Blank lines are skipped.
 *
 * The block is decoded once as latin1, which is one character per byte, so string offsets are
 * byte offsets; in a block holding a non-ASCII byte, names and values are decoded again as UTF-8.
 */
export function parseHeaderLines(block: Buffer, start = 0, end = block.length): Array<[string, string]> {
  return appendHeaderLines([], block, start, end);
}

/** parseHeaderLines appending to `out` (a block's first pairs, split already); returns `out`. */
export function appendHeaderLines(out: Array<[string, string]>, block: Buffer, start: number, end: number): Array<[string, string]> {
  const text = block.toString('latin1', start, end);
  const len = text.length;
  const ascii = !NON_ASCII.test(text);
  let pos = 0;
  while (pos < len) {
    let eol = text.indexOf('\n', pos);
    if (eol === -1) eol = len;
    let lineEnd = eol;
    if (lineEnd > pos && text.charCodeAt(lineEnd - 1) === CR) lineEnd--;
    if (lineEnd > pos) {
      const colon = text.indexOf(':', pos);
      if (colon === -1 || colon >= lineEnd || colon === pos) {
        throw new EslParseError(`malformed header line: ${JSON.stringify(block.toString('utf8', start + pos, start + Math.min(lineEnd, pos + 80)))}`);
      }
      let v = colon + 1;
      while (v < lineEnd && text.charCodeAt(v) === SPACE) v++;
      if (ascii) {
        out.push([text.slice(pos, colon), text.slice(v, lineEnd)]);
      } else {
        out.push([block.toString('utf8', start + pos, start + colon), block.toString('utf8', start + v, start + lineEnd)]);
      }
    }
    pos = eol + 1;
  }
  return out;
}
