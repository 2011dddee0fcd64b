/**
 * Headers that occur twice in one event. FreeSWITCH keeps them (switch_event_add_header appends),
 * and real CODEC events carry Channel-Write-Codec-Name and -Rate twice, in every format: plain
 * lines, repeated JSON keys (cJSON_AddItemToObject appends), repeated XML elements. Every format
 * must give the same answer: `get` returns the first, `headers()` lists both in order.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EslParseError } from '../src/errors.js';
import { EslEvent, parseFrames, serializeEventJson, serializeEventXml } from '../src/protocol/index.js';
import { jsonEntries } from '../src/protocol/json-entries.js';
import { fixture, plainEventText } from './helpers/fixtures.js';

const CODEC_NAMES = ['Channel-Write-Codec-Name', 'Channel-Write-Codec-Rate'];

function eventsOf(file: 'plain' | 'json' | 'xml'): EslEvent[] {
  return parseFrames(fixture(file))
    .map((f) => EslEvent.fromFrame(f))
    .filter((ev): ev is EslEvent => ev !== undefined);
}

describe('repeated headers in the captures (CODEC events)', () => {
  for (const file of ['plain', 'json', 'xml'] as const) {
    it(`${file}.bin: both copies are listed, the first is the value`, () => {
      const codec = eventsOf(file).filter((ev) => ev.name === 'CODEC');
      assert.equal(codec.length, 12);
      const repeated = codec.filter((ev) => [...ev.headers()].filter(([n]) => n === CODEC_NAMES[0]).length === 2);
      // Every CODEC event that sets the write codec carries it twice (fixtures README: 12 CODEC events).
      assert.ok(repeated.length >= 6, `${repeated.length} CODEC events with a repeated header`);
      for (const ev of repeated) {
        const list = [...ev.headers()];
        for (const name of CODEC_NAMES) {
          const copies = list.filter(([n]) => n === name).map(([, v]) => v);
          assert.equal(copies.length, 2, name);
          assert.equal(ev.get(name), copies[0]);
          assert.equal(ev.get(name.toLowerCase()), copies[0]);
          assert.deepEqual(ev.getArray(name), [copies[0]]);
        }
        assert.equal(ev.get('Channel-Write-Codec-Name'), 'L16');
        assert.equal(ev.toObject()['Channel-Write-Codec-Rate'], ev.get('Channel-Write-Codec-Rate'));
      }
    });
  }

  it('the three formats list the same header names in the same order for each CODEC event', () => {
    const shapes = (['plain', 'json', 'xml'] as const).map((file) =>
      eventsOf(file)
        .filter((ev) => ev.name === 'CODEC')
        .map((ev) => [...ev.headers()].map(([n]) => n).filter((n) => n.startsWith('Channel-'))),
    );
    assert.deepEqual(shapes[1], shapes[0]);
    assert.deepEqual(shapes[2], shapes[0]);
  });
});

describe('repeated headers, built events', () => {
  const headers: Array<[string, string | string[]]> = [
    ['Event-Name', 'CUSTOM'],
    ['Dup', 'first'],
    ['Arr', ['a', 'b']],
    ['Other', 'x'],
    ['Dup', 'second'],
    ['dup', 'third'],
  ];

  it('json: repeated keys kept in order, the first wins', () => {
    const ev = EslEvent.fromJson(Buffer.from(serializeEventJson(headers, 'the body')));
    assert.equal(ev.get('Dup'), 'first');
    assert.equal(ev.get('dup'), 'third', 'an exact spelling wins over an earlier one in another case');
    assert.equal(ev.get('DUP'), 'first');
    assert.deepEqual(ev.getArray('Arr'), ['a', 'b']);
    assert.deepEqual(
      [...ev.headers()],
      [['Event-Name', 'CUSTOM'], ['Dup', 'first'], ['Arr', 'ARRAY::a|:b'], ['Other', 'x'], ['Dup', 'second'], ['dup', 'third'], ['Content-Length', '8']],
    );
    assert.equal(ev.body, 'the body');
  });

  it('xml: a run of one name is an array, the same name apart again is a second header', () => {
    const ev = EslEvent.fromXml(Buffer.from(serializeEventXml(headers, 'the body')));
    assert.equal(ev.get('Dup'), 'first');
    assert.deepEqual(ev.getArray('Arr'), ['a', 'b']);
    assert.deepEqual(
      [...ev.headers()].map(([n, v]) => `${n}=${v}`),
      ['Event-Name=CUSTOM', 'Dup=first', 'Arr=ARRAY::a|:b', 'Other=x', 'Dup=second', 'dup=third', 'Content-Length=8'],
    );
  });

  it('plain: the same', () => {
    const flat = headers.map(([n, v]): [string, string] => [n, Array.isArray(v) ? `ARRAY::${v.join('|:')}` : v]);
    const ev = EslEvent.fromPlain(plainEventText(flat, 'the body'));
    assert.equal(ev.get('Dup'), 'first');
    assert.deepEqual(ev.getArray('Arr'), ['a', 'b']);
    assert.deepEqual(
      [...ev.headers()].map(([n]) => n),
      ['Event-Name', 'Dup', 'Arr', 'Other', 'Dup', 'dup', 'Content-Length'],
    );
  });

  it('json: a repeated _body keeps the first', () => {
    const ev = EslEvent.fromJson(Buffer.from('{"Event-Name":"X","_body":"one","_body":"two"}'));
    assert.equal(ev.body, 'one');
    assert.deepEqual(ev.toObject(), { 'Event-Name': 'X' });
  });
});

describe('jsonEntries', () => {
  it('reads strings with every escape, whitespace anywhere, and values that are not strings', () => {
    const text = ' {\n\t"a\\"b" : "x\\\\y\\u00fc\\n\\/" ,"n":12.5e1, "t":true,"z":null,\r\n"o":{"k":["}",{"q":"]"}]},"e":[] , "s":"\\\\"}  ';
    assert.deepEqual(jsonEntries(text), [
      ['a"b', 'x\\yü\n/'],
      ['n', 125],
      ['t', true],
      ['z', null],
      ['o', { k: ['}', { q: ']' }] }],
      ['e', []],
      ['s', '\\'],
    ]);
    assert.deepEqual(jsonEntries('{}'), []);
    assert.deepEqual(jsonEntries(' { } '), []);
  });

  it('non-string values become their JSON text in an event', () => {
    const ev = EslEvent.fromJson(Buffer.from('{"Event-Name":"X","N":5,"B":false,"Nil":null,"O":{"a":1},"A":[1,"two"]}'));
    assert.equal(ev.get('N'), '5');
    assert.equal(ev.get('B'), 'false');
    assert.equal(ev.get('Nil'), 'null');
    assert.equal(ev.get('O'), '{"a":1}');
    assert.deepEqual(ev.getArray('A'), ['1', 'two']);
  });

  it('refuses what is not one JSON object, with a typed error', () => {
    const bad = [
      '', ' ', '[1,2]', 'null', '"str"', '12', '{', '{"a"', '{"a":', '{"a":"x"', '{"a":"x",}', '{"a" "x"}', '{a:"x"}',
      '{"a":"x"} extra', '{"a":"x"}}', '{"a":tru}', '{"a":[1,2}', '{"a":"unterminated}', '{"a":"ctl\u0001"}',
      '{"a":"bad \\x escape"}', '{"a":01}', '{,"a":1}',
    ];
    for (const text of bad) {
      assert.throws(
        () => jsonEntries(text),
        (err: unknown) => err instanceof EslParseError && err.code === 'ESL_PARSE' && err.message.startsWith('invalid JSON event'),
        JSON.stringify(text),
      );
    }
  });

  it('agrees with JSON.parse on any object without repeated keys (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()), fc.boolean(), (obj, pretty) => {
        const text = pretty ? JSON.stringify(obj, null, '\t') : JSON.stringify(obj);
        const entries = jsonEntries(text);
        assert.deepEqual(entries, Object.entries(JSON.parse(text) as object));
      }),
      { numRuns: 400 },
    );
  });

  it('keeps every repeated key in order (property)', () => {
    const key = fc.constantFrom('A', 'B', 'a', 'Unique-ID', 'k"q', 'ü\\');
    const value = fc.oneof(fc.string({ unit: 'binary' }), fc.array(fc.string({ unit: 'binary' }), { maxLength: 3 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 12 }), (members) => {
        const text = `{${members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
        assert.deepEqual(jsonEntries(text), members);
        const ev = EslEvent.fromJson(Buffer.from(text));
        for (const [k] of members) {
          const first = members.find(([m]) => m === k)![1];
          assert.equal(ev.get(k), Array.isArray(first) ? (first.length === 1 ? first[0] : `ARRAY::${first.join('|:')}`) : first);
        }
      }),
      { numRuns: 400 },
    );
  });
});
