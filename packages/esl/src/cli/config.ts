import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDuration, parseLogLevel, parsePort, UsageError, type ConnectionFlags } from './args.js';

/** FreeSWITCH's own defaults (mod_event_socket code defaults and the vanilla event_socket.conf.xml). */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8021;
export const DEFAULT_PASSWORD = 'ClueCon';
/** fs_cli waits for the OS; a default keeps an unreachable host from hanging for minutes. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export const ENV = {
  host: 'FS_ESL_HOST',
  port: 'FS_ESL_PORT',
  password: 'FS_ESL_PASSWORD',
  user: 'FS_ESL_USER',
  timeout: 'FS_ESL_TIMEOUT',
  connectTimeout: 'FS_ESL_CONNECT_TIMEOUT',
  logLevel: 'FS_ESL_LOG_LEVEL',
  config: 'FS_ESL_CONFIG',
  history: 'FS_ESL_HISTORY',
} as const;

export type SettingSource = 'flag' | 'env' | 'config' | 'default';

export interface Settings {
  host: string;
  port: number;
  password: string;
  /** For `userauth user@domain:password`; undefined means plain `auth`. */
  user?: string;
  /** Reply timeout for api commands in ms; undefined = wait as long as the command runs. */
  timeout?: number;
  connectTimeout: number;
  retry: boolean;
  reconnect: boolean;
  /** Server log level to subscribe to (0–7); undefined = the mode's default. */
  logLevel?: number;
  quiet: boolean;
  /** undefined = decide from the terminal and NO_COLOR. */
  color?: boolean;
  /** Console history file, or undefined for no persisted history. */
  historyFile?: string;
  /** Where each connection setting came from (for --debug style diagnostics and tests). */
  sources: Record<'host' | 'port' | 'password' | 'user' | 'timeout' | 'connectTimeout', SettingSource>;
  /** The config file that was read, if any. */
  configPath?: string;
}

/** One layer of settings (a config file section or the environment), already validated. */
export type SettingsLayer = ConnectionFlags & { historyFile?: string };

export interface Environment {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  home: string;
  /** Reads a file as UTF-8; returns undefined if it does not exist. */
  readFile?: (path: string) => string | undefined;
}

function defaultReadFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

/** The config files looked for, in order, when neither --config nor FS_ESL_CONFIG names one. */
export function configCandidates(e: Environment): string[] {
  const xdg = e.env.XDG_CONFIG_HOME;
  const base = xdg && xdg.length > 0 ? xdg : join(e.home, '.config');
  return [join(e.cwd, '.fs-esl.json'), join(base, 'fs-esl', 'config.json')];
}

export interface LoadedConfig {
  path: string;
  layer: SettingsLayer;
  profiles: Map<string, SettingsLayer>;
}

/**
 * Finds and reads the config file: --config path, else $FS_ESL_CONFIG, else ./.fs-esl.json, else
 * ~/.config/fs-esl/config.json. A named file must exist; the default locations are optional.
 */
export function loadConfig(explicit: string | undefined, e: Environment): LoadedConfig | undefined {
  const read = e.readFile ?? defaultReadFile;
  const named = explicit ?? (e.env[ENV.config] || undefined);
  if (named !== undefined) {
    const path = resolve(e.cwd, named);
    const text = read(path);
    if (text === undefined) {
      throw new UsageError(`config file not found: ${path}${explicit === undefined ? ` (from ${ENV.config})` : ''}`);
    }
    return parseConfigText(path, text, e);
  }
  for (const path of configCandidates(e)) {
    const text = read(path);
    if (text !== undefined) return parseConfigText(path, text, e);
  }
  return undefined;
}

const CONFIG_KEYS = new Set([
  'host', 'port', 'password', 'user', 'timeout', 'connectTimeout', 'retry', 'reconnect', 'logLevel',
  'quiet', 'color', 'history',
]);

/** Parses a config file's JSON: top-level settings plus optional named `profiles`. */
export function parseConfigText(path: string, text: string, e: Pick<Environment, 'cwd' | 'home'>): LoadedConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(doc)) throw new UsageError(`config file ${path} must hold a JSON object`);
  const { profiles, ...top } = doc;
  const layer = configLayer(top, path, e);
  const named = new Map<string, SettingsLayer>();
  if (profiles !== undefined) {
    if (!isPlainObject(profiles)) throw new UsageError(`"profiles" in ${path} must be an object of named settings`);
    for (const [name, section] of Object.entries(profiles)) {
      if (!isPlainObject(section)) throw new UsageError(`profile "${name}" in ${path} must be an object`);
      named.set(name, configLayer(section, `${path} (profile "${name}")`, e));
    }
  }
  return { path, layer, profiles: named };
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function configLayer(obj: Record<string, unknown>, where: string, e: Pick<Environment, 'cwd' | 'home'>): SettingsLayer {
  const out: SettingsLayer = {};
  for (const [key, value] of Object.entries(obj)) {
    if (!CONFIG_KEYS.has(key)) {
      throw new UsageError(`unknown setting "${key}" in ${where} (known: ${[...CONFIG_KEYS].join(', ')}, profiles)`);
    }
    const what = `"${key}" in ${where}`;
    const str = (): string => {
      if (typeof value !== 'string' || value.length === 0) throw new UsageError(`${what} must be a non-empty string`);
      return value;
    };
    const bool = (): boolean => {
      if (typeof value !== 'boolean') throw new UsageError(`${what} must be true or false`);
      return value;
    };
    const numOrStr = (): string | number => {
      if (typeof value !== 'number' && typeof value !== 'string') throw new UsageError(`${what} must be a number`);
      return value;
    };
    switch (key) {
      case 'host': out.host = str(); break;
      case 'port': out.port = parsePort(what, numOrStr(), false); break;
      case 'password':
        if (typeof value !== 'string') throw new UsageError(`${what} must be a string`);
        out.password = value;
        break;
      case 'user': out.user = str(); break;
      case 'timeout': out.timeout = parseDuration(what, numOrStr()); break;
      case 'connectTimeout': out.connectTimeout = parseDuration(what, numOrStr()); break;
      case 'retry': out.retry = bool(); break;
      case 'reconnect': out.reconnect = bool(); break;
      case 'logLevel': out.logLevel = parseLogLevel(numOrStr(), what); break;
      case 'quiet': out.quiet = bool(); break;
      case 'color': out.color = bool(); break;
      case 'history':
        if (typeof value === 'boolean') out.history = value;
        else out.historyFile = expandHome(str(), e);
        break;
    }
  }
  return out;
}

