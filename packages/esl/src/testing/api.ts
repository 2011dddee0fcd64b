/** The api commands the simulator answers (mod_commands and friends), and what they need from the switch. */
import { LOG_LEVEL_NAMES, logLevelFromText } from '../protocol/log-levels.js';
import { serializeEventJson, serializeEventPlain, serializeEventXml } from '../protocol/event-serializer.js';
import { atol, scheduleHangup, schedTime, str2cause } from './apps.js';
import { parseCause } from './causes.js';
import type { Channel } from './channel.js';
import type { CoreDb } from './core-db.js';
import { type Engine, isTrue } from './engine.js';
import { type EventFactory, SITES, type SimEvent, newUuid } from './events.js';
import { expandVariables } from './expand.js';
import type { LogMeta } from './log.js';
import type { ResolvedOptions } from './options.js';
import { type InterfaceRow, show } from './show.js';
import { separateString } from './strings.js';
import type { TimerSet } from './timers.js';

/** What the api commands need from the switch (implemented by Simulator). */
export interface ApiHost {
  readonly options: ResolvedOptions;
  readonly factory: EventFactory;
  readonly timers: TimerSet;
  readonly engine: Engine;
  /** The core's global variables (global_getvar / global_setvar, `$${var}`). */
  readonly globalVars: Map<string, string>;
  readonly db: CoreDb;
  readonly channelCount: number;
  readonly uptimeMs: number;
  readonly sessionsSinceStartup: number;
  readonly peakSessions: number;
  /** The names of the api commands that answer now (built in and registered). */
  apiNames(): string[];
  /** The channel with this uuid, if any (even one being destroyed). */
  channel(uuid: string): Channel | undefined;
  liveChannels(): Channel[];
  fireEvent(name: string, headers: Record<string, string>, body?: string, subclass?: string): SimEvent;
  log(level: number | string, text: string, meta?: LogMeta): void;
  sendDtmf(uuid: string, digits: string): boolean;
  uuidBridge(a: Channel, b: Channel): Channel | undefined;
  runBackgroundJob(jobUuid: string, cmd: string, arg: string | undefined, ownerUuid: string | undefined): void;
}

/**
 * An api command: gets the argument text (undefined when none was given) and returns its output.
 * Return `undefined` to answer like an unknown command (`-ERR <cmd> Command not found!`).
 * `session` is the channel of the outbound socket that sent the command, if any.
 */
export type ApiHandler = (
  arg: string | undefined,
  context: { sim: ApiHost; session: Channel | undefined },
) => string | undefined | Promise<string | undefined>;

/**
 * The interfaces table rows of the api commands the simulator has (SWITCH_ADD_API in
 * mod_commands.c v1.10.12, `console` in mod_console.c): description, syntax, module. `show api`
 * and `help` list the registered commands found here; like FreeSWITCH's `description != ''`,
 * a command registered with registerApi and absent here is not listed.
 */
