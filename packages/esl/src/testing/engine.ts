import { Channel, type PrivateMessage, type SimCore } from './channel.js';
import { HANGUP_CAUSES, parseCause } from './causes.js';
import { SITES, SimEvent, newUuid } from './events.js';
import { separateString } from './strings.js';
import type { DialplanEntry, FarEndScript, SocketTarget } from './options.js';

/** An application: runs on a channel with its (variable-expanded) argument. */
export type AppFunction = (ch: Channel, arg: string, engine: Engine) => Promise<void> | void;

export interface AppDefinition {
  run: AppFunction;
  /** Needs media: an unanswered inbound channel is pre-answered first (switch_core_session_execute_application). */
  media?: boolean;
}

/** Result of dialling one leg (switch_ivr_originate). */
export interface DialResult {
  channel?: Channel;
  cause?: string;
  /** The caller went away while the leg rang (IDX_CANCEL in switch_ivr_originate). */
  cancelled?: boolean;
  /** The leg that was tried, when one was created (originated_legs, originate_causes). */
  leg?: Channel;
}

export interface DialOptions {
  /** Channel variables for the new leg (from `{…}` or the API). */
  variables?: Map<string, string>;
  callerIdName?: string;
  callerIdNumber?: string;
  /** Seconds before NO_ANSWER (scaled by timeScale). */
  timeoutSec?: number;
  /** The channel that dials (bridge): the new leg gets its caller id. */
  caller?: Channel;
  /** A far-end script that overrides the one derived from the dial string. */
  script?: FarEndScript;
  /** The new leg's uuid from the start (Simulator.originate); `{origination_uuid=…}` changes it later. */
  uuid?: string;
}

/**
 * Splits the leading `{a=b,c=d}` (or `[…]`) variable blocks off a dial string. As in
 * switch_event_create_brackets (switch_event.c), a block splits at `,` (switch_separate_string:
 * quotes group, `\,` escapes, `^^<c>` picks another separator) and each part at its first `=`;
 * a part without one is skipped.
 */
export function parseDialVariables(dial: string): { vars: Map<string, string>; rest: string } {
  const vars = new Map<string, string>();
  let rest = dial.trim();
  while (rest.startsWith('{') || rest.startsWith('[')) {
    const close = rest.indexOf(rest[0] === '{' ? '}' : ']');
    if (close === -1) break;
    const body = rest.slice(1, close);
    rest = rest.slice(close + 1);
    for (const part of separateString(body, 1024, ',')) {
      const [name, value] = separateString(part, 2, '=');
      if (name && value !== undefined) vars.set(name, value);
    }
  }
  return { vars, rest };
}

/** Parses a socket application argument (`<host>[:port][/path][|host2…] [async] [full]`). */
export function parseSocketArg(arg: string): { hosts: Array<{ host: string; port: number; path?: string }>; async: boolean; full: boolean } {
  const words = arg.split(' ').filter(Boolean);
  const hosts: Array<{ host: string; port: number; path?: string }> = [];
  let port = 8084; // MES socket_function default; a port carries over to the next host without one
  for (const spec of (words[0] ?? '').split('|')) {
    if (!spec) continue;
    let host = spec;
    const colon = host.lastIndexOf(':'); // split at the LAST ':' (MES strrchr)
    if (colon !== -1) {
      port = Number.parseInt(host.slice(colon + 1), 10) || 0;
      host = host.slice(0, colon);
    }
    let path: string | undefined;
    const pathAt = (colon !== -1 ? spec.slice(colon + 1) : host).indexOf('/');
    if (pathAt !== -1) {
      if (colon !== -1) path = spec.slice(colon + 1).slice(pathAt + 1);
      else {
        path = host.slice(pathAt + 1);
        host = host.slice(0, pathAt);
      }
    }
    hosts.push({ host, port, path });
  }
  let async = false;
  let full = false;
  for (const w of words.slice(1)) {
    if (w.toLowerCase() === 'async') async = true;
    else if (w.toLowerCase() === 'full') full = true;
  }
  return { hosts, async, full };
}

/** Formats a socket target as the socket application's argument. */
export function socketArg(target: string | SocketTarget): string {
  if (typeof target === 'string') return target;
  const words = [`${target.host ?? '127.0.0.1'}:${target.port}`];
  if (target.async !== false) words.push('async');
  if (target.full !== false) words.push('full');
  return words.join(' ');
}

/** Splits an `app arg` action string. */
function splitAction(action: string | readonly [string, string?]): { app: string; arg: string } {
  if (typeof action !== 'string') return { app: action[0], arg: action[1] ?? '' };
  const sp = action.indexOf(' ');
  return sp === -1 ? { app: action, arg: '' } : { app: action.slice(0, sp), arg: action.slice(sp + 1) };
}

/** Turns `sim/1000/answer-after-200/hangup-after-1000` style tokens into a script. */
export function parseScriptTokens(tokens: string[], base: FarEndScript = {}): FarEndScript {
  const s: FarEndScript = { ...base };
  for (const t of tokens) {
    let m: RegExpExecArray | null;
    if ((m = /^answer-after-(\d+)$/.exec(t))) s.answerAfterMs = Number(m[1]);
    else if ((m = /^hangup-after-(\d+)$/.exec(t))) s.hangupAfterMs = Number(m[1]);
    else if ((m = /^ring-(\d+)$/.exec(t))) s.answerAfterMs = Number(m[1]);
    else if (t === 'busy') s.busy = true;
    else if (t === 'no-answer' || t === 'noanswer') s.noAnswer = true;
    else if (t === 'early-media') s.earlyMedia = true;
    else if ((m = /^reject-([A-Za-z_0-9]+)$/.exec(t))) s.rejectCause = m[1]!.toUpperCase();
  }
  return s;
}

/**
 * Runs channels the way FreeSWITCH's session threads do: state machine, dialplan extensions,
 * applications with their EXECUTE events, sendmsg parsing, parking, originate and bridging.
 */
