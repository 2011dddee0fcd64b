import type { Channel } from './channel.js';
import { parseCause } from './causes.js';
import { localStamp, newUuid } from './events.js';
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

const CHANNEL_COLUMNS = [
  'uuid', 'direction', 'created', 'created_epoch', 'name', 'state', 'cid_name', 'cid_num', 'ip_addr', 'dest',
  'application', 'application_data', 'dialplan', 'context', 'read_codec', 'read_rate', 'read_bit_rate',
  'write_codec', 'write_rate', 'write_bit_rate', 'secure', 'hostname', 'presence_id', 'presence_data',
  'accountcode', 'callstate', 'callee_name', 'callee_num', 'callee_direction', 'call_uuid', 'sent_callee_name',
  'sent_callee_num', 'initial_cid_name', 'initial_cid_num', 'initial_ip_addr', 'initial_dest',
  'initial_dialplan', 'initial_context',
];

function channelRow(sim: Simulator, ch: Channel): Record<string, string> {
  const created = new Date(Math.floor(ch.times.created / 1000));
  const p = ch.profile;
  return {
    uuid: ch.uuid, direction: ch.direction, created: localStamp(created), created_epoch: String(Math.floor(ch.times.created / 1e6)),
    name: ch.name, state: ch.runningState, cid_name: p.callerIdName, cid_num: p.callerIdNumber, ip_addr: p.networkAddr ?? '',
    dest: p.destinationNumber, application: ch.getVar('current_application') ?? '',
    application_data: ch.getVar('current_application_data') ?? '', dialplan: p.dialplan, context: p.context,
    read_codec: 'L16', read_rate: '8000', read_bit_rate: '128000', write_codec: 'L16', write_rate: '8000',
    write_bit_rate: '128000', secure: '', hostname: sim.options.hostname, presence_id: ch.getVar('presence_id') ?? '',
    presence_data: ch.getVar('presence_data') ?? '', accountcode: ch.getVar('accountcode') ?? '', callstate: ch.callState,
    callee_name: p.calleeIdName ?? '', callee_num: p.calleeIdNumber ?? '', callee_direction: '',
    call_uuid: ch.getVar('call_uuid') ?? '', sent_callee_name: '', sent_callee_num: '',
    initial_cid_name: p.origCallerIdName, initial_cid_num: p.origCallerIdNumber, initial_ip_addr: p.networkAddr ?? '',
    initial_dest: p.destinationNumber, initial_dialplan: p.dialplan, initial_context: p.context,
  };
}

/** `show` output: CSV with a header line, a blank line and "N total.", or `as json`. */
function showTable(rows: Array<Record<string, string>>, columns: string[], json: boolean): string {
  if (json) {
    if (rows.length === 0) return '{"row_count":0}\n';
    return `${JSON.stringify({ row_count: rows.length, rows })}\n`;
  }
  if (rows.length === 0) return '\n0 total.\n';
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => r[c] ?? '').join(','))];
  return `${lines.join('\n')}\n\n${rows.length} total.\n`;
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
  apis.set('show', (arg, { sim }) => {
    const words = (arg ?? '').split(' ').filter(Boolean);
    const json = words.length >= 3 && words[words.length - 2]?.toLowerCase() === 'as' && words[words.length - 1]?.toLowerCase() === 'json';
    const what = (words[0] ?? '').toLowerCase();
    const chans = sim.liveChannels();
    if (what === 'channels' || what === 'calls') {
      if (words[1]?.toLowerCase() === 'count') return `\n${chans.length} total.\n`;
      if (what === 'channels') return showTable(chans.map((c) => channelRow(sim, c)), CHANNEL_COLUMNS, json);
      // show calls: one row per call; bridged legs are joined with b_* columns.
      const seen = new Set<string>();
      const rows: Array<Record<string, string>> = [];
      for (const c of chans) {
        if (seen.has(c.uuid)) continue;
        seen.add(c.uuid);
        const row = channelRow(sim, c);
        const b = c.partner;
        if (b) {
          seen.add(b.uuid);
          for (const [k, v] of Object.entries(channelRow(sim, b))) row[`b_${k}`] = v;
        }
        row['call_created_epoch'] = row['created_epoch']!;
        rows.push(row);
      }
      const cols = ['uuid', 'direction', 'created', 'created_epoch', 'name', 'state', 'cid_name', 'cid_num', 'ip_addr', 'dest', 'presence_id', 'presence_data', 'accountcode', 'callstate', 'callee_name', 'callee_num', 'callee_direction', 'call_uuid', 'hostname', 'sent_callee_name', 'sent_callee_num'];
      const bCols = ['uuid', 'direction', 'created', 'created_epoch', 'name', 'state', 'cid_name', 'cid_num', 'ip_addr', 'dest', 'presence_id', 'presence_data', 'accountcode', 'callstate', 'callee_name', 'callee_num', 'callee_direction', 'sent_callee_name', 'sent_callee_num'].map((c) => `b_${c}`);
      return showTable(rows, [...cols, ...bCols, 'call_created_epoch'], json);
    }
    return `-USAGE: ${'codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status'}\n`;
  });
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
    if (!a || !b || !a.ready || !b.ready) return '-ERR Invalid uuid\n';
    sim.uuidBridge(a, b);
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