const API_INTERFACES: Record<string, Omit<InterfaceRow, 'name'>> = {
  bgapi: { description: 'Execute an api command in a thread', syntax: '<command>[ <arg>]', module: 'mod_commands' },
  console: {
    description: 'Console', module: 'mod_console',
    syntax: 'loglevel [level]|colorize [on|toggle|off]|uuid [on|toggle|off]|json [on|toggle|off]',
  },
  echo: { description: 'Echo', syntax: '<data>', module: 'mod_commands' },
  eval: { description: 'eval (noop)', syntax: '[uuid:<uuid> ]<expression>', module: 'mod_commands' },
  global_getvar: { description: 'Get global var', syntax: '<var>', module: 'mod_commands' },
  global_setvar: { description: 'Set global var', syntax: '<var>=<value> [=<value2>]', module: 'mod_commands' },
  help: { description: 'Show help for all the api commands', syntax: '', module: 'mod_commands' },
  hostname: { description: 'Return the system hostname', syntax: '', module: 'mod_commands' },
  hupall: { description: 'hupall', syntax: '<cause> [<var> <value>] [<var2> <value2>]', module: 'mod_commands' },
  msleep: { description: 'Sleep N milliseconds', syntax: '<milliseconds>', module: 'mod_commands' },
  originate: {
    description: 'Originate a call', module: 'mod_commands',
    syntax: '<call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]',
  },
  reloadxml: { description: 'Reload XML', syntax: '', module: 'mod_commands' },
  sched_del: { description: 'Delete a scheduled task', syntax: '<task_id>|<group_id>', module: 'mod_commands' },
  sched_hangup: { description: 'Schedule a running call to hangup', syntax: '[+]<time> <uuid> [<cause>]', module: 'mod_commands' },
  show: {
    description: 'Show various reports', module: 'mod_commands',
    syntax: 'codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status',
  },
  status: { description: 'Show current status', syntax: '', module: 'mod_commands' },
  switchname: { description: 'Return the switch name', syntax: '', module: 'mod_commands' },
  uptime: { description: 'Show uptime', syntax: '[us|ms|s|m|h|d|microseconds|milliseconds|seconds|minutes|hours|days]', module: 'mod_commands' },
  uuid_answer: { description: 'answer', syntax: '<uuid>', module: 'mod_commands' },
  uuid_break: { description: 'Break out of media sent to channel', syntax: '<uuid> [all]', module: 'mod_commands' },
  uuid_bridge: { description: 'Bridge call legs', syntax: '', module: 'mod_commands' },
  uuid_dump: { description: 'Dump session vars', syntax: '<uuid> [format]', module: 'mod_commands' },
  uuid_exists: { description: 'Check if a uuid exists', syntax: '<uuid>', module: 'mod_commands' },
  uuid_getvar: { description: 'Get a variable from a channel', syntax: '<uuid> <var>', module: 'mod_commands' },
  uuid_kill: { description: 'Kill channel', syntax: '<uuid> [cause]', module: 'mod_commands' },
  uuid_pre_answer: { description: 'pre_answer', syntax: '<uuid>', module: 'mod_commands' },
  uuid_send_dtmf: { description: 'Send dtmf digits', syntax: '<uuid> <dtmf_data>', module: 'mod_commands' },
  uuid_setvar: { description: 'Set a variable', syntax: '<uuid> <var> [value]', module: 'mod_commands' },
  uuid_transfer: { description: 'Transfer a session', syntax: '<uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]', module: 'mod_commands' },
  version: { description: 'Version', syntax: '[short]', module: 'mod_commands' },
};

/** The interfaces rows of the commands that answer now, by name (SQLite's `order by name`). */
function apiInterfaces(sim: ApiHost): InterfaceRow[] {
  return sim
    .apiNames()
    .filter((name) => API_INTERFACES[name] !== undefined)
    .sort()
    .map((name) => ({ name, ...API_INTERFACES[name]! }));
}

/**
 * The CHANNEL_DATA event uuid_dump and eval build: switch_event_create gives it the standard
 * headers (and takes an Event-Sequence number), switch_channel_event_set_data the channel's data.
 * It is never fired.
 */
function channelDataEvent(sim: ApiHost, ch: Channel | undefined, site: { file: string; func: string; line: number }): SimEvent {
  const ev = sim.factory.create('CHANNEL_DATA', site);
  if (ch) {
    ch.addBasicData(ev);
    ch.addExtendedData(ev);
  }
  return ev;
}

function formatDuration(ms: number): string {
  let us = Math.floor(ms * 1000);
  const mms = us % 1000;
  us = Math.floor(us / 1000);
  const msec = us % 1000;
  let s = Math.floor(us / 1000);
  const yr = Math.floor(s / (365 * 86400));
  s -= yr * 365 * 86400;
  const day = Math.floor(s / 86400);
  s -= day * 86400;
  const hr = Math.floor(s / 3600);
  s -= hr * 3600;
  const min = Math.floor(s / 60);
  const sec = s - min * 60;
  const pl = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `UP ${pl(yr, 'year')}, ${pl(day, 'day')}, ${pl(hr, 'hour')}, ${pl(min, 'minute')}, ${pl(sec, 'second')}, ${pl(msec, 'millisecond')}, ${pl(mms, 'microsecond')}`;
}