export class Engine {
  readonly apps = new Map<string, AppDefinition>();
  /** Registered by the simulator: runs the `socket` application (outbound ESL). */
  socketHandler: ((ch: Channel, arg: string) => Promise<void>) | undefined;

  constructor(readonly core: SimCore) {}

  register(name: string, def: AppDefinition | AppFunction): void {
    this.apps.set(name, typeof def === 'function' ? { run: def } : def);
  }

  /** Simulated duration in real ms. */
  scaled(ms: number): number {
    return ms * this.core.options.timeScale;
  }

  // ------------------------------------------------------------------ applications

  /**
   * switch_core_session_execute_application + switch_core_session_exec: unknown application →
   * hangup DESTINATION_OUT_OF_ORDER with no EXECUTE event; otherwise current_application*,
   * CHANNEL_EXECUTE, run, CHANNEL_EXECUTE_COMPLETE with Application-Response.
   */
  async executeApp(ch: Channel, app: string, rawArg: string): Promise<boolean> {
    const def = this.apps.get(app);
    if (!def) {
      this.core.log(3, `Invalid Application ${app}\n`, { file: 'switch_core_session.c', func: 'switch_core_session_execute_application_get_flags', line: 2813, uuid: ch.uuid });
      ch.hangup('DESTINATION_OUT_OF_ORDER');
      return false;
    }
    if (!ch.ready && app !== 'hangup') return false;
    if (def.media && ch.direction === 'inbound' && !ch.answered && !ch.early) ch.preAnswer();
    let appUuid = ch.getVar('app_uuid');
    if (appUuid !== undefined) ch.setVar('app_uuid', undefined);
    else appUuid = newUuid();
    const appUuidName = ch.getVar('app_uuid_name');
    if (appUuidName !== undefined) ch.setVar('app_uuid_name', undefined);
    const arg = ch.expand(rawArg);
    ch.setVar('current_application', app);
    ch.setVar('current_application_data', arg);
    ch.setVar('current_application_response', undefined);
    ch.fire('CHANNEL_EXECUTE', SITES.execute, {
      after: [['Application', app], ['Application-Data', arg], ['Application-UUID', appUuid], ['Application-UUID-Name', appUuidName]],
    });
    // switch_core_session_exec sets current_application a second time after the event.
    ch.setVar('current_application', app);
    this.core.log(6, `EXECUTE [depth=0] ${ch.name} ${app}(${arg})\n`, { uuid: ch.uuid, clean: true, file: 'switch_core_session.c', func: 'switch_core_session_exec', line: 2890 });
    const previous = ch.currentApplication;
    ch.currentApplication = app;
    try {
      await def.run(ch, arg, this);
    } finally {
      ch.currentApplication = previous;
    }
    if (this.core.stopped) return true;
    ch.fire('CHANNEL_EXECUTE_COMPLETE', SITES.executeComplete, {
      after: [
        ['Application', app], ['Application-Data', arg],
        ['Application-Response', ch.getVar('current_application_response') ?? '_none_'],
        ['Application-UUID', appUuid], ['Application-UUID-Name', appUuidName],
      ],
    });
    return true;
  }

  /**
   * switch_ivr_parse_event: runs one sendmsg. `call-command` counts by its first 7 bytes
   * (hash-length quirk in IVR switch_ivr_parse_event).
   */
  async runMessage(ch: Channel, msg: PrivateMessage): Promise<void> {
    const cmd = msg.command;
    const callCommand = (cmd.get('call-command') ?? '').slice(0, 7);
    if (callCommand === '') return;
    const eventLock = isTrue(cmd.get('event-lock'));
    const wasLocked = ch.eventLock;
    if (eventLock) ch.eventLock = true;
    try {
      if (callCommand === 'execute') {
        const app = cmd.get('execute-app-name');
        if (!app) return;
        let arg = cmd.get('execute-app-arg') ?? '';
        const contentType = cmd.get('content-type');
        if (arg === '' && contentType !== undefined && contentType.toLowerCase() === 'text/plain') arg = cmd.bodyText;
        const loopsHeader = cmd.get('loops');
        const loops = loopsHeader === undefined ? 1 : Number.parseInt(loopsHeader, 10) || 0;
        const eventUuid = cmd.get('event-uuid');
        const eventUuidName = cmd.get('event-uuid-name');
        for (let x = 0; x < loops || loops < 0; x++) {
          const before = ch.simulatedMs;
          if (eventUuid) ch.setVar('app_uuid', eventUuid);
          if (eventUuidName) ch.setVar('app_uuid_name', eventUuidName);
          ch.setVar('current_loop', x + 1);
          ch.setVar('total_loops', loops);
          if (!(await this.executeApp(ch, app, arg))) break;
          // A run shorter than 0.5 s (simulated media time) stops the loop (IVR switch_ivr_parse_event).
          if (!ch.ready || ch.simulatedMs - before < 500 || this.core.stopped) break;
        }
        ch.setVar('current_loop', undefined);
        ch.setVar('total_loops', undefined);
      } else if (callCommand === 'hangup') {
        ch.hangup(parseCause(cmd.get('hangup-cause')) ?? 'NORMAL_CLEARING');
      } else if (callCommand === 'xferext') {
        const steps = cmd.headers.filter(([n]) => n.toLowerCase() === 'application').map(([, v]) => splitAction(v));
        ch.extension = steps;
        ch.requestBreak();
      }
      // unicast and nomedia need real media paths: accepted and ignored.
    } finally {
      if (eventLock) ch.eventLock = wasLocked;
    }
  }

  /**
   * switch_ivr_parse_next_event: runs a message taken from the private queue, then fires it as
   * PRIVATE_COMMAND (the message's own headers, the standard ones, the channel's basic data).
   * park's loop skips the PRIVATE_COMMAND while no media flows (`announce` false).
   */
  async runQueued(ch: Channel, msg: PrivateMessage, announce = true): Promise<void> {
    await this.runMessage(ch, msg);
    if (!announce || this.core.stopped) return;
    const ev = new SimEvent('PRIVATE_COMMAND');
    ev.add('Command', msg.line);
    for (const [n, v] of msg.command.headers) ev.add(n, v);
    if (msg.command.body !== undefined) ev.body = msg.command.bodyText.split('\0')[0];
    this.core.factory.appendStandard(ev, SITES.privateCommand);
    ch.addBasicData(ev);
    this.core.fire(ev);
  }

