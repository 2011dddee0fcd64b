/**
 * A small raw fake of FreeSWITCH's outbound `socket` application for the server tests: a node:net
 * client that connects to our server like `socket host:port [async] [full]`, answers `connect`
 * with a connect reply shaped like the real capture (fixtures/outbound.bin), and answers the
 * session commands the way mod_event_socket does (PROTOCOL.md). It also lets a test do what the
 * simulator cannot: misbehave, stall, drop the socket, or replay exact bytes.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Command, CommandReader } from '../src/protocol/command-reader.js';
import { urlEncode, xmlEscape } from '../src/index.js';
import { fixture } from './helpers/fixtures.js';

const CAPTURE_UUID = 'e472aa1c-5b16-424e-bca7-d4704076c0ff';

/** The exact connect reply block of outbound.bin (headers + blank line). */
let capture: Buffer | undefined;
export function captureConnectReply(): Buffer {
  capture ??= fixture('outbound');
  return capture.subarray(0, capture.indexOf('\n\n') + 2);
}

export interface FakeCallOptions {
  uuid?: string;
  /** Socket mode: async (default) or static (sync: sendmsg runs inline, +OK after the app). */
  mode?: 'async' | 'static';
  full?: boolean;
  variables?: Record<string, string>;
  callerIdName?: string;
  callerIdNumber?: string;
  destination?: string;
  /** Digits a play_and_get_digits collects. */
  digits?: string;
  /** ms a playback takes. */
  playbackMs?: number;
  /** Do not answer commands at all (a stalled peer). */
  silent?: boolean;
}

type Format = 'plain' | 'json' | 'xml';

export class FakeCall {
  readonly socket: Socket;
  readonly uuid: string;
  readonly mode: 'async' | 'static';
  readonly full: boolean;
  readonly commands: Command[] = [];
  readonly variables: Map<string, string>;
  up = true;
  answered = false;
  myevents = false;
  allEvents = false;
  readonly eventTypes = new Set<string>();
  format: Format = 'plain';
  /** undefined: no linger; -1 forever; else seconds. */
  linger: number | undefined;
  exited = false;
  /** Called for each command before the default handling; return true to skip it. */
  intercept: ((cmd: Command, call: FakeCall) => boolean | Promise<boolean>) | undefined;
  readonly closed: Promise<void>;
  private readonly opts: FakeCallOptions;
  private readonly reader: CommandReader;
  private queue: Promise<void> = Promise.resolve();
  private waiters: Array<{ test: (c: Command) => boolean; resolve: (c: Command) => void }> = [];
  private running = new Set<NodeJS.Timeout>();
  private seq = 1000;
  private handled = 0;

