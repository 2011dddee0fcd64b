import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { EslInvalidArgumentError } from '../errors.js';
import net from 'node:net';
import { type ApiHandler, type ApiHost, defaultApis } from './api.js';
import { executeOn, fireDtmf, registerDefaultApps } from './apps.js';
import { Channel, type ChannelInfo, type PrivateMessage, type SimCore } from './channel.js';
import { CoreDb } from './core-db.js';
import { Connection, type ListenerHost } from './connection.js';
import { Delivery } from './delivery.js';
import { type AppFunction, Engine, parseDialVariables, parseScriptTokens, parseSocketArg, setBridgePeers, socketArg } from './engine.js';
import { EventFactory, SITES, SimEvent, localStamp, newUuid, nowMicros } from './events.js';
import { DEFAULT_DIALPLAN, type FarEndScript, type ResolvedOptions, type SimulatorOptions, type SocketTarget } from './options.js';
import { type LogMeta, logFrame, logLevel } from './log.js';
import { Scheduler } from './scheduler.js';
import { TimerSet } from './timers.js';

/** Options of {@link Simulator.originate}. */
export interface OriginateOptions {
  /**
   * Destination number. For an outbound call (default) the answered channel is transferred to
   * this extension of the dialplan, unless `socket` or `app` says what to run. For an inbound call
   * the dialplan is looked up with it. Default '1000'.
   */
  destination?: string;
  /** Dialplan context; default 'default'. */
  context?: string;
  /** Channel variables (like `{a=b,c=d}` in an originate dial string). */
  variables?: Record<string, string | number | boolean>;
  callerIdName?: string;
  callerIdNumber?: string;
  /** Run the `socket` application to this target instead of the dialplan (outbound ESL). */
  socket?: string | SocketTarget;
  /** Run this application (like `&park`) instead of the dialplan. */
  app?: string;
  appArg?: string;
  /**
   * 'outbound' (default): FreeSWITCH calls a far end that answers after `answerAfterMs`, then the
   * channel runs socket/app/destination (like `originate sim/<dest> <exten>`).
   * 'inbound': a call arrives from outside and runs socket/app/destination at once (ringing,
   * unanswered until an application answers it).
   */
  direction?: 'outbound' | 'inbound';
  /** Outbound: the far end answers after this many ms (default 0). */
  answerAfterMs?: number;
  /** Outbound: the far end hangs up this many ms after answering. Inbound: the caller hangs up this many ms after the call starts. */
  hangupAfterMs?: number;
  /** Outbound: the far end is busy (USER_BUSY). */
  busy?: boolean;
  /** Outbound: the far end never answers (NO_ANSWER after the originate timeout, `timeoutSec`). */
  noAnswer?: boolean;
  /** Outbound: the far end rejects with this cause. */
  rejectCause?: string;
  /** Outbound originate timeout in seconds (scaled by timeScale); default 60. */
  timeoutSec?: number;
  /** Outbound: a FreeSWITCH dial string to use instead of `sim/<destination>` (e.g. 'loopback/9999'). */
  endpoint?: string;
  /** DTMF digits the caller will "press" (consumed by play_and_get_digits / read). */
  dtmf?: string;
  /** Use this UUID for the channel. */
  uuid?: string;
}

/** Events emitted by the simulator (`sim.on(...)`). */
export interface SimulatorEvents {
  /** Every event fired inside the simulated switch. */
  event: [event: SimEvent];
  /** A channel was created / destroyed. */
  channelCreate: [info: ChannelInfo];
  channelDestroy: [info: ChannelInfo];
  /** A client connected to the inbound port, or an outbound socket connected to a program. */
  connection: [info: { outbound: boolean; remoteAddress: string | undefined; remotePort: number | undefined }];
  /** A log line was emitted. */
  log: [line: { level: number; text: string }];
}

function resolveOptions(o: SimulatorOptions): ResolvedOptions {
  const hostname = o.hostname ?? 'sim';
  const sps = o.sessionsPerSecond ?? 30;
  if (typeof sps !== 'number' || Number.isNaN(sps) || sps < 0) {
    throw new EslInvalidArgumentError(`sessionsPerSecond must be a number of 0 or more (or Infinity), not ${String(sps)}`);
  }
  const playback = o.playbackMs;
  return {
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    password: o.password ?? 'ClueCon',
    users: o.users ?? {},
    acl: o.acl,
    hostname,
    switchname: o.switchname ?? hostname,
    coreUuid: o.coreUuid ?? newUuid(),
    ipv4: o.ipv4 ?? '127.0.0.1',
    ipv6: o.ipv6 ?? '::1',
    dialplan: { ...DEFAULT_DIALPLAN, ...(o.dialplan ?? {}) },
    farEnds: o.farEnds ?? {},
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 0,
    firstCommandTimeoutMs: o.firstCommandTimeoutMs ?? 25_000,
    timeScale: o.timeScale ?? 1,
    playbackMs: typeof playback === 'function' ? playback : () => playback ?? 1000,
    verboseEvents: o.verboseEvents ?? false,
    version: o.version ?? '1.10.12-release',
    sessionsPerSecond: sps,
  };
}

