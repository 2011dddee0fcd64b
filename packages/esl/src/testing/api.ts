import { CHANNEL_COLUMNS, type Channel, type ChannelColumn, type CoreDb, coreDb } from './channel.js';
import { atol, scheduleHangup, schedTime, str2cause } from './apps.js';
import { parseCause } from './causes.js';
import { newUuid } from './events.js';
import type { Simulator } from './simulator.js';

/**
 * An api command: gets the argument text (undefined when none was given) and returns its output.
 * Return `undefined` to answer like an unknown command (`-ERR <cmd> Command not found!`).
 */
export type ApiHandler = (
  arg: string | undefined,
  context: { sim: Simulator; session: Channel | undefined },
) => string | undefined | Promise<string | undefined>;

/** Splits on spaces, keeping single-quoted parts (and `{…}` blocks) together. */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = false;
  let depth = 0;
  for (const ch of text) {
    if (ch === "'") quote = !quote;
    else if (ch === '{' && !quote) depth++;
    else if (ch === '}' && !quote && depth > 0) depth--;
    if (ch === ' ' && !quote && depth === 0) {
      if (cur !== '') out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

/** unescape_char (switch_utils.c:2617): the letters a backslash turns into a control character or space. */
const UNESCAPED: Record<string, string> = { n: '\n', r: '\r', t: '\t', s: ' ' };

/** cleanup_separated_string (switch_utils.c:2687): drops leading spaces, quotes and trailing spaces; resolves backslash escapes. */
function cleanupPart(part: string, delim: string | undefined): string {
  let i = 0;
  while (part[i] === ' ') i++;
  let out = '';
  let keep = -1;
  let quoted = false;
  for (; i < part.length; i++) {
    const c = part[i]!;
    if (c === '\\' && i + 1 < part.length) {
      const e = part[i + 1]!;
      const plain = e === "'" || e === '"' || e === delim || e === '\\';
      if (plain || UNESCAPED[e] !== undefined) {
        i++;
        out += plain ? e : UNESCAPED[e];
        keep = out.length;
        continue;
      }
    }
    if (c === "'" && (quoted || part.includes("'", i + 1))) {
      quoted = !quoted;
      if (quoted) keep = out.length;
    } else {
      out += c;
      if (c !== ' ' || quoted) keep = out.length;
    }
  }
  return keep === -1 ? out : out.slice(0, keep);
}

/**
 * switch_separate_string (switch_utils.c:2855) into at most `max` parts, the last one taking the
 * rest: runs of spaces split, single quotes group, a backslash escapes; a leading `^^<c>` makes <c>
 * the separator instead of the space. show_function splits its argument this way, so
 * `as delim \t` and `^^:channels:as:json` work as on FreeSWITCH.
 */
function separateString(text: string, max: number): string[] {
  let delim = ' ';
  let buf = text;
  if (buf.startsWith('^^') && buf.length >= 4) {
    delim = buf[2]!;
    buf = buf.slice(3);
  }
  const starts: number[] = [];
  const ends: number[] = [];
  let i = 0;
  let quoted = false;
  let state: 'start' | 'skip' | 'find' | 'trail' = 'start';
  while (i < buf.length && starts.length < max) {
    const c = buf[i]!;
    if (state === 'start') {
      starts.push(i);
      ends.push(buf.length);
      state = delim === ' ' ? 'skip' : 'find';
    } else if (state === 'skip') {
      if (c === ' ') i++;
      else state = 'find';
    } else if (state === 'find') {
      if (c === '\\') i++;
      else if (c === "'" && (delim === ' ' || quoted || buf.includes("'", i + 1))) quoted = !quoted;
      else if (c === delim && !quoted) {
        ends[ends.length - 1] = i;
        state = delim === ' ' ? 'trail' : 'start';
      }
      i++;
    } else if (c === ' ') i++;
    else state = 'start';
  }
  return starts.map((s, k) => cleanupPart(buf.slice(s, ends[k]), delim === ' ' ? undefined : delim));
}

/** A result set as the core db returns it: NULL is undefined. */
interface Table {
  columns: readonly string[];
  rows: Array<Array<string | undefined>>;
}

/** The columns of the basic_calls view's a.* and b.* parts (switch_core_sqldb.c:3078 basic_calls_sql). */
const BASIC_A: readonly ChannelColumn[] = [
  'uuid', 'direction', 'created', 'created_epoch', 'name', 'state', 'cid_name', 'cid_num', 'ip_addr', 'dest', 'presence_id',
  'presence_data', 'accountcode', 'callstate', 'callee_name', 'callee_num', 'callee_direction', 'call_uuid', 'hostname',
  'sent_callee_name', 'sent_callee_num',
];
const BASIC_B = BASIC_A.filter((c) => c !== 'call_uuid' && c !== 'hostname');
/** detailed_calls_sql (switch_core_sqldb.c:2995): every column up to sent_callee_num, for both legs. */
const DETAILED = CHANNEL_COLUMNS.slice(0, CHANNEL_COLUMNS.indexOf('sent_callee_num') + 1);

/**
 * The basic_calls / detailed_calls views: each channel left-joined with the calls row it is the
 * caller of and that call's callee; a channel that is some call's callee has no row of its own.
 * `show calls` orders by call_created_epoch, so unbridged channels (NULL) come first.
 */
function callsView(db: CoreDb, a: readonly ChannelColumn[], b: readonly ChannelColumn[], orderBy: 'call_created_epoch' | 'created_epoch'): Table {
  const callees = new Set(db.calls.map((c) => c.calleeUuid));
  const joined: Array<{ row: Array<string | undefined>; key: number }> = [];
  for (const ch of db.channels) {
    const mine = db.calls.filter((c) => c.callerUuid === ch.uuid);
    if (mine.length === 0 && callees.has(ch.uuid ?? '')) continue;
    for (const call of mine.length ? mine : [undefined]) {
      const peer = call ? db.channel(call.calleeUuid) : undefined;
      const row = [...a.map((c) => ch[c]), ...b.map((c) => peer?.[c]), call?.createdEpoch];
      const key = orderBy === 'created_epoch' ? ch.created_epoch : call?.createdEpoch;
      // SQLite sorts NULL first; equal keys keep the scan (rowid) order.
      joined.push({ row, key: key === undefined ? -Infinity : Number(key) });
    }
  }
  joined.sort((x, y) => x.key - y.key);
  return { columns: [...a, ...b.map((c) => `b_${c}`), 'call_created_epoch'], rows: joined.map((j) => j.row) };
}

/** SQLite LIKE: % and _ wildcards, case-insensitive for ASCII letters only. */
function sqlLike(pattern: string): (value: string | undefined) => boolean {
  const lowerAscii = (t: string): string => t.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const body = [...lowerAscii(pattern)]
    .map((c) => (c === '%' ? '[^]*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${body}$`, 'su');
  return (value) => value !== undefined && re.test(lowerAscii(value));
}

/** `show channels like <match>`: the match against uuid, name, cid_name, cid_num, presence_data and accountcode. */
function channelsLike(db: CoreDb, match: string): Table {
  // ' and ; become spaces; without a % the match may be anywhere (mod_commands.c:5835).
  const cleaned = match.replace(/[';]/g, ' ');
  const like = sqlLike(cleaned.includes('%') ? cleaned : `%${cleaned}%`);
  const rows = [...db.channels].filter((r) =>
    (['uuid', 'name', 'cid_name', 'cid_num', 'presence_data', 'accountcode'] as const).some((c) => like(r[c])),
  );
  return { columns: CHANNEL_COLUMNS, rows: rows.map((r) => CHANNEL_COLUMNS.map((c) => r[c])) };
}

/**
 * switch_xml_ampencode (switch_xml.c:2517) for element text, with the utf-8 encoding that
 * switch_xml_toxml turns on: & < > and CR are escaped, " \n \t are not, every non-ASCII character
 * becomes &#xHEX;, and from `<!` on the text is copied as is.
 */
function xmlText(text: string): string {
  let out = '';
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '&') out += '&amp;';
    else if (c === '<') {
      if (chars[i + 1] === '!') return out + chars.slice(i).join('');
      out += '&lt;';
    } else if (c === '>') out += '&gt;';
    else if (c === '\r') out += '&#xD;';
    else {
      const cp = c.codePointAt(0)!;
      // A lone surrogate would reach FreeSWITCH as the UTF-8 of U+FFFD.
      out += cp < 0x80 ? c : `&#x${(cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp).toString(16).toUpperCase()};`;
    }
  }
  return out;
}

/**
 * The output of show_function (mod_commands.c:5690, v1.10.12) for one result set. `count` is a
 * `select count(*)` (only the number is printed); `delim` is the separator of delim/csv.
 */
function renderShow(as: string, delim: string, table: Table | { count: number }): string {
  const format = as.toLowerCase();
  if (format === 'delim' || format === 'csv') {
    // show_callback (mod_commands.c:5573): the header, the rows, then "\n<N> total.\n".
    if ('count' in table) return `\n${table.count} total.\n`;
    let out = '';
    if (table.rows.length > 0) {
      out += `${table.columns.join(delim)}\n`;
      for (const row of table.rows) out += `${row.map((v) => v ?? '').join(delim)}\n`;
    }
    return `${out}\n${table.rows.length} total.\n`;
  }
  if (format === 'xml') {
    // show_as_xml_callback (mod_commands.c:5523) makes <result> at the first row: none gives the
    // fixed "/>" text; a count has one row but adds no children.
    if ('count' in table) return `<result row_count="${table.count}"></result>\n`;
    if (table.rows.length === 0) return '<result row_count="0"/>\n';
    let out = `<result row_count="${table.rows.length}">\n`;
    table.rows.forEach((row, i) => {
      out += `  <row row_id="${i + 1}">\n`;
      table.columns.forEach((col, k) => {
        const text = xmlText(row[k] ?? '');
        // switch_xml_toxml_r (switch_xml.c:2623) indents a closing tag that follows a newline.
        out += `    <${col}>${text}${text.endsWith('\n') ? '    ' : ''}</${col}>\n`;
      });
      out += '  </row>\n';
    });
    return `${out}</result>\n`;
  }
  if (format === 'json') {
    // cJSON_PrintUnformatted, no newline (JSON.stringify escapes strings as cJSON does); with no
    // row the text is a literal with a space and a newline (mod_commands.c:5993).
    if ('count' in table) return `{"row_count":${table.count},"rows":[]}`;
    if (table.rows.length === 0) return '{"row_count": 0}\n';
    const rows = table.rows.map((row) => `{${table.columns.map((c, k) => `${JSON.stringify(c)}:${JSON.stringify(row[k] ?? '')}`).join(',')}}`);
    return `{"row_count":${table.rows.length},"rows":[${rows.join(',')}]}`;
  }
  return `-ERR Cannot find format ${as}\n`;
}

const SHOW_USAGE =
  '-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status\n';

/**
 * `show` for the core db tables the simulator has: channels [count|like <match>], calls [count],
 * detailed_calls, bridged_calls, detailed_bridged_calls and registrations (always empty), each
 * `as delim <sep>|csv|xml|json`, with show_function's argument quirks (mod_commands.c:5690).
 * Other topics (codec, modules, interfaces…) answer the usage.
 */
function show(sim: Simulator, arg: string | undefined): string {
  const argv = arg ? separateString(arg, 6) : [];
  const eq = (i: number, word: string): boolean => argv[i]?.toLowerCase() === word;
  const command = argv[0]?.toLowerCase();
  if (!command) return SHOW_USAGE;
  let as = argv[2] !== undefined && eq(1, 'as') ? argv[2] : undefined;
  const db = coreDb(sim);
  let table: Table | { count: number };
  // `<table> count [as <format>]`
  const counted = (n: number): { count: number } => {
    if (argv[2] !== undefined && argv[3] !== undefined && eq(2, 'as')) as = argv[3];
    return { count: n };
  };
  const calls = (): Table => callsView(db, BASIC_A, BASIC_B, 'call_created_epoch');
  if (command === 'calls') {
    table = eq(1, 'count') ? counted(calls().rows.length) : calls();
  } else if (command === 'registrations') {
    table = eq(1, 'count') ? counted(0) : { columns: [], rows: [] };
  } else if (command === 'channels' && eq(1, 'like') && argv[2] !== undefined) {
    table = channelsLike(db, argv[2]);
    // The delim separator is still read from argv[3], which is `as` here.
    if (argv[4] !== undefined && eq(3, 'as')) as = argv[4];
  } else if (command === 'channels') {
    table = eq(1, 'count')
      ? counted(db.channels.size)
      : { columns: CHANNEL_COLUMNS, rows: [...db.channels].map((r) => CHANNEL_COLUMNS.map((c) => r[c])) };
  } else if (command === 'detailed_calls' || command === 'detailed_bridged_calls') {
    table = callsView(db, DETAILED, DETAILED, 'created_epoch');
  } else if (command === 'bridged_calls') {
    table = callsView(db, BASIC_A, BASIC_B, 'created_epoch');
  } else {
    return SHOW_USAGE;
  }
  if (command.endsWith('bridged_calls') && 'rows' in table) {
    // `where b_uuid is not null`
    const at = table.columns.indexOf('b_uuid');
    table = { columns: table.columns, rows: table.rows.filter((r) => r[at] !== undefined) };
  }
  // No `as`: the default format with a comma; `as delim|csv` takes the separator from argv[3].
  if (as === undefined) return renderShow('delim', ',', table);
  return renderShow(as, argv[3] ?? ',', table);
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
    return (
      `${formatDuration(sim.uptimeMs)}\n` +
      `FreeSWITCH (Version ${sim.options.version}  64bit) is ready\n` +
      `${sim.sessionsSinceStartup} session(s) since startup\n` +
      `${n} session(s) - peak ${sim.peakSessions}, last 5min ${sim.peakSessions} \n` +
      `0 session(s) per Sec out of max 30, peak ${Math.min(sim.peakSessions, 30)}, last 5min ${Math.min(sim.peakSessions, 30)} \n` +
      `1000 session(s) max\nmin idle cpu 0.00/100.00\nCurrent Stack Size/Max 240K/8192K\n`
    );
  });
  apis.set('version', (arg, { sim }) => {
    if (arg && /short/i.test(arg)) return `${sim.options.version.replace(/-.*$/, '')}\n`;
    return `FreeSWITCH Version ${sim.options.version}~64bit ( 64bit)\n`;
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
  apis.set('eval', (arg, { session, sim }) => {
    const text = arg ?? '';
    if (session) return session.expand(text);
    return text.replace(/\$\{([^}]+)\}/g, (_, n: string) => sim.globalVars.get(n) ?? '');
  });
  apis.set('global_getvar', (arg, { sim }) => {
    if (!arg) return [...sim.globalVars].map(([k, v]) => `${k}=${v}\n`).join('');
    return sim.globalVars.get(arg) ?? '';
  });
  apis.set('global_setvar', (arg, { sim }) => {
    const parts = (arg ?? '').split('=');
    if (!parts[0]) return '-USAGE: <var>=<value>\n';
    const value = parts[1];
    if (value) sim.globalVars.set(parts[0], value);
    else sim.globalVars.delete(parts[0]);
    return '+OK';
  });
  apis.set('show', (arg, { sim }) => show(sim, arg));
  apis.set('originate', async (arg, { sim }) => {
    const usage = '-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n';
    const argv = splitArgs(arg ?? '').map((a) => (a.toLowerCase() === 'undef' ? undefined : a));
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
    else scheduleHangup(sim, when, ch.uuid, cause, false);
    return '+OK\n';
  });
  apis.set('sched_del', (arg, { sim }) => {
    // mod_commands.c sched_del_function: a digit string is a task id, anything else a task group
    // (sched_hangup's group is the channel uuid).
    if (arg === undefined) return '-ERR Invalid syntax\n';
    let deleted = 0;
    if (/^\d+$/.test(arg)) {
      const id = atol(arg);
      if (id > 0) deleted = sim.scheduler.deleteId(id);
    } else deleted = sim.scheduler.deleteGroup(arg);
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
