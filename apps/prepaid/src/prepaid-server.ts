/**
 * The prepaid outbound-socket server. The dialplan sets `ccnq_account` and `target`, then runs
 * `socket <host>:<port> async full`; for each call this server:
 *
 *  1. reads the channel data: Unique-ID, variable_ccnq_account, variable_target;
 *  2. on the disconnect notice: `exit` if it says linger, ends the socket if it says disconnect
 *     (the call session does this itself);
 *  3. checks that the database is reachable (an answer from it within the last second counts), else
 *     kills the call (`bgapi uuid_kill <uuid>`);
 *  4. loads the account document; a missing account or any error hangs up;
 *  5. reads the account's interval_duration;
 *  6. `linger`, `filter Unique-ID <uuid>`, `event json ALL`;
 *  7. checks the remaining intervals (the `current` view); proceeds only while more than one remains;
 *  8. sets `execute_on_answer=sched_hangup +<s> ALLOTTED_TIMEOUT` (FreeSWITCH ends the first interval
 *     by itself if nobody charges it), then bridges to the target (`execute bridge`), re-checking
 *     the balance every ringCheckMs while ringing;
 *  9. on CHANNEL_ANSWER: stops the ringing timer, charges one interval at once, then one every
 *     interval_duration, each atomic against the credit; after each, the channel's scheduled
 *     hangup moves to the end of the paid time (`api sched_del <uuid>` + `api sched_hangup
 *     <epoch second> <uuid> ALLOTTED_TIMEOUT`); a refused charge cuts the call off at the end of
 *     what it paid;
 * 10. on CHANNEL_HANGUP_COMPLETE: stops all timers. Any database error at any point hangs up
 *     (fail closed: the database being down never gives calls away).
 *
 * Steps 7–10 live in ChargingSession (socket-free); this file is the wiring to the call socket.
 * docs/prepaid-charging.md explains the guarantees.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import {
  createServer,
  connect,
  EslHangupError,
  type CallEnd,
  type CallSession,
  type EslClient,
  type EslEvent,
  type Server,
  type ServerOptions,
} from 'freeswitch-esl';
import { COUCH_CHARGE_SPREAD_MS, ChargingSession, DEFAULT_CHARGE_SPREAD_MS, DEFAULT_RESCHEDULE_LEAD_MS, HANGUP_CAUSE, type ChargeInfo, type Clock, type HangupReason, type SwitchDeadline } from './charging.js';
import { isUnreachable } from './db-errors.js';
import { createLogger, type Logger } from './log.js';
import { describeError } from './redact.js';
import type { PrepaidStore } from './store.js';

/** How a call ended, from the prepaid application's point of view. */
export type CallOutcome =
  /** Answered and ended by one of the parties within its credit. */
  | 'completed'
  /** Answered, then cut off when the credit ran out. */
  | 'cut-off'
  /** Not more than one interval of credit: not bridged, or stopped while ringing. */
  | 'no-credit'
  /** No such account (or no ccnq_account on the channel). */
  | 'unknown-account'
  /** The database was unreachable when the call arrived: killed with uuid_kill. */
  | 'database-down'
  /** A database error later on: hung up (fail closed). */
  | 'database-error'
  /** The bridge failed (busy, no answer, rejected). */
  | 'not-answered'
  /** The caller hung up before the far end answered. */
  | 'abandoned'
  /** The channel has no `target` to bridge to. */
  | 'no-target'
  /** The server is shutting down and nobody would charge the call any more. */
  | 'shutdown'
  /** The call socket closed while the call was up; it was killed through the api connection if one was configured. */
  | 'socket-lost'
  /** A call this server took over after a restart, whose far end was already gone. */
  | 'taken-over-ended'
  /** FreeSWITCH refused a command the flow needs (e.g. a socket without `full`): hung up. */
  | 'error';

export type CallPhase = 'arrived' | 'checking' | 'ringing' | 'talking' | 'hanging-up' | 'ended';

export interface CallReport {
  uuid: string;
  account: string;
  target: string;
  phase: CallPhase;
  intervalDuration?: number;
  intervalsCharged: number;
  /** Balance (intervals) seen by the last check. */
  remaining?: number;
  /** End of the time this call has paid for, once talking. */
  paidUntil?: Date;
  /** The epoch second (FreeSWITCH's clock) of the channel's scheduled hangup, once set. */
  switchDeadline?: number;
  outcome?: CallOutcome;
  /** Human-readable detail of the outcome or of the last change. */
  detail?: string;
  /** Cause this server asked FreeSWITCH to hang up with, if it did. */
  hangupRequested?: string;
  /** Hangup-Cause FreeSWITCH reported. */
  hangupCause?: string;
  /** How the socket session ended (linger, disconnect, exit, closed, error). */
  sessionEnd?: CallEnd['reason'];
  /** True when this server took the call over from an earlier run (restart). */
  resumed?: boolean;
  arrivedAt: Date;
  answeredAt?: Date;
  endedAt?: Date;
}

