/**
 * End-to-end harness: the simulator as FreeSWITCH, a recording relay in front of the prepaid
 * server (so tests see every command the application sends, in order), and the database in
 * either storage mode:
 * - `embedded`: in-memory PouchDB behind a wrapper that can take the database down for real
 *   (closing the PouchDB handle) or fail / delay chosen operations;
 * - `http`: a CouchDB-compatible server (express-pouchdb) on 127.0.0.1, reached through PouchDB's
 *   HTTP adapter exactly as a real CouchDB would be; down means the listener is closed
 *   (connection refused), faults drop the matching requests' connections.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import PouchDB from 'pouchdb';
import memoryAdapter from 'pouchdb-adapter-memory';
import expressPouchdb from 'express-pouchdb';
import { Simulator, type SimulatorOptions } from 'freeswitch-esl/testing';
import { PrepaidServer, type CallReport, type PrepaidServerOptions } from '../src/prepaid-server.js';
import { PrepaidStore, type DocDatabase } from '../src/store.js';
import { VIEW_CALLS, VIEW_GIVEN_BACK } from '../src/design.js';
import { createLogger, formatRecord, type LogRecord } from '../src/log.js';

PouchDB.plugin(memoryAdapter);

/** `disk`: embedded PouchDB on disk in a temp dir (no fault injection; used for restarts). */
export type StorageMode = 'embedded' | 'http' | 'disk';

/** Logical database operations the tests can break. */
export type DbOp = 'ping' | 'account' | 'balance' | 'record' | 'records' | 'other';

interface Fault {
  op: DbOp;
  /** How many matching operations to affect (Infinity = until cleared). */
  remaining: number;
  kind: 'fail' | 'delay' | 'hang';
  ms: number;
}

/** Shared fault switchboard: both storage modes consult it. */
export class Faults {
  private faults: Fault[] = [];
  readonly seen: DbOp[] = [];
  fail(op: DbOp, times = 1): void {
    this.faults.push({ op, remaining: times, kind: 'fail', ms: 0 });
  }
  delay(op: DbOp, ms: number, times = 1): void {
    this.faults.push({ op, remaining: times, kind: 'delay', ms });
  }
  /** The operation never gets an answer. */
  hang(op: DbOp, times = Infinity): void {
    this.faults.push({ op, remaining: times, kind: 'hang', ms: 0 });
  }
  clear(): void {
    this.faults = [];
  }
  /** What to do with an operation (consumes one use of the matching fault). */
  take(op: DbOp): Fault | undefined {
    this.seen.push(op);
    const fault = this.faults.find((f) => f.op === op && f.remaining > 0);
    if (fault) fault.remaining--;
    return fault;
  }
}

function opOfId(id: string, method: 'get' | 'put'): DbOp {
  if (id.startsWith('account:') && method === 'get') return 'account';
  if (id.startsWith('ledger:') && method === 'put') return 'record';
  return 'other';
}

