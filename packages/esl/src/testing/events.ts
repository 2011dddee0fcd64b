import { randomUUID } from 'node:crypto';
import type { EventHeaderValue } from '../protocol/event-serializer.js';

/**
 * One event inside the simulator: ordered headers (duplicates allowed, as in FreeSWITCH events
 * created without EF_UNIQ_HEADERS) and an optional body.
 */
export class SimEvent {
  /** Headers in the order FreeSWITCH would serialize them. */
  readonly headers: Array<[string, EventHeaderValue]> = [];
  /** The body, or undefined when the event has none. */
  body: string | undefined;

  constructor(
    /** Event type, e.g. 'CHANNEL_ANSWER' or 'CUSTOM'. */
    public name: string,
  ) {}

  /** Event-Subclass of a CUSTOM event. */
  get subclass(): string | undefined {
    return this.get('Event-Subclass');
  }

  /** Appends a header; empty values are dropped as switch_event_add_header_string does. */
  add(name: string, value: string | number | boolean | readonly string[] | undefined | null): this {
    if (value === undefined || value === null) return this;
    if (typeof value === 'object') {
      if (value.length > 0) this.headers.push([name, [...value]]);
      return this;
    }
    const v = String(value);
    if (v !== '') this.headers.push([name, v]);
    return this;
  }

  /** Puts a header first (SWITCH_STACK_TOP). */
  addTop(name: string, value: string): this {
    if (value !== '') this.headers.unshift([name, value]);
    return this;
  }

  /** First value of a header (case-insensitive, like switch_event_get_header). Arrays read as `ARRAY::a|:b`. */
  get(name: string): string | undefined {
    const lower = name.toLowerCase();
    for (const [n, v] of this.headers) {
      // Length first: most names differ in length, and lowercasing every header name is the cost.
      if (n.length === lower.length && n.toLowerCase() === lower) return typeof v === 'string' ? v : `ARRAY::${v.join('|:')}`;
    }
    return undefined;
  }

  /** Header pairs as plain strings (arrays in FreeSWITCH's `ARRAY::` form). */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [n, v] of this.headers) if (!(n in out)) out[n] = typeof v === 'string' ? v : `ARRAY::${v.join('|:')}`;
    return out;
  }
}

/** Where a FreeSWITCH event is created: Event-Calling-File / -Function / -Line-Number. */
export interface CallSite {
  file: string;
  func: string;
  line: number;
}

/**
 * Call sites copied from the captures (FreeSWITCH 1.10.12), so events carry the values it sends.
 * bridge/unbridge come from the source (switch_ivr_bridge.c); dtmf, ringReady and log are not in the captures and their line numbers are approximate.
 */
