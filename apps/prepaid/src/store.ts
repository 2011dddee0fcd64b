/**
 * The prepaid database, through PouchDB: embedded (LevelDB files in a data directory, or in memory)
 * or a real CouchDB over HTTP. Everything the application stores or reads goes through here; the
 * documents are described in documents.ts.
 *
 * Every operation is bounded by `opTimeoutMs`, and every failure is a PrepaidDbError whose message
 * has credentials redacted. Callers treat any PrepaidDbError as "database down" and fail closed.
 */
import { randomUUID } from 'node:crypto';
import type PouchDB from 'pouchdb';
import { openDatabase, describeConfig, type DocDatabase, type StorageConfig } from './databases.js';
import { PrepaidDbError, PrepaidInputError, statusOf, toDbError } from './db-errors.js';
import { CreateBatcher, type PendingCreate } from './group-commit.js';
import { DESIGN_DOC_ID, VIEW_CALLS, VIEW_GIVEN_BACK, designDocument, type DesignDoc } from './design.js';
import {
  accountId,
  callEndId,
  creditId,
  creditPrefix,
  isValidAccountName,
  isValidToken,
  ledgerEntryId,
  ledgerPrefix,
  prefixRange,
  type AccountDoc,
  type CallEndDoc,
  type ChargeResult,
  type CreditDoc,
  type GiveBackDoc,
  type IntervalChargeInput,
  type IntervalRecordDoc,
  type LedgerEntryDoc,
} from './documents.js';
import { accountSummary, listAccounts, recentCalls, type AccountListing, type AccountSummary, type CallSummary } from './reports.js';
import { KeyedSingleFlight } from './single-flight.js';

export type { DocDatabase, StorageConfig } from './databases.js';
export { PrepaidDbError, PrepaidInputError, toDbError, type PrepaidDbErrorCode } from './db-errors.js';
export * from './documents.js';
export type { AccountListing, AccountSummary, CallSummary } from './reports.js';
export { findLedgerConflicts, reconcileLedgerConflicts, type LedgerConflict } from './conflicts.js';

export interface StoreOptions {
  /** Bound on every database operation (default 5000 ms); past it the operation fails closed. */
  opTimeoutMs?: number;
  /** Create the database if missing and install/upgrade the design document (default true). */
  setup?: boolean;
  /** Told how long each database operation took (the admin API's latency histogram). */
  observe?: (operation: string, seconds: number, ok: boolean) => void;
  /** How many accounts' ledger ends are kept to save reads (default MAX_LEDGER_ENDS). */
  maxLedgerEnds?: number;
}

/** Enough for every account with a call live on a busy server. */
export const MAX_LEDGER_ENDS = 50_000;

/** An account's balance as the hot path reads it: credits and the newest ledger entry. */
interface Position {
  credited: number;
  /** The newest ledger entry's seq and running `used` (0, 0 for an account never charged). */
  seq: number;
  used: number;
  /** When the credits were read (ms since epoch). */
  readAt: number;
}

/** An append refused on credits read before it was asked for: decided again on a fresh read. */
const STALE_REFUSAL = Symbol('stale refusal');

/** The fields every ledger entry has, for the entry after `p` that changes `used` by `step`. */
function ledgerFields(
  input: { account: string; call: string; interval: number; intervalDuration: number; server?: string },
  p: Position,
  step: 1 | -1,
): Omit<IntervalRecordDoc, 'type' | 'intervals' | 'at'> {
  const fields: Omit<IntervalRecordDoc, 'type' | 'intervals' | 'at'> = {
    _id: ledgerEntryId(input.account, p.seq + 1),
    account: input.account,
    call: input.call,
    interval: input.interval,
    seq: p.seq + 1,
    used: p.used + step,
    interval_duration: input.intervalDuration,
  };
  if (input.server !== undefined) fields.server = input.server;
  return fields;
}

/** Writers racing for one account's next ledger entry retry at most this often before failing closed. */
const MAX_LEDGER_RACES = 1000;

