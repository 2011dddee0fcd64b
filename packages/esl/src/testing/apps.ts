import type { Channel, SimCore } from './channel.js';
import { parseCause } from './causes.js';
import type { Engine } from './engine.js';
import { SITES } from './events.js';
import { logLevelFromText } from '../protocol/log-levels.js';
import { epochSecondNow } from './scheduler.js';

/**
 * Simulated media length of a file in ms (before timeScale), or Infinity. tone_stream and
 * silence_stream lengths follow from their arguments; other files use the configured length.
 */
export function fileDurationMs(file: string, fallback: (file: string) => number): number {
  if (file.startsWith('tone_stream://')) {
    const spec = file.slice('tone_stream://'.length);
    let loops = 1;
    const lm = /;loops=(-?\d+)/.exec(spec);
    if (lm) loops = Number(lm[1]);
    let once = 0;
    for (const m of spec.matchAll(/%\(([^)]*)\)/g)) {
      const [on = '0', off = '0'] = m[1]!.split(',');
      once += (Number(on) || 0) + (Number(off) || 0);
    }
    if (once === 0) once = 1000;
    return loops < 0 ? Infinity : once * Math.max(loops, 1);
  }
  if (file.startsWith('silence_stream://')) {
    const ms = Number(file.slice('silence_stream://'.length).split(',')[0]);
    return !Number.isFinite(ms) || ms <= 0 ? Infinity : ms;
  }
  return fallback(file);
}

function fileType(file: string): string {
  const m = /^([a-z_]+):\/\//.exec(file);
  if (m) return m[1]!;
  const dot = file.lastIndexOf('.');
  return dot === -1 ? 'file' : file.slice(dot + 1);
}

/**
 * switch_ivr_play_file as the playback application uses it: PLAYBACK_START, the simulated media
 * time (nested messages run inside unless event-locked), playback_* variables, PLAYBACK_STOP.
 * Returns how it ended and how many ms were "played".
 */
export async function playFile(
  ch: Channel,
  engine: Engine,
  file: string,
  stopOnDtmf = false,
): Promise<{ result: 'done' | 'break' | 'hangup'; playedMs: number }> {
  if (!ch.ready) return { result: 'hangup', playedMs: 0 };
  const type = fileType(file);
  ch.fire('PLAYBACK_START', SITES.playbackStart, { after: [['Playback-File-Type', type], ['Playback-File-Path', file]] });
  const total = fileDurationMs(file, engine.core.options.playbackMs);
  const started = ch.simulatedMs;
  let result: 'done' | 'break' | 'hangup';
  if (stopOnDtmf && ch.dtmf.length > 0) result = 'break';
  else if (stopOnDtmf) {
    // Digits arriving during the prompt stop it (play_and_get_digits terminators).
    const onDigit = (): void => {
      if (ch.dtmf.length > 0) ch.requestBreak();
    };
    engine.core.dtmfListeners.set(ch, onDigit);
    try {
      result = await ch.mediaWait(engine.scaled(total));
    } finally {
      engine.core.dtmfListeners.delete(ch);
    }
  } else {
    result = await ch.mediaWait(engine.scaled(total));
  }
  const playedMs = Math.min(total, ch.simulatedMs - started);
  const samples = Math.round((playedMs * 8000) / 1000);
  ch.setVar('playback_last_offset_pos', samples);
  ch.setVar('playback_seconds', Math.floor(playedMs / 1000));
  ch.setVar('playback_ms', Math.round(playedMs));
  ch.setVar('playback_samples', samples);
  if (!engine.core.stopped) {
    ch.fire('PLAYBACK_STOP', SITES.playbackStop, {
      after: [['Playback-File-Type', type], ['Playback-File-Path', file], ['Playback-Status', result === 'break' ? 'break' : 'done']],
    });
  }
  return { result, playedMs };
}

function setVarArg(ch: Channel, arg: string): [string, string] | undefined {
  const eq = arg.indexOf('=');
  if (eq <= 0) return undefined;
  let value = arg.slice(eq + 1);
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
  const name = arg.slice(0, eq);
  ch.setVar(name, value);
  return [name, value];
}

