/** The prepaid store's errors, and the mapping of whatever PouchDB or the network threw onto them. */
import { redactText } from './redact.js';

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

/** The database did not answer (down, unreachable, timed out), as opposed to answering with an error. */
export function isUnreachable(err: unknown): boolean {
  return err instanceof PrepaidDbError && (err.code === 'PREPAID_DB_UNAVAILABLE' || err.code === 'PREPAID_DB_TIMEOUT');
}

/** A request the data refuses (bad name, unknown account, account exists): not a database fault. */
export class PrepaidInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrepaidInputError';
  }
}

export function statusOf(err: unknown): number | undefined {
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
