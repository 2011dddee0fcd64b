/**
 * Hand-made raw ESL servers for client tests: a tiny scripted stand-in for FreeSWITCH's
 * mod_event_socket on 127.0.0.1 (OS-chosen port) that can misbehave on purpose — stall, close mid
 * frame, answer with the wrong reply type, restart. Default behaviour follows the captures in
 * test/fixtures (auth/request, "+OK accepted", "-ERR invalid" + disconnect notice, "+OK bye"…).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Command, CommandReader } from '../../src/protocol/command-reader.js';
import { urlEncode } from '../../src/protocol/encoding.js';

export const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

/** Return true when the command was handled; false to fall through to the default behaviour. */
export type CommandHandler = (cmd: Command, conn: FaultConnection) => boolean | void;

export interface FaultServerOptions {
  /** Password for `auth` (default ClueCon); userauth accepts `<user>:<password>` with any user. */
  password?: string;
  /** Called first for every command. */
  onCommand?: CommandHandler;
  /** Called for every accepted connection before anything is sent. Return false to send nothing (no auth/request). */
  onConnection?: (conn: FaultConnection) => boolean | void;
  /** Port to listen on (default 0 = chosen by the OS); used to "restart" on the same port. */
  port?: number;
}

export class FaultConnection {
  readonly received: Command[] = [];
  authenticated = false;
  /** Naive subscription state: type names, or ALL. */
  readonly subscribed = new Set<string>();
  private readonly reader: CommandReader;
  private readonly waiting: Array<(cmd: Command) => void> = [];
  private cursor = 0;
  readonly closed: Promise<void>;