/** The balance is read from an account's credits and the newest entry of its ledger. */
function isBalanceRead(startkey: string): boolean {
  return startkey.startsWith('ledger:') || startkey.startsWith('credit:');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Embedded mode: an in-memory PouchDB whose handle can really be closed and reopened. */
class EmbeddedDatabase implements DocDatabase {
  private db: PouchDB.Database;
  constructor(
    private readonly name: string,
    private readonly faults: Faults,
  ) {
    this.db = new PouchDB(name, { adapter: 'memory' });
  }
  private async guard<T>(op: DbOp, run: () => Promise<T>): Promise<T> {
    const fault = this.faults.take(op);
    if (fault?.kind === 'fail') throw Object.assign(new Error('connect ECONNREFUSED (injected)'), { code: 'ECONNREFUSED' });
    if (fault?.kind === 'hang') return new Promise<T>(() => {});
    if (fault?.kind === 'delay') await sleep(fault.ms);
    return run();
  }
  info() {
    return this.guard('ping', () => this.db.info());
  }
  get(id: string) {
    return this.guard(opOfId(id, 'get'), () => this.db.get(id));
  }
  put(doc: PouchDB.Doc) {
    return this.guard(opOfId(doc._id, 'put'), () => this.db.put(doc));
  }
  allDocs(options?: Record<string, unknown>) {
    return this.guard(isBalanceRead(String(options?.['startkey'] ?? '')) ? 'balance' : 'other', () => this.db.allDocs(options));
  }
  query<V>(view: string, options?: Record<string, unknown>) {
    const records = view === VIEW_CALLS || view === VIEW_GIVEN_BACK;
    return this.guard(records && options?.['reduce'] === false ? 'records' : 'other', () => this.db.query<V>(view, options));
  }
  close() {
    return this.db.close();
  }
  destroy() {
    return new PouchDB(this.name, { adapter: 'memory' }).destroy();
  }
  /** A real outage: the PouchDB handle is closed; every operation fails until up(). */
  async down(): Promise<void> {
    await this.db.close();
  }
  up(): void {
    this.db = new PouchDB(this.name, { adapter: 'memory' });
  }
}

type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let couchApp: RequestHandler | undefined;
/**
 * One express-pouchdb application per process: it registers plugins on the PouchDB constructor,
 * and a second instance breaks the first (no_db_file). Each test gets its own listener and its
 * own database name on it.
 */
function sharedCouchApp(): RequestHandler {
  couchApp ??= expressPouchdb(PouchDB.defaults({ adapter: 'memory' }), {
    mode: 'minimumForPouchDB',
    inMemoryConfig: true,
    logPath: false,
  });
  return couchApp;
}

/** HTTP mode: express-pouchdb (CouchDB API) over in-memory PouchDB, on 127.0.0.1. */
export class CouchCompatibleServer {
  readonly server: http.Server;
  port = 0;
  private readonly sockets = new Set<net.Socket>();
  constructor(private readonly faults: Faults) {
    const app = sharedCouchApp();
    this.server = http.createServer((req, res) => void this.route(req, res, app));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }
  private async route(req: http.IncomingMessage, res: http.ServerResponse, app: (q: http.IncomingMessage, s: http.ServerResponse) => void) {
    const fault = this.faults.take(classify(req));
    if (fault?.kind === 'fail') {
      req.socket.destroy(); // the connection breaks mid-request
      return;
    }
    if (fault?.kind === 'hang') return; // never answers
    if (fault?.kind === 'delay') await sleep(fault.ms);
    app(req, res);
  }
  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }
  /** A real outage: stop listening and cut every connection (connection refused from now on). */
  async down(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
  async up(): Promise<void> {
    await this.listen(this.port);
  }
  async stop(): Promise<void> {
    if (this.server.listening) await this.down();
  }
}

/** A CouchDB query parameter (JSON-encoded) as a string, '' when absent or not a string. */
function jsonParam(url: URL, name: string): string {
  try {
    const value: unknown = JSON.parse(url.searchParams.get(name) ?? '""');
    return typeof value === 'string' ? value : '';
  } catch {
    return '';
  }
}

function classify(req: http.IncomingMessage): DbOp {
  const url = new URL(req.url ?? '/', 'http://x');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (req.method === 'GET' && parts.length === 1) return 'ping';
  const id = parts.slice(1).join('/');
  if (req.method === 'GET' && id.startsWith('account:')) return 'account';
  if (req.method === 'PUT' && id.startsWith('ledger:')) return 'record';
  if (id === '_all_docs' && isBalanceRead(jsonParam(url, 'startkey'))) return 'balance';
  if (id === '_design/prepaid/_view/calls' && url.searchParams.get('reduce') === 'false') return 'records';
  return 'other';
}

/**
 * A TCP relay between the simulator's `socket` application and the prepaid server, keeping
 * what the application sent on each connection.
 */
export class CommandTap {
  readonly server: net.Server;
  port = 0;
  target = 0;
  private readonly streams: string[] = [];
  private readonly fromFs: string[] = [];
  private readonly sockets = new Set<net.Socket>();
  constructor() {
    this.server = net.createServer((inbound) => {
      const index = this.streams.push('') - 1;
      this.fromFs.push('');
      const outbound = net.connect(this.target, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      outbound.on('data', (chunk: Buffer) => {
        this.streams[index] += chunk.toString('utf8');
        inbound.write(chunk);
      });
      inbound.on('data', (chunk: Buffer) => {
        if (this.fromFs[index]!.length < 65536) this.fromFs[index] += chunk.toString('utf8');
        outbound.write(chunk);
      });
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.end());
    });
  }
  async listen(target: number): Promise<number> {
    this.target = target;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }
  /** The channel uuid of each connection (from the connect reply), in connection order. */
  uuids(): Array<string | undefined> {
    return this.fromFs.map((text) => /^Unique-ID: (\S+)$/m.exec(text)?.[1]);
  }

  /** The commands the application sent on every connection so far, each as its first line. */
  commands(): string[][] {
    return this.streams.map((text) =>
      text
        .split('\n\n')
        .map((block) => block.trim())
        .filter(Boolean)
        .map((block) => {
          const lines = block.split('\n');
          if (lines[0] !== 'sendmsg') return lines[0]!;
          const get = (h: string) => lines.find((l) => l.toLowerCase().startsWith(h + ':'))?.slice(h.length + 1).trim();
          const command = get('call-command');
          return command === 'execute'
            ? `sendmsg execute ${get('execute-app-name')} ${get('execute-app-arg') ?? ''}`.trim()
            : `sendmsg ${command} ${get('hangup-cause') ?? ''}`.trim();
        }),
    );
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface AccountSeed {
  account: string;
  intervalDuration: number;
  credit: number;
}

export interface HarnessOptions {
  mode: StorageMode;
  accounts?: AccountSeed[];
  ringCheckMs?: number;
  opTimeoutMs?: number;
  server?: Partial<PrepaidServerOptions>;
  /** Extra simulator options (e.g. `sessionsPerSecond` for more calls a second than FreeSWITCH's 30). */
  simulator?: SimulatorOptions;
}

export interface PlaceCallOptions {
  account?: string;
  /** The `socket` argument (default: the harness's own server, through the recording relay). */
  socket?: string;
  /** Dial string of the far end (a `sim/<n>/<tokens>` endpoint). */
  target?: string;
  /** The caller hangs up this many ms after the call starts. */
  hangupAfterMs?: number;
  /** Simulator dialplan destination (default: run the socket application directly). */
  destination?: string;
}

export interface PlacedCall {
  uuid: string;
  /** The server's final report for this call. */
  end: Promise<CallReport>;
}

export class Harness {
  sim!: Simulator;
  store!: PrepaidStore;
  server!: PrepaidServer;
  readonly faults = new Faults();
  readonly tap = new CommandTap();
  readonly logs: LogRecord[] = [];
  readonly reports = new Map<string, CallReport[]>();
  private readonly waiting = new Map<string, (report: CallReport) => void>();
  private readonly finished = new Map<string, CallReport>();
  private readonly accountOf = new Map<string, string>();
  private embedded: EmbeddedDatabase | undefined;
  private embeddedName: string | undefined;
  couch: CouchCompatibleServer | undefined;
  /** When each channel hung up (Date.now() at its CHANNEL_HANGUP) and why. */
  readonly hungUp = new Map<string, { at: number; cause: string | undefined }>();
  /** Servers added with addServer(), stopped with the harness. */
  private readonly extraServers: Array<{ server: PrepaidServer; store: PrepaidStore }> = [];
  dataDir: string | undefined;
  couchUrl = '';
  serverPort = 0;

  constructor(readonly options: HarnessOptions) {}

  static async start(options: HarnessOptions): Promise<Harness> {
    const h = new Harness(options);
    await h.init();
    return h;
  }

  private async init(): Promise<void> {
    this.sim = await Simulator.start({ password: 'ClueCon', timeScale: 0.25, ...this.options.simulator });
    this.sim.on('event', (ev: { name: string; get(name: string): string | undefined }) => {
      const uuid = ev.get('Unique-ID');
      if (ev.name === 'CHANNEL_HANGUP' && uuid && !this.hungUp.has(uuid)) this.hungUp.set(uuid, { at: Date.now(), cause: ev.get('Hangup-Cause') });
    });
    this.store = await this.openStore();
    for (const a of this.options.accounts ?? []) {
      await this.store.createAccount({ account: a.account, intervalDuration: a.intervalDuration });
      if (a.credit > 0) await this.store.addCredit(a.account, a.credit);
    }
    await this.startServer();
  }

  /** A plain PouchDB handle on the harness database (seeding data, counting reads). */
  rawDatabase(): PouchDB.Database {
    if (this.options.mode === 'embedded') return new PouchDB(this.embeddedName!, { adapter: 'memory' });
    if (this.options.mode === 'http') return new PouchDB(this.couchUrl);
    return new PouchDB(path.join(this.dataDir!, 'prepaid'));
  }

  /** A store on the harness database that counts every row its reads return (allDocs and views). */
  countingStore(rows: { n: number }): PrepaidStore {
    const db = this.rawDatabase();
    const counting: DocDatabase = {
      info: () => db.info(),
      get: (id) => db.get(id),
      put: (doc) => db.put(doc),
      allDocs: async (o) => {
        const result = await db.allDocs(o);
        rows.n += result.rows.length;
        return result;
      },
      query: async (v, o) => {
        const result = await db.query(v, o);
        rows.n += result.rows.length;
        return result as never;
      },
      close: () => db.close(),
      destroy: () => db.destroy(),
    };
    return PrepaidStore.fromDatabase(counting, { description: 'counting test database' });
  }

  /** Opens a store on the harness database (a new handle each time, like a restarted process). */
  async openStore(): Promise<PrepaidStore> {
    const opTimeoutMs = this.options.opTimeoutMs ?? 2000;
    if (this.options.mode === 'disk') {
      this.dataDir ??= await mkdtemp(path.join(os.tmpdir(), 'prepaid-test-'));
      return PrepaidStore.open({ kind: 'disk', dataDir: this.dataDir }, { opTimeoutMs });
    }
    if (this.options.mode === 'embedded') {
      // A new handle on the same database each time, as a restarted process would open.
      this.embeddedName ??= `prepaid-test-${randomUUID()}`;
      this.embedded = new EmbeddedDatabase(this.embeddedName, this.faults);
      const store = PrepaidStore.fromDatabase(this.embedded, { opTimeoutMs, description: 'embedded test database' });
      await store.installDesign();
      return store;
    }
    if (!this.couch) {
      this.couch = new CouchCompatibleServer(this.faults);
      await this.couch.listen();
      this.couchUrl = `http://admin:s3cret-pw@127.0.0.1:${this.couch.port}/prepaid-${randomUUID().slice(0, 8)}`;
    }
    return PrepaidStore.open({ kind: 'couch', url: this.couchUrl }, { opTimeoutMs });
  }

  /**
   * Another prepaid server on the same database (its own store handle, its own port), as a second
   * `prepaid serve` process would be. Resolves with it and the `socket` argument that reaches it.
   */
  async addServer(): Promise<{ server: PrepaidServer; socketArg: string }> {
    const primary = this.embedded;
    const store = await this.openStore();
    this.embedded = primary;
    const server = this.newServer(store);
    this.extraServers.push({ server, store });
    const bound = await server.listen({ host: '127.0.0.1', port: 0 });
    return { server, socketArg: `127.0.0.1:${bound.port} async full` };
  }

  /** Starts a prepaid server (again, after a restart) on the same port as before, if any. */
  async startServer(store: PrepaidStore = this.store): Promise<void> {
    this.server = this.newServer(store);
    const bound = await this.server.listen({ host: '127.0.0.1', port: this.serverPort });
    this.serverPort = bound.port;
    if (this.tap.port === 0) await this.tap.listen(bound.port);
  }

  private newServer(store: PrepaidStore): PrepaidServer {
    const logger = createLogger({ level: 'error', write: () => {}, onRecord: (r) => this.logs.push(r) });
    const server = new PrepaidServer({
      store,
      logger,
      ringCheckMs: this.options.ringCheckMs ?? 10_000,
      hangupGraceMs: 2000,
      hangupEscalationMs: 300,
      // Step 3 pings for every call unless a test asks for the default window.
      reachableWithinMs: 0,
      ...this.options.server,
    });
    server.on('update', (r: CallReport) => {
      const list = this.reports.get(r.uuid) ?? [];
      list.push(r);
      this.reports.set(r.uuid, list);
    });
    server.on('end', (r: CallReport) => {
      this.finished.set(r.uuid, r);
      this.waiting.get(r.uuid)?.(r);
    });
    return server;
  }

  /** The socket application's argument: through the recording relay to the prepaid server. */
  get socketArg(): string {
    return `127.0.0.1:${this.tap.port} async full`;
  }

  async placeCall(o: PlaceCallOptions = {}): Promise<PlacedCall> {
    const uuid = randomUUID();
    if (o.account !== undefined) this.accountOf.set(uuid, o.account);
    const end = this.endOf(uuid);
    end.catch(() => {}); // a test that fails earlier may never await it
    const variables: Record<string, string> = {};
    if (o.account !== undefined) variables['ccnq_account'] = o.account;
    if (o.target !== undefined) variables['target'] = o.target;
    await this.sim.originate({
      uuid,
      direction: 'inbound',
      destination: o.destination ?? '5000',
      variables,
      ...(o.destination === undefined ? { socket: o.socket ?? this.socketArg } : {}),
      ...(o.hangupAfterMs === undefined ? {} : { hangupAfterMs: o.hangupAfterMs }),
    });
    return { uuid, end };
  }

  /**
   * The final report of a call (resolves when the server ends it). Rejects after `timeoutMs` with
   * what is known about the call, so a stuck call fails its test instead of hanging the run.
   */
  endOf(uuid: string, timeoutMs = 30_000): Promise<CallReport> {
    const done = this.finished.get(uuid);
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(uuid);
        const last = this.reports.get(uuid)?.at(-1);
        reject(
          new Error(
            `call ${uuid} did not end within ${timeoutMs} ms; last report ${JSON.stringify(last)}; ` +
              `commands ${JSON.stringify(this.commandsFor(uuid))}; log:\n${this.logLines(uuid).join('\n')}`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      this.waiting.set(uuid, (report) => {
        clearTimeout(timer);
        resolve(report);
      });
    });
  }

  /** The account a call was placed on. */
  accountOfCall(uuid: string): string {
    return this.accountOf.get(uuid) ?? '';
  }

  /** A call's charged interval numbers net of those given back, in order. */
  async intervalsOf(uuid: string): Promise<number[]> {
    const { charged, givenBack } = await this.store.callIntervals(this.accountOfCall(uuid), uuid);
    const back = new Set(givenBack);
    return charged.map((r) => r.interval).filter((n) => !back.has(n));
  }

  /** Forget a call's final report, to wait for the end of its next socket session. */
  forget(uuid: string): void {
    this.finished.delete(uuid);
    this.reports.delete(uuid);
  }

  /** Resolves once a call's report matches (e.g. reaches a phase). */
  async when(uuid: string, predicate: (r: CallReport) => boolean, timeoutMs = 10_000): Promise<CallReport> {
    const started = Date.now();
    for (;;) {
      const match = (this.reports.get(uuid) ?? []).find(predicate);
      if (match) return match;
      const ended = this.finished.get(uuid);
      if (ended) throw new Error(`call ${uuid} ended (${ended.outcome}: ${ended.detail}) before reaching the expected state`);
      if (Date.now() - started > timeoutMs) throw new Error(`call ${uuid} never matched the expected state`);
      await sleep(5);
    }
  }

  /**
   * Resolves once a call has talked `ms` since its answer (intervals may be charged ahead of their
   * start, so the count charged is no measure of the time talked).
   */
  async talkedFor(uuid: string, ms: number): Promise<CallReport> {
    const talking = await this.when(uuid, (r) => r.answeredAt !== undefined);
    await sleep(talking.answeredAt!.getTime() + ms - Date.now());
    return talking;
  }

  /** Commands the application sent on the n-th socket connection of the given call. */
  commandsFor(uuid: string): string[][] {
    const uuids = this.tap.uuids();
    return this.tap.commands().filter((_cmds, i) => uuids[i] === uuid);
  }

  /** Log lines (formatted) about one call. */
  logLines(uuid: string): string[] {
    return this.logs.filter((r) => r.fields['call'] === uuid).map(formatRecord);
  }

  async dbDown(): Promise<void> {
    if (this.embedded) await this.embedded.down();
    else if (this.couch) await this.couch.down();
    else await this.store.close();
  }
  async dbUp(): Promise<void> {
    if (this.embedded) this.embedded.up();
    else if (this.couch) await this.couch.up();
    else await this.store.reopen();
  }

  /** Resolves when the channel has hung up (its CHANNEL_HANGUP), with when and why. */
  async channelEnd(uuid: string, timeoutMs = 30_000): Promise<{ at: number; cause: string | undefined }> {
    const started = Date.now();
    for (;;) {
      const end = this.hungUp.get(uuid);
      if (end) return end;
      if (Date.now() - started > timeoutMs) throw new Error(`channel ${uuid} did not hang up within ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  async stop(): Promise<void> {
    for (const { server, store } of this.extraServers) {
      await server.destroy();
      await store.close();
    }
    await this.server.destroy();
    await this.sim.stop();
    await this.tap.stop();
    this.faults.clear();
    try {
      if (this.embedded) await this.embedded.destroy();
      else await this.store.destroy().catch(() => {});
    } finally {
      await this.store.close();
      await this.couch?.stop();
      if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
    }
  }
}