/** Collects scripted DTMF: up to `max` digits, stopping at a terminator; waits `timeoutMs` (real) for more. */
async function collectDigits(ch: Channel, engine: Engine, max: number, terminators: string, timeoutMs: number, digitTimeoutMs: number): Promise<{ digits: string; terminator: string }> {
  let digits = '';
  let first = true;
  for (;;) {
    if (!ch.ready) break;
    const d = ch.dtmf.shift();
    if (d !== undefined) {
      first = false;
      if (terminators.includes(d)) return { digits, terminator: d };
      digits += d;
      if (digits.length >= max) break;
      continue;
    }
    const wait = first ? timeoutMs : digitTimeoutMs;
    engine.core.dtmfListeners.set(ch, () => ch.poke());
    let full: boolean;
    try {
      full = await ch.waitSignal(wait);
    } finally {
      engine.core.dtmfListeners.delete(ch);
    }
    if (full || engine.core.stopped) break;
  }
  return { digits, terminator: '' };
}

/** The DTMF event a received digit fires (switch_channel_queue_dtmf). */
export function fireDtmf(ch: Channel, digit: string): void {
  ch.fire('DTMF', SITES.dtmf, { after: [['DTMF-Digit', digit], ['DTMF-Duration', '2000'], ['DTMF-Source', 'RTP']] });
}

