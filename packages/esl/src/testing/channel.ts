import type { Scheduler } from './scheduler.js';
import type { Command } from '../protocol/command-reader.js';
import { q850 } from './causes.js';
import { type CallSite, type EventFactory, SITES, SimEvent, localStamp, newUuid, nowMicros } from './events.js';
import type { CoreDb } from './core-db.js';
import { expandVariables } from './expand.js';
import type { LogMeta } from './log.js';
import type { ResolvedOptions } from './options.js';
import { CALL_STATES, CHANNEL_STATES, type CallState, type ChannelState } from './states.js';
import type { TimerSet } from './timers.js';

/** Event types that carry `variable_*` headers (switch_channel_event_set_extended_data). */
const EVENTS_WITH_VARIABLES = new Set([
  'CHANNEL_CREATE', 'CHANNEL_ORIGINATE', 'CHANNEL_UUID', 'CHANNEL_ANSWER', 'CHANNEL_PARK', 'CHANNEL_UNPARK',
  'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_HANGUP',
  'CHANNEL_HANGUP_COMPLETE', 'REQUEST_PARAMS', 'CHANNEL_DATA', 'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE',
  'CHANNEL_DESTROY', 'SESSION_HEARTBEAT', 'API', 'RECORD_START', 'RECORD_STOP', 'PLAYBACK_START', 'PLAYBACK_STOP',
  'CALL_UPDATE', 'MEDIA_BUG_START', 'MEDIA_BUG_STOP', 'CHANNEL_HOLD', 'CHANNEL_UNHOLD', 'TEXT', 'CUSTOM',
]);

/**
 * The states whose standard handler switch_core_session_run calls, with the word it logs ("State
 * EXECUTE", "Standard EXECUTE") and the line of that handler's log (switch_core_state_machine.c).
 */
const STANDARD_HANDLERS: Partial<Record<ChannelState, readonly [word: string, line: number]>> = {
  CS_INIT: ['INIT', 40], CS_ROUTING: ['ROUTING', 230], CS_EXECUTE: ['EXECUTE', 323], CS_EXCHANGE_MEDIA: ['EXCHANGE_MEDIA', 391],
  CS_SOFT_EXECUTE: ['SOFT_EXECUTE', 397], CS_PARK: ['PARK', 403], CS_CONSUME_MEDIA: ['CONSUME_MEDIA', 411],
  CS_HIBERNATE: ['HIBERNATE', 417], CS_RESET: ['RESET', 182], CS_HANGUP: ['HANGUP', 59], CS_REPORTING: ['REPORTING', 168],
  CS_DESTROY: ['DESTROY', 175],
};

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

/**
 * What channels and applications need from the switch around them (implemented by Simulator).
 * Declared here, beside its main user, so that no part of the simulator imports the Simulator class.
 */
export interface SimCore {
  readonly options: ResolvedOptions;
  readonly factory: EventFactory;
  readonly timers: TimerSet;
  /** The core task scheduler (scheduled hangups). */
  readonly scheduler: Scheduler;
  readonly globalVars: Map<string, string>;
  /** The core db that `show` reads; every channel event goes through it. */
  readonly db: CoreDb;
  readonly stopped: boolean;
  /** Per-channel callbacks run when scripted DTMF arrives (digit collectors, prompts). */
  readonly dtmfListeners: Map<Channel, () => void>;
  /** Delivers an event to every subscribed connection and to `on('event')` listeners. */
  fire(event: SimEvent): void;
  nextSessionId(): number;
  /** switch_core_session_count: sessions that exist now. */
  liveSessionCount(): number;
  /** switch_core_session_id() - 1: sessions created since startup. */
  sessionsCreated(): number;
  /**
   * Takes one new session from the sessions-per-second budget; false (and a "Throttle Error!"
   * line) when it is used up and the session must not be created.
   */
  takeSession(): boolean;
  /** Registers a new channel (uuid lookup, `channels`). */
  channelCreated(ch: Channel): void;
  /** The channel with this uuid, if any (even one being destroyed). */
  channel(uuid: string): Channel | undefined;
  /** Ties the two legs of a loopback call: answer and hangup cross over. */
  linkLoopback(a: Channel, b: Channel): void;
  /** The other leg of a loopback pair, if any. */
  loopbackPeer(ch: Channel): Channel | undefined;
  channelAnswered(ch: Channel): void;
  /** A channel is being pre-answered (before its own CHANNEL_PROGRESS_MEDIA). */
  channelPreAnswered(ch: Channel): void;
  channelHungUp(ch: Channel): void;
  /** The channel fired CHANNEL_HANGUP_COMPLETE; only its destruction is left. */
  channelReported(ch: Channel): void;
  channelDestroyed(ch: Channel): void;
  /** Runs one sendmsg on a channel (switch_ivr_parse_event); `queued` for messages taken from the private queue. */
  runMessage(ch: Channel, msg: PrivateMessage, queued: boolean): Promise<void>;
  /** Emits a log line to `log` subscribers. */
  log(level: number, text: string, meta?: LogMeta): void;
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
  /** Set once CHANNEL_HANGUP_COMPLETE has fired (the end of CS_REPORTING). */
  reported = false;
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
    this.logNotice(`New Channel ${this.name} [${this.uuid}]\n`, 'switch_channel.c', 'switch_channel_set_name', 1142, false);
    this.db = core.db;
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

