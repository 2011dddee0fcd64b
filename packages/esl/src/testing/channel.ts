import type { Command } from '../protocol/command-reader.js';
import { q850 } from './causes.js';
import { type CallSite, SITES, SimEvent, localStamp, newUuid, nowMicros } from './events.js';
import type { SimCore } from './core.js';

/** Channel states (switch_channel_state_t) with their numbers, as in Channel-State-Number. */
export const CHANNEL_STATES = {
  CS_NEW: 0, CS_INIT: 1, CS_ROUTING: 2, CS_SOFT_EXECUTE: 3, CS_EXECUTE: 4, CS_EXCHANGE_MEDIA: 5, CS_PARK: 6,
  CS_CONSUME_MEDIA: 7, CS_HIBERNATE: 8, CS_RESET: 9, CS_HANGUP: 10, CS_REPORTING: 11, CS_DESTROY: 12, CS_NONE: 13,
} as const;
export type ChannelState = keyof typeof CHANNEL_STATES;

/** Call states (switch_channel_callstate_t) with their numbers, as in Channel-Call-State-Number. */
export const CALL_STATES = {
  DOWN: 0, DIALING: 1, RINGING: 2, EARLY: 3, ACTIVE: 4, HELD: 5, RING_WAIT: 6, HANGUP: 7, UNHELD: 8,
} as const;
export type CallState = keyof typeof CALL_STATES;

/** Event types that carry `variable_*` headers (switch_channel_event_set_extended_data). */
const EVENTS_WITH_VARIABLES = new Set([
  'CHANNEL_CREATE', 'CHANNEL_ORIGINATE', 'CHANNEL_UUID', 'CHANNEL_ANSWER', 'CHANNEL_PARK', 'CHANNEL_UNPARK',
  'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_HANGUP',
  'CHANNEL_HANGUP_COMPLETE', 'REQUEST_PARAMS', 'CHANNEL_DATA', 'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE',
  'CHANNEL_DESTROY', 'SESSION_HEARTBEAT', 'API', 'RECORD_START', 'RECORD_STOP', 'PLAYBACK_START', 'PLAYBACK_STOP',
  'CALL_UPDATE', 'MEDIA_BUG_START', 'MEDIA_BUG_STOP', 'CHANNEL_HOLD', 'CHANNEL_UNHOLD', 'TEXT', 'CUSTOM',
]);

/** The caller profile (switch_caller_profile_t); written with a prefix by switch_caller_profile_event_set_data. */
export interface CallerProfile {
  username?: string;
  dialplan: string;
  callerIdName: string;
  callerIdNumber: string;
  origCallerIdName: string;
  origCallerIdNumber: string;
  calleeIdName?: string;
  calleeIdNumber?: string;
  networkAddr?: string;
  ani: string;
  aniii?: string;
  destinationNumber: string;
  uuid: string;
  source: string;
  transferSource?: string;
  context: string;
  rdnis?: string;
  channelName: string;
  profileIndex: string;
  /** The channel's direction (switch_caller_profile_dup copies it into the other leg's copy). */
  direction?: 'inbound' | 'outbound';
  /** Set when a new profile is stepped in (switch_channel_set_caller_profile copies the channel's). */
  logicalDirection?: 'inbound' | 'outbound';
}

/** Channel timetable in microseconds since the epoch (0 = not happened). */
export interface ChannelTimes {
  profileCreated: number;
  created: number;
  answered: number;
  progress: number;
  progressMedia: number;
  hungup: number;
  transferred: number;
  resurrected: number;
  bridged: number;
  lastHold: number;
  holdAccum: number;
}

/** A sendmsg queued to a channel (a "private event" in FreeSWITCH). */
export interface PrivateMessage {
  command: Command;
  /** The raw command text, echoed in PRIVATE_COMMAND events. */
  line: string;
}

/** How a running application ended its wait: ran its full time, the channel hung up, or it was broken. */
export type WaitResult = 'done' | 'hangup' | 'break';

/** Read-only view of a live channel for tests. */
export interface ChannelInfo {
  uuid: string;
  name: string;
  direction: 'inbound' | 'outbound';
  state: ChannelState;
  callState: CallState;
  answerState: 'ringing' | 'early' | 'answered' | 'hangup';
  hangupCause: string | undefined;
  destinationNumber: string;
  callerIdName: string;
  callerIdNumber: string;
  /** Channel variables, in FreeSWITCH's order. */
  variables: Record<string, string>;
  /** UUID of the bridged partner, if any. */
  bridgedTo: string | undefined;
  /** Name of the application running now, if any. */
  application: string | undefined;
}

/** Columns of the core db's `channels` table, in order (switch_core_sqldb.c:2853 create_channels_sql, v1.10.12). */
export const CHANNEL_COLUMNS = [
  'uuid', 'direction', 'created', 'created_epoch', 'name', 'state', 'cid_name', 'cid_num', 'ip_addr', 'dest',
  'application', 'application_data', 'dialplan', 'context', 'read_codec', 'read_rate', 'read_bit_rate',
  'write_codec', 'write_rate', 'write_bit_rate', 'secure', 'hostname', 'presence_id', 'presence_data',
  'accountcode', 'callstate', 'callee_name', 'callee_num', 'callee_direction', 'call_uuid', 'sent_callee_name',
  'sent_callee_num', 'initial_cid_name', 'initial_cid_num', 'initial_ip_addr', 'initial_dest',
  'initial_dialplan', 'initial_context',
] as const;
export type ChannelColumn = (typeof CHANNEL_COLUMNS)[number];
/** A `channels` row; a column no event has written yet is NULL (undefined). */
export type ChannelRow = Partial<Record<ChannelColumn, string>>;
/** The `calls` columns the views read (switch_core_sqldb.c:2937 create_calls_sql): one row per CHANNEL_BRIDGE. */
export interface CallRow {
  callUuid: string;
  createdEpoch: string;
  callerUuid: string;
  calleeUuid: string;
}

