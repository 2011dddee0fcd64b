/**
 * The fast paths of commit effe163, pinned against what the wire format requires:
 *
 * - Parser.readBlock: a header block that lies whole in one pushed chunk is read in one pass
 *   (known names and content types matched in the bytes, Content-Length read as digits). It must
 *   give exactly what the general line scanner gives; fed one byte at a time, no block ends inside
 *   a chunk, so every block is finished by the general scanner, and "whole" versus "byte by byte"
 *   compares the two paths.
 * - Bodies that span chunks, carved from a shared slab (up to 16 KiB) or given their own Buffer.
 * - EslEvent: the known-name shortcut of `name`, the JS value scan of plain values, and the
 *   first blank-line check of `inHeaders` (one backward search once a match lies 128+ bytes in).
 *
 * Expected values come from the framing rules (PROTOCOL.md §1–§3, the fixtures README), never from
 * what the code happens to return.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EslParseError } from '../src/errors.js';
import { EVENT_NAMES, EslEvent, Parser, parseHeaderLines, type Frame, type ParserOptions } from '../src/protocol/index.js';
import {
  byteByByte,
  describeFrames,
  eventFrame,
  fixture,
  forEveryChunking,
  frameBoundaries,
  parseChunks,
  plainEventText,
  type ParseOutcome,
} from './helpers/fixtures.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

const JOB = '11111111-2222-3333-4444-555555555555';
const SESSION = 'e472aa1c-5b16-424e-bca7-d4704076c0ff';
const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

function message(err: unknown): string | undefined {
  return err === undefined ? undefined : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Parses `data` fed whole (the fast path, when the block is well formed) and asserts that byte by
 * byte and every two-chunk split give the very same frames; returns the frames of the whole feed.
 */
function sameInEveryChunking(data: Buffer, options?: ParserOptions): Frame[] {
  const whole = parseChunks([data], options);
  assert.equal(whole.error, undefined, 'whole');
  assert.equal(whole.idle, true, 'whole');
  const expected = describeFrames(whole.frames);
  forEveryChunking(data, (chunks, label) => {
    const r = parseChunks(chunks, options);
    if (r.error !== undefined || !r.idle || describeFrames(r.frames) !== expected) {
      assert.equal(message(r.error), undefined, label);
      assert.equal(r.idle, true, label);
      assert.equal(describeFrames(r.frames), expected, label);
    }
  });
  return whole.frames;
}

/** Feeds `data` whole and byte by byte (the general path); both must agree, errors included. */
function fastEqualsGeneral(data: Buffer, options?: ParserOptions): ParseOutcome {
  const whole = parseChunks([data], options);
  const general = parseChunks(byteByByte(data), options);
  assert.equal(message(whole.error), message(general.error), 'same error whole and byte by byte');
  assert.equal(describeFrames(whole.frames), describeFrames(general.frames), 'same frames whole and byte by byte');
  assert.equal(whole.idle, general.idle);
  return whole;
}

/** Like fastEqualsGeneral, for input that must parse cleanly; returns the frames. */
function framesBothWays(data: Buffer, options?: ParserOptions): Frame[] {
  const r = fastEqualsGeneral(data, options);
  assert.equal(r.error, undefined);
  assert.equal(r.idle, true);
  return r.frames;
}

type ReadBlock = (chunk: Buffer, pos: number) => number;

/**
 * White-box: the results of Parser's fast path (`readBlock`) while `data` is pushed whole, one per
 * header block it was offered: the offset past the block, or the chunk's length when the block
 * was left to the general scanner.
 */
function fastPathResults(data: Buffer): number[] {
  const proto = Parser.prototype as unknown as { readBlock: ReadBlock };
  const original = proto.readBlock;
  assert.equal(typeof original, 'function', 'Parser.prototype.readBlock (the fast path) exists');
  const results: number[] = [];
  proto.readBlock = function (this: unknown, chunk: Buffer, pos: number): number {
    const r = original.call(this, chunk, pos);
    results.push(r);
    return r;
  };
  try {
    parseChunks([data]);
  } finally {
    proto.readBlock = original;
  }
  return results;
}

/** Splits `data` into chunks of `size` bytes. */
function chunksOf(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, Math.min(data.length, i + size)));
  return out;
}

/** `n` bytes of recognisable content: `tag` repeated, then a counter, so no two bodies are alike. */
function filler(tag: string, n: number): string {
  let s = '';
  for (let i = 0; s.length < n; i++) s += `${tag}${i};`;
  return s.slice(0, n);
}

// ---------------------------------------------------------------------------------------------