  /**
   * switch_channel_get_variable (switch_channel.c switch_channel_get_variable_dup): the channel's
   * variables, then a field of the caller profile by name (`aleg_`/`bleg_` for the originator's or
   * originatee's profile), then the core's global variables.
   */
  getVar(name: string): string | undefined {
    const own = this.variables.get(name);
    if (own !== undefined) return own;
    let field = name;
    let profile: CallerProfile | undefined = this.profile;
    let times: ChannelTimes | undefined = this.times;
    const leg = name.startsWith('aleg_') ? 'originator' : name.startsWith('bleg_') ? 'originatee' : undefined;
    if (leg) {
      field = name.slice(5);
      profile = this.otherLeg?.type === leg ? this.otherLeg.profile : undefined;
      times = undefined;
    }
    return (profile && profileField(profile, times, field)) ?? this.core.globalVars.get(field);
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

  /** switch_channel_expand_variables: `${var}` from {@link getVar}, `$${var}` from the globals. */
  expand(text: string): string {
    return expandVariables(text, { local: (n) => this.getVar(n), global: (n) => this.core.globalVars.get(n) });
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
    this.logDebug(
      `(${this.name}) Running State Change ${state} (Cur ${this.core.liveSessionCount()} Tot ${this.core.sessionsCreated()})\n`,
      'switch_channel.c', 'switch_channel_perform_set_running_state', 2386, true,
    );
    this.runningState = state;
    this.fire('CHANNEL_STATE', SITES.state);
    // switch_core_session_run's STATE_MACRO, then the standard state handler (switch_core_state_machine.c).
    const handler = STANDARD_HANDLERS[state];
    if (handler) {
      const [word, line] = handler;
      this.logDebug(`(${this.name}) State ${word}\n`, 'switch_core_state_machine.c', 'switch_core_session_run', 427);
      const cause = state === 'CS_HANGUP' || state === 'CS_REPORTING' ? `, cause: ${this.hangupCause ?? 'NONE'}` : '';
      this.logDebug(`${this.name} Standard ${word}${cause}\n`, 'switch_core_state_machine.c', `switch_core_standard_on_${word.toLowerCase()}`, line);
    }
  }

  /**
   * A DEBUG line of this session, as the core logs them (SWITCH_CHANNEL_SESSION_LOG: Text-Channel 3;
   * `idLog`: SWITCH_CHANNEL_ID_LOG, Text-Channel 0). Log-File/-Func/-Line name the function that
   * logs, where FreeSWITCH passes its caller's for the switch_channel.c ones.
   */
  private logDebug(text: string, file: string, func: string, line: number, idLog = false): void {
    this.core.log(7, text, { uuid: this.uuid, file, func, line, idLog });
  }

  private logNotice(text: string, file: string, func: string, line: number, idLog = true): void {
    this.core.log(5, text, { uuid: this.uuid, file, func, line, idLog });
  }

  /** switch_channel_perform_set_callstate: CHANNEL_CALLSTATE with the previous state first. */
  setCallState(state: CallState): void {
    if (this.callState === state) return;
    const original = this.callState;
    this.callState = state;
    this.logDebug(`(${this.name}) Callstate Change ${original} -> ${state}\n`, 'switch_channel.c', 'switch_channel_perform_set_callstate', 296, true);
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
    this.logNotice(`Ring-Ready ${this.name}!\n`, 'switch_channel.c', 'switch_channel_perform_mark_ring_ready_value', 3482);
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
    this.logNotice(`Pre-Answer ${this.name}!\n`, 'switch_channel.c', 'switch_channel_perform_mark_pre_answered', 3533);
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
    this.logNotice(`Channel [${this.name}] has been answered\n`, 'switch_channel.c', 'switch_channel_perform_mark_answered', 3883);
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
    this.logNotice(`Hangup ${this.name} [${this.state}] [${cause}]\n`, 'switch_channel.c', 'switch_channel_perform_hangup', 3424);
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
    this.reported = true;
    this.core.channelReported(this);
    // A listener's read lock keeps the session alive: DESTROY waits for controlling sockets (MES listener_run).
    while (this.holders.size > 0 && !this.core.stopped) await this.waitSignal();
    this.flushMessages();
    this.logNotice(`Session ${this.sessionId} (${this.name}) Ended\n`, 'switch_core_session.c', 'switch_core_session_thread', 1762, false);
    this.logNotice(`Close Channel ${this.name} [CS_DESTROY]\n`, 'switch_core_session.c', 'switch_core_session_perform_destroy', 1544);
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

/** The caller profile fields that number plans and screening report (switch_caller.c): never set here, so 0. */
const PROFILE_ZERO_FIELDS = new Set([
  'caller_ton', 'caller_numplan', 'destination_number_ton', 'destination_number_numplan', 'ani_ton', 'ani_numplan',
  'rdnis_ton', 'rdnis_numplan',
]);

/**
 * switch_caller_get_field_by_name (switch_caller.c, v1.10.12): a caller profile field by its
 * variable name, any case; undefined where FreeSWITCH's field is NULL. The *_time fields need the
 * channel's timetable (`times`).
 */
export function profileField(p: CallerProfile, times: ChannelTimes | undefined, name: string): string | undefined {
  const key = name.toLowerCase();
  if (PROFILE_ZERO_FIELDS.has(key)) return '0';
  switch (key) {
    case 'dialplan': return p.dialplan;
    case 'username': return p.username;
    case 'caller_id_name': return p.callerIdName;
    case 'caller_id_number': return p.callerIdNumber;
    case 'orig_caller_id_name': return p.origCallerIdName;
    case 'orig_caller_id_number': return p.origCallerIdNumber;
    case 'callee_id_name': return p.calleeIdName;
    case 'callee_id_number': return p.calleeIdNumber;
    case 'ani': return p.ani;
    case 'aniii': return p.aniii;
    case 'network_addr': return p.networkAddr;
    case 'rdnis': return p.rdnis;
    case 'destination_number': return p.destinationNumber;
    case 'uuid': return p.uuid;
    case 'source': return p.source;
    case 'transfer_source': return p.transferSource;
    case 'context': return p.context;
    case 'chan_name': return p.channelName;
    case 'profile_index': return p.profileIndex;
    // addProfile writes the same values (Screen-Bit, Privacy-Hide-*).
    case 'screen_bit': return 'true';
    case 'privacy_hide_name':
    case 'privacy_hide_number': return 'false';
  }
  if (!times) return undefined;
  switch (key) {
    case 'profile_created_time': return String(times.profileCreated);
    case 'created_time': return String(times.created);
    case 'answered_time': return String(times.answered);
    case 'progress_time': return String(times.progress);
    case 'progress_media_time': return String(times.progressMedia);
    case 'hungup_time': return String(times.hungup);
    case 'transferred_time': return String(times.transferred);
    default: return undefined;
  }
}
