/**
 * The `_design/prepaid` document. The app installs it, and upgrades it when `prepaid_version`
 * grows, so a fleet of app servers converges on the newest one (an older server never downgrades).
 *
 * Map functions are stored as source text and run by CouchDB's JavaScript query server (or by
 * PouchDB's): keep them ES5 with no closures.
 */

export const DESIGN_DOC_ID = '_design/prepaid';
export const DESIGN_VERSION = 1;

/** Remaining intervals per account: credits are positive, interval records negative; `_sum`. */
const CURRENT_MAP = `function (doc) {
  if ((doc.type === 'credit' || doc.type === 'interval_record') && typeof doc.account === 'string' && typeof doc.intervals === 'number') {
    emit(doc.account, doc.intervals);
  }
}`;

/**
 * Charged calls: key [account, call uuid], value the record time in ms; `_stats` gives per call the
 * number of intervals (count), the first charge (min) and the last charge (max).
 */
const CALLS_MAP = `function (doc) {
  if (doc.type === 'interval_record' && typeof doc.account === 'string' && typeof doc.call === 'string') {
    emit([doc.account, doc.call], new Date(doc.at).getTime());
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
    },
  };
}

/** Index names as PouchDB's query() takes them. */
export const VIEW_CURRENT = 'prepaid/current';
export const VIEW_CALLS = 'prepaid/calls';
