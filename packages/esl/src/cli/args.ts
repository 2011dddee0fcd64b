import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LOG_LEVEL_NAMES } from '../protocol/log-levels.js';

/** A mistake on the command line or in the settings: reported in one line, exit code USAGE. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** FreeSWITCH log levels by number, lower case as typed (the `log` command takes either form). */
export const LOG_LEVELS: readonly string[] = LOG_LEVEL_NAMES.map((name) => name.toLowerCase());

/** Output format of events and logs: human text or one JSON object per line. */
export type OutputFormat = 'plain' | 'json';

/** The connection-related options as given on the command line (undefined = not given). */
export interface ConnectionFlags {
  host?: string;
  port?: number;
  password?: string;
  user?: string;
  timeout?: number;
  connectTimeout?: number;
  retry?: boolean;
  reconnect?: boolean;
  /** Log level to subscribe to (0–7), from -d/--debug. */
  logLevel?: number;
  quiet?: boolean;
  color?: boolean;
  history?: boolean;
}

export interface MainArgs extends ConnectionFlags {
  mode: 'main';
  execute: string[];
  batch: boolean;
  /** Event names from --events (split on whitespace and commas); undefined when not tailing. */
  events?: string[];
  /** Filters for the event tail: [header, value] pairs from --filter "Header value". */
  filters: Array<[string, string]>;
  format: OutputFormat;
  json: boolean;
  full: boolean;
  config?: string;
  profile?: string;
  /** The profile came from a bare argument (fs_cli style), not --profile. */
  profileFromArgument?: boolean;
}

export interface SimulateArgs {
  mode: 'simulate';
  host: string;
  port: number;
  password?: string;
  outbound?: { host: string; port: number };
  calls: number;
  interval: number;
  destination: string;
  answerAfter?: number;
  hangupAfter?: number;
  /** Channel variables of every demo call (`--var name=value`, repeatable). */
  variables: Record<string, string>;
  json: boolean;
  color?: boolean;
  config?: string;
  profile?: string;
}

export type CliArgs = MainArgs | SimulateArgs | { mode: 'help'; topic: 'main' | 'simulate' } | { mode: 'version' };

/** Default bind address and port of `fs-esl simulate`: FreeSWITCH's own, so a bare `fs-esl` reaches it. */
export const SIMULATE_DEFAULT_HOST = '127.0.0.1';
export const SIMULATE_DEFAULT_PORT = 8021;

const mainOptions = {
  host: { type: 'string', short: 'H' },
  port: { type: 'string', short: 'P' },
  password: { type: 'string', short: 'p' },
  user: { type: 'string', short: 'u' },
  execute: { type: 'string', short: 'x', multiple: true },
  timeout: { type: 'string', short: 't' },
  'connect-timeout': { type: 'string', short: 'T' },
  retry: { type: 'boolean', short: 'r' },
  reconnect: { type: 'boolean', short: 'R' },
  debug: { type: 'string', short: 'd' },
  quiet: { type: 'boolean', short: 'q' },
  batch: { type: 'boolean', short: 'b' },
  events: { type: 'string', short: 'e', multiple: true },
  filter: { type: 'string', multiple: true },
  format: { type: 'string' },
  json: { type: 'boolean' },
  full: { type: 'boolean' },
  config: { type: 'string', short: 'c' },
  profile: { type: 'string' },
  color: { type: 'boolean' },
  'no-color': { type: 'boolean', short: 'n' },
  'no-history': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies ParseArgsConfig['options'];

const simulateOptions = {
  host: { type: 'string', short: 'H' },
  port: { type: 'string', short: 'P' },
  password: { type: 'string', short: 'p' },
  outbound: { type: 'string', short: 'o' },
  calls: { type: 'string', short: 'n' },
  interval: { type: 'string' },
  destination: { type: 'string' },
  'answer-after': { type: 'string' },
  'hangup-after': { type: 'string' },
  var: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  color: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  config: { type: 'string', short: 'c' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** Runs node:util parseArgs, turning its exceptions into one-line UsageErrors. */
function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    let message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    // parseArgs appends advice about '--' that does not fit a mistyped option.
    const unknown = /^Unknown option '([^']*)'/.exec(message);
    if (unknown) message = `unknown option ${unknown[1]}`;
    throw new UsageError(message);
  }
}

