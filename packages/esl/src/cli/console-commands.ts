import { LOG_LEVELS, parseLogLevel, UsageError } from './args.js';

export type EventFormatName = 'plain' | 'json' | 'xml';

/** What one console line asks for. */
export type ConsoleAction =
  | { kind: 'empty' }
  | { kind: 'exit' }
  | { kind: 'help' }
  | { kind: 'api'; command: string }
  | { kind: 'bgapi'; command: string }
  | { kind: 'event'; format: EventFormatName; names: string[] }
  | { kind: 'nixevent'; names: string[] }
  | { kind: 'noevents' }
  | { kind: 'filter'; header: string; value: string }
  | { kind: 'filterDelete'; header: string; value?: string }
  | { kind: 'log'; level: number }
  | { kind: 'nolog' }
  | { kind: 'full'; on?: boolean }
  /** A slash command used wrongly (or an unknown one): print `message`, send nothing. */
  | { kind: 'invalid'; message: string };

/** The slash commands, with the usage line shown by /help. */
export const SLASH_COMMANDS: ReadonlyArray<readonly [name: string, usage: string, help: string]> = [
  ['/help', '/help', 'this list'],
  ['/exit', '/exit, /quit, /bye, ...', 'leave the console (Ctrl-D works too)'],
  ['/event', '/event [plain|json|xml] NAME ...', 'subscribe to events (ALL for every event; CUSTOM sub::class ...)'],
  ['/nixevent', '/nixevent NAME ...', 'unsubscribe some event types'],
  ['/noevents', '/noevents', 'stop all events'],
  ['/filter', '/filter HEADER VALUE', 'only deliver events whose HEADER matches VALUE (/filter delete HEADER [VALUE] undoes)'],
  ['/log', '/log [LEVEL]', `show server log lines up to LEVEL (${LOG_LEVELS.join(', ')} or 0-7; default debug)`],
  ['/nolog', '/nolog', 'stop server log lines'],
  ['/bgapi', '/bgapi COMMAND', 'run an api command in the background; the result is printed when it finishes'],
  ['/full', '/full [on|off]', 'print events with all headers (on) or one line each (off); no argument toggles'],
];

export const EXIT_WORDS = ['/exit', '/quit', '/bye', '...'];

/** Every slash word the completer offers. */
export const SLASH_NAMES: readonly string[] = [
  ...SLASH_COMMANDS.map(([n]) => n).filter((n) => n !== '/exit'),
  ...EXIT_WORDS.filter((w) => w.startsWith('/')),
].sort();

export function consoleHelp(): string {
  const width = Math.max(...SLASH_COMMANDS.map(([, usage]) => usage.length));
  const lines = ['Commands:', ...SLASH_COMMANDS.map(([, usage, help]) => `  ${usage.padEnd(width)}  ${help}`)];
  lines.push(`  ${'COMMAND [ARGS]'.padEnd(width)}  any other line runs as an api command (status, show channels, ...)`);
  return `${lines.join('\n')}\n`;
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

/**
 * Turns one console line into an action. Lines starting with `/` are fs_cli's slash commands
 * (names matched without regard to case); `...` and the bare words exit/quit/bye leave; anything
 * else is an api command. `console loglevel N` is taken as `/log N`, as fs_cli does.
 */
export function parseConsoleLine(line: string): ConsoleAction {
  const text = line.trim();
  if (text === '') return { kind: 'empty' };
  if (text === '...' || /^(exit|quit|bye)$/i.test(text)) return { kind: 'exit' };
  const loglevel = /^console\s+loglevel\s+(\S+)\s*$/i.exec(text);
  if (loglevel) return logAction(loglevel[1]!);
  if (!text.startsWith('/')) return { kind: 'api', command: text };

  const space = text.search(/\s/);
  const name = (space === -1 ? text : text.slice(0, space)).toLowerCase();
  const rest = space === -1 ? '' : text.slice(space + 1).trim();
  switch (name) {
    case '/help':
    case '/?':
      return { kind: 'help' };
    case '/exit':
    case '/quit':
    case '/bye':
      return { kind: 'exit' };
    case '/event':
    case '/events': {
      const list = words(rest);
      let format: EventFormatName = 'plain';
      if (list[0] !== undefined && /^(plain|json|xml)$/i.test(list[0])) format = list.shift()!.toLowerCase() as EventFormatName;
      if (list.length === 0) return invalid('usage: /event [plain|json|xml] NAME ... (e.g. /event plain ALL)');
      return { kind: 'event', format, names: list };
    }
    case '/nixevent': {
      const list = words(rest);
      if (list.length === 0) return invalid('usage: /nixevent NAME ...');
      return { kind: 'nixevent', names: list };
    }
    case '/noevents':
      return rest === '' ? { kind: 'noevents' } : invalid('usage: /noevents');
    case '/filter': {
      const list = words(rest);
      if (list[0]?.toLowerCase() === 'delete') {
        if (list.length < 2) return invalid('usage: /filter delete HEADER [VALUE]  (or /filter delete all)');
        const value = rest.replace(/^\S+\s+\S+\s*/, '');
        return value === '' ? { kind: 'filterDelete', header: list[1]! } : { kind: 'filterDelete', header: list[1]!, value };
      }
      // `filter add h v` is FreeSWITCH's long form of `filter h v`.
      const args = list[0]?.toLowerCase() === 'add' ? rest.replace(/^\S+\s*/, '') : rest;
      const m = /^(\S+)\s+(.+)$/.exec(args);
      if (!m) return invalid('usage: /filter HEADER VALUE  (e.g. /filter Unique-ID 1234...)');
      return { kind: 'filter', header: m[1]!, value: m[2]! };
    }
    case '/log':
      return rest === '' ? { kind: 'log', level: 7 } : logAction(rest);
    case '/nolog':
      return rest === '' ? { kind: 'nolog' } : invalid('usage: /nolog');
    case '/bgapi':
      return rest === '' ? invalid('usage: /bgapi COMMAND (e.g. /bgapi status)') : { kind: 'bgapi', command: rest };
    case '/full': {
      if (rest === '') return { kind: 'full' };
      if (/^(on|yes|1|true)$/i.test(rest)) return { kind: 'full', on: true };
      if (/^(off|no|0|false)$/i.test(rest)) return { kind: 'full', on: false };
      return invalid('usage: /full [on|off]');
    }
    default:
      return invalid(`unknown command ${name} (type /help for the list)`);
  }
}

function logAction(level: string): ConsoleAction {
  try {
    return { kind: 'log', level: parseLogLevel(level) };
  } catch (err) {
    return invalid(err instanceof UsageError ? err.message : String(err));
  }
}

function invalid(message: string): ConsoleAction {
  return { kind: 'invalid', message };
}