export interface FreeswitchApiAddress {
  host: string;
  port: number;
  password?: string;
}

export interface PrepaidServerOptions {
  store: PrepaidStore;
  logger?: Logger;
  /** Balance re-check period while ringing, ms (default 10 000). */
  ringCheckMs?: number;
  /** How long before FreeSWITCH's scheduled hangup the next interval is charged at the latest (default 500 ms). */
  rescheduleLeadMs?: number;
  /**
   * Up to this much more lead per call (from its uuid; default 1000 ms, 400 ms with a CouchDB
   * server), so that the calls whose scheduled hangups fall on the same second are charged spread
   * over that time, not all at once (never more than MAX_CHARGE_AHEAD_MS before the interval starts).
   */
  chargeSpreadMs?: number;
  clock?: Clock;
  /** Written into interval records (default: host name and pid). */
  serverName?: string;
  /**
   * FreeSWITCH's inbound event socket. Used only as a fallback, to `uuid_kill` a call whose own
   * socket is gone or refused the hangup (so such a call does not go on uncharged).
   */
  freeswitch?: FreeswitchApiAddress;
  /**
   * ms after a `sendmsg hangup` before the call is killed with `api uuid_kill` on its socket if
   * the channel is still up (default 2000). The api runs at once in FreeSWITCH's listener thread,
   * whatever application the channel is busy with.
   */
  hangupEscalationMs?: number;
  /** ms to wait for FreeSWITCH to end the session after this server asked for a hangup (default 10 000). */
  hangupGraceMs?: number;
  /** ms `close()` lets live calls go on being charged before hanging them up (default 30 000). */
  closeDeadline?: number;
  /**
   * Step 3 takes an answer the database gave within this many ms as proof it is reachable,
   * instead of pinging it (default REACHABLE_WITHIN_MS; 0 pings for every call).
   */
  reachableWithinMs?: number;
  /** Passed to the outbound server. */
  allow?: ServerOptions['allow'];
  maxCalls?: number;
}

/**
 * A call's reachability check (step 3) rests on an answer the database gave this recently. Then
 * the account read (step 4) is the first request; if it fails for want of the database, a ping
 * decides, as step 3 would have: unreachable, the call is killed; reachable, it is hung up.
 */
export const REACHABLE_WITHIN_MS = 1000;

/** One interval charged: how late its charge was against when it was due (ms). */
export interface ChargeNotice {
  uuid: string;
  account: string;
  interval: number;
  lateMs: number;
}

/**
 * Events: `call` (CallReport, a new call), `update` (CallReport, on every change: phase,
 * balance, interval charged), `charge` (ChargeNotice, each interval charged), `end` (CallReport,
 * final), `error` (Error, server-level problems; emitted only when someone listens).
 */