function expandHome(path: string, e: Pick<Environment, 'cwd' | 'home'>): string {
  if (path === '~') return e.home;
  if (path.startsWith('~/')) return join(e.home, path.slice(2));
  return resolve(e.cwd, path);
}

/** The settings carried by FS_ESL_* environment variables (empty variables count as unset). */
export function envLayer(e: Environment): SettingsLayer {
  const get = (name: string): string | undefined => {
    const v = e.env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const out: SettingsLayer = {};
  const host = get(ENV.host);
  if (host !== undefined) out.host = host.trim();
  const port = get(ENV.port);
  if (port !== undefined) out.port = parsePort(ENV.port, port, false);
  // The password may legitimately be anything, so only "unset" is treated as absent.
  if (e.env[ENV.password] !== undefined) out.password = e.env[ENV.password];
  const user = get(ENV.user);
  if (user !== undefined) out.user = user.trim();
  const timeout = get(ENV.timeout);
  if (timeout !== undefined) out.timeout = parseDuration(ENV.timeout, timeout);
  const connectTimeout = get(ENV.connectTimeout);
  if (connectTimeout !== undefined) out.connectTimeout = parseDuration(ENV.connectTimeout, connectTimeout);
  const level = get(ENV.logLevel);
  if (level !== undefined) out.logLevel = parseLogLevel(level, ENV.logLevel);
  const history = get(ENV.history);
  if (history !== undefined) {
    if (/^(0|off|false|no)$/i.test(history)) out.history = false;
    else out.historyFile = expandHome(history, e);
  }
  return out;
}

/**
 * Merges the layers, highest precedence first: command-line flags, then environment variables,
 * then the config file (a named profile over its top level), then built-in defaults.
 */
export function resolveSettings(
  flags: ConnectionFlags & { config?: string; profile?: string },
  e: Environment,
): Settings {
  const config = loadConfig(flags.config, e);
  let configLayer: SettingsLayer = {};
  if (config !== undefined) {
    configLayer = { ...config.layer };
    if (flags.profile !== undefined) {
      const profile = config.profiles.get(flags.profile);
      if (profile === undefined) {
        const known = [...config.profiles.keys()];
        throw new UsageError(
          `no profile "${flags.profile}" in ${config.path}${known.length > 0 ? ` (profiles: ${known.join(', ')})` : ''}`,
        );
      }
      Object.assign(configLayer, definedOnly(profile));
    }
  } else if (flags.profile !== undefined) {
    throw new UsageError(`profile "${flags.profile}" given but no config file was found (looked in ${configCandidates(e).join(', ')})`);
  }
  const layers: Array<[SettingSource, SettingsLayer]> = [
    ['flag', flags],
    ['env', envLayer(e)],
    ['config', configLayer],
  ];
  const pick = <K extends keyof SettingsLayer>(key: K): [SettingsLayer[K], SettingSource] => {
    for (const [source, layer] of layers) {
      if (layer[key] !== undefined) return [layer[key], source];
    }
    return [undefined, 'default'];
  };
  const [host, hostSource] = pick('host');
  const [port, portSource] = pick('port');
  const [password, passwordSource] = pick('password');
  const [user, userSource] = pick('user');
  const [timeout, timeoutSource] = pick('timeout');
  const [connectTimeout, connectTimeoutSource] = pick('connectTimeout');
  const settings: Settings = {
    host: host ?? DEFAULT_HOST,
    port: port ?? DEFAULT_PORT,
    password: password ?? DEFAULT_PASSWORD,
    connectTimeout: connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
    retry: pick('retry')[0] ?? false,
    reconnect: pick('reconnect')[0] ?? false,
    quiet: pick('quiet')[0] ?? false,
    sources: {
      host: hostSource,
      port: portSource,
      password: passwordSource,
      user: userSource,
      timeout: timeoutSource,
      connectTimeout: connectTimeoutSource,
    },
  };
  if (user !== undefined) settings.user = user;
  if (timeout !== undefined && timeout > 0) settings.timeout = timeout;
  const [logLevel] = pick('logLevel');
  if (logLevel !== undefined) settings.logLevel = logLevel;
  const [color] = pick('color');
  if (color !== undefined) settings.color = color;
  // history: false anywhere above a file setting wins; otherwise the first file named, else the default.
  let historyFile: string | undefined = join(e.home, '.fs_esl_history');
  for (const [, layer] of layers) {
    if (layer.history === false) {
      historyFile = undefined;
      break;
    }
    if (layer.historyFile !== undefined) {
      historyFile = layer.historyFile;
      break;
    }
  }
  if (historyFile !== undefined) settings.historyFile = historyFile;
  if (config !== undefined) settings.configPath = config.path;
  return settings;
}

function definedOnly(layer: SettingsLayer): SettingsLayer {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(layer)) if (v !== undefined) out[k] = v;
  return out as SettingsLayer;
}