  /** switch_ivr_parse_all_events: runs every queued message the lock allows. */
  async parseAllEvents(ch: Channel): Promise<void> {
    for (let msg = ch.nextMessage(); msg; msg = ch.nextMessage()) {
      if (this.core.stopped) return;
      await this.runQueued(ch, msg);
    }
  }

  /**
   * switch_ivr_park: CHANNEL_PARK, then handle queued messages until hangup, a break, or (for a
   * socket-controlled channel) until the controlling socket goes away; then CHANNEL_UNPARK.
   */
  async park(ch: Channel, untilUncontrolled = false): Promise<void> {
    if (!ch.ready) return;
    ch.fire('CHANNEL_PARK', SITES.park);
    for (;;) {
      if (!ch.ready || this.core.stopped) break;
      if (untilUncontrolled && !ch.controlled) break;
      if (ch.consumeBreak()) break;
      const msg = ch.nextMessage();
      if (msg) {
        await this.runQueued(ch, msg, ch.answered || ch.early);
        continue;
      }
      await ch.waitSignal();
    }
    if (!this.core.stopped) ch.fire('CHANNEL_UNPARK', SITES.unpark);
  }

  // ------------------------------------------------------------------ dialplan

  entry(destination: string): DialplanEntry | undefined {
    const dp = this.core.options.dialplan;
    return dp[destination] ?? dp['*'];
  }

  /** The dialplan lookup: the destination's extension (or '*'); undefined → NO_ROUTE_DESTINATION. */
  lookup(destination: string): Array<{ app: string; arg: string }> | undefined {
    const entry = this.entry(destination);
    if (!entry) return undefined;
    const steps: Array<{ app: string; arg: string }> = [];
    if (entry.socket !== undefined) steps.push({ app: 'socket', arg: socketArg(entry.socket) });
    for (const a of entry.actions ?? []) steps.push(splitAction(a));
    return steps;
  }

  /**
   * CS_ROUTING → CS_EXECUTE for a channel that goes through the dialplan: looks the destination
   * up (DP_MATCH), then runs the extension.
   */
  async route(ch: Channel): Promise<void> {
    if (!ch.ready) return;
    const p = ch.profile;
    // The XML dialplan's first line (mod_dialplan_xml.c dialplan_hunt), whatever it then finds.
    this.core.log(6, `Processing ${p.callerIdName} <${p.callerIdNumber}>->${p.destinationNumber} in context ${p.context}\n`, {
      uuid: ch.uuid, file: 'mod_dialplan_xml.c', func: 'dialplan_hunt', line: 639,
    });
    const steps = this.lookup(ch.profile.destinationNumber);
    if (!steps) {
      this.core.log(4, `No route, Aborting\n`, { uuid: ch.uuid, file: 'switch_core_state_machine.c', func: 'switch_core_standard_on_routing', line: 252 });
      ch.hangup('NO_ROUTE_DESTINATION');
      return;
    }
    if (this.entry(ch.profile.destinationNumber)?.dpMatch !== false) {
      ch.setVar('DP_MATCH', `ARRAY::${ch.profile.destinationNumber}|:${ch.profile.destinationNumber}`);
    }
    ch.flipCid();
    ch.setVar('call_uuid', ch.uuid);
    ch.extension = steps;
    ch.setRunningState('CS_EXECUTE');
    await this.runExtension(ch);
  }

  /**
   * CS_EXECUTE: runs the caller extension; between applications queued messages are handled;
   * when nothing is left the channel hangs up NORMAL_CLEARING ("executed the last dialplan instruction").
   */
  async runExtension(ch: Channel): Promise<void> {
    while (ch.ready && !this.core.stopped) {
      // A uuid_bridge took the channel out of its application: the bridge, then back to CS_EXECUTE.
      if (ch.uuidBridge) {
        await this.uuidBridgeLeg(ch);
        continue;
      }
      await this.parseAllEvents(ch);
      if (ch.uuidBridge) continue;
      const step = ch.extension.shift();
      if (!step) break;
      if (!ch.ready) break;
      await this.executeApp(ch, step.app, step.arg);
      // Its loopback partner went while the application ran (Simulator.channelHungUp).
      if (ch.mediaLostCause !== undefined && ch.ready) ch.hangup(ch.mediaLostCause);
    }
    if (ch.ready && !this.core.stopped) ch.hangup('NORMAL_CLEARING');
  }