export class PrepaidServer extends EventEmitter {
  readonly store: PrepaidStore;
  readonly logger: Logger;
  readonly ringCheckMs: number;
  readonly rescheduleLeadMs: number;
  readonly chargeSpreadMs: number;
  readonly serverName: string;
  readonly hangupGraceMs: number;
  readonly hangupEscalationMs: number;
  readonly reachableWithinMs: number;
  private readonly clock: Clock | undefined;
  private readonly esl: Server;
  private readonly freeswitch: FreeswitchApiAddress | undefined;
  private readonly closeDeadline: number;
  private readonly live = new Set<PrepaidCall>();
  private apiClient: Promise<EslClient> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: PrepaidServerOptions) {
    super();
    this.store = options.store;
    this.logger = options.logger ?? createLogger();
    this.ringCheckMs = options.ringCheckMs ?? 10_000;
    this.rescheduleLeadMs = options.rescheduleLeadMs ?? DEFAULT_RESCHEDULE_LEAD_MS;
    this.chargeSpreadMs = options.chargeSpreadMs ?? (options.store.remote ? COUCH_CHARGE_SPREAD_MS : DEFAULT_CHARGE_SPREAD_MS);
    this.serverName = options.serverName ?? `${os.hostname()}:${process.pid}`;
    this.hangupGraceMs = options.hangupGraceMs ?? 10_000;
    this.hangupEscalationMs = options.hangupEscalationMs ?? 2000;
    this.closeDeadline = options.closeDeadline ?? 30_000;
    this.reachableWithinMs = options.reachableWithinMs ?? REACHABLE_WITHIN_MS;
    this.clock = options.clock;
    this.freeswitch = options.freeswitch;
    const eslOptions: ServerOptions = {
      // Nothing is sent before the handler's own steps: linger/filter/events come at step 6.
      hangupOnHandlerError: true,
      handlerErrorCause: HANGUP_CAUSE['database-error'],
      closeDeadline: this.closeDeadline + this.hangupGraceMs,
    };
    if (options.allow !== undefined) eslOptions.allow = options.allow;
    if (options.maxCalls !== undefined) eslOptions.maxCalls = options.maxCalls;
    this.esl = createServer((call) => this.handle(call), eslOptions);
    this.esl.on('error', (err: Error) => {
      this.logger.warn(`connection failed before the call started: ${describeError(err)}`);
    });
    this.esl.on('handler-error', (err: Error, call: CallSession) => {
      this.logger.error(`call handler failed: ${describeError(err)}`, { call: call.uuid });
    });
    this.esl.on('rejected', (info: { address?: string; reason: string }) => {
      this.logger.warn(`refused a connection from ${info.address ?? '?'} (${info.reason})`);
    });
  }

  /** Start accepting FreeSWITCH's connections; resolves with the bound address. */
  async listen(options: { host?: string; port?: number } = {}): Promise<{ host: string; port: number }> {
    const bound = await this.esl.listen(options);
    this.logger.info(`prepaid server listening on ${bound.host}:${bound.port}, database: ${this.store.description}`);
    return bound;
  }

  address(): { host: string; port: number } | undefined {
    return this.esl.address();
  }

  /** Calls in progress. */
  get activeCalls(): number {
    return this.live.size;
  }

  reports(): CallReport[] {
    return [...this.live].map((c) => ({ ...c.report }));
  }

  /** The calls in progress, read-only: paid time, intervals charged, phase (for admin views). */
  liveCalls(): LiveCall[] {
    return [...this.live];
  }

  /**
   * Stop accepting calls; live calls go on being charged until they end or `deadline` ms pass,
   * then they are hung up (nobody would charge them any more). Resolves when all are gone.
   * Does not close the store (its owner does).
   */
  close(options: { deadline?: number } = {}): Promise<void> {
    if (this.closing) return this.closing;
    const deadline = options.deadline ?? this.closeDeadline;
    this.closing = (async () => {
      this.logger.info(`closing: ${this.live.size} call(s) in progress, deadline ${deadline} ms`);
      const timer = setTimeout(() => {
        for (const call of this.live) call.shutdown();
      }, deadline);
      try {
        await this.esl.close({ deadline: deadline + this.hangupGraceMs });
      } finally {
        clearTimeout(timer);
      }
      await this.closeApiClient();
      this.logger.info('closed');
    })();
    return this.closing;
  }

  /** Drop every call socket at once (a crash, as far as FreeSWITCH can tell). */
  async destroy(): Promise<void> {
    for (const call of this.live) call.abandonCharging();
    await this.esl.destroy();
    await this.closeApiClient();
  }

  private async handle(session: CallSession): Promise<void> {
    const call = new PrepaidCall(this, session, this.clock);
    this.live.add(call);
    this.emit('call', { ...call.report });
    try {
      await call.run();
    } finally {
      this.live.delete(call);
    }
  }

  /** @internal */
  notify(kind: 'update' | 'end', report: CallReport): void {
    this.emit(kind, { ...report });
  }

  /** @internal One interval charged (`charge` event: the metrics' lateness histogram). */
  notifyCharge(notice: ChargeNotice): void {
    this.emit('charge', notice);
  }

  /** @internal Kill a call through the inbound api connection, when one is configured. */
  async killThroughApi(uuid: string, log: Logger): Promise<boolean> {
    if (!this.freeswitch) return false;
    try {
      this.apiClient ??= connect({
        host: this.freeswitch.host,
        port: this.freeswitch.port,
        password: this.freeswitch.password ?? 'ClueCon',
        connectTimeout: 5000,
        timeout: 5000,
      });
      const client = await this.apiClient;
      const reply = await client.api(`uuid_kill ${uuid}`, { raw: true });
      log.warn(`killed through the api connection: ${reply.trim()}`);
      return true;
    } catch (err) {
      this.apiClient = undefined;
      log.error(`could not kill the call through the api connection: ${describeError(err)}`);
      return false;
    }
  }

  private async closeApiClient(): Promise<void> {
    const pending = this.apiClient;
    this.apiClient = undefined;
    if (pending) await pending.then((c) => c.close()).catch(() => {});
  }
}

/**
 * A failure of the flow, in the operator's words. On an outbound socket without `full`,
 * FreeSWITCH answers linger, event, api and bgapi with `-ERR command not found` (mod_event_socket.c,
 * parse_command: the LFLAG_OUTBOUND && !LFLAG_FULL check), which says nothing about the cause.
 */
function describeFailure(err: unknown, call: CallSession): string {
  if (call.control === 'full') return `unexpected failure: ${describeError(err)}`;
  return (
    `the dialplan's socket application needs "async full" (e.g. data="127.0.0.1:8084 async full"): ` +
    `this socket is ${call.socketMode} without full, so FreeSWITCH refuses the commands prepaid needs (${describeError(err)})`
  );
}

/** What admin views may read about a call in progress. */
export interface LiveCall {
  readonly uuid: string;
  readonly account: string;
  readonly phase: CallPhase;
  /** End of the time the call has paid for (undefined before answer). */
  readonly paidUntil: Date | undefined;
  /** Intervals charged so far, net of any given back. */
  readonly intervalsCharged: number;
}