/** The api commands the simulator answers, with mod_commands' output texts. */
export function defaultApis(): Map<string, ApiHandler> {
  const apis = new Map<string, ApiHandler>();

  apis.set('status', (_arg, { sim }) => {
    const n = sim.channelCount;
    const sps = sim.options.sessionsPerSecond;
    return (
      `${formatDuration(sim.uptimeMs)}\n` +
      `FreeSWITCH (Version ${sim.options.version}  64bit) is ready\n` +
      `${sim.sessionsSinceStartup} session(s) since startup\n` +
      `${n} session(s) - peak ${sim.peakSessions}, last 5min ${sim.peakSessions} \n` +
      `0 session(s) per Sec out of max ${sps}, peak ${Math.min(sim.peakSessions, sps)}, last 5min ${Math.min(sim.peakSessions, sps)} \n` +
      `1000 session(s) max\nmin idle cpu 0.00/100.00\nCurrent Stack Size/Max 240K/8192K\n`
    );
  });
  apis.set('version', (arg, { sim }) => {
    // version_function: "<major>.<minor>.<micro>" when the first word contains "short"; a release's
    // micro version is "12-release", so the short form keeps the suffix.
    if (arg && /short/i.test(separateString(arg, 2)[0] ?? '')) return `${sim.options.version}\n`;
    return `FreeSWITCH Version ${sim.options.version}~64bit ( 64bit)\n`;
  });
  // hostname_api_function / switchname_api_function: no newline.
  apis.set('hostname', (_arg, { sim }) => sim.options.hostname);
  apis.set('switchname', (_arg, { sim }) => sim.options.switchname);
  apis.set('msleep', async (arg, { sim }) => {
    // msleep_function: atol of the argument, then switch_yield in the thread that ran the api (an
    // `api` blocks its connection meanwhile); wall-clock time, not scaled by timeScale.
    const ms = arg === undefined ? 0 : Number.parseInt(arg.trim(), 10) || 0;
    if (ms > 0) await sim.timers.sleep(ms);
    return '+OK';
  });
  apis.set('help', (_arg, { sim }) => {
    // help_function runs `show help`, whose command word is "help" whatever follows: every command
    // is listed, "name,syntax,description,module" without a title or a total (mod_commands.c show_function).
    const rows = apiInterfaces(sim);
    if (rows.length === 0) return '\nValid Commands:\n\n-ERR No such command\n';
    return `\nValid Commands:\n\n${rows.map((r) => `${r.name},${r.syntax},${r.description},${r.module}\n`).join('')}`;
  });
  apis.set('console', consoleApi());
  apis.set('uuid_dump', (arg, { sim }) => {
    const argv = arg ? separateString(arg, 2) : [];
    if (!argv[0]) return '-USAGE: <uuid> [format]\n';
    const ch = sim.channel(argv[0]);
    if (!ch || ch.destroyed) return '-ERR No such channel!\n';
    const ev = channelDataEvent(sim, ch, SITES.uuidDump);
    return serializeEvent(dumpFormat(argv[1]), ev.headers, ev.body, argv[1]?.toLowerCase() === 'plain');
  });
  apis.set('uptime', (arg, { sim }) => {
    const scales: Record<string, number> = { us: 1, microseconds: 1, ms: 1e3, milliseconds: 1e3, s: 1e6, seconds: 1e6, m: 6e7, minutes: 6e7, h: 3.6e9, hours: 3.6e9, d: 8.64e10, days: 8.64e10 };
    const scale = arg === undefined || arg === '' ? 1e6 : scales[arg.toLowerCase()];
    if (scale === undefined) return '-USAGE: [us|ms|s|m|h|d|microseconds|milliseconds|seconds|minutes|hours|days]\n';
    return `${Math.floor((sim.uptimeMs * 1000) / scale)}\n`;
  });
  apis.set('reloadxml', (_arg, { sim }) => {
    sim.fireEvent('RELOADXML', {});
    // The line real FreeSWITCH logs during reloadxml (misc capture).
    sim.log(6, 'Timezone reloaded 597 definitions\n', { file: 'switch_time.c', func: 'switch_load_timezones', line: 1436 });
    return '+OK [Success]\n';
  });
  apis.set('echo', (arg) => arg ?? '');
  apis.set('eval', (arg, { sim }) => {
    // eval_function: `uuid:<uuid> <text>` expands against that channel's CHANNEL_DATA event, plain
    // text against a bare one (its standard headers); the api's own session is not used. `${name}`
    // is an event header (Caller-Caller-ID-Number, variable_foo), else a global; `$${name}` a global.
    let input = arg ?? '';
    let ch: Channel | undefined;
    if (input.slice(0, 5).toLowerCase() === 'uuid:') {
      const sp = input.indexOf(' ', 5);
      if (sp === -1) return '';
      ch = sim.channel(input.slice(5, sp));
      input = input.slice(sp + 1);
    }
    if (input === '') return '';
    const ev = channelDataEvent(sim, ch, SITES.eval);
    return expandVariables(input, { local: (n) => ev.get(n), global: (n) => sim.globalVars.get(n) });
  });
  apis.set('global_getvar', (arg, { sim }) => {
    // switch_core_dump_variables: every global, "name=value\n", in the order they were (last) set.
    if (!arg) return [...sim.globalVars].map(([k, v]) => `${k}=${v}\n`).join('');
    return sim.globalVars.get(arg) ?? '';
  });
  apis.set('global_setvar', (arg, { sim }) => {
    const parts = (arg ?? '').split('=');
    if (!parts[0]) return '-USAGE: <var>=<value>\n';
    const value = parts[1];
    // switch_core_set_variable deletes the old header and adds the new one at the end.
    sim.globalVars.delete(parts[0]);
    if (value) sim.globalVars.set(parts[0], value);
    return '+OK';
  });
  apis.set('show', (arg, { sim }) => show(sim.db, arg, apiInterfaces(sim)));
  apis.set('originate', async (arg, { sim }) => {
    const usage = '-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n';
    // originate_function splits with switch_separate_string, whose cleanup_separated_string drops the
    // quotes and resolves the backslash escapes of every part: `'&socket(… async full)'` and
    // `&socket(…\\sasync\\sfull)` both name the application `socket` with the argument `… async full`.
    const argv = (arg ? separateString(arg, 10) : []).map((a) => (a.toLowerCase() === 'undef' ? undefined : a));
    if (argv.length < 2 || argv.length > 7) return usage;
    const [dial, exten, , context, cidName, cidNum, timeout] = argv;
    if (!dial || !exten) return usage;
    const result = await sim.engine.dial(dial, {
      callerIdName: cidName,
      callerIdNumber: cidNum,
      timeoutSec: timeout ? Number.parseInt(timeout, 10) || 60 : 60,
    });
    if (!result.channel) return `-ERR ${result.cause ?? 'NORMAL_TEMPORARY_FAILURE'}\n`;
    const ch = result.channel;
    if (exten.startsWith('&') && exten.length > 1) {
      let app = exten.slice(1);
      let appArg = '';
      const close = app.indexOf(')');
      if (close !== -1) app = app.slice(0, close);
      const open = app.indexOf('(');
      if (open !== -1) {
        appArg = app.slice(open + 1);
        app = app.slice(0, open);
      }
      void sim.engine.runOriginated(ch, { app, arg: appArg });
    } else {
      void sim.engine.runOriginated(ch, { extension: exten, context: context ?? 'default' });
    }
    return `+OK ${ch.uuid}\n`;
  });
  apis.set('uuid_kill', (arg, { sim }) => {
    if (!arg) return '-USAGE: <uuid> [cause]\n';
    const [uuid = '', cause] = arg.split(' ');
    const ch = sim.channel(uuid);
    if (!ch || !ch.ready) return '-ERR No such channel!\n';
    ch.hangup(parseCause(cause) ?? 'NORMAL_CLEARING');
    return '+OK\n';
  });
  apis.set('sched_hangup', (arg, { sim }) => {
    // mod_commands.c sched_hangup_function: [+]<time> <uuid> [<cause>], cause ALLOTTED_TIMEOUT by default.
    const argv = arg ? separateString(arg, 4) : [];
    if (!argv[0]) return '-USAGE: [+]<time> <uuid> [<cause>]\n';
    const { when, sec } = schedTime(argv[0]);
    const cause = argv[2] === undefined ? 'ALLOTTED_TIMEOUT' : str2cause(argv[2]);
    const ch = argv[1] === undefined ? undefined : sim.channel(argv[1]);
    if (!ch || !ch.ready) return '-ERR No such channel!\n';
    if (sec === 0) ch.hangup(cause);
    else scheduleHangup(sim.engine.core, when, ch.uuid, cause, false);
    return '+OK\n';
  });
  apis.set('sched_del', (arg, { sim }) => {
    // mod_commands.c sched_del_function: a digit string is a task id, anything else a task group
    // (sched_hangup's group is the channel uuid).
    if (arg === undefined) return '-ERR Invalid syntax\n';
    let deleted = 0;
    if (/^\d+$/.test(arg)) {
      const id = atol(arg);
      if (id > 0) deleted = sim.engine.core.scheduler.deleteId(id);
    } else deleted = sim.engine.core.scheduler.deleteGroup(arg);
    return `+OK Deleted: ${deleted}\n`;
  });
  apis.set('uuid_answer', (arg, { sim }) => {
    const ch = arg ? sim.channel(arg.trim()) : undefined;
    if (!ch || !ch.answer()) return '-ERROR\n';
    return '+OK\n';
  });
  apis.set('uuid_pre_answer', (arg, { sim }) => {
    const ch = arg ? sim.channel(arg.trim()) : undefined;
    if (!ch || !ch.preAnswer()) return '-ERROR\n';
    return '+OK\n';
  });
  apis.set('uuid_exists', (arg, { sim }) => (arg && sim.channel(arg.trim())?.destroyed === false ? 'true' : 'false'));
  apis.set('uuid_getvar', (arg, { sim }) => {
    const argv = (arg ?? '').split(' ').filter(Boolean);
    if (argv.length < 2) return '-USAGE: <uuid> <var>\n';
    const ch = sim.channel(argv[0]!);
    if (!ch || ch.destroyed) return '-ERR No such channel!\n';
    return ch.getVar(argv[1]!) ?? '_undef_';
  });
  apis.set('uuid_setvar', (arg, { sim }) => {
    const argv = (arg ?? '').split(' ');
    if (argv.length < 2 || !argv[0]) return '-USAGE: <uuid> <var> [value]\n';
    const ch = sim.channel(argv[0]);
    if (!ch || ch.destroyed) return '-ERR No such channel!\n';
    if (!argv[1]) return '-ERR No variable specified\n';
    ch.setVar(argv[1], argv.slice(2).join(' ') || undefined);
    return '+OK\n';
  });
  apis.set('uuid_break', (arg, { sim }) => {
    const ch = arg ? sim.channel(arg.split(' ')[0]!) : undefined;
    if (!ch || ch.destroyed) return '-ERR No such channel!\n';
    ch.requestBreak();
    return '+OK\n';
  });
  apis.set('uuid_send_dtmf', (arg, { sim }) => {
    const [uuid = '', digits = ''] = (arg ?? '').split(' ');
    const ch = sim.channel(uuid);
    if (!ch || ch.destroyed) return '-ERR No such channel!\n';
    sim.sendDtmf(uuid, digits);
    return '+OK Success\n';
  });
  apis.set('uuid_bridge', (arg, { sim }) => {
    const argv = (arg ?? '').split(' ').filter(Boolean);
    if (argv.length < 2) return '-USAGE: <uuid> <other_uuid>\n';
    const a = sim.channel(argv[0]!);
    const b = sim.channel(argv[1]!);
    if (!a || !b || !b.ready || !sim.uuidBridge(a, b)) return '-ERR Invalid uuid\n';
    return `+OK ${b.uuid}\n`;
  });
  apis.set('uuid_transfer', (arg, { sim }) => {
    const argv = (arg ?? '').split(' ').filter(Boolean);
    const ch = argv[0] ? sim.channel(argv[0]) : undefined;
    if (!ch || !ch.ready) return '-ERR No such channel!\n';
    const dest = argv[1] === '-bleg' || argv[1] === '-both' ? argv[2] : argv[1];
    if (!dest) return '-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n';
    const steps = sim.engine.lookup(dest);
    ch.profile.destinationNumber = dest;
    if (!steps) ch.hangup('NO_ROUTE_DESTINATION');
    else {
      ch.extension = steps;
      ch.requestBreak();
    }
    return '+OK\n';
  });
  apis.set('hupall', (arg, { sim }) => {
    const argv = (arg ?? '').split(' ').filter(Boolean);
    const cause = parseCause(argv[0]) ?? 'MANAGER_REQUEST';
    const pairs: Array<[string, string]> = [];
    for (let i = 1; i < argv.length - 1; i += 2) pairs.push([argv[i]!, argv[i + 1]!]);
    for (const ch of sim.liveChannels()) {
      if (pairs.every(([k, v]) => ch.getVar(k) === v)) ch.hangup(cause);
    }
    if (pairs.length === 0) return `+OK hangup all channels with cause ${cause}\n`;
    const [k, v] = pairs[0]!;
    return pairs.length === 1
      ? `+OK hangup all channels matching [${k}]=[${v}] with cause: ${cause}\n`
      : `+OK hangup all channels matching [${k}]=[${v}]... with cause: ${cause}\n`;
  });
  apis.set('bgapi', (arg, { sim, session }) => {
    if (!arg) return '-ERR Invalid syntax\n';
    const sp = arg.indexOf(' ');
    const job = newUuid();
    sim.runBackgroundJob(job, sp === -1 ? arg : arg.slice(0, sp), sp === -1 ? undefined : arg.slice(sp + 1), session?.uuid);
    return `+OK Job-UUID: ${job}\n`;
  });
  return apis;
}

