import { spells, utf8, word, type Word } from './bytes.js';
import { urlDecode, urlDecodeBytes, xmlUnescape } from './encoding.js';
import { EslParseError } from '../errors.js';
import { jsonEntries } from './json-entries.js';
import type { Frame } from './frame.js';

/** Event type names FreeSWITCH knows (EVENT_NAMES in src/switch_event.c). */
export const EVENT_NAMES = [
  'CUSTOM', 'CLONE', 'CHANNEL_CREATE', 'CHANNEL_DESTROY', 'CHANNEL_STATE', 'CHANNEL_CALLSTATE',
  'CHANNEL_ANSWER', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_EXECUTE',
  'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HOLD', 'CHANNEL_UNHOLD', 'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE',
  'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_OUTGOING', 'CHANNEL_PARK', 'CHANNEL_UNPARK',
  'CHANNEL_APPLICATION', 'CHANNEL_ORIGINATE', 'CHANNEL_UUID', 'API', 'LOG', 'INBOUND_CHAN',
  'OUTBOUND_CHAN', 'STARTUP', 'SHUTDOWN', 'PUBLISH', 'UNPUBLISH', 'TALK', 'NOTALK', 'SESSION_CRASH',
  'MODULE_LOAD', 'MODULE_UNLOAD', 'DTMF', 'MESSAGE', 'PRESENCE_IN', 'NOTIFY_IN', 'PRESENCE_OUT',
  'PRESENCE_PROBE', 'MESSAGE_WAITING', 'MESSAGE_QUERY', 'ROSTER', 'CODEC', 'BACKGROUND_JOB',
  'DETECTED_SPEECH', 'DETECTED_TONE', 'PRIVATE_COMMAND', 'HEARTBEAT', 'TRAP', 'ADD_SCHEDULE',
  'DEL_SCHEDULE', 'EXE_SCHEDULE', 'RE_SCHEDULE', 'RELOADXML', 'NOTIFY', 'PHONE_FEATURE',
  'PHONE_FEATURE_SUBSCRIBE', 'SEND_MESSAGE', 'RECV_MESSAGE', 'REQUEST_PARAMS', 'CHANNEL_DATA',
  'GENERAL', 'COMMAND', 'SESSION_HEARTBEAT', 'CLIENT_DISCONNECTED', 'SERVER_DISCONNECTED',
  'SEND_INFO', 'RECV_INFO', 'RECV_RTCP_MESSAGE', 'SEND_RTCP_MESSAGE', 'CALL_SECURE', 'NAT',
  'RECORD_START', 'RECORD_STOP', 'PLAYBACK_START', 'PLAYBACK_STOP', 'CALL_UPDATE', 'FAILURE',
  'SOCKET_DATA', 'MEDIA_BUG_START', 'MEDIA_BUG_STOP', 'CONFERENCE_DATA_QUERY', 'CONFERENCE_DATA',
  'CALL_SETUP_REQ', 'CALL_SETUP_RESULT', 'CALL_DETAIL', 'DEVICE_STATE', 'TEXT', 'SHUTDOWN_REQUESTED',
  'CERT_RELOAD', 'ALL',
] as const;

export type EventName = (typeof EVENT_NAMES)[number];

export type EventFormat = 'plain' | 'json' | 'xml';

const LF = 0x0a;
const SPACE = 0x20;
const LFLF = Buffer.from('\n\n', 'latin1');
const NON_ASCII = /[^\x00-\x7f]/;
const needleCache = new Map<string, Buffer>();

/**
 * The bytes "<name>:" that start the line of header `name`, or undefined for a name that cannot
 * be looked up this way (empty, or holding ':' or a line break: a line is split at its first ':').
 * No leading "\n" in the needle: LF is the most frequent byte of a header block, a poor first byte
 * for the native search; the line start is checked after each hit instead.
 */
