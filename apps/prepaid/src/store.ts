/**
 * The prepaid database, through PouchDB: embedded (LevelDB files in a data directory, or in memory)
 * or a real CouchDB over HTTP. Everything the application stores or reads goes through here.
 *
 * Documents
 * - `account:<account>`   type 'account', interval_duration (seconds), name, created_at
 * - `credit:<account>:<id>` type 'credit', account, intervals (> 0), reason, created_at
 * - `interval_record:<call uuid>:<n>` type 'interval_record', account, call, interval (n),
 *   intervals (-1), interval_duration, at. The id is deterministic, so writing the same interval
 *   again (a retry after a timeout, or a restarted server catching up) conflicts instead of
 *   charging twice. Every document is written once and never updated: calls running at the same
 *   time on one account, on one or several app servers, never conflict with each other.
 *
 * Every operation is bounded by `opTimeoutMs`, and every failure is a PrepaidDbError whose message
 * has credentials redacted. Callers treat any PrepaidDbError as "database down" and fail closed.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import PouchDB from 'pouchdb';
import { DESIGN_DOC_ID, VIEW_CALLS, VIEW_CURRENT, designDocument, type DesignDoc } from './design.js';
import { redactText, redactUrl } from './redact.js';

export type StorageConfig =
  /** A CouchDB (or compatible) database URL, e.g. http://user:pass@host:5984/prepaid */
  | { kind: 'couch'; url: string }
  /** Embedded, on disk: the LevelDB files go in `<dataDir>/prepaid`. */
  | { kind: 'disk'; dataDir: string }
  /** Embedded, in memory. Stores with the same name in one process share their data. */
  | { kind: 'memory'; name: string };

export interface StoreOptions {
  /** Bound on every database operation (default 5000 ms); past it the operation fails closed. */
  opTimeoutMs?: number;
  /** Create the database if missing and install/upgrade the design document (default true). */
  setup?: boolean;
  /** Told how long each database operation took (the admin API's latency histogram). */
  observe?: (operation: string, seconds: number, ok: boolean) => void;
}

export type PrepaidDbErrorCode = 'PREPAID_DB_UNAVAILABLE' | 'PREPAID_DB_TIMEOUT' | 'PREPAID_DB_ERROR';

/** The database could not do what was asked. Any of these makes a call fail closed. */
export class PrepaidDbError extends Error {
  readonly code: PrepaidDbErrorCode;
  /** HTTP-style status from PouchDB/CouchDB when there was one. */
  readonly status: number | undefined;
  constructor(code: PrepaidDbErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(redactText(message));
    this.name = 'PrepaidDbError';
    this.code = code;
    this.status = options?.status;
  }
}

/** A request the data refuses (bad name, unknown account, account exists): not a database fault. */
export class PrepaidInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrepaidInputError';
  }
}

export interface AccountDoc {
  _id: string;
  _rev?: string;
  type: 'account';
  account: string;
  /** Length of one charged interval, in seconds (fractions allowed: the demo and tests use them). */
  interval_duration: number;
  name?: string;
  created_at: string;
}

export interface CreditDoc {
  _id: string;
  _rev?: string;
  type: 'credit';
  account: string;
  intervals: number;
  reason?: string;
  created_at: string;
}

export interface IntervalRecordDoc {
  _id: string;
  _rev?: string;
  type: 'interval_record';
  account: string;
  call: string;
  interval: number;
  intervals: -1;
  interval_duration: number;
  at: string;
  /** Which app server wrote it (diagnostics only). */
  server?: string;
}

/**
 * Written once when a charged call ends: its charging is complete. A server that gets the same
 * channel again later (FreeSWITCH re-running `socket` after a restart) charges nothing more.
 */
export interface CallEndDoc {
  _id: string;
  _rev?: string;
  type: 'call_end';
  account: string;
  call: string;
  intervals_charged: number;
  outcome: string;
  at: string;
  server?: string;
}

export interface IntervalRecordInput {
  account: string;
  call: string;
  interval: number;
  intervalDuration: number;
  at?: Date;
  server?: string;
}

export interface CallSummary {
  call: string;
  account: string;
  intervals: number;
  firstChargeAt: Date;
  lastChargeAt: Date;
}

