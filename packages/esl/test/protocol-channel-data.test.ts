/**
 * ChannelData, the compact form of an outbound `connect` reply: every lookup answers as an
 * EslEvent parsed from the same plain header block does (names case-insensitive with the exact
 * spelling first, repeats, `_undef_`, %-decoding, non-ASCII), and calls sharing a header shape
 * still keep their own values.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChannelData } from '../src/protocol/channel-data.js';
import { EslEvent, parseHeaderLines, urlEncode } from '../src/protocol/index.js';
import { fixture } from './helpers/fixtures.js';

function connectBlock(): Buffer {
  const bin = fixture('outbound');
  return bin.subarray(0, bin.indexOf('\n\n') + 1);
}

function fromBlock(block: Buffer): ChannelData {
  return ChannelData.fromEncoded(parseHeaderLines(block));
}

describe('ChannelData', () => {
  it('answers like the plain event of the captured connect reply, header by header', () => {
    const block = connectBlock();
    const data = fromBlock(block);
    const event = EslEvent.fromPlain(block);
    const expected = [...event.headers()];
    assert.deepEqual([...data.headers()], expected);
    assert.equal(data.size, expected.length);
    for (const [name] of expected) {
      assert.equal(data.get(name), event.get(name), name);
      assert.equal(data.get(name.toUpperCase()), event.get(name.toUpperCase()), name.toUpperCase());
    }
    assert.equal(data.get('Caller-Callee-ID-Name'), 'Outbound Call');
    assert.equal(data.get('No-Such-Header'), undefined);
  });

  it('keeps each call its own values when calls share a shape', () => {
    const block = connectBlock().toString('latin1');
    const uuid = 'e472aa1c-5b16-424e-bca7-d4704076c0ff';
    const a = fromBlock(Buffer.from(block.replaceAll(uuid, '11111111-1111-1111-1111-111111111111'), 'latin1'));
    const b = fromBlock(Buffer.from(block.replaceAll(uuid, '22222222-2222-2222-2222-222222222222'), 'latin1'));
    assert.equal(a.get('Unique-ID'), '11111111-1111-1111-1111-111111111111');
    assert.equal(b.get('Unique-ID'), '22222222-2222-2222-2222-222222222222');
    assert.equal(a.get('variable_uuid'), '11111111-1111-1111-1111-111111111111');
  });

  it('still answers after its shape was evicted by many others', () => {
    const first = ChannelData.fromEncoded([['Shape-Zero', 'kept'], ['Unique-ID', 'u0']]);
    for (let i = 1; i <= 200; i++) ChannelData.fromEncoded([[`Shape-${i}`, 'x'], ['Unique-ID', `u${i}`]]);
    assert.equal(first.get('shape-zero'), 'kept');
    assert.equal(first.get('Unique-ID'), 'u0');
  });

  it('prefers the exact spelling of a repeated name, else the first in any case', () => {
    const data = ChannelData.fromEncoded([['x-A', '1'], ['X-a', '2'], ['X-A', '3'], ['X-A', '4'], ['E', '_undef_'], ['', '']]);
    assert.equal(data.get('X-A'), '3');
    assert.equal(data.get('X-a'), '2');
    assert.equal(data.get('x-a'), '1');
    assert.equal(data.get('E'), '');
    assert.equal(data.get(''), '');
  });

  it('matches EslEvent.fromPlain on random header blocks (property)', () => {
    const name = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !/[\r\n:]/.test(s) && !s.startsWith(' '));
    const value = fc.string({ maxLength: 12 });
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { minLength: 1, maxLength: 12 }), (pairs) => {
        const block = Buffer.from(pairs.map(([n, v]) => `${n}: ${urlEncode(v)}\n`).join(''), 'utf8');
        const data = fromBlock(block);
        const event = EslEvent.fromPlain(block);
        assert.deepEqual([...data.headers()], [...event.headers()]);
        for (const [n] of pairs) {
          assert.equal(data.get(n), event.get(n));
          assert.equal(data.get(n.toLowerCase()), event.get(n.toLowerCase()));
        }
      }),
    );
  });
});
