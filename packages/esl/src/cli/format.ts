import type { LogRecord } from '../transport/connection.js';
import type { EslEvent } from '../protocol/event.js';

/** ANSI SGR colours, written by hand so the package keeps zero runtime dependencies. */
export interface Colors {
  readonly enabled: boolean;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  magenta(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

function sgr(open: number, close: number): (s: string) => string {
  return (s) => `\u001b[${open}m${s}\u001b[${close}m`;
}

const identity = (s: string): string => s;

export function makeColors(enabled: boolean): Colors {
  if (!enabled) {
    return { enabled, red: identity, green: identity, yellow: identity, blue: identity, magenta: identity, cyan: identity, bold: identity, dim: identity };
  }
  return {
    enabled,
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    blue: sgr(34, 39),
    magenta: sgr(35, 39),
    cyan: sgr(36, 39),
    bold: sgr(1, 22),
    dim: sgr(2, 22),
  };
}

/**
 * Colour only for a terminal, unless forced. NO_COLOR (https://no-color.org: any non-empty value)
 * turns it off; an explicit --color/--no-color (or the config file's "color") beats both.
 */
export function shouldUseColor(
  explicit: boolean | undefined,
  isTTY: boolean,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  if (explicit !== undefined) return explicit;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

/** Removes ANSI escape sequences (for tests and for measuring visible width). */
export function stripAnsi(s: string): string {
  return s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}

/**
 * Colour per log level, following fs_cli's table: CONSOLE plain, ALERT/CRIT/ERR red,
 * WARNING magenta, NOTICE cyan, INFO green, DEBUG yellow.
 */
export function colorForLevel(level: number, c: Colors): (s: string) => string {
  switch (level) {
    case 1:
    case 2:
    case 3:
      return c.red;
    case 4:
      return c.magenta;
    case 5:
      return c.cyan;
    case 6:
      return c.green;
    case 7:
      return c.yellow;
    default:
      return identity;
  }
}

/** One log/data record as text: FreeSWITCH's own line (date, level, file:line, message), coloured by level. */
export function formatLogRecord(rec: LogRecord, c: Colors): string {
  const text = rec.text.replace(/\r?\n$/, '');
  const paint = colorForLevel(rec.level, c);
  return text.split('\n').map((line) => paint(line)).join('\n');
}

export function logRecordToJson(rec: LogRecord): string {
  return JSON.stringify({
    type: 'log',
    level: rec.level,
    levelName: rec.levelName,
    channel: rec.channel,
    file: rec.file,
    func: rec.func,
    line: rec.line,
    uuid: rec.userData === '' ? undefined : rec.userData,
    text: rec.text.replace(/\r?\n$/, ''),
  });
}

/** The clock time of an event ("HH:MM:SS"), from Event-Date-Local when it has one. */
function eventTime(ev: EslEvent): string {
  const local = ev.get('Event-Date-Local');
  const m = local === undefined ? null : /(\d{2}:\d{2}:\d{2})/.exec(local);
  if (m) return m[1]!;
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
}

/** Headers worth a place on the one-line form, in display order, with their short labels. */
const COMPACT_FIELDS: ReadonlyArray<readonly [header: string, label: string]> = [
  ['Unique-ID', 'uuid'],
  ['Channel-Name', 'channel'],
  ['Caller-Caller-ID-Number', 'from'],
  ['Caller-Destination-Number', 'to'],
  ['Channel-State', 'state'],
  ['Channel-Call-State', 'callstate'],
  ['Answer-State', 'answer'],
  ['Hangup-Cause', 'cause'],
  ['Application', 'app'],
  ['Application-Data', 'arg'],
  ['Application-Response', 'result'],
  ['Job-UUID', 'job'],
  ['Job-Command', 'command'],
  ['API-Command', 'command'],
  ['API-Command-Argument', 'args'],
];

function quoteIfNeeded(v: string): string {
  return /[\s"]/.test(v) || v === '' ? JSON.stringify(v) : v;
}

/**
 * One line per event: time, name (with subclass for CUSTOM), then the channel/job fields that
 * identify it. Values with spaces are quoted; a body is summarised by its first line.
 */
export function formatEventCompact(ev: EslEvent, c: Colors): string {
  const name = ev.name === 'CUSTOM' && ev.subclass ? `CUSTOM ${ev.subclass}` : ev.name || '(unnamed event)';
  const parts = [c.dim(eventTime(ev)), c.bold(c.cyan(name))];
  for (const [header, label] of COMPACT_FIELDS) {
    const v = ev.get(header);
    if (v === undefined || v === '' || v === '_undef_') continue;
    if (header === 'Application-Data' && ev.get('Application') === undefined) continue;
    parts.push(`${c.dim(`${label}=`)}${quoteIfNeeded(v)}`);
  }
  const body = ev.body.replace(/\s+$/, '');
  if (body !== '') {
    const lines = body.split('\n');
    const first = lines[0]!.length > 80 ? `${lines[0]!.slice(0, 77)}...` : lines[0]!;
    parts.push(`${c.dim('body=')}${JSON.stringify(lines.length > 1 ? `${first} (+${lines.length - 1} lines)` : first)}`);
  }
  return parts.join(' ');
}

/** Every header as `Name: value` (decoded), then the body after a blank line, framed by a title line. */
export function formatEventFull(ev: EslEvent, c: Colors): string {
  const name = ev.name === 'CUSTOM' && ev.subclass ? `CUSTOM ${ev.subclass}` : ev.name || '(unnamed event)';
  const lines = [c.bold(c.cyan(`[EVENT ${name}]`))];
  for (const [n, v] of ev.headers()) lines.push(`${c.dim(`${n}:`)} ${v}`);
  const body = ev.body;
  if (body !== '') {
    lines.push('');
    lines.push(body.replace(/\n$/, ''));
  }
  lines.push('');
  return lines.join('\n');
}

/** An event as one JSON line: name, all headers (first value wins for repeated names) and body. */
export function eventToJson(ev: EslEvent): string {
  const out: Record<string, unknown> = { type: 'event', name: ev.name };
  if (ev.subclass !== undefined) out.subclass = ev.subclass;
  out.headers = ev.toObject();
  if (ev.body !== '') out.body = ev.body;
  return JSON.stringify(out);
}

export interface ApiResultJson {
  command: string;
  ok: boolean;
  /** The api/response body (for failures, the -ERR text). */
  body?: string;
  /** Stable error code (EslError.code) when the command did not succeed. */
  error?: string;
  message?: string;
}

export function apiResultToJson(r: ApiResultJson): string {
  return JSON.stringify({ type: 'api', ...r });
}

/** What fs_cli prints for an api body: the text, ending in exactly one newline. */
export function formatApiBody(body: string): string {
  return body.endsWith('\n') ? body : `${body}\n`;
}