/** CHANNEL_STATE for these writes nothing (CS_HANGUP only with SWITCH_DEPRECATED_CORE_DB, off by default). */
const STATES_NOT_STORED = new Set<number>([
  CHANNEL_STATES.CS_NEW, CHANNEL_STATES.CS_INIT, CHANNEL_STATES.CS_HANGUP, CHANNEL_STATES.CS_REPORTING, CHANNEL_STATES.CS_DESTROY,
]);

/** The event types core_event_handler writes the channels/calls tables for (switch_core_sqldb.c:2449-2735). */
const TABLE_EVENTS = new Set([
  'CHANNEL_CREATE', 'CHANNEL_DESTROY', 'CHANNEL_ANSWER', 'CHANNEL_PROGRESS_MEDIA', 'CODEC', 'CHANNEL_HOLD',
  'CHANNEL_UNHOLD', 'CHANNEL_EXECUTE', 'CHANNEL_ORIGINATE', 'CALL_UPDATE', 'CHANNEL_CALLSTATE', 'CHANNEL_STATE',
  'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE',
]);

/** switch_event_get_header_nil: the first value (any case), or ''. */
const hdr = (ev: SimEvent, name: string): string => ev.get(name) ?? '';

/**
 * The core db's `channels` and `calls` tables, which `show channels|calls|…` read. As in
 * switch_core_sqldb.c:2373 core_event_handler, only events fill them: a column holds what the last
 * event that writes it carried (so call_uuid stays NULL on a loopback B leg, which gets no
 * CHANNEL_ORIGINATE). Real FreeSWITCH applies the SQL 0.1–0.7 s later; here it is immediate.
 */
export class CoreDb {
  /** Rows in insertion (rowid) order. */
  readonly channels = new Set<ChannelRow>();
  readonly calls: CallRow[] = [];
  private readonly byUuid = new Map<string, ChannelRow>();

  constructor(private readonly switchname: string) {}

  /** `update channels set … where uuid=…` */
  private update(uuid: string, cols: ChannelRow): void {
    const row = this.byUuid.get(uuid);
    if (row) Object.assign(row, cols);
  }

  private dropCalls(uuid: string): void {
    for (let i = this.calls.length - 1; i >= 0; i--) {
      const c = this.calls[i]!;
      if (c.callerUuid === uuid || c.calleeUuid === uuid) this.calls.splice(i, 1);
    }
  }