const TAKEN_OVER_CAUSE = 'NORMAL_CLEARING';
/** Causes of a caller leg that ended by itself while its bridge was still ringing. */
const CALLER_GAVE_UP = new Set(['NORMAL_CLEARING', 'ORIGINATOR_CANCEL', 'NORMAL_UNSPECIFIED']);
/** The cause FreeSWITCH's scheduled hangup uses: the paid time is over. */
const PAID_TIME_OVER = HANGUP_CAUSE['credit-exhausted'];
/** Returned by a step that ended the call. */
const STOP = Symbol('stop');

/** One call, from arrival to the end of its socket session. */
class PrepaidCall implements LiveCall {
  readonly report: CallReport;
  private readonly server: PrepaidServer;
  private readonly call: CallSession;
  private readonly log: Logger;
  private readonly clock: Clock | undefined;
  private charging: ChargingSession | undefined;
  private hangupAsked = false;
  private outcomeLocked = false;
  private answered = false;
  /** FreeSWITCH's clock minus ours, ms: the largest Event-Date-Timestamp lead seen (transit only lowers it). */
  private switchOffset: number | undefined;
  /** When the channel hung up, on our clock (from CHANNEL_HANGUP's Event-Date-Timestamp). */
  private hungUpAt: number | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private escalationTimer: NodeJS.Timeout | undefined;

  constructor(server: PrepaidServer, call: CallSession, clock: Clock | undefined) {
    this.server = server;
    this.call = call;
    this.clock = clock;
    this.log = server.logger.child({ call: call.uuid });
    this.report = {
      uuid: call.uuid,
      account: call.variable('ccnq_account') ?? '',
      target: call.variable('target') ?? '',
      phase: 'arrived',
      intervalsCharged: 0,
      arrivedAt: new Date(),
    };
    this.noteSwitchTime(call.get('Event-Date-Timestamp'));
  }

  get uuid(): string {
    return this.report.uuid;
  }
  get account(): string {
    return this.report.account;
  }
  get phase(): CallPhase {
    return this.report.phase;
  }
  get paidUntil(): Date | undefined {
    return this.report.paidUntil;
  }
  get intervalsCharged(): number {
    return this.report.intervalsCharged;
  }

  /** The channel is gone, or our side of the socket is. */
  private get gone(): boolean {
    return this.call.hungUp || !this.call.connected;
  }

  private now(): number {
    return this.clock?.now() ?? Date.now();
  }

  /** Event-Date-Timestamp (µs) of something FreeSWITCH sent just now: learn its clock. */
  private noteSwitchTime(micros: string | undefined): void {
    const at = micros === undefined ? NaN : Number(micros) / 1000;
    if (!Number.isFinite(at)) return;
    const offset = at - this.now();
    if (this.switchOffset === undefined || offset > this.switchOffset) this.switchOffset = offset;
  }

  /** A FreeSWITCH timestamp (µs) on our clock. */
  private fromSwitchTime(micros: string | undefined): number | undefined {
    const at = micros === undefined ? NaN : Number(micros) / 1000;
    return Number.isFinite(at) ? at - (this.switchOffset ?? 0) : undefined;
  }

  private update(changes: Partial<CallReport>): void {
    Object.assign(this.report, changes);
    this.server.notify('update', this.report);
  }

  /** The first outcome decided wins (e.g. cut-off beats the hangup that follows it). */
  private decide(outcome: CallOutcome, detail: string): void {
    if (this.outcomeLocked) return;
    this.outcomeLocked = true;
    this.update({ outcome, detail });
  }

  async run(): Promise<void> {
    const { call, log } = this;
    const account = this.report.account;
    const target = this.report.target;
    log.info(`call arrived: account ${account || '(none)'}, target ${target || '(none)'}`, {
      mode: call.socketMode,
      control: call.control,
    });
    // Step 2 (the disconnect notice) is the call session's: it exits or closes as the notice says.
    call.on('event', (ev: EslEvent) => this.noteSwitchTime(ev.get('Event-Date-Timestamp')));
    call.on('CHANNEL_HANGUP', (ev: EslEvent) => {
      this.hungUpAt ??= this.fromSwitchTime(ev.get('Event-Date-Timestamp'));
    });
    call.on('hangup', (info: { cause?: string }) => this.onChannelDown(info.cause));
    call.on('CHANNEL_HANGUP_COMPLETE', (ev: EslEvent) => this.onHangupComplete(ev));
    call.on('CHANNEL_ANSWER', (ev: EslEvent) => this.onAnswer('CHANNEL_ANSWER', ev));
    // A caller leg answered before it reached the socket gets no CHANNEL_ANSWER when the far end
    // picks up; CHANNEL_BRIDGE is then the moment talking starts.
    call.on('CHANNEL_BRIDGE', (ev: EslEvent) => this.onAnswer('CHANNEL_BRIDGE', ev));

    try {
      await this.steps(account, target);
    } catch (err) {
      if (!this.gone) {
        const why = describeFailure(err, call);
        log.error(why);
        await this.hangup('error', why, undefined, 'NORMAL_TEMPORARY_FAILURE');
      }
    }
    await this.waitForEnd();
  }

