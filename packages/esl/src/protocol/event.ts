import { EslParseError } from '../errors.js';
import { urlDecode, urlDecodeBytes, xmlUnescape } from './encoding.js';
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
const needleCache = new Map<string, Buffer>();

function needleFor(name: string): Buffer {
  let n = needleCache.get(name);
  if (n === undefined) {
    n = Buffer.from(`\n${name}: `, 'utf8');
    if (needleCache.size < 1024) needleCache.set(name, n);
  }
  return n;
}

type Value = string | string[];

/**
 * One FreeSWITCH event, whatever format it arrived in (plain, JSON, XML, or the header block of an
 * outbound `connect` reply). Values returned by `get` are decoded.
 *
 * Decoding is lazy: a plain event keeps its bytes, and `get(name)` looks the header up directly in
 * them and decodes only that value. The whole header set is parsed only when it is iterated, or
 * when a lookup misses (case-insensitive fallback), and then once.
 */
export class EslEvent {
  readonly format: EventFormat | 'headers';
  private raw: Buffer | undefined;
  /** For plain: offset of the blank line ending the headers (i.e. headers are [0, headerEnd)). */
  private headerEnd = -1;
  private names: string[] | undefined;
  private values: Value[] | undefined;
  private index: Map<string, number> | undefined;
  private bodyText: string | undefined;

  private constructor(format: EventFormat | 'headers', raw: Buffer | undefined) {
    this.format = format;
    this.raw = raw;
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
      values.push(options?.encoded ? urlDecode(v) : v);
    }
    ev.setHeaders(names, values);
    ev.bodyText = body ?? '';
    return ev;
  }

  /** Event-Name (for CUSTOM events this is 'CUSTOM'; see `subclass`). */
  get name(): string {
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

  /** Decoded value of a header (first one, if repeated); names match case-insensitively. */
  get(name: string): string | undefined {
    if (this.names === undefined && this.format === 'plain') {
      const found = this.findPlain(name);
      if (found !== undefined) return found;
    }
    this.ensureParsed();
    const i = this.index!.get(name.toLowerCase());
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
      if (found !== undefined) return splitArray(found);
    }
    this.ensureParsed();
    const i = this.index!.get(name.toLowerCase());
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
      const key = names[i]!.toLowerCase();
      if (!index.has(key)) index.set(key, i);
    }
    this.names = names;
    this.values = values;
    this.index = index;
  }

  private plainHeaderEnd(): number {
    if (this.headerEnd === -1) {
      const raw = this.raw!;
      if (raw.length === 0 || raw[0] === LF) {
        this.headerEnd = 0;
      } else {
        const i = raw.indexOf('\n\n');
        this.headerEnd = i === -1 ? raw.length : i + 1;
      }
    }
    return this.headerEnd;
  }

  /** Exact-case lookup straight in the plain bytes; undefined if not found that way. */
  private findPlain(name: string): string | undefined {
    const raw = this.raw!;
    const end = this.plainHeaderEnd();
    let start: number;
    const needle = needleFor(name);
    // The first line has no preceding LF: compare it without the needle's leading "\n".
    if (raw.length > needle.length - 1 && raw.compare(needle, 1, needle.length, 0, needle.length - 1) === 0) {
      start = needle.length - 1;
    } else {
      const at = raw.indexOf(needle);
      if (at === -1 || at >= end) return undefined;
      start = at + needle.length;
    }
    let eol = raw.indexOf(LF, start);
    if (eol === -1 || eol > end) eol = end;
    return urlDecodeBytes(raw, start, eol);
  }

  private ensureParsed(): void {
    if (this.names !== undefined) return;
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
  }

  private parsePlain(): void {
    const raw = this.raw!;
    const end = this.plainHeaderEnd();
    const names: string[] = [];
    const values: Value[] = [];
    let pos = 0;
    while (pos < end) {
      let eol = raw.indexOf(LF, pos);
      if (eol === -1 || eol > end) eol = end;
      const colon = raw.indexOf(0x3a, pos);
      if (colon !== -1 && colon < eol) {
        let v = colon + 1;
        while (v < eol && raw[v] === 0x20) v++;
        names.push(raw.toString('utf8', pos, colon));
        values.push(urlDecodeBytes(raw, v, eol));
      }
      pos = eol + 1;
    }
    this.setHeaders(names, values);
  }

  private parseJson(): void {
    let obj: unknown;
    try {
      obj = JSON.parse(this.raw!.toString('utf8'));
    } catch (err) {
      throw new EslParseError(`invalid JSON event: ${(err as Error).message}`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new EslParseError('invalid JSON event: not an object');
    }
    const names: string[] = [];
    const values: Value[] = [];
    let body = '';
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      if (k === '_body') {
        body = typeof v === 'string' ? v : String(v);
        continue;
      }
      names.push(k);
      values.push(Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v : String(v));
    }
    this.setHeaders(names, values);
    if (this.bodyText === undefined) this.bodyText = body;
  }

  private parseXml(): void {
    const text = this.raw!.toString('utf8');
    const names: string[] = [];
    const values: Value[] = [];
    const hStart = text.indexOf('<headers>');
    const hEnd = text.indexOf('</headers>');
    if (hStart !== -1 && hEnd > hStart) {
      const re = /<([^\s<>/]+)>([^<]*)<\/\1>/g;
      const section = text.slice(hStart + 9, hEnd);
      let m: RegExpExecArray | null;
      while ((m = re.exec(section)) !== null) {
        names.push(m[1]!);
        values.push(urlDecode(xmlUnescape(m[2]!)));
      }
    }
    // Repeated elements with one name are FreeSWITCH's array headers: fold them back.
    const folded = foldRepeated(names, values);
    const tail = hEnd === -1 ? '' : text.slice(hEnd);
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
        const needle = needleFor('Content-Length');
        const at = raw.lastIndexOf(needle, end - needle.length);
        if (at === -1) return '';
        let eol = raw.indexOf(LF, at + needle.length);
        if (eol === -1 || eol > end) eol = end;
        const n = Number(raw.toString('latin1', at + needle.length, eol));
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

function foldRepeated(names: string[], values: Value[]): { names: string[]; values: Value[] } {
  const seen = new Map<string, number>();
  const outN: string[] = [];
  const outV: Value[] = [];
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    const at = seen.get(n);
    if (at === undefined) {
      seen.set(n, outN.length);
      outN.push(n);
      outV.push(values[i]!);
    } else {
      const prev = outV[at]!;
      outV[at] = Array.isArray(prev) ? [...prev, values[i] as string] : [prev, values[i] as string];
    }
  }
  return { names: outN, values: outV };
}