  constructor(
    readonly socket: Socket,
    private readonly server: FaultServer,
  ) {
    this.reader = new CommandReader((cmd) => this.onCommand(cmd));
    socket.on('data', (chunk) => {
      try {
        this.reader.push(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** Resolves with the next command not yet taken by nextCommand() (in arrival order). */
  nextCommand(): Promise<Command> {
    if (this.cursor < this.received.length) return Promise.resolve(this.received[this.cursor++]!);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Waits until a command whose line starts with `prefix` has arrived (searching all received). */
  async waitFor(prefix: string): Promise<Command> {
    for (;;) {
      const found = this.received.find((c) => c.line.startsWith(prefix));
      if (found) return found;
      await this.nextCommand();
    }
  }

  write(data: string | Buffer): boolean {
    if (this.socket.destroyed) return false;
    return this.socket.write(data);
  }

  reply(text: string, extra = ''): void {
    this.write(`Content-Type: command/reply\nReply-Text: ${text}\n${extra}\n`);
  }

  apiResponse(body: string): void {
    this.write(`Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`);
  }

  /** A text/event-plain frame (values URL-encoded like FreeSWITCH; Content-Length before Content-Type). */
  event(headers: Record<string, string>, body?: string): void {
    this.write(plainEvent(headers, body));
  }

  disconnectNotice(text = GOODBYE): void {
    this.write(`Content-Type: text/disconnect-notice\nContent-Length: ${Buffer.byteLength(text)}\n\n${text}`);
  }

  logData(level: number, text: string, file = 'switch_test.c', func = 'test_func', line = 42): void {
    this.write(
      `Content-Type: log/data\nContent-Length: ${Buffer.byteLength(text)}\nLog-Level: ${level}\nText-Channel: 0\n` +
        `Log-File: ${file}\nLog-Func: ${func}\nLog-Line: ${line}\nUser-Data: \n\n${text}`,
    );
  }

  wantsEvent(name: string): boolean {
    return this.subscribed.has('ALL') || this.subscribed.has(name);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onCommand(cmd: Command): void {
    this.received.push(cmd);
    const w = this.waiting.shift();
    if (w) {
      this.cursor++;
      w(cmd);
    }
    if (this.server.options.onCommand?.(cmd, this) === true) return;
    defaultHandler(cmd, this, this.server.options.password ?? 'ClueCon');
  }
}

export function plainEvent(headers: Record<string, string>, body?: string): string {
  let inner = '';
  for (const [k, v] of Object.entries(headers)) inner += `${k}: ${urlEncode(v)}\n`;
  if (body !== undefined && body.length > 0) inner += `Content-Length: ${Buffer.byteLength(body)}\n\n${body}`;
  else inner += '\n';
  return `Content-Length: ${Buffer.byteLength(inner)}\nContent-Type: text/event-plain\n\n${inner}`;
}

/** Enough of mod_event_socket's parse_command for the client's happy paths. */
function defaultHandler(cmd: Command, conn: FaultConnection, password: string): void {
  const line = cmd.line;
  const word = line.split(' ')[0]!.toLowerCase();
  if (!conn.authenticated) {
    if (word === 'auth' || word === 'userauth') {
      const given = word === 'auth' ? line.slice(5) : line.slice(line.indexOf(':') + 1);
      if (given === password) {
        conn.authenticated = true;
        if (word === 'userauth') conn.reply('+OK accepted', 'Allowed-Events: all\nAllowed-API: all\nAllowed-LOG: true\n');
        else conn.reply('+OK accepted');
      } else {
        conn.reply('-ERR invalid');
        conn.disconnectNotice();
        conn.end();
      }
      return;
    }
    if (word === 'exit') {
      conn.reply('+OK bye');
      conn.disconnectNotice();
      conn.end();
      return;
    }
    conn.reply('-ERR command not found');
    return;
  }
  const rest = line.slice(word.length + 1);
  switch (word) {
    case 'api':
      // Echo: the body is the api command's text, so tests can check pairing.
      conn.apiResponse(rest);
      return;
    case 'bgapi': {
      const job = cmd.get('Job-UUID') ?? 'server-made-job-uuid';
      conn.reply(`+OK Job-UUID: ${job}`, `Job-UUID: ${job}\n`);
      if (conn.wantsEvent('BACKGROUND_JOB')) {
        conn.event({ 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': job, 'Job-Command': rest }, `+OK ran ${rest}\n`);
      }
      return;
    }
    case 'event': {
      const words = rest.split(' ');
      let format = 'plain';
      if (['plain', 'json', 'xml'].includes(words[0]!)) format = words.shift()!;
      for (const w of words) if (w) conn.subscribed.add(w.toUpperCase());
      conn.reply(`+OK event listener enabled ${format}`);
      return;
    }
    case 'nixevent':
      for (const w of rest.split(' ')) conn.subscribed.delete(w.toUpperCase());
      conn.reply('+OK events nixed');
      return;
    case 'noevents':
      conn.subscribed.clear();
      conn.reply('+OK no longer listening for events');
      return;
    case 'filter': {
      if (rest.startsWith('delete ')) {
        const [h, v] = splitOnce(rest.slice(7));
        conn.reply(`+OK filter deleted. [${h}][${v ?? '(null)'}]`);
      } else {
        const [h, v] = splitOnce(rest);
        conn.reply(`+OK filter added. [${h}]=[${v}]`);
      }
      return;
    }
    case 'log':
      conn.reply(`+OK log level ${rest} [7]`);
      return;
    case 'nolog':
      conn.reply('+OK no longer logging');
      return;
    case 'sendevent':
      conn.reply(`+OK ${cmd.get('Event-UUID') ?? '11111111-2222-3333-4444-555555555555'}`);
      return;
    case 'sendmsg':
      conn.reply('+OK');
      return;
    case 'divert_events':
      conn.reply('-ERR not controlling a session.');
      return;
    case 'exit':
      conn.reply('+OK bye');
      conn.disconnectNotice();
      conn.end();
      return;
    default:
      conn.reply('-ERR command not found');
  }
}

function splitOnce(s: string): [string, string | undefined] {
  const i = s.indexOf(' ');
  return i === -1 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

export class FaultServer {
  readonly connections: FaultConnection[] = [];
  private readonly waiting: Array<(c: FaultConnection) => void> = [];
  private connCursor = 0;

  private constructor(
    private readonly server: Server,
    readonly options: FaultServerOptions,
  ) {}

  static start(options: FaultServerOptions = {}): Promise<FaultServer> {
    const server = createServer();
    const fault = new FaultServer(server, options);
    server.on('connection', (socket) => fault.accept(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve(fault));
    });
  }

  get port(): number {
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('not listening');
    return addr.port;
  }

  /** The next connection not yet taken by nextConnection(), in accept order. */
  nextConnection(): Promise<FaultConnection> {
    if (this.connCursor < this.connections.length) return Promise.resolve(this.connections[this.connCursor++]!);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Stops listening and destroys every connection. */
  close(): Promise<void> {
    for (const c of this.connections) c.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const conn = new FaultConnection(socket, this);
    this.connections.push(conn);
    const w = this.waiting.shift();
    if (w) {
      this.connCursor++;
      w(conn);
    }
    if (this.options.onConnection?.(conn) === false) return;
    conn.write('Content-Type: auth/request\n\n');
  }
}

/** A port that was free a moment ago (nothing listens on it). */
export async function closedPort(): Promise<number> {
  const s = await FaultServer.start({ onConnection: () => false });
  const port = s.port;
  await s.close();
  return port;
}
