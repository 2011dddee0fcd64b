import type { Socket } from 'node:net';
import { Command, CommandReader } from '../protocol/command-reader.js';
import { serializeEventPlain } from '../protocol/event-serializer.js';
import { EVENT_NAMES, type EventFormat } from '../protocol/event.js';
import { logLevelFromText } from '../protocol/log-levels.js';
import type { Channel, PrivateMessage } from './channel.js';
import { type Delivery, type DeliveryTarget, cachedEventFrame } from './delivery.js';
import { isTrue } from './engine.js';
import { type EventFactory, SITES, SimEvent, newUuid } from './events.js';
import type { ResolvedOptions } from './options.js';
import type { TimerSet } from './timers.js';

/** What a listener needs from the switch (implemented by Simulator). */
export interface ListenerHost {
  readonly options: ResolvedOptions;
  readonly factory: EventFactory;
  readonly timers: TimerSet;
  /** Which connections receive which events and log lines; a connection re-indexes itself here. */
  readonly delivery: Delivery<Connection>;
  channel(uuid: string): Channel | undefined;
  fire(event: SimEvent): void;
  runMessage(ch: Channel, msg: PrivateMessage, queued: boolean): Promise<void>;
  /** `api <cmd> <arg>`: the output, or `-ERR <cmd> Command not found!`. */
  runApi(cmd: string, arg: string | undefined, session?: Channel): Promise<string>;
  /** `api <line>` with `console_execute: true`: the line run by the console executor. */
  runConsoleLine(line: string): Promise<string>;
  runBackgroundJob(jobUuid: string, cmd: string, arg: string | undefined, ownerUuid: string | undefined): void;
  /** A sendevent went to a session's own queue. */
  sessionEventQueued(ch: Channel): void;
  connectionClosed(c: Connection): void;
}

/** The normal disconnect notice text (MES send_disconnect callers): 67 bytes. */
export const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

/** The 23 per-channel event types `myevents` subscribes to (MES parse_command). */
const MYEVENTS_TYPES = [
  'CHANNEL_ANSWER', 'CHANNEL_APPLICATION', 'CHANNEL_BRIDGE', 'CHANNEL_CREATE', 'CHANNEL_DATA', 'CHANNEL_DESTROY',
  'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_ORIGINATE',
  'CHANNEL_UUID', 'CHANNEL_OUTGOING', 'CHANNEL_PARK', 'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_STATE',
  'CHANNEL_UNBRIDGE', 'CHANNEL_UNPARK', 'DETECTED_SPEECH', 'DTMF', 'NOTALK', 'TALK',
];

/** Per-connection queue size (MES MAX_QUEUE_LEN) and the losses tolerated before the kill (MAX_MISSED). */
const MAX_QUEUE_LEN = 100_000;
const MAX_MISSED = 500;


/** Options of an outbound (socket application) connection. */
export interface OutboundMode {
  session: Channel;
  async: boolean;
  full: boolean;
}

/**
 * One mod_event_socket listener: an inbound client connection, or the connection the `socket`
 * application made to a program (outbound). Reads commands with the protocol core's
 * CommandReader, answers them in order, and writes queued events and log lines only while no
 * command is being read or run (MES read_packet).
 */
export class Connection implements DeliveryTarget {
  readonly outbound: boolean;
  readonly full: boolean;
  session: Channel | undefined;
  /** LFLAG_ASYNC. */
  async: boolean;
  authed: boolean;
  closed = false;
  /** True once `connect` arrived (outbound). */
  connected = false;
  /** True once `connect` and the commands received along with it have been handled. */
  caughtUpAfterConnect = false;
  /** Resolves when the connection has closed. */
  readonly done: Promise<void>;

  private readonly reader: CommandReader;
  private readonly pending: Command[] = [];
  private processing = false;
  private commandsSeen = 0;
  private format: EventFormat = 'plain';
  private eventsOn = false;
  private readonly eventList = new Set<string>();
  private readonly subclasses = new Set<string>();
  private allSubclasses = false;
  private myevents = false;
  private filters: Array<[string, string]> = [];
  private logOn = false;
  private logLevel = 7;
  private allowLog = true;
  private allowedEvents: Set<string> | undefined;
  private allowedSubclasses: Set<string> | undefined;
  private allEventsAuthed = false;
  private allowedApi: Set<string> | undefined;
  private linger = false;
  private lingerSecs = -1;
  private handleDisco = false;
  private readonly events: SimEvent[] = [];
  private readonly logs: Buffer[] = [];
  private lostEvents = 0;
  private lostLogs = 0;
  private firstCommandTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private resolveDone!: () => void;

