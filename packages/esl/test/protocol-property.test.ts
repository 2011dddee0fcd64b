/**
 * Round trips with fast-check:
 *  - random commands -> serializeCommand -> CommandReader (FreeSWITCH's way of reading) give back
 *    the same command line, headers and body bytes, however the bytes are chunked;
 *  - random event headers and bodies -> a text/event-plain event built per PROTOCOL.md §3 ->
 *    framed -> Parser + EslEvent give back the same values and body, however chunked.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Command,
  CommandReader,
  EslEvent,
  Parser,
  serializeCommand,
  urlDecode,
  urlEncode,
  type Frame,
} from '../src/protocol/index.js';
import { eventFrame, plainEventText, splitAt, xmlEventText } from './helpers/fixtures.js';

/** Any text: ASCII-heavy, with control characters, reserved characters and all of Unicode. */
const anyChar = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(' ', ':', ': ', '%', '%41', '+', '&', '<', '|:', 'ARRAY::', '\t', '\0', '"', '\\', '_undef_') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom('ü', 'Ü', '€', '😀', '\u2028', '\u00a0', '\ufeff') },
);
const anyText = (min: number, max: number) => fc.array(anyChar, { minLength: min, maxLength: max }).map((a) => a.join(''));

const noLineBreak = (s: string): boolean => !/[\r\n]/.test(s);

// ---- commands ----

/** Header names FreeSWITCH can read back: no CR/LF/':', no leading or trailing whitespace. */
const commandHeaderName = fc.oneof(
  { weight: 5, arbitrary: anyText(1, 12).filter((s) => noLineBreak(s) && !s.includes(':') && s.trim() === s && s !== '') },
  { weight: 1, arbitrary: fc.constantFrom('Content-Length', 'content-length', 'Content-Type', 'Event-UUID', 'call-command') },
);
/** Values FreeSWITCH reads back unchanged: no CR/LF, not empty, no leading space (it strips them). */
const commandHeaderValue = anyText(1, 30).filter((s) => noLineBreak(s) && !s.startsWith(' '));
const commandLine = anyText(1, 40).filter((s) => noLineBreak(s) && s.trim() !== '');
const body = fc.oneof(
  fc.constant(undefined),
  anyText(0, 200),
  fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
);

interface CmdCase {
  line: string;
  headers: Array<[string, string]>;
  body: string | Buffer | undefined;
}

const commandCase: fc.Arbitrary<CmdCase> = fc.record({
  line: commandLine,
  headers: fc.array(fc.tuple(commandHeaderName, commandHeaderValue), { maxLength: 8 }),
  body,
});

function expectedHeaders(c: CmdCase): Array<[string, string]> {
  // The serializer owns Content-Length: any given one is dropped, the real one added for a body.
  const out = c.headers.filter(([n]) => n.toLowerCase() !== 'content-length');
  const bytes = bodyBytes(c.body);
  if (bytes.length > 0) out.push(['Content-Length', String(bytes.length)]);
  return out;
}

function bodyBytes(b: string | Buffer | undefined): Buffer {
  if (b === undefined) return Buffer.alloc(0);
  return typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
}

function readCommands(chunks: Buffer[]): Command[] {
  const out: Command[] = [];
  const reader = new CommandReader((c) => out.push(c));
  for (const c of chunks) reader.push(c);
  assert.equal(reader.busy, false);
  return out;
}