/** Parses the process arguments (without node and the script path). */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const args = [...argv];
  if (args[0] === 'simulate') return parseSimulateArgs(args.slice(1));
  if (args[0] === 'help') return { mode: 'help', topic: args[1] === 'simulate' ? 'simulate' : 'main' };

  const { values, positionals } = parse(args, mainOptions);
  if (values.help) return { mode: 'help', topic: 'main' };
  if (values.version) return { mode: 'version' };
  if (positionals.length > 1) {
    throw new UsageError(`unexpected argument: ${positionals[1]} (quote commands: -x "show channels")`);
  }
  if (values.color && values['no-color']) throw new UsageError('--color and --no-color cannot be used together');

  let format: OutputFormat = 'plain';
  if (values.format !== undefined) {
    if (values.format !== 'plain' && values.format !== 'json') {
      throw new UsageError(`--format must be plain or json, not ${JSON.stringify(values.format)}`);
    }
    format = values.format;
  }
  if (values.json) format = 'json';

  const events = values.events === undefined ? undefined : splitEventNames(values.events);
  if (events !== undefined && events.length === 0) throw new UsageError('--events needs at least one event name');
  const execute = (values.execute ?? []).map((c) => c.trim());
  if (execute.some((c) => c.length === 0)) throw new UsageError('-x/--execute needs a command');
  // A line break would end the api command and start another on the wire; refused before connecting.
  const broken = execute.find((c) => /[\r\n]/.test(c));
  if (broken !== undefined) throw new UsageError(`-x/--execute must be one line; got ${JSON.stringify(broken)}`);
  if (events !== undefined && execute.length > 0) {
    throw new UsageError('--events and -x cannot be used together (run the commands first, then tail)');
  }

  const out: MainArgs = {
    mode: 'main',
    execute,
    batch: values.batch ?? false,
    events,
    filters: (values.filter ?? []).map(parseFilterArg),
    format,
    json: values.json ?? false,
    full: values.full ?? false,
  };
  if (values.host !== undefined) out.host = nonEmpty('-H/--host', values.host);
  if (values.port !== undefined) out.port = parsePort('-P/--port', values.port, false);
  if (values.password !== undefined) out.password = values.password;
  if (values.user !== undefined) out.user = nonEmpty('-u/--user', values.user);
  if (values.timeout !== undefined) out.timeout = parseDuration('-t/--timeout', values.timeout);
  if (values['connect-timeout'] !== undefined) {
    out.connectTimeout = parseDuration('-T/--connect-timeout', values['connect-timeout']);
  }
  if (values.retry) out.retry = true;
  if (values.reconnect) out.reconnect = true;
  if (values.debug !== undefined) out.logLevel = parseLogLevel(values.debug, '-d/--debug');
  if (values.quiet) out.quiet = true;
  if (values.color) out.color = true;
  if (values['no-color']) out.color = false;
  if (values['no-history']) out.history = false;
  if (values.config !== undefined) out.config = nonEmpty('-c/--config', values.config);
  const profile = values.profile ?? positionals[0];
  if (values.profile !== undefined && positionals[0] !== undefined) {
    throw new UsageError(`unexpected argument: ${positionals[0]} (the profile is already given with --profile)`);
  }
  if (profile !== undefined) out.profile = nonEmpty('--profile', profile);
  if (values.profile === undefined && positionals[0] !== undefined) out.profileFromArgument = true;
  return out;
}

function parseSimulateArgs(args: string[]): CliArgs {
  const { values, positionals } = parse(args, simulateOptions);
  if (values.help) return { mode: 'help', topic: 'simulate' };
  if (positionals.length > 0) throw new UsageError(`unexpected argument to simulate: ${positionals[0]}`);
  if (values.color && values['no-color']) throw new UsageError('--color and --no-color cannot be used together');
  const out: SimulateArgs = {
    mode: 'simulate',
    host: values.host === undefined ? SIMULATE_DEFAULT_HOST : nonEmpty('-H/--host', values.host),
    port: values.port === undefined ? SIMULATE_DEFAULT_PORT : parsePort('-P/--port', values.port, true),
    calls: 0,
    interval: 1000,
    destination: values.destination ?? '9999',
    variables: parseVariables(values.var ?? []),
    json: values.json ?? false,
  };
  if (values.password !== undefined) out.password = values.password;
  if (values.outbound !== undefined) {
    out.outbound = parseHostPort('--outbound', values.outbound);
    out.calls = 1;
  }
  if (values.calls !== undefined) {
    if (out.outbound === undefined) throw new UsageError('--calls needs --outbound host:port');
    out.calls = parseCount('--calls', values.calls);
  }
  if (values.interval !== undefined) out.interval = parseDuration('--interval', values.interval);
  if (values['answer-after'] !== undefined) out.answerAfter = parseDuration('--answer-after', values['answer-after']);
  if (values['hangup-after'] !== undefined) out.hangupAfter = parseDuration('--hangup-after', values['hangup-after']);
  if (values.color) out.color = true;
  if (values['no-color']) out.color = false;
  if (values.config !== undefined) out.config = nonEmpty('-c/--config', values.config);
  if (values.profile !== undefined) out.profile = nonEmpty('--profile', values.profile);
  return out;
}