/** One line of `prepaid account list`. */
export interface AccountListing {
  account: string;
  name?: string;
  interval_duration: number;
  remaining: number;
  created_at: string;
}

export interface AccountSummary {
  account: AccountDoc;
  remaining: number;
  credited: number;
  charged: number;
  credits: CreditDoc[];
  calls: number;
}

/** The PouchDB methods the store uses (tests may wrap a database to inject faults). */
export type DocDatabase = Pick<PouchDB.Database, 'info' | 'get' | 'put' | 'allDocs' | 'query' | 'close' | 'destroy'>;

const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;
const CALL_UUID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidAccountName(account: string): boolean {
  return ACCOUNT_NAME.test(account);
}

export const callEndId = (call: string): string => `call_end:${call}`;
export const accountId = (account: string): string => `account:${account}`;
export const creditId = (account: string, id: string): string => `credit:${account}:${id}`;
/** Deterministic: the same call and interval number always give the same id. */
export const intervalRecordId = (call: string, interval: number): string =>
  `interval_record:${call}:${String(interval).padStart(6, '0')}`;

let memoryAdapterLoaded: Promise<void> | undefined;
function loadMemoryAdapter(): Promise<void> {
  memoryAdapterLoaded ??= import('pouchdb-adapter-memory').then((mod) => {
    PouchDB.plugin(mod.default);
  });
  return memoryAdapterLoaded;
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (err && typeof err === 'object') {
    const o = err as { message?: unknown; reason?: unknown; name?: unknown };
    return String(o.message ?? o.reason ?? o.name ?? 'unknown error');
  }
  return String(err);
}

/** Map whatever PouchDB/node-fetch threw onto PrepaidDbError (redacted). */
export function toDbError(err: unknown, what: string): PrepaidDbError {
  if (err instanceof PrepaidDbError) return err;
  const status = statusOf(err);
  const msg = messageOf(err);
  if (/\bLOCK: Resource temporarily unavailable/.test(msg)) {
    // LevelDB takes an exclusive lock on the embedded database's directory.
    return new PrepaidDbError(
      'PREPAID_DB_UNAVAILABLE',
      `${what}: the embedded database is in use by another process (a running \`prepaid serve\`?); ` +
        'only one process can open it: stop that process, or keep the data in CouchDB (--couch) to share it',
      { status, cause: err },
    );
  }
  const unavailable =
    status === undefined ||
    status >= 500 ||
    /closed|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|socket hang up|network|fetch failed/i.test(msg);
  return new PrepaidDbError(unavailable ? 'PREPAID_DB_UNAVAILABLE' : 'PREPAID_DB_ERROR', `${what}: ${msg}`, {
    status,
    cause: err,
  });
}

export class PrepaidStore {
  /** Where the data lives, safe to log (credentials redacted). */
  readonly description: string;
  readonly opTimeoutMs: number;
  private db: DocDatabase;
  private readonly config: StorageConfig | undefined;
  private closed = false;
  private readonly balanceFlights = new Map<string, SingleFlight<number>>();
  private readonly observe: StoreOptions['observe'];

  private constructor(db: DocDatabase, description: string, config: StorageConfig | undefined, opTimeoutMs: number, observe?: StoreOptions['observe']) {
    this.db = db;
    this.description = description;
    this.config = config;
    this.opTimeoutMs = opTimeoutMs;
    this.observe = observe;
  }

  /** Open the configured database, creating it and installing the design document. */
  static async open(config: StorageConfig, options: StoreOptions = {}): Promise<PrepaidStore> {
    const opTimeoutMs = options.opTimeoutMs ?? 5000;
    const db = await openDatabase(config, opTimeoutMs);
    const store = new PrepaidStore(db, describeConfig(config), config, opTimeoutMs, options.observe);
    if (options.setup ?? true) {
      try {
        await store.installDesign();
      } catch (err) {
        await db.close().catch(() => {});
        throw err;
      }
    }
    return store;
  }

  /** Wrap an already-open database (tests use this to inject faults). */
  static fromDatabase(db: DocDatabase, options: StoreOptions & { description?: string } = {}): PrepaidStore {
    return new PrepaidStore(db, options.description ?? 'custom database', undefined, options.opTimeoutMs ?? 5000, options.observe);
  }