export class PrepaidStore {
  /** Where the data lives, safe to log (credentials redacted). */
  readonly description: string;
  readonly opTimeoutMs: number;
  private db: DocDatabase;
  private readonly creates = new CreateBatcher((batch) => this.writeBatch(batch));
  private readonly config: StorageConfig | undefined;
  private closed = false;
  /** When an operation last got the database's answer (performance.now()). */
  private answeredAt = -Infinity;
  private readonly balanceFlights = new KeyedSingleFlight<number>();
  /**
   * Per account: the end of its ledger as this process last wrote or saw it, the accounts used
   * last at the end (see keepLedgerEnd). Only saves reads: an account not in it is read afresh.
   */
  private readonly ledgerEnds = new Map<string, Position>();
  private readonly appendQueues = new Map<string, Promise<void>>();
  private readonly refreshFlights = new KeyedSingleFlight<void>();

  private readonly observe: StoreOptions['observe'];
  private readonly maxLedgerEnds: number;

  private constructor(db: DocDatabase, description: string, config: StorageConfig | undefined, options: StoreOptions) {
    this.db = db;
    this.description = description;
    this.config = config;
    this.opTimeoutMs = options.opTimeoutMs ?? 5000;
    this.observe = options.observe;
    this.maxLedgerEnds = options.maxLedgerEnds ?? MAX_LEDGER_ENDS;
  }

  /** True for a CouchDB server reached over HTTP, where every request costs that server. */
  get remote(): boolean {
    return this.config?.kind === 'couch';
  }

  /** Open the configured database, creating it and installing the design document. */
  static async open(config: StorageConfig, options: StoreOptions = {}): Promise<PrepaidStore> {
    const db = await openDatabase(config, options.opTimeoutMs ?? 5000);
    const store = new PrepaidStore(db, describeConfig(config), config, options);
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
    return new PrepaidStore(db, options.description ?? 'custom database', undefined, options);
  }