describe('Parser fast path: every frame shape FreeSWITCH sends', () => {
  it('auth/request', () => {
    const [f, ...rest] = sameInEveryChunking(b('Content-Type: auth/request\n\n'));
    assert.equal(rest.length, 0);
    assert.deepEqual(f!.headers, [['Content-Type', 'auth/request']]);
    assert.equal(f!.body, undefined);
  });

  it('command/reply: Reply-Text, and a bgapi reply whose Reply-Text holds ": " plus a Job-UUID', () => {
    const frames = sameInEveryChunking(
      b(
        'Content-Type: command/reply\nReply-Text: +OK accepted\n\n' +
          `Content-Type: command/reply\nReply-Text: +OK Job-UUID: ${JOB}\nJob-UUID: ${JOB}\n\n` +
          'Content-Type: command/reply\nReply-Text: -ERR command not found\n\n',
      ),
    );
    assert.equal(frames.length, 3);
    assert.deepEqual(frames[0]!.headers, [
      ['Content-Type', 'command/reply'],
      ['Reply-Text', '+OK accepted'],
    ]);
    assert.deepEqual(frames[1]!.headers, [
      ['Content-Type', 'command/reply'],
      ['Reply-Text', `+OK Job-UUID: ${JOB}`],
      ['Job-UUID', JOB],
    ]);
    assert.deepEqual(frames[2]!.headers, [
      ['Content-Type', 'command/reply'],
      ['Reply-Text', '-ERR command not found'],
    ]);
    for (const f of frames) assert.equal(f.body, undefined);
  });

  it('api/response: Content-Type first, then Content-Length and a byte-counted body', () => {
    const body = '-ERR nosuchcommand Command not found!\n';
    assert.equal(Buffer.byteLength(body), 38);
    const frames = sameInEveryChunking(
      b(`Content-Type: api/response\nContent-Length: 38\n\n${body}Content-Type: api/response\nContent-Length: 14\n\n+OK [Success]\n`),
    );
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0]!.headers, [
      ['Content-Type', 'api/response'],
      ['Content-Length', '38'],
    ]);
    assert.equal(frames[0]!.bodyText, body);
    assert.equal(frames[1]!.bodyText, '+OK [Success]\n');
  });

  it('events: Content-Length before Content-Type (plain with an inner body, json, xml)', () => {
    const inner = 'UP 0 years\nContent-Length: 999\n\nnot a frame\n';
    const plain = plainEventText(
      [
        ['Event-Name', 'BACKGROUND_JOB'],
        ['Job-UUID', JOB],
        ['Job-Command', 'status'],
      ],
      inner,
    );
    const json = JSON.stringify({ 'Event-Name': 'API', 'API-Command': 'status', _body: 'x' });
    const xml = '<event>\n  <headers>\n    <Event-Name>HEARTBEAT</Event-Name>\n  </headers>\n</event>';
    const frames = sameInEveryChunking(Buffer.concat([eventFrame('plain', plain), eventFrame('json', json), eventFrame('xml', xml)]));
    assert.equal(frames.length, 3);
    assert.deepEqual(frames[0]!.headers, [
      ['Content-Length', String(plain.length)],
      ['Content-Type', 'text/event-plain'],
    ]);
    assert.deepEqual(frames[0]!.body, plain);
    assert.deepEqual(frames[1]!.headers, [
      ['Content-Length', String(Buffer.byteLength(json))],
      ['Content-Type', 'text/event-json'],
    ]);
    assert.equal(frames[1]!.bodyText, json);
    assert.deepEqual(frames[2]!.headers, [
      ['Content-Length', String(Buffer.byteLength(xml))],
      ['Content-Type', 'text/event-xml'],
    ]);
    assert.equal(frames[2]!.bodyText, xml);
    const ev = EslEvent.fromFrame(frames[0]!)!;
    assert.equal(ev.name, 'BACKGROUND_JOB');
    assert.equal(ev.jobUuid, JOB);
    assert.equal(ev.body, inner);
  });

  it('text/disconnect-notice with a body, and the linger notice (Content-Length: 0 last)', () => {
    const frames = sameInEveryChunking(
      b(
        `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${SESSION}\nContent-Disposition: linger\n` +
          'Channel-Name: loopback/7001-b\nLinger-Time: -1\nContent-Length: 0\n\n' +
          `Content-Type: text/disconnect-notice\nContent-Length: 67\n\n${GOODBYE}`,
      ),
    );
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0]!.headers, [
      ['Content-Type', 'text/disconnect-notice'],
      ['Controlled-Session-UUID', SESSION],
      ['Content-Disposition', 'linger'],
      ['Channel-Name', 'loopback/7001-b'],
      ['Linger-Time', '-1'],
      ['Content-Length', '0'],
    ]);
    assert.equal(frames[0]!.body, undefined);
    assert.deepEqual(frames[1]!.headers, [
      ['Content-Type', 'text/disconnect-notice'],
      ['Content-Length', '67'],
    ]);
    assert.equal(frames[1]!.bodyText, GOODBYE);
  });

  it('text/rude-rejection', () => {
    const body = 'Access Denied, go away.\n';
    const [f] = sameInEveryChunking(b(`Content-Type: text/rude-rejection\nContent-Length: ${body.length}\n\n${body}`));
    assert.equal(f!.contentType, 'text/rude-rejection');
    assert.equal(f!.bodyText, body);
  });

  it('log/data: extra headers after Content-Length, an empty User-Data', () => {
    const body = '2026-11-26 23:00:10.342094 16.13% [INFO] switch_time.c:1436 Timezone reloaded 597 definitions\n';
    assert.equal(Buffer.byteLength(body), 94);
    const [f] = sameInEveryChunking(
      b(
        'Content-Type: log/data\nContent-Length: 94\nLog-Level: 6\nText-Channel: 0\nLog-File: switch_time.c\n' +
          `Log-Func: switch_load_timezones\nLog-Line: 1436\nUser-Data: \n\n${body}`,
      ),
    );
    assert.deepEqual(f!.headers, [
      ['Content-Type', 'log/data'],
      ['Content-Length', '94'],
      ['Log-Level', '6'],
      ['Text-Channel', '0'],
      ['Log-File', 'switch_time.c'],
      ['Log-Func', 'switch_load_timezones'],
      ['Log-Line', '1436'],
      ['User-Data', ''],
    ]);
    assert.equal(f!.bodyText, body);
  });

  it('the outbound connect reply (capture): channel data, then command/reply, Socket-Mode, Control', () => {
    const data = fixture('outbound');
    const [start, end] = frameBoundaries(data)[0]!;
    const [f] = sameInEveryChunking(data.subarray(start, end));
    const tail = f!.headers.slice(-4);
    assert.deepEqual(tail, [
      ['Content-Type', 'command/reply'],
      ['Reply-Text', '%2BOK%0A'],
      ['Socket-Mode', 'async'],
      ['Control', 'full'],
    ]);
    assert.deepEqual(f!.headers[0], ['Event-Name', 'CHANNEL_DATA']);
    assert.equal(f!.body, undefined);
    // Every line of the block is one header, in order, exactly as written.
    const lines = data.toString('utf8', start, end - 2).split('\n');
    assert.equal(f!.headers.length, lines.length);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      assert.deepEqual(f!.headers[i], [line.slice(0, colon), line.slice(colon + 1).replace(/^ +/, '')], line);
    }
  });

  it('white-box: blocks that lie whole in the chunk are read by the fast path, to their blank line', () => {
    // This is what makes "whole" versus "byte by byte" a comparison of two paths in this file.
    // Which blocks fall back (a block cut by the chunk end) is left open: only that a whole,
    // well-formed block ends exactly past its blank line.
    const blocks = [
      'Content-Type: auth/request\n\n',
      'Content-Type: command/reply\nReply-Text: +OK\n\n',
      `Content-Type: command/reply\nReply-Text: +OK Job-UUID: ${JOB}\nJob-UUID: ${JOB}\n\n`,
      'Content-Length: 3\nContent-Type: text/event-plain\n\nabc',
      'Content-Type: log/data\nContent-Length: 1\nLog-Level: 7\nUser-Data: \n\nx',
      `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${SESSION}\nContent-Disposition: linger\nContent-Length: 0\n\n`,
      // Unknown names, non-ASCII values, unknown types, odd Content-Length spellings.
      'X-Thing: 1\nReply-Text: café\nContent-Type: a/b\ncontent-length: 007\n\n1234567',
      'Content-Type: api/response\nContent-Length: 03\nContent-Length: 9\n\nabc',
    ];
    const data = b(blocks.join(''));
    const ends: number[] = [];
    let at = 0;
    for (const block of blocks) {
      const bytes = b(block);
      ends.push(at + bytes.indexOf('\n\n') + 2);
      at += bytes.length;
    }
    assert.deepEqual(fastPathResults(data), ends);
  });
});