  /** core_event_handler's SQL for one event (CHANNEL_UUID, CALL_SECURE and presence-data-cols are not simulated). */
  apply(ev: SimEvent): void {
    if (!TABLE_EVENTS.has(ev.name)) return;
    const uuid = hdr(ev, 'Unique-ID');
    switch (ev.name) {
      case 'CHANNEL_CREATE': {
        const row: ChannelRow = {
          uuid, direction: hdr(ev, 'Call-Direction'), created: hdr(ev, 'Event-Date-Local'),
          created_epoch: String(Math.floor(Date.now() / 1000)), name: hdr(ev, 'Channel-Name'),
          state: hdr(ev, 'Channel-State'), callstate: hdr(ev, 'Channel-Call-State'), dialplan: hdr(ev, 'Caller-Dialplan'),
          context: hdr(ev, 'Caller-Context'), hostname: this.switchname, initial_cid_name: hdr(ev, 'Caller-Caller-ID-Name'),
          initial_cid_num: hdr(ev, 'Caller-Caller-ID-Number'), initial_ip_addr: hdr(ev, 'Caller-Network-Addr'),
          initial_dest: hdr(ev, 'Caller-Destination-Number'), initial_dialplan: hdr(ev, 'Caller-Dialplan'),
          initial_context: hdr(ev, 'Caller-Context'),
        };
        this.channels.add(row);
        if (!this.byUuid.has(uuid)) this.byUuid.set(uuid, row);
        return;
      }
      case 'CHANNEL_DESTROY': {
        if (uuid === '') return;
        const row = this.byUuid.get(uuid);
        if (row) this.channels.delete(row);
        this.byUuid.delete(uuid);
        this.dropCalls(uuid);
        return;
      }
      case 'CHANNEL_ANSWER':
      case 'CHANNEL_PROGRESS_MEDIA':
      case 'CODEC':
        this.update(uuid, {
          read_codec: hdr(ev, 'Channel-Read-Codec-Name'), read_rate: hdr(ev, 'Channel-Read-Codec-Rate'),
          read_bit_rate: hdr(ev, 'Channel-Read-Codec-Bit-Rate'), write_codec: hdr(ev, 'Channel-Write-Codec-Name'),
          write_rate: hdr(ev, 'Channel-Write-Codec-Rate'), write_bit_rate: hdr(ev, 'Channel-Write-Codec-Bit-Rate'),
        });
        return;
      case 'CHANNEL_HOLD':
      case 'CHANNEL_UNHOLD':
      case 'CHANNEL_EXECUTE':
        this.update(uuid, {
          application: hdr(ev, 'Application'), application_data: hdr(ev, 'Application-Data'),
          presence_id: hdr(ev, 'Channel-Presence-ID'), presence_data: hdr(ev, 'Channel-Presence-Data'),
          accountcode: hdr(ev, 'variable_accountcode'),
        });
        return;
      case 'CHANNEL_ORIGINATE':
        // With CHANNEL_BRIDGE, the only writer of call_uuid (switch_core_sqldb.c:2527).
        this.update(uuid, {
          presence_id: hdr(ev, 'Channel-Presence-ID'), presence_data: hdr(ev, 'Channel-Presence-Data'),
          accountcode: hdr(ev, 'variable_accountcode'), call_uuid: hdr(ev, 'Channel-Call-UUID'),
        });
        return;
      case 'CALL_UPDATE':
        // The only writer of callee_direction: RECV on a loopback A leg once its B leg answers (switch_core_sqldb.c:2552).
        this.update(uuid, {
          callee_name: hdr(ev, 'Caller-Callee-ID-Name'), callee_num: hdr(ev, 'Caller-Callee-ID-Number'),
          sent_callee_name: hdr(ev, 'Sent-Callee-ID-Name'), sent_callee_num: hdr(ev, 'Sent-Callee-ID-Number'),
          callee_direction: hdr(ev, 'Direction'), cid_name: hdr(ev, 'Caller-Caller-ID-Name'),
          cid_num: hdr(ev, 'Caller-Caller-ID-Number'),
        });
        return;
      case 'CHANNEL_CALLSTATE': {
        // DOWN and HANGUP are not stored (switch_core_sqldb.c:2567).
        const n = Number.parseInt(hdr(ev, 'Channel-Call-State-Number'), 10) || 0;
        if (n !== CALL_STATES.DOWN && n !== CALL_STATES.HANGUP) this.update(uuid, { callstate: hdr(ev, 'Channel-Call-State') });
        return;
      }
      case 'CHANNEL_STATE': {
        // A missing number counts as CS_DESTROY; only CS_ROUTING rewrites the caller columns (switch_core_sqldb.c:2592).
        const text = hdr(ev, 'Channel-State-Number');
        const n = text === '' ? CHANNEL_STATES.CS_DESTROY : Number.parseInt(text, 10) || 0;
        if (STATES_NOT_STORED.has(n)) return;
        if (n !== CHANNEL_STATES.CS_ROUTING) {
          this.update(uuid, { state: hdr(ev, 'Channel-State') });
          return;
        }
        this.update(uuid, {
          state: hdr(ev, 'Channel-State'), cid_name: hdr(ev, 'Caller-Caller-ID-Name'), cid_num: hdr(ev, 'Caller-Caller-ID-Number'),
          callee_name: hdr(ev, 'Caller-Callee-ID-Name'), callee_num: hdr(ev, 'Caller-Callee-ID-Number'),
          sent_callee_name: hdr(ev, 'Sent-Callee-ID-Name'), sent_callee_num: hdr(ev, 'Sent-Callee-ID-Number'),
          ip_addr: hdr(ev, 'Caller-Network-Addr'), dest: hdr(ev, 'Caller-Destination-Number'), dialplan: hdr(ev, 'Caller-Dialplan'),
          context: hdr(ev, 'Caller-Context'), presence_id: hdr(ev, 'Channel-Presence-ID'),
          presence_data: hdr(ev, 'Channel-Presence-Data'), accountcode: hdr(ev, 'variable_accountcode'),
        });
        return;
      }
      case 'CHANNEL_BRIDGE': {
        let a = hdr(ev, 'Bridge-A-Unique-ID');
        let b = hdr(ev, 'Bridge-B-Unique-ID');
        if (a === '' || b === '') {
          a = hdr(ev, 'Caller-Unique-ID');
          b = hdr(ev, 'Other-Leg-Unique-ID');
        }
        // Both legs take the A leg's call uuid, and a calls row joins them (switch_core_sqldb.c:2687).
        const callUuid = hdr(ev, 'Channel-Call-UUID');
        this.update(a, { call_uuid: callUuid });
        this.update(b, { call_uuid: callUuid });
        this.calls.push({ callUuid, createdEpoch: String(Math.floor(Date.now() / 1000)), callerUuid: a, calleeUuid: b });
        return;
      }
      case 'CHANNEL_UNBRIDGE': {
        // Each leg gets its own uuid back as call_uuid (switch_core_sqldb.c:2721).
        const callUuid = hdr(ev, 'Channel-Call-UUID');
        for (const row of this.channels) if (row.call_uuid === callUuid) row.call_uuid = row.uuid;
        this.dropCalls(hdr(ev, 'Caller-Unique-ID'));
        return;
      }
      default:
        return;
    }
  }

  /** The `channels` row of a uuid. */
  channel(uuid: string): ChannelRow | undefined {
    return this.byUuid.get(uuid);
  }
}

const coreDbs = new WeakMap<SimCore, CoreDb>();

/** The core db of a simulator (created on first use: its first channel, or a `show`). */
export function coreDb(core: SimCore): CoreDb {
  let db = coreDbs.get(core);
  if (!db) {
    db = new CoreDb(core.options.switchname);
    coreDbs.set(core, db);
  }
  return db;
}

/**
 * A simulated call leg: FreeSWITCH's session + channel. State changes fire the same events, with
 * the same header sets, as switch_channel.c / switch_core_state_machine.c do.
 */
