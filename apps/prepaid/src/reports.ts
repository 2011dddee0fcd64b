/** What operators read: charged calls and account summaries (views; not on a call's hot path). */
import { VIEW_CALLS } from './design.js';
import type { AccountDoc, CreditDoc } from './documents.js';
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