  /**
   * One database step of the flow: its value, or STOP when the call is over — the channel went
   * away meanwhile (abandoned), or the step failed (logged, hung up: fail closed).
   */
  private async dbStep<T>(
    what: string,
    work: () => Promise<T>,
    /** Told of the failure first; true when it dealt with the call itself. */
    handled?: (err: unknown) => Promise<boolean>,
  ): Promise<T | typeof STOP> {
    let value: T;
    try {
      value = await work();
    } catch (err) {
      if (handled !== undefined && (await handled(err))) return STOP;
      this.log.error(`${what} failed: ${describeError(err)}`);
      await this.hangup('database-error', `${what} failed: ${describeError(err)}`, 'database-error');
      return STOP;
    }
    if (this.gone) {
      this.abandonedBeforeAnswer();
      return STOP;
    }
    return value;
  }

  /** Step 3's verdict: the database is unreachable, the call is killed outright. */
  private async databaseDown(err: unknown): Promise<void> {
    this.log.error(`database unreachable, killing the call: ${describeError(err)}`);
    this.decide('database-down', `database unreachable: ${describeError(err)}`);
    await this.killThroughSocket(this.call.uuid);
  }

  private async steps(account: string, target: string): Promise<void> {
    const { call, log, server } = this;
    const uuid = call.uuid;
    const store = server.store;
    this.update({ phase: 'checking' });

    // Step 3: is the database reachable? If not, the call is killed outright.
    let reachable: 'recent' | 'pinged';
    try {
      reachable = await store.checkReachable(server.reachableWithinMs);
    } catch (err) {
      return this.databaseDown(err);
    }
    if (this.gone) return this.abandonedBeforeAnswer();

    // Step 4: the account. Without a ping at step 3, a failure for want of the database is put to one.
    const accountDoc = await this.dbStep('loading the account', () => store.getAccount(account), async (err) => {
      if (reachable === 'pinged' || !isUnreachable(err)) return false;
      try {
        await store.ping();
        return false;
      } catch (pingErr) {
        await this.databaseDown(pingErr);
        return true;
      }
    });
    if (accountDoc === STOP) return;
    if (!accountDoc) {
      log.warn(`unknown account ${JSON.stringify(account)}, hanging up`);
      return this.hangup('unknown-account', `no account ${JSON.stringify(account)}`, undefined, 'CALL_REJECTED');
    }

    // Step 5: interval_duration.
    const intervalDuration = accountDoc.interval_duration;
    this.update({ intervalDuration });
    log.info(`account ${account}: interval ${intervalDuration} s`);

    // Step 6: linger, this channel's events only, all of them in JSON.
    await call.linger();
    await call.filter('Unique-ID', uuid);
    await call.subscribe('ALL', 'json');
    if (this.gone) return this.abandonedBeforeAnswer();

    const charging = this.startChargingSession(account, intervalDuration);

    // A call this server (or another) was already charging: take it over instead of bridging again.
    // Charging starts at the answer, so only a channel answered before it got here can have been
    // charged (it came back to the socket after a restart, or the dialplan answered first). The
    // connect reply's Answer-State says which: ringing or early while CF_ANSWERED is unset
    // (switch_channel.c, switch_channel_event_set_basic_data); any other value is looked up.
    const answerState = call.get('Answer-State');
    if (answerState !== 'ringing' && answerState !== 'early') {
      const earlier = await this.dbStep("reading the call's records", () => store.callState(account, uuid));
      if (earlier === STOP) return;
      if (earlier.end) {
        log.warn(`this call's charging already ended (${earlier.end.intervals_charged} interval(s)): nothing more to sell`);
        this.update({ resumed: true, intervalsCharged: earlier.records.length });
        this.decide('taken-over-ended', 'the call came back after its charging had ended');
        return this.hangup('taken-over-ended', 'charging already ended', undefined, TAKEN_OVER_CAUSE);
      }
      if (earlier.records.length > 0) return this.takeOver(earlier.records.map((r) => ({ interval: r.interval, at: r.at })));
    }

    // Step 7: more than one interval left?
    const proceed = await this.dbStep('the balance check', () => charging.canProceed());
    if (proceed === STOP) return;
    if (!proceed) {
      log.warn(`not enough credit: ${charging.remaining} interval(s) left`);
      return this.hangup('no-credit', `${charging.remaining} interval(s) left`, 'insufficient-credit');
    }
    log.info(`${charging.remaining} interval(s) available`);

    // Step 8: bridge, re-checking while it rings.
    if (!target) {
      log.warn('no target to bridge to');
      return this.hangup('no-target', 'the channel has no target variable', undefined, 'UNALLOCATED_NUMBER');
    }
    // FreeSWITCH ends the first interval by itself if no charge moves this hangup (this process
    // died at the answer). `+N` fires between N-1 and N s later (whole seconds), so N - 1 must
    // cover the interval.
    const firstInterval = Math.ceil(intervalDuration) + 1;
    await call.setVariable('execute_on_answer', `sched_hangup +${firstInterval} ${PAID_TIME_OVER}`);
    if (this.gone) return this.abandonedBeforeAnswer();
    this.update({ phase: 'ringing' });
    charging.startRinging();
    log.info(`bridging to ${target}`);
    let complete: EslEvent;
    try {
      complete = await call.bridge(target);
    } catch (err) {
      if (err instanceof EslHangupError || this.gone) return; // the channel ended; its handlers record why
      throw err;
    }
    charging.stop();
    const disposition = complete.get('variable_originate_disposition') ?? complete.get('Application-Response') ?? '';
    if (this.gone) return;
    if (!this.answered) {
      const cause = /^[A-Z_]+$/.test(disposition) && disposition !== 'SUCCESS' ? disposition : 'NO_ANSWER';
      log.info(`bridge failed: ${disposition || 'no answer'}`);
      this.decide('not-answered', `bridge failed: ${disposition || 'no answer'}`);
      return this.hangup('not-answered', `bridge failed: ${disposition || 'no answer'}`, undefined, cause);
    }
    log.info('the far end hung up');
    this.decide('completed', 'the far end hung up');
    return this.hangup('completed', 'the far end hung up', undefined, 'NORMAL_CLEARING');
  }