function needleFor(name: string): Buffer | undefined {
  let n = needleCache.get(name);
  if (n === undefined) {
    if (name.length === 0 || /[:\r\n]/.test(name)) return undefined;
    n = Buffer.from(`${name}:`, 'utf8');
    if (needleCache.size < 1024) needleCache.set(name, n);
  }
  return n;
}

/** Offset of the first line (the first one, or one after an LF) that starts with `needle`, or -1. */
function findLine(raw: Buffer, needle: Buffer): number {
  if (startsWith(raw, needle)) return 0;
  let at = raw.indexOf(needle, 1);
  while (at !== -1 && raw[at - 1] !== LF) at = raw.indexOf(needle, at + 1);
  return at;
}

/**
 * The value of a plain-format line that starts at `start`, up to its LF: `_undef_` is
 * switch_event_serialize's marker for an empty value; anything else is %-decoded leniently. The
 * value is decoded as UTF-8 at once, and only one that holds a '%' (found in the string, by V8,
 * faster than a byte loop here) is decoded again from its bytes.
 */
function plainValueAt(raw: Buffer, start: number): string {
  let end = raw.indexOf(LF, start);
  if (end === -1) end = raw.length;
  const text = utf8(raw, start, end);
  if (text.length === 7 && text === '_undef_') return '';
  return text.indexOf('%') === -1 ? text : urlDecodeBytes(raw, start, end);
}

/** Bytes [start, end) of a plain-format value, decoded (see plainValueAt). */
function decodePlainValue(raw: Buffer, start: number, end: number): string {
  if (end - start === 7 && raw[start] === 0x5f && spells(raw, start, UNDEF)) return '';
  return urlDecodeBytes(raw, start, end);
}

/** switch_event_serialize's marker for an empty value. */
const UNDEF = word('_undef_');

/** EVENT_NAMES by length, for matching the first line of a plain event in its bytes. */
const EVENT_NAMES_BY_LENGTH: Word[][] = [];
for (const n of EVENT_NAMES) (EVENT_NAMES_BY_LENGTH[n.length] ??= []).push(word(n));
const EVENT_NAME_PREFIX = word('Event-Name:');
const LONGEST_EVENT_NAME = Math.max(...EVENT_NAMES.map((n) => n.length));

/** The EVENT_NAMES entry spelled by a first line `Event-Name: <name>`, if it is one. */
function knownEventName(raw: Buffer): string | undefined {
  if (raw[0] !== 0x45 || !spells(raw, 0, EVENT_NAME_PREFIX)) return undefined;
  let start = EVENT_NAME_PREFIX.bytes.length;
  while (raw[start] === SPACE) start++;
  const end = raw.indexOf(LF, start);
  if (end === -1 || end - start > LONGEST_EVENT_NAME) return undefined;
  const candidates = EVENT_NAMES_BY_LENGTH[end - start];
  if (candidates === undefined) return undefined;
  const last = raw[end - 1];
  for (let k = 0; k < candidates.length; k++) {
    const w = candidates[k]!;
    // Many names share a CHANNEL_ prefix; the last letter tells most of them apart at once.
    if (w.bytes[w.bytes.length - 1] === last && spells(raw, start, w)) return w.text;
  }
  return undefined;
}

/** Events up to this size are lower-cased whole for a case-insensitive lookup (see findFolded). */
const FOLD_WHOLE_BYTES = 16 * 1024;

/** findPlain's answer when only the full parse can tell. */
const FULL_PARSE = Symbol('full parse');

/** Lower-cases ASCII letters only (FreeSWITCH compares header names with strcasecmp). */
export function asciiLower(s: string): string {
  return NON_ASCII.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s.toLowerCase();
}

/** Whether `raw` starts with `needle` (the first line has no LF before it). */
function startsWith(raw: Buffer, needle: Buffer): boolean {
  const n = needle.length;
  if (raw.length < n) return false;
  for (let i = 0; i < n; i++) if (raw[i] !== needle[i]) return false;
  return true;
}

/** `_undef_` and %-decoding for a value taken from a serialized plain event given as a string. */
export function decodePlainString(value: string): string {
  return value === '_undef_' ? '' : urlDecode(value);
}