  /**
   * One leg of a uuid_bridge, run by the leg itself once its application ended (uuid_bridge_state_handlers,
   * switch_ivr_bridge.c:1111): CS_HIBERNATE → CS_RESET → CS_SOFT_EXECUTE. The originator waits there for
   * the other leg (20 ms polls, 1000 of them, then both DESTINATION_OUT_OF_ORDER), fires CHANNEL_EXECUTE
   * uuid_bridge on both (no completion event) and bridges; the other leg runs the bridge in
   * CS_EXCHANGE_MEDIA. Afterwards the originator goes back to CS_EXECUTE and its extension, or parks
   * with park_after_bridge (switch_ivr_multi_threaded_bridge); the other leg hangs up with its partner
   * or parks (audio_bridge_on_exchange_media).
   */
  async uuidBridgeLeg(ch: Channel): Promise<void> {
    const ub = ch.uuidBridge!;
    const other = ub.other;
    ch.setRunningState('CS_HIBERNATE');
    ch.setRunningState('CS_RESET');
    ch.setRunningState('CS_SOFT_EXECUTE');
    ub.soft = true;
    other.poke();
    if (!ub.originator) {
      // Until the originator's bridge is over; an originator that went down before CS_SOFT_EXECUTE never
      // comes for it, and the channel carries on with its extension.
      while (ch.ready && !ub.done && !this.core.stopped && (other.ready || other.uuidBridge?.soft)) await ch.waitSignal(Infinity, other);
      ch.uuidBridge = undefined;
      if (!ch.ready || this.core.stopped || !ub.done) return;
      // The bridge ended under it (audio_bridge_on_exchange_media): park with park_after_bridge, else hang up.
      if (isTrue(ch.getVar('park_after_bridge'))) {
        ch.setRunningState('CS_PARK');
        await this.park(ch);
      } else ch.hangup(ch.answered ? 'NORMAL_CLEARING' : 'ORIGINATOR_CANCEL');
      return;
    }
    ch.setVar('uuid_bridge', undefined);
    const started = performance.now();
    while (ch.ready && other.ready && !other.uuidBridge?.soft && !this.core.stopped) {
      const left = 20_000 - (performance.now() - started);
      if (left <= 0) {
        ch.hangup('DESTINATION_OUT_OF_ORDER');
        other.hangup('DESTINATION_OUT_OF_ORDER');
        break;
      }
      await ch.waitSignal(left, other);
    }
    const finish = (): void => {
      ch.uuidBridge = undefined;
      if (other.uuidBridge === undefined || other.uuidBridge.other !== ch) return;
      other.uuidBridge.done = true;
      other.poke();
    };
    if (this.core.stopped) return finish();
    if (!ch.ready || !other.ready) {
      if (!ch.ready) other.hangup('DESTINATION_OUT_OF_ORDER');
      else ch.hangup('DESTINATION_OUT_OF_ORDER');
      return finish();
    }
    // "fire events that will change the data table from show channels" (line 1226): no EXECUTE_COMPLETE.
    ch.fire('CHANNEL_EXECUTE', SITES.uuidBridgeExecute, { after: [['Application', 'uuid_bridge'], ['Application-Data', other.uuid]] });
    other.fire('CHANNEL_EXECUTE', SITES.uuidBridgeExecuteOther, { after: [['Application', 'uuid_bridge'], ['Application-Data', ch.uuid]] });
    ch.currentApplication = 'uuid_bridge';
    other.currentApplication = 'uuid_bridge';
    await this.bridgeChannels(ch, other, 'uuid_bridge');
    ch.currentApplication = undefined;
    if (other.currentApplication === 'uuid_bridge') other.currentApplication = undefined;
    finish();
    if (!ch.ready || this.core.stopped) return;
    if (isTrue(ch.getVar('park_after_bridge'))) {
      ch.setRunningState('CS_PARK');
      await this.park(ch);
      return;
    }
    ch.setRunningState('CS_EXECUTE');
  }