  constructor(
    private readonly sim: ListenerHost,
    readonly socket: Socket,
    outbound?: OutboundMode,
  ) {
    this.outbound = outbound !== undefined;
    this.full = outbound?.full ?? true;
    this.async = outbound?.async ?? false;
    this.session = outbound?.session;
    this.authed = this.outbound; // outbound connections count as authenticated (MES socket_function)
    if (this.session) this.session.holders.add(this);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.reader = new CommandReader((cmd) => {
      this.pending.push(cmd);
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close(false));
    socket.on('close', () => this.close(false));
    // Both sides get 25 s for the first command (MES read_packet(listener, &event, 25)).
    this.firstCommandTimer = sim.timers.set(() => {
      if (this.commandsSeen === 0) this.finish();
    }, sim.options.firstCommandTimeoutMs);
    sim.delivery.update(this);
  }

  // ---------------------------------------------------------------- what the delivery index reads

  get sessionUuid(): string | undefined {
    return this.session?.uuid;
  }

  get sessionScoped(): boolean {
    return this.myevents && this.session !== undefined;
  }

  get subscribedTypes(): ReadonlySet<string> {
    return this.eventsOn ? this.eventList : NO_EVENTS;
  }

  get logging(): boolean {
    return this.logOn;
  }

  get literalFilters(): ReadonlyArray<readonly [string, string]> | undefined {
    if (this.filters.length === 0) return undefined;
    const literal: Array<[string, string]> = [];
    for (const [name, raw] of this.filters) {
      const { pos, compare } = filterValue(raw);
      if (!pos || raw.startsWith('/')) return undefined;
      literal.push([name, compare]);
    }
    return literal;
  }

  /** Runs a command that may change what this connection receives, then re-indexes it. */
  private resubscribe<T>(reply: T): T {
    this.sim.delivery.update(this);
    return reply;
  }

  /** Starts an inbound connection: ACL check, then `auth/request`. Returns false if rejected. */
  startInbound(remoteAllowed: boolean): boolean {
    if (!remoteAllowed) {
      const message = 'Access Denied, go away.\n';
      this.write(`Content-Type: text/rude-rejection\nContent-Length: ${Buffer.byteLength(message)}\n\n${message}`);
      this.finish();
      return false;
    }
    this.write('Content-Type: auth/request\n\n');
    return true;
  }

  // ---------------------------------------------------------------- input

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.reader.push(chunk);
    } catch {
      // An out-of-range Content-Length or an oversized block drops the connection (MES read_packet).
      this.close(true);
      return;
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.pending.length > 0 && !this.closed) {
        const cmd = this.pending.shift()!;
        this.commandsSeen++;
        if (this.commandsSeen === 1) this.sim.timers.cancel(this.firstCommandTimer);
        const reply = await this.execute(cmd);
        if (this.closed) return;
        // The reply to an outbound connection's first command is never sent, unless it is connect (MES listener_run).
        const dropped = this.outbound && this.commandsSeen === 1;
        if (reply !== undefined && !dropped) this.writeReply(reply);
        if (this.connected && !this.caughtUpAfterConnect && this.pending.length === 0) {
          // Everything that came with `connect` has been handled: the socket application may park.
          this.caughtUpAfterConnect = true;
          this.session?.poke();
        }
        if (this.stopAfterReply) {
          this.finish();
          return;
        }
        // FreeSWITCH queues events for a listener from the threads that fire them, and checks the
        // subscription and filters at that moment (mod_event_socket.c event_handler), while this
        // listener's own thread reads its next command: events fired between two pipelined
        // commands are queued under the state the first one left. Let them in here too.
        if (this.pending.length > 0 && CHANGES_DELIVERY.test(cmd.line)) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.processing = false;
    }
    this.schedulePump();
  }

  private stopAfterReply = false;

  private writeReply(reply: string): void {
    // A leading '~' marks a reply that carries its own headers (MES listener_run).
    if (reply.startsWith('~')) this.write(`Content-Type: command/reply\n${reply.slice(1)}`);
    else this.write(`Content-Type: command/reply\nReply-Text: ${truncateReply(reply)}\n\n`);
  }

  /**
   * MES parse_command. Returns the reply text (undefined when the command wrote its own answer,
   * like api and connect).
   */
  private async execute(command: Command): Promise<string | undefined> {
    let line = command.line;
    // Unload shortcut: any command naming (un|re)load and mod_event_socket becomes an api bgapi.
    const raw = [command.line, ...command.headers.map(([n, v]) => `${n}: ${v}`)].join('\n').toLowerCase();
    if (raw.includes('mod_event_socket')) {
      if (raw.includes('unload')) line = 'api bgapi unload mod_event_socket';
      else if (raw.includes('reload')) line = 'api bgapi reload mod_event_socket';
    }
    const lower = line.toLowerCase();
    const starts = (p: string): boolean => lower.startsWith(p);

    if (starts('exit') || starts('...')) {
      this.stopAfterReply = true;
      return '+OK bye';
    }

    if (!this.authed) {
      if (starts('auth ')) {
        if (line.slice(5) === this.sim.options.password) {
          this.authed = true;
          return '+OK accepted';
        }
        this.stopAfterReply = true;
        return '-ERR invalid';
      }
      if (starts('userauth ')) return this.userauth(line.slice(9));
      return '-ERR command not found';
    }

    if (starts('filter ')) return this.resubscribe(this.filterCommand(line.slice(7)));

    if (this.session && starts('resume')) {
      this.session.setVar('socket_resume', 'true');
      return '+OK';
    }

    if (this.session || starts('myevents ')) {
      if (starts('connect')) {
        this.connected = true;
        this.writeConnectReply();
        this.session?.poke();
        return undefined;
      }
      if (starts('getvar')) {
        const sp = line.indexOf(' ');
        const value = sp === -1 ? '' : (this.session?.getVar(line.slice(sp + 1)) ?? '');
        return value === '' ? '-ERR command not found' : value;
      }
      if (starts('myevents')) return this.resubscribe(this.myeventsCommand(line));
    }

    if (starts('divert_events')) {
      if (!this.session) return '-ERR not controlling a session.';
      const value = line.slice(13).replace(/^ +/, '');
      if (value === '') return '-ERR missing value.';
      const on = value.toLowerCase() === 'on';
      this.session.divertEvents = on;
      if (on) this.schedulePump();
      return on ? '+OK events diverted' : '+OK events not diverted';
    }

    if (starts('sendmsg')) return this.sendmsg(command, line);

    // Outbound without `full`: everything below is refused (MES LFLAG_OUTBOUND && !LFLAG_FULL).
    if (this.outbound && !this.full) return '-ERR command not found';

    if (starts('sendevent')) return this.sendevent(command, line);
    if (starts('api ')) return this.api(line.slice(4), isTrue(command.get('console_execute')));
    if (starts('bgapi ')) return this.bgapi(command, line.slice(6));
    if (starts('log')) {
      if (!this.allowLog) return '-ERR permission denied';
      const arg = line.slice(3).replace(/^ +/, '').split(' ')[0] ?? '';
      const level = arg === '' ? 7 : logLevelFromText(arg);
      if (level === undefined) return '-ERR invalid log level';
      this.logLevel = level;
      this.logOn = true;
      return this.resubscribe(`+OK log level ${arg} [${level}]`);
    }
    if (starts('linger')) {
      if (!this.session) return '-ERR not controlling a session';
      // `linger <secs>` or bare `linger` = forever (-1) (MES parse_command).
      const arg = line.slice(6);
      this.lingerSecs = arg.startsWith(' ') && arg.length > 1 ? atoi(arg.slice(1)) : -1;
      this.linger = true;
      return this.lingerSecs !== -1 ? `+OK will linger ${this.lingerSecs} seconds` : '+OK will linger';
    }
    if (starts('nolinger')) {
      if (!this.session) return '-ERR not controlling a session';
      this.linger = false;
      return '+OK will not linger';
    }
    if (starts('nolog')) {
      this.logs.length = 0;
      if (!this.logOn) return '-ERR not loging';
      this.logOn = false;
      return this.resubscribe('+OK no longer logging');
    }
    if (starts('event')) return this.resubscribe(this.eventCommand(line));
    if (starts('nixevent')) return this.resubscribe(this.nixeventCommand(line));
    if (starts('noevents')) {
      this.events.length = 0;
      if (!this.eventsOn) return '-ERR not listening for events';
      this.eventsOn = false;
      this.eventList.clear();
      this.subclasses.clear();
      this.allSubclasses = false;
      return this.resubscribe('+OK no longer listening for events');
    }
    return '-ERR command not found';
  }

  private userauth(arg: string): string {
    // user@domain:pass or user:pass@domain (MES parse_command)
    let user = arg;
    let domain: string | undefined;
    let pass: string | undefined;
    const at = user.indexOf('@');
    if (at !== -1) {
      domain = user.slice(at + 1);
      user = user.slice(0, at);
    }
    if (domain !== undefined) {
      const c = domain.indexOf(':');
      if (c !== -1) {
        pass = domain.slice(c + 1);
        domain = domain.slice(0, c);
      }
    }
    const c2 = user.indexOf(':');
    if (c2 !== -1) {
      pass = user.slice(c2 + 1);
      user = user.slice(0, c2);
    }
    const account = user && domain ? this.sim.options.users[`${user}@${domain}`] : undefined;
    if (!account || !account.password || !pass || account.password !== pass) {
      this.stopAfterReply = true;
      return '-ERR invalid';
    }
    let eventsReply = 'Allowed-Events: all\n';
    let apiReply = 'Allowed-API: all\n';
    const allowedLog = account.allowedLog ?? true;
    this.allowLog = allowedLog;
    if (account.allowedEvents) {
      eventsReply = `Allowed-Events: ${account.allowedEvents}\n`;
      this.allowedEvents = new Set();
      this.allowedSubclasses = new Set();
      let custom = false;
      for (const word of splitList(account.allowedEvents)) {
        if (custom) {
          this.allowedSubclasses.add(word);
          continue;
        }
        const name = eventName(word);
        if (!name) continue;
        if (name === 'ALL') this.allEventsAuthed = true;
        this.allowedEvents.add(name);
        if (name === 'CUSTOM') custom = true;
      }
    }
    if (account.allowedApi) {
      apiReply = `Allowed-API: ${account.allowedApi}\n`;
      this.allowedApi = new Set(splitList(account.allowedApi));
    }
    this.authed = true;
    return `~Reply-Text: +OK accepted\n${eventsReply}${apiReply}Allowed-LOG: ${allowedLog ? 'true' : 'false'}\n\n`;
  }

  private filterCommand(rest: string): string {
    let name = rest.replace(/^ +/, '');
    let value: string | undefined;
    const sp = name.indexOf(' ');
    if (sp !== -1) {
      value = name.slice(sp + 1);
      name = name.slice(0, sp);
    }
    if (name.toLowerCase() === 'delete' && value !== undefined) {
      name = value;
      value = undefined;
      const sp2 = name.indexOf(' ');
      if (sp2 !== -1) {
        value = name.slice(sp2 + 1);
        name = name.slice(0, sp2);
      }
      if (name.toLowerCase() === 'all') this.filters = [];
      else {
        const lower = name.toLowerCase();
        this.filters = this.filters.filter(([n, v]) => !(n.toLowerCase() === lower && (value === undefined || v === value)));
      }
      return `+OK filter deleted. [${name}][${value ?? ''}]`;
    }
    if (value !== undefined) {
      if (name.toLowerCase() === 'add') {
        name = value;
        value = undefined;
        const sp2 = name.indexOf(' ');
        if (sp2 !== -1) {
          value = name.slice(sp2 + 1);
          name = name.slice(0, sp2);
        }
      }
      // An empty value is not stored (switch_event_add_header_string), but the reply still echoes it.
      if (value) this.filters.push([name, value]);
      return `+OK filter added. [${name}]=[${value ?? '(null)'}]`;
    }
    return '-ERR invalid syntax';
  }

  private myeventsCommand(line: string): string {
    if (this.myevents) return '-ERR aready enabled.';
    if (!this.session) {
      // Inbound `myevents <uuid> [fmt]`: the format word is cut off before it is checked (MES quirk).
      const rest = line.slice(9);
      const sp = rest.indexOf(' ');
      const uuid = sp === -1 ? rest : rest.slice(0, sp);
      const ch = this.sim.channel(uuid);
      if (!ch) {
        if (sp !== -1) return '-ERR invalid uuid';
      } else {
        this.session = ch;
        ch.holders.add(this);
      }
      this.async = true;
      if (/xml/i.test(uuid)) this.format = 'xml';
      if (/json/i.test(uuid)) this.format = 'json';
    } else {
      if (line.includes('xml') || line.includes('XML')) this.format = 'xml';
      if (line.includes('json') || line.includes('JSON')) this.format = 'json';
    }
    for (const t of MYEVENTS_TYPES) this.eventList.add(t);
    this.myevents = true;
    this.eventsOn = true;
    return '+OK Events Enabled';
  }

  private eventCommand(line: string): string {
    const sp = line.indexOf(' ');
    let keys = 0;
    if (sp !== -1) {
      const words = line.slice(sp + 1).split(' ');
      let custom = false;
      for (let i = 0; i < words.length; i++) {
        const w = words[i]!;
        if (i === 0) {
          const f = w.toLowerCase();
          if (f === 'xml' || f === 'plain' || f === 'json') {
            this.format = f;
            continue;
          }
        }
        if (custom) {
          if (this.allowedSubclasses && !this.allowedSubclasses.has(w)) return '-ERR permission denied';
          this.subclasses.add(w);
          continue;
        }
        const name = eventName(w);
        if (!name) continue;
        if (this.allowedEvents && !this.allowedEvents.has(name) && !this.allEventsAuthed) return '-ERR permission denied';
        keys++;
        if (name === 'ALL') {
          this.eventList.add('ALL');
          if (this.allowedSubclasses) for (const s of this.allowedSubclasses) this.subclasses.add(s);
          else this.allSubclasses = true;
        } else this.eventList.add(name);
        if (name === 'CUSTOM') custom = true;
      }
    }
    if (keys === 0) return '-ERR no keywords supplied';
    this.eventsOn = true;
    this.schedulePump();
    return `+OK event listener enabled ${this.format}`;
  }

  private nixeventCommand(line: string): string {
    const sp = line.indexOf(' ');
    let keys = 0;
    if (sp !== -1) {
      let custom = false;
      for (const w of line.slice(sp + 1).split(' ')) {
        if (custom) {
          this.subclasses.delete(w);
          continue;
        }
        const name = eventName(w);
        if (!name) continue;
        keys++;
        if (name === 'CUSTOM') custom = true;
        else if (name === 'ALL') this.eventList.clear();
        else {
          if (this.eventList.has('ALL')) {
            // Removing one type while ALL is on switches to every-type-except-that-one (MES).
            this.eventList.delete('ALL');
            for (const n of EVENT_NAMES) if (n !== 'ALL') this.eventList.add(n);
          }
          this.eventList.delete(name);
        }
      }
    }
    if (keys === 0) return '-ERR no keywords supplied';
    this.eventsOn = true;
    return '+OK events nixed';
  }

  private async sendmsg(command: Command, line: string): Promise<string> {
    let uuid: string | undefined = line.slice(7).replace(/^ +/, '');
    if (uuid === '') uuid = command.get('session-id');
    const async = this.async || isTrue(command.get('async'));
    if (uuid && this.session && uuid === this.session.uuid) uuid = undefined;
    const msg = { command, line };
    if (!uuid && this.session) {
      if (async) this.session.queueMessage(msg);
      else await this.sim.runMessage(this.session, msg, false); // sync outbound: runs inline, +OK after
      return '+OK';
    }
    const target = uuid ? this.sim.channel(uuid) : undefined;
    if (target && !target.destroyed) {
      target.queueMessage(msg);
      return '+OK';
    }
    return `-ERR invalid session id [${uuid ?? ''}]`;
  }

  private sendevent(command: Command, line: string): string {
    const eventUuid = newUuid();
    const nameWord = line.slice(9).replace(/^[ \t]+/, '');
    const name = eventName(nameWord) ?? 'CLONE';
    const ev = new SimEvent(name === 'ALL' ? 'CLONE' : name);
    // The event is the command itself: Command header (first line), the client's headers, then Event-UUID.
    ev.add('Command', line);
    for (const [n, v] of command.headers) ev.add(n, v);
    ev.add('Event-UUID', eventUuid);
    const subclass = command.get('Event-Subclass');
    if (ev.name === 'CUSTOM' && subclass) {
      // switch_event_set_subclass_name puts Event-Subclass first (capture).
      const idx = ev.headers.findIndex(([n]) => n.toLowerCase() === 'event-subclass');
      if (idx !== -1) ev.headers.splice(idx, 1);
      ev.addTop('Event-Subclass', subclass);
    }
    if (command.body !== undefined) ev.body = command.bodyText.split('\0')[0];
    const target = command.get('unique-id');
    const ch = target ? this.sim.channel(target) : undefined;
    this.sim.factory.appendStandard(ev, SITES.sendevent);
    if (ch && !ch.destroyed) {
      // Queued on the session instead of being fired (MES sendevent): only divert_events shows it.
      ch.sessionEvents.push(ev);
      this.sim.sessionEventQueued(ch);
    } else this.sim.fire(ev);
    return `+OK ${eventUuid}`;
  }

  private apiAllowed(cmd: string, arg: string | undefined): boolean {
    if (!this.allowedApi) return true;
    if (!this.allowedApi.has(cmd)) return false;
    // These run another command: its name is checked too (MES auth_api_command).
    if (['bgapi', 'sched_api', 'eval', 'expand', 'xml_wrap'].includes(cmd) && arg) {
      const sp = arg.indexOf(' ');
      return this.apiAllowed(sp === -1 ? arg : arg.slice(0, sp), sp === -1 ? undefined : arg.slice(sp + 1));
    }
    return true;
  }

  /**
   * MES parse_command `api`: the command runs in this listener's thread and its output goes out as
   * api/response. With a `console_execute: true` header (fs_cli -x sends it) the whole text is one
   * console line (switch_console_execute), so an unknown command is reported with all of it.
   */
  private async api(text: string, consoleExecute: boolean): Promise<string | undefined> {
    const sp = text.indexOf(' ');
    const cmd = sp === -1 ? text : text.slice(0, sp);
    const arg = sp === -1 ? undefined : text.slice(sp + 1);
    if (!this.apiAllowed(cmd, arg)) return '-ERR permission denied';
    const result = consoleExecute ? await this.sim.runConsoleLine(text) : await this.sim.runApi(cmd, arg, this.session);
    let body = result;
    if (body === '') body = '-ERR no reply\n';
    const bytes = Buffer.from(body, 'utf8');
    if (!this.closed) this.write(Buffer.concat([Buffer.from(`Content-Type: api/response\nContent-Length: ${bytes.length}\n\n`), bytes]));
    return undefined;
  }

  private bgapi(command: Command, text: string): string {
    const sp = text.indexOf(' ');
    const cmd = sp === -1 ? text : text.slice(0, sp);
    const arg = sp === -1 ? undefined : text.slice(sp + 1);
    if (!this.apiAllowed(cmd, arg)) return '-ERR permission denied';
    const jobUuid = (command.get('job-uuid') ?? newUuid()).slice(0, 36);
    this.sim.runBackgroundJob(jobUuid, cmd, arg, this.session?.uuid);
    return `~Reply-Text: +OK Job-UUID: ${jobUuid}\nJob-UUID: ${jobUuid}\n\n`;
  }

  /** The outbound `connect` reply: a CHANNEL_DATA event serialized as URL-encoded headers (MES parse_command). */
  private writeConnectReply(): void {
    const ev = this.sim.factory.create('CHANNEL_DATA', SITES.channelData);
    const ch = this.session;
    if (ch) {
      ch.addProfile(ev, 'Channel');
      ch.addBasicData(ev);
      ch.addExtendedData(ev);
    }
    ev.add('Content-Type', 'command/reply');
    ev.add('Reply-Text', '+OK\n');
    ev.add('Socket-Mode', this.async ? 'async' : 'static');
    ev.add('Control', this.full ? 'full' : 'single-channel');
    this.write(serializeEventPlain(ev.headers));
  }

  // ---------------------------------------------------------------- events and logs

  /** MES event_handler: subscription, filters and the myevents Unique-ID rule. */
  wants(ev: SimEvent): boolean {
    if (!this.eventsOn || this.closed) return false;
    let send = false;
    if (this.eventList.has('ALL')) send = true;
    else if (this.eventList.has(ev.name)) {
      const sub = ev.name === 'CUSTOM' ? ev.subclass : undefined;
      send = sub === undefined || this.allSubclasses || this.subclasses.has(sub);
    }
    if (send && this.filters.length > 0) send = this.passesFilters(ev);
    if (send && this.myevents) {
      const uuid = ev.get('unique-id');
      if (!uuid || (this.session && uuid !== this.session.uuid)) send = false;
      if (this.session && ev.get('Job-Owner-UUID') === this.session.uuid) send = true;
    }
    return send;
  }

  private passesFilters(ev: SimEvent): boolean {
    let send = false;
    for (const [name, raw] of this.filters) {
      const hval = ev.get(name);
      if (hval === undefined) continue;
      const { pos, compare } = filterValue(raw);
      if (send && pos) continue;
      // Only a value that itself starts with '/' is a regex; '-/x/' compares literally (MES event_handler).
      const match = raw.startsWith('/') ? regexMatch(hval, compare) : hval.toLowerCase() === compare.toLowerCase();
      if (match) {
        if (pos) send = true;
        else {
          send = false;
          break;
        }
      }
    }
    return send;
  }

  /** Queues an event if this connection wants it. */
  offer(ev: SimEvent): void {
    if (!this.wants(ev)) return;
    if (this.events.length >= MAX_QUEUE_LEN) {
      // A full queue loses the event; too many losses kill the listener (MES event_handler).
      if (++this.lostEvents > MAX_MISSED) this.finish('killed listener because of lost events\n');
      return;
    }
    this.lostEvents = 0;
    this.events.push(ev);
    this.schedulePump();
  }

  /** Queues a log line (log/data frame) if this connection logs at that level. */
  offerLog(frame: Buffer, level: number): void {
    if (!this.logOn || level > this.logLevel || this.closed) return;
    if (this.logs.length >= MAX_QUEUE_LEN) {
      if (++this.lostLogs > MAX_MISSED) this.finish('killed listener because of lost log lines\n');
      return;
    }
    this.lostLogs = 0;
    this.logs.push(frame);
    this.schedulePump();
  }

  /**
   * The controlled session hung up. When idle this is handled at once, as the listener loop
   * notices it on its next pass: the linger notice comes right after CHANNEL_HANGUP (capture),
   * before the events of the session's wind-down.
   */
  sessionDown(): void {
    if (this.closed || this.processing || this.reader.busy || this.pending.length > 0) this.schedulePump();
    else this.pump();
  }

  schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** One pass of read_packet's idle work: logs, events, then the session checks. */
  private pump(): void {
    if (this.closed || this.processing || this.reader.busy || this.pending.length > 0) return;
    const ch = this.session;
    if (ch && ch.divertEvents && ch.ready) {
      while (ch.sessionEvents.length > 0) this.events.push(ch.sessionEvents.shift()!);
    }
    // One socket write for everything this pass sends.
    this.socket.cork();
    try {
      this.flushQueued(ch);
    } finally {
      this.socket.uncork();
    }
  }

  private flushQueued(ch: Channel | undefined): void {
    const down = ch !== undefined && !ch.ready;
    // Where the session has its own thread (async outbound, inbound `myevents <uuid>`), it runs
    // through its wind-down while this listener sleeps in read_packet's 20 ms poll, so a socket
    // without linger still sends CHANNEL_UNPARK … CHANNEL_HANGUP_COMPLETE before the disconnect
    // notice (real FreeSWITCH 1.10.12, 8 sessions of 8). Here the listener waits for the session's
    // CHANNEL_HANGUP_COMPLETE. A sync socket's session is this listener: nothing of it can follow.
    const windingDown = ch !== undefined && down && this.async && !ch.reported;
    // read_packet sends what is queued before it checks switch_channel_down, so the pass that
    // notices the hangup still sends CHANNEL_HANGUP; only what would come later is lost (flush_listener).
    for (const frame of this.logs.splice(0)) this.write(frame);
    if (this.eventsOn) for (const ev of this.events.splice(0)) this.write(cachedEventFrame(ev, this.format));
    if (ch && down && !this.handleDisco && (this.linger || !windingDown)) {
      this.handleDisco = true;
      if (this.linger) {
        this.write(
          `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${ch.uuid}\nContent-Disposition: linger\n` +
            `Channel-Name: ${ch.name}\nLinger-Time: ${this.lingerSecs}\nContent-Length: 0\n\n`,
        );
        // FreeSWITCH compares whole seconds ("now > linger_timeout"): the socket closes after the full time.
        if (this.lingerSecs !== -1) this.lingerTimer = this.sim.timers.set(() => this.finish(), this.lingerSecs * 1000 + 1);
      } else {
        this.events.length = 0;
        this.finish();
      }
    }
  }

  // ---------------------------------------------------------------- output and close

  write(data: string | Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(data);
  }

  /** The end of listener_run: disconnect notice, close, release the session. */
  finish(message = GOODBYE): void {
    if (this.closed) return;
    const len = Buffer.byteLength(message);
    if (this.session) {
      this.write(`Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${this.session.uuid}\nContent-Disposition: disconnect\nContent-Length: ${len}\n\n${message}`);
    } else {
      this.write(`Content-Type: text/disconnect-notice\nContent-Length: ${len}\n\n${message}`);
    }
    this.socket.end();
    this.close(false);
  }

  /** Closes without a notice (peer closed, or a protocol error). */
  close(destroy: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.sim.timers.cancel(this.firstCommandTimer);
    this.sim.timers.cancel(this.lingerTimer);
    this.events.length = 0;
    this.logs.length = 0;
    if (destroy) this.socket.destroy();
    else if (!this.socket.destroyed) this.socket.end();
    const ch = this.session;
    if (ch) {
      if (this.outbound) ch.controlled = false; // CF_CONTROLLED cleared: park ends
      ch.release(this);
      ch.poke();
    }
    this.sim.connectionClosed(this);
    this.resolveDone();
  }
}

