import { EVENT_NAMES } from '../protocol/event.js';
import { LOG_LEVELS } from './args.js';
import { SLASH_NAMES } from './console-commands.js';

/**
 * API commands every FreeSWITCH build has (mod_commands and the core), offered before — or
 * instead of, if the server refuses `show api` — the server's own list.
 */
export const BUILTIN_API_COMMANDS: readonly string[] = [
  'bgapi', 'break', 'console', 'create_uuid', 'db_cache', 'domain_exists', 'echo', 'eval', 'expand',
  'fsctl', 'getenv', 'global_getvar', 'global_setvar', 'group_call', 'help', 'hostname', 'hupall',
  'in_group', 'is_lan_addr', 'list_users', 'load', 'log', 'md5', 'module_exists', 'msleep', 'originate',
  'reload', 'reloadacl', 'reloadxml', 'sched_api', 'sched_del', 'sched_hangup', 'sched_transfer',
  'show', 'shutdown', 'sofia', 'sofia_contact', 'status', 'strftime', 'switchname', 'unload', 'uptime',
  'user_data', 'user_exists', 'uuid_answer', 'uuid_break', 'uuid_bridge', 'uuid_broadcast',
  'uuid_buglist', 'uuid_chat', 'uuid_debug_media', 'uuid_deflect', 'uuid_displace', 'uuid_display',
  'uuid_dump', 'uuid_exists', 'uuid_flush_dtmf', 'uuid_getvar', 'uuid_hold', 'uuid_kill', 'uuid_media',
  'uuid_park', 'uuid_phone_event', 'uuid_preprocess', 'uuid_recv_dtmf', 'uuid_record', 'uuid_send_dtmf',
  'uuid_session_heartbeat', 'uuid_setvar', 'uuid_setvar_multi', 'uuid_simplify', 'uuid_transfer',
  'version', 'xml_locate', 'xml_wrap',
];

/** Second words for `show` (mod_commands show_function). */
export const SHOW_TOPICS: readonly string[] = [
  'aliases', 'api', 'application', 'bridged_calls', 'calls', 'channels', 'chat', 'codec', 'complete',
  'detailed_bridged_calls', 'detailed_calls', 'dialplan', 'endpoint', 'file', 'interfaces',
  'interface_types', 'management', 'modules', 'nat_map', 'registrations', 'say', 'status', 'tasks', 'timer',
];

/**
 * The command names in the output of `api show api`: CSV with a `name,description,syntax,ikey`
 * header, one row per command (descriptions may hold commas, the name never does), a blank line
 * and `N total.`.
 */
export function parseShowApi(body: string): string[] {
  if (body.startsWith('-ERR') || body.startsWith('-USAGE')) return [];
  const names = new Set<string>();
  for (const line of body.split('\n')) {
    const text = line.trim();
    if (text === '' || /^\d+ total\.?$/.test(text)) continue;
    const name = text.split(',', 1)[0]!.trim();
    if (name === 'name' || name === '' || /\s/.test(name)) continue;
    names.add(name);
  }
  return [...names].sort();
}

export type Completer = (line: string) => [string[], string];

function matching(candidates: Iterable<string>, prefix: string, caseless: boolean): string[] {
  const p = caseless ? prefix.toLowerCase() : prefix;
  const out = new Set<string>();
  for (const c of candidates) {
    if ((caseless ? c.toLowerCase() : c).startsWith(p)) out.add(c);
  }
  return [...out].sort();
}

/**
 * A node:readline completer: slash commands and their arguments (event names, formats, log
 * levels, on/off), api command names for the first word, and `show` topics. `apiNames` is read on
 * every call so the list fetched from the server after connecting is used as soon as it arrives.
 */
export function createCompleter(apiNames: () => readonly string[]): Completer {
  return (line: string) => {
    const lastSpace = line.lastIndexOf(' ');
    const current = line.slice(lastSpace + 1);
    const before = line.slice(0, lastSpace + 1).trim().split(/\s+/).filter(Boolean);
    const first = before[0]?.toLowerCase();

    if (before.length === 0) {
      if (current.startsWith('/')) return [matching(SLASH_NAMES, current, true), current];
      const all = new Set([...BUILTIN_API_COMMANDS, ...apiNames()]);
      return [matching(all, current, false), current];
    }
    switch (first) {
      case '/log':
        return [before.length === 1 ? matching(LOG_LEVELS, current, true) : [], current];
      case '/event':
      case '/events':
      case '/nixevent': {
        const options: string[] = [...EVENT_NAMES];
        if (first !== '/nixevent' && before.length === 1) options.push('plain', 'json', 'xml');
        // Names are upper case on the wire, but typing them in lower case is accepted by FreeSWITCH.
        const hits = matching(options, current, true);
        return [current !== '' && current === current.toLowerCase() ? hits.map((h) => (EVENT_NAMES as readonly string[]).includes(h) ? h.toLowerCase() : h) : hits, current];
      }
      case '/full':
        return [before.length === 1 ? matching(['on', 'off'], current, true) : [], current];
      case '/bgapi':
        if (before.length === 1) return [matching(new Set([...BUILTIN_API_COMMANDS, ...apiNames()]), current, false), current];
        return [[], current];
      case 'show':
        return [before.length === 1 ? matching(SHOW_TOPICS, current, false) : [], current];
      default:
        return [[], current];
    }
  };
}
