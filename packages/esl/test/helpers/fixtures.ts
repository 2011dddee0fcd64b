/**
 * Test helpers: the one place that finds the FreeSWITCH captures, and ways to feed bytes to a
 * parser in every chunking that matters.
 *
 * The captures live in the repository at packages/esl/test/fixtures/ (its README says what each
 * file holds). Tests and benchmarks run from the compiled tree (packages/esl/dist/test/helpers/)
 * or from the sources (packages/esl/test/helpers/), so the directory is found by walking up from
 * this file to the package root, the first directory holding test/fixtures/README.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser, urlEncode, xmlEscape, type Frame, type ParserOptions } from '../../src/protocol/index.js';

function findFixturesDir(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'test', 'fixtures');
    if (existsSync(join(candidate, 'README.md'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`test/fixtures/README.md not found above ${start}`);
  }
}

/** Directory holding the captures (.bin, the transcripts) and their README. */
export const FIXTURES_DIR = findFixturesDir();

export const FIXTURE_NAMES = ['plain', 'json', 'xml', 'misc', 'misc-badauth', 'outbound'] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

const cache = new Map<string, Buffer>();

/**
 * Bytes of `<name>.bin`, or of `name` itself if it has an extension (`outbound-sent.txt`). Throws
 * if it is missing. Callers must not modify the returned buffer: it is cached.
 */
export function fixture(name: FixtureName | string): Buffer {
  const file = name.includes('.') ? name : `${name}.bin`;
  let data = cache.get(file);
  if (data === undefined) {
    const path = join(FIXTURES_DIR, file);
    if (!existsSync(path)) throw new Error(`fixture ${file} not found in ${FIXTURES_DIR}`);
    data = readFileSync(path);
    cache.set(file, data);
  }
  return data;
}

/** Splits `data` at the given offsets (any order, duplicates and out-of-range values ignored). */
export function splitAt(data: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts)].filter((c) => c > 0 && c < data.length).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of points) {
    out.push(data.subarray(prev, c));
    prev = c;
  }
  out.push(data.subarray(prev));
  return out;
}

/** One-byte chunks. */
export function byteByByte(data: Buffer): Buffer[] {
  const out: Buffer[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data.subarray(i, i + 1);
  return out;
}

export interface ChunkingOptions {
  /** Run the two-chunk split at every offset (default true; turn off for large inputs). */
  everySplit?: boolean;
}

/**
 * Calls `fn` with `data` delivered whole, byte by byte, and (unless disabled) as two chunks split at
 * every offset 1..length-1. `label` says which chunking is running, for assertion messages.
 */
export function forEveryChunking(
  data: Buffer,
  fn: (chunks: Buffer[], label: string) => void,
  options: ChunkingOptions = {},
): void {
  fn([data], 'whole');
  fn(byteByByte(data), 'byte by byte');
  if (options.everySplit === false) return;
  for (let i = 1; i < data.length; i++) fn([data.subarray(0, i), data.subarray(i)], `split at ${i}`);
}

export type ParseOutcome = { frames: Frame[]; error: unknown; idle: boolean };

/** Feeds chunks to a fresh Parser, stopping at the first error; never throws. */
export function parseChunks(chunks: readonly Buffer[], options?: ParserOptions): ParseOutcome {
  const frames: Frame[] = [];
  const parser = new Parser((f) => frames.push(f), options);
  let error: unknown;
  for (const c of chunks) {
    try {
      parser.push(c);
    } catch (err) {
      error = err;
      break;
    }
  }
  return { frames, error, idle: parser.idle };
}

/**
 * A compact exact description of frames (headers in order, body bytes), for comparing the output
 * of two parses with one string comparison.
 */
export function describeFrames(frames: readonly Frame[]): string {
  let out = '';
  for (const f of frames) {
    out += `#${f.headers.length}\n`;
    for (const [n, v] of f.headers) out += `${JSON.stringify(n)}=${JSON.stringify(v)}\n`;
    out += f.body === undefined ? '-\n' : `${f.body.length}:${f.body.toString('latin1')}\n`;
  }
  return out;
}

/**
 * An independent, minimal framer used to cross-check the parser and to cut single frames out of a
 * capture: every frame is a header block ending in "\n\n" and an optional body of Content-Length
 * bytes. Returns [start, end) of each frame. Only meant for well-formed LF-only captures.
 */
export function frameBoundaries(data: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let pos = 0;
  while (pos < data.length) {
    const blank = data.indexOf('\n\n', pos, 'latin1');
    if (blank === -1) throw new Error(`unterminated header block at ${pos}`);
    const head = data.toString('latin1', pos, blank + 1);
    const m = /(?:^|\n)Content-Length: *(\d+)\n/i.exec(head);
    const end = blank + 2 + (m ? Number(m[1]) : 0);
    if (end > data.length) throw new Error(`truncated body at ${pos}`);
    out.push([pos, end]);
    pos = end;
  }
  return out;
}

/**
 * A text/event-plain body built the way FreeSWITCH's switch_event_serialize writes one: header
 * names as they are, values URL-encoded (an empty encoded value written `_undef_`), then, for a
 * non-empty body, a final Content-Length line in bytes, the blank line and the body.
 */
export function plainEventText(headers: ReadonlyArray<readonly [string, string]>, body?: string | Buffer): Buffer {
  let text = '';
  for (const [n, v] of headers) {
    const e = urlEncode(v);
    text += `${n}: ${e === '' ? '_undef_' : e}\n`;
  }
  const b = body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  if (b.length > 0) text += `Content-Length: ${b.length}\n`;
  text += '\n';
  return Buffer.concat([Buffer.from(text, 'utf8'), b]);
}

/** An outer event frame as mod_event_socket sends it: Content-Length first, then Content-Type. */
export function eventFrame(format: 'plain' | 'json' | 'xml', payload: Buffer | string): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([Buffer.from(`Content-Length: ${p.length}\nContent-Type: text/event-${format}\n\n`), p]);
}

/**
 * A text/event-xml body the way switch_event_xmlize + switch_xml_toxml write it: values URL-encoded
 * then XML-escaped, array values as repeated elements, the body XML-escaped with its byte length
 * before escaping in <Content-Length>.
 */
export function xmlEventText(headers: ReadonlyArray<readonly [string, string | string[]]>, body?: string): string {
  let out = '<event>\n  <headers>\n';
  for (const [n, v] of headers) {
    for (const one of Array.isArray(v) ? v : [v]) out += `    <${n}>${xmlEscape(urlEncode(one))}</${n}>\n`;
  }
  out += '  </headers>\n';
  if (body !== undefined && body !== '') {
    out += `  <Content-Length>${Buffer.byteLength(body, 'utf8')}</Content-Length>\n`;
    out += `  <body>${xmlEscape(body)}\n  </body>\n`;
  }
  return `${out}</event>`;
}