/** Where a FreeSWITCH built from source with the default prefix keeps its files. */
const BASE_DIR = '/usr/local/freeswitch';

/**
 * The core's global variables at startup, in FreeSWITCH's order: what switch_core_init sets
 * (switch_core.c: hostname, the local addresses, the directories, core_uuid), then the first
 * X-PRE-PROCESS lines of the vanilla vars.xml (default_password, sound_prefix again, domain,
 * domain_name, hold_music, use_profile). vars.xml's other presets (codecs, ports, ring tones…) are
 * not set. A name set again moves to the end (switch_core_set_variable).
 */
function coreVariables(o: ResolvedOptions): Array<[string, string]> {
  const dir = (name: string): string => `${BASE_DIR}/${name}`;
  return [
    ['hostname', o.hostname], ['local_ip_v4', o.ipv4], ['local_mask_v4', '255.255.255.0'], ['local_ip_v6', o.ipv6],
    ['base_dir', BASE_DIR], ['recordings_dir', dir('recordings')], ['sound_prefix', dir('sounds')], ['sounds_dir', dir('sounds')],
    ['conf_dir', dir('conf')], ['log_dir', dir('log')], ['run_dir', dir('run')], ['db_dir', dir('db')], ['mod_dir', dir('mod')],
    ['htdocs_dir', dir('htdocs')], ['script_dir', dir('scripts')], ['temp_dir', tmpdir()], ['grammar_dir', dir('grammar')],
    ['fonts_dir', dir('fonts')], ['images_dir', dir('images')], ['certs_dir', dir('certs')], ['storage_dir', dir('storage')],
    ['cache_dir', dir('cache')], ['data_dir', BASE_DIR], ['localstate_dir', BASE_DIR], ['core_uuid', o.coreUuid],
    ['default_password', '1234'], ['sound_prefix', `${dir('sounds')}/en/us/callie`], ['domain', o.ipv4], ['domain_name', o.ipv4],
    ['hold_music', 'local_stream://moh'], ['use_profile', 'external'],
  ];
}

/** Loopback-only guard: the simulator never connects anywhere but this machine. */
function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** IPv4 CIDR / exact-address match for the ACL allow-list. */
function aclAllows(acl: string[] | undefined, address: string | undefined): boolean {
  if (!acl) return true;
  if (!address) return false;
  const addr = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  for (const entry of acl) {
    const [base = '', bitsText] = entry.split('/');
    if (isIP(base) === 4 && isIP(addr) === 4) {
      const bits = bitsText === undefined ? 32 : Number(bitsText);
      const toInt = (ip: string): number => ip.split('.').reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      if (((toInt(base) & mask) >>> 0) === ((toInt(addr) & mask) >>> 0)) return true;
    } else if (base.toLowerCase() === addr.toLowerCase()) {
      return true;
    }
  }
  return false;
}

/**
 * A FreeSWITCH 1.10 stand-in for tests: mod_event_socket inbound (auth, api, bgapi, events,
 * filters, sendevent, sendmsg, log…) and outbound (the `socket` application), with simulated
 * calls that fire the real event sequences.
 *
 * ```ts
 * const sim = await Simulator.start({ password: 'ClueCon' });
 * // connect to sim.host:sim.port …
 * const uuid = await sim.originate({ destination: '1000', socket: { port: 8084 } });
 * await sim.stop();
 * ```
 */
export class Simulator extends EventEmitter<SimulatorEvents> {
  // The SimCore, ApiHost and ListenerHost of its channels, api commands and connections. Not
  // declared with `implements`: the published declarations leave the internal members out and
  // would then not match; the places that hand `this` to them check the shape.
  /** Effective options. */
  readonly options: ResolvedOptions;
  /** Builds events with the standard headers. */
  readonly factory: EventFactory;
  readonly timers = new TimerSet();
  /** Runs channels and applications. */
  readonly engine: Engine;
  /** Global variables (global_getvar / global_setvar, `${var}` fallback). */
  readonly globalVars = new Map<string, string>();
  /** The core db's channels and calls tables (`show channels`, `show calls`, …). */
  readonly db: CoreDb;
  readonly dtmfListeners = new Map<Channel, () => void>();
  /** The core task scheduler (sched_hangup, sched_del). */
  readonly scheduler: Scheduler;
  /** @internal Which connections can receive which events and log lines. */
  readonly delivery = new Delivery<Connection>();

  private server: net.Server;
  private listening = true;
  private boundPort = 0;
  private readonly conns = new Set<Connection>();
  private readonly chans = new Map<string, Channel>();
  private readonly loopbackPeers = new Map<Channel, Channel>();
  private readonly apis: Map<string, ApiHandler>;
  private readonly apiOverrides = new Map<string, string>();
  private readonly startedAt = performance.now();
  private sessionCounter = 0;
  /** The second of uptime the sessions-per-second budget belongs to, and what is left of it. */
  private spsSecond = -1;
  private spsLeft = 0;
  private peak = 0;
  private isStopped = false;
  private stopHeartbeat: (() => void) | undefined;