type Value = string | string[];

/**
 * One FreeSWITCH event, whatever format it arrived in (plain, JSON, XML, or the header block of an
 * outbound `connect` reply). Values returned by `get` are decoded.
 *
 * Decoding is lazy: a plain event keeps its bytes, and `get(name)` looks the header up directly in
 * them (one native search for the line) and decodes only that value; the blank line ending the
 * headers is searched for only as far as the line found. A name not found as spelled is looked
 * for once more ignoring ASCII case, in a lower-cased copy of the bytes. The whole header set is
 * parsed only when it is iterated (or for a non-ASCII name not found as spelled), and then once.
 */
export class EslEvent {
  readonly format: EventFormat | 'headers';
  private raw: Buffer | undefined;
  /** For plain: offset of the blank line ending the headers (i.e. headers are [0, headerEnd)). */
  private headerEnd = -1;
  /** For plain, while headerEnd is unknown: no blank line ("\n\n") starts before this offset. */
  private clearTo = 0;
  private names: string[] | undefined;
  private values: Value[] | undefined;
  /** First index of each exact name. */
  private index: Map<string, number> | undefined;
  /** First index of each name folded to lower case; built on the first exact-case miss. */
  private lowerIndex: Map<string, number> | undefined;
  /** For plain: the bytes (of a large event, its headers) as a lower-cased latin1 string, for case-insensitive lookups. */
  private lowerText: string | undefined;
  private bodyText: string | undefined;
  /** Why the body could not be decoded (JSON or XML), once it was tried; see decodeError. */
  private failure: EslParseError | undefined;

  private constructor(format: EventFormat | 'headers', raw: Buffer | undefined) {
    this.format = format;
    this.raw = raw;
    if (format === 'plain' && (raw!.length === 0 || raw![0] === LF)) this.headerEnd = 0;
  }

  /** Builds the event carried by a text/event-plain|json|xml frame; undefined for other frames. */
  static fromFrame(frame: Frame): EslEvent | undefined {
    const body = frame.body ?? Buffer.alloc(0);
    switch (frame.contentType) {
      case 'text/event-plain':
        return EslEvent.fromPlain(body);
      case 'text/event-json':
        return EslEvent.fromJson(body);
      case 'text/event-xml':
        return EslEvent.fromXml(body);
      default:
        return undefined;
    }
  }

  /** A text/event-plain body: URL-encoded header lines, blank line, optional body. */
  static fromPlain(body: Buffer): EslEvent {
    return new EslEvent('plain', body);
  }

  /** A text/event-json body: one flat JSON object, `_body` holding the event body. */
  static fromJson(body: Buffer): EslEvent {
    return new EslEvent('json', body);
  }

  /** A text/event-xml body: `<event><headers>…</headers><body>…</body></event>`. */
  static fromXml(body: Buffer): EslEvent {
    return new EslEvent('xml', body);
  }

  /**
   * An event from header pairs. With `encoded`, values are URL-decoded first: that is how the
   * outbound `connect` reply (a serialized CHANNEL_DATA event) carries them.
   */
  static fromHeaders(
    headers: Iterable<readonly [string, string]> | Record<string, string>,
    body?: string,
    options?: { encoded?: boolean },
  ): EslEvent {
    const ev = new EslEvent('headers', undefined);
    const names: string[] = [];
    const values: Value[] = [];
    const pairs = isIterable(headers) ? headers : Object.entries(headers);
    for (const [n, v] of pairs) {
      names.push(n);
      values.push(options?.encoded ? decodePlainString(v) : v);
    }
    ev.setHeaders(names, values);
    ev.bodyText = body ?? '';
    return ev;
  }