  private startChargingSession(account: string, intervalDuration: number): ChargingSession {
    const { log, server } = this;
    const charging = new ChargingSession(server.store, {
      account,
      call: this.call.uuid,
      intervalDuration,
      ringCheckMs: server.ringCheckMs,
      rescheduleLeadMs: server.rescheduleLeadMs,
      chargeSpreadMs: server.chargeSpreadMs,
      server: server.serverName,
      deadline: this.switchDeadline(),
      ...(this.clock ? { clock: this.clock } : {}),
    });
    this.charging = charging;
    charging.on('balance', (b: { remaining: number; phase: string }) => {
      log.debug(`balance ${b.remaining} interval(s) (${b.phase})`);
      this.update({ remaining: b.remaining });
    });
    charging.on('charged', (c: ChargeInfo) => {
      log.info(`charged interval ${c.interval}${c.outcome === 'duplicate' ? ' (already recorded)' : ''}; ${c.remaining} remaining`, {
        late_ms: Math.round(c.lateMs),
      });
      this.server.notifyCharge({ uuid: this.call.uuid, account, interval: c.interval, lateMs: c.lateMs });
      this.update({ intervalsCharged: charging.intervalsCharged, remaining: c.remaining, paidUntil: new Date(charging.paidUntil!) });
    });
    charging.on('deadline', (d: { epochSecond: number }) => {
      log.debug(`FreeSWITCH hangs the call up at ${d.epochSecond} unless charged on`);
      this.update({ switchDeadline: d.epochSecond });
    });
    charging.on('deadline-error', (err: Error) => {
      log.error(`could not move the scheduled hangup (the earlier one stays): ${describeError(err)}`);
    });
    charging.on('hangup', (h: { reason: HangupReason; detail: string }) => {
      const outcome: CallOutcome =
        h.reason === 'database-error' ? 'database-error' : h.reason === 'credit-exhausted' ? 'cut-off' : 'no-credit';
      log.warn(`hanging up: ${h.detail}`);
      void this.hangup(outcome, h.detail, h.reason);
    });
    return charging;
  }

  /**
   * The channel's one scheduled hangup. `sched_hangup` adds a task and cannot name the one it
   * replaces, and `sched_del <uuid>` removes all of the channel's; both are written at once, so
   * FreeSWITCH runs them back to back in its listener thread: the channel is without a task only
   * between the two, never while this process could die between sending them.
   */
  private switchDeadline(): SwitchDeadline {
    const { call } = this;
    return {
      offsetMs: () => this.switchOffset ?? 0,
      schedule: async (epochSecond) => {
        if (this.gone) throw new Error('the call socket is closed');
        const options = { timeout: this.server.hangupGraceMs };
        await Promise.all([
          call.api(`sched_del ${call.uuid}`, options),
          call.api(`sched_hangup ${epochSecond} ${call.uuid} ${PAID_TIME_OVER}`, options),
        ]);
      },
    };
  }