  private constructor(socket: Socket, options: FakeCallOptions) {
    this.socket = socket;
    this.opts = options;
    this.uuid = options.uuid ?? randomUUID();
    this.mode = options.mode ?? 'async';
    this.full = options.full ?? true;
    this.variables = new Map(Object.entries(options.variables ?? {}));
    this.reader = new CommandReader((cmd) => this.onCommand(cmd));
    socket.on('data', (chunk) => {
      try {
        this.reader.push(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => {
      for (const t of this.running) clearTimeout(t);
      this.running.clear();
    });
  }

  static connect(port: number, options: FakeCallOptions = {}): Promise<FakeCall> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.off('error', reject);
        resolve(new FakeCall(socket, options));
      });
      socket.once('error', reject);
    });
  }

  /** Resolves with the next command (already received or still to come) matching `test`. */
  waitCommand(test: ((c: Command) => boolean) | string): Promise<Command> {
    const match = typeof test === 'string' ? (c: Command) => c.line.startsWith(test) : test;
    const seen = this.commands.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test: match, resolve }));
  }

  lines(): string[] {
    return this.commands.map((c) => c.line);
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  reply(text: string, extra = ''): void {
    this.write(`Content-Type: command/reply\nReply-Text: ${text}\n${extra}\n`);
  }

  apiResponse(body: string): void {
    this.write(`Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`);
  }

  /** The channel's event, if this connection is subscribed to it (MES event_handler). */
  sendEvent(name: string, headers: Record<string, string> = {}, body?: string, uniqueId: string | null = this.uuid): void {
    if (this.socket.destroyed) return;
    if (!(this.allEvents || this.eventTypes.has(name))) return;
    const all: Array<[string, string]> = [
      ['Event-Name', name],
      ['Core-UUID', '74b36429-3ff4-4d88-9ff7-ccc9745e901a'],
      ['Event-Sequence', String(this.seq++)],
    ];
    if (uniqueId !== null) {
      all.push(['Channel-Name', 'loopback/7001-b'], ['Unique-ID', uniqueId]);
      all.push(['Answer-State', this.answered ? 'answered' : 'ringing']);
    }
    for (const [k, v] of Object.entries(headers)) all.push([k, v]);
    if (uniqueId !== null) for (const [k, v] of this.variables) all.push([`variable_${k}`, v]);
    this.write(serializeEvent(this.format, all, body));
  }

  private onCommand(cmd: Command): void {
    this.commands.push(cmd);
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(cmd)) return true;
      w.resolve(cmd);
      return false;
    });
    if (this.opts.silent) return;
    // One command at a time, like the listener thread (a sync sendmsg blocks what follows).
    this.queue = this.queue.then(() => this.handle(cmd)).catch(() => {
      this.socket.destroy();
    });
  }

  private async handle(cmd: Command): Promise<void> {
    await this.handleCommand(cmd);
  }

  private async handleCommand(cmd: Command): Promise<unknown> {
    if (this.socket.destroyed || this.exited) return;
    if (this.intercept && (await this.intercept(cmd, this))) return;
    const line = cmd.line;
    const word = line.split(' ')[0]!.toLowerCase();
    if (this.handled++ === 0 && word !== 'connect') return; // first reply dropped (MES listener_run)
    const limited = !this.full && ['api', 'bgapi', 'linger', 'nolinger', 'event', 'nixevent', 'noevents', 'log', 'nolog', 'sendevent'].includes(word);
    if (limited) return this.reply('-ERR command not found');
    switch (word) {
      case 'connect':
        return this.write(this.connectReply());
      case 'myevents': {
        if (this.myevents) return this.reply('-ERR aready enabled.');
        this.myevents = true;
        for (const t of MYEVENTS) this.eventTypes.add(t);
        if (/json/i.test(line)) this.format = 'json';
        if (/xml/i.test(line)) this.format = 'xml';
        return this.reply('+OK Events Enabled');
      }
      case 'event': {
        const words = line.split(' ').slice(1);
        if (['plain', 'json', 'xml'].includes(words[0] ?? '')) this.format = words.shift() as Format;
        for (const w of words) {
          if (w === 'ALL') this.allEvents = true;
          else this.eventTypes.add(w);
        }
        return this.reply(`+OK event listener enabled ${this.format}`);
      }
      case 'linger': {
        const secs = line.slice(7).trim();
        this.linger = secs ? Number(secs) : -1;
        return this.reply(secs ? `+OK will linger ${secs} seconds` : '+OK will linger');
      }
      case 'nolinger':
        this.linger = undefined;
        return this.reply('+OK will not linger');
      case 'resume':
        this.variables.set('socket_resume', 'true');
        return this.reply('+OK');
      case 'filter': {
        const [, a, b, ...rest] = line.split(' ');
        if (a === 'delete') return this.reply(`+OK filter deleted. [${b}][${rest.join(' ')}]`);
        return this.reply(`+OK filter added. [${a}]=[${[b, ...rest].join(' ')}]`);
      }
      case 'divert_events':
        return this.reply(line.endsWith('on') ? '+OK events diverted' : '+OK events not diverted');
      case 'getvar': {
        const v = this.variables.get(line.slice(7));
        return this.reply(v ? v : '-ERR command not found');
      }
      case 'exit':
        this.exited = true;
        this.reply('+OK bye');
        return this.disconnect('disconnect');
      case 'api':
        return this.apiResponse(this.api(line.slice(4)));
      case 'bgapi': {
        const job = cmd.get('Job-UUID') ?? randomUUID();
        this.reply(`+OK Job-UUID: ${job}`, `Job-UUID: ${job}\n`);
        const command = line.slice(6);
        const out = this.api(command);
        setImmediate(() =>
          this.sendEvent(
            'BACKGROUND_JOB',
            { 'Job-UUID': job, 'Job-Command': command.split(' ')[0]!, 'Job-Owner-UUID': this.uuid },
            out,
            null,
          ),
        );
        return;
      }
      case 'sendmsg':
        return this.sendmsg(cmd);
      default:
        return this.reply('-ERR command not found');
    }
  }

  private api(command: string): string {
    const [name, ...args] = command.split(' ');
    if (name === 'echo') return args.join(' ');
    if (name === 'uuid_kill') {
      if (args[0] !== this.uuid) return '-ERR No such channel!\n';
      setImmediate(() => this.hangup(args[1] ?? 'NORMAL_CLEARING'));
      return '+OK\n';
    }
    if (name === 'status') return 'UP 0 years, 0 days\n';
    return `-ERR ${name} Command not found!\n`;
  }

  private async sendmsg(cmd: Command): Promise<void> {
    const callCommand = cmd.get('call-command');
    if (callCommand === 'hangup') {
      this.reply('+OK');
      this.hangup(cmd.get('hangup-cause') ?? 'NORMAL_CLEARING');
      return;
    }
    if (callCommand !== 'execute') return this.reply('+OK');
    const app = cmd.get('execute-app-name') ?? '';
    let arg = cmd.get('execute-app-arg') ?? '';
    if (arg === '' && cmd.get('content-type')?.toLowerCase() === 'text/plain') arg = cmd.bodyText;
    const appUuid = cmd.get('Event-UUID') ?? randomUUID();
    const loops = Number(cmd.get('loops') ?? 1);
    const inline = this.mode === 'static' && cmd.get('async') !== 'true';
    if (!inline) this.reply('+OK');
    const run = async () => {
      for (let i = 0; i < loops && this.up; i++) await this.runApp(app, arg, appUuid);
    };
    if (inline) {
      await run();
      this.reply('+OK');
    } else {
      void run();
    }
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.running.delete(t);
        resolve();
      }, ms);
      this.running.add(t);
    });
  }

  private async runApp(app: string, arg: string, appUuid: string): Promise<void> {
    if (!this.up) return;
    const known = ['answer', 'pre_answer', 'playback', 'set', 'hangup', 'play_and_get_digits', 'sleep', 'bridge', 'echo_arg'];
    if (!known.includes(app)) {
      // An unknown application hangs the channel up, and no EXECUTE event is sent (§7).
      this.hangup('DESTINATION_OUT_OF_ORDER');
      return;
    }
    const base = { Application: app, 'Application-Data': arg, 'Application-UUID': appUuid };
    this.sendEvent('CHANNEL_EXECUTE', base);
    let response = '_none_';
    switch (app) {
      case 'answer':
        this.answered = true;
        this.sendEvent('CHANNEL_ANSWER');
        break;
      case 'playback':
        await this.delay(this.opts.playbackMs ?? 5);
        if (!this.up) response = 'PLAYBACK ERROR';
        else response = 'FILE PLAYED';
        break;
      case 'sleep':
        await this.delay(Number(arg) || 0);
        break;
      case 'set': {
        const eq = arg.indexOf('=');
        this.variables.set(arg.slice(0, eq), arg.slice(eq + 1));
        break;
      }
      case 'echo_arg':
        response = arg;
        break;
      case 'play_and_get_digits': {
        const parts = arg.split(' ');
        this.variables.set(parts[7] ?? 'pagd_input', this.opts.digits ?? '');
        await this.delay(2);
        break;
      }
      case 'hangup':
        this.hangup(arg || 'NORMAL_CLEARING');
        break;
    }
    if (this.socket.destroyed) return;
    this.sendEvent('CHANNEL_EXECUTE_COMPLETE', { ...base, 'Application-Response': response });
  }

  /**
   * The channel goes down: CHANNEL_HANGUP, then (MES listener loop) the linger notice and the
   * remaining events, or the disconnect notice and the socket closes.
   */
  hangup(cause = 'NORMAL_CLEARING'): void {
    if (!this.up) return;
    this.up = false;
    this.sendEvent('CHANNEL_HANGUP', { 'Hangup-Cause': cause });
    if (this.linger !== undefined) {
      this.write(
        `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${this.uuid}\nContent-Disposition: linger\n` +
          `Channel-Name: loopback/7001-b\nLinger-Time: ${this.linger}\nContent-Length: 0\n\n`,
      );
      // The session thread fires HANGUP_COMPLETE only in async mode (§5); sync keeps it busy.
      if (this.mode === 'async') {
        setImmediate(() => this.sendEvent('CHANNEL_HANGUP_COMPLETE', { 'Hangup-Cause': cause }));
      }
      if (this.linger > 0) {
        const t = setTimeout(() => this.disconnect('disconnect'), this.linger * 1000);
        this.running.add(t);
      }
    } else {
      this.disconnect('disconnect');
    }
  }

  /** The no-linger / end-of-linger / exit notice, then FreeSWITCH closes the socket. */
  disconnect(disposition: 'disconnect'): void {
    const msg = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';
    this.write(
      `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${this.uuid}\nContent-Disposition: ${disposition}\n` +
        `Content-Length: ${Buffer.byteLength(msg)}\n\n${msg}`,
    );
    this.socket.end();
  }

  private connectReply(): Buffer {
    // The real capture's header block with this call's identity put in.
    let text = captureConnectReply().toString('utf8').replaceAll(CAPTURE_UUID, this.uuid);
    const lines = text.split('\n').filter((l) => l !== '');
    const set = (name: string, value: string) => {
      const i = lines.findIndex((l) => l.startsWith(`${name}: `));
      const line = `${name}: ${urlEncode(value)}`;
      if (i === -1) lines.splice(lines.indexOf('Content-Type: command/reply'), 0, line);
      else lines[i] = line;
    };
    if (this.opts.callerIdName !== undefined) set('Caller-Caller-ID-Name', this.opts.callerIdName);
    if (this.opts.callerIdNumber !== undefined) set('Caller-Caller-ID-Number', this.opts.callerIdNumber);
    if (this.opts.destination !== undefined) set('Caller-Destination-Number', this.opts.destination);
    for (const [k, v] of this.variables) set(`variable_${k}`, v);
    set('Socket-Mode', this.mode);
    set('Control', this.full ? 'full' : 'single-channel');
    text = `${lines.join('\n')}\n\n`;
    return Buffer.from(text, 'utf8');
  }
}

