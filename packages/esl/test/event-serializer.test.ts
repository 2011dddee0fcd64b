/**
 * The event serializer must reproduce real FreeSWITCH 1.10.12 output byte for byte: every event in
 * the captures is taken apart (header names and decoded values, body) and serialized again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type EventHeaderValue,
  type Frame,
  eventFrame,
  parseFrames,
  serializeEventJson,
  serializeEventPlain,
  serializeEventXml,
  urlDecode,
  xmlUnescape,
} from '../src/protocol/index.js';
import { fixture } from './helpers/fixtures.js';

function eventFrames(file: string, type: string): Frame[] {
  const data = fixture(file);
  return parseFrames(data).filter((f) => f.contentType === type);
}

/** Splits a text/event-plain body into raw header pairs (values decoded) and the body. */
function takePlainApart(body: Buffer): { headers: Array<[string, string]>; body: string | undefined } {
  const text = body.toString('utf8');
  const end = text.indexOf('\n\n');
  const lines = text.slice(0, end).split('\n');
  const headers: Array<[string, string]> = lines.map((l) => {
    const i = l.indexOf(': ');
    return [l.slice(0, i), urlDecode(l.slice(i + 2))];
  });
  // The serializer's own Content-Length is the last line when there is a body.
  let evBody: string | undefined;
  const last = headers[headers.length - 1];
  if (last && last[0] === 'Content-Length' && end + 2 < text.length) {
    headers.pop();
    evBody = Buffer.from(text.slice(end + 2), 'utf8').subarray(0, Number(last[1])).toString('utf8');
  }
  return { headers, body: evBody };
}