  /**
   * Why this event's body cannot be decoded, or undefined when it can. A JSON or XML body is
   * decoded here (once, and kept for the lookups that follow); a plain body always decodes, as
   * libesl reads it leniently. Lookups never throw: an event that does not decode has no headers
   * and no body. The connections check this before delivering an event and close a peer that
   * sends one, with this error.
   */
  get decodeError(): EslParseError | undefined {
    if (this.format === 'json' || this.format === 'xml') this.ensureParsed();
    return this.failure;
  }

  /** Event-Name (for CUSTOM events this is 'CUSTOM'; see `subclass`). */
  get name(): string {
    // Every consumer reads the name of every event: a plain event whose first line names a known
    // type gets the shared constant, with no lookup and no string built.
    if (this.names === undefined && this.format === 'plain' && this.headerEnd !== 0) {
      const known = knownEventName(this.raw!);
      if (known !== undefined) return known;
    }
    return this.get('Event-Name') ?? '';
  }

  /** Event-Subclass of a CUSTOM event, e.g. 'sofia::register'. */
  get subclass(): string | undefined {
    return this.get('Event-Subclass');
  }

  /** The event's own body ('' when it has none), e.g. a BACKGROUND_JOB's command output. */
  get body(): string {
    if (this.bodyText === undefined) this.bodyText = this.extractBody();
    return this.bodyText;
  }