export class Channel {
  /** Changes once at most, before CHANNEL_OUTGOING (origination_uuid: setUuid). */
  uuid: string;
  readonly direction: 'inbound' | 'outbound';
  name: string;
  /** channel->running_state, shown as Channel-State. */
  runningState: ChannelState = 'CS_NONE';
  /** channel->state (the requested state), shown as Channel-State-Number. */
  state: ChannelState = 'CS_NEW';
  callState: CallState = 'DOWN';
  answered = false;
  early = false;
  hangupCause: string | undefined;
  /** CF_DIALPLAN: the channel went through a dialplan (Channel-HIT-Dialplan). */
  hitDialplan: boolean;
  /** Set once the caller profile exists; CODEC events before that carry no Caller-* headers. */
  hasProfile = false;
  readonly variables = new Map<string, string>();
  /** Variables exported with the `export` application, copied to legs this channel dials. */
  readonly exports = new Map<string, string>();
  readonly profile: CallerProfile;
  readonly times: ChannelTimes;
  otherLeg: { type: 'originator' | 'originatee'; profile: CallerProfile } | undefined;
  partner: Channel | undefined;
  /**
   * A uuid_bridge this channel is being moved into (switch_ivr_uuid_bridge): the other leg, whether this
   * is the originator (CF_UUID_BRIDGE_ORIGINATOR), and how far each side got.
   */
  uuidBridge: { other: Channel; originator: boolean; soft: boolean; done: boolean } | undefined;
  /** Set when the loopback pair was unlinked under a media application: it fails, then the leg hangs up with this cause. */
  mediaLostCause: string | undefined;
  /** Runs right after CHANNEL_HANGUP_COMPLETE (what another thread does meanwhile, before CHANNEL_DESTROY). */
  afterHangupComplete: (() => void) | undefined;
  /** While bridged: CF_BRIDGE_ORIGINATOR (the side that bridged) or only CF_BRIDGED (the other side). */
  bridgeRole: 'originator' | 'originatee' | undefined;
  /** The dialplan applications still to run (the caller extension). */
  extension: Array<{ app: string; arg: string }> = [];
  /** Connections whose listener holds this session (controlling socket, `myevents <uuid>`): CHANNEL_DESTROY waits for them. */
  readonly holders = new Set<object>();
  /** CF_CONTROLLED: an async outbound socket owns the channel (park runs until it clears). */
  controlled = false;
  /** CF_EVENT_LOCK: queued messages are not picked up by running applications. */
  eventLock = false;
  /** CF_DIVERT_EVENTS. */
  divertEvents = false;
  /** The session's own event queue (sendevent with this Unique-ID). */
  readonly sessionEvents: SimEvent[] = [];
  /** Scripted DTMF digits waiting to be "pressed" (play_and_get_digits, read). */
  readonly dtmf: string[] = [];
  currentApplication: string | undefined;
  /**
   * Simulated media time this channel has spent waiting, in ms before timeScale. Timing rules of
   * FreeSWITCH (like the 0.5 s loop rule) use it, so they hold however loaded the test machine is.
   */
  simulatedMs = 0;
  /** Set while the channel is being destroyed / gone. */
  destroyed = false;
  /** Resolves when the channel is destroyed. */
  readonly gone: Promise<void>;

  private readonly queue: PrivateMessage[] = [];
  private readonly wakers = new Set<() => void>();
  private breakRequested = false;
  private resolveGone!: () => void;
  private hangupStarted = false;
  private readonly sessionId: number;
  private readonly db: CoreDb;

  constructor(
    readonly core: SimCore,
    init: {
      uuid?: string;
      name: string;
      direction: 'inbound' | 'outbound';
      profile: Omit<CallerProfile, 'uuid' | 'channelName' | 'profileIndex' | 'origCallerIdName' | 'origCallerIdNumber'> &
        Partial<Pick<CallerProfile, 'origCallerIdName' | 'origCallerIdNumber'>>;
    },
  ) {
    this.uuid = init.uuid ?? newUuid();
    this.name = init.name;
    this.direction = init.direction;
    this.hitDialplan = init.direction === 'inbound';
    const now = nowMicros();
    this.profile = {
      ...init.profile,
      origCallerIdName: init.profile.origCallerIdName ?? init.profile.callerIdName,
      origCallerIdNumber: init.profile.origCallerIdNumber ?? init.profile.callerIdNumber,
      uuid: this.uuid,
      channelName: init.name,
      profileIndex: '1',
      direction: init.direction === 'inbound' ? 'inbound' : 'outbound',
    };
    this.times = {
      profileCreated: now, created: now, answered: 0, progress: 0, progressMedia: 0, hungup: 0, transferred: 0,
      resurrected: 0, bridged: 0, lastHold: 0, holdAccum: 0,
    };
    this.sessionId = core.nextSessionId();
    this.db = coreDb(core);
    this.gone = new Promise((resolve) => (this.resolveGone = resolve));
  }

  // ---------------------------------------------------------------- variables

  /** switch_channel_set_variable: setting moves the variable to the end; empty/undefined deletes it. */
  setVar(name: string, value: string | number | undefined | null): void {
    this.variables.delete(name);
    if (value === undefined || value === null) return;
    const v = String(value);
    if (v !== '') this.variables.set(name, v);
  }

  getVar(name: string): string | undefined {
    return this.variables.get(name);
  }

  /** Sets the variables every new session gets (switch_core_session_request_uuid and friends). */
  initVariables(extra: Iterable<[string, string]>, order: 'outbound' | 'inbound', beforeName: Iterable<[string, string]> = []): void {
    this.setVar('direction', this.direction);
    if (order === 'outbound') this.setVar('is_outbound', 'true');
    this.setVar('uuid', this.uuid);
    this.setVar('call_uuid', this.uuid);
    this.setVar('session_id', this.sessionId);
    // Loopback A legs get read/write codec vars before channel_name; B legs after (captures).
    if (order === 'outbound') {
      this.setCodecVars();
      for (const [k, v] of beforeName) this.setVar(k, v);
      this.setVar('channel_name', this.name);
    } else {
      this.setVar('channel_name', this.name);
      this.setCodecVars();
    }
    for (const [k, v] of extra) this.setVar(k, v);
  }