/** A minimal reader of cJSON's flat event object that keeps duplicate keys and key order. */
function takeJsonApart(body: Buffer): { headers: Array<[string, EventHeaderValue]>; body: string | undefined } {
  const s = body.toString('utf8');
  let i = 0;
  const readString = (): string => {
    assert.equal(s[i], '"');
    let j = i + 1;
    while (s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
    const out = JSON.parse(s.slice(i, j + 1)) as string;
    i = j + 1;
    return out;
  };
  const headers: Array<[string, EventHeaderValue]> = [];
  assert.equal(s[i++], '{');
  while (s[i] !== '}') {
    const key = readString();
    assert.equal(s[i++], ':');
    if (s[i] === '[') {
      i++;
      const items: string[] = [];
      while (s[i] !== ']') {
        items.push(readString());
        if (s[i] === ',') i++;
      }
      i++;
      headers.push([key, items]);
    } else {
      headers.push([key, readString()]);
    }
    if (s[i] === ',') i++;
  }
  let evBody: string | undefined;
  const lastKey = headers[headers.length - 1]?.[0];
  if (lastKey === '_body') {
    evBody = headers.pop()![1] as string;
    assert.equal(headers.pop()![0], 'Content-Length');
  }
  return { headers, body: evBody };
}

/** Header elements and body of a text/event-xml body. */
function takeXmlApart(body: Buffer): { headers: Array<[string, string]>; body: string | undefined } {
  const text = body.toString('utf8');
  const headerPart = text.slice(text.indexOf('<headers>') + 9, text.indexOf('</headers>'));
  const headers: Array<[string, string]> = [];
  for (const m of headerPart.matchAll(/<([^\s<>/]+)>([^<]*)<\/\1>/g)) headers.push([m[1]!, urlDecode(xmlUnescape(m[2]!))]);
  const cl = /<Content-Length>(\d+)<\/Content-Length>/.exec(text);
  let evBody: string | undefined;
  if (cl) {
    const raw = xmlUnescape(text.slice(text.indexOf('<body>') + 6, text.lastIndexOf('</body>')));
    evBody = Buffer.from(raw, 'utf8').subarray(0, Number(cl[1])).toString('utf8');
  }
  return { headers, body: evBody };
}

test('plain: every event in plain.bin re-serializes byte-exactly', { timeout: 20_000 }, () => {
  const frames = eventFrames('plain.bin', 'text/event-plain');
  assert.equal(frames.length, 142);
  for (const f of frames) {
    const { headers, body } = takePlainApart(f.body!);
    assert.equal(serializeEventPlain(headers, body), f.body!.toString('utf8'));
  }
});

test('plain: the CUSTOM event echoed by sendevent (two Content-Length lines) re-serializes byte-exactly', { timeout: 20_000 }, () => {
  const frames = eventFrames('misc.bin', 'text/event-plain');
  assert.equal(frames.length, 2);
  for (const f of frames) {
    const { headers, body } = takePlainApart(f.body!);
    assert.equal(serializeEventPlain(headers, body), f.body!.toString('utf8'));
  }
  const custom = takePlainApart(frames[1]!.body!);
  assert.equal(custom.headers.filter(([n]) => n === 'Content-Length').length, 1, 'the client Content-Length stays a header');
  assert.equal(custom.body, 'hello from misc_capture\nline two\n');
});

test('json: every event in json.bin re-serializes byte-exactly (UTF-8 raw, duplicate keys kept)', { timeout: 20_000 }, () => {
  const frames = eventFrames('json.bin', 'text/event-json');
  assert.equal(frames.length, 142);
  for (const f of frames) {
    const { headers, body } = takeJsonApart(f.body!);
    assert.equal(serializeEventJson(headers, body), f.body!.toString('utf8'));
  }
  assert.ok(frames.some((f) => f.body!.includes(Buffer.from('Jürgen Ünal'))));
});

test('xml: every event in xml.bin re-serializes byte-exactly', { timeout: 20_000 }, () => {
  const frames = eventFrames('xml.bin', 'text/event-xml');
  assert.equal(frames.length, 144);
  for (const f of frames) {
    const { headers, body } = takeXmlApart(f.body!);
    assert.equal(serializeEventXml(headers, body), f.body!.toString('utf8'));
  }
});

test('outer event frame: Content-Length (bytes) before Content-Type, as in the captures', { timeout: 20_000 }, () => {
  const data = fixture('json.bin');
  const frames = parseFrames(data).filter((f) => f.contentType === 'text/event-json');
  const f = frames.find((fr) => fr.body!.includes(Buffer.from('Jürgen')))!;
  const { headers, body } = takeJsonApart(f.body!);
  const bytes = eventFrame('json', headers, body);
  const start = data.indexOf(f.body!) - `Content-Length: ${f.body!.length}\nContent-Type: text/event-json\n\n`.length;
  assert.deepEqual(bytes, data.subarray(start, start + bytes.length));
});

test('plain encoding rules: unsafe characters, _undef_, the %XX quirk, bodies', { timeout: 20_000 }, () => {
  assert.equal(serializeEventPlain([['A', 'a b:c;d<e>f?g@h[i]j^k`l{m|n}o"p#q&r+s=t%u\\v\r\nw']]),
    'A: a%20b%3Ac%3Bd%3Ce%3Ef%3Fg%40h%5Bi%5Dj%5Ek%60l%7Bm%7Cn%7Do%22p%23q%26r%2Bs%3Dt%25u%5Cv%0D%0Aw\n\n');
  assert.equal(serializeEventPlain([['Keep', "/,'*()!$-._~"]]), "Keep: /,'*()!$-._~\n\n");
  assert.equal(serializeEventPlain([['Empty', '']]), 'Empty: _undef_\n\n');
  assert.equal(serializeEventPlain([['Q', '%41 and %4g']]), 'Q: %41%20and%20%254g\n\n');
  assert.equal(serializeEventPlain([['U', 'é']], 'héllo'), 'U: %C3%A9\nContent-Length: 6\n\nhéllo');
  assert.equal(serializeEventPlain([['E', 'x']], ''), 'E: x\n\n');
  assert.equal(serializeEventPlain([['Arr', ['a', 'b c']]]), 'Arr: ARRAY%3A%3Aa%7C%3Ab%20c\n\n');
});

test('json rules: arrays, ARRAY:: values, empty body still adds Content-Length/_body, escapes', { timeout: 20_000 }, () => {
  assert.equal(serializeEventJson([['A', ['x', 'y']], ['B', 'ARRAY::1|:2'], ['C', 'q"\\\n\u0001']], ''),
    '{"A":["x","y"],"B":"ARRAY::1|:2","C":"q\\"\\\\\\n\\u0001","Content-Length":"0","_body":""}');
  assert.equal(serializeEventJson([['A', 'b']]), '{"A":"b"}');
});

test('xml rules: escaping, array headers, body indentation', { timeout: 20_000 }, () => {
  assert.equal(serializeEventXml([['A', 'x&y'], ['Arr', 'ARRAY::1|:2']], 'a<b>&é\r\n'),
    '<event>\n  <headers>\n    <A>x%26y</A>\n    <Arr>1</Arr>\n    <Arr>2</Arr>\n  </headers>\n' +
    '  <Content-Length>9</Content-Length>\n  <body>a&lt;b&gt;&amp;&#xE9;&#xD;\n  </body>\n</event>\n');
  assert.equal(serializeEventXml([['A', 'b']], 'no newline'), '<event>\n  <headers>\n    <A>b</A>\n  </headers>\n  <Content-Length>10</Content-Length>\n  <body>no newline</body>\n</event>\n');
});