  /**
   * Decoded value of a header. Names match case-insensitively (ASCII letters only, like
   * FreeSWITCH's strcasecmp); if a name is repeated, the first header spelled exactly like `name`
   * wins, else the first one in any case.
   */
  get(name: string): string | undefined {
    if (this.names === undefined && this.format === 'plain') {
      const found = this.findPlain(name);
      if (found !== FULL_PARSE) return found;
    }
    this.ensureParsed();
    const i = this.lookup(name);
    if (i === undefined) return undefined;
    return joinArray(this.values![i]!);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** A header's values as an array: splits FreeSWITCH's `ARRAY::a|:b` form and JSON arrays. */
  getArray(name: string): string[] | undefined {
    if (this.names === undefined && this.format === 'plain') {
      const found = this.findPlain(name);
      if (found !== FULL_PARSE) return found === undefined ? undefined : splitArray(found);
    }
    this.ensureParsed();
    const i = this.lookup(name);
    if (i === undefined) return undefined;
    const v = this.values![i]!;
    return Array.isArray(v) ? [...v] : splitArray(v);
  }

  /** All headers, decoded, in wire order (duplicates included). */
  *headers(): IterableIterator<[string, string]> {
    this.ensureParsed();
    const names = this.names!;
    const values = this.values!;
    for (let i = 0; i < names.length; i++) yield [names[i]!, joinArray(values[i]!)];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.headers();
  }

  /** Headers as a plain object (first value wins for repeated names). */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [n, v] of this.headers()) if (!(n in out)) out[n] = v;
    return out;
  }

  // Typed accessors for the headers applications read most.
  get uniqueId(): string | undefined { return this.get('Unique-ID'); }
  get jobUuid(): string | undefined { return this.get('Job-UUID'); }
  get channelName(): string | undefined { return this.get('Channel-Name'); }
  get channelState(): string | undefined { return this.get('Channel-State'); }
  get callState(): string | undefined { return this.get('Channel-Call-State'); }
  get answerState(): string | undefined { return this.get('Answer-State'); }
  get hangupCause(): string | undefined { return this.get('Hangup-Cause'); }
  get callDirection(): string | undefined { return this.get('Call-Direction'); }
  get callerIdName(): string | undefined { return this.get('Caller-Caller-ID-Name'); }
  get callerIdNumber(): string | undefined { return this.get('Caller-Caller-ID-Number'); }
  get destinationNumber(): string | undefined { return this.get('Caller-Destination-Number'); }
  get application(): string | undefined { return this.get('Application'); }
  get applicationData(): string | undefined { return this.get('Application-Data'); }
  get applicationUuid(): string | undefined { return this.get('Application-UUID'); }
  get applicationResponse(): string | undefined { return this.get('Application-Response'); }
  get coreUuid(): string | undefined { return this.get('Core-UUID'); }
  get sequence(): number | undefined {
    const s = this.get('Event-Sequence');
    return s === undefined ? undefined : Number(s);
  }
  /** Channel variable `name` (the `variable_<name>` header). */
  variable(name: string): string | undefined {
    return this.get(`variable_${name}`);
  }

  // ---- internals ----

  private setHeaders(names: string[], values: Value[]): void {
    const index = new Map<string, number>();
    for (let i = 0; i < names.length; i++) {
      const key = names[i]!;
      if (!index.has(key)) index.set(key, i);
    }
    this.names = names;
    this.values = values;
    this.index = index;
    this.lowerIndex = undefined;
  }

  /** Index of the header `name` resolves to: exact spelling first, else any case. */
  private lookup(name: string): number | undefined {
    const exact = this.index!.get(name);
    if (exact !== undefined) return exact;
    let lower = this.lowerIndex;
    if (lower === undefined) {
      lower = new Map<string, number>();
      const names = this.names!;
      for (let i = 0; i < names.length; i++) {
        const key = asciiLower(names[i]!);
        if (!lower.has(key)) lower.set(key, i);
      }
      this.lowerIndex = lower;
    }
    return lower.get(asciiLower(name));
  }

  private plainHeaderEnd(): number {
    if (this.headerEnd === -1) {
      const raw = this.raw!;
      const i = raw.indexOf(LFLF, this.clearTo);
      this.headerEnd = i === -1 ? raw.length : i + 1;
    }
    return this.headerEnd;
  }

  /**
   * Whether a line starting right after the LF at offset `at` belongs to the header block, i.e.
   * no blank line comes before it. Only the bytes up to `at` are searched (and never twice), so a
   * lookup of an early header does not scan the rest of the block.
   */
  private inHeaders(at: number): boolean {
    if (this.headerEnd !== -1) return at < this.headerEnd;
    if (at <= this.clearTo) return true;
    const raw = this.raw!;
    const from = this.clearTo;
    if (from === 0 && at >= 128) {
      // First check on this event: one native search backwards from `at`, with no view to build.
      if (raw.lastIndexOf(LFLF, at - 1) === -1) {
        this.clearTo = at;
        return true;
      }
      return at < this.plainHeaderEnd();
    }
    let i = -1;
    if (at - from < 128) {
      // A short stretch: a loop is cheaper than a native search on a sub-view.
      for (let p = from; p < at; p++) {
        if (raw[p] === LF && raw[p + 1] === LF) {
          i = p - from;
          break;
        }
      }
    } else {
      i = raw.subarray(from, at + 1).indexOf(LFLF);
    }
    if (i === -1) {
      this.clearTo = at;
      return true;
    }
    this.headerEnd = this.clearTo + i + 1;
    return at < this.headerEnd;
  }

  /**
   * Lookup straight in the plain bytes, without parsing the other headers: the first line whose
   * name is spelled exactly `name`, else the first whose name matches it ignoring ASCII case.
   * Lines split at their first ':' and lose the leading spaces of the value, as in parsePlain.
   * Returns FULL_PARSE for a name this cannot handle (the caller then parses everything).
   */
  private findPlain(name: string): string | undefined | typeof FULL_PARSE {
    const needle = needleFor(name);
    if (needle === undefined) return FULL_PARSE;
    if (this.headerEnd !== 0) {
      const at = findLine(this.raw!, needle);
      if (at === 0 || (at !== -1 && this.inHeaders(at - 1))) return this.valueAt(at + needle.length);
    }
    return this.findFolded(name);
  }

  /**
   * The case-insensitive part of findPlain, on a lower-cased latin1 copy of the bytes (one
   * character per byte, so offsets carry over). Latin-1 lower-casing never turns a non-ASCII
   * byte into an ASCII letter, so for an ASCII `name` this matches exactly the lines whose name
   * equals it ignoring ASCII case; other names go to the full parse.
   */
  private findFolded(name: string): string | undefined | typeof FULL_PARSE {
    if (NON_ASCII.test(name)) return FULL_PARSE;
    // A large event (a BACKGROUND_JOB with a long api output, say) is folded only up to the end of
    // its headers; a small one whole, which costs less than looking for that end first.
    const raw = this.raw!;
    const upto = raw.length > FOLD_WHOLE_BYTES ? this.plainHeaderEnd() : raw.length;
    const lower = (this.lowerText ??= raw.toString('latin1', 0, upto).toLowerCase());
    const wanted = name.toLowerCase();
    let start: number;
    if (this.headerEnd !== 0 && lower.startsWith(wanted) && lower.charCodeAt(wanted.length) === 0x3a) {
      start = wanted.length + 1;
    } else {
      const at = lower.indexOf(`\n${wanted}:`);
      // The first match anywhere: if it lies in the body, no header line matches.
      if (at === -1 || !this.inHeaders(at)) return undefined;
      start = at + wanted.length + 2;
    }
    return this.valueAt(start);
  }

  /** The decoded value of the header line whose value part starts at `start`. */
  private valueAt(start: number): string {
    const raw = this.raw!;
    while (raw[start] === SPACE) start++;
    return plainValueAt(raw, start);
  }

  private ensureParsed(): void {
    if (this.names !== undefined) return;
    try {
      switch (this.format) {
        case 'plain':
          this.parsePlain();
          break;
        case 'json':
          this.parseJson();
          break;
        case 'xml':
          this.parseXml();
          break;
        default:
          this.setHeaders([], []);
      }
    } catch (err) {
      // Nothing of a body that does not decode is trusted: no headers, no body, and the reason kept.
      this.failure = err instanceof EslParseError ? err : new EslParseError(`undecodable ${this.format} event: ${String(err)}`);
      this.setHeaders([], []);
      this.bodyText = '';
    }
  }

  private parsePlain(): void {
    const raw = this.raw!;
    const end = this.plainHeaderEnd();
    const names: string[] = [];
    const values: Value[] = [];
    // One native decode of the whole block as latin1 (one char per byte, so string offsets are
    // byte offsets), then cheap string cuts. Names or values that are not plain ASCII, and values
    // holding '%', are decoded from the bytes, exactly as the lazy lookup does.
    const text = raw.toString('latin1', 0, end);
    const ascii = !NON_ASCII.test(text);
    let pos = 0;
    while (pos < end) {
      let eol = text.indexOf('\n', pos);
      if (eol === -1) eol = end;
      const colon = text.indexOf(':', pos);
      if (colon !== -1 && colon < eol) {
        let v = colon + 1;
        while (v < eol && text.charCodeAt(v) === SPACE) v++;
        if (ascii) {
          names.push(text.slice(pos, colon));
          const value = text.slice(v, eol);
          values.push(value.indexOf('%') === -1 && value !== '_undef_' ? value : decodePlainValue(raw, v, eol));
        } else {
          names.push(raw.toString('utf8', pos, colon));
          values.push(decodePlainValue(raw, v, eol));
        }
      }
      pos = eol + 1;
    }
    this.setHeaders(names, values);
  }

  private parseJson(): void {
    // Members in text order with repeated keys kept (see jsonEntries): the first one wins in get,
    // as in the plain format and in FreeSWITCH's own lookups.
    const names: string[] = [];
    const values: Value[] = [];
    let body: string | undefined;
    for (const [k, v] of jsonEntries(this.raw!.toString('utf8'))) {
      if (k === '_body') {
        body ??= typeof v === 'string' ? v : JSON.stringify(v);
        continue;
      }
      names.push(k);
      values.push(Array.isArray(v) ? v.map(jsonText) : jsonText(v));
    }
    this.setHeaders(names, values);
    if (this.bodyText === undefined) this.bodyText = body ?? '';
  }

  private parseXml(): void {
    const text = this.raw!.toString('utf8');
    const names: string[] = [];
    const values: Value[] = [];
    const hStart = text.indexOf('<headers>');
    const hEnd = text.indexOf('</headers>');
    // switch_event_xmlize always writes <event><headers>…</headers>: anything else is not an event.
    if (hStart === -1 || hEnd < hStart || text.indexOf('<event') === -1) {
      throw new EslParseError(`invalid XML event: no <event><headers> element in ${JSON.stringify(text.slice(0, 40))}`);
    }
    const re = /<([^\s<>/]+)>([^<]*)<\/\1>/g;
    const section = text.slice(hStart + 9, hEnd);
    let m: RegExpExecArray | null;
    while ((m = re.exec(section)) !== null) {
      names.push(m[1]!);
      values.push(urlDecode(xmlUnescape(m[2]!)));
    }
    // A run of elements with one name is an array header (switch_event_xmlize writes one element
    // per item); the same name apart again is a repeated header, as CODEC events carry.
    const folded = foldRuns(names, values);
    const tail = text.slice(hEnd);
    const cl = /<Content-Length>(\d+)<\/Content-Length>/.exec(tail);
    if (cl) {
      folded.names.push('Content-Length');
      folded.values.push(cl[1]!);
    }
    this.setHeaders(folded.names, folded.values);
    if (this.bodyText === undefined) {
      const b0 = tail.indexOf('<body>');
      const b1 = tail.lastIndexOf('</body>');
      let body = b0 !== -1 && b1 > b0 ? xmlUnescape(tail.slice(b0 + 6, b1)) : '';
      // switch_xml_toxml indents the closing tag; Content-Length gives the true byte length.
      if (cl) body = Buffer.from(body, 'utf8').subarray(0, Number(cl[1])).toString('utf8');
      this.bodyText = body;
    }
  }

  private extractBody(): string {
    switch (this.format) {
      case 'plain': {
        const raw = this.raw!;
        const end = this.plainHeaderEnd();
        const start = end + 1; // skip the blank line
        if (start >= raw.length) return '';
        // The serializer's own Content-Length comes last (a sendevent event may carry an earlier one).
        // (lastIndexOf counts a negative offset from the end, hence the guard.)
        const needle = needleFor('Content-Length')!;
        let at = end >= needle.length ? raw.lastIndexOf(needle, end - needle.length) : -1;
        while (at > 0 && raw[at - 1] !== LF) at = raw.lastIndexOf(needle, at - 1);
        if (at === -1 || (at === 0 && this.headerEnd === 0)) return '';
        const valueStart = at + needle.length;
        let eol = raw.indexOf(LF, valueStart);
        if (eol === -1 || eol > end) eol = end;
        const n = Number(raw.toString('latin1', valueStart, eol));
        if (!(n > 0)) return '';
        return raw.toString('utf8', start, Math.min(raw.length, start + n));
      }
      case 'json':
      case 'xml':
        this.ensureParsed();
        return this.bodyText ?? '';
      default:
        return '';
    }
  }
}

function isIterable(x: unknown): x is Iterable<readonly [string, string]> {
  return x !== null && typeof x === 'object' && Symbol.iterator in (x as object);
}

function joinArray(v: Value): string {
  if (typeof v === 'string') return v;
  return v.length === 1 ? v[0]! : `ARRAY::${v.join('|:')}`;
}

function splitArray(v: string): string[] {
  return v.startsWith('ARRAY::') ? v.slice(7).split('|:') : [v];
}

function foldRuns(names: string[], values: Value[]): { names: string[]; values: Value[] } {
  const outN: string[] = [];
  const outV: Value[] = [];
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (i > 0 && names[i - 1] === n) {
      const last = outN.length - 1;
      const prev = outV[last]!;
      outV[last] = Array.isArray(prev) ? [...prev, values[i] as string] : [prev, values[i] as string];
    } else {
      outN.push(n);
      outV.push(values[i]!);
    }
  }
  return { names: outN, values: outV };
}

/** A JSON member value as header text: strings as they are, anything else as JSON. */
function jsonText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
