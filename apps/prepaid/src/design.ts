/**
 * The `_design/prepaid` document. The app installs it, and upgrades it when `prepaid_version`
 * grows, so a fleet of app servers converges on the newest one (an older server never downgrades).
 *
 * Map functions are stored as source text and run by CouchDB's JavaScript query server (or by
 * PouchDB's): keep them ES5 with no closures.
 *
 * None of these views is on a call's hot path (the balance comes from the newest ledger entry,
 * documents.ts): PouchDB re-reduces every row of a key at query time, so `current` slows with an
 * account's history there, while CouchDB keeps reductions in its B-tree.
 */

export const DESIGN_DOC_ID = '_design/prepaid';
export const DESIGN_VERSION = 2;

/** Remaining intervals per account: credits are positive, interval records negative; `_sum` (the seed's view). */
const CURRENT_MAP = `function (doc) {
  if ((doc.type === 'credit' || doc.type === 'interval_record') && typeof doc.account === 'string' && typeof doc.intervals === 'number') {
    emit(doc.account, doc.intervals);
  }
}`;

/**
 * Charged intervals: key [account, call uuid, interval], value the interval's start in ms; with
 * `_stats` at group_level 2, per call the number of intervals (count), the first (min) and the
 * last (max).
 */
const CALLS_MAP = `function (doc) {
  if (doc.type === 'interval_record' && typeof doc.account === 'string' && typeof doc.call === 'string') {
    emit([doc.account, doc.call, doc.interval], new Date(doc.at).getTime());
  }
}`;

/** Unused intervals given back at the end of a call: key [account, call uuid, interval]. */
const GIVEN_BACK_MAP = `function (doc) {
  if (doc.type === 'credit' && typeof doc.call === 'string' && typeof doc.interval === 'number') {
    emit([doc.account, doc.call, doc.interval], 1);
  }
}`;

/** Documents with conflicting revisions (a CouchDB cluster that took writes on both sides of a partition). */
const CONFLICTS_MAP = `function (doc) {
  if (doc._conflicts && doc._conflicts.length > 0) {
    emit(doc._id, doc._conflicts);
  }
}`;

export interface DesignDoc {
  _id: string;
  _rev?: string;
  language: 'javascript';
  prepaid_version: number;
  views: Record<string, { map: string; reduce?: string }>;
  [key: string]: unknown;
}

export function designDocument(): DesignDoc {
  return {
    _id: DESIGN_DOC_ID,
    language: 'javascript',
    prepaid_version: DESIGN_VERSION,
    views: {
      current: { map: CURRENT_MAP, reduce: '_sum' },
      calls: { map: CALLS_MAP, reduce: '_stats' },
      given_back: { map: GIVEN_BACK_MAP },
      conflicts: { map: CONFLICTS_MAP },
    },
  };
}

/** Index names as PouchDB's query() takes them. */
export const VIEW_CURRENT = 'prepaid/current';
export const VIEW_CALLS = 'prepaid/calls';
export const VIEW_GIVEN_BACK = 'prepaid/given_back';
export const VIEW_CONFLICTS = 'prepaid/conflicts';