  /** Runs a channel's remaining life after its creation events: extension, then hangup states. */
  async runToEnd(ch: Channel, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } finally {
      if (!this.core.stopped) {
        if (ch.ready) ch.hangup('NORMAL_CLEARING');
        await ch.finishHangup();
      }
    }
  }

  // ------------------------------------------------------------------ originate

  /** Far-end script for a dial string's number, merged with `farEnds` and inline tokens. */
  scriptFor(number: string, tokens: string[]): FarEndScript {
    return parseScriptTokens(tokens, this.core.options.farEnds[number] ?? {});
  }

  /**
   * switch_ivr_originate for one dial string (`|` separates fallbacks): creates the outbound
   * leg(s) and waits for answer, failure or the timeout. On success the leg is answered and
   * waiting for its caller (it is not executing anything yet).
   */
  async dial(dialString: string, opts: DialOptions = {}): Promise<DialResult> {
    const { vars, rest } = parseDialVariables(dialString);
    const merged = new Map(opts.variables ?? []);
    for (const [k, v] of vars) merged.set(k, v);
    let last: DialResult = { cause: 'DESTINATION_OUT_OF_ORDER' };
    for (const one of rest.split('|')) {
      const target = one.trim();
      if (!target) continue;
      const caller = opts.caller;
      if (caller && !caller.ready) {
        // No further leg is created once the caller is down (switch_ivr_originate checks before each
        // one); the cause is ORIGINATOR_CANCEL after a cancelled leg, else the caller's own.
        return { cause: last.cancelled ? 'ORIGINATOR_CANCEL' : (caller.hangupCause ?? 'ORIGINATOR_CANCEL'), cancelled: last.cancelled, leg: last.leg };
      }
      const { vars: legVars, rest: endpoint } = parseDialVariables(target);
      const all = new Map(merged);
      for (const [k, v] of legVars) all.set(k, v);
      last = await this.dialOne(endpoint.split(',')[0]!.trim(), all, opts);
      if (last.channel) return last;
    }
    return last;
  }

  private async dialOne(endpoint: string, vars: Map<string, string>, opts: DialOptions): Promise<DialResult> {
    const slash = endpoint.indexOf('/');
    const type = slash === -1 ? endpoint : endpoint.slice(0, slash);
    const data = slash === -1 ? '' : endpoint.slice(slash + 1);
    if (type === 'error') return { cause: parseCause(data) ?? 'DESTINATION_OUT_OF_ORDER' };
    if (type === 'loopback') return this.dialLoopback(data, vars, opts);
    if (!['sim', 'user', 'sofia', 'null', 'freetdm', 'verto.rtc', 'rtc', 'skinny'].includes(type) || data === '') {
      return { cause: 'CHAN_NOT_IMPLEMENTED' };
    }
    // The number: sim/<n>/tokens, user/<n>@domain, sofia/<profile>/<n>@host, sofia/gateway/<gw>/<n>.
    const parts = data.split('/');
    let number: string;
    let tokens: string[] = [];
    if (type === 'sim') {
      number = parts[0]!;
      tokens = parts.slice(1);
    } else if (type === 'sofia') {
      number = (parts[0] === 'gateway' ? parts[2] : parts[1]) ?? parts[parts.length - 1]!;
    } else {
      number = parts[0]!;
    }
    number = number.split('@')[0]!;
    const script = opts.script ?? this.scriptFor(number, tokens);
    if (!this.core.takeSession()) return { cause: 'DESTINATION_OUT_OF_ORDER' };
    const name = type === 'sim' ? `sim/${number}` : endpoint;
    const ch = this.newOutboundLeg(name, number, vars, opts, type === 'sim' ? 'mod_sim' : `mod_${type}`);
    return this.runFarEnd(ch, script, this.timeoutSec(vars, opts), opts.caller);
  }

  private timeoutSec(vars: Map<string, string>, opts: DialOptions): number {
    const v = vars.get('originate_timeout') ?? vars.get('call_timeout') ?? vars.get('leg_timeout');
    const n = v === undefined ? NaN : Number.parseInt(v, 10);
    return Number.isFinite(n) && n > 0 ? n : (opts.timeoutSec ?? 60);
  }

  /** Creates an outbound leg and fires its creation events up to CS_CONSUME_MEDIA (captures). */
  newOutboundLeg(
    name: string,
    destination: string,
    vars: Map<string, string>,
    opts: DialOptions,
    source: string,
    loopback?: { peer: string; context: string; codecName: string },
  ): Channel {
    const context = loopback?.context ?? 'default';
    const caller = opts.caller;
    const cidName = vars.get('origination_caller_id_name') ?? opts.callerIdName ?? caller?.profile.callerIdName ?? '';
    const cidNumber = vars.get('origination_caller_id_number') ?? opts.callerIdNumber ?? caller?.profile.callerIdNumber ?? '0000000000';
    // A dialled leg's profile is a copy of its caller's (switch_core_session_outgoing_channel): the
    // Orig-* ids and the ANI stay the caller's.
    const cp = caller?.profile;
    const ch = new Channel(this.core, {
      uuid: opts.uuid,
      name,
      direction: 'outbound',
      profile: {
        dialplan: 'xml', callerIdName: cidName, callerIdNumber: cidNumber, calleeIdName: 'Outbound Call',
        // captures: a loopback A leg's Callee-ID-Number is the context
        calleeIdNumber: loopback ? context : destination, ani: cp && !vars.has('origination_caller_id_number') ? cp.ani : cidNumber,
        origCallerIdName: cp?.origCallerIdName, origCallerIdNumber: cp?.origCallerIdNumber,
        destinationNumber: destination, source, context,
      },
    });
    // mod_loopback names the dialling session (loopback_from_uuid) before channel_name (mod_loopback.c:1192).
    ch.initVariables([], 'outbound', loopback && caller ? [['loopback_from_uuid', caller.uuid]] : []);
    // The codecs are set before the channel gets its final name (captures: loopback/9999/default-a).
    if (loopback) ch.name = loopback.codecName;
    ch.fireCodecEvents();
    ch.name = name;
    ch.state = 'CS_INIT';
    // origination_uuid: the session takes its uuid after the codecs, CHANNEL_UUID (switch_core_session.c:637).
    const wanted = vars.get('origination_uuid');
    // A uuid in use is refused ("set UUID FAILED"): the session keeps its own.
    if (wanted && wanted !== ch.uuid && !(this.core.channel(wanted)?.destroyed === false)) ch.setUuid(wanted);
    this.core.channelCreated(ch);
    if (caller) {
      // switch_core_session_outgoing_channel (switch_core_session.c:672-711): max_forwards one less than
      // the caller's (70 without), its read codec, originator and signal_bond; call_uuid the caller's.
      const fwd = Number.parseInt(caller.getVar('max_forwards') ?? '', 10);
      ch.setVar('max_forwards', Number.isFinite(fwd) ? fwd - 1 : 70);
      ch.setVar('originator_codec', 'L16@8000h@20i');
      ch.setVar('originator', caller.uuid);
      ch.setVar('signal_bond', caller.uuid);
      // The caller points at the new leg until the originate succeeds (line 713; cleared at
      // switch_ivr_originate.c:4234).
      caller.setVar('originate_signal_bond', ch.uuid);
      ch.setVar('call_uuid', caller.uuid);
    }
    // The dial string's variables, origination_uuid kept (captures), then the originate's own.
    for (const [k, v] of vars) ch.setVar(k, v);
    ch.setVar('originate_early_media', 'true');
    // switch_ivr_originate.c:3217.
    if (caller) ch.setVar('originating_leg_uuid', caller.uuid);
    ch.setVar('originate_endpoint', source.replace(/^mod_/, ''));
    if (loopback) {
      ch.setVar('other_loopback_leg_uuid', loopback.peer);
      ch.setVar('loopback_leg', 'A');
    }
    // The originator's profile as it is now (a copy, switch_caller_profile_dup).
    if (cp) ch.otherLeg = { type: 'originator', profile: { ...cp } };
    ch.hasProfile = true;
    ch.fire('CHANNEL_OUTGOING', SITES.outgoing);
    ch.setRunningState('CS_INIT');
    ch.state = 'CS_ROUTING';
    ch.fire('CHANNEL_CREATE', SITES.create);
    ch.fire('CHANNEL_ORIGINATE', SITES.originate);
    ch.setRunningState('CS_ROUTING');
    ch.setRunningState('CS_CONSUME_MEDIA');
    return ch;
  }

  /**
   * Plays a far-end script on a new outbound leg; resolves when it answered or failed. With a
   * `caller` (bridge) this is switch_ivr_originate's wait loop: it runs the caller's queued
   * messages (switch_ivr_parse_all_events, so a `sendmsg hangup` takes effect) and stops as soon as
   * the caller is no longer up (uuid_kill, hupall, a hangup from outside); the leg is then cancelled
   * with ORIGINATOR_CANCEL and so is the originate (IDX_CANCEL), even if the leg just answered.
   */
  private async runFarEnd(ch: Channel, script: FarEndScript, timeoutSec: number, caller?: Channel): Promise<DialResult> {
    const timers = this.core.timers;
    const timeout = timers.set(() => {
      if (!ch.answered) ch.hangup('NO_ANSWER');
    }, this.scaled(timeoutSec * 1000));
    const delay = script.answerAfterMs ?? 0;
    if (delay > 0) ch.markRinging();
    if (script.earlyMedia) ch.preAnswer();
    if (!script.noAnswer) {
      timers.set(() => {
        if (!ch.ready) return;
        if (script.busy || script.rejectCause) {
          ch.hangup(script.busy ? 'USER_BUSY' : (parseCause(script.rejectCause) ?? 'CALL_REJECTED'));
          return;
        }
        ch.answer();
        if (script.hangupAfterMs !== undefined) timers.set(() => ch.hangup('NORMAL_CLEARING'), script.hangupAfterMs);
      }, delay);
    }
    // Until the leg answers nobody else runs it: a failure completes its hangup here.
    while (ch.ready && !ch.answered && !this.core.stopped) {
      if (caller) {
        if (!caller.ready) break;
        const msg = caller.nextMessage();
        if (msg) {
          await this.runQueued(caller, msg);
          continue;
        }
        await ch.waitSignal(Infinity, caller);
      } else {
        await ch.waitSignal();
      }
    }
    timers.cancel(timeout);
    if (caller && !caller.ready && !this.core.stopped) {
      if (ch.ready) ch.hangup('ORIGINATOR_CANCEL');
      void ch.finishHangup();
      return { cause: 'ORIGINATOR_CANCEL', cancelled: true, leg: ch };
    }
    if (ch.ready && ch.answered) return { channel: ch };
    const cause = ch.hangupCause ?? 'NORMAL_CLEARING';
    if (!this.core.stopped) void ch.finishHangup();
    return { cause, leg: ch };
  }

  /**
   * mod_loopback: `loopback/<exten>[/<context>]` makes an A leg (outbound, returned to the caller)
   * and a B leg (inbound) that runs the dialplan for <exten>. Answer and hangup cross over.
   */
  private async dialLoopback(data: string, vars: Map<string, string>, opts: DialOptions): Promise<DialResult> {
    const [exten = '', context = 'default'] = data.split('/');
    // mod_loopback's outgoing_channel pre-answers the dialling session first, unless loopback_no_pre_answer
    // (mod_loopback.c channel_outgoing_channel); an answered caller is not touched.
    const caller = opts.caller;
    if (caller && !isTrue(caller.getVar('loopback_no_pre_answer'))) caller.preAnswer();
    // Both legs take a session from the sessions-per-second budget. FreeSWITCH creates the B leg
    // later (in the A leg's CS_INIT), so one refused there starts an A leg that fails; here neither starts.
    if (!this.core.takeSession() || !this.core.takeSession()) return { cause: 'DESTINATION_OUT_OF_ORDER' };
    const bUuid = newUuid();
    const a = this.newOutboundLeg(`loopback/${exten}-a`, exten, vars, opts, 'mod_loopback', { peer: bUuid, context, codecName: `loopback/${data}-a` });
    const b = new Channel(this.core, {
      uuid: bUuid,
      name: `loopback/${exten}-b`,
      direction: 'inbound',
      profile: { ...a.profile, source: 'mod_loopback', destinationNumber: exten, context },
    });
    // The B leg gets the dial variables (__loopback_vars__), other_loopback_leg_uuid and, for a dialling
    // session, other_loopback_from_uuid (mod_loopback.c:311-355).
    const bVars: Array<[string, string]> = [...vars];
    bVars.push(['other_loopback_leg_uuid', a.uuid]);
    if (caller) bVars.push(['other_loopback_from_uuid', caller.uuid]);
    bVars.push(['loopback_leg', 'B']);
    b.initVariables(bVars, 'inbound');
    this.core.channelCreated(b);
    this.core.linkLoopback(a, b);
    void this.runInbound(b);
    const timeout = this.timeoutSec(vars, opts);
    return this.runFarEnd(a, { noAnswer: true }, timeout, opts.caller);
  }

  /**
   * An inbound channel's life (a call arriving, or a loopback B leg): creation events, RINGING,
   * routing, the dialplan (or the given steps), then hangup.
   */
  async runInbound(ch: Channel, steps?: Array<{ app: string; arg: string }>): Promise<void> {
    ch.fireCodecEvents();
    ch.hasProfile = true;
    ch.setRunningState('CS_INIT');
    ch.state = 'CS_ROUTING';
    ch.fire('CHANNEL_CREATE', SITES.create);
    ch.runningState = 'CS_ROUTING';
    ch.setCallState('RINGING');
    ch.setRunningState('CS_ROUTING');
    await this.runToEnd(ch, async () => {
      if (steps) {
        ch.setVar('call_uuid', ch.uuid);
        ch.extension = steps;
        ch.setRunningState('CS_EXECUTE');
        await this.runExtension(ch);
      } else {
        await this.route(ch);
      }
    });
  }

  /**
   * What an answered originate A leg does next (mod_commands originate): `&app(arg)` runs that
   * application; anything else transfers to that extension in the dialplan.
   */
  async runOriginated(ch: Channel, target: { app: string; arg: string } | { extension: string; context?: string } | { steps: Array<{ app: string; arg: string }> }): Promise<void> {
    await this.runToEnd(ch, async () => {
      if (!ch.ready) return;
      // mod_commands originate gives an &app its caller extension, so the cid flips (CALL_UPDATE)
      // before call_uuid is set again (captures).
      if (!('extension' in target)) ch.flipCid();
      ch.setVar('call_uuid', ch.uuid); // re-set once the originate completes (captures: it moves to the end)
      if ('app' in target) {
        ch.extension = [{ app: target.app, arg: target.arg }];
        ch.setRunningState('CS_EXECUTE');
        await this.runExtension(ch);
      } else if ('steps' in target) {
        ch.extension = [...target.steps];
        ch.setRunningState('CS_EXECUTE');
        await this.runExtension(ch);
      } else {
        ch.hitDialplan = true;
        ch.profile.destinationNumber = target.extension;
        if (target.context) ch.profile.context = target.context;
        ch.setRunningState('CS_ROUTING');
        await this.route(ch);
      }
    });
  }

  // ------------------------------------------------------------------ bridge

  /**
   * A channel receives a display update (SWITCH_MESSAGE_INDICATE_DISPLAY): last_sent_callee_id_*
   * (switch_core_session.c:903); mod_loopback passes it on, an A leg's as its B leg's callee id, a B
   * leg's as its A leg's caller id (mod_loopback.c:1081). Only the part after a last '/' is sent.
   */
  private sendDisplay(to: Channel, name: string, number: string): void {
    name = name.slice(name.lastIndexOf('/') + 1);
    number = number.slice(number.lastIndexOf('/') + 1);
    to.setVar('last_sent_callee_id_name', name);
    to.setVar('last_sent_callee_id_number', number);
    const peer = this.core.loopbackPeer(to);
    if (!peer) return;
    const p = peer.profile;
    if (to.direction === 'outbound') {
      if (name) p.calleeIdName = name;
      if (number) p.calleeIdNumber = number;
    } else {
      if (name) p.callerIdName = name;
      if (number) p.callerIdNumber = number;
    }
  }

  /**
   * mod_dptools bridge: dials the peer (while it rings the caller's queued messages run and the
   * caller hanging up cancels it: ORIGINATOR_CANCEL); on failure sets originate_disposition,
   * DIALSTATUS and originate_failed_cause and applies switch_channel_handle_cause; on success
   * answers the caller, fires CHANNEL_BRIDGE and waits until either side hangs up, then
   * CHANNEL_UNBRIDGE. The application sets no response: Application-Response is `_none_`.
   */
  async bridge(ch: Channel, dialString: string): Promise<void> {
    const vars = new Map<string, string>();
    // Exported variables travel to the new leg (switch_ivr_originate).
    for (const [name, value] of ch.exports) vars.set(name, value);
    // switch_ivr_originate sets CF_ORIGINATOR on the caller for the whole dial: an answered caller shows
    // RING_WAIT, and ACTIVE again when the flag clears at the end (switch_channel.c:1972, 2196).
    if (ch.answered && ch.ready) ch.setCallState('RING_WAIT');
    let result = await this.dial(dialString, { caller: ch, variables: vars, timeoutSec: 60 });
    if (result.channel && !ch.ready) {
      // The caller went down between the answer and now: the originate is cancelled after all.
      result.channel.hangup('ORIGINATOR_CANCEL');
      await this.finishLeg(result.channel);
      result = { cause: 'ORIGINATOR_CANCEL', cancelled: true, leg: result.channel };
    }
    const peer = result.channel;
    if (peer) {
      // The answered peer passes its callee id to the caller and answers it if need be
      // (switch_ivr_originate.c:3853); from here the caller's events carry the peer as Other-Leg.
      if (peer.profile.calleeIdName) ch.profile.calleeIdName = peer.profile.calleeIdName;
      if (peer.profile.calleeIdNumber) ch.profile.calleeIdNumber = peer.profile.calleeIdNumber;
      ch.otherLeg = { type: 'originatee', profile: peer.profile };
      if (!ch.answered) ch.answer();
    }
    const cause = peer ? 'SUCCESS' : (result.cause ?? 'NORMAL_TEMPORARY_FAILURE');
    const leg = peer ?? result.leg;
    // The end of switch_ivr_originate: originated_legs (uuid;callee name;callee number, line 3219),
    // originate_disposition and DIALSTATUS from the final cause (SUCCESS when it worked, line 4063),
    // originate_causes (uuid;cause of the leg, NONE while it is up, line 4130).
    if (leg) ch.setVar('originated_legs', `${leg.uuid};${leg.profile.calleeIdName ?? ''};${leg.profile.calleeIdNumber ?? ''}`);
    if (leg && !peer) ch.setVar('last_bridge_hangup_cause', cause);
    ch.setVar('originate_disposition', cause);
    ch.setVar('DIALSTATUS', dialStatus(cause));
    if (leg) ch.setVar('originate_causes', `${leg.uuid};${peer ? 'NONE' : (leg.hangupCause ?? cause)}`);
    // switch_ivr_originate.c:4232: on success originate_signal_bond goes and the caller's signal_bond is
    // the peer (captures: neither on the ACTIVE, signal_bond from CHANNEL_BRIDGE on).
    if (peer) ch.setVar('originate_signal_bond', undefined);
    if (ch.answered && ch.ready) ch.setCallState('ACTIVE');
    if (peer) ch.setVar('signal_bond', peer.uuid);
    if (!peer) {
      // The bridge application adds originate_failed_cause and applies switch_channel_handle_cause.
      ch.setVar('originate_failed_cause', cause);
      this.handleCause(ch, cause);
      return;
    }
    await this.bridgeChannels(ch, peer, 'bridge');
    await this.finishLeg(peer);
    if (ch.ready && isTrue(ch.getVar('hangup_after_bridge'))) ch.hangup('NORMAL_CLEARING');
  }

  /** Ends a dialled leg that no one else runs. */
  async finishLeg(peer: Channel): Promise<void> {
    if (peer.ready) peer.hangup('NORMAL_CLEARING');
    await peer.finishHangup();
  }

  /** switch_channel_handle_cause: continue_on_fail, or the always-continue causes; else hang up. */
  handleCause(ch: Channel, cause: string): void {
    const cof = ch.getVar('continue_on_fail');
    if (cof !== undefined) {
      if (isTrue(cof)) return;
      // A list of cause names or numbers (switch_channel_handle_cause).
      const number = String(HANGUP_CAUSES[cause] ?? '');
      if (cof.split(',').some((c) => c.trim().toUpperCase() === cause || c.trim() === number)) return;
    } else if (cause === 'NO_ANSWER' || cause === 'NO_USER_RESPONSE' || cause === 'ORIGINATOR_CANCEL') {
      return;
    }
    ch.hangup(cause);
  }

  /**
   * Bridges two live channels until one hangs up (switch_ivr_multi_threaded_bridge); the caller
   * `a` then goes on with its dialplan. `via` says who asked: the `bridge` application, whose loop
   * also runs the caller's queued sendmsgs, or `uuid_bridge`, which leaves those to whatever the
   * channel runs next and has set both other legs already.
   */
  async bridgeChannels(a: Channel, b: Channel, via: 'bridge' | 'uuid_bridge'): Promise<void> {
    const runMessages = via === 'bridge';
    const uuidBridge = via === 'uuid_bridge';
    const now = Date.now() * 1000;
    a.partner = b;
    b.partner = a;
    a.bridgeRole = 'originator';
    b.bridgeRole = 'originatee';
    a.times.bridged = now;
    b.times.bridged = now;
    // uuid_bridge set both other legs already (copies, switch_ivr_uuid_bridge).
    if (!uuidBridge) {
      a.otherLeg = { type: 'originatee', profile: b.profile };
      // A leg the caller dialled keeps the copy it got at creation.
      if (b.otherLeg?.profile.uuid !== a.uuid) b.otherLeg = { type: 'originator', profile: a.profile };
    }
    // The peer takes the caller's call_uuid for the bridge (switch_ivr_bridge.c:1684).
    b.setVar('call_uuid', a.uuid);
    a.fire('CHANNEL_BRIDGE', SITES.bridge, { before: [['Bridge-A-Unique-ID', a.uuid], ['Bridge-B-Unique-ID', b.uuid]] });
    // Set after CHANNEL_BRIDGE, in this order (switch_ivr_bridge.c:1699-1767).
    a.setVar('bridge_to', b.uuid);
    b.setVar('bridge_to', a.uuid);
    a.setVar('last_bridge_to', b.uuid);
    b.setVar('last_bridge_to', a.uuid);
    setBridgePeers(a, b);
    // switch_ivr_bridge_display (send_display, switch_ivr_bridge.c:274): the peer is sent its own caller
    // id (the caller's if it has none), the caller the peer's callee id (number: else the destination);
    // an empty name is replaced by the number.
    const toB = b.profile.callerIdNumber || a.profile.callerIdNumber || 'UNKNOWN';
    const toA = b.profile.calleeIdNumber || b.profile.destinationNumber;
    this.sendDisplay(b, b.profile.callerIdName || a.profile.callerIdName || toB, toB);
    this.sendDisplay(a, b.profile.calleeIdName || toA, toA);
    // The peer runs the bridge in CS_EXCHANGE_MEDIA (switch_ivr_bridge.c:1791).
    if (b.ready) b.setRunningState('CS_EXCHANGE_MEDIA');
    for (;;) {
      if (!a.ready || !b.ready || this.core.stopped) break;
      const msg = runMessages ? a.nextMessage() : undefined;
      if (msg) {
        await this.runQueued(a, msg);
        continue;
      }
      if (runMessages && a.consumeBreak()) continue;
      await a.waitSignal(Infinity, b);
    }
    if (this.core.stopped) return;
    // The caller gone, the peer's bridge ends with it before CHANNEL_UNBRIDGE (captures).
    a.partner = undefined;
    b.partner = undefined;
    a.bridgeRole = undefined;
    b.bridgeRole = undefined;
    a.setVar('bridge_to', undefined);
    b.setVar('bridge_to', undefined);
    // The caller gone, the peer leaves CS_EXCHANGE_MEDIA unlinked (no bridge_to, no last_bridge_role;
    // audio_bridge_on_exchange_media: hangup, or a uuid_bridge peer with park_after_bridge parks in its
    // own runner); the caller waits for that before CHANNEL_UNBRIDGE (switch_ivr_bridge.c:1801).
    const peerEnds = !a.ready && b.ready && !(uuidBridge && isTrue(b.getVar('park_after_bridge')));
    if (peerEnds) b.hangup('NORMAL_CLEARING');
    // Each side's bridge_hangup_cause is the other's cause, if it has one (switch_ivr_bridge.c:1816).
    // A peer that ended just now is through its CHANNEL_HANGUP_COMPLETE by then (captures: it shows from
    // CHANNEL_DESTROY on).
    const aCause = a.hangupCause;
    if (aCause && peerEnds) b.afterHangupComplete = () => b.setVar('bridge_hangup_cause', aCause);
    else if (aCause) b.setVar('bridge_hangup_cause', aCause);
    if (b.hangupCause) a.setVar('bridge_hangup_cause', b.hangupCause);
    b.setVar('call_uuid', b.uuid);
    a.fire('CHANNEL_UNBRIDGE', SITES.unbridge, { before: [['Bridge-A-Unique-ID', a.uuid], ['Bridge-B-Unique-ID', b.uuid]] });
  }
}