const MYEVENTS = [
  'CHANNEL_ANSWER', 'CHANNEL_APPLICATION', 'CHANNEL_BRIDGE', 'CHANNEL_CREATE', 'CHANNEL_DATA',
  'CHANNEL_DESTROY', 'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP',
  'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_ORIGINATE', 'CHANNEL_UUID', 'CHANNEL_OUTGOING', 'CHANNEL_PARK',
  'CHANNEL_PROGRESS', 'CHANNEL_PROGRESS_MEDIA', 'CHANNEL_STATE', 'CHANNEL_UNBRIDGE', 'CHANNEL_UNPARK',
  'DETECTED_SPEECH', 'DTMF', 'NOTALK', 'TALK',
];

/** An event frame as mod_event_socket writes it (Content-Length first, then Content-Type). */
export function serializeEvent(format: Format, headers: Array<[string, string]>, body?: string): string {
  let payload: string;
  if (format === 'json') {
    const obj: Record<string, string> = {};
    for (const [k, v] of headers) obj[k] = v;
    if (body !== undefined) {
      obj['Content-Length'] = String(Buffer.byteLength(body));
      obj['_body'] = body;
    }
    payload = JSON.stringify(obj);
  } else if (format === 'xml') {
    const hs = headers.map(([k, v]) => `    <${k}>${xmlEscape(urlEncode(v))}</${k}>`).join('\n');
    const tail = body ? `\n  <Content-Length>${Buffer.byteLength(body)}</Content-Length>\n  <body>${xmlEscape(body)}</body>` : '';
    payload = `<event>\n  <headers>\n${hs}\n  </headers>${tail}\n</event>`;
  } else {
    payload = headers.map(([k, v]) => `${k}: ${urlEncode(v)}\n`).join('');
    if (body) payload += `Content-Length: ${Buffer.byteLength(body)}\n\n${body}`;
    else payload += '\n';
  }
  return `Content-Length: ${Buffer.byteLength(payload)}\nContent-Type: text/event-${format}\n\n${payload}`;
}

export { Command };
