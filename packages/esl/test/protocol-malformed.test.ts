/**
 * Malformed input: every case ends in a typed EslParseError (code ESL_PARSE), the parser never
 * throws anything else, and once failed it keeps failing. Truncated input is an error for
 * parseFrames. The same holds for the server-side CommandReader.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EslError, EslParseError } from '../src/errors.js';
import { CommandReader, MAX_COMMAND_BODY, Parser, parseFrames, type ParserOptions } from '../src/protocol/index.js';
import { byteByByte, fixture, splitAt } from './helpers/fixtures.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function isParseError(err: unknown): boolean {
  return err instanceof EslParseError && err instanceof EslError && err.code === 'ESL_PARSE' && err.name === 'EslParseError';
}

interface Case {
  name: string;
  data: Buffer;
  options?: ParserOptions;
}

const cases: Case[] = [
  { name: 'non-numeric Content-Length', data: b('Content-Type: api/response\nContent-Length: abc\n\nabc') },
  { name: 'Content-Length with a unit', data: b('Content-Length: 12bytes\n\n') },
  { name: 'negative Content-Length', data: b('Content-Type: api/response\nContent-Length: -1\n\n') },
  { name: 'signed Content-Length', data: b('Content-Length: +5\n\nabcde') },
  { name: 'fractional Content-Length', data: b('Content-Length: 1.5\n\nab') },
  { name: 'hexadecimal Content-Length', data: b('Content-Length: 0x10\n\n') },
  { name: 'empty Content-Length', data: b('Content-Length: \n\n') },
  { name: 'huge Content-Length (20 digits)', data: b('Content-Length: 99999999999999999999\n\n') },
  { name: 'Content-Length above the default body limit', data: b('Content-Length: 999999999999\n\n') },
  { name: 'Content-Length over the configured max', data: b('Content-Length: 11\n\nhello world'), options: { maxBodyBytes: 10 } },
  { name: 'header line without ":"', data: b('Content-Type: command/reply\nReply-Text +OK\n\n') },
  { name: 'header line with an empty name', data: b('Content-Type: x\n: value\n\n') },
  { name: 'first line without ":" after a valid frame', data: b('Content-Type: a\n\nHTTP/1.1 200 OK\n\n') },
  {
    name: 'header block over the configured max (terminated)',
    data: b(`Content-Type: x\nPad: ${'p'.repeat(200)}\n\n`),
    options: { maxHeaderBytes: 100 },
  },
  {
    name: 'header block over the configured max (never terminated)',
    data: b(`Content-Type: x\nPad: ${'p'.repeat(200)}`),
    options: { maxHeaderBytes: 100 },
  },
  {
    name: 'one endless header line',
    data: b('X'.repeat(5000)),
    options: { maxHeaderBytes: 4096 },
  },
  {
    name: 'garbage binary without colons',
    data: Buffer.concat([Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7 + 1) % 256).filter((x) => x !== 0x3a && x !== 0x0a)), b('\n\n')]),
  },
  { name: 'garbage binary after a good frame', data: Buffer.concat([b('Content-Type: a\n\n'), Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 10])]) },
  { name: 'an HTTP request', data: b('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n') },
];

/** Feeds chunks until the first throw; returns that error (or undefined). */
function feed(parser: Parser, chunks: Buffer[]): unknown {
  for (const c of chunks) {
    try {
      parser.push(c);
    } catch (err) {
      return err;
    }
  }
  return undefined;
}