/** uuid_dump's formats: xml, json, or the plain serialization (txt by default). */
function dumpFormat(format: string | undefined): 'xml' | 'json' | 'plain' {
  const f = format?.toLowerCase();
  return f === 'xml' || f === 'json' ? f : 'plain';
}

/**
 * uuid_dump_function's output: switch_event_xmlize + switch_xml_toxml, switch_event_serialize_json,
 * or switch_event_serialize with url-encoding, except for the format `plain`, which writes every
 * value in brackets unencoded (switch_event.c switch_event_serialize, encode false).
 */
function serializeEvent(format: 'xml' | 'json' | 'plain', headers: SimEvent['headers'], body: string | undefined, bracketed: boolean): string {
  if (format === 'xml') return serializeEventXml(headers, body);
  if (format === 'json') return serializeEventJson(headers, body);
  if (!bracketed) return serializeEventPlain(headers, body);
  let out = '';
  for (const [name, value] of headers) out += `${name}: [${typeof value === 'string' ? value : `ARRAY::${value.join('|:')}`}]\n`;
  return body ? `${out}Content-Length: ${Buffer.byteLength(body)}\n\n${body}` : `${out}\n`;
}

/**
 * mod_console's `console` api (console_api_function, mod_console.c v1.10.12) with the vanilla
 * console.conf.xml settings: log level INFO, colours on, uuid and json off. Each simulator has
 * its own settings; they change nothing else here (there is no console).
 */
