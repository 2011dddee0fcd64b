/** The `show` api command over the simulated core db, with mod_commands' output formats. */
import { CHANNEL_COLUMNS, type ChannelColumn, type CoreDb } from './core-db.js';
import { separateString } from './strings.js';

/** One row of the core db's `interfaces` table for an api command (ikey is the module). */
export interface InterfaceRow {
  name: string;
  description: string;
  syntax: string;
  module: string;
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
  const calls = [...db.calls];
  const callees = new Set(calls.map((c) => c.calleeUuid));
  const joined: Array<{ row: Array<string | undefined>; key: number }> = [];
  for (const ch of db.channels) {
    const mine = calls.filter((c) => c.callerUuid === ch.uuid);
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
 * detailed_calls, bridged_calls, detailed_bridged_calls, registrations (always empty) and
 * api [<name>] (the interfaces rows in `apis`), each `as delim <sep>|csv|xml|json`, with
 * show_function's argument quirks (mod_commands.c:5690). Other topics (codec, modules,
 * interfaces…) answer the usage.
 */
export function show(db: CoreDb, arg: string | undefined, apis: readonly InterfaceRow[] = []): string {
  const argv = arg ? separateString(arg, 6) : [];
  const eq = (i: number, word: string): boolean => argv[i]?.toLowerCase() === word;
  const command = argv[0]?.toLowerCase();
  if (!command) return SHOW_USAGE;
  let as = argv[2] !== undefined && eq(1, 'as') ? argv[2] : undefined;
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
  } else if (command === 'api') {
    // `select name, description, syntax, ikey from interfaces where type = 'api' and description != ''
    // [and name = '<argv[1]>'] order by type,name`
    const name = argv[1] !== undefined && !eq(1, 'as') ? argv[1] : undefined;
    const rows = apis.filter((r) => r.description !== '' && (name === undefined || r.name === name));
    table = { columns: ['name', 'description', 'syntax', 'ikey'], rows: rows.map((r) => [r.name, r.description, r.syntax, r.module]) };
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