  /**
   * A restart left this call with interval records and no end marker: the server charging it
   * went away mid-call, and FreeSWITCH's scheduled hangup kept the call within what it paid (to
   * the whole second). FreeSWITCH keeps a bridge going when the socket drops and runs the next
   * dialplan step (here: `socket` to us again) when it ends, so the call is usually no longer
   * bridged by now. Either way every interval started until the bridge can have ended is charged,
   * each against the credit (the ones already written are skipped); a call still bridged is then
   * charged on as usual.
   */
  private async takeOver(records: Array<{ interval: number; at: string }>): Promise<void> {
    const charging = this.charging!;
    const first = records.find((r) => r.interval === 1) ?? records[0]!;
    const firstIntervalAt = Date.parse(first.at) - (first.interval - 1) * charging.intervalMs;
    // bridge_to names the other leg while bridged; FreeSWITCH clears it at unbridge.
    const bridged = Boolean(this.call.variable('bridge_to'));
    this.log.warn(
      `this call was already charged ${records.length} interval(s) before a restart: taking it over` +
        (bridged ? ' (still bridged)' : ' (the bridge has ended: charging the time it ran)'),
    );
    this.answered = true;
    this.update({ resumed: true, phase: 'talking', answeredAt: new Date(firstIntervalAt), intervalsCharged: records.length });
    if (!bridged) {
      const charged = await this.dbStep('charging the rest of the call', () =>
        charging.catchUpOnly(firstIntervalAt, records.map((r) => r.interval)),
      );
      if (charged === STOP) return;
      this.update({ intervalsCharged: charged });
      this.decide('taken-over-ended', 'taken over after a restart; the bridge had ended');
      return this.hangup('taken-over-ended', 'bridge ended', undefined, TAKEN_OVER_CAUSE);
    }
    charging.resume(firstIntervalAt, records.map((r) => r.interval));
  }

  private onAnswer(via: string, ev: EslEvent): void {
    if (this.answered || !this.charging || this.charging.state === 'stopped') return;
    this.answered = true;
    // Interval 1 starts at the answer as FreeSWITCH dates it.
    const at = this.fromSwitchTime(ev.get('Event-Date-Timestamp')) ?? this.now();
    this.log.info(`answered (${via}): charging starts`);
    this.update({ phase: 'talking', answeredAt: new Date(at) });
    // Step 9: stops the ringing timer, charges interval 1 at once.
    this.charging.answered(at);
  }

  private onHangupComplete(ev: EslEvent): void {
    // Step 10: every timer stops.
    this.charging?.stop();
    const cause = ev.get('Hangup-Cause');
    this.log.info(`CHANNEL_HANGUP_COMPLETE (${cause ?? 'no cause'})`);
    if (cause) this.update({ hangupCause: cause });
  }

  /** CHANNEL_HANGUP or a disconnect notice: no interval may start any more. */
  private onChannelDown(cause: string | undefined): void {
    this.charging?.stop();
    if (cause) this.update({ hangupCause: cause });
    if (this.answered && cause === PAID_TIME_OVER) this.decide('cut-off', 'FreeSWITCH ended the call at the end of its paid time');
    else if (this.answered) this.decide('completed', `hung up (${cause ?? 'no cause'})`);
    else if (this.report.phase === 'ringing' && cause && !CALLER_GAVE_UP.has(cause)) {
      // FreeSWITCH hung the caller up because the bridge failed (busy, rejected, ...).
      this.decide('not-answered', `bridge failed: ${cause}`);
    } else this.decide('abandoned', `the caller hung up before an answer (${cause ?? 'no cause'})`);
  }

  private abandonedBeforeAnswer(): void {
    this.decide('abandoned', 'the caller hung up before an answer');
  }

  /**
   * Ask FreeSWITCH to hang the call up. When the call's own socket cannot do it, fall back to the
   * api connection; either way the outcome is recorded first.
   */
  private async hangup(outcome: CallOutcome, detail: string, reason?: HangupReason, cause?: string): Promise<void> {
    this.decide(outcome, detail);
    this.charging?.stop();
    if (this.hangupAsked) return;
    this.hangupAsked = true;
    const hangupCause = cause ?? (reason ? HANGUP_CAUSE[reason] : 'NORMAL_CLEARING');
    this.update({ phase: 'hanging-up', hangupRequested: hangupCause });
    this.armGrace();
    if (this.call.hungUp) return;
    try {
      if (!this.call.connected) throw new Error('the call socket is closed');
      await this.call.hangup(hangupCause, { timeout: this.server.hangupGraceMs });
      this.log.info(`hangup ${hangupCause} sent`);
      this.armEscalation(hangupCause);
    } catch (err) {
      if (this.call.hungUp) return;
      this.log.error(`hangup through the call socket failed: ${describeError(err)}`);
      await this.server.killThroughApi(this.call.uuid, this.log);
    }
  }

  /** Still up a while after the hangup request: kill it outright. */
  private armEscalation(cause: string): void {
    this.escalationTimer = setTimeout(() => {
      if (this.call.hungUp) return;
      this.log.warn(`still up ${this.server.hangupEscalationMs} ms after the hangup request: uuid_kill`);
      const kill = this.call.connected
        ? this.call.api(`uuid_kill ${this.call.uuid} ${cause}`, { timeout: this.server.hangupGraceMs })
        : Promise.reject(new Error('the call socket is closed'));
      kill.then(
        (reply) => this.log.info(`uuid_kill: ${reply.trim()}`),
        async (err: unknown) => {
          if (this.call.hungUp) return;
          this.log.error(`uuid_kill through the call socket failed: ${describeError(err)}`);
          await this.server.killThroughApi(this.call.uuid, this.log);
        },
      );
    }, this.server.hangupEscalationMs);
    void this.call.ended.then(() => clearTimeout(this.escalationTimer));
  }