/** A filter's value: leading '+', '-' and spaces say whether it lets events in (MES event_handler). */
function filterValue(raw: string): { pos: boolean; compare: string } {
  let pos = true;
  let i = 0;
  for (; i < raw.length; i++) {
    const c = raw[i];
    if (c === '+') pos = true;
    else if (c === '-') pos = false;
    else if (c !== ' ') break;
  }
  return { pos, compare: raw.slice(i) };
}

/** Commands that change which events the listener queues. */
const CHANGES_DELIVERY = /^\s*(event|nixevent|noevents|filter|myevents)\b/i;

/** switch_name_event: case-insensitive, also with any 13-character prefix (SWITCH_EVENT_…). */
export function eventName(word: string): string | undefined {
  const upper = word.toUpperCase();
  if (EVENT_SET.has(upper)) return upper;
  if (upper.length > 13 && EVENT_SET.has(upper.slice(13))) return upper.slice(13);
  return undefined;
}

const EVENT_SET: ReadonlySet<string> = new Set(EVENT_NAMES);
const NO_EVENTS: ReadonlySet<string> = new Set();

function splitList(list: string): string[] {
  return list.split(list.includes(' ') ? ' ' : ',').filter(Boolean);
}

function atoi(text: string): number {
  const m = /^\s*[-+]?\d+/.exec(text);
  return m ? Number.parseInt(m[0], 10) : 0;
}

/** `Reply-Text` is built in a 512-byte buffer (MES listener_run `reply[512]`). */
function truncateReply(reply: string): string {
  const bytes = Buffer.from(reply, 'utf8');
  return bytes.length <= 511 ? reply : bytes.subarray(0, 511).toString('utf8');
}

/** A `/regex/flags` filter value (switch_regex); a bare pattern is used as is. */
function regexMatch(value: string, pattern: string): boolean {
  let source = pattern;
  let flags = '';
  const m = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  if (m) {
    source = m[1]!;
    flags = m[2]!.replace(/[^is]/g, '');
  } else if (pattern.startsWith('/')) {
    source = pattern.slice(1);
  }
  try {
    return new RegExp(source, flags).test(value);
  } catch {
    return false;
  }
}