/** `--var name=value` pairs; the value may be empty or hold `=`, the name may not be empty. */
function parseVariables(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? '' : pair.slice(0, eq).trim();
    if (name === '') throw new UsageError(`--var needs NAME=VALUE, not ${JSON.stringify(pair)}`);
    out[name] = pair.slice(eq + 1);
  }
  return out;
}

function nonEmpty(what: string, value: string): string {
  if (value.trim().length === 0) throw new UsageError(`${what} must not be empty`);
  return value.trim();
}

/** A TCP port; 0 (let the OS choose) only where listening. */
export function parsePort(what: string, value: string | number, allowZero: boolean): number {
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n > 65535 || (n === 0 && !allowZero)) {
    throw new UsageError(`${what} must be a port number ${allowZero ? '0' : '1'}-65535, not ${JSON.stringify(String(value))}`);
  }
  return n;
}

/**
 * A duration in milliseconds. A bare number is milliseconds (as in fs_cli's -t and -T); the
 * suffixes ms, s and m are accepted too. 0 means "no limit".
 */
export function parseDuration(what: string, value: string | number): number {
  const text = String(value).trim();
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/i.exec(text);
  if (!m) throw new UsageError(`${what} must be a duration such as 5000, 500ms, 5s or 1m, not ${JSON.stringify(String(value))}`);
  const unit = (m[2] ?? 'ms').toLowerCase();
  const factor = unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1;
  const ms = Math.round(Number(m[1]) * factor);
  if (ms > 2_147_483_647) throw new UsageError(`${what} is too large`);
  return ms;
}

function parseCount(what: string, value: string): number {
  const text = value.trim();
  if (!/^\d+$/.test(text) || Number(text) > 100_000) throw new UsageError(`${what} must be a whole number, not ${JSON.stringify(value)}`);
  return Number(text);
}

/** `host:port` (the host part may be omitted: `:8084` or `8084` mean 127.0.0.1). */
export function parseHostPort(what: string, value: string): { host: string; port: number } {
  const text = value.trim();
  const colon = text.lastIndexOf(':');
  const host = colon === -1 ? (/^\d+$/.test(text) ? '' : text) : text.slice(0, colon);
  const portText = colon === -1 ? (/^\d+$/.test(text) ? text : '') : text.slice(colon + 1);
  if (portText === '') throw new UsageError(`${what} must be host:port, not ${JSON.stringify(value)}`);
  return { host: host.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port: parsePort(what, portText, false) };
}

/** A log level by name (any case, as FreeSWITCH's `log` command takes it) or number 0–7. */
export function parseLogLevel(value: string | number, what = 'log level'): number {
  const text = String(value).trim().toLowerCase();
  if (/^[0-7]$/.test(text)) return Number(text);
  const i = LOG_LEVELS.indexOf(text === 'error' ? 'err' : text === 'warn' ? 'warning' : text);
  if (i === -1) {
    throw new UsageError(`${what} must be 0-7 or one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(String(value))}`);
  }
  return i;
}

/** Event names from one or more --events values: "CHANNEL_ANSWER CHANNEL_HANGUP", commas allowed. */
export function splitEventNames(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(/[\s,]+/)).filter((n) => n.length > 0);
}

/** `--filter "Header value"` or `--filter Header=value`. */
export function parseFilterArg(value: string): [string, string] {
  const text = value.trim();
  const m = /^([^\s=]+)(?:\s+|=)(.+)$/.exec(text);
  if (!m) throw new UsageError(`--filter must be "Header value", not ${JSON.stringify(value)}`);
  return [m[1]!, m[2]!.trim()];
}
