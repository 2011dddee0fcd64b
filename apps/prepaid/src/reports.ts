/** What operators read: charged calls, account summaries and listings (not on a call's hot path). */
import { VIEW_CALLS } from './design.js';
import { prefixRange, type AccountDoc, type CreditDoc } from './documents.js';
import type { PrepaidStore } from './store.js';

export interface CallSummary {
  call: string;
  account: string;
  /** Intervals charged (before any given back). */
  intervals: number;
  firstChargeAt: Date;
  lastChargeAt: Date;
}

export interface AccountSummary {
  account: AccountDoc;
  remaining: number;
  credited: number;
  /** Net intervals used: charged minus given back. */
  charged: number;
  credits: CreditDoc[];
  calls: number;
}

/** One line of `prepaid account list`. */
export interface AccountListing {
  account: string;
  name?: string;
  interval_duration: number;
  remaining: number;
  created_at: string;
}

/** Every account with its balance, by name. Each balance is the hot path's read (credits and the newest ledger entry). */
export async function listAccounts(store: PrepaidStore): Promise<AccountListing[]> {
  const rows = await store.run('list accounts', (db) => db.allDocs({ ...prefixRange('account:'), include_docs: true }));
  const accounts = rows.rows
    .map((row) => row.doc as unknown as AccountDoc | undefined)
    .filter((doc): doc is AccountDoc => doc?.type === 'account');
  const balances = await Promise.all(accounts.map((doc) => store.remaining(doc.account)));
  return accounts.map((doc, i) => ({
    account: doc.account,
    ...(doc.name === undefined ? {} : { name: doc.name }),
    interval_duration: doc.interval_duration,
    remaining: balances[i]!,
    created_at: doc.created_at,
  }));
}

/** Calls that were charged, most recent last charge first. */
export async function recentCalls(store: PrepaidStore, options: { account?: string; limit?: number } = {}): Promise<CallSummary[]> {
  const range = options.account === undefined ? {} : { startkey: [options.account], endkey: [options.account, {}] };
  const result = await store.run('list calls', (db) =>
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

/** Everything `prepaid account show` prints. Null when there is no such account. */
export async function accountSummary(store: PrepaidStore, account: string): Promise<AccountSummary | null> {
  const doc = await store.getAccount(account);
  if (!doc) return null;
  const [credits, calls, remaining] = await Promise.all([
    store.credits(account),
    store.run('read charges', (db) =>
      db.query<{ count: number }>(VIEW_CALLS, { startkey: [account], endkey: [account, {}], reduce: true, group_level: 2 }),
    ),
    store.remaining(account),
  ]);
  const credited = credits.reduce((sum, c) => sum + c.intervals, 0);
  return { account: doc, remaining, credited, charged: credited - remaining, credits, calls: calls.rows.length };
}
