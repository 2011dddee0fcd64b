import { EslInvalidArgumentError } from '../errors.js';
import type { EventFormat } from './event.js';

/** Headers to send with a command. Values are sent as is: FreeSWITCH does not URL-decode them. */
export type HeaderInput =
  | Iterable<readonly [string, string | number | boolean]>
  | Readonly<Record<string, string | number | boolean | undefined>>;

const LINE_BREAK = /[\r\n]/;

/**
 * Refuses any CR or LF in something that goes on a command line or header line: it would end the
 * line early and the remainder would be read by FreeSWITCH as a new header or a second command.
 */
export function assertSingleLine(what: string, value: string): void {
  if (LINE_BREAK.test(value)) {
    throw new EslInvalidArgumentError(`${what} must not contain CR or LF: ${JSON.stringify(value.slice(0, 60))}`);
  }
}

function assertHeaderName(name: string): void {
  assertSingleLine('header name', name);
  if (name.length === 0 || name.includes(':') || name.trim() !== name) {
    throw new EslInvalidArgumentError(`invalid header name: ${JSON.stringify(name)}`);
  }
}

function headerPairs(headers: HeaderInput | undefined): Array<[string, string]> {
  if (headers === undefined) return [];
  const out: Array<[string, string]> = [];
  const entries =
    Symbol.iterator in headers
      ? (headers as Iterable<readonly [string, string | number | boolean]>)
      : Object.entries(headers as Record<string, string | number | boolean | undefined>);
  for (const [name, raw] of entries) {
    if (raw === undefined) continue;
    const value = String(raw);
    assertHeaderName(name);
    assertSingleLine(`value of header ${name}`, value);
    out.push([name, value]);
  }
  return out;
}

/**
 * Builds one command: the command line, header lines, a blank line, and the body if any.
 * Content-Length belongs to the serializer: with a body it is set to the body's length in bytes,
 * and a caller-given one is always dropped (without a body it would make FreeSWITCH read the next
 * command as this one's body).
 */