describe('round trip: serializeCommand -> CommandReader', () => {
  it('one command, any chunking', () => {
    fc.assert(
      fc.property(commandCase, fc.array(fc.nat(), { maxLength: 6 }), (c, cutSeeds) => {
        const wire = serializeCommand(c.line, c.headers, c.body);
        const cuts = cutSeeds.map((s) => 1 + (s % Math.max(1, wire.length - 1)));
        const [cmd, ...rest] = readCommands(splitAt(wire, cuts));
        assert.equal(rest.length, 0);
        assert.equal(cmd!.line, c.line);
        assert.deepEqual(cmd!.headers, expectedHeaders(c));
        const bytes = bodyBytes(c.body);
        if (bytes.length === 0) assert.equal(cmd!.body, undefined);
        else assert.deepEqual(cmd!.body, bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('a pipeline of commands, byte by byte and in random chunks', () => {
    fc.assert(
      fc.property(fc.array(commandCase, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (cases, cutSeeds) => {
        const wire = Buffer.concat(cases.map((c) => serializeCommand(c.line, c.headers, c.body)));
        const cuts = cutSeeds.map((s) => 1 + (s % Math.max(1, wire.length - 1)));
        const chunkings = [splitAt(wire, cuts), Array.from(wire, (_, i) => wire.subarray(i, i + 1))];
        for (const chunks of chunkings) {
          const cmds = readCommands(chunks);
          assert.equal(cmds.length, cases.length);
          cases.forEach((c, i) => {
            assert.equal(cmds[i]!.line, c.line);
            assert.deepEqual(cmds[i]!.headers, expectedHeaders(c));
            assert.deepEqual(cmds[i]!.body ?? Buffer.alloc(0), bodyBytes(c.body));
          });
        }
      }),
      { numRuns: 200 },
    );
  });
});

// ---- events ----

/** Event header names: any text without CR/LF or ':' (names are not encoded on the wire). */
const eventHeaderName = fc.oneof(
  { weight: 6, arbitrary: anyText(1, 16).filter((s) => noLineBreak(s) && !s.includes(':') && s.trim() !== '') },
  { weight: 1, arbitrary: fc.constantFrom('Event-Name', 'Unique-ID', 'event-name', 'UNIQUE-ID', 'variable_x', 'Content-Type') },
);
/**
 * Any value, except the two cases the wire format itself cannot carry: a literal %XX with uppercase
 * hex (FreeSWITCH does not re-encode it) and the literal text `_undef_` (its marker for empty).
 */
const eventHeaderValue = anyText(0, 40).filter((s) => !/%[0-9A-F]{2}/.test(s) && s !== '_undef_');

interface EventCase {
  headers: Array<[string, string]>;
  body: string;
}

const eventCase: fc.Arbitrary<EventCase> = fc.record({
  headers: fc
    .array(fc.tuple(eventHeaderName, eventHeaderValue), { maxLength: 12 })
    // The serializer's own Content-Length line is the last header; keep random ones out of its way.
    .map((hs) => hs.filter(([n]) => n.toLowerCase() !== 'content-length')),
  body: anyText(0, 120),
});

/** Folds ASCII letters only, as FreeSWITCH's strcasecmp does. */
const asciiFold = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** What get(name) must return: the exact-case header if any, else the first in any ASCII case. */
function expectedGet(headers: Array<[string, string]>, name: string): string | undefined {
  const exact = headers.find(([n]) => n === name);
  if (exact) return exact[1];
  return headers.find(([n]) => asciiFold(n) === asciiFold(name))?.[1];
}

function allHeaders(c: EventCase): Array<[string, string]> {
  const out = [...c.headers];
  const n = Buffer.byteLength(c.body);
  if (n > 0) out.push(['Content-Length', String(n)]);
  return out;
}

function checkEvent(frame: Frame, c: EventCase): void {
  const ev = EslEvent.fromFrame(frame)!;
  assert.equal(ev.format, 'plain');
  const headers = allHeaders(c);
  const names = [...new Set(headers.flatMap(([n]) => [n, n.toLowerCase(), n.toUpperCase()])), 'Not-There'];
  // Lazy lookups first (a fresh event per lookup), then after a full parse: same answers.
  for (const n of names) {
    assert.equal(EslEvent.fromFrame(frame)!.get(n), expectedGet(headers, n), `lazy get(${JSON.stringify(n)})`);
  }
  assert.equal(ev.body, c.body);
  assert.deepEqual([...ev.headers()], headers);
  for (const n of names) assert.equal(ev.get(n), expectedGet(headers, n), `get(${JSON.stringify(n)})`);
  assert.equal(ev.body, c.body);
}

describe('round trip: event headers and body -> text/event-plain -> Parser + EslEvent', () => {
  it('one event, any chunking', () => {
    fc.assert(
      fc.property(eventCase, fc.array(fc.nat(), { maxLength: 6 }), (c, cutSeeds) => {
        const wire = eventFrame('plain', plainEventText(c.headers, c.body));
        const cuts = cutSeeds.map((s) => 1 + (s % Math.max(1, wire.length - 1)));
        const frames: Frame[] = [];
        const parser = new Parser((f) => frames.push(f));
        for (const chunk of splitAt(wire, cuts)) parser.push(chunk);
        assert.ok(parser.idle);
        assert.equal(frames.length, 1);
        checkEvent(frames[0]!, c);
      }),
      { numRuns: 1000 },
    );
  });

  it('a stream of events, byte by byte', () => {
    fc.assert(
      fc.property(fc.array(eventCase, { minLength: 1, maxLength: 5 }), (cases) => {
        const wire = Buffer.concat(cases.map((c) => eventFrame('plain', plainEventText(c.headers, c.body))));
        const frames: Frame[] = [];
        const parser = new Parser((f) => frames.push(f));
        for (let i = 0; i < wire.length; i++) parser.push(wire.subarray(i, i + 1));
        assert.equal(frames.length, cases.length);
        frames.forEach((f, i) => checkEvent(f, cases[i]!));
      }),
      { numRuns: 100 },
    );
  });

  it('the same values through text/event-json and text/event-xml', () => {
    // XML element names must be XML names; JSON keys must be unique.
    const xmlName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,15}$/).filter((n) => n !== '_body');
    const value = eventHeaderValue;
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(xmlName, value), { selector: ([n]) => n.toLowerCase(), maxLength: 10 }), anyText(0, 80), (headers, body) => {
        const json = EslEvent.fromJson(Buffer.from(JSON.stringify({ ...Object.fromEntries(headers), _body: body })));
        const xml = EslEvent.fromXml(Buffer.from(xmlEventText(headers, body)));
        for (const [n, v] of headers) {
          assert.equal(json.get(n), v);
          assert.equal(xml.get(n), v);
        }
        assert.equal(json.body, body);
        // XML bodies are cut at Content-Length bytes; CR and non-ASCII come back from entities.
        assert.equal(xml.body, body);
      }),
      { numRuns: 500 },
    );
  });
});

describe('encoding properties', () => {
  it('urlDecode(urlEncode(s)) === s unless s holds a literal uppercase %XX', () => {
    fc.assert(
      fc.property(anyText(0, 60), (s) => {
        const enc = urlEncode(s);
        assert.ok(/^[\x21-\x7e]*$/.test(enc), 'the encoding is printable ASCII without spaces');
        if (!/%[0-9A-F]{2}/.test(s)) assert.equal(urlDecode(enc), s);
      }),
      { numRuns: 2000 },
    );
  });

  it('urlDecode never throws and leaves text without a valid %XX alone', () => {
    fc.assert(
      fc.property(anyText(0, 60), (s) => {
        const out = urlDecode(s);
        if (!/%[0-9A-Fa-f]{2}/.test(s)) assert.equal(out, s);
      }),
      { numRuns: 2000 },
    );
  });
});