  /**
   * switch_core_session_set_uuid (switch_core_session.c:2030): the uuid and call_uuid variables are set
   * again (so they move to the end), then CHANNEL_UUID with Old-Unique-ID.
   */
  setUuid(uuid: string): void {
    const old = this.uuid;
    this.uuid = uuid;
    this.profile.uuid = uuid;
    this.setVar('uuid', uuid);
    this.setVar('call_uuid', uuid);
    this.fire('CHANNEL_UUID', SITES.channelUuid, { before: [['Old-Unique-ID', old]] });
  }

  private setCodecVars(): void {
    this.setVar('read_codec', 'L16');
    this.setVar('read_rate', '8000');
    this.setVar('write_codec', 'L16');
    this.setVar('write_rate', '8000');
  }

  /** ${var} expansion of application arguments (switch_channel_expand_variables, simple form). */
  expand(text: string): string {
    if (!text.includes('${')) return text;
    return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => this.variables.get(name) ?? this.core.globalVars.get(name) ?? '');
  }

  // ---------------------------------------------------------------- status

  get ready(): boolean {
    return this.hangupCause === undefined;
  }

  get answerState(): 'ringing' | 'early' | 'answered' | 'hangup' {
    if (this.hangupCause !== undefined) return 'hangup';
    if (this.answered) return 'answered';
    if (this.early) return 'early';
    return 'ringing';
  }

  info(): ChannelInfo {
    return {
      uuid: this.uuid,
      name: this.name,
      direction: this.direction,
      state: this.runningState,
      callState: this.callState,
      answerState: this.answerState,
      hangupCause: this.hangupCause,
      destinationNumber: this.profile.destinationNumber,
      callerIdName: this.profile.callerIdName,
      callerIdNumber: this.profile.callerIdNumber,
      variables: Object.fromEntries(this.variables),
      bridgedTo: this.partner?.uuid,
      application: this.currentApplication,
    };
  }

  // ---------------------------------------------------------------- events

  /** Appends the caller profile with a prefix (switch_caller_profile_event_set_data). */
  addProfile(ev: SimEvent, prefix: string, p: CallerProfile = this.profile, times: ChannelTimes | undefined = this.times): void {
    ev.add(`${prefix}-Direction`, p.direction ?? (this.direction === 'inbound' ? 'inbound' : 'outbound'));
    // A copy of the other leg's profile (switch_caller_profile_dup) keeps neither its logical direction
    // (so inbound, the zero value), its transfer source nor its index.
    const other = prefix === 'Other-Leg';
    ev.add(`${prefix}-Logical-Direction`, other ? 'inbound' : (p.logicalDirection ?? (this.direction === 'inbound' ? 'inbound' : 'outbound')));
    ev.add(`${prefix}-Username`, p.username);
    ev.add(`${prefix}-Dialplan`, p.dialplan);
    ev.add(`${prefix}-Caller-ID-Name`, p.callerIdName);
    ev.add(`${prefix}-Caller-ID-Number`, p.callerIdNumber);
    // The Orig-* fields are written only when the current name/number is set (switch_caller.c).
    if (p.callerIdName) ev.add(`${prefix}-Orig-Caller-ID-Name`, p.origCallerIdName);
    if (p.callerIdNumber) ev.add(`${prefix}-Orig-Caller-ID-Number`, p.origCallerIdNumber);
    ev.add(`${prefix}-Callee-ID-Name`, p.calleeIdName);
    ev.add(`${prefix}-Callee-ID-Number`, p.calleeIdNumber);
    ev.add(`${prefix}-Network-Addr`, p.networkAddr);
    ev.add(`${prefix}-ANI`, p.ani);
    ev.add(`${prefix}-ANI-II`, p.aniii);
    ev.add(`${prefix}-Destination-Number`, p.destinationNumber);
    ev.add(`${prefix}-Unique-ID`, p.uuid);
    ev.add(`${prefix}-Source`, p.source);
    if (!other) ev.add(`${prefix}-Transfer-Source`, p.transferSource);
    ev.add(`${prefix}-Context`, p.context);
    ev.add(`${prefix}-RDNIS`, p.rdnis);
    ev.add(`${prefix}-Channel-Name`, p.channelName);
    if (!other) ev.add(`${prefix}-Profile-Index`, p.profileIndex);
    if (times) {
      ev.add(`${prefix}-Profile-Created-Time`, times.profileCreated);
      ev.add(`${prefix}-Channel-Created-Time`, times.created);
      ev.add(`${prefix}-Channel-Answered-Time`, times.answered);
      ev.add(`${prefix}-Channel-Progress-Time`, times.progress);
      ev.add(`${prefix}-Channel-Progress-Media-Time`, times.progressMedia);
      ev.add(`${prefix}-Channel-Hangup-Time`, times.hungup);
      ev.add(`${prefix}-Channel-Transfer-Time`, times.transferred);
      ev.add(`${prefix}-Channel-Resurrect-Time`, times.resurrected);
      ev.add(`${prefix}-Channel-Bridged-Time`, times.bridged);
      ev.add(`${prefix}-Channel-Last-Hold`, times.lastHold);
      ev.add(`${prefix}-Channel-Hold-Accum`, times.holdAccum);
    }
    ev.add(`${prefix}-Screen-Bit`, 'true');
    ev.add(`${prefix}-Privacy-Hide-Name`, 'false');
    ev.add(`${prefix}-Privacy-Hide-Number`, 'false');
  }

  /** switch_channel_event_set_basic_data. */
  addBasicData(ev: SimEvent, codecs: 'both' | 'read' = 'both'): void {
    ev.add('Channel-State', this.runningState);
    ev.add('Channel-Call-State', this.callState);
    ev.add('Channel-State-Number', CHANNEL_STATES[this.state]);
    ev.add('Channel-Name', this.name);
    ev.add('Unique-ID', this.uuid);
    ev.add('Call-Direction', this.direction);
    ev.add('Presence-Call-Direction', this.direction);
    ev.add('Channel-HIT-Dialplan', this.hitDialplan ? 'true' : 'false');
    ev.add('Channel-Presence-ID', this.variables.get('presence_id'));
    ev.add('Channel-Presence-Data', this.variables.get('presence_data'));
    ev.add('Channel-Call-UUID', this.variables.get('call_uuid') ?? this.uuid);
    ev.add('Answer-State', this.answerState);
    ev.add('Hangup-Cause', this.hangupCause);
    ev.add('Channel-Read-Codec-Name', 'L16');
    ev.add('Channel-Read-Codec-Rate', '8000');
    ev.add('Channel-Read-Codec-Bit-Rate', '128000');
    if (codecs === 'both') {
      ev.add('Channel-Write-Codec-Name', 'L16');
      ev.add('Channel-Write-Codec-Rate', '8000');
      ev.add('Channel-Write-Codec-Bit-Rate', '128000');
    }
    if (this.hasProfile) {
      this.addProfile(ev, 'Caller');
      if (this.otherLeg) {
        ev.add('Other-Type', this.otherLeg.type);
        this.addProfile(ev, 'Other-Leg', this.otherLeg.profile, undefined);
      }
    }
  }

  /** switch_channel_event_set_extended_data: variable_* for the event types that get them. */
  addExtendedData(ev: SimEvent): void {
    if (!EVENTS_WITH_VARIABLES.has(ev.name) && !this.core.options.verboseEvents) return;
    for (const [k, v] of this.variables) ev.add(`variable_${k}`, v);
  }

  /** Creates an event of this channel: standard headers, `before` headers, channel data, `after` headers. */
  event(name: string, site: CallSite, extra?: { before?: Array<[string, string | undefined]>; after?: Array<[string, string | undefined]> }): SimEvent {
    const ev = this.core.factory.create(name, site);
    for (const [k, v] of extra?.before ?? []) ev.add(k, v);
    this.addBasicData(ev);
    this.addExtendedData(ev);
    for (const [k, v] of extra?.after ?? []) ev.add(k, v);
    return ev;
  }

  fire(name: string, site: CallSite, extra?: { before?: Array<[string, string | undefined]>; after?: Array<[string, string | undefined]> }): void {
    this.emit(this.event(name, site, extra));
  }

  /** Fires one of this channel's events; the core db takes it too (core_event_handler is bound to these event types). */
  private emit(ev: SimEvent): void {
    this.db.apply(ev);
    this.core.fire(ev);
  }

  /** The two CODEC events every new session fires (read codec, then write codec), with their odd extra headers. */
  fireCodecEvents(): void {
    const read = this.core.factory.create('CODEC', SITES.codecRead);
    this.addBasicData(read, 'read');
    read.add('channel-read-codec-name', 'L16');
    read.add('channel-read-codec-rate', '8000');
    read.add('channel-read-codec-bit-rate', '128000');
    this.emit(read);
    const write = this.core.factory.create('CODEC', SITES.codecWrite);
    this.addBasicData(write);
    // The real event repeats the write codec headers, the last one with odd casing (capture).
    write.add('Channel-Write-Codec-Name', 'L16');
    write.add('Channel-Write-Codec-Rate', '8000');
    write.add('Channel-Write-codec-bit-rate', '128000');
    this.emit(write);
  }

  /** switch_channel_perform_set_running_state: CHANNEL_STATE fires on every running-state change. */
  setRunningState(state: ChannelState): void {
    this.state = state;
    this.runningState = state;
    this.fire('CHANNEL_STATE', SITES.state);
  }

  /** switch_channel_perform_set_callstate: CHANNEL_CALLSTATE with the previous state first. */
  setCallState(state: CallState): void {
    if (this.callState === state) return;
    const original = this.callState;
    this.callState = state;
    this.fire('CHANNEL_CALLSTATE', SITES.callstate, {
      before: [
        ['Original-Channel-Call-State', original],
        ['Channel-Call-State-Number', String(CALL_STATES[state])],
      ],
    });
  }

  // ---------------------------------------------------------------- call progress

  /** switch_channel_mark_ring_ready: CHANNEL_PROGRESS. */
  markRinging(): void {
    if (!this.ready || this.answered || this.early || this.times.progress) return;
    this.times.progress = nowMicros();
    this.fire('CHANNEL_PROGRESS', SITES.ringReady);
    this.setCallState('RINGING');
  }

  /** switch_channel_mark_pre_answered: CHANNEL_PROGRESS_MEDIA, endpoint_disposition EARLY MEDIA. */
  preAnswer(): boolean {
    if (!this.ready) return false;
    if (this.answered || this.early) return true;
    this.early = true;
    // The endpoint hears of it first (SWITCH_MESSAGE_INDICATE_PROGRESS): a loopback B leg marks its A leg
    // pre-answered before its own events (mod_loopback.c channel_receive_message).
    this.core.channelPreAnswered(this);
    this.times.progressMedia = nowMicros();
    this.setVar('endpoint_disposition', 'EARLY MEDIA');
    this.fire('CHANNEL_PROGRESS_MEDIA', SITES.preAnswer);
    this.setCallState('EARLY');
    return true;
  }

  /** switch_channel_mark_answered: CHANNEL_ANSWER then CHANNEL_CALLSTATE ACTIVE. */
  answer(): boolean {
    if (!this.ready) return false;
    if (this.answered) return true;
    this.answered = true;
    this.times.answered = nowMicros();
    this.fire('CHANNEL_ANSWER', SITES.answer);
    // Set after the event: CHANNEL_ANSWER in the captures has no variable_endpoint_disposition.
    this.setVar('endpoint_disposition', 'ANSWER');
    this.setCallState('ACTIVE');
    this.core.channelAnswered(this);
    this.poke();
    return true;
  }

  /**
   * switch_channel_flip_cid (switch_channel.c:3236): caller and callee ids swap (the Orig-* ids stay),
   * CF_DIALPLAN is set, CALL_UPDATE Direction RECV. switch_channel_sort_cid does it once for an
   * outbound channel when it gets an extension (switch_channel_set_caller_extension): an originate's
   * A leg, never a leg dialled by bridge. Only loopback legs are flipped here: those are what the
   * captures show; sim/ legs keep the caller id tests and tools rely on.
   */
  flipCid(): void {
    if (this.direction !== 'outbound' || this.profile.source !== 'mod_loopback' || this.getVar('channel_cid_flipped') !== undefined) return;
    const p = this.profile;
    this.setVar('pre_transfer_caller_id_name', p.callerIdName);
    this.setVar('pre_transfer_caller_id_number', p.callerIdNumber);
    [p.callerIdName, p.calleeIdName] = [p.calleeIdName ?? '', p.callerIdName];
    [p.callerIdNumber, p.calleeIdNumber] = [p.calleeIdNumber ?? '', p.callerIdNumber];
    this.hitDialplan = true;
    this.setVar('channel_cid_flipped', 'yes');
    this.fire('CALL_UPDATE', SITES.callUpdate, { before: [['Direction', 'RECV'], ['Bridged-To', this.partner?.uuid]] });
  }

  // ---------------------------------------------------------------- waiting, messages

  /** Wakes whatever the channel is waiting on (hangup, new message, break). */
  poke(): void {
    for (const w of [...this.wakers]) w();
  }

  private registerWaker = (wake: () => void): (() => void) => {
    this.wakers.add(wake);
    return () => this.wakers.delete(wake);
  };

  /** Waits for a poke of this channel or of any of `others` (or `ms`); true if the full time elapsed. */
  waitSignal(ms = Infinity, ...others: Channel[]): Promise<boolean> {
    if (others.length === 0) return this.core.timers.sleep(ms, this.registerWaker);
    return this.core.timers.sleep(ms, (wake) => {
      const unregister = [this, ...others].map((c) => c.registerWaker(wake));
      return () => {
        for (const off of unregister) off();
      };
    });
  }

  /** uuid_break / CF_BREAK: ends the running media application. */
  requestBreak(): void {
    this.breakRequested = true;
    this.poke();
  }

  consumeBreak(): boolean {
    const b = this.breakRequested;
    this.breakRequested = false;
    return b;
  }

  /** switch_core_session_queue_private_event: queues a sendmsg and wakes the channel (SIG_BREAK). */
  queueMessage(msg: PrivateMessage): void {
    this.queue.push(msg);
    this.poke();
  }

  get pendingMessages(): number {
    return this.queue.length;
  }

  /** Takes the next queued message, if the event lock allows it. */
  nextMessage(): PrivateMessage | undefined {
    if (this.eventLock) return undefined;
    return this.queue.shift();
  }

  /** Drops queued messages (channel gone). */
  flushMessages(): void {
    this.queue.length = 0;
  }

  /**
   * Waits `ms` of simulated media time. While waiting, queued messages are run nested inside
   * (switch_ivr_parse_all_events inside playback/sleep loops) unless the event lock is set; the
   * clock stops while they run. Ends early on hangup or a break.
   */
  async mediaWait(ms: number, parseEvents = true): Promise<WaitResult> {
    let remaining = ms;
    const scale = this.core.options.timeScale || 1;
    for (;;) {
      if (!this.ready || this.mediaLostCause !== undefined) return 'hangup';
      if (this.consumeBreak()) return 'break';
      if (parseEvents) {
        const msg = this.nextMessage();
        if (msg) {
          await this.core.runMessage(this, msg, true);
          continue;
        }
      }
      if (remaining <= 0) return 'done';
      const started = performance.now();
      const full = await this.waitSignal(remaining);
      if (this.core.stopped) return 'hangup';
      const spent = full ? remaining : Math.min(remaining, performance.now() - started);
      if (Number.isFinite(spent)) this.simulatedMs += spent / scale;
      remaining = full ? 0 : remaining - spent;
    }
  }

  // ---------------------------------------------------------------- hangup

  /**
   * switch_channel_perform_hangup: marks the channel down and fires CHANNEL_HANGUP; the session
   * loop then finishes the running application and walks CS_HANGUP → CS_REPORTING → CS_DESTROY.
   */
  hangup(cause = 'NORMAL_CLEARING'): boolean {
    if (this.hangupCause !== undefined) return false;
    this.hangupCause = cause;
    this.times.hungup = nowMicros();
    this.state = 'CS_HANGUP';
    // switch_channel_perform_hangup (switch_channel.c:3428): the bridge partner learns the cause, and this
    // side records its role, before CHANNEL_HANGUP.
    this.partner?.setVar('last_bridge_hangup_cause', cause);
    if (this.bridgeRole) this.setVar('last_bridge_role', this.bridgeRole);
    this.fire('CHANNEL_HANGUP', SITES.hangup);
    this.poke();
    this.core.channelHungUp(this);
    return true;
  }

  /**
   * The end of the session thread: CS_HANGUP, CS_REPORTING (CDR variables, CHANNEL_HANGUP_COMPLETE),
   * then CHANNEL_DESTROY once no listener holds the session any more.
   */
  async finishHangup(): Promise<void> {
    if (this.hangupStarted) return;
    this.hangupStarted = true;
    if (this.hangupCause === undefined) this.hangup('NORMAL_CLEARING');
    this.setRunningState('CS_HANGUP');
    this.setCallState('HANGUP');
    this.setRunningState('CS_REPORTING');
    this.setCdrVariables();
    this.fire('CHANNEL_HANGUP_COMPLETE', SITES.hangupComplete, { before: [['Hangup-Cause', this.hangupCause!]] });
    this.afterHangupComplete?.();
    this.afterHangupComplete = undefined;
    // A listener's read lock keeps the session alive: DESTROY waits for controlling sockets (MES listener_run).
    while (this.holders.size > 0 && !this.core.stopped) await this.waitSignal();
    this.flushMessages();
    this.state = 'CS_DESTROY';
    this.fire('CHANNEL_DESTROY', SITES.destroy);
    this.runningState = 'CS_DESTROY';
    this.fire('CHANNEL_STATE', SITES.state);
    this.destroyed = true;
    this.core.channelDestroyed(this);
    this.resolveGone();
  }

  /** Releases a listener's hold on the session (it closed). */
  release(holder: object): void {
    if (this.holders.delete(holder)) this.poke();
  }

  /** The CDR variables switch_core_session_reporting_state sets before CHANNEL_HANGUP_COMPLETE. */
  private setCdrVariables(): void {
    const cause = this.hangupCause ?? 'NORMAL_CLEARING';
    const t = this.times;
    const end = t.hungup || nowMicros();
    const stamp = (us: number): string => localStamp(new Date(Math.floor(us / 1000)));
    const sec = (us: number): number => Math.floor(us / 1_000_000);
    this.setVar('hangup_cause', cause);
    this.setVar('hangup_cause_q850', q850(cause));
    this.setVar('digits_dialed', this.getVar('digits_dialed') ?? 'none');
    this.setVar('start_stamp', stamp(t.created));
    this.setVar('profile_start_stamp', stamp(t.profileCreated));
    if (t.answered) this.setVar('answer_stamp', stamp(t.answered));
    if (t.bridged) this.setVar('bridge_stamp', stamp(t.bridged));
    if (t.progress) this.setVar('progress_stamp', stamp(t.progress));
    if (t.progressMedia) this.setVar('progress_media_stamp', stamp(t.progressMedia));
    this.setVar('end_stamp', stamp(end));
    const pairs: Array<[string, number]> = [
      ['start', t.created], ['profile_start', t.profileCreated], ['answer', t.answered], ['bridge', t.bridged],
      ['last_hold', t.lastHold],
    ];
    for (const [k, us] of pairs) {
      this.setVar(`${k}_epoch`, sec(us));
      this.setVar(`${k}_uepoch`, us);
    }
    this.setVar('hold_accum_seconds', sec(t.holdAccum));
    this.setVar('hold_accum_usec', t.holdAccum);
    this.setVar('hold_accum_ms', Math.floor(t.holdAccum / 1000));
    for (const [k, us] of [['resurrect', t.resurrected], ['progress', t.progress], ['progress_media', t.progressMedia], ['end', end]] as Array<[string, number]>) {
      this.setVar(`${k}_epoch`, sec(us));
      this.setVar(`${k}_uepoch`, us);
    }
    this.setVar('last_app', this.getVar('current_application'));
    this.setVar('last_arg', this.getVar('current_application_data'));
    const p = this.profile;
    this.setVar('caller_id', p.callerIdName ? `"${p.callerIdName}" <${p.callerIdNumber}>` : p.callerIdNumber);
    const since = (from: number): number => (from ? Math.max(0, end - from) : 0);
    const wait = (at: number): number => (at ? Math.max(0, at - t.created) : 0);
    const durations: Array<[string, number]> = [
      ['duration', end - t.created], ['bill', since(t.answered)], ['progress', wait(t.progress)],
      ['answer', wait(t.answered)], ['wait', wait(t.answered)], ['progress_media', wait(t.progressMedia)],
      ['flow_bill', since(t.answered)],
    ];
    const name = (base: string, unit: string): string => (base === 'duration' ? `${unit === 'sec' ? '' : unit === 'msec' ? 'm' : 'u'}duration` : `${base}${unit}`);
    for (const unit of ['sec', 'msec', 'usec']) {
      for (const [base, us] of durations) {
        const v = unit === 'sec' ? Math.floor(us / 1_000_000) : unit === 'msec' ? Math.floor(us / 1000) : us;
        this.setVar(name(base, unit), v);
      }
    }
    if (this.profile.source === 'mod_loopback') this.setVar('is_loopback', '1');
  }
}
