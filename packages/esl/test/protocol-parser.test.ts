/**
 * Parser and Frame on hand-built frames following PROTOCOL.md §1–§2: header blocks, byte-counted
 * bodies, header order, values containing ': ', CRLF tolerance, limits and chunking.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EslParseError } from '../src/errors.js';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  Frame,
  Parser,
  parseFrames,
  parseHeaderLines,
  type ParserOptions,
} from '../src/protocol/index.js';
import { describeFrames, forEveryChunking, parseChunks } from './helpers/fixtures.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

function collect(data: Buffer | string, options?: ParserOptions): Frame[] {
  return parseFrames(typeof data === 'string' ? b(data) : data, options);
}

/** Asserts that every chunking of `data` yields exactly `expected` frames (as described). */
function sameInEveryChunking(data: Buffer, options?: ParserOptions): Frame[] {
  const frames = parseFrames(data, options);
  const expected = describeFrames(frames);
  forEveryChunking(data, (chunks, label) => {
    const r = parseChunks(chunks, options);
    assert.equal(r.error, undefined, label);
    assert.equal(r.idle, true, label);
    assert.equal(describeFrames(r.frames), expected, label);
  });
  return frames;
}

describe('Parser: framing', () => {
  it('a header block without body', () => {
    const [f, ...rest] = collect('Content-Type: auth/request\n\n');
    assert.equal(rest.length, 0);
    assert.deepEqual(f!.headers, [['Content-Type', 'auth/request']]);
    assert.equal(f!.body, undefined);
    assert.equal(f!.bodyText, '');
    assert.equal(f!.contentType, 'auth/request');
  });

  it('a body of exactly Content-Length bytes, whatever it contains', () => {
    const body = 'line\n\nContent-Length: 5\n\nxx';
    const frames = sameInEveryChunking(
      b(`Content-Type: api/response\nContent-Length: ${body.length}\n\n${body}Content-Type: auth/request\n\n`),
    );
    assert.equal(frames.length, 2);
    assert.equal(frames[0]!.bodyText, body);
    assert.equal(frames[1]!.contentType, 'auth/request');
  });

  it('Content-Length counts bytes: multi-byte UTF-8 split inside a character', () => {
    const body = 'Ünal 😀 €';
    const bytes = Buffer.byteLength(body);
    assert.ok(bytes > body.length);
    const frames = sameInEveryChunking(
      b(`Content-Type: api/response\nContent-Length: ${bytes}\n\n${body}Content-Type: command/reply\nReply-Text: +OK\n\n`),
    );
    assert.equal(frames[0]!.bodyText, body);
    assert.equal(frames[0]!.body!.length, bytes);
    assert.equal(frames[1]!.get('Reply-Text'), '+OK');
  });

  it('event frames put Content-Length first; header order is kept as sent', () => {
    const payload = 'Event-Name: HEARTBEAT\n\n';
    const [f] = sameInEveryChunking(b(`Content-Length: ${payload.length}\nContent-Type: text/event-plain\n\n${payload}`));
    assert.deepEqual(f!.headers, [
      ['Content-Length', String(payload.length)],
      ['Content-Type', 'text/event-plain'],
    ]);
    assert.equal(f!.bodyText, payload);
  });

  it('values split at the first colon keep later ": " and lose only leading spaces', () => {
    const [f] = collect(
      'Content-Type: command/reply\nReply-Text: +OK Job-UUID: 1234\nJob-UUID:   1234\nTrailing: x  \nUser-Data: \nNoSpace:v\n\n',
    );
    assert.equal(f!.get('Reply-Text'), '+OK Job-UUID: 1234');
    assert.equal(f!.get('Job-UUID'), '1234');
    assert.equal(f!.get('Trailing'), 'x  ');
    assert.equal(f!.get('User-Data'), '');
    assert.equal(f!.get('NoSpace'), 'v');
  });

  it('Frame.get: case-insensitive, first of duplicates, exact case preferred', () => {
    const [f] = collect('Content-Type: x\nDup: 1\nDup: 2\nmixed: lower\nMIXED: upper\n\n');
    assert.equal(f!.get('content-type'), 'x');
    assert.equal(f!.get('CONTENT-TYPE'), 'x');
    assert.equal(f!.get('Dup'), '1');
    assert.equal(f!.get('MIXED'), 'upper');
    assert.equal(f!.get('Mixed'), 'lower');
    assert.equal(f!.get('missing'), undefined);
    assert.deepEqual(f!.headers.map(([n]) => n), ['Content-Type', 'Dup', 'Dup', 'mixed', 'MIXED']);
  });

  it('Content-Length is found in any case and position', () => {
    const [f] = sameInEveryChunking(b('Content-Type: api/response\ncontent-length: 3\nX: y\n\nabcContent-Type: z\n\n'));
    assert.equal(f!.bodyText, 'abc');
    assert.equal(f!.get('Content-Length'), '3');
  });

  it('Content-Length: 0 means no body (linger notice)', () => {
    const frames = sameInEveryChunking(
      b(
        'Content-Type: text/disconnect-notice\nControlled-Session-UUID: u\nContent-Disposition: linger\n' +
          'Channel-Name: loopback/7001-b\nLinger-Time: -1\nContent-Length: 0\n\nContent-Type: auth/request\n\n',
      ),
    );
    assert.equal(frames.length, 2);
    assert.equal(frames[0]!.body, undefined);
    assert.equal(frames[0]!.get('Linger-Time'), '-1');
  });

  it('UTF-8 in outer header values (raw, as FreeSWITCH writes them)', () => {
    const frames = sameInEveryChunking(b('Content-Type: command/reply\nReply-Text: Jürgen Ünal 😀\n\n'));
    assert.equal(frames[0]!.get('Reply-Text'), 'Jürgen Ünal 😀');
  });

  it('tolerates CRLF line endings and stray line breaks between frames', () => {
    const frames = sameInEveryChunking(
      b('\r\n\nContent-Type: api/response\r\nContent-Length: 2\r\n\r\nok\n\r\nContent-Type: a\r\nX: y\n\r\n\n'),
    );
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0]!.headers, [
      ['Content-Type', 'api/response'],
      ['Content-Length', '2'],
    ]);
    assert.equal(frames[0]!.bodyText, 'ok');
    assert.deepEqual(frames[1]!.headers, [
      ['Content-Type', 'a'],
      ['X', 'y'],
    ]);
  });

  it('many frames in one chunk, and one frame across many chunks', () => {
    const one = 'Content-Type: command/reply\nReply-Text: +OK\n\n';
    const frames = collect(one.repeat(1000));
    assert.equal(frames.length, 1000);
    const big = 'x'.repeat(200_000);
    const data = b(`Content-Type: api/response\nContent-Length: ${big.length}\n\n${big}`);
    const r = parseChunks(Array.from({ length: Math.ceil(data.length / 1000) }, (_, i) => data.subarray(i * 1000, i * 1000 + 1000)));
    assert.equal(r.error, undefined);
    assert.equal(r.frames.length, 1);
    assert.equal(r.frames[0]!.bodyText, big);
  });

  it('frames are delivered synchronously, in order, from push()', () => {
    const seen: string[] = [];
    const p = new Parser((f) => seen.push(f.get('N')!));
    p.push(b('N: 1\n\nN: 2\n\nN: '));
    assert.deepEqual(seen, ['1', '2']);
    assert.equal(p.idle, false);
    p.push(b('3\n'));
    assert.deepEqual(seen, ['1', '2']);
    p.push(b('\n'));
    assert.deepEqual(seen, ['1', '2', '3']);
    assert.equal(p.idle, true);
  });

  it('idle is false inside a body and true between frames', () => {
    const p = new Parser(() => {});
    assert.equal(p.idle, true);
    p.push(b('Content-Length: 4\n\nab'));
    assert.equal(p.idle, false);
    p.push(b('cd'));
    assert.equal(p.idle, true);
  });

  it('a body is not changed by later pushes (copied or sliced from its own chunk)', () => {
    const frames: Frame[] = [];
    const p = new Parser((f) => frames.push(f));
    const c1 = b('Content-Length: 6\n\nabc');
    const c2 = b('defContent-Length: 3\n\nxyz');
    p.push(c1);
    p.push(c2);
    assert.deepEqual(
      frames.map((f) => f.bodyText),
      ['abcdef', 'xyz'],
    );
  });

  it('the header limit is inclusive; the body limit too', () => {
    const block = 'Content-Type: x\nPad: ' + 'p'.repeat(100) + '\n\n';
    const size = Buffer.byteLength(block);
    assert.equal(collect(block, { maxHeaderBytes: size }).length, 1);
    sameInEveryChunking(b(block), { maxHeaderBytes: size });
    assert.throws(() => collect(block, { maxHeaderBytes: size - 1 }), EslParseError);
    const withBody = 'Content-Length: 10\n\n0123456789';
    assert.equal(collect(withBody, { maxBodyBytes: 10 })[0]!.bodyText, '0123456789');
    assert.throws(() => collect(withBody, { maxBodyBytes: 9 }), EslParseError);
  });

  it('defaults allow a 64 KiB+ header block and big bodies', () => {
    assert.ok(DEFAULT_MAX_HEADER_BYTES >= 64 * 1024);
    assert.ok(DEFAULT_MAX_BODY_BYTES >= 16 * 1024 * 1024);
    const lines = Array.from({ length: 3000 }, (_, i) => `variable_v${i}: ${'x'.repeat(30)}`).join('\n');
    const [f] = collect(`Event-Name: CHANNEL_DATA\n${lines}\nContent-Type: command/reply\nReply-Text: %2BOK%0A\n\n`);
    assert.equal(f!.headers.length, 3003);
    assert.equal(f!.contentType, 'command/reply');
  });

  it('reset() discards a partial frame and clears a failure', () => {
    const frames: Frame[] = [];
    const p = new Parser((f) => frames.push(f));
    p.push(b('Content-Length: 10\n\npartial'));
    p.reset();
    assert.equal(p.idle, true);
    p.push(b('Content-Type: a\n\n'));
    assert.equal(frames.length, 1);
    assert.throws(() => p.push(b('no colon here\n\n')), EslParseError);
    p.reset();
    p.push(b('Content-Type: b\n\n'));
    assert.deepEqual(
      frames.map((f) => f.contentType),
      ['a', 'b'],
    );
  });

  it('parseHeaderLines parses a range of a block', () => {
    const block = b('XX\nA: 1\nB:  2: 3\r\n\nYY');
    assert.deepEqual(parseHeaderLines(block, 3, 19), [
      ['A', '1'],
      ['B', '2: 3'],
    ]);
  });
});