describe('Parser fast path: unusual blocks give what the general path gives', () => {
  it('an unknown header name', () => {
    const frames = framesBothWays(b('Content-Type: command/reply\nX-Custom-Thing: v: w\nReply-Text: +OK\n\n'));
    assert.deepEqual(frames[0]!.headers, [
      ['Content-Type', 'command/reply'],
      ['X-Custom-Thing', 'v: w'],
      ['Reply-Text', '+OK'],
    ]);
    sameInEveryChunking(b('Content-Type: command/reply\nX-Custom-Thing: v: w\nReply-Text: +OK\n\n'));
  });

  it('names that start like a known name are not taken for it', () => {
    const data = b(
      'Content-Type-X: api/response\nContent-Lengthy: 5\nControl-Extra: 1\nLinger-Time: 0\nJob-UUIDs: a\n' +
        'Content-Type: command/reply\n\n',
    );
    const [f, ...rest] = framesBothWays(data);
    assert.equal(rest.length, 0);
    assert.deepEqual(f!.headers, [
      ['Content-Type-X', 'api/response'],
      ['Content-Lengthy', '5'],
      ['Control-Extra', '1'],
      ['Linger-Time', '0'],
      ['Job-UUIDs', 'a'],
      ['Content-Type', 'command/reply'],
    ]);
    assert.equal(f!.body, undefined, 'Content-Lengthy is not Content-Length');
    assert.equal(f!.contentType, 'command/reply');
  });

  it('non-ASCII (UTF-8) header values and names; invalid UTF-8 becomes U+FFFD either way', () => {
    const frames = framesBothWays(b('Content-Type: command/reply\nReply-Text: -ERR café\nGröße: 3 €\n\n'));
    assert.deepEqual(frames[0]!.headers, [
      ['Content-Type', 'command/reply'],
      ['Reply-Text', '-ERR café'],
      ['Größe', '3 €'],
    ]);
    sameInEveryChunking(b('Content-Type: command/reply\nReply-Text: -ERR café\n\n'));
    const bad = Buffer.concat([b('Content-Type: command/reply\nReply-Text: a'), Buffer.from([0xff, 0xc3]), b('\n\n')]);
    const [f] = framesBothWays(bad);
    assert.equal(f!.get('Reply-Text'), 'a\ufffd\ufffd');
  });

  it('an unknown Content-Type, or a known one with something after it', () => {
    const frames = framesBothWays(
      b(
        'Content-Type: text/x-custom\nContent-Length: 3\n\nabc' +
          'Content-Type: api/responsex\n\n' +
          'Content-Type: command/reply \n\n' +
          'Content-Type:auth/request\n\n' +
          'Content-Type:    log/data\n\n' +
          'Content-Type: \n\n',
      ),
    );
    assert.deepEqual(
      frames.map((f) => f.contentType),
      ['text/x-custom', 'api/responsex', 'command/reply ', 'auth/request', 'log/data', ''],
    );
    assert.equal(frames[0]!.bodyText, 'abc');
  });

  it('Content-Length spelled 007, with extra spaces, with a tab, or in lower case', () => {
    const cases: Array<[string, string, string]> = [
      // [header line, header value as sent (leading spaces dropped), body]
      ['Content-Length: 007', '007', 'abcdefg'],
      ['Content-Length:  12', '12', 'abcdefghijkl'],
      ['Content-Length: 12 ', '12 ', 'abcdefghijkl'],
      ['Content-Length:\t12', '\t12', 'abcdefghijkl'],
      ['Content-Length:12', '12', 'abcdefghijkl'],
      ['content-length: 12', '12', 'abcdefghijkl'],
      ['CONTENT-LENGTH: 3', '3', 'abc'],
      ['Content-Length: 0', '0', ''],
      ['Content-Length: 00', '00', ''],
      ['Content-Length: 000000000000003', '000000000000003', 'abc'],
    ];
    for (const [line, value, body] of cases) {
      const data = b(`Content-Type: api/response\n${line}\n\n${body}Content-Type: auth/request\n\n`);
      const frames = framesBothWays(data);
      assert.equal(frames.length, 2, line);
      const name = line.slice(0, line.indexOf(':'));
      assert.deepEqual(frames[0]!.headers, [
        ['Content-Type', 'api/response'],
        [name, value],
      ], line);
      assert.equal(frames[0]!.body?.toString('latin1') ?? '', body, line);
      assert.equal(frames[0]!.body === undefined, body === '', line);
      assert.equal(frames[1]!.contentType, 'auth/request', line);
    }
  });

  it('invalid Content-Length values fail with the same error both ways', () => {
    for (const value of ['1x', '-1', '+5', '', '1 2', '1234567890123456', '0000000000000003', '１２']) {
      const data = b(`Content-Type: api/response\nContent-Length: ${value}\n\nabc`);
      const r = fastEqualsGeneral(data);
      assert.ok(r.error instanceof EslParseError, `Content-Length: ${JSON.stringify(value)}`);
      assert.match((r.error as Error).message, /^invalid Content-Length: /, value);
      assert.equal(r.frames.length, 0);
    }
  });

  it('two Content-Length headers: the first one counts', () => {
    const next = 'Content-Type: auth/request\n\n';
    const cases: Array<[string, string]> = [
      ['Content-Length: 3\nContent-Length: 5\n', 'abc'],
      ['Content-Length: 5\nContent-Length: 3\n', 'abcde'],
      ['Content-Length: 03\nContent-Length: 5\n', 'abc'],
      ['content-length: 3\nContent-Length: 5\n', 'abc'],
      ['Content-Length: 3\ncontent-length: 5\n', 'abc'],
      // A 14-character name that is not Content-Length comes first.
      ['X-Fourteen-Chr: 9\nContent-Length: 3\nContent-Length: 5\n', 'abc'],
    ];
    for (const [lines, body] of cases) {
      const data = b(`Content-Type: api/response\n${lines}\n${body}${next}`);
      const frames = sameInEveryChunking(data);
      assert.equal(frames.length, 2, lines);
      assert.equal(frames[0]!.body!.length, body.length, lines);
      assert.equal(frames[0]!.bodyText, body, lines);
      assert.equal(frames[1]!.contentType, 'auth/request', lines);
      // Both headers are kept, in order, as sent.
      assert.deepEqual(
        frames[0]!.headers.slice(1).map(([, v]) => v),
        lines.trim().split('\n').map((l) => l.slice(l.indexOf(':') + 1).trim()),
        lines,
      );
    }
  });

  it('a line with no colon, or an empty name, fails the same way both ways', () => {
    const blocks = ['Content-Type: command/reply\nno colon\n\n', ': value\n\n', 'Content-Type: a\n:\n\n'];
    // The same after a header outside the usual few (the rest of the block is split as a string).
    blocks.push('X-Thing: 1\nno colon\n\n', 'Content-Type: command/reply\nX-Thing: 1\n: value\n\n', 'X-Thing: 1\nY: 2\nno colon ü\r\n\n');
    for (const block of blocks) {
      const r = fastEqualsGeneral(b(block));
      assert.ok(r.error instanceof EslParseError, JSON.stringify(block));
      assert.match((r.error as Error).message, /^malformed header line/);
    }
  });
});

describe('parseHeaderLines (the general path\'s line split)', () => {
  it('ASCII and UTF-8 blocks, a CRLF line, leading spaces dropped', () => {
    assert.deepEqual(parseHeaderLines(b('A: 1\nB:  two: 2\r\nC:\n\n')), [
      ['A', '1'],
      ['B', 'two: 2'],
      ['C', ''],
    ]);
    // One non-ASCII line makes the block UTF-8; every name and value still comes out whole.
    assert.deepEqual(parseHeaderLines(b('Reply-Text: -ERR café\nGröße: 3 €\nX: plain\n\n')), [
      ['Reply-Text', '-ERR café'],
      ['Größe', '3 €'],
      ['X', 'plain'],
    ]);
  });

  it('blank lines (empty or a lone CR) are skipped; a range is parsed on its own', () => {
    assert.deepEqual(parseHeaderLines(b('A: 1\n\nB: 2\n\r\nC: ü\n')), [
      ['A', '1'],
      ['B', '2'],
      ['C', 'ü'],
    ]);
    const block = b('ü-junk\nA: é\nB: 2\n\nrest');
    const start = block.indexOf('A:');
    const end = block.indexOf('\n\n') + 2;
    assert.deepEqual(parseHeaderLines(block, start, end), [
      ['A', 'é'],
      ['B', '2'],
    ]);
  });

  it('a line without a colon is an EslParseError quoting the line', () => {
    assert.throws(() => parseHeaderLines(b('A: 1\nkaputt ü\n\n')), (err: unknown) => {
      assert.ok(err instanceof EslParseError);
      assert.equal(err.message, 'malformed header line: "kaputt ü"');
      return true;
    });
  });
});

