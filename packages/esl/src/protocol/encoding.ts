/**
 * The value encodings FreeSWITCH uses on the wire.
 *
 * URL encoding follows switch_url_encode_opt() with SWITCH_URL_UNSAFE (src/switch_utils.c):
 * bytes below 0x20 or above 0x7E, and the characters in URL_UNSAFE, become %XX (uppercase hex);
 * a '%' already followed by two uppercase hex digits is passed through unchanged (a quirk that can
 * lose data: a literal "%41" reaches the client as "A"). Decoding is lenient like libesl's: a valid
 * %XX decodes, anything else stays as it is, and '+' is left alone.
 */

const PERCENT = 0x25;

// switch_utils.c: SWITCH_URL_UNSAFE "\r\n \"#%&+:;<=>?@[\\]^`{|}"
const UNSAFE = new Uint8Array(256);
for (let b = 0; b < 256; b++) UNSAFE[b] = b < 0x20 || b > 0x7e ? 1 : 0;
for (const ch of '\r\n "#%&+:;<=>?@[\\]^`{|}') UNSAFE[ch.charCodeAt(0)] = 1;

const HEX_UPPER = '0123456789ABCDEF';

function hexValue(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

function isUpperHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46));
}

/** FreeSWITCH's URL encoding of a header value (UTF-8 bytes), as in text/event-plain. */
export function urlEncode(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  let runStart = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (!UNSAFE[b]) continue;
    if (b === PERCENT && isUpperHex(bytes[i + 1]) && isUpperHex(bytes[i + 2])) continue;
    out += bytes.toString('latin1', runStart, i) + '%' + HEX_UPPER[b >> 4] + HEX_UPPER[b & 15];
    runStart = i + 1;
  }
  if (runStart === 0) return value;
  return out + bytes.toString('latin1', runStart);
}

/** Lenient %XX decoding of bytes [start, end) of a buffer into a UTF-8 string. */
export function urlDecodeBytes(buf: Buffer, start: number, end: number): string {
  const first = buf.indexOf(PERCENT, start);
  if (first === -1 || first >= end) return buf.toString('utf8', start, end);
  const out = Buffer.allocUnsafe(end - start);
  let o = buf.copy(out, 0, start, first);
  for (let i = first; i < end; i++) {
    const b = buf[i]!;
    if (b === PERCENT && i + 2 < end) {
      const hi = hexValue(buf[i + 1]);
      const lo = hexValue(buf[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[o++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[o++] = b;
  }
  return out.toString('utf8', 0, o);
}

/** Lenient %XX decoding of a string (its UTF-8 bytes are decoded, then re-read as UTF-8). */
export function urlDecode(value: string): string {
  if (value.indexOf('%') === -1) return value;
  const buf = Buffer.from(value, 'utf8');
  return urlDecodeBytes(buf, 0, buf.length);
}

/**
 * Element text escaping of switch_xml_ampencode (USE_UTF_8_ENCODING on, not an attribute;
 * src/switch_xml.c): & < > escaped, CR as &#xD;, non-ASCII as &#xHEX; of the code point,
 * LF/TAB/quote raw. Quirk kept: from a `<!` on, the rest of the text is copied unescaped (`immune`).
 */
export function xmlEscape(text: string): string {
  const immune = text.indexOf('<!');
  if (immune !== -1) return xmlEscape(text.slice(0, immune)) + text.slice(immune);
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '\r') out += '&#xD;';
    else if (cp > 0x7f) out += `&#x${cp.toString(16).toUpperCase()};`;
    else out += ch;
  }
  return out;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes XML character and entity references; unknown references are left untouched. */
export function xmlUnescape(text: string): string {
  if (text.indexOf('&') === -1) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
    }
    return ENTITIES[ref] ?? whole;
  });
}
