/**
 * The value encodings of PROTOCOL.md §3: FreeSWITCH's URL encoding (switch_url_encode_opt with
 * SWITCH_URL_UNSAFE), its lenient decoding, and XML text escaping with USE_UTF_8_ENCODING.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { urlDecode, urlDecodeBytes, urlEncode, xmlEscape, xmlUnescape } from '../src/protocol/index.js';

const UNSAFE = '\r\n "#%&+:;<=>?@[\\]^`{|}';
const PASS_THROUGH = "/,'*()!$-._~";

describe('urlEncode', () => {
  it('encodes exactly the control bytes, DEL and the URL_UNSAFE characters, uppercase hex', () => {
    for (let b = 0; b < 0x80; b++) {
      const ch = String.fromCharCode(b);
      const expected =
        b < 0x20 || b === 0x7f || UNSAFE.includes(ch) ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : ch;
      // '%' alone (not followed by two uppercase hex digits) is encoded too.
      assert.equal(urlEncode(ch), expected, `byte 0x${b.toString(16)}`);
    }
    for (const ch of PASS_THROUGH) assert.equal(urlEncode(ch), ch);
    for (const ch of 'azAZ09') assert.equal(urlEncode(ch), ch);
  });

  it('encodes every byte of non-ASCII UTF-8', () => {
    assert.equal(urlEncode('Jürgen Ünal'), 'J%C3%BCrgen%20%C3%9Cnal');
    assert.equal(urlEncode('€'), '%E2%82%AC');
    assert.equal(urlEncode('😀'), '%F0%9F%98%80');
    assert.equal(urlEncode('\u0080'), '%C2%80');
  });

  it('values as FreeSWITCH writes them in the captures', () => {
    assert.equal(urlEncode('2026-11-26 23:00:06'), '2026-11-26%2023%3A00%3A06');
    assert.equal(urlEncode('Thu, 26 Nov 2026 23:00:06 GMT'), 'Thu,%2026%20Nov%202026%2023%3A00%3A06%20GMT');
    assert.equal(urlEncode('fd00::2'), 'fd00%3A%3A2');
    assert.equal(urlEncode('+OK\n'), '%2BOK%0A');
    assert.equal(urlEncode('ARRAY::a|:b'), 'ARRAY%3A%3Aa%7C%3Ab');
    assert.equal(urlEncode('test::demo'), 'test%3A%3Ademo');
  });

  it('quirk: a % followed by two uppercase hex digits is left as it is', () => {
    assert.equal(urlEncode('%41'), '%41');
    assert.equal(urlEncode('100%FF'), '100%FF');
    assert.equal(urlEncode('%4a'), '%254a');
    assert.equal(urlEncode('%4'), '%254');
    assert.equal(urlEncode('%'), '%25');
    assert.equal(urlEncode('%%41'), '%25%41');
    assert.equal(urlEncode(''), '');
  });
});

describe('urlDecode', () => {
  it('decodes valid %XX in either case; everything else is kept', () => {
    assert.equal(urlDecode('J%C3%BCrgen%20%C3%9Cnal'), 'Jürgen Ünal');
    assert.equal(urlDecode('%e2%82%ac'), '€');
    assert.equal(urlDecode('a+b'), 'a+b');
    assert.equal(urlDecode('%2B'), '+');
    assert.equal(urlDecode('%'), '%');
    assert.equal(urlDecode('50%'), '50%');
    assert.equal(urlDecode('%4'), '%4');
    assert.equal(urlDecode('%zz%G0'), '%zz%G0');
    assert.equal(urlDecode('%%41'), '%A');
    assert.equal(urlDecode('%0A%0D%00'), '\n\r\0');
    assert.equal(urlDecode('no escapes'), 'no escapes');
  });

  it('a lone or truncated UTF-8 sequence becomes U+FFFD instead of throwing', () => {
    assert.equal(urlDecode('%C3'), '\ufffd');
    assert.equal(urlDecode('x%C3%28'), 'x\ufffd(');
  });

  it('urlDecodeBytes decodes a range of a buffer and never reads past it', () => {
    const buf = Buffer.from('xxJ%C3%BCrgen%41%4');
    assert.equal(urlDecodeBytes(buf, 2, 13), 'Jürgen');
    assert.equal(urlDecodeBytes(buf, 13, 16), 'A');
    assert.equal(urlDecodeBytes(buf, 13, 15), '%4', 'a %XX cut by the end of the range stays');
    assert.equal(urlDecodeBytes(buf, 16, 18), '%4');
    assert.equal(urlDecodeBytes(buf, 5, 5), '');
  });
});

describe('xmlEscape / xmlUnescape', () => {
  it('escapes & < >, CR as &#xD;, non-ASCII as code points; leaves LF, tab and quotes', () => {
    assert.equal(xmlEscape('a&b<c>d'), 'a&amp;b&lt;c&gt;d');
    assert.equal(xmlEscape('line\r\nnext\t"q" \'a\''), 'line&#xD;\nnext\t"q" \'a\'');
    assert.equal(xmlEscape('Jürgen 😀'), 'J&#xFC;rgen &#x1F600;');
  });

  it('unescapes named, decimal and hex references; leaves unknown or invalid ones', () => {
    assert.equal(xmlUnescape('&amp;&lt;&gt;&quot;&apos;'), '&<>"\'');
    assert.equal(xmlUnescape('&#xD;&#xd;&#13;&#x1F600;&#252;'), '\r\r\r😀ü');
    assert.equal(xmlUnescape('&nbsp; &#x110000; &#xZ; & &amp'), '&nbsp; &#x110000; &#xZ; & &amp');
    assert.equal(xmlUnescape('&amp;lt;'), '&lt;', 'one pass only');
  });

  it('xmlUnescape(xmlEscape(s)) === s for any text', () => {
    const samples = ['', 'plain', 'a&b<c>d\r\n', '"\'\t', 'Jürgen Ünal 😀 €', '&amp; literally', '\u0000\u007f\u0080\uffff'];
    for (const s of samples) assert.equal(xmlUnescape(xmlEscape(s)), s);
  });
});