describe('Parser fast path: CRLF line endings', () => {
  it('a CRLF block whose first "\\n\\n" lies inside the body', () => {
    const data = b('Content-Type: api/response\r\nContent-Length: 4\r\n\r\nab\n\nContent-Type: auth/request\r\n\r\n');
    const frames = sameInEveryChunking(data);
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0]!.headers, [
      ['Content-Type', 'api/response'],
      ['Content-Length', '4'],
    ]);
    assert.equal(frames[0]!.bodyText, 'ab\n\n');
    assert.deepEqual(frames[1]!.headers, [['Content-Type', 'auth/request']]);
  });

  it('a CRLF event frame whose body holds LF-only header-like lines', () => {
    const payload = 'Event-Name: API\n\nContent-Type: x\n\n';
    const data = b(`Content-Length: ${payload.length}\r\nContent-Type: text/event-plain\r\n\r\n${payload}`);
    const [f, ...rest] = sameInEveryChunking(data);
    assert.equal(rest.length, 0);
    assert.equal(f!.contentType, 'text/event-plain');
    assert.equal(f!.bodyText, payload);
  });

  it('CR on one line only, a lone-CR blank line, and a CR inside a value', () => {
    const frames = sameInEveryChunking(
      b(
        'Content-Type: command/reply\nReply-Text: +OK\r\n\n' +
          'Content-Type: command/reply\r\nReply-Text: +OK two\n\r\n' +
          'Content-Type: command/reply\nReply-Text: a\rb\n\n',
      ),
    );
    assert.equal(frames.length, 3);
    assert.deepEqual(frames[0]!.headers, [
      ['Content-Type', 'command/reply'],
      ['Reply-Text', '+OK'],
    ]);
    assert.deepEqual(frames[1]!.headers, [
      ['Content-Type', 'command/reply'],
      ['Reply-Text', '+OK two'],
    ]);
    assert.deepEqual(frames[2]!.headers, [
      ['Content-Type', 'command/reply'],
      ['Reply-Text', 'a\rb'],
    ]);
  });

  it('Content-Length and Content-Type values ending in CR', () => {
    const [f, g] = sameInEveryChunking(
      b('Content-Length: 3\r\nContent-Type: text/event-plain\r\n\r\nabcContent-Type: command/reply\r\n\r\n'),
    );
    assert.deepEqual(f!.headers, [
      ['Content-Length', '3'],
      ['Content-Type', 'text/event-plain'],
    ]);
    assert.equal(f!.bodyText, 'abc');
    assert.equal(g!.contentType, 'command/reply');
  });
});

describe('Parser fast path: blocks with headers outside the usual few (the connect reply)', () => {
  // Once a block has such a header, its end is found by a search and its rest split as a string.
  it('the blank line is the first LF or CRLF one, never one in the next frame or a body', () => {
    const frames = sameInEveryChunking(
      b(
        'Content-Type: command/reply\nX-A: 1\nX-B: two: 2\r\n\r\n' +
          // An LF blank line follows in this frame's body: the CRLF one before it ends the block.
          'Content-Length: 4\nContent-Type: api/response\nX-C: 3\n\r\nab\n\n' +
          'X-D: 4\nReply-Text: +OK\n\nContent-Type: auth/request\r\n\r\n',
      ),
    );
    assert.deepEqual(
      frames.map((f) => [f.headers, f.bodyText]),
      [
        [[['Content-Type', 'command/reply'], ['X-A', '1'], ['X-B', 'two: 2']], ''],
        [[['Content-Length', '4'], ['Content-Type', 'api/response'], ['X-C', '3']], 'ab\n\n'],
        [[['X-D', '4'], ['Reply-Text', '+OK']], ''],
        [[['Content-Type', 'auth/request']], ''],
      ],
    );
  });

  it('a Content-Length before or after the other headers, and in lower case, counts once', () => {
    const frames = sameInEveryChunking(
      b(
        'Content-Length: 2\nX-A: 1\nContent-Length: 9\n\nab' +
          'X-A: 1\nContent-Length: 3\nContent-Type: api/response\n\nabc' +
          'X-A: 1\ncontent-length: 1\n\nz' +
          'Content-Type: api/response\nContent-Length: 01\nX-A: 1\n\nq',
      ),
    );
    assert.deepEqual(
      frames.map((f) => f.bodyText),
      ['ab', 'abc', 'z', 'q'],
    );
  });

  it('UTF-8 in names and values, and invalid UTF-8, as the general path decodes them', () => {
    const data = Buffer.concat([b('Content-Type: command/reply\nGröße: 3 €\nX: '), Buffer.from([0xc3, 0x28]), b('\n\n')]);
    const [f] = sameInEveryChunking(data);
    assert.deepEqual(f!.headers, [
      ['Content-Type', 'command/reply'],
      ['Größe', '3 €'],
      ['X', '\ufffd('],
    ]);
  });

  it('a block larger than maxHeaderBytes: the same EslParseError fed whole as byte by byte', () => {
    const block = b(`Content-Type: command/reply\nX-Big: ${'x'.repeat(100)}\nY: 1\n\n`);
    const r = fastEqualsGeneral(block, { maxHeaderBytes: block.length - 1 });
    assert.ok(r.error instanceof EslParseError);
    assert.equal((r.error as Error).message, `header block exceeds ${block.length - 1} bytes`);
    assert.equal(framesBothWays(block, { maxHeaderBytes: block.length }).length, 1);
  });
});

describe('Parser fast path: limits', () => {
  it('a header block larger than maxHeaderBytes fed whole: EslParseError, as byte by byte', () => {
    const block = b(`Content-Type: command/reply\nReply-Text: ${'x'.repeat(100)}\n\n`);
    const max = block.length - 1;
    const r = fastEqualsGeneral(block, { maxHeaderBytes: max });
    assert.ok(r.error instanceof EslParseError);
    assert.equal((r.error as Error).message, `header block exceeds ${max} bytes`);
    assert.equal(r.frames.length, 0);
    // Exactly at the limit is accepted (the limit is inclusive).
    assert.equal(framesBothWays(block, { maxHeaderBytes: block.length }).length, 1);
    // A frame before the big one is still delivered; the parser then stays failed.
    const frames: Frame[] = [];
    const p = new Parser((f) => frames.push(f), { maxHeaderBytes: max });
    const data = Buffer.concat([b('Content-Type: auth/request\n\n'), block]);
    assert.throws(() => p.push(data), { name: 'EslParseError', message: `header block exceeds ${max} bytes` });
    assert.equal(frames.length, 1);
    assert.throws(() => p.push(b('Content-Type: auth/request\n\n')), { message: `header block exceeds ${max} bytes` });
    assert.equal(frames.length, 1);
  });

  it('a Content-Length above maxBodyBytes fed whole: the same EslParseError as byte by byte', () => {
    for (const value of ['11', '011', '11 ', '999999999999999']) {
      const data = b(`Content-Type: api/response\nContent-Length: ${value}\n\n0123456789a`);
      const r = fastEqualsGeneral(data, { maxBodyBytes: 10 });
      assert.ok(r.error instanceof EslParseError, value);
      assert.equal((r.error as Error).message, `Content-Length ${Number(value)} exceeds the 10-byte body limit`, value);
      assert.equal(r.frames.length, 0);
    }
    // At the limit: fine.
    const ok = framesBothWays(b('Content-Type: api/response\nContent-Length: 10\n\n0123456789'), { maxBodyBytes: 10 });
    assert.equal(ok[0]!.bodyText, '0123456789');
  });
});