/** DIALSTATUS for a failed originate (switch_ivr_originate). */
function dialStatus(cause: string): string {
  switch (cause) {
    case 'ORIGINATOR_CANCEL':
      return 'CANCEL';
    case 'USER_BUSY':
      return 'BUSY';
    case 'NO_ANSWER':
      return 'NOANSWER';
    case 'DESTINATION_OUT_OF_ORDER':
    case 'INVALID_PROFILE':
      return 'INVALIDARGS';
    case 'CALL_REJECTED':
      return 'DONTCALL';
    default:
      return cause;
  }
}

/** bridge_channel, bridge_uuid and signal_bond of two legs that bridge (both bridge paths set them). */
export function setBridgePeers(a: Channel, b: Channel): void {
  a.setVar('bridge_channel', b.name);
  a.setVar('bridge_uuid', b.uuid);
  a.setVar('signal_bond', b.uuid);
  b.setVar('bridge_channel', a.name);
  b.setVar('bridge_uuid', a.uuid);
  b.setVar('signal_bond', a.uuid);
}

export function isTrue(v: string | undefined): boolean {
  if (v === undefined) return false;
  return ['true', 'yes', 'on', 'enabled', 'active', 'allow', '1'].includes(v.trim().toLowerCase()) || (/^\d+$/.test(v.trim()) && Number(v) > 0);
}
