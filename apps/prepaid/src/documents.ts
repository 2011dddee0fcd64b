/**
 * The prepaid database's documents: their shapes, their ids and the names they accept.
 *
 * - `account:<account>`      type 'account', interval_duration (seconds), name, created_at
 * - `credit:<account>:<id>`  type 'credit', account, intervals (> 0), reason, created_at; a credit
 *   with a deterministic id (e.g. a payment id) applies once
 * - `ledger:<account>:<seq>` the account's ledger, entries numbered 1, 2, 3, … with no gap. An
 *   entry is an interval charged to a call (type 'interval_record', intervals -1, as in the seed)
 *   or an unused interval given back at the end of a call (type 'credit', intervals +1). Each
 *   carries `used`, the net number of intervals used up to and including it, so the newest entry
 *   alone gives the balance. `seq` is part of the id: two writers taking the same place conflict
 *   (409) and only one wins, so the per-account debit is atomic on PouchDB and on a CouchDB node
 *   without any lock, and a charge is written only while `used` stays within the credits.
 * - `call_end:<call uuid>`   type 'call_end': the call's charging is complete.
 *
 * Every document but the design document is written once and never updated.
 */

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

/** Fields every ledger entry has. */
interface LedgerFields {
  _id: string;
  _rev?: string;
  account: string;
  call: string;
  interval: number;
  /** Place in the account's ledger (1-based, no gaps). */
  seq: number;
  /** Net intervals used (charged minus given back) up to and including this entry. */
  used: number;
  interval_duration: number;
  /** Which app server wrote it (diagnostics only). */
  server?: string;
  /** Set on a copy appended by reconciliation (conflicts.ts): the marker it answers. */
  reconciles?: string;
}

/** A ledger entry charging one interval of a call. */
export interface IntervalRecordDoc extends LedgerFields {
  /** The seed's type name, so the `current` view and operators' queries keep working. */
  type: 'interval_record';
  intervals: -1;
  /** Start of the interval it pays for. */
  at: string;
}

/** A ledger entry giving back an interval a call paid for ahead and never started. */
export interface GiveBackDoc extends LedgerFields {
  type: 'credit';
  intervals: 1;
  reason: 'unused interval';
  created_at: string;
}

export type LedgerEntryDoc = IntervalRecordDoc | GiveBackDoc;

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

/** One interval of one call, to be charged to an account. */
export interface IntervalChargeInput {
  account: string;
  call: string;
  interval: number;
  intervalDuration: number;
  /** Start of the interval it pays for (default now). */
  at?: Date;
  server?: string;
}

/**
 * How a charge went: `charged` (this write took the next place in the account's ledger),
 * `duplicate` (this call's interval was already charged, by an earlier try of the same write),
 * `refused` (no credit left for it). `remaining` is the balance right after, in intervals.
 */
export interface ChargeResult {
  outcome: 'charged' | 'duplicate' | 'refused';
  remaining: number;
}

const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;
const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidAccountName(account: string): boolean {
  return ACCOUNT_NAME.test(account);
}

/** Call uuids and credit ids: letters, digits and `._-`. */
export function isValidToken(text: string): boolean {
  return TOKEN.test(text);
}

export const accountId = (account: string): string => `account:${account}`;
export const creditId = (account: string, id: string): string => `credit:${account}:${id}`;
export const callEndId = (call: string): string => `call_end:${call}`;
/** Entry `seq` of the account's ledger (zero-padded: ids sort in ledger order). */
export const ledgerEntryId = (account: string, seq: number): string => `${ledgerPrefix(account)}${String(seq).padStart(12, '0')}`;
export const ledgerPrefix = (account: string): string => `ledger:${account}:`;
export const creditPrefix = (account: string): string => `credit:${account}:`;

/** allDocs bounds for every id starting with `prefix`. */
export function prefixRange(prefix: string): { startkey: string; endkey: string } {
  return { startkey: prefix, endkey: prefix + '\ufff0' };
}