describe('Parser: bodies that span chunks', () => {
  /** `count` plain event frames of about `size` bytes each, each body distinct. */
  function events(count: number, size: number): { data: Buffer; bodies: string[] } {
    const bodies: string[] = [];
    const parts: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const inner = filler(`ev${i}-`, size - 200);
      const payload = plainEventText(
        [
          ['Event-Name', 'BACKGROUND_JOB'],
          ['Job-UUID', `job-${i}`],
        ],
        inner,
      );
      bodies.push(payload.toString('latin1'));
      parts.push(eventFrame('plain', payload));
    }
    return { data: Buffer.concat(parts), bodies };
  }

  it('consecutive ~5.5 KB events in 4 KiB chunks come out whole and correct', () => {
    const { data, bodies } = events(12, 5500);
    const r = parseChunks(chunksOf(data, 4096));
    assert.equal(r.error, undefined);
    assert.equal(r.idle, true);
    assert.equal(r.frames.length, 12);
    for (let i = 0; i < 12; i++) {
      const f = r.frames[i]!;
      assert.equal(f.body!.toString('latin1'), bodies[i], `event ${i}`);
      const ev = EslEvent.fromFrame(f)!;
      assert.equal(ev.jobUuid, `job-${i}`);
      assert.equal(ev.body, filler(`ev${i}-`, 5300));
    }
    assert.equal(describeFrames(r.frames), describeFrames(parseChunks([data]).frames));
  });

  it('retained bodies are never overwritten by later frames (slab reuse)', () => {
    // Far more than one 64 KiB slab of spanning bodies, in odd sizes (alignment) and odd chunks.
    const sizes = [5500, 333, 16384, 7, 9000, 1025, 12000, 4097, 16385, 60000];
    const parts: Buffer[] = [];
    const expected: string[] = [];
    for (let round = 0; round < 6; round++) {
      for (let k = 0; k < sizes.length; k++) {
        const body = filler(`r${round}k${k}:`, sizes[k]!);
        expected.push(body);
        parts.push(b(`Content-Type: api/response\nContent-Length: ${body.length}\n\n${body}`));
      }
    }
    for (const size of [4096, 1000, 777]) {
      // A fresh copy each time: bodies inside one chunk are views of it, and they get wiped below.
      const data = Buffer.concat(parts);
      const frames: Frame[] = [];
      const p = new Parser((f) => frames.push(f));
      const snapshots: string[] = [];
      for (const c of chunksOf(data, size)) {
        p.push(c);
        while (snapshots.length < frames.length) snapshots.push(frames[snapshots.length]!.body!.toString('latin1'));
      }
      assert.equal(frames.length, expected.length);
      for (let i = 0; i < frames.length; i++) {
        // As delivered, and still the same after every later frame was parsed.
        assert.equal(snapshots[i], expected[i], `chunk ${size}, frame ${i} as delivered`);
        assert.equal(frames[i]!.body!.toString('latin1'), expected[i], `chunk ${size}, frame ${i} after the rest`);
      }
      // No two retained bodies share memory: wiping one leaves every other intact.
      for (let i = 0; i < frames.length; i += 7) frames[i]!.body!.fill(0);
      for (let i = 0; i < frames.length; i++) {
        if (i % 7 === 0) continue;
        assert.equal(frames[i]!.body!.toString('latin1'), expected[i], `chunk ${size}, frame ${i} after wiping others`);
      }
    }
  });

  it('a body of more than 16 KiB spanning chunks, and bodies at the 16 KiB slab boundary', () => {
    for (const n of [16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 100_000, 300_000]) {
      const body = filler(`big${n}:`, n);
      const data = b(`Content-Type: api/response\nContent-Length: ${n}\n\n${body}Content-Type: auth/request\n\n`);
      for (const size of [4096, 65536, 1]) {
        const r = parseChunks(size === 1 ? byteByByte(data) : chunksOf(data, size));
        assert.equal(r.error, undefined);
        assert.equal(r.frames.length, 2, `${n} in ${size}-byte chunks`);
        assert.equal(r.frames[0]!.body!.length, n);
        assert.equal(r.frames[0]!.bodyText, body, `${n} in ${size}-byte chunks`);
        assert.equal(r.frames[1]!.contentType, 'auth/request');
      }
    }
  });

  it('bodies inside one chunk are the right bytes of a chunk that is itself a view (byteOffset ≠ 0)', () => {
    const data = b(
      'Content-Type: api/response\nContent-Length: 5\n\nfirst' +
        'Content-Length: 6\nContent-Type: text/event-plain\n\nsecond' +
        'Content-Type: log/data\nContent-Length: 5\n\nthird',
    );
    const backing = Buffer.alloc(data.length + 2000, 0x21);
    data.copy(backing, 1000);
    const chunk = backing.subarray(1000, 1000 + data.length);
    assert.equal(chunk.byteOffset - backing.byteOffset, 1000);
    const r = parseChunks([chunk]);
    assert.equal(r.error, undefined);
    assert.deepEqual(
      r.frames.map((f) => f.bodyText),
      ['first', 'second', 'third'],
    );
    // Two chunks: the first body spans them, the others lie in the second chunk.
    const cut = data.indexOf('fir') + 2;
    const r2 = parseChunks([chunk.subarray(0, cut), chunk.subarray(cut)]);
    assert.deepEqual(
      r2.frames.map((f) => f.bodyText),
      ['first', 'second', 'third'],
    );
  });

  it('the big plain capture in 4 KiB and 64 KiB chunks equals the capture fed whole', () => {
    const data = fixture('plain');
    const bounds = frameBoundaries(data);
    const whole = parseChunks([data]);
    assert.equal(whole.error, undefined);
    assert.equal(whole.frames.length, bounds.length);
    // Each body is exactly the capture's bytes after the frame's blank line.
    for (let i = 0; i < bounds.length; i++) {
      const [start, end] = bounds[i]!;
      const blank = data.indexOf('\n\n', start, 'latin1') + 2;
      const f = whole.frames[i]!;
      if (blank === end) assert.equal(f.body, undefined);
      else assert.ok(f.body!.equals(data.subarray(blank, end)), `frame ${i}`);
    }
    const expected = describeFrames(whole.frames);
    for (const size of [4096, 65536, 1500]) {
      const r = parseChunks(chunksOf(data, size));
      assert.equal(r.error, undefined);
      assert.equal(describeFrames(r.frames), expected, `${size}-byte chunks`);
    }
  });
});

// ---------------------------------------------------------------------------------------------

const PAD: Array<[string, string]> = [
  ['Core-UUID', '74b36429-3ff4-4d88-9ff7-ccc9745e901a'],
  ['FreeSWITCH-Hostname', 'vm'],
  ['FreeSWITCH-IPv4', '192.0.2.2'],
  ['Event-Date-GMT', 'Thu, 26 Nov 2026 23:00:06 GMT'],
  ['Event-Calling-File', 'mod_event_socket.c'],
  ['Event-Sequence', '944'],
];