  /** Run one database operation within the time bound, mapping every failure to PrepaidDbError. */
  private async op<T>(what: string, fn: (db: DocDatabase) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new PrepaidDbError('PREPAID_DB_TIMEOUT', `${what}: no answer within ${this.opTimeoutMs} ms`)),
        this.opTimeoutMs,
      );
    });
    const started = performance.now();
    const work = (async () => fn(this.db))();
    // The losing side of the race must not become an unhandled rejection.
    work.catch(() => {});
    let ok = false;
    try {
      const result = await Promise.race([work, timeout]);
      ok = true;
      return result;
    } catch (err) {
      throw toDbError(err, what);
    } finally {
      clearTimeout(timer);
      this.observe?.(what, (performance.now() - started) / 1000, ok);
    }
  }

  /** Step 3 of the call flow: is the database there and answering? */
  async ping(): Promise<void> {
    await this.op('ping', (db) => db.info());
  }

  /** Install the design document, or upgrade an older one. Safe to race with other servers. */
  async installDesign(): Promise<'created' | 'upgraded' | 'unchanged'> {
    const wanted = designDocument();
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.op('read design document', async (db) => {
        try {
          return (await db.get(DESIGN_DOC_ID)) as unknown as DesignDoc;
        } catch (err) {
          if (statusOf(err) === 404) return undefined;
          throw err;
        }
      });
      if (existing) {
        const version = typeof existing.prepaid_version === 'number' ? existing.prepaid_version : 0;
        // A newer server may have installed a newer design: never downgrade it.
        if (version > wanted.prepaid_version) return 'unchanged';
        if (version === wanted.prepaid_version && JSON.stringify(existing.views) === JSON.stringify(wanted.views)) {
          return 'unchanged';
        }
      }
      const doc: DesignDoc = existing?._rev ? { ...wanted, _rev: existing._rev } : wanted;
      const outcome = await this.op('write design document', async (db) => {
        try {
          await db.put(doc);
          return existing ? ('upgraded' as const) : ('created' as const);
        } catch (err) {
          if (statusOf(err) === 409) return 'retry' as const; // another server got there first
          throw err;
        }
      });
      if (outcome !== 'retry') return outcome;
    }
    throw new PrepaidDbError('PREPAID_DB_ERROR', 'design document kept changing while installing it');
  }

  async createAccount(input: { account: string; intervalDuration: number; name?: string }): Promise<AccountDoc> {
    if (!isValidAccountName(input.account)) {
      throw new PrepaidInputError(`invalid account name ${JSON.stringify(input.account)} (letters, digits and ._@+- only)`);
    }
    if (!Number.isFinite(input.intervalDuration) || input.intervalDuration <= 0) {
      throw new PrepaidInputError(`interval_duration must be a positive number of seconds`);
    }
    const doc: AccountDoc = {
      _id: accountId(input.account),
      type: 'account',
      account: input.account,
      interval_duration: input.intervalDuration,
      created_at: new Date().toISOString(),
    };
    if (input.name !== undefined) doc.name = input.name;
    const result = await this.op('create account', async (db) => {
      try {
        return await db.put(doc as unknown as PouchDB.Doc);
      } catch (err) {
        if (statusOf(err) === 409) return undefined;
        throw err;
      }
    });
    if (!result) throw new PrepaidInputError(`account ${input.account} already exists`);
    return { ...doc, _rev: result.rev };
  }

  /**
   * Step 4: the account document, or null when there is no such account (or the name cannot be
   * one). A document that exists but is not a usable account (no positive interval_duration)
   * is an error: the call must not go through on a broken account.
   */
  async getAccount(account: string): Promise<AccountDoc | null> {
    if (!isValidAccountName(account)) return null;
    const doc = await this.op('load account', async (db) => {
      try {
        return await db.get(accountId(account));
      } catch (err) {
        if (statusOf(err) === 404) return null;
        throw err;
      }
    });
    if (doc === null) return null;
    const duration = doc.interval_duration;
    if (doc.type !== 'account' || typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0) {
      throw new PrepaidDbError('PREPAID_DB_ERROR', `account ${account} has no valid interval_duration`);
    }
    return doc as unknown as AccountDoc;
  }

  /**
   * Add positive intervals to an account. With `id`, applying the same credit twice is a no-op
   * (`applied: false`), so a payment hook can retry safely.
   */
  async addCredit(
    account: string,
    intervals: number,
    options: { id?: string; reason?: string } = {},
  ): Promise<{ credit: CreditDoc; applied: boolean }> {
    if (!Number.isInteger(intervals) || intervals <= 0) {
      throw new PrepaidInputError('a credit is a positive whole number of intervals');
    }
    const id = options.id ?? randomUUID();
    if (!CALL_UUID.test(id)) throw new PrepaidInputError(`invalid credit id ${JSON.stringify(id)}`);
    if (!(await this.getAccount(account))) throw new PrepaidInputError(`no account ${account}`);
    const doc: CreditDoc = {
      _id: creditId(account, id),
      type: 'credit',
      account,
      intervals,
      created_at: new Date().toISOString(),
    };
    if (options.reason !== undefined) doc.reason = options.reason;
    return this.op('add credit', async (db) => {
      try {
        const res = await db.put(doc as unknown as PouchDB.Doc);
        return { credit: { ...doc, _rev: res.rev }, applied: true };
      } catch (err) {
        if (statusOf(err) !== 409) throw err;
        return { credit: (await db.get(doc._id)) as unknown as CreditDoc, applied: false };
      }
    });
  }

  /**
   * Step 7: remaining intervals (credits minus charged intervals), from the `current` view.
   *
   * Concurrent calls on one account share queries: a request made while a query is running
   * waits for the next one, which starts after the running one ends, so its answer still counts
   * every write the caller finished before asking. Without this, a hundred calls on one account
   * queue a hundred view queries behind each other (PouchDB runs them one by one).
   */
  remaining(account: string): Promise<number> {
    let flight = this.balanceFlights.get(account);
    if (!flight) {
      flight = new SingleFlight(() => this.queryRemaining(account));
      this.balanceFlights.set(account, flight);
    }
    const result = flight.run();
    const done = () => {
      if (flight.idle && this.balanceFlights.get(account) === flight) this.balanceFlights.delete(account);
    };
    result.then(done, done);
    return result;
  }

  private async queryRemaining(account: string): Promise<number> {
    const result = await this.op('check balance', (db) =>
      db.query<number>(VIEW_CURRENT, { key: account, reduce: true, group: true }),
    );
    const value = result.rows[0]?.value;
    if (value === undefined) return 0;
    if (typeof value !== 'number') throw new PrepaidDbError('PREPAID_DB_ERROR', 'balance view returned a non-number');
    return value;
  }

  /**
   * Charge one interval of a call. `recorded` when this write created it, `duplicate` when it was
   * already there (written by an earlier try or another server): either way it is charged once.
   * A timed-out or failed write is retried once, which the deterministic id makes safe.
   */
  async recordInterval(input: IntervalRecordInput): Promise<'recorded' | 'duplicate'> {
    if (!CALL_UUID.test(input.call)) throw new PrepaidInputError(`invalid call uuid ${JSON.stringify(input.call)}`);
    if (!Number.isInteger(input.interval) || input.interval < 1) throw new PrepaidInputError('interval numbers start at 1');
    const doc: IntervalRecordDoc = {
      _id: intervalRecordId(input.call, input.interval),
      type: 'interval_record',
      account: input.account,
      call: input.call,
      interval: input.interval,
      intervals: -1,
      interval_duration: input.intervalDuration,
      at: (input.at ?? new Date()).toISOString(),
    };
    if (input.server !== undefined) doc.server = input.server;
    const write = () =>
      this.op('record interval', async (db) => {
        try {
          await db.put(doc as unknown as PouchDB.Doc);
          return 'recorded' as const;
        } catch (err) {
          if (statusOf(err) !== 409) throw err;
          const existing = await db.get(doc._id);
          if (existing.account !== input.account) {
            throw new PrepaidDbError('PREPAID_DB_ERROR', `${doc._id} already charged to another account`);
          }
          return 'duplicate' as const;
        }
      });
    try {
      return await write();
    } catch (err) {
      if (err instanceof PrepaidDbError && err.code !== 'PREPAID_DB_ERROR') return write();
      throw err;
    }
  }

  /** The interval records of one call, in interval order. */
  async callIntervals(call: string): Promise<IntervalRecordDoc[]> {
    if (!CALL_UUID.test(call)) return [];
    const prefix = `interval_record:${call}:`;
    const result = await this.op('read call intervals', (db) =>
      db.allDocs({ startkey: prefix, endkey: prefix + '\ufff0', include_docs: true }),
    );
    return result.rows
      .map((row) => row.doc as unknown as IntervalRecordDoc | undefined)
      .filter((doc): doc is IntervalRecordDoc => doc?.type === 'interval_record')
      .sort((a, b) => a.interval - b.interval);
  }

  /** Everything known about one call's charging: its interval records and its end marker. */
  async callState(call: string): Promise<{ records: IntervalRecordDoc[]; end: CallEndDoc | undefined }> {
    if (!CALL_UUID.test(call)) return { records: [], end: undefined };
    const [records, end] = await Promise.all([
      this.callIntervals(call),
      this.op('read call end', async (db) => {
        try {
          return (await db.get(callEndId(call))) as unknown as CallEndDoc;
        } catch (err) {
          if (statusOf(err) === 404) return undefined;
          throw err;
        }
      }),
    ]);
    return { records, end };
  }

  /** Mark a charged call as finished (idempotent: the first marker stays). */
  async finishCall(input: { account: string; call: string; intervalsCharged: number; outcome: string; server?: string }): Promise<void> {
    if (!CALL_UUID.test(input.call)) throw new PrepaidInputError(`invalid call uuid ${JSON.stringify(input.call)}`);
    const doc: CallEndDoc = {
      _id: callEndId(input.call),
      type: 'call_end',
      account: input.account,
      call: input.call,
      intervals_charged: input.intervalsCharged,
      outcome: input.outcome,
      at: new Date().toISOString(),
    };
    if (input.server !== undefined) doc.server = input.server;
    await this.op('record call end', async (db) => {
      try {
        await db.put(doc as unknown as PouchDB.Doc);
      } catch (err) {
        if (statusOf(err) !== 409) throw err;
      }
    });
  }

  /** Calls that were charged, most recent last charge first. */
  async recentCalls(options: { account?: string; limit?: number } = {}): Promise<CallSummary[]> {
    const range = options.account === undefined ? {} : { startkey: [options.account], endkey: [options.account, {}] };
    const result = await this.op('list calls', (db) =>
      db.query<{ count: number; min: number; max: number }>(VIEW_CALLS, { ...range, reduce: true, group_level: 2 }),
    );
    const calls = result.rows.map((row) => {
      const [account, call] = row.key as [string, string];
      return {
        account,
        call,
        intervals: row.value.count,
        firstChargeAt: new Date(row.value.min),
        lastChargeAt: new Date(row.value.max),
      };
    });
    calls.sort((a, b) => b.lastChargeAt.getTime() - a.lastChargeAt.getTime());
    return options.limit === undefined ? calls : calls.slice(0, options.limit);
  }

  /** Every account with its balance, by name (`prepaid account list`). */
  async listAccounts(): Promise<AccountListing[]> {
    const [accounts, balances] = await Promise.all([
      this.op('list accounts', (db) => db.allDocs({ startkey: 'account:', endkey: 'account:\ufff0', include_docs: true })),
      this.op('read balances', (db) => db.query<number>(VIEW_CURRENT, { reduce: true, group: true })),
    ]);
    const remaining = new Map(balances.rows.map((row) => [row.key as string, row.value]));
    return accounts.rows
      .map((row) => row.doc as unknown as AccountDoc | undefined)
      .filter((doc): doc is AccountDoc => doc?.type === 'account')
      .map((doc) => ({
        account: doc.account,
        ...(doc.name === undefined ? {} : { name: doc.name }),
        interval_duration: doc.interval_duration,
        remaining: remaining.get(doc.account) ?? 0,
        created_at: doc.created_at,
      }));
  }

  /** Everything `prepaid account show` prints. Null when there is no such account. */
  async accountSummary(account: string): Promise<AccountSummary | null> {
    const doc = await this.getAccount(account);
    if (!doc) return null;
    const prefix = `credit:${account}:`;
    const [credits, charges, remaining] = await Promise.all([
      this.op('read credits', (db) => db.allDocs({ startkey: prefix, endkey: prefix + '\ufff0', include_docs: true })),
      this.op('read charges', (db) =>
        db.query<{ count: number }>(VIEW_CALLS, { startkey: [account], endkey: [account, {}], reduce: true, group_level: 2 }),
      ),
      this.remaining(account),
    ]);
    const creditDocs = credits.rows
      .map((row) => row.doc as unknown as CreditDoc | undefined)
      .filter((c): c is CreditDoc => c?.type === 'credit' && c.account === account);
    const charged = charges.rows.reduce((sum, row) => sum + row.value.count, 0);
    return {
      account: doc,
      remaining,
      credited: creditDocs.reduce((sum, c) => sum + c.intervals, 0),
      charged,
      credits: creditDocs.sort((a, b) => a.created_at.localeCompare(b.created_at)),
      calls: charges.rows.length,
    };
  }

  /** Close the database handle. Operations fail (closed = unavailable) until reopen(). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close().catch(() => {});
  }

  /** Open the same database again after close() (e.g. after maintenance). */
  async reopen(): Promise<void> {
    if (!this.config) throw new Error('this store was built around a given database and cannot reopen it');
    if (!this.closed) return;
    this.db = await openDatabase(this.config, this.opTimeoutMs);
    this.closed = false;
  }

  /** Delete the database and everything in it (tests and the demo clean up with this). */
  async destroy(): Promise<void> {
    if (this.closed && this.config) await this.reopen();
    this.closed = true;
    await this.db.destroy();
  }
}

