/**
 * EslEvent on events built from the facts in PROTOCOL.md (§3): plain, JSON and XML serializations,
 * array headers, bodies inside events, `_undef_`, lenient %-decoding, XML entities, and the lazy
 * lookup of plain events.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EslParseError } from '../src/errors.js';
import { EslEvent, Frame, parseFrames } from '../src/protocol/index.js';
import { eventFrame, forEveryChunking, parseChunks, plainEventText, xmlEventText } from './helpers/fixtures.js';

const UUID = '3f0c0f64-1a0e-4e3a-9d3c-6a1c1c7e0b11';

const STANDARD: Array<[string, string]> = [
  ['Event-Name', 'CHANNEL_ANSWER'],
  ['Core-UUID', '74b36429-3ff4-4d88-9ff7-ccc9745e901a'],
  ['FreeSWITCH-Hostname', 'vm'],
  ['FreeSWITCH-IPv6', 'fd00::2'],
  ['Event-Date-Local', '2026-11-26 23:00:06'],
  ['Event-Date-GMT', 'Thu, 26 Nov 2026 23:00:06 GMT'],
  ['Event-Sequence', '944'],
  ['Channel-State', 'CS_EXECUTE'],
  ['Channel-Call-State', 'ACTIVE'],
  ['Channel-Name', 'sofia/internal/1000@example.com'],
  ['Unique-ID', UUID],
  ['Call-Direction', 'inbound'],
  ['Answer-State', 'answered'],
  ['Caller-Caller-ID-Name', 'Jürgen Ünal'],
  ['Caller-Caller-ID-Number', '+4930123456'],
  ['Caller-Destination-Number', '9999'],
  ['variable_sip_from_display', '"Zoë" <sip:1000@example.com>; tag=a&b=c?d#e'],
  ['variable_emoji', 'on 📞 call 😀'],
  ['variable_multi', 'ARRAY::one|:two two|:thr:ee'],
];

function plain(headers: Array<[string, string]>, body?: string): EslEvent {
  return EslEvent.fromPlain(plainEventText(headers, body));
}

describe('EslEvent: text/event-plain', () => {
  it('decodes URL-encoded values (UTF-8, reserved characters, ": ")', () => {
    const text = plainEventText(STANDARD);
    // The wire form really is encoded: no raw UTF-8, no raw space inside a value.
    assert.ok(text.includes('Caller-Caller-ID-Name: J%C3%BCrgen%20%C3%9Cnal\n'));
    assert.ok(text.includes('Event-Date-Local: 2026-11-26%2023%3A00%3A06\n'));
    assert.ok(!text.includes('Zoë'));
    const ev = EslEvent.fromPlain(text);
    for (const [n, v] of STANDARD) assert.equal(ev.get(n), v, n);
    assert.deepEqual([...ev.headers()], STANDARD);
    assert.equal(ev.format, 'plain');
    assert.equal(ev.name, 'CHANNEL_ANSWER');
    assert.equal(ev.uniqueId, UUID);
    assert.equal(ev.callerIdName, 'Jürgen Ünal');
    assert.equal(ev.callerIdNumber, '+4930123456');
    assert.equal(ev.destinationNumber, '9999');
    assert.equal(ev.channelName, 'sofia/internal/1000@example.com');
    assert.equal(ev.channelState, 'CS_EXECUTE');
    assert.equal(ev.callState, 'ACTIVE');
    assert.equal(ev.answerState, 'answered');
    assert.equal(ev.callDirection, 'inbound');
    assert.equal(ev.coreUuid, '74b36429-3ff4-4d88-9ff7-ccc9745e901a');
    assert.equal(ev.sequence, 944);
    assert.equal(ev.variable('emoji'), 'on 📞 call 😀');
    assert.equal(ev.hangupCause, undefined);
    assert.equal(ev.subclass, undefined);
    assert.equal(ev.body, '');
  });

  it('header names match case-insensitively; missing headers are undefined', () => {
    const ev = plain(STANDARD);
    assert.equal(ev.get('unique-id'), UUID);
    assert.equal(ev.get('UNIQUE-ID'), UUID);
    assert.equal(ev.get('caller-caller-id-name'), 'Jürgen Ünal');
    assert.equal(ev.get('No-Such-Header'), undefined);
    assert.equal(ev.has('No-Such-Header'), false);
    assert.equal(ev.has('Unique-ID'), true);
    assert.equal(ev.get('Unique'), undefined, 'a prefix of a name is not a match');
    assert.equal(ev.get('ID'), undefined, 'a suffix of a name is not a match');
  });

  it('a name that ends another name matches only its own line', () => {
    const ev = plain([
      ['Caller-Unique-ID', 'caller'],
      ['X-Content-Length', '99'],
      ['Unique-ID', 'own'],
    ]);
    assert.equal(ev.get('Unique-ID'), 'own');
    assert.equal(plain([['Caller-Unique-ID', 'caller']]).get('Unique-ID'), undefined);
    assert.equal(plain([['Caller-Unique-ID', 'caller']]).get('unique-id'), undefined);
    const withBody = EslEvent.fromPlain(Buffer.from('Event-Name: CUSTOM\nContent-Length: 3\nX-Content-Length: 1\n\nabc'));
    assert.equal(withBody.body, 'abc');
  });

  it('`_undef_` is the encoding of an empty value', () => {
    const text = plainEventText([
      ['Event-Name', 'CUSTOM'],
      ['Empty', ''],
      ['After', 'x'],
    ]);
    assert.ok(text.toString().includes('\nEmpty: _undef_\n'));
    const lazy = EslEvent.fromPlain(text);
    assert.equal(lazy.get('Empty'), '');
    assert.equal(lazy.has('Empty'), true);
    const full = EslEvent.fromPlain(text);
    assert.deepEqual(full.toObject(), { 'Event-Name': 'CUSTOM', Empty: '', After: 'x' });
    // Only the whole value is the marker.
    assert.equal(plain([['V', '_undef_x']]).get('V'), '_undef_x');
  });

  it('array headers: ARRAY::a|:b is split by getArray', () => {
    const ev = plain(STANDARD);
    const text = plainEventText(STANDARD).toString();
    assert.ok(text.includes('variable_multi: ARRAY%3A%3Aone%7C%3Atwo%20two%7C%3Athr%3Aee\n'));
    assert.equal(ev.get('variable_multi'), 'ARRAY::one|:two two|:thr:ee');
    assert.deepEqual(ev.getArray('variable_multi'), ['one', 'two two', 'thr:ee']);
    assert.deepEqual(ev.getArray('Unique-ID'), [UUID]);
    assert.equal(ev.getArray('Missing'), undefined);
    // After a full parse, the same.
    [...ev.headers()];
    assert.deepEqual(ev.getArray('variable_multi'), ['one', 'two two', 'thr:ee']);
    assert.deepEqual(ev.getArray('VARIABLE_MULTI'), ['one', 'two two', 'thr:ee']);
  });

  it('a value containing ": " (encoded, or raw from a lenient sender)', () => {
    const ev = plain([['Reply', '+OK Job-UUID: x']]);
    assert.equal(ev.get('Reply'), '+OK Job-UUID: x');
    const raw = EslEvent.fromPlain(Buffer.from('Event-Name: CUSTOM\nReply: +OK Job-UUID: y\n\n'));
    assert.equal(raw.get('Reply'), '+OK Job-UUID: y');
    assert.deepEqual([...EslEvent.fromPlain(Buffer.from('Event-Name: CUSTOM\nReply: +OK Job-UUID: y\n\n'))], [
      ['Event-Name', 'CUSTOM'],
      ['Reply', '+OK Job-UUID: y'],
    ]);
  });

  it('the event body: inner Content-Length in bytes, UTF-8, blank lines and header-like lines', () => {
    const body = 'Größe: 3 €\n\nUnique-ID: not-a-header\nContent-Length: 999\n\n😀';
    const text = plainEventText(
      [
        ['Event-Name', 'BACKGROUND_JOB'],
        ['Job-UUID', UUID],
      ],
      body,
    );
    assert.ok(text.toString().includes(`\nContent-Length: ${Buffer.byteLength(body)}\n\n`));
    assert.notEqual(Buffer.byteLength(body), body.length);
    const ev = EslEvent.fromPlain(text);
    assert.equal(ev.body, body);
    assert.equal(ev.jobUuid, UUID);
    // Lines inside the body are not headers, on the lazy path or after a full parse.
    assert.equal(ev.get('Unique-ID'), undefined);
    assert.equal(ev.get('Content-Length'), String(Buffer.byteLength(body)));
    assert.deepEqual(
      [...ev.headers()].map(([n]) => n),
      ['Event-Name', 'Job-UUID', 'Content-Length'],
    );
    assert.equal(EslEvent.fromPlain(text).get('unique-id'), undefined);
  });

  it('an event whose own Content-Length header precedes the serializer one (sendevent)', () => {
    const body = 'two\nlines\n';
    const text = Buffer.from(
      `Event-Subclass: test%3A%3Ademo\nContent-Length: 4\nEvent-Name: CUSTOM\nContent-Length: ${body.length}\n\n${body}`,
    );
    const ev = EslEvent.fromPlain(text);
    assert.equal(ev.body, body);
    assert.equal(ev.subclass, 'test::demo');
    assert.equal(ev.get('Content-Length'), '4');
  });

  it('a body when Content-Length is the only header line', () => {
    const text = plainEventText([], 'just a body');
    assert.equal(text.toString(), 'Content-Length: 11\n\njust a body');
    assert.equal(EslEvent.fromPlain(text).body, 'just a body');
    const ev = EslEvent.fromPlain(text);
    [...ev.headers()];
    assert.equal(ev.body, 'just a body');
  });

  it('an event with no headers and no body', () => {
    const ev = EslEvent.fromPlain(Buffer.from('\n'));
    assert.equal(ev.name, '');
    assert.equal(ev.body, '');
    assert.deepEqual([...ev.headers()], []);
    const empty = EslEvent.fromPlain(Buffer.alloc(0));
    assert.equal(empty.get('Event-Name'), undefined);
    assert.deepEqual(empty.toObject(), {});
  });

  it('repeated headers: get returns the first, headers() keeps all in order, toObject the first', () => {
    const text = Buffer.from('Event-Name: CUSTOM\nX: 1\nY: a\nX: 2\n\n');
    const ev = EslEvent.fromPlain(text);
    assert.equal(ev.get('X'), '1');
    assert.deepEqual([...ev], [
      ['Event-Name', 'CUSTOM'],
      ['X', '1'],
      ['Y', 'a'],
      ['X', '2'],
    ]);
    assert.deepEqual(ev.toObject(), { 'Event-Name': 'CUSTOM', X: '1', Y: 'a' });
    assert.equal(ev.get('X'), '1');
  });

  it('a lookup gives the same answer before and after the headers are fully parsed', () => {
    // Same name in two cases: the exact-case header is preferred, else the first one in any case.
    const text = Buffer.from('Event-Name: CUSTOM\nfoo: lower\nFOO: upper\nBar: b\n\n');
    const queries = ['foo', 'FOO', 'Foo', 'bar', 'Bar', 'BAR', 'baz'];
    const before = queries.map((q) => EslEvent.fromPlain(text).get(q));
    const ev = EslEvent.fromPlain(text);
    [...ev.headers()];
    const after = queries.map((q) => ev.get(q));
    assert.deepEqual(after, before);
    assert.deepEqual(before, ['lower', 'upper', 'lower', 'b', 'b', 'b', undefined]);
  });

  it('case-insensitive means ASCII letters only, as strcasecmp in FreeSWITCH', () => {
    const text = Buffer.from('Event-Name: CUSTOM\nÜnal-X: 1\nK-Header: 2\nBody-Like: 3\n\nünal-x: no\n');
    const queries = ['ÜNAL-X', 'Ünal-x', 'ünal-x', 'k-header', '\u212a-header', 'BODY-LIKE', 'body-likE'];
    const expected = ['1', '1', undefined, '2', undefined, '3', '3'];
    assert.deepEqual(
      queries.map((q) => EslEvent.fromPlain(text).get(q)),
      expected,
    );
    const ev = EslEvent.fromPlain(text);
    [...ev.headers()];
    assert.deepEqual(
      queries.map((q) => ev.get(q)),
      expected,
    );
  });

  it('a case-insensitive lookup never matches a line of the body', () => {
    const text = plainEventText([['Event-Name', 'CUSTOM']], 'unique-id: from-the-body\nUNIQUE-ID: again\n');
    assert.equal(EslEvent.fromPlain(text).get('Unique-ID'), undefined);
    assert.equal(EslEvent.fromPlain(text).get('unique-id'), undefined);
    assert.equal(EslEvent.fromPlain(text).has('UNIQUE-ID'), false);
  });

  it('lenient %-decoding: valid %XX decodes, anything else stays, + stays +', () => {
    const ev = EslEvent.fromPlain(
      Buffer.from(
        'Event-Name: CUSTOM\nA: 100%25\nB: %zz%4\nC: a+b%2Bc\nD: trailing%\nE: %e2%82%ac\nF: %C3%BC%\nG: %%41\nH: %\n\n',
      ),
    );
    assert.equal(ev.get('A'), '100%');
    assert.equal(ev.get('B'), '%zz%4');
    assert.equal(ev.get('C'), 'a+b+c');
    assert.equal(ev.get('D'), 'trailing%');
    assert.equal(ev.get('E'), '€');
    assert.equal(ev.get('F'), 'ü%');
    assert.equal(ev.get('G'), '%A');
    assert.equal(ev.get('H'), '%');
  });

  it('the %XX quirk: a literal "%41" is not re-encoded by FreeSWITCH and reads back as "A"', () => {
    const text = plainEventText([['V', 'x%41y']]);
    assert.equal(text.toString(), 'V: x%41y\n\n');
    assert.equal(EslEvent.fromPlain(text).get('V'), 'xAy');
    // A lowercase or incomplete sequence is re-encoded, so it survives.
    assert.equal(EslEvent.fromPlain(plainEventText([['V', '%4a %4 %']])).get('V'), '%4a %4 %');
  });

  it('lookups are lazy: get() reads the header straight from the bytes, without a full parse', () => {
    // Behavioural check: EslEvent keeps the bytes it was given. If get('Event-Name') had parsed
    // every header, a later change to the bytes of another header would not be seen.
    const text = plainEventText([
      ['Event-Name', 'CHANNEL_CREATE'],
      ['Unique-ID', 'aaaaaaaa'],
      ['Channel-Name', 'one'],
    ]);
    const ev = EslEvent.fromPlain(text);
    assert.equal(ev.get('Event-Name'), 'CHANNEL_CREATE');
    text.write('bbbbbbbb', text.indexOf('aaaaaaaa'), 'latin1');
    assert.equal(ev.get('Unique-ID'), 'bbbbbbbb', 'the lookup after get() still reads the bytes');
    // Iterating parses everything once; from then on values come from that parse.
    assert.equal([...ev.headers()].length, 3);
    text.write('cccccccc', text.indexOf('bbbbbbbb'), 'latin1');
    assert.equal(ev.get('Unique-ID'), 'bbbbbbbb');
  });

  it('lookups are lazy: one header is found even when other lines would not parse', () => {
    // Lines that are not "name: value" and invalid UTF-8 around the header we ask for.
    const text = Buffer.concat([
      Buffer.from('Event-Name: CUSTOM\nthis line has no colon\n'),
      Buffer.from([0xff, 0xfe, 0x3a, 0x20, 0xc3, 0x0a]),
      Buffer.from('Unique-ID: ' + UUID + '\n:\n\n'),
    ]);
    const ev = EslEvent.fromPlain(text);
    assert.equal(ev.uniqueId, UUID);
    assert.equal(ev.name, 'CUSTOM');
  });
});

describe('EslEvent: through the Parser', () => {
  it('a multi-byte UTF-8 body split in the middle of a character, in every chunking', () => {
    const body = 'Jürgen Ünal → 😀\n';
    const payload = plainEventText(
      [
        ['Event-Name', 'BACKGROUND_JOB'],
        ['Caller-Caller-ID-Name', 'Jürgen Ünal'],
      ],
      body,
    );
    const data = Buffer.concat([eventFrame('plain', payload), eventFrame('json', JSON.stringify({ 'Event-Name': 'API', N: 'Ünal', _body: body }))]);
    forEveryChunking(data, (chunks, label) => {
      const r = parseChunks(chunks);
      assert.equal(r.error, undefined, label);
      assert.equal(r.frames.length, 2, label);
      const [a, b] = r.frames.map((f) => EslEvent.fromFrame(f)!);
      assert.equal(a!.body, body, label);
      assert.equal(a!.callerIdName, 'Jürgen Ünal', label);
      assert.equal(b!.body, body, label);
      assert.equal(b!.get('N'), 'Ünal', label);
    });
  });

  it('fromFrame: only text/event-* frames are events', () => {
    const frames = parseFrames(
      Buffer.from(
        'Content-Type: command/reply\nReply-Text: +OK\n\nContent-Type: api/response\nContent-Length: 3\n\n+OK' +
          'Content-Type: log/data\nContent-Length: 1\n\nx',
      ),
    );
    for (const f of frames) assert.equal(EslEvent.fromFrame(f), undefined);
    const empty = EslEvent.fromFrame(new Frame([['Content-Type', 'text/event-plain']], undefined))!;
    assert.equal(empty.format, 'plain');
    assert.equal(empty.name, '');
  });
});

describe('EslEvent: text/event-json', () => {
  const obj = {
    'Event-Name': 'CUSTOM',
    'Event-Subclass': 'test::demo',
    'Caller-Caller-ID-Name': 'Jürgen Ünal',
    'Raw-Percent': '100%41 +',
    Multi: ['a', 'b|c', 'd'],
    Single: ['only'],
    'Content-Length': '6',
    _body: 'héllo',
  };

  it('values are raw (not URL-decoded), arrays are JSON arrays, _body is the body', () => {
    const ev = EslEvent.fromJson(Buffer.from(JSON.stringify(obj)));
    assert.equal(ev.format, 'json');
    assert.equal(ev.name, 'CUSTOM');
    assert.equal(ev.subclass, 'test::demo');
    assert.equal(ev.callerIdName, 'Jürgen Ünal');
    assert.equal(ev.get('Raw-Percent'), '100%41 +');
    assert.deepEqual(ev.getArray('Multi'), ['a', 'b|c', 'd']);
    assert.equal(ev.get('Multi'), 'ARRAY::a|:b|c|:d');
    assert.equal(ev.get('Single'), 'only');
    assert.deepEqual(ev.getArray('Single'), ['only']);
    assert.equal(ev.get('multi'), 'ARRAY::a|:b|c|:d');
    assert.equal(ev.body, 'héllo');
    assert.equal(ev.get('Content-Length'), '6');
    assert.equal(ev.get('_body'), undefined);
    assert.deepEqual(
      [...ev.headers()].map(([n]) => n),
      ['Event-Name', 'Event-Subclass', 'Caller-Caller-ID-Name', 'Raw-Percent', 'Multi', 'Single', 'Content-Length'],
    );
  });

  it('the body is readable before any header', () => {
    assert.equal(EslEvent.fromJson(Buffer.from(JSON.stringify(obj))).body, 'héllo');
    assert.equal(EslEvent.fromJson(Buffer.from('{"Event-Name":"API"}')).body, '');
  });

  it('invalid JSON is reported by decodeError, and lookups answer nothing instead of throwing', () => {
    for (const bad of ['{"Event-Name": "X"', '[1,2]', 'null', '"str"', '', 'x', '{"a":"\\u12"}', '{"a":1,}']) {
      const ev = EslEvent.fromJson(Buffer.from(bad));
      const err = ev.decodeError;
      assert.ok(err instanceof EslParseError && err.code === 'ESL_PARSE', bad);
      assert.equal(ev.get('Event-Name'), undefined, bad);
      assert.equal(ev.name, '', bad);
      assert.equal(ev.body, '', bad);
      assert.deepEqual([...ev.headers()], [], bad);
      assert.equal(ev.decodeError, err, 'the same error each time');
    }
    assert.equal(EslEvent.fromJson(Buffer.from('{"Event-Name":"X"}')).decodeError, undefined);
  });
});

describe('EslEvent: text/event-xml', () => {
  it('a body that is not an <event> with <headers> is reported by decodeError', () => {
    for (const bad of ['', 'x', '<event>', '<headers></headers>', '<event></headers><headers>']) {
      const ev = EslEvent.fromXml(Buffer.from(bad));
      assert.ok(ev.decodeError instanceof EslParseError, bad);
      assert.equal(ev.name, '', bad);
      assert.deepEqual([...ev.headers()], [], bad);
    }
    assert.equal(EslEvent.fromXml(Buffer.from('<event>\n  <headers>\n  </headers>\n</event>')).decodeError, undefined);
  });

  it('a plain body always decodes (libesl reads it leniently)', () => {
    for (const raw of ['', 'x', '\n\n', 'Event-Name: X\nContent-Length: 999\n\nab', ':\n:::\n', '%zz: %\n']) {
      const ev = EslEvent.fromPlain(Buffer.from(raw));
      assert.equal(ev.decodeError, undefined, raw);
      [...ev.headers()];
      ev.body;
    }
  });

  it('values are URL-decoded after XML unescaping; repeated elements are arrays', () => {
    const body = 'line one\r\n<b>bold</b> & Jürgen 😀\n';
    const text = xmlEventText(
      [
        ['Event-Name', 'CUSTOM'],
        ['Caller-Caller-ID-Name', 'Jürgen Ünal'],
        ['Odd', 'a<b>&c "d" \'e\''],
        ['Multi', ['one', 'two two', 'thr:ee']],
        ['Unique-ID', UUID],
      ],
      body,
    );
    assert.ok(text.includes('<Caller-Caller-ID-Name>J%C3%BCrgen%20%C3%9Cnal</Caller-Caller-ID-Name>'));
    assert.ok(text.includes('&#xD;'));
    assert.ok(text.includes('&#xFC;'));
    assert.ok(text.includes('&#x1F600;'));
    assert.ok(text.includes('&lt;b&gt;bold&lt;/b&gt; &amp; J'));
    const ev = EslEvent.fromXml(Buffer.from(text));
    assert.equal(ev.format, 'xml');
    assert.equal(ev.name, 'CUSTOM');
    assert.equal(ev.callerIdName, 'Jürgen Ünal');
    assert.equal(ev.get('Odd'), 'a<b>&c "d" \'e\'');
    assert.deepEqual(ev.getArray('Multi'), ['one', 'two two', 'thr:ee']);
    assert.equal(ev.get('Multi'), 'ARRAY::one|:two two|:thr:ee');
    assert.equal(ev.uniqueId, UUID);
    assert.equal(ev.body, body);
    assert.equal(ev.get('Content-Length'), String(Buffer.byteLength(body)));
  });

  it('entity references in header text, including &#xD; and &#x…; beyond the BMP', () => {
    const text =
      '<event>\n  <headers>\n    <A>x&amp;y&lt;z&gt;</A>\n    <B>&#xD;&#x41;&#65;&#xfc;&#x1F600;</B>\n' +
      '    <C>&unknown; &#xZZ; &#x110000; &amp;amp;</C>\n    <D>%3Cq%3E&quot;&apos;</D>\n  </headers>\n</event>';
    const ev = EslEvent.fromXml(Buffer.from(text));
    assert.equal(ev.get('A'), 'x&y<z>');
    assert.equal(ev.get('B'), '\rAAü😀');
    assert.equal(ev.get('C'), '&unknown; &#xZZ; &#x110000; &amp;');
    assert.equal(ev.get('D'), '<q>"\'');
    assert.equal(ev.body, '');
    assert.equal(ev.get('Content-Length'), undefined);
  });

  it('an event without a body', () => {
    const ev = EslEvent.fromXml(Buffer.from(xmlEventText([['Event-Name', 'HEARTBEAT']])));
    assert.equal(ev.name, 'HEARTBEAT');
    assert.equal(ev.body, '');
    assert.deepEqual(ev.toObject(), { 'Event-Name': 'HEARTBEAT' });
  });
});

describe('EslEvent.fromHeaders', () => {
  it('raw values, or URL-decoded with `encoded`', () => {
    const pairs: Array<[string, string]> = [
      ['Event-Name', 'CHANNEL_DATA'],
      ['Reply-Text', '%2BOK%0A'],
      ['Multi', 'ARRAY%3A%3Aa%7C%3Ab'],
    ];
    const raw = EslEvent.fromHeaders(pairs);
    assert.equal(raw.format, 'headers');
    assert.equal(raw.get('Reply-Text'), '%2BOK%0A');
    const dec = EslEvent.fromHeaders(pairs, 'body text', { encoded: true });
    assert.equal(dec.get('reply-text'), '+OK\n');
    assert.deepEqual(dec.getArray('Multi'), ['a', 'b']);
    assert.equal(dec.body, 'body text');
    const rec = EslEvent.fromHeaders({ 'Event-Name': 'CUSTOM', 'Unique-ID': UUID });
    assert.equal(rec.uniqueId, UUID);
    assert.equal(rec.body, '');
  });
});