describe('EslEvent: name', () => {
  it('a known first-line Event-Name is the EVENT_NAMES entry, whatever the spacing', () => {
    for (const known of EVENT_NAMES) {
      for (const line of [`Event-Name: ${known}`, `Event-Name:${known}`, `Event-Name:   ${known}`]) {
        const ev = EslEvent.fromPlain(b(`${line}\nCore-UUID: x\n\n`));
        const name = ev.name;
        // (=== on strings compares contents: the shared constant cannot be told apart from a copy.)
        assert.equal(name, known, line);
        assert.equal(name, ev.get('Event-Name'), line);
      }
      // The only line, with or without its LF.
      assert.equal(EslEvent.fromPlain(b(`Event-Name: ${known}\n`)).name, known);
      assert.equal(EslEvent.fromPlain(b(`Event-Name: ${known}`)).name, known);
    }
  });

  it('unknown names, near misses of known names and %-encoded names resolve through get', () => {
    const cases: Array<[string, string]> = [
      ['MY_THING', 'MY_THING'],
      ['CUSTOMX', 'CUSTOMX'],
      ['CUSTO', 'CUSTO'],
      ['custom', 'custom'],
      ['CUSTOM ', 'CUSTOM '],
      ['CHANNEL%5FCREATE', 'CHANNEL_CREATE'],
      ['MY%20THING', 'MY THING'],
      ['_undef_', ''],
      ['', ''],
      [`${'X'.repeat(40)}`, 'X'.repeat(40)],
      ['Jürgen', 'Jürgen'],
    ];
    for (const [wire, expected] of cases) {
      const text = b(`Event-Name: ${wire}\nCore-UUID: x\n\n`);
      assert.equal(EslEvent.fromPlain(text).name, expected, wire);
      assert.equal(EslEvent.fromPlain(text).get('Event-Name'), expected, wire);
      const full = EslEvent.fromPlain(text);
      assert.equal(full.toObject()['Event-Name'], expected, wire);
      assert.equal(full.name, expected, wire);
    }
  });

  it('when the first line is not Event-Name: a later header, a lower-case header, none', () => {
    const later = b('Event-Subclass: test%3A%3Ademo\nCommand: sendevent%20CUSTOM\nEvent-Name: CUSTOM\n\n');
    assert.equal(EslEvent.fromPlain(later).name, 'CUSTOM');
    assert.equal(EslEvent.fromPlain(later).subclass, 'test::demo');
    const prefix = b('Event-Name-Extra: API\nEvent-Name: CUSTOM\n\n');
    assert.equal(EslEvent.fromPlain(prefix).name, 'CUSTOM');
    const lower = b('event-name: API\nCore-UUID: x\n\n');
    assert.equal(EslEvent.fromPlain(lower).name, 'API');
    assert.equal(EslEvent.fromPlain(lower).get('Event-Name'), 'API');
    const lowerLater = b('Core-UUID: x\nEVENT-NAME: HEARTBEAT\n\n');
    assert.equal(EslEvent.fromPlain(lowerLater).name, 'HEARTBEAT');
    // The exact spelling wins over an earlier other-case header (get's rule), for name too.
    const both = b('event-name: API\nEvent-Name: HEARTBEAT\n\n');
    assert.equal(EslEvent.fromPlain(both).name, 'HEARTBEAT');
    // No Event-Name header: '' even if the body has such a line; an empty header block too.
    const inBody = plainEventText([['Core-UUID', 'x']], 'Event-Name: API\n');
    assert.equal(EslEvent.fromPlain(inBody).name, '');
    assert.equal(EslEvent.fromPlain(b('\nEvent-Name: API\n')).name, '');
    assert.equal(EslEvent.fromPlain(b('')).name, '');
  });

  it('the misc capture: the sendevent CUSTOM event starts with Event-Subclass', () => {
    const frames = parseChunks([fixture('misc')]).frames;
    const custom = frames.map((f) => EslEvent.fromFrame(f)).find((ev) => ev?.get('Event-Subclass') !== undefined)!;
    assert.ok(custom);
    assert.equal(custom.name, 'CUSTOM');
    assert.equal(custom.subclass, 'test::demo');
    assert.equal(custom.get('Content-Length'), '33');
    assert.equal(custom.get('Content-Type'), 'text/plain');
    assert.equal(custom.body, 'hello from misc_capture\nline two\n');
  });
});

describe('EslEvent: plain values', () => {
  /** The lazily looked-up value of `name`, checked against the full parse of the same bytes. */
  function lookup(text: Buffer, name: string): string | undefined {
    const lazy = EslEvent.fromPlain(text).get(name);
    const full = EslEvent.fromPlain(text);
    [...full.headers()];
    assert.equal(full.get(name), lazy, `${name}: lazy and full parse agree`);
    return lazy;
  }

  it('_undef_ is an empty value, only as the whole value', () => {
    const text = b('Event-Name: CUSTOM\nA: _undef_\nB: _undef_x\nC: x_undef_\nD:_undef_\nE: _undef_');
    assert.equal(lookup(text, 'A'), '');
    assert.equal(lookup(text, 'B'), '_undef_x');
    assert.equal(lookup(text, 'C'), 'x_undef_');
    assert.equal(lookup(text, 'D'), '');
    assert.equal(lookup(text, 'E'), '', 'at the end of the buffer, no LF');
  });

  it('values of 63, 64, 65 and more bytes, with and without %', () => {
    const a = (n: number): string => 'a'.repeat(n);
    const cases: Array<[string, string]> = [
      [a(63), a(63)],
      [a(64), a(64)],
      [a(65), a(65)],
      [a(200), a(200)],
      [`${a(61)}%41`, `${a(61)}A`], // 64 bytes, % inside the scanned part
      [`${a(62)}%41`, `${a(62)}A`], // 65 bytes, % inside the scanned part
      [`${a(63)}%41`, `${a(63)}A`], // % is byte 64 (the last one scanned)
      [`${a(64)}%41`, `${a(64)}A`], // % is byte 65, past the scanned part
      [`${a(100)}%20${a(10)}%C3%BC`, `${a(100)} ${a(10)}ü`],
      [`%41${a(100)}`, `A${a(100)}`],
      [`${a(64)}%zz`, `${a(64)}%zz`],
    ];
    for (const [wire, expected] of cases) {
      const text = b(`Event-Name: CUSTOM\nV: ${wire}\nAfter: z\n\n`);
      assert.equal(lookup(text, 'V'), expected, `${wire.length} bytes: ${wire}`);
      assert.equal(lookup(text, 'After'), 'z');
      // The same value as the last line, with no LF after it.
      assert.equal(lookup(b(`Event-Name: CUSTOM\nV: ${wire}`), 'V'), expected, `${wire} at the end`);
    }
  });

  it('raw (not URL-encoded) UTF-8 bytes in values, before and after the first 64 bytes', () => {
    const cases = ['café', 'Jürgen Ünal 😀', `${'x'.repeat(70)}é`, `${'x'.repeat(63)}é`, `é${'x'.repeat(70)}`, '€%20€'];
    for (const value of cases) {
      const text = b(`Event-Name: CUSTOM\nV: ${value}\n\n`);
      assert.equal(lookup(text, 'V'), value.replace('%20', ' '), value);
    }
    // DEL (0x7f) and control bytes are kept as they are.
    assert.equal(lookup(b('Event-Name: CUSTOM\nV: a\x7fb\tc\n\n'), 'V'), 'a\x7fb\tc');
  });

  it('a value at the very end of the buffer, without a trailing LF', () => {
    assert.equal(lookup(b('Event-Name: CUSTOM\nLast: tail'), 'Last'), 'tail');
    assert.equal(lookup(b('Event-Name: CUSTOM\nLast: '), 'Last'), '');
    assert.equal(lookup(b('Event-Name: CUSTOM\nLast:'), 'Last'), '');
    assert.equal(lookup(b(`Event-Name: CUSTOM\nLast: ${'t'.repeat(64)}`), 'Last'), 't'.repeat(64));
    assert.equal(lookup(b(`Event-Name: CUSTOM\nLast: ${'t'.repeat(90)}`), 'Last'), 't'.repeat(90));
    assert.equal(lookup(b('Event-Name: CUSTOM\nLast: 100%25'), 'Last'), '100%');
    assert.equal(lookup(Buffer.concat([b('Event-Name: CUSTOM\nLast: caf'), Buffer.from([0xc3, 0xa9])]), 'Last'), 'café');
    assert.equal(EslEvent.fromPlain(b('Event-Name: CUSTOM')).name, 'CUSTOM');
  });

  it('leading spaces after the colon are dropped, trailing ones kept', () => {
    const text = b(`Event-Name: CUSTOM\nA:v\nB:    v\nC: v  \nD:   \nE: ${' '.repeat(70)}w\nF:  %20x\n\n`);
    assert.equal(lookup(text, 'A'), 'v');
    assert.equal(lookup(text, 'B'), 'v');
    assert.equal(lookup(text, 'C'), 'v  ');
    assert.equal(lookup(text, 'D'), '');
    assert.equal(lookup(text, 'E'), 'w');
    assert.equal(lookup(text, 'F'), ' x');
    assert.equal(lookup(text, 'c'), 'v  ', 'case-insensitive lookup too');
  });
});

