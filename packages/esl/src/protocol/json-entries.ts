import { EslParseError } from '../errors.js';

/**
 * The members of a JSON object in text order, repeated keys included.
 *
 * FreeSWITCH builds a text/event-json body with cJSON_AddItemToObject, which appends without
 * checking for the key (switch_event_serialize_json_obj in src/switch_event.c), so an event whose
 * header list holds a name twice carries that key twice: real CODEC events repeat
 * Channel-Write-Codec-Name and -Rate. JSON.parse keeps only the last of them, while FreeSWITCH's
 * own lookups (switch_event_get_header) and the plain format give the first; hence this reader.
 *
 * Strings are the usual values (arrays of strings for ARRAY headers), so members are cut out with
 * native string searches and only values holding an escape, or that are not strings, go through
 * JSON.parse. Input that is not a JSON object is reported with JSON.parse's own message.
 */
export function jsonEntries(text: string): Array<[string, unknown]> {
  try {
    return readEntries(text);
  } catch (err) {
    // A value's own JSON.parse failed: report it on the whole text.
    if (err instanceof EslParseError) throw err;
    return fail(text);
  }
}

function readEntries(text: string): Array<[string, unknown]> {
  const entries: Array<[string, unknown]> = [];
  const len = text.length;
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return fail(text);
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_BRACE) return end(text, i + 1, entries);
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return fail(text);
    const keyEnd = stringEnd(text, i);
    if (keyEnd === -1) return fail(text);
    const key = decodeString(text, i, keyEnd);
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return fail(text);
    i = skipSpace(text, i + 1);
    const valueEnd = i < len ? valueEndAt(text, i) : -1;
    if (valueEnd === -1) return fail(text);
    const value = text.charCodeAt(i) === QUOTE ? decodeString(text, i, valueEnd) : JSON.parse(text.slice(i, valueEnd));
    entries.push([key, value]);
    i = skipSpace(text, valueEnd);
    const c = text.charCodeAt(i);
    if (c === CLOSE_BRACE) return end(text, i + 1, entries);
    if (c !== COMMA) return fail(text);
    i = skipSpace(text, i + 1);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(text: string, i: number): number {
  while (isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Offset just past the string that opens at `i` (a quote), or -1 if it never closes. */
function stringEnd(text: string, i: number): number {
  let q = text.indexOf('"', i + 1);
  while (q !== -1) {
    let slashes = 0;
    while (text.charCodeAt(q - 1 - slashes) === BACKSLASH) slashes++;
    if ((slashes & 1) === 0) return q + 1;
    q = text.indexOf('"', q + 1);
  }
  return -1;
}

/** A string token [start, end): sliced when it holds no escape (and no raw control character). */
function decodeString(text: string, start: number, end: number): string {
  const inner = text.slice(start + 1, end - 1);
  return inner.indexOf('\\') === -1 && !/[\x00-\x1f]/.test(inner) ? inner : (JSON.parse(text.slice(start, end)) as string);
}

/**
 * Offset just past the JSON value that starts at `i`, found by matching brackets outside strings;
 * the value's own syntax is checked when it is parsed. -1 if it does not end.
 */
function valueEndAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return stringEnd(text, i);
  if (c !== OPEN_BRACKET && c !== OPEN_BRACE) {
    let j = i;
    for (let d = text.charCodeAt(j); j < text.length && d !== COMMA && d !== CLOSE_BRACE && !isSpace(d); d = text.charCodeAt(++j));
    return j > i ? j : -1;
  }
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const d = text.charCodeAt(j);
    if (d === QUOTE) {
      const e = stringEnd(text, j);
      if (e === -1) return -1;
      j = e - 1;
    } else if (d === OPEN_BRACKET || d === OPEN_BRACE) {
      depth++;
    } else if ((d === CLOSE_BRACKET || d === CLOSE_BRACE) && --depth === 0) {
      return j + 1;
    }
  }
  return -1;
}

function end(text: string, i: number, entries: Array<[string, unknown]>): Array<[string, unknown]> {
  return skipSpace(text, i) === text.length ? entries : fail(text);
}

/** Not an object this reader accepts: JSON.parse gives the precise error (or proves it is no object). */
function fail(text: string): never {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new EslParseError(`invalid JSON event: ${(err as Error).message}`);
  }
  throw new EslParseError(
    parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)
      ? 'invalid JSON event: not an object'
      : 'invalid JSON event: unexpected structure',
  );
}