  private constructor(options: SimulatorOptions) {
    super();
    this.options = resolveOptions(options);
    this.factory = new EventFactory({
      coreUuid: this.options.coreUuid,
      hostname: this.options.hostname,
      switchname: this.options.switchname,
      ipv4: this.options.ipv4,
      ipv6: this.options.ipv6,
    });
    this.db = new CoreDb(this.options.switchname);
    this.scheduler = new Scheduler(this);
    this.engine = new Engine(this);
    registerDefaultApps(this.engine);
    this.engine.socketHandler = (ch, arg) => this.socketApp(ch, arg);
    this.apis = defaultApis();
    for (const [k, v] of coreVariables(this.options)) {
      this.globalVars.delete(k);
      this.globalVars.set(k, v);
    }
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** Starts a simulator listening on `options.host` (127.0.0.1) and `options.port` (0 = OS-chosen). */
  static async start(options: SimulatorOptions = {}): Promise<Simulator> {
    const sim = new Simulator(options);
    await new Promise<void>((resolve, reject) => {
      sim.server.once('error', reject);
      sim.server.listen(sim.options.port, sim.options.host, () => {
        sim.server.off('error', reject);
        resolve();
      });
    });
    sim.boundPort = (sim.server.address() as net.AddressInfo).port;
    if (sim.options.heartbeatIntervalMs > 0) {
      sim.stopHeartbeat = sim.timers.every(() => sim.fireHeartbeat(), sim.options.heartbeatIntervalMs);
    }
    return sim;
  }

  /** The listening port (kept while the listener is paused). */
  get port(): number {
    return this.boundPort;
  }

  /**
   * Stops accepting inbound connections (new clients get "connection refused") without touching
   * existing ones; with {@link dropConnections} this simulates a switch that went away.
   */
  async pauseListening(): Promise<void> {
    if (!this.listening || this.isStopped) return;
    this.listening = false;
    // server.close() frees the port at once; its callback would wait for every open connection.
    const closing = this.server;
    await new Promise<void>((resolve) => {
      closing.close();
      setImmediate(resolve);
    });
  }

  /** Listens again on the same host and port after {@link pauseListening}. */
  async resumeListening(): Promise<void> {
    if (this.listening || this.isStopped) return;
    this.server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.boundPort, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = true;
  }

  /** The listening address. */
  get host(): string {
    return this.options.host;
  }

  /** Open ESL connections (inbound clients and outbound sockets). */
  get connections(): number {
    return this.conns.size;
  }

  /** Snapshot of every channel that is not destroyed yet. */
  get channels(): ChannelInfo[] {
    return this.liveChannels().map((c) => c.info());
  }

  /** Snapshot of one channel (also shortly after hangup, until destroyed); undefined if unknown. */
  getChannel(uuid: string): ChannelInfo | undefined {
    return this.chans.get(uuid)?.info();
  }

  get stopped(): boolean {
    return this.isStopped;
  }

  get uptimeMs(): number {
    return performance.now() - this.startedAt;
  }

  get channelCount(): number {
    return this.chans.size;
  }

  get sessionsSinceStartup(): number {
    return this.sessionCounter;
  }

  get peakSessions(): number {
    return this.peak;
  }

  /** @internal Live channel objects. */
  liveChannels(): Channel[] {
    return [...this.chans.values()].filter((c) => !c.destroyed);
  }

  /** @internal The channel object for a UUID. */
  channel(uuid: string): Channel | undefined {
    return this.chans.get(uuid);
  }

  // ------------------------------------------------------------------ public controls

  /**
   * Creates a simulated call and resolves with its UUID as soon as the channel exists (it has
   * fired CHANNEL_CREATE; ringing, answer and the rest follow asynchronously). Rejects when the
   * dial string fails before any channel exists (e.g. `endpoint: 'error/user_busy'`).
   * See {@link OriginateOptions}.
   */
  async originate(o: OriginateOptions = {}): Promise<string> {
    if (this.isStopped) throw new Error('simulator stopped');
    const vars = new Map<string, string>();
    for (const [k, v] of Object.entries(o.variables ?? {})) vars.set(k, String(v));
    const uuid = o.uuid ?? newUuid();
    const destination = o.destination ?? '1000';
    const context = o.context ?? 'default';
    let steps: Array<{ app: string; arg: string }> | undefined;
    if (o.socket !== undefined) steps = [{ app: 'socket', arg: socketArg(o.socket) }];
    else if (o.app !== undefined) steps = [{ app: o.app, arg: o.appArg ?? '' }];

    if (o.direction === 'inbound') {
      const cidNumber = o.callerIdNumber ?? '0000000000';
      // An arriving call needs a session too (the endpoint's switch_core_session_request).
      if (!this.takeSession()) throw new Error('originate failed: DESTINATION_OUT_OF_ORDER');
      const ch = new Channel(this, {
        uuid,
        name: `sofia/internal/${cidNumber}@127.0.0.1`,
        direction: 'inbound',
        profile: {
          dialplan: 'XML', callerIdName: o.callerIdName ?? '', callerIdNumber: cidNumber, ani: cidNumber,
          destinationNumber: destination, source: 'mod_sofia', context, networkAddr: '127.0.0.1',
        },
      });
      ch.initVariables(vars, 'inbound');
      if (o.dtmf) ch.dtmf.push(...o.dtmf);
      this.channelCreated(ch);
      if (o.hangupAfterMs !== undefined) this.timers.set(() => ch.hangup('NORMAL_CLEARING'), o.hangupAfterMs);
      void this.engine.runInbound(ch, steps);
      return uuid;
    }

    vars.delete('origination_uuid');
    const script: FarEndScript = {
      answerAfterMs: o.answerAfterMs, hangupAfterMs: o.hangupAfterMs, busy: o.busy, noAnswer: o.noAnswer,
      rejectCause: o.rejectCause,
    };
    const dialString = o.endpoint ?? `sim/${destination}`;
    const isSim = dialString.replace(/^(\{[^}]*\})+/, '').startsWith('sim/');
    const dialing = this.engine.dial(dialString, {
      variables: vars,
      callerIdName: o.callerIdName,
      callerIdNumber: o.callerIdNumber,
      timeoutSec: o.timeoutSec,
      uuid,
      // A sim/ endpoint's inline tokens still apply; the options win.
      script: isSim ? this.mergeScript(dialString, script) : undefined,
    });
    const ch = this.chans.get(uuid);
    if (ch && o.dtmf) ch.dtmf.push(...o.dtmf);
    void dialing.then((result) => {
      if (!result.channel) return;
      if (steps) return this.engine.runOriginated(result.channel, { steps });
      return this.engine.runOriginated(result.channel, { extension: destination, context });
    });
    if (!ch) {
      const result = await dialing;
      throw new Error(`originate failed: ${result.cause ?? 'UNKNOWN'}`);
    }
    return uuid;
  }