  /**
   * @internal Run one database operation within the time bound, mapping every failure to
   * PrepaidDbError (reports.ts and conflicts.ts use it too).
   */
  async run<T>(what: string, fn: (db: DocDatabase) => Promise<T>, observed: readonly string[] = [what]): Promise<T> {
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
      this.answeredAt = performance.now();
      return result;
    } catch (err) {
      throw toDbError(err, what);
    } finally {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      for (const operation of observed) this.observe?.(operation, seconds, ok);
    }
  }

  /** @internal A document by id, or undefined when there is none. */
  getOptional<T>(what: string, id: string): Promise<T | undefined> {
    return this.run(what, async (db) => {
      try {
        return (await db.get(id)) as unknown as T;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    });
  }

  /** Create a document; false when one with its id exists already (409). */
  private create(what: string, doc: { _id: string }): Promise<boolean> {
    if (this.db.bulkDocs !== undefined) return this.creates.create(what, doc);
    return this.createOne(what, doc);
  }

  private createOne(what: string, doc: { _id: string }): Promise<boolean> {
    return this.run(what, async (db) => {
      try {
        await db.put(doc as unknown as PouchDB.Doc);
        return true;
      } catch (err) {
        if (statusOf(err) === 409) return false;
        throw err;
      }
    });
  }

  /** One group of creations in one bulkDocs request (a lone one as a plain put); each gets its own outcome. */
  private async writeBatch(batch: readonly PendingCreate[]): Promise<void> {
    if (batch.length === 1) {
      const only = batch[0]!;
      return this.createOne(only.what, only.doc).then(only.resolve, only.reject);
    }
    const what = `write ${batch.length} documents`;
    const results = await this.run(
      what,
      (db) => db.bulkDocs!(batch.map((entry) => entry.doc as unknown as PouchDB.Doc)),
      batch.map((entry) => entry.what),
    );
    batch.forEach((entry, i) => {
      const r = results[i] as { ok?: boolean; error?: unknown; status?: number; name?: string } | undefined;
      if (r?.ok === true) entry.resolve(true);
      else if (r !== undefined && (r.status === 409 || r.name === 'conflict' || r.error === 'conflict')) entry.resolve(false);
      else entry.reject(toDbError(r ?? new Error('no answer for this document'), entry.what));
    });
  }

  /** Is the database there and answering? One request, whatever came before. */
  async ping(): Promise<void> {
    await this.run('ping', (db) => db.info());
  }

  /**
   * Step 3 of the call flow: is the database there and answering? An operation it answered
   * within the last `withinMs` says so (`recent`, no request); otherwise a ping asks (`pinged`).
   * Rejects as ping() does. A server with calls going is never long without an answer, and the
   * ping is not free: CouchDB's GET /db is among its costlier requests under load.
   */
  async checkReachable(withinMs: number): Promise<'recent' | 'pinged'> {
    if (!this.closed && performance.now() - this.answeredAt < withinMs) return 'recent';
    await this.ping();
    return 'pinged';
  }

  /** Install the design document, or upgrade an older one. Safe to race with other servers. */
  async installDesign(): Promise<'created' | 'upgraded' | 'unchanged'> {
    const wanted = designDocument();
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.getOptional<DesignDoc>('read design document', DESIGN_DOC_ID);
      if (existing) {
        const version = typeof existing.prepaid_version === 'number' ? existing.prepaid_version : 0;
        // A newer server may have installed a newer design: never downgrade it.
        if (version > wanted.prepaid_version) return 'unchanged';
        if (version === wanted.prepaid_version && JSON.stringify(existing.views) === JSON.stringify(wanted.views)) {
          return 'unchanged';
        }
      }
      const doc: DesignDoc = existing?._rev ? { ...wanted, _rev: existing._rev } : wanted;
      const outcome = await this.run('write design document', async (db) => {
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
    if (!(await this.create('create account', doc))) throw new PrepaidInputError(`account ${input.account} already exists`);
    return doc;
  }

  /**
   * Step 4: the account document, or null when there is no such account (or the name cannot be
   * one). A document that exists but is not a usable account (no positive interval_duration)
   * is an error: the call must not go through on a broken account.
   */
  async getAccount(account: string): Promise<AccountDoc | null> {
    if (!isValidAccountName(account)) return null;
    const doc = await this.getOptional<AccountDoc>('load account', accountId(account));
    if (doc === undefined) return null;
    const duration = doc.interval_duration;
    if (doc.type !== 'account' || typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0) {
      throw new PrepaidDbError('PREPAID_DB_ERROR', `account ${account} has no valid interval_duration`);
    }
    return doc;
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
    if (!isValidToken(id)) throw new PrepaidInputError(`invalid credit id ${JSON.stringify(id)}`);
    if (!(await this.getAccount(account))) throw new PrepaidInputError(`no account ${account}`);
    const doc: CreditDoc = {
      _id: creditId(account, id),
      type: 'credit',
      account,
      intervals,
      created_at: new Date().toISOString(),
    };
    if (options.reason !== undefined) doc.reason = options.reason;
    if (await this.create('add credit', doc)) return { credit: doc, applied: true };
    const existing = await this.getOptional<CreditDoc>('read credit', doc._id);
    return { credit: existing ?? doc, applied: false };
  }

  /** The account's credits, oldest first (top-ups: few per account, read in full). */
  async credits(account: string): Promise<CreditDoc[]> {
    const result = await this.run('read credits', (db) =>
      db.allDocs({ ...prefixRange(creditPrefix(account)), include_docs: true }),
    );
    return result.rows
      .map((row) => row.doc as unknown as CreditDoc | undefined)
      .filter((c): c is CreditDoc => c?.type === 'credit' && c.account === account && typeof c.intervals === 'number')
      .sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  /** The newest ledger entry of an account: one B-tree lookup, whatever the history's length. */
  private async newestEntry(account: string): Promise<LedgerEntryDoc | undefined> {
    const { startkey, endkey } = prefixRange(ledgerPrefix(account));
    const result = await this.run('read the newest ledger entry', (db) =>
      db.allDocs({ startkey: endkey, endkey: startkey, descending: true, limit: 1, include_docs: true }),
    );
    return result.rows[0]?.doc as unknown as LedgerEntryDoc | undefined;
  }

  private async position(account: string): Promise<Position> {
    const [credits, newest] = await Promise.all([this.credits(account), this.newestEntry(account)]);
    const credited = credits.reduce((sum, c) => sum + c.intervals, 0);
    const readAt = Date.now();
    if (newest === undefined) return { credited, seq: 0, used: 0, readAt };
    if (typeof newest.seq !== 'number' || typeof newest.used !== 'number') {
      throw new PrepaidDbError('PREPAID_DB_ERROR', `${newest._id} is not a ledger entry`);
    }
    return { credited, seq: newest.seq, used: newest.used, readAt };
  }

  /**
   * Steps 7 and 9: remaining intervals (credits minus the net intervals used). Its cost does not
   * grow with the account's history: the newest ledger entry carries the running total.
   *
   * Concurrent calls on one account share reads: a request made while a read is running waits for
   * the next one, which starts after the running one ends, so its answer still counts every write
   * the caller finished before asking.
   */
  remaining(account: string): Promise<number> {
    return this.balanceFlights.run(account, async () => {
      const p = await this.position(account);
      // The call's first charge then starts from this end instead of reading it again.
      this.sawLedgerEnd(account, p);
      return p.credited - p.used;
    });
  }

  /**
   * Charge one interval of a call, atomically against the account's credit: the charge takes the
   * next place in the account's ledger only while the net intervals used stay within the credits
   * (`refused` otherwise). Writers on one account race for that place; the loser reads again and
   * retries. A timed-out or failed write is retried once at the same place, and finding our own
   * charge there is `duplicate`, so a retry never charges twice.
   */
  async chargeInterval(input: IntervalChargeInput): Promise<ChargeResult> {
    if (!isValidToken(input.call)) throw new PrepaidInputError(`invalid call uuid ${JSON.stringify(input.call)}`);
    if (!Number.isInteger(input.interval) || input.interval < 1) throw new PrepaidInputError('interval numbers start at 1');
    const entry = (p: Position): IntervalRecordDoc => ({
      ...ledgerFields(input, p, 1),
      type: 'interval_record',
      intervals: -1,
      at: (input.at ?? new Date()).toISOString(),
    });
    return this.appendEntry('record interval', input.account, entry, (p) => p.credited - p.used >= 1);
  }

  /**
   * Give back an interval a call paid for ahead and never started (the call ended first): a
   * ledger entry of +1, type 'credit', so the seed's `current` view counts it too.
   */
  async giveBackInterval(input: { account: string; call: string; interval: number; intervalDuration: number; server?: string }): Promise<ChargeResult> {
    if (!isValidToken(input.call)) throw new PrepaidInputError(`invalid call uuid ${JSON.stringify(input.call)}`);
    const entry = (p: Position): GiveBackDoc => ({
      ...ledgerFields(input, p, -1),
      type: 'credit',
      intervals: 1,
      reason: 'unused interval',
      created_at: new Date().toISOString(),
    });
    return this.appendEntry('give back an interval', input.account, entry, () => true);
  }

  /**
   * @internal Append a copy of a ledger entry (a charge a cluster partition hid, conflicts.ts) at
   * the end of its account's ledger, whatever the balance: the interval was spent.
   */
  appendCopy(original: LedgerEntryDoc, reconciles: string): Promise<ChargeResult> {
    const entry = (p: Position): LedgerEntryDoc => {
      const { _rev: _dropped, ...fields } = original;
      const step = original.type === 'interval_record' ? 1 : -1;
      return { ...fields, _id: ledgerEntryId(original.account, p.seq + 1), seq: p.seq + 1, used: p.used + step, reconciles };
    };
    return this.appendEntry('append a reconciled entry', original.account, entry, () => true);
  }

  /**
   * Append one entry at the end of an account's ledger (see chargeInterval). Appends to one account
   * from this process run one at a time, from the end of the ledger as last seen here: no race among
   * them, and no read before a write while this process is the only writer. Another writer's entry
   * shows up as a conflict at the place we tried; we read it and go on from there. The credits may
   * be stale (they only grow): a refusal is decided on a fresh read.
   */
  private async appendEntry(
    what: string,
    account: string,
    entry: (p: Position) => LedgerEntryDoc,
    allowed: (p: Position) => boolean,
  ): Promise<ChargeResult> {
    const asked = Date.now();
    const attempt = () =>
      this.oneAtATime(account, async () => {
        try {
          return await this.append(what, account, entry, allowed, asked);
        } catch (err) {
          this.ledgerEnds.delete(account);
          throw err;
        }
      });
    const result = await attempt();
    if (result !== STALE_REFUSAL) return result;
    // Refused on credits read before this charge was asked for: read them again (one read shared
    // by every charge waiting for it, outside the queue), then decide on what it found.
    await this.refreshLedgerEnd(account);
    const decided = await attempt();
    if (decided === STALE_REFUSAL) throw new PrepaidDbError('PREPAID_DB_ERROR', `${what}: the balance of ${account} could not be read afresh`);
    return decided;
  }

  /** Reads an account's position afresh (shared by concurrent callers) into the ledger end cache. */
  private refreshLedgerEnd(account: string): Promise<void> {
    return this.refreshFlights.run(account, async () => {
      this.sawLedgerEnd(account, await this.position(account));
    });
  }

  /**
   * A position read from the database becomes the account's ledger end as last seen here, unless
   * this process already knows a later end (its own append finished while the read ran); of the
   * two, the credits read last are kept (credits only grow).
   */
  private sawLedgerEnd(account: string, read: Position): void {
    const known = this.ledgerEnds.get(account);
    if (known === undefined) return this.keepLedgerEnd(account, read);
    const end = known.seq > read.seq ? known : read;
    const credits = known.readAt > read.readAt ? known : read;
    this.keepLedgerEnd(account, end === credits ? end : { ...end, credited: credits.credited, readAt: credits.readAt });
  }

  private async append(
    what: string,
    account: string,
    entry: (p: Position) => LedgerEntryDoc,
    allowed: (p: Position) => boolean,
    asked: number,
  ): Promise<ChargeResult | typeof STALE_REFUSAL> {
    const ours = (doc: LedgerEntryDoc | undefined, wanted: LedgerEntryDoc) =>
      doc !== undefined && doc.type === wanted.type && doc.call === wanted.call && doc.interval === wanted.interval;
    let p = this.ledgerEnds.get(account) ?? (await this.position(account));
    for (let race = 0; race < MAX_LEDGER_RACES; race++) {
      if (!allowed(p)) {
        this.keepLedgerEnd(account, p);
        if (p.readAt < asked) return STALE_REFUSAL;
        return { outcome: 'refused', remaining: p.credited - p.used };
      }
      const doc = entry(p);
      let created: boolean;
      try {
        created = await this.create(what, doc);
      } catch (err) {
        if (!(err instanceof PrepaidDbError) || err.code === 'PREPAID_DB_ERROR') throw err;
        // The answer was lost: try the same place once more; finding our own entry there is fine.
        created = await this.create(what, doc);
      }
      const there = created ? doc : await this.getOptional<LedgerEntryDoc>('read a ledger entry', doc._id);
      if (there === undefined || typeof there.seq !== 'number' || typeof there.used !== 'number') {
        throw new PrepaidDbError('PREPAID_DB_ERROR', `${doc._id} conflicts but is not a ledger entry`);
      }
      const reached: Position = { ...p, seq: there.seq, used: there.used };
      if (created || ours(there, doc)) {
        this.keepLedgerEnd(account, reached);
        return { outcome: created ? 'charged' : 'duplicate', remaining: reached.credited - reached.used };
      }
      // Another writer took this place first: go on after its entry.
      p = reached;
    }
    throw new PrepaidDbError('PREPAID_DB_ERROR', `${what}: lost ${MAX_LEDGER_RACES} races for the next ledger entry of ${account}`);
  }

  /**
   * Keeps an account's ledger end, as the one used last. A server sees every account that ever
   * calls through it: past maxLedgerEnds (MAX_LEDGER_ENDS unless set) the ends used longest ago
   * are dropped, so memory stays bounded however many accounts there are (each call live on an
   * account keeps it in use).
   */
  private keepLedgerEnd(account: string, end: Position): void {
    this.ledgerEnds.delete(account);
    this.ledgerEnds.set(account, end);
    if (this.ledgerEnds.size > this.maxLedgerEnds) this.ledgerEnds.delete(this.ledgerEnds.keys().next().value!);
  }

  /** Runs `fn` after every earlier `fn` of the same account has settled. */
  private oneAtATime<T>(account: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.appendQueues.get(account) ?? Promise.resolve();
    const result = previous.then(fn);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.appendQueues.set(account, tail);
    void tail.then(() => {
      if (this.appendQueues.get(account) === tail) this.appendQueues.delete(account);
    });
    return result;
  }

  /** One call's charged interval numbers and those given back, in order (from the `calls` and `given_back` views). */
  async callIntervals(account: string, call: string): Promise<{ charged: IntervalRecordDoc[]; givenBack: number[] }> {
    if (!isValidToken(call) || !isValidAccountName(account)) return { charged: [], givenBack: [] };
    const range = { startkey: [account, call], endkey: [account, call, {}] };
    const [charged, givenBack] = await Promise.all([
      this.run('read call intervals', (db) => db.query(VIEW_CALLS, { ...range, reduce: false, include_docs: true })),
      this.run('read given-back intervals', (db) => db.query(VIEW_GIVEN_BACK, range)),
    ]);
    return {
      charged: charged.rows
        .map((row) => row.doc as unknown as IntervalRecordDoc | undefined)
        .filter((doc): doc is IntervalRecordDoc => doc?.type === 'interval_record')
        .sort((a, b) => a.interval - b.interval),
      givenBack: givenBack.rows.map((row) => (row.key as [string, string, number])[2]).sort((a, b) => a - b),
    };
  }

  /**
   * Everything known about one call's charging: its interval records (through the `calls` view)
   * and its end marker. Only for a call that may have been charged before: one whose channel was
   * answered before it reached this server (see PrepaidServer); a call never answered has neither.
   */
  async callState(account: string, call: string): Promise<{ records: IntervalRecordDoc[]; end: CallEndDoc | undefined }> {
    if (!isValidToken(call)) return { records: [], end: undefined };
    const [intervals, end] = await Promise.all([
      this.callIntervals(account, call),
      this.getOptional<CallEndDoc>('read call end', callEndId(call)),
    ]);
    return { records: intervals.charged, end };
  }

  /** Mark a charged call as finished (idempotent: the first marker stays). */
  async finishCall(input: { account: string; call: string; intervalsCharged: number; outcome: string; server?: string }): Promise<void> {
    if (!isValidToken(input.call)) throw new PrepaidInputError(`invalid call uuid ${JSON.stringify(input.call)}`);
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
    await this.create('record call end', doc);
  }

  /** Calls that were charged, most recent last charge first (reports.ts). */
  recentCalls(options: { account?: string; limit?: number } = {}): Promise<CallSummary[]> {
    return recentCalls(this, options);
  }

  /** Every account with its balance, by name (`prepaid account list`; reports.ts). */
  listAccounts(): Promise<AccountListing[]> {
    return listAccounts(this);
  }

  /** Everything `prepaid account show` prints; null when there is no such account (reports.ts). */
  accountSummary(account: string): Promise<AccountSummary | null> {
    return accountSummary(this, account);
  }

  /** Close the database handle. Operations fail (closed = unavailable) until reopen(). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.answeredAt = -Infinity;
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
    this.ledgerEnds.clear();
    if (this.closed && this.config) await this.reopen();
    this.closed = true;
    await this.db.destroy();
  }
}