export function serializeCommand(command: string, headers?: HeaderInput, body?: string | Buffer): Buffer {
  assertSingleLine('command', command);
  if (command.trim().length === 0) throw new EslInvalidArgumentError('command must not be empty');
  let head = command;
  for (const [name, value] of headerPairs(headers)) {
    if (name.length === 14 && name.toLowerCase() === 'content-length') continue;
    head += `\n${name}: ${value}`;
  }
  if (body === undefined || body.length === 0) return Buffer.from(`${head}\n\n`, 'utf8');
  const bodyBytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  head += `\nContent-Length: ${bodyBytes.length}\n\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), bodyBytes]);
}

function words(what: string, list: readonly string[]): string {
  if (list.length === 0) throw new EslInvalidArgumentError(`${what}: at least one name is required`);
  for (const w of list) assertSingleLine(what, w);
  return list.join(' ');
}

/** Names in the order FreeSWITCH needs: every word after CUSTOM is read as a subclass. */
function orderEventNames(names: readonly string[]): string[] {
  const plain: string[] = [];
  const subclasses: string[] = [];
  let custom = false;
  for (const raw of names) {
    // Refuse line breaks rather than treat them as separators, like every other argument.
    assertSingleLine('event names', raw);
    for (const part of raw.split(/\s+/).filter(Boolean)) {
      if (part.toUpperCase() === 'CUSTOM') custom = true;
      else if (part.includes('::')) subclasses.push(part);
      else plain.push(part);
    }
  }
  if (custom || subclasses.length > 0) return [...plain, 'CUSTOM', ...subclasses];
  return plain;
}

export type LogLevel =
  | 'CONSOLE' | 'ALERT' | 'CRIT' | 'ERR' | 'WARNING' | 'NOTICE' | 'INFO' | 'DEBUG'
  | 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Options of a sendmsg `execute` (IVR switch_ivr_parse_event). */
export interface ExecuteOptions {
  /** Sets Event-UUID, which comes back as Application-UUID on the EXECUTE events. */
  eventUuid?: string;
  /** Run with CF_EVENT_LOCK so later queued messages wait for this one to finish. */
  eventLock?: boolean;
  /** Queue instead of running inline in a sync outbound socket. */
  async?: boolean;
  /** Repeat count; negative repeats without limit. */
  loops?: number;
  /** Hold music for the bridged partner while the application runs. */
  holdBleg?: boolean;
}

/** Builders for every command mod_event_socket accepts. Each returns the exact bytes to write. */
export const commands = {
  auth(password: string): Buffer {
    return serializeCommand(`auth ${password}`);
  },
  userauth(user: string, password: string): Buffer {
    return serializeCommand(`userauth ${user}:${password}`);
  },
  api(command: string, headers?: HeaderInput): Buffer {
    return serializeCommand(`api ${command}`, headers);
  },
  bgapi(command: string, jobUuid?: string): Buffer {
    return serializeCommand(`bgapi ${command}`, jobUuid === undefined ? undefined : { 'Job-UUID': jobUuid });
  },
  /** `event <format> <names…>`; 'CUSTOM sub::class' entries are put last as FreeSWITCH requires. */
  event(format: EventFormat, names: readonly string[]): Buffer {
    return serializeCommand(`event ${format} ${words('event names', orderEventNames(names))}`);
  },
  myevents(format?: EventFormat, uuid?: string): Buffer {
    const parts = ['myevents'];
    if (uuid !== undefined) parts.push(uuid);
    if (format !== undefined) parts.push(format);
    return serializeCommand(parts.join(' '));
  },
  nixevent(names: readonly string[]): Buffer {
    return serializeCommand(`nixevent ${words('event names', orderEventNames(names))}`);
  },
  noevents(): Buffer {
    return serializeCommand('noevents');
  },
  filter(header: string, value: string): Buffer {
    assertSingleLine('filter header', header);
    if (header.length === 0 || /\s/.test(header)) throw new EslInvalidArgumentError('invalid filter header');
    return serializeCommand(`filter ${header} ${value}`);
  },
  /** `filter delete <header> [<value>]`; without a value every filter on that header goes. */
  filterDelete(header: string, value?: string): Buffer {
    assertSingleLine('filter header', header);
    return serializeCommand(value === undefined ? `filter delete ${header}` : `filter delete ${header} ${value}`);
  },
  divertEvents(on: boolean): Buffer {
    return serializeCommand(`divert_events ${on ? 'on' : 'off'}`);
  },
  sendevent(name: string, headers?: HeaderInput, body?: string | Buffer): Buffer {
    return serializeCommand(`sendevent ${name}`, headers, body);
  },
  sendmsg(uuid: string | undefined, headers: HeaderInput, body?: string | Buffer): Buffer {
    return serializeCommand(uuid ? `sendmsg ${uuid}` : 'sendmsg', headers, body);
  },
  /**
   * sendmsg `execute`. An argument with a line break goes in a text/plain body, the only way
   * FreeSWITCH accepts one; any other argument goes in execute-app-arg.
   */
  execute(uuid: string | undefined, app: string, arg?: string, options: ExecuteOptions = {}): Buffer {
    const headers: Array<[string, string]> = [
      ['call-command', 'execute'],
      ['execute-app-name', app],
    ];
    const multiline = arg !== undefined && LINE_BREAK.test(arg);
    if (arg !== undefined && arg !== '' && !multiline) headers.push(['execute-app-arg', arg]);
    if (options.eventUuid !== undefined) headers.push(['Event-UUID', options.eventUuid]);
    if (options.eventLock) headers.push(['event-lock', 'true']);
    if (options.async) headers.push(['async', 'true']);
    if (options.loops !== undefined) headers.push(['loops', String(Math.trunc(options.loops))]);
    if (options.holdBleg) headers.push(['hold-bleg', 'true']);
    if (multiline) {
      headers.push(['content-type', 'text/plain']);
      return commands.sendmsg(uuid, headers, arg);
    }
    return commands.sendmsg(uuid, headers);
  },
  /** sendmsg `hangup` with an optional cause (FreeSWITCH defaults to NORMAL_CLEARING). */
  hangup(uuid: string | undefined, cause?: string): Buffer {
    const headers: Array<[string, string]> = [['call-command', 'hangup']];
    if (cause !== undefined) headers.push(['hangup-cause', cause]);
    return commands.sendmsg(uuid, headers);
  },
  log(level?: LogLevel): Buffer {
    return serializeCommand(level === undefined ? 'log' : `log ${level}`);
  },
  nolog(): Buffer {
    return serializeCommand('nolog');
  },
  linger(seconds?: number): Buffer {
    return serializeCommand(seconds === undefined ? 'linger' : `linger ${Math.trunc(seconds)}`);
  },
  nolinger(): Buffer {
    return serializeCommand('nolinger');
  },
  resume(): Buffer {
    return serializeCommand('resume');
  },
  connect(): Buffer {
    return serializeCommand('connect');
  },
  getvar(name: string): Buffer {
    return serializeCommand(`getvar ${name}`);
  },
  exit(): Buffer {
    return serializeCommand('exit');
  },
} as const;