  private mergeScript(dialString: string, script: FarEndScript): FarEndScript {
    const { rest } = parseDialVariables(dialString);
    const parts = rest.split('/');
    const base = parseScriptTokens(parts.slice(2), this.options.farEnds[parts[1]?.split('@')[0] ?? ''] ?? {});
    const out: FarEndScript = { ...base };
    for (const [k, v] of Object.entries(script)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
    return out;
  }

  /** Hangs a channel up (like `uuid_kill <uuid> <cause>`); false if it is unknown or already down. */
  hangup(uuid: string, cause = 'NORMAL_CLEARING'): boolean {
    const ch = this.chans.get(uuid);
    return ch !== undefined && ch.hangup(cause);
  }

  /** Answers a channel (like `uuid_answer`). */
  answer(uuid: string): boolean {
    const ch = this.chans.get(uuid);
    return ch !== undefined && ch.answer();
  }

  /** Sets a channel variable (like `uuid_setvar`). */
  setVariable(uuid: string, name: string, value: string | undefined): boolean {
    const ch = this.chans.get(uuid);
    if (!ch) return false;
    ch.setVar(name, value);
    return true;
  }

  /** Scripted DTMF: the caller "presses" these digits (consumed by play_and_get_digits / read). */
  sendDtmf(uuid: string, digits: string): boolean {
    const ch = this.chans.get(uuid);
    if (!ch || !ch.ready) return false;
    // Each digit fires DTMF when it is queued (switch_channel_queue_dtmf) and waits for a collector.
    for (const d of digits) {
      if (!/[0-9*#A-Da-d]/.test(d)) continue;
      ch.dtmf.push(d.toUpperCase());
      fireDtmf(ch, d.toUpperCase());
    }
    this.dtmfListeners.get(ch)?.();
    return true;
  }

  /**
   * Registers (or replaces) an api command. The handler gets the argument text and returns the
   * output (return undefined for "-ERR <cmd> Command not found!").
   */
  registerApi(name: string, handler: ApiHandler): void {
    this.apis.set(name, handler);
  }

  /** Makes `api <name>` return exactly `output` (pass undefined to remove the override). */
  setApiOutput(name: string, output: string | undefined): void {
    if (output === undefined) this.apiOverrides.delete(name);
    else this.apiOverrides.set(name, output);
  }

  /** Registers (or replaces) a dialplan application. */
  registerApp(name: string, run: AppFunction, options: { media?: boolean } = {}): void {
    this.engine.register(name, { run, media: options.media });
  }

  /** Adds or replaces a dialplan extension at runtime. */
  setDialplan(destination: string, entry: import('./options.js').DialplanEntry): void {
    this.options.dialplan[destination] = entry;
  }

  /** Sets a far-end script for a dialled number at runtime. */
  setFarEnd(number: string, script: FarEndScript): void {
    this.options.farEnds[number] = script;
  }

  /**
   * Fires an event (e.g. a CUSTOM one) to every subscribed connection. Headers are appended after
   * the standard ones.
   */
  fireEvent(name: string, headers: Record<string, string>, body?: string, subclass?: string): SimEvent {
    const ev = this.factory.create(name, { file: 'simulator', func: 'fireEvent', line: 1 }, subclass);
    for (const [k, v] of Object.entries(headers)) ev.add(k, v);
    if (body !== undefined) ev.body = body;
    this.fire(ev);
    return ev;
  }

  /**
   * Emits a log line at `level` (0-7 or a name like 'INFO') to connections that ran `log`; it
   * arrives as a `log/data` frame formatted as switch_log does.
   */
  log(level: number | string, text: string, meta: LogMeta = {}): void {
    const lvl = logLevel(level);
    const line = text.endsWith('\n') ? text : `${text}\n`;
    // The frame is built only when some connection logs.
    if (this.delivery.logging) this.delivery.deliverLog(logFrame(lvl, line, meta), lvl);
    this.emit('log', { level: lvl, text: line });
  }

  /**
   * Simulates the server going away: every open ESL connection is dropped at once (inbound and
   * outbound), without a disconnect notice. With `notice`, each first gets FreeSWITCH's shutdown
   * notice ("The system is being shut down."). The listener keeps accepting new connections.
   */
  dropConnections(options: { notice?: boolean } = {}): void {
    for (const c of [...this.conns]) {
      if (options.notice) c.finish('The system is being shut down.\n');
      else c.close(true);
    }
  }

  /** Resolves with the first event (fired from now on) that matches, or rejects after `timeoutMs`. */
  waitForEvent(predicate: (ev: SimEvent) => boolean, timeoutMs = 5000): Promise<SimEvent> {
    return new Promise((resolve, reject) => {
      const onEvent = (ev: SimEvent): void => {
        if (!predicate(ev)) return;
        this.off('event', onEvent);
        this.timers.cancel(timer);
        resolve(ev);
      };
      const timer = this.timers.set(() => {
        this.off('event', onEvent);
        reject(new Error('timed out waiting for an event'));
      }, timeoutMs);
      this.on('event', onEvent);
    });
  }

  /** Stops listening, drops every connection, cancels every timer and forgets every channel. */
  async stop(): Promise<void> {
    if (this.isStopped) return;
    this.isStopped = true;
    this.stopHeartbeat?.();
    for (const c of [...this.conns]) c.close(true);
    this.timers.clear();
    this.scheduler.clear();
    for (const ch of this.chans.values()) ch.poke();
    if (this.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.listening = false;
    this.chans.clear();
    this.removeAllListeners();
  }

  // ------------------------------------------------------------------ SimCore

  fire(ev: SimEvent): void {
    if (this.isStopped) return;
    this.emit('event', ev);
    this.delivery.deliver(ev);
  }

  nextSessionId(): number {
    return ++this.sessionCounter;
  }

  liveSessionCount(): number {
    return this.chans.size;
  }

  sessionsCreated(): number {
    return this.sessionCounter;
  }

  takeSession(): boolean {
    const limit = this.options.sessionsPerSecond;
    if (limit === Infinity) return true;
    // The timer thread refills the budget every second (switch_time.c timer loop: runtime.sps =
    // runtime.sps_total); switch_core_session_request_uuid refuses when `--runtime.sps <= 0`.
    const second = Math.floor(this.uptimeMs / 1000);
    if (second !== this.spsSecond) {
      this.spsSecond = second;
      this.spsLeft = limit;
    }
    if (--this.spsLeft > 0) return true;
    this.log(2, `Throttle Error! ${this.liveChannels().length}\n`, { file: 'switch_core_session.c', func: 'switch_core_session_request_uuid', line: 2422 });
    return false;
  }

  channelCreated(ch: Channel): void {
    this.chans.set(ch.uuid, ch);
    this.peak = Math.max(this.peak, this.liveChannels().length);
    this.emit('channelCreate', ch.info());
  }

  linkLoopback(a: Channel, b: Channel): void {
    this.loopbackPeers.set(a, b);
    this.loopbackPeers.set(b, a);
  }

  loopbackPeer(ch: Channel): Channel | undefined {
    return this.loopbackPeers.get(ch);
  }

  channelAnswered(ch: Channel): void {
    // mod_loopback: the B leg answering answers the A leg (channel_receive_message INDICATE_ANSWER).
    const peer = this.loopbackPeers.get(ch);
    if (peer && ch.direction === 'inbound' && !peer.answered && peer.ready) peer.answer();
    // switch_channel_perform_mark_answered runs the execute_on_answer* applications after CHANNEL_ANSWER.
    executeOn(ch, this.engine, 'execute_on_answer');
  }

  channelPreAnswered(ch: Channel): void {
    // mod_loopback: the B leg's early media pre-answers the A leg (channel_receive_message INDICATE_PROGRESS).
    const peer = this.loopbackPeers.get(ch);
    if (peer && ch.direction === 'inbound' && !peer.answered && !peer.early && peer.ready) peer.preAnswer();
  }

  channelHungUp(ch: Channel): void {
    const peer = this.loopbackPeers.get(ch);
    if (peer && peer.ready && ch.direction === 'outbound' && ch.bridgeRole === 'originator' && peer.currentApplication === 'playback') {
      // A killed loopback A leg unlinks the pair at once (mod_loopback.c channel_kill_channel), but its B
      // leg is hung up only from the A leg's CS_HANGUP (channel_on_hangup), which a bridging A leg reaches
      // late: the B leg's playback fails first (captures: PLAYBACK_STOP, PLAYBACK ERROR, then the hangup).
      peer.mediaLostCause = ch.hangupCause;
      peer.poke();
    } else if (peer && peer.ready) peer.hangup(ch.hangupCause);
    if (ch.partner && ch.partner.ready) ch.partner.poke();
    for (const c of this.delivery.forSession(ch.uuid)) c.sessionDown();
  }

  channelReported(ch: Channel): void {
    for (const c of this.delivery.forSession(ch.uuid)) c.sessionDown();
  }

  channelDestroyed(ch: Channel): void {
    const info = ch.info();
    this.loopbackPeers.delete(ch);
    this.dtmfListeners.delete(ch);
    // switch_core_session_perform_destroy (switch_core_session.c) deletes the session's task group.
    this.scheduler.deleteGroup(ch.uuid);
    // Keep the object a moment for late lookups; then forget it.
    this.chans.delete(ch.uuid);
    this.emit('channelDestroy', info);
  }

  async runMessage(ch: Channel, msg: PrivateMessage, queued: boolean): Promise<void> {
    if (queued) await this.engine.runQueued(ch, msg);
    else await this.engine.runMessage(ch, msg);
  }

  /**
   * switch_api_execute (switch_loadable_module.c, v1.10.12): the command and its argument are
   * stripped of surrounding whitespace, the API event is created first and fired after the command
   * ran (captures: after the channels' events). `found` is false for an unknown command (its
   * output is then FreeSWITCH's "INVALID COMMAND!").
   */
  async executeApi(cmd: string, arg: string | undefined, session?: Channel): Promise<{ found: boolean; output: string }> {
    const name = stripWhitespace(cmd);
    const argument = arg === undefined ? undefined : stripWhitespace(arg);
    const ev = this.factory.create('API', SITES.api);
    ev.add('API-Command', name);
    ev.add('API-Command-Argument', argument);
    let output: string | undefined;
    const override = this.apiOverrides.get(name);
    if (override !== undefined) output = override;
    else {
      const handler = this.apis.get(name);
      if (handler) {
        try {
          output = await handler(argument, { sim: this, session });
        } catch (err) {
          output = `-ERR ${(err as Error).message}\n`;
        }
      }
    }
    this.fire(ev);
    return output === undefined ? { found: false, output: 'INVALID COMMAND!\n' } : { found: true, output };
  }

  /** Runs an api command as api_exec does: its output, or `-ERR <cmd> Command not found!`. */
  async runApi(cmd: string, arg: string | undefined, session?: Channel): Promise<string> {
    const { found, output } = await this.executeApi(cmd, arg, session);
    return found ? output : `-ERR ${cmd} Command not found!\n`;
  }

  /**
   * An `api` sent with `console_execute: true` (fs_cli -x): switch_console_execute
   * (switch_console.c, v1.10.12) splits the line at `;;`, cuts each part at CR/LF and its first
   * space into command and argument, and runs them in order into one output. When the last one is
   * unknown, api_exec answers `-ERR <whole line> Command not found!`. (Console aliases, kept in
   * the core db's aliases table, are not simulated: a default install has none.)
   */
  async runConsoleLine(line: string): Promise<string> {
    const text = line.replace(/^ +/, '');
    let output = '';
    let found = false;
    for (const part of text.split(';;')) {
      const cut = part.search(/[\r\n]/);
      const command = cut === -1 ? part : part.slice(0, cut);
      const sp = command.indexOf(' ');
      const result = await this.executeApi(sp === -1 ? command : command.slice(0, sp), sp === -1 ? undefined : command.slice(sp + 1));
      output += result.output;
      found = result.found;
    }
    return found ? output : `-ERR ${line} Command not found!\n`;
  }

  /** The names of the api commands that answer (built in, registered, or given a fixed output). */
  apiNames(): string[] {
    return [...new Set([...this.apis.keys(), ...this.apiOverrides.keys()])];
  }

  /** bgapi: runs the command detached, then fires BACKGROUND_JOB (MES api_exec). */
  runBackgroundJob(jobUuid: string, cmd: string, arg: string | undefined, ownerUuid: string | undefined): void {
    void (async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.isStopped) return;
      const output = await this.runApi(cmd, arg);
      if (this.isStopped) return;
      const ev = this.factory.create('BACKGROUND_JOB', SITES.backgroundJob);
      ev.add('Job-UUID', jobUuid);
      ev.add('Job-Owner-UUID', ownerUuid);
      ev.add('Job-Command', cmd);
      ev.add('Job-Command-Arg', arg);
      ev.body = output;
      this.fire(ev);
    })();
  }

  /**
   * uuid_bridge (switch_ivr_uuid_bridge, switch_ivr_bridge.c:2005): marks both legs, sets the bridge
   * variables and interrupts what each runs (CF_TRANSFER, state CS_HIBERNATE); each leg's own runner
   * then takes it through CS_RESET and CS_SOFT_EXECUTE, where the originator runs the bridge
   * (Engine.uuidBridgeLeg). Returns the originatee, or undefined when refused.
   */
  uuidBridge(a: Channel, b: Channel): Channel | undefined {
    if (!a.ready || a.uuidBridge || b.uuidBridge) return undefined;
    // An originator without media swaps with an originatee that has it; neither: refused (line 2045).
    if (!a.answered && !a.early) {
      if (!b.answered && !b.early) return undefined;
      [a, b] = [b, a];
    }
    // An outbound originator that never saw a dialplan gets its cid flipped and CF_DIALPLAN (line 2029).
    if (a.direction === 'outbound' && !a.hitDialplan) a.flipCid();
    a.hitDialplan = true;
    // The originatee loses CF_DIALPLAN (line 2063).
    if (b.direction === 'outbound') b.hitDialplan = false;
    a.setVar('uuid_bridge', b.uuid);
    setBridgePeers(a, b);
    // An inbound originatee (no CF_BLEG) shows the call the other way round: switch_channel_invert_cid.
    if (b.direction === 'inbound') {
      const p = b.profile;
      [p.callerIdName, p.calleeIdName] = [p.calleeIdName || 'Unknown', p.callerIdName];
      [p.callerIdNumber, p.calleeIdNumber] = [p.calleeIdNumber || 'Unknown', p.callerIdNumber];
    }
    for (const ch of [b, a]) {
      ch.setVar('original_destination_number', ch.profile.destinationNumber);
      ch.setVar('original_caller_id_name', ch.profile.callerIdName);
      ch.setVar('original_caller_id_number', ch.profile.callerIdNumber);
    }
    // Both step to a new caller profile (switch_channel_step_caller_profile): next index, and the
    // logical direction of the channel, which CF_DIALPLAN made inbound on an outbound originator.
    for (const ch of [b, a]) {
      const p = ch.profile;
      p.profileIndex = String(Number(p.profileIndex) + 1);
      p.logicalDirection = ch === a && ch.direction === 'outbound' ? 'inbound' : ch.direction === 'inbound' ? 'inbound' : 'outbound';
    }
    // Each side's other leg is a copy taken now; then the originator takes the originatee's callee id
    // and the originatee the originator's caller id (line 2130).
    b.otherLeg = { type: 'originator', profile: { ...a.profile } };
    a.otherLeg = { type: 'originatee', profile: { ...b.profile } };
    a.profile.calleeIdName = b.profile.calleeIdName;
    a.profile.calleeIdNumber = b.profile.calleeIdNumber;
    b.profile.callerIdName = a.profile.callerIdName;
    b.profile.callerIdNumber = a.profile.callerIdNumber;
    // transfer_source "<epoch>:<new profile's uuid_str>:uuid_br:<other uuid>", also pushed onto
    // transfer_history (line 2170); the stepped profile's uuid_str is a fresh one (switch_caller.c:118).
    const epoch = Math.floor(Date.now() / 1000);
    for (const [ch, other] of [[a, b], [b, a]] as const) {
      const source = `${epoch}:${newUuid()}:uuid_br:${other.uuid}`;
      ch.profile.transferSource = source;
      ch.setVar('transfer_history', source);
      ch.setVar('transfer_source', source);
    }
    // The state (not yet the running state) moves on at once: CS_HIBERNATE, or CS_CONSUME_MEDIA from
    // there (line 2211); the events until the leg's runner catches up show its number.
    for (const ch of [a, b]) ch.state = ch.state === 'CS_HIBERNATE' ? 'CS_CONSUME_MEDIA' : 'CS_HIBERNATE';
    a.uuidBridge = { other: b, originator: true, soft: false, done: false };
    b.uuidBridge = { other: a, originator: false, soft: false, done: false };
    // The originator's runner goes first (its thread sees the state change first in the captures).
    a.requestBreak();
    b.requestBreak();
    return b;
  }

  /** @internal A sendevent went to a session's own queue: listeners diverting it may send it. */
  sessionEventQueued(ch: Channel): void {
    for (const c of this.delivery.forSession(ch.uuid)) c.schedulePump();
  }

  connectionClosed(c: Connection): void {
    this.conns.delete(c);
    this.delivery.remove(c);
  }

  // ------------------------------------------------------------------ internals

  private fireHeartbeat(): void {
    const ev = this.factory.create('HEARTBEAT', SITES.heartbeat);
    const live = this.liveChannels().length;
    ev.add('Event-Info', 'System Ready');
    ev.add('Up-Time', formatUptime(this.uptimeMs));
    ev.add('FreeSWITCH-Version', `${this.options.version}~64bit`);
    ev.add('Uptime-msec', Math.floor(this.uptimeMs));
    ev.add('Session-Count', live);
    ev.add('Max-Sessions', 1000);
    ev.add('Session-Per-Sec', 30);
    ev.add('Session-Per-Sec-Last', 0);
    ev.add('Session-Per-Sec-Max', 0);
    ev.add('Session-Per-Sec-FiveMin', 0);
    ev.add('Session-Since-Startup', this.sessionCounter);
    ev.add('Session-Peak-Max', this.peak);
    ev.add('Session-Peak-FiveMin', this.peak);
    ev.add('Idle-CPU', '99.000000');
    this.fire(ev);
    // The scheduler re-queues the heartbeat task right after it ran (xml capture).
    const re = this.factory.create('RE_SCHEDULE', SITES.reschedule);
    re.add('Task-ID', 1);
    re.add('Task-Desc', 'heartbeat');
    re.add('Task-Group', 'core');
    re.add('Task-Runtime', Math.floor((Date.now() + this.options.heartbeatIntervalMs) / 1000));
    this.fire(re);
  }

  private accept(socket: net.Socket): void {
    if (this.isStopped) {
      socket.destroy();
      return;
    }
    const conn = new Connection(this, socket);
    this.conns.add(conn);
    this.emit('connection', { outbound: false, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
    conn.startInbound(aclAllows(this.options.acl, socket.remoteAddress));
  }

  /**
   * The `socket` application (MES socket_function): connect to the first host that accepts,
   * then in async mode wait for `connect` and park until the socket goes away; in sync mode run
   * the listener in the "session thread" (here: wait for it to end).
   */
  private async socketApp(ch: Channel, arg: string): Promise<void> {
    const { hosts, async, full } = parseSocketArg(arg);
    let socket: net.Socket | undefined;
    for (const target of hosts) {
      if (target.path) ch.setVar('socket_path', target.path);
      ch.setVar('socket_host', target.host);
      if (!isLoopbackHost(target.host)) {
        this.log(3, `Socket Error: refusing non-loopback host ${target.host}\n`, { uuid: ch.uuid, file: 'mod_event_socket.c', func: 'socket_function', line: 451 });
        continue;
      }
      socket = await new Promise<net.Socket | undefined>((resolve) => {
        const s = net.connect({ host: target.host, port: target.port });
        s.once('connect', () => resolve(s));
        s.once('error', () => {
          s.destroy();
          resolve(undefined);
        });
      });
      if (socket) break;
      this.log(3, 'Socket Error: Connection refused\n', { uuid: ch.uuid, file: 'mod_event_socket.c', func: 'socket_function', line: 451 });
    }
    if (!socket || this.isStopped || !ch.ready) {
      socket?.destroy();
      return;
    }
    const conn = new Connection(this, socket, { session: ch, async, full });
    this.conns.add(conn);
    this.emit('connection', { outbound: true, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
    if (async) {
      while (ch.ready && !conn.closed && !conn.connected && !this.isStopped) await ch.waitSignal();
      // socket_function parks as soon as its polling loop (switch_cond_next, about 1 ms) sees
      // LFLAG_CONNECTED, racing the listener: after `myevents` a real FreeSWITCH 1.10.12 delivered
      // the channel's CHANNEL_PARK in 8 sessions of 11. The simulator decides the race one way: it
      // parks once the commands that arrived with `connect` have been handled. A program that sends
      // myevents along with connect (as the library's call session does) gets CHANNEL_PARK; one that
      // waits for the connect reply first (as in the outbound capture) does not.
      while (ch.ready && !conn.closed && !conn.caughtUpAfterConnect && !this.isStopped) await ch.waitSignal();
      if (conn.closed || this.isStopped) return;
      ch.controlled = true; // switch_ivr_park sets CF_CONTROLLED; the listener clears it when it ends
      await this.engine.park(ch, true);
      await this.engine.parseAllEvents(ch);
    } else {
      await conn.done;
    }
  }
}

function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pl = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `${pl(0, 'year')}, ${pl(Math.floor(s / 86400), 'day')}, ${pl(Math.floor(s / 3600) % 24, 'hour')}, ${pl(Math.floor(s / 60) % 60, 'minute')}, ${pl(s % 60, 'second')}, ${pl(Math.floor(ms) % 1000, 'millisecond')}, ${pl(Math.floor(ms * 1000) % 1000, 'microsecond')}`;
}

/** switch_strip_whitespace: CR, LF, tab, vertical tab and space off both ends. */
function stripWhitespace(text: string): string {
  return text.replace(/^[\r\n\t\v ]+|[\r\n\t\v ]+$/g, '');
}
