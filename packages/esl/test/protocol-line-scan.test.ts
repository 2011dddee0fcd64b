/**
 * The WebAssembly header-line scanner (src/protocol/line-scan.ts, .wat) against the Buffer
 * searches it replaces and against a plain reading of the format: headers are the lines before the
 * first blank line; `get(name)` is the first header spelled `name`, else the first in any case.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { EslEvent } from '../src/protocol/index.js';
import { MAX_SCAN_BYTES, NOT_IN_HEADERS, lineScanAvailable, scanHeaders, scanId, setLineScan } from '../src/protocol/line-scan.js';
import { fixture } from './helpers/fixtures.js';
import { parseFrames } from '../src/protocol/index.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const needle = (name: string): Uint8Array => new Uint8Array(b(`${name}:`));

/** get() with the scanner on and off; both must agree. */
function getBoth(text: Buffer, name: string): string | undefined {
  const on = EslEvent.fromPlain(text).get(name);
  const was = setLineScan(false);
  try {
    const off = EslEvent.fromPlain(text).get(name);
    assert.equal(on, off, `scanner and Buffer searches disagree on ${JSON.stringify(name)}`);
  } finally {
    setLineScan(was);
  }
  return on;
}

/** What get(name) must return, read straight from the format (values here need no decoding). */
function reference(text: string, name: string): string | undefined {
  const lines = text.split('\n');
  const headers: Array<[string, string]> = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break; // the blank line (or, for i = 0, an event with no headers)
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon), line.slice(colon + 1).replace(/^ +/, '')]);
  }
  const exact = headers.find(([n]) => n === name);
  if (exact) return exact[1];
  return headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

describe('line scanner', () => {
  it('is in use on this Node.js, and its bytes are those of line-scan.wat', () => {
    assert.equal(lineScanAvailable(), true);
    const script = fileURLToPath(new URL('../../scripts/line-scan-wasm.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr + r.stdout);
  });

  it('finds a line, stops at the blank line, reports both', () => {
    const text = b('Event-Name: X\nA: 1\nUnique-ID: u1\n\nUnique-ID: body\n');
    const id = scanId();
    let r = scanHeaders(id, text, text.length, needle('Unique-ID'));
    assert.equal(r.line, text.indexOf('Unique-ID'));
    r = scanHeaders(id, text, text.length, needle('B'));
    assert.equal(r.line, NOT_IN_HEADERS);
    assert.equal(r.blank, text.indexOf('\n\n') + 1);
    r = scanHeaders(id, text, text.length, needle('Event-Name'));
    assert.equal(r.line, NOT_IN_HEADERS, 'the first line has no LF before it: the caller checks it');
    const cut = b('A: 1\nUnique-I');
    assert.equal(scanHeaders(scanId(), cut, cut.length, needle('Unique-ID')).line, NOT_IN_HEADERS);
    const lfLast = b('A: 1\n');
    assert.equal(scanHeaders(scanId(), lfLast, lfLast.length, needle('A')).line, NOT_IN_HEADERS);
  });

  it('every position of the line within the 16-byte blocks, and around the first 1 KiB window', () => {
    for (const pad of [...Array(40).keys(), ...Array.from({ length: 40 }, (_, i) => 1024 - 40 + i)]) {
      const text = `Event-Name: CUSTOM\nP: ${'x'.repeat(pad)}\nUnique-ID: abc\nZ: 1\n\nUnique-ID: nope\n`;
      assert.equal(getBoth(b(text), 'Unique-ID'), 'abc', `pad ${pad}`);
      const blankFirst = `Event-Name: CUSTOM\nP: ${'x'.repeat(pad)}\n\nUnique-ID: body\n`;
      assert.equal(getBoth(b(blankFirst), 'Unique-ID'), undefined, `pad ${pad}, blank first`);
    }
  });

  it('events longer than the scanner takes use the Buffer searches, with the same answers', () => {
    for (const size of [MAX_SCAN_BYTES - 40, MAX_SCAN_BYTES - 20, MAX_SCAN_BYTES, MAX_SCAN_BYTES + 1, 100_000]) {
      const head = 'Event-Name: BACKGROUND_JOB\nJob-UUID: j\n';
      const filler = `Big: ${'y'.repeat(Math.max(0, size - head.length - 40))}\n`;
      const text = `${head}${filler}Late: here\n\n`;
      assert.equal(getBoth(b(text), 'Late'), 'here', `size ${text.length}`);
      assert.equal(getBoth(b(text), 'Job-UUID'), 'j');
      assert.equal(getBoth(b(text), 'Missing'), undefined);
    }
  });

  it('lookups on two events in turn each read their own bytes', () => {
    const a = EslEvent.fromPlain(b('Event-Name: A\nUnique-ID: aaa\nX: 1\n\n'));
    const c = EslEvent.fromPlain(b('Event-Name: C\nUnique-ID: ccc\nX: 2\n\n'));
    for (let i = 0; i < 3; i++) {
      assert.equal(a.uniqueId, 'aaa');
      assert.equal(c.uniqueId, 'ccc');
      assert.equal(a.get('X'), '1');
      assert.equal(c.get('X'), '2');
    }
  });

  it('names longer than the needle room, UTF-8 names, case-insensitive fallbacks', () => {
    const long = 'N'.repeat(300);
    const text = b(`Event-Name: X\n${long}: v\nNäme: ü\nlower-case: l\n\n`);
    assert.equal(getBoth(text, long), 'v');
    assert.equal(getBoth(text, 'Näme'), 'ü');
    assert.equal(getBoth(text, 'Lower-Case'), 'l');
  });

  it('the captured plain events: every header, scanner on and off', () => {
    const events = parseFrames(fixture('plain'))
      .filter((f) => f.contentType === 'text/event-plain')
      .map((f) => f.body!);
    assert.equal(events.length, 142);
    for (const body of events) {
      const names = new Set([...EslEvent.fromPlain(body).headers()].map(([n]) => n));
      for (const name of [...names, 'Unique-ID', 'No-Such-Header', 'unique-id']) getBoth(body, name);
    }
  });

  it('random events: agrees with the Buffer searches and with the format (property)', () => {
    const name = fc.constantFrom('Unique-ID', 'unique-id', 'Unique-ID-X', 'Job-UUID', 'A', 'Body-Only', 'Caller-Caller-ID-Name');
    const value = fc.stringMatching(/^[ -~]{0,40}$/).map((v) => v.replace(/%/g, 'p'));
    const line = fc.tuple(name, value).map(([n, v]) => `${n}: ${v}`);
    const event = fc.record({
      first: fc.constantFrom('Event-Name: CHANNEL_ANSWER', 'Unique-ID: first-line', 'Event-Name: CUSTOM'),
      headers: fc.array(line, { maxLength: 30 }),
      pad: fc.nat({ max: 6000 }),
      body: fc.option(fc.array(line, { maxLength: 5 }), { nil: undefined }),
      blankInHeaders: fc.boolean(),
    });
    fc.assert(
      fc.property(event, name, (e, wanted) => {
        const headers = [...e.headers];
        if (e.pad > 0) headers.splice(headers.length >> 1, 0, `Pad: ${'z'.repeat(e.pad)}`);
        if (e.blankInHeaders && headers.length > 1) headers.splice(1, 0, '');
        const text = `${e.first}\n${headers.join('\n')}${headers.length ? '\n' : ''}\n${e.body ? e.body.join('\n') + '\n' : ''}`;
        assert.equal(getBoth(b(text), wanted), reference(text, wanted));
      }),
      { numRuns: 600 },
    );
  });
});