function consoleApi(): ApiHandler {
  let level = 6;
  const flags = { colorize: true, uuid: false, json: false };
  const usage =
    'USAGE:\n' + '-'.repeat(80) + '\nconsole help\nconsole loglevel [[0-7] | <loglevel_string>]\nconsole uuid [on|off|toggle]\n' +
    'console json [on|off|toggle]\nconsole colorize [on|off|toggle]\n' + '-'.repeat(80) + '\n';
  const levelUsage =
    'USAGE:\n' + '-'.repeat(80) + '\nconsole loglevel [[0-7] | <loglevel_string>]\n\n' +
    'Set the logging verbosity of the console from 0 (least verbose) to\n7 (debugging), or specify the loglevel as a string:\n\n' +
    '  0 console\n  1 alert\n  2 crit\n  3 err\n  4 warning\n  5 notice\n  6 info\n  7 debug\n' + '-'.repeat(80) + '\n';
  const colorizeUsage =
    'USAGE:\n' + '-'.repeat(80) + '\nconsole colorize [on|off|toggle]\n\nEnable, disable, or toggle console coloring.\n' + '-'.repeat(80) + '\n';
  return (arg) => {
    const argv = arg ? separateString(arg, 3) : [];
    const what = argv[0]?.toLowerCase();
    const value = argv[1];
    if (what === 'loglevel') {
      if (value?.toLowerCase() === 'help') return levelUsage;
      let next: number | undefined = level;
      // A leading digit is read with atoi, anything else by name (switch_log_str2level).
      if (value !== undefined) next = /^\d/.test(value) ? Number.parseInt(value, 10) : logLevelFromText(value);
      if (next === undefined) return `-ERR Invalid console loglevel (${value ?? ''})!\n\n`;
      level = next;
      // switch_log_level2str: DEBUG for anything above it, DISABLE for -1.
      return `+OK console log level set to ${level < 0 ? 'DISABLE' : LOG_LEVEL_NAMES[Math.min(level, 7)]}\n`;
    }
    if (what === 'colorize' || what === 'uuid' || what === 'json') {
      if (what === 'colorize' && value?.toLowerCase() === 'help') return colorizeUsage;
      if (value !== undefined) flags[what] = value.toLowerCase() === 'toggle' ? !flags[what] : isTrue(value);
      return `+OK console ${what === 'colorize' ? 'color' : what} ${flags[what] ? 'enabled' : 'disabled'}\n`;
    }
    return usage;
  };
}