describe('EslEvent: the header/body boundary (blank-line check)', () => {
  const BODY = 'line one\nUnique-ID: wrong\nunique-id: wrong too\n\nUnique-ID: wrong again\n';

  function padded(extra: Array<[string, string]>, body?: string): Buffer {
    return plainEventText([['Event-Name', 'BACKGROUND_JOB'], ...PAD, ...extra], body);
  }

  it('> 128 bytes of headers, no Unique-ID, a body with "Unique-ID: wrong": not a header', () => {
    const text = padded([['Job-UUID', JOB]], BODY);
    const blank = text.indexOf('\n\n');
    assert.ok(blank > 128, `headers are ${blank} bytes`);
    assert.ok(text.indexOf('\nUnique-ID:') > blank);
    const ev = EslEvent.fromPlain(text);
    assert.equal(ev.uniqueId, undefined);
    assert.equal(ev.get('unique-id'), undefined);
    assert.equal(ev.body, BODY);
    assert.equal(ev.jobUuid, JOB);
    assert.equal(EslEvent.fromPlain(text).get('unique-id'), undefined, 'case-insensitive first');
    assert.equal(EslEvent.fromPlain(text).has('UNIQUE-ID'), false);
    // The body first, then the lookup.
    const bodyFirst = EslEvent.fromPlain(text);
    assert.equal(bodyFirst.body, BODY);
    assert.equal(bodyFirst.uniqueId, undefined);
    assert.deepEqual(
      [...EslEvent.fromPlain(text).headers()].map(([n]) => n),
      ['Event-Name', ...PAD.map(([n]) => n), 'Job-UUID', 'Content-Length'],
    );
  });

  it('an event over 16 KiB: case-insensitive lookups see only its headers', () => {
    // A long api output as the body: the folded lookup must not take its lines for headers.
    const big = `${'x'.repeat(80)}\n`.repeat(300) + BODY;
    assert.ok(big.length > 16 * 1024);
    const without = padded([['Job-UUID', JOB]], big);
    assert.equal(EslEvent.fromPlain(without).get('unique-id'), undefined);
    assert.equal(EslEvent.fromPlain(without).get('UNIQUE-ID'), undefined);
    assert.equal(EslEvent.fromPlain(without).body, big);
    const withHeader = padded([['Job-UUID', JOB], ['UNIQUE-id', 'right']], big);
    const ev = EslEvent.fromPlain(withHeader);
    assert.equal(ev.get('unique-id'), 'right');
    assert.equal(ev.uniqueId, 'right');
    assert.equal(ev.get('job-uuid'), JOB);
    assert.equal(ev.body, big);
  });

  it('a body that starts with "Unique-ID:" right after the blank line', () => {
    const body = 'Unique-ID: wrong\n';
    const text = padded([], body);
    assert.equal(text.indexOf('\n\nUnique-ID: wrong'), text.indexOf('\n\n'));
    assert.equal(EslEvent.fromPlain(text).uniqueId, undefined);
    assert.equal(EslEvent.fromPlain(text).get('UNIQUE-ID'), undefined);
    assert.equal(EslEvent.fromPlain(text).body, body);
  });

  it('the same event with a Unique-ID header before the body gets the header value', () => {
    // At more than 128 bytes in, and near the top.
    const late = padded([['Unique-ID', 'right']], BODY);
    assert.ok(late.indexOf('\nUnique-ID: right') > 128);
    assert.equal(EslEvent.fromPlain(late).uniqueId, 'right');
    assert.equal(EslEvent.fromPlain(late).get('unique-id'), 'right');
    assert.equal(EslEvent.fromPlain(late).body, BODY);
    const ev = EslEvent.fromPlain(late);
    assert.equal(ev.uniqueId, 'right');
    assert.equal(ev.body, BODY);
    assert.equal(ev.toObject()['Unique-ID'], 'right');
    const early = plainEventText([['Event-Name', 'BACKGROUND_JOB'], ['Unique-ID', 'right'], ...PAD], BODY);
    assert.ok(early.indexOf('\nUnique-ID: right') < 128);
    assert.equal(EslEvent.fromPlain(early).uniqueId, 'right');
    // A lower-case header before the body, an exact-case line only in the body.
    const lower = padded([['unique-id', 'lower']], BODY);
    assert.equal(EslEvent.fromPlain(lower).uniqueId, 'lower');
  });

  it('a first lookup that clears part of the headers, then a lookup of a name found only in the body', () => {
    const text = padded([['Job-UUID', JOB], ['Job-Command', 'status']], `${'b'.repeat(300)}\n${BODY}`);
    const jobAt = text.indexOf('\nJob-Command:');
    assert.ok(jobAt >= 128);
    // A first lookup at 128+ bytes (the backward search), then one in the body, far beyond it.
    const ev = EslEvent.fromPlain(text);
    assert.equal(ev.get('Job-Command'), 'status');
    assert.equal(ev.uniqueId, undefined);
    assert.equal(ev.get('unique-id'), undefined);
    assert.equal(ev.get('Job-UUID'), JOB);
    assert.equal(ev.body, `${'b'.repeat(300)}\n${BODY}`);
    // A first lookup near the top (the short loop), then the body lookups.
    const ev2 = EslEvent.fromPlain(text);
    assert.equal(ev2.get('Core-UUID'), PAD[0]![1]);
    assert.equal(ev2.uniqueId, undefined);
    assert.equal(ev2.get('UNIQUE-ID'), undefined);
    // A first lookup at 128+ bytes, then a body match that is close behind it (short loop from there).
    const close = padded([['Job-UUID', JOB]], 'Unique-ID: wrong\n');
    const ev3 = EslEvent.fromPlain(close);
    assert.ok(close.indexOf('\nJob-UUID:') >= 128);
    assert.equal(ev3.jobUuid, JOB);
    assert.ok(close.indexOf('\nUnique-ID:') - close.indexOf('\nJob-UUID:') < 128);
    assert.equal(ev3.uniqueId, undefined);
    // Then a real header after those lookups is still found.
    assert.equal(ev3.get('Event-Sequence'), '944');
  });

  it('an event with no blank line at all: every line is a header', () => {
    const text = b(`Event-Name: CUSTOM\n${PAD.map(([n, v]) => `${n}: ${encodeURIComponent(v)}\n`).join('')}Unique-ID: last`);
    assert.ok(text.length > 200);
    assert.equal(EslEvent.fromPlain(text).uniqueId, 'last');
    assert.equal(EslEvent.fromPlain(text).get('unique-id'), 'last');
    assert.equal(EslEvent.fromPlain(text).body, '');
  });
});