/** Registers the applications the simulator knows (mod_dptools names and behaviour). */
export function registerDefaultApps(engine: Engine): void {
  engine.register('answer', (ch) => {
    ch.answer();
  });
  engine.register('pre_answer', (ch) => {
    ch.preAnswer();
  });
  engine.register('ring_ready', (ch) => {
    ch.markRinging();
  });
  engine.register('hangup', (ch, arg) => {
    ch.hangup(parseCause(arg) ?? 'NORMAL_CLEARING');
  });
  engine.register('set', (ch, arg) => {
    setVarArg(ch, arg);
  });
  engine.register('unset', (ch, arg) => {
    ch.setVar(arg.trim(), undefined);
  });
  engine.register('multiset', (ch, arg) => {
    for (const part of arg.split(' ').filter(Boolean)) setVarArg(ch, part);
  });
  engine.register('export', (ch, arg) => {
    const nolocal = arg.startsWith('nolocal:');
    const eq = arg.indexOf('=');
    if (eq <= 0) return;
    const name = arg.slice(nolocal ? 8 : 0, eq);
    let value = arg.slice(eq + 1);
    if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
    // The value goes to legs this channel creates later (bridge) and to the bridged partner;
    // with nolocal: not to this channel itself (switch_channel_export_variable).
    ch.exports.set(name, value);
    if (!nolocal) ch.setVar(name, value);
    const list = ch.getVar('export_vars');
    const names = list ? list.split(',') : [];
    if (!names.includes(name)) names.push(name);
    ch.setVar('export_vars', names.join(','));
    if (ch.partner) ch.partner.setVar(name, value);
  });
  engine.register('log', (ch, arg) => {
    const sp = arg.indexOf(' ');
    // mod_dptools log_function: switch_log_str2level of the first word; a name it does not know is DEBUG.
    const level = sp === -1 ? 7 : (logLevelFromText(arg.slice(0, sp)) ?? 7);
    engine.core.log(level, `${sp === -1 ? arg : arg.slice(sp + 1)}\n`, { uuid: ch.uuid, file: 'mod_dptools.c', func: 'log_function', line: 1703 });
  });
  engine.register('info', (ch) => {
    engine.core.log(6, `CHANNEL_DATA:\nChannel-Name: [${ch.name}]\nUnique-ID: [${ch.uuid}]\n`, { uuid: ch.uuid, file: 'mod_dptools.c', func: 'info_function', line: 1712 });
  });
  engine.register('sleep', async (ch, arg) => {
    const ms = Number.parseInt(arg, 10);
    if (!(ms > 0)) return;
    await ch.mediaWait(engine.scaled(ms));
  });
  engine.register('playback', {
    media: true,
    run: async (ch, arg) => {
      const { result } = await playFile(ch, engine, arg);
      ch.setVar('current_application_response', result === 'hangup' ? 'PLAYBACK ERROR' : 'FILE PLAYED');
    },
  });
  engine.register('park', async (ch) => {
    await engine.park(ch);
  });
  engine.register('echo', {
    media: true,
    run: async (ch) => {
      await ch.mediaWait(Infinity);
    },
  });
  engine.register('bridge', async (ch, arg) => {
    await engine.bridge(ch, arg);
  });
  engine.register('transfer', async (ch, arg) => {
    const [exten = '', , context] = arg.split(' ');
    ch.profile.destinationNumber = exten;
    if (context) ch.profile.context = context;
    const steps = engine.lookup(exten);
    if (!steps) {
      ch.hangup('NO_ROUTE_DESTINATION');
      return;
    }
    ch.extension = steps;
  });
  engine.register('socket', async (ch, arg) => {
    if (engine.socketHandler) await engine.socketHandler(ch, arg);
  });
  engine.register('play_and_get_digits', {
    media: true,
    run: async (ch, arg) => {
      // <min> <max> <tries> <timeout> <terminators> <file> <invalid_file> <var_name> <regexp> [<digit_timeout>]
      const a = arg.split(' ');
      const min = Number(a[0]) || 0;
      const max = Number(a[1]) || 128;
      const tries = Number(a[2]) || 1;
      const timeout = engine.scaled(Number(a[3]) || 5000);
      const terminators = a[4] === 'none' ? '' : (a[4] ?? '#');
      const file = a[5] ?? '';
      const invalid = a[6] ?? '';
      const varName = a[7] || 'pagd_input';
      const regexp = a[8] ? new RegExp(a[8]) : undefined;
      const digitTimeout = a[9] ? engine.scaled(Number(a[9]) || 0) : timeout;
      for (let t = 0; t < tries && ch.ready; t++) {
        if (file) {
          const played = await playFile(ch, engine, file, true);
          if (played.result === 'hangup') break;
        }
        const { digits, terminator } = await collectDigits(ch, engine, max, terminators, timeout, digitTimeout);
        ch.setVar('read_terminator_used', terminator || undefined);
        if (digits.length >= min && digits.length <= max && (!regexp || regexp.test(digits)) && (digits !== '' || min === 0)) {
          ch.setVar(varName, digits);
          ch.setVar('read_result', 'success');
          return;
        }
        if (invalid && invalid !== 'silence_stream://0' && ch.ready && t + 1 < tries) await playFile(ch, engine, invalid);
      }
      ch.setVar('read_result', ch.ready ? 'timeout' : 'failure');
      ch.setVar(varName, undefined);
    },
  });
  engine.register('read', {
    media: true,
    run: async (ch, arg) => {
      // <min> <max> <file> <var_name> <timeout> <terminators>
      const a = arg.split(' ');
      const max = Number(a[1]) || 128;
      const file = a[2] ?? '';
      const varName = a[3] || 'read_input';
      const timeout = engine.scaled(Number(a[4]) || 5000);
      const terminators = a[5] ?? '#';
      if (file) await playFile(ch, engine, file, true);
      const { digits, terminator } = await collectDigits(ch, engine, max, terminators, timeout, timeout);
      ch.setVar('read_terminator_used', terminator || undefined);
      ch.setVar(varName, digits || undefined);
      ch.setVar('read_result', digits ? 'success' : 'timeout');
    },
  });
  engine.register('sched_hangup', (ch, arg) => {
    // mod_dptools.c sched_hangup_function: [+]<time> [<cause>] [bleg], split as switch_separate_string does.
    const argv = arg.split(' ').filter(Boolean);
    if (argv.length === 0) {
      engine.core.log(3, 'No time specified.\n', { uuid: ch.uuid, file: 'mod_dptools.c', func: 'sched_hangup_function', line: 1282 });
      return;
    }
    const { when, sec } = schedTime(argv[0]!);
    const cause = argv[1] === undefined ? 'ALLOTTED_TIMEOUT' : str2cause(argv[1]);
    const bleg = argv[2]?.toLowerCase() === 'bleg';
    if (sec === 0) ch.hangup(cause);
    else scheduleHangup(engine.core, when, ch.uuid, cause, bleg);
  });
  engine.register('event', (ch, arg) => {
    // event Event-Name=CUSTOM,Event-Subclass=foo::bar,header=value
    const pairs = arg.split(',').map((p) => p.split('=')) as Array<[string, string?]>;
    const name = pairs.find(([k]) => k === 'Event-Name')?.[1] ?? 'CUSTOM';
    const sub = pairs.find(([k]) => k === 'Event-Subclass')?.[1];
    const ev = engine.core.factory.create(name.toUpperCase(), { file: 'mod_dptools.c', func: 'event_function', line: 1290 }, sub);
    ch.addBasicData(ev);
    ch.addExtendedData(ev);
    for (const [k, v] of pairs) if (k !== 'Event-Name' && k !== 'Event-Subclass' && v !== undefined) ev.add(k, v);
    engine.core.fire(ev);
  });
}