export const SITES = {
  codecRead: { file: 'switch_core_codec.c', func: 'switch_core_session_set_read_codec', line: 279 },
  codecWrite: { file: 'switch_core_codec.c', func: 'switch_core_session_set_write_codec', line: 450 },
  outgoing: { file: 'switch_core_session.c', func: 'switch_core_session_outgoing_channel', line: 768 },
  state: { file: 'switch_channel.c', func: 'switch_channel_perform_set_running_state', line: 2408 },
  create: { file: 'switch_core_state_machine.c', func: 'switch_core_session_run', line: 626 },
  originate: { file: 'switch_core_state_machine.c', func: 'switch_core_session_run', line: 632 },
  callstate: { file: 'switch_channel.c', func: 'switch_channel_perform_set_callstate', line: 301 },
  answer: { file: 'switch_channel.c', func: 'switch_channel_perform_mark_answered', line: 3846 },
  preAnswer: { file: 'switch_channel.c', func: 'switch_channel_perform_mark_pre_answered', line: 3560 },
  ringReady: { file: 'switch_channel.c', func: 'switch_channel_perform_mark_ring_ready_value', line: 3479 },
  callUpdate: { file: 'switch_channel.c', func: 'switch_channel_flip_cid', line: 3277 },
  execute: { file: 'switch_core_session.c', func: 'switch_core_session_exec', line: 2944 },
  executeComplete: { file: 'switch_core_session.c', func: 'switch_core_session_exec', line: 2967 },
  channelUuid: { file: 'switch_core_session.c', func: 'switch_core_session_set_uuid', line: 2051 },
  uuidBridgeExecute: { file: 'switch_ivr_bridge.c', func: 'uuid_bridge_on_soft_execute', line: 1236 },
  uuidBridgeExecuteOther: { file: 'switch_ivr_bridge.c', func: 'uuid_bridge_on_soft_execute', line: 1243 },
  park: { file: 'switch_ivr.c', func: 'switch_ivr_park', line: 1002 },
  unpark: { file: 'switch_ivr.c', func: 'switch_ivr_park', line: 1213 },
  hangup: { file: 'switch_channel.c', func: 'switch_channel_perform_hangup', line: 3445 },
  hangupComplete: { file: 'switch_core_state_machine.c', func: 'switch_core_session_reporting_state', line: 943 },
  destroy: { file: 'switch_core_session.c', func: 'switch_core_session_perform_destroy', line: 1584 },
  playbackStart: { file: 'switch_ivr_play_say.c', func: 'switch_ivr_play_file', line: 1646 },
  playbackStop: { file: 'switch_ivr_play_say.c', func: 'switch_ivr_play_file', line: 2020 },
  api: { file: 'switch_loadable_module.c', func: 'switch_api_execute', line: 2954 },
  backgroundJob: { file: 'mod_event_socket.c', func: 'api_exec', line: 1572 },
  channelData: { file: 'mod_event_socket.c', func: 'parse_command', line: 2021 },
  sendevent: { file: 'mod_event_socket.c', func: 'parse_command', line: 2275 },
  bridge: { file: 'switch_ivr_bridge.c', func: 'switch_ivr_multi_threaded_bridge', line: 1689 },
  unbridge: { file: 'switch_ivr_bridge.c', func: 'switch_ivr_multi_threaded_bridge', line: 1879 },
  heartbeat: { file: 'switch_core.c', func: 'send_heartbeat', line: 95 },
  reschedule: { file: 'switch_scheduler.c', func: 'switch_scheduler_execute', line: 73 },
  dtmf: { file: 'switch_channel.c', func: 'switch_channel_queue_dtmf', line: 500 },
  privateCommand: { file: 'switch_ivr.c', func: 'switch_ivr_parse_next_event', line: 804 },
  log: { file: 'switch_log.c', func: 'switch_log_meta_vprintf', line: 652 },
  // From the source (mod_commands.c v1.10.12): the CHANNEL_DATA events these api commands build.
  uuidDump: { file: 'mod_commands.c', func: 'uuid_dump_function', line: 6468 },
  eval: { file: 'mod_commands.c', func: 'eval_function', line: 1696 },
} satisfies Record<string, CallSite>;

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:MM:SS` in local time, the format of Event-Date-Local and the *_stamp variables. */
export function localStamp(d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

let lastMicros = 0;
/** Wall-clock microseconds, strictly increasing inside this process. */
export function nowMicros(): number {
  const base = Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
  lastMicros = base > lastMicros ? base : lastMicros + 1;
  return lastMicros;
}

/** Identity of the simulated switch, used in every event's standard headers. */
export interface SwitchIdentity {
  coreUuid: string;
  hostname: string;
  switchname: string;
  ipv4: string;
  ipv6: string;
}

/** Creates events with FreeSWITCH's standard headers (EV switch_event_prep_for_delivery_detailed). */
export class EventFactory {
  private sequence = 0;

  constructor(readonly identity: SwitchIdentity) {}

  /** Next Event-Sequence value; taken at creation, like FreeSWITCH. */
  nextSequence(): number {
    return ++this.sequence;
  }

  /** A new event with the standard headers in FreeSWITCH's order; CUSTOM adds Event-Subclass after them. */
  create(name: string, site: CallSite, subclass?: string): SimEvent {
    const ev = new SimEvent(name);
    this.appendStandard(ev, site);
    if (name === 'CUSTOM' && subclass) ev.add('Event-Subclass', subclass);
    return ev;
  }

  /** Appends the standard headers to an existing event (sendevent: after the client's own headers). */
  appendStandard(ev: SimEvent, site: CallSite): void {
    const micros = nowMicros();
    const date = new Date(Math.floor(micros / 1000));
    const id = this.identity;
    ev.add('Event-Name', ev.name);
    ev.add('Core-UUID', id.coreUuid);
    ev.add('FreeSWITCH-Hostname', id.hostname);
    ev.add('FreeSWITCH-Switchname', id.switchname);
    ev.add('FreeSWITCH-IPv4', id.ipv4);
    ev.add('FreeSWITCH-IPv6', id.ipv6);
    ev.add('Event-Date-Local', localStamp(date));
    ev.add('Event-Date-GMT', date.toUTCString());
    ev.add('Event-Date-Timestamp', String(micros));
    ev.add('Event-Calling-File', site.file);
    ev.add('Event-Calling-Function', site.func);
    ev.add('Event-Calling-Line-Number', String(site.line));
    ev.add('Event-Sequence', String(this.nextSequence()));
  }
}

export function newUuid(): string {
  return randomUUID();
}