describe('malformed input: Parser', () => {
  for (const c of cases) {
    it(`${c.name}: EslParseError whole, byte by byte and split, then stays failed`, () => {
      const chunkings: Array<[string, Buffer[]]> = [
        ['whole', [c.data]],
        ['byte by byte', byteByByte(c.data)],
        ['halves', splitAt(c.data, [c.data.length >> 1])],
      ];
      for (const [label, chunks] of chunkings) {
        const parser = new Parser(() => {}, c.options);
        const err = feed(parser, chunks);
        assert.ok(isParseError(err), `${label}: ${String(err)}`);
        // Failed for good: the same error again, for any input, even a valid frame.
        assert.throws(() => parser.push(b('Content-Type: auth/request\n\n')), (e: unknown) => e === err);
        assert.throws(() => parser.push(Buffer.alloc(0)), (e: unknown) => e === err);
        assert.equal(parser.idle, false);
      }
      assert.throws(() => parseFrames(c.data, c.options), isParseError);
    });
  }

  it('frames before the bad one are delivered, none after', () => {
    const seen: string[] = [];
    const parser = new Parser((f) => seen.push(f.contentType));
    const err = feed(parser, [b('Content-Type: a\n\nContent-Type: b\n\nbroken line\n\nContent-Type: c\n\n')]);
    assert.ok(isParseError(err));
    assert.deepEqual(seen, ['a', 'b']);
  });

  it('truncated input: parseFrames reports it', () => {
    const truncated = [
      'Content-Type: command/reply\nReply-Text: +OK',
      'Content-Type: command/reply\nReply-Text: +OK\n',
      'Content-Type: api/response\nContent-Length: 10\n\n12345',
      'Content-Type: api/response\nContent-Length: 10\n\n',
      'Content-Type: a\n\nContent-Type: b',
    ];
    for (const t of truncated) {
      assert.throws(() => parseFrames(b(t)), isParseError, t);
      // The incremental parser just waits for more.
      const p = new Parser(() => {});
      p.push(b(t));
      assert.equal(p.idle, false, t);
    }
    // Each capture cut anywhere inside a frame is truncated.
    const data = fixture('misc');
    for (const cut of [1, 27, 100, 500, data.length - 1]) {
      assert.throws(() => parseFrames(data.subarray(0, cut)), isParseError, `misc.bin cut at ${cut}`);
    }
    assert.equal(parseFrames(Buffer.alloc(0)).length, 0);
    assert.equal(parseFrames(b('\n\r\n')).length, 0);
  });

  it('random bytes: frames or EslParseError, nothing else; failure is sticky', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.integer({ min: 1, max: 399 }), { maxLength: 8 }),
        fc.integer({ min: 1, max: 300 }),
        (bytes, cuts, maxHeaderBytes) => {
          const data = Buffer.from(bytes);
          const parser = new Parser(() => {}, { maxHeaderBytes, maxBodyBytes: 200 });
          const err = feed(parser, splitAt(data, cuts));
          if (err === undefined) return true;
          if (!isParseError(err)) return false;
          try {
            parser.push(b('Content-Type: a\n\n'));
            return false;
          } catch (again) {
            return again === err;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('random mutations of a real capture: frames or EslParseError, nothing else', () => {
    const data = fixture('misc');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: data.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 10,
        }),
        (edits) => {
          const copy = Buffer.from(data);
          for (const [at, v] of edits) copy[at] = v;
          try {
            parseFrames(copy);
            return true;
          } catch (err) {
            return isParseError(err);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('an exception thrown by the frame callback fails the parser with an EslParseError', () => {
    const parser = new Parser(() => {
      throw new TypeError('consumer bug');
    });
    const err = feed(parser, [b('Content-Type: a\n\n')]);
    assert.ok(isParseError(err));
    assert.match((err as Error).message, /consumer bug/);
    assert.throws(() => parser.push(b('Content-Type: b\n\n')), (e: unknown) => e === err);
  });
});

describe('malformed input: CommandReader', () => {
  const bad = [
    'sendevent CUSTOM\nContent-Length: abc\n\n',
    'sendevent CUSTOM\nContent-Length: -1\n\n',
    `sendevent CUSTOM\nContent-Length: ${MAX_COMMAND_BODY + 1}\n\n`,
    'sendevent CUSTOM\ncontent-length: 1.5\n\n',
  ];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text.split('\n')[1])}`, () => {
      const reader = new CommandReader(() => {});
      let err: unknown;
      try {
        reader.push(b(text));
      } catch (e) {
        err = e;
      }
      assert.ok(isParseError(err), String(err));
      assert.throws(() => reader.push(b('exit\n\n')), (e: unknown) => e === err);
    });
  }

  it('random bytes: commands or EslParseError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.integer({ min: 1, max: 299 }), { maxLength: 6 }), (bytes, cuts) => {
        const reader = new CommandReader(() => {});
        for (const c of splitAt(Buffer.from(bytes), cuts)) {
          try {
            reader.push(c);
          } catch (err) {
            return isParseError(err);
          }
        }
        return true;
      }),
      { numRuns: 1000 },
    );
  });
});