describe('EslEvent fast paths on the plain capture', () => {
  const frames = parseChunks([fixture('plain')]).frames;
  const plainFrames = frames.filter((f) => f.contentType === 'text/event-plain');

  it('142 events; name = get("Event-Name") = the name from a full iteration, a known type', () => {
    assert.equal(plainFrames.length, 142);
    for (const f of plainFrames) {
      const name = EslEvent.fromFrame(f)!.name;
      const got = EslEvent.fromFrame(f)!.get('Event-Name');
      const iterated = [...EslEvent.fromFrame(f)!.headers()].find(([n]) => n === 'Event-Name')?.[1];
      assert.equal(name, got);
      assert.equal(name, iterated);
      assert.ok((EVENT_NAMES as readonly string[]).includes(name), name);
      const ev = EslEvent.fromFrame(f)!;
      [...ev.headers()];
      assert.equal(ev.name, name, 'the same after a full parse');
    }
  });

  it('uniqueId equals toObject()["Unique-ID"], and every header looked up lazily equals the full parse', () => {
    let withId = 0;
    for (const f of plainFrames) {
      const obj = EslEvent.fromFrame(f)!.toObject();
      const id = EslEvent.fromFrame(f)!.uniqueId;
      assert.equal(id, obj['Unique-ID']);
      if (id !== undefined) withId++;
      for (const [name, value] of Object.entries(obj)) {
        assert.equal(EslEvent.fromFrame(f)!.get(name), value, `${obj['Event-Name']} ${name}`);
      }
      // One event, many lookups in a row (clearTo advancing), then the body.
      const ev = EslEvent.fromFrame(f)!;
      for (const [name, value] of Object.entries(obj)) assert.equal(ev.get(name), value, name);
      assert.equal(ev.body, EslEvent.fromFrame(f)!.body);
    }
    assert.ok(withId > 100, `${withId} events have a Unique-ID`);
  });

  it('BACKGROUND_JOB bodies: lines in the body are not headers', () => {
    const jobs = plainFrames.map((f) => EslEvent.fromFrame(f)!).filter((ev) => ev.name === 'BACKGROUND_JOB');
    assert.equal(jobs.length, 3);
    for (const f of plainFrames) {
      const ev = EslEvent.fromFrame(f)!;
      if (ev.name !== 'BACKGROUND_JOB') continue;
      // The event body is every byte after the event's own blank line, as many as its Content-Length.
      const raw = f.body!;
      const after = raw.subarray(raw.indexOf('\n\n') + 2);
      assert.ok(after.length > 0);
      assert.equal(ev.get('Content-Length'), String(after.length));
      assert.equal(ev.body, after.toString('utf8'));
      assert.ok(ev.jobUuid);
      // No line of the body shows up as a header.
      const names = new Set([...ev.headers()].map(([n]) => n));
      for (const line of after.toString('utf8').split('\n')) {
        const colon = line.indexOf(':');
        if (colon > 0 && !names.has(line.slice(0, colon))) assert.equal(ev.get(line.slice(0, colon)), undefined, line);
      }
    }
  });
});

describe('Parser fast path: frames with only Content-Type and Content-Length (pairs built on demand)', () => {
  const NAMES = ['Content-Type', 'content-type', 'CONTENT-TYPE', 'Content-Length', 'content-length', 'Reply-Text', 'X', 'Content-Typ', 'Content-Lengths', ''];

  /** Everything a reader can ask a frame, as text. */
  function answers(frames: readonly Frame[]): string {
    return frames
      .map((f) => [f.contentType, ...NAMES.map((n) => `${n}=${String(f.get(n))}`), JSON.stringify(f.headers)].join('|'))
      .join('\n');
  }

  it('get, contentType and headers agree with the general path in every chunking', () => {
    const blocks = [
      'Content-Type: auth/request\n\n',
      'Content-Length: 3\nContent-Type: text/event-plain\n\nabc',
      'Content-Type: api/response\nContent-Length: 2\n\nok',
      'Content-Length: 2\n\nhi',
      'Content-Length: 0\n\n',
      'Content-Type: text/event-json\nContent-Length: 0\n\n',
      '\n',
      'Content-Length: 1\nContent-Type: log/data\nLog-Level: 7\n\nx',
      'X: 1\nContent-Type: command/reply\n\n',
      'Content-Type: command/reply\nContent-Type: api/response\n\n',
      'Content-Length: 1\nContent-Length: 5\nContent-Type: text/event-xml\n\ny',
      'Content-Type: a/b\nContent-Length: 1\n\nz',
      'Content-Length: 01\nContent-Type: api/response\n\nw',
      'Content-Type: api/response\r\nContent-Length: 2\r\n\r\nok',
    ];
    for (const block of blocks) {
      const data = b(block);
      const whole = parseChunks([data]);
      assert.equal(whole.error, undefined, block);
      const expected = answers(whole.frames);
      const slow = parseChunks(byteByByte(data));
      assert.equal(answers(slow.frames), expected, JSON.stringify(block));
      sameInEveryChunking(data);
    }
  });

  it('wire order is kept, and headers is one stable list', () => {
    const [event, api, only] = parseChunks([b('Content-Length: 1\nContent-Type: text/event-plain\n\nA' + 'Content-Type: api/response\nContent-Length: 1\n\nB' + 'Content-Type: auth/request\n\n')]).frames;
    assert.deepEqual(event!.headers, [['Content-Length', '1'], ['Content-Type', 'text/event-plain']]);
    assert.deepEqual(api!.headers, [['Content-Type', 'api/response'], ['Content-Length', '1']]);
    assert.deepEqual(only!.headers, [['Content-Type', 'auth/request']]);
    assert.equal(event!.headers, event!.headers);
    assert.equal(event!.get('Content-Length'), '1');
    assert.equal(event!.bodyText, 'A');
    assert.equal(only!.get('Content-Length'), undefined);
    assert.equal(only!.body, undefined);
  });

  it('a header after a bare Content-Length and Content-Type keeps both before it', () => {
    const [f] = parseChunks([b('Content-Length: 2\nContent-Type: text/event-plain\nX-Extra: yes\nContent-Length: 9\n\nhi')]).frames;
    assert.deepEqual(f!.headers, [['Content-Length', '2'], ['Content-Type', 'text/event-plain'], ['X-Extra', 'yes'], ['Content-Length', '9']]);
    assert.equal(f!.get('Content-Length'), '2');
    assert.equal(f!.bodyText, 'hi');
  });
});