/**
 * The time argument of sched_hangup, api and application alike (mod_commands.c and mod_dptools.c
 * sched_hangup_function): `sec` is atol of the text after its FIRST character, whatever that is;
 * `+<n>` means now + sec, anything else is the absolute epoch second atol(text). atol stops at the
 * first non-digit, so `+0.5` is 0 and `+1.9` is 1. When `sec` is 0 the caller hangs up at once.
 */
export function schedTime(text: string): { when: number; sec: number } {
  const sec = atol(text.slice(1));
  return { when: text.startsWith('+') ? epochSecondNow() + sec : atol(text), sec };
}

/** C's atol: optional spaces and sign, then digits up to the first non-digit; 0 when there are none. */
export function atol(text: string): number {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m ? Number.parseInt(m[1]!, 10) : 0;
}

/** switch_channel_str2cause (switch_channel.c): a number or a name (any case); anything else NORMAL_CLEARING. */
export function str2cause(text: string): string {
  if (/^\d/.test(text)) return parseCause(String(atol(text))) ?? 'NORMAL_CLEARING';
  return parseCause(text) ?? 'NORMAL_CLEARING';
}

/**
 * switch_ivr_schedule_hangup (switch_ivr_async.c): a task in the channel's uuid group that hangs the
 * channel (or, with `bleg`, its bridged partner) up with `cause` when it runs. Every call adds a
 * task; none replaces an earlier one.
 */
export function scheduleHangup(core: SimCore, when: number, uuid: string, cause: string, bleg: boolean): number {
  return core.scheduler.add(when, 'switch_ivr_schedule_hangup', uuid, () => {
    const ch = core.channel(uuid);
    if (!ch || ch.destroyed) return;
    const target = bleg ? ch.partner : ch;
    if (!target) {
      core.log(4, 'No channel to hangup\n', { uuid, file: 'switch_ivr_async.c', func: 'sch_hangup_callback', line: 5523 });
      return;
    }
    target.hangup(cause);
  });
}

/**
 * switch_channel_execute_on (switch_channel.c): every variable whose name starts with `prefix` (global
 * ones, then the channel's) names an application to run now: `<app> <arg>` or `<app>:<arg>`;
 * `<app>::<arg>` runs it asynchronously. The answering thread runs it; here it is not awaited.
 */
export function executeOn(ch: Channel, engine: Engine, prefix: string): void {
  const merged = new Map([...engine.core.globalVars, ...ch.variables]);
  const lower = prefix.toLowerCase();
  for (const [name, value] of merged) {
    if (!name.toLowerCase().startsWith(lower)) continue;
    const m = /^([^ :]*)(?:( |:(?!:))(.*)|::(.*))?$/s.exec(value);
    if (!m || !m[1]) continue;
    const arg = m[3] ?? m[4] ?? '';
    void engine.executeApp(ch, m[1], arg);
  }
}