  /** Step 3's way out: `bgapi uuid_kill <uuid>` on the call's own socket. */
  private async killThroughSocket(uuid: string): Promise<void> {
    this.charging?.stop();
    this.hangupAsked = true;
    this.update({ phase: 'hanging-up', hangupRequested: 'uuid_kill' });
    this.armGrace();
    try {
      // Usually the session ends (rejecting with EslHangupError) before the job reports back.
      const text = await this.call.bgapi(`uuid_kill ${uuid}`, { timeout: this.server.hangupGraceMs });
      this.log.debug(`uuid_kill: ${text.trim()}`);
    } catch (err) {
      if (this.call.hungUp) return;
      this.log.error(`bgapi uuid_kill failed: ${describeError(err)}`);
      await this.server.killThroughApi(uuid, this.log);
    }
  }

  /** Server shutdown deadline: no one will charge this call any more, so it must end. */
  shutdown(): void {
    if (this.gone) return;
    this.log.warn('server shutting down: hanging the call up');
    void this.hangup('shutdown', 'server shut down', undefined, 'SYSTEM_SHUTDOWN');
  }

  /** The server is being destroyed: stop charging (the socket goes away with it). */
  abandonCharging(): void {
    this.charging?.stop();
  }

  /** After a hangup request FreeSWITCH ends the session itself; if it never does, leave. */
  private armGrace(): void {
    if (this.graceTimer !== undefined) return;
    this.graceTimer = setTimeout(() => {
      this.log.warn('no end of session after the hangup request: closing the socket');
      void this.call.close();
    }, this.server.hangupGraceMs);
    void this.call.ended.then(() => clearTimeout(this.graceTimer));
  }

  /** Waits for the socket session to end, then records how. */
  private async waitForEnd(): Promise<void> {
    const { call } = this;
    const end = await call.ended;
    clearTimeout(this.graceTimer);
    clearTimeout(this.escalationTimer);
    this.charging?.stop();
    await this.charging?.whenIdle();
    // The socket went away while the channel may still be up and billable: make sure it ends.
    // (FreeSWITCH's scheduled hangup ends it at the end of its paid time anyway.)
    if (!call.hungUp && !this.hangupAsked && (end.reason === 'closed' || end.reason === 'error')) {
      this.log.error(`call socket lost (${end.reason}${end.error ? `: ${describeError(end.error)}` : ''}) while the call was up`);
      this.decide('socket-lost', `call socket lost (${end.reason})`);
      this.hangupAsked = true;
      await this.server.killThroughApi(call.uuid, this.log);
    }
    if (!this.outcomeLocked) this.decide(this.answered ? 'completed' : 'abandoned', `session ended (${end.reason})`);
    // Charged for exactly the intervals the call started: only for a channel known to be down,
    // whose end is known.
    if (this.charging && this.answered && call.hungUp) {
      try {
        const settled = await this.charging.settle(this.hungUpAt ?? this.now());
        if (settled.charged > 0) this.log.info(`charged ${settled.charged} interval(s) started before the end`);
        if (settled.givenBack > 0) this.log.info(`gave back ${settled.givenBack} interval(s) charged ahead and never started`);
      } catch (err) {
        this.log.error(`could not settle the call's last intervals: ${describeError(err)}`);
      }
    }
    const changes: Partial<CallReport> = { phase: 'ended', sessionEnd: end.reason, endedAt: new Date() };
    if (end.hangupCause) changes.hangupCause = end.hangupCause;
    if (this.charging?.remaining !== undefined) changes.remaining = this.charging.remaining;
    Object.assign(this.report, changes);
    if (this.charging && this.charging.intervalsCharged > 0) this.report.intervalsCharged = this.charging.intervalsCharged;
    // Only a call whose channel is known to be down has finished charging; after a lost socket
    // the channel may still be talking, and whoever gets it next must charge the rest.
    if (this.report.intervalsCharged > 0 && call.hungUp) {
      // Mark the charging of this call complete, so a later takeover sells nothing more.
      try {
        await this.server.store.finishCall({
          account: this.report.account,
          call: call.uuid,
          intervalsCharged: this.report.intervalsCharged,
          outcome: this.report.outcome ?? 'completed',
          server: this.server.serverName,
        });
      } catch (err) {
        this.log.error(`could not mark the call finished: ${describeError(err)}`);
      }
    }
    this.log.info(
      `call ended: ${this.report.outcome} (${this.report.detail ?? ''}); ${this.report.intervalsCharged} interval(s) charged` +
        `${this.report.remaining === undefined ? '' : `, ${this.report.remaining} remaining`}; session ${end.reason}` +
        `${end.hangupCause ? `, cause ${end.hangupCause}` : ''}`,
    );
    this.server.notify('end', this.report);
  }
}