/** At most one running and one queued run of `fn`; callers arriving meanwhile share the queued one. */
class SingleFlight<T> {
  private running: Promise<T> | undefined;
  private queued: Promise<T> | undefined;
  constructor(private readonly fn: () => Promise<T>) {}
  get idle(): boolean {
    return this.running === undefined && this.queued === undefined;
  }
  run(): Promise<T> {
    if (!this.running) return this.start();
    if (!this.queued) {
      const settled = () => {};
      this.queued = this.running.then(settled, settled).then(() => {
        this.queued = undefined;
        return this.start();
      });
    }
    return this.queued;
  }
  private start(): Promise<T> {
    const p = this.fn();
    this.running = p;
    const clear = () => {
      if (this.running === p) this.running = undefined;
    };
    p.then(clear, clear);
    return p;
  }
}

function describeConfig(config: StorageConfig): string {
  switch (config.kind) {
    case 'couch':
      return `CouchDB ${redactUrl(config.url)}`;
    case 'disk':
      return `embedded PouchDB in ${path.join(config.dataDir, 'prepaid')}`;
    case 'memory':
      return `in-memory PouchDB ${config.name}`;
  }
}

async function openDatabase(config: StorageConfig, opTimeoutMs: number): Promise<DocDatabase> {
  switch (config.kind) {
    case 'couch': {
      let url: URL;
      try {
        url = new URL(config.url);
      } catch {
        throw new PrepaidInputError(`not a URL: ${redactUrl(config.url)}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new PrepaidInputError(`CouchDB URL must be http(s): ${redactUrl(config.url)}`);
      }
      if (url.pathname.replace(/\/+$/, '') === '') {
        throw new PrepaidInputError(`CouchDB URL must name the database, e.g. ${url.origin}/prepaid`);
      }
      // Abort each HTTP request at the operation bound too, so a hung server does not pile up sockets.
      const boundedFetch = (target: string, init: Record<string, unknown> = {}) =>
        PouchDB.fetch(target, { ...init, signal: AbortSignal.timeout(opTimeoutMs) });
      return new PouchDB(config.url, { fetch: boundedFetch });
    }
    case 'disk': {
      await mkdir(config.dataDir, { recursive: true });
      return new PouchDB(path.join(config.dataDir, 'prepaid'));
    }
    case 'memory': {
      await loadMemoryAdapter();
      return new PouchDB(config.name, { adapter: 'memory' });
    }
  }
}
