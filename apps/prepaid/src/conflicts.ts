/**
 * Ledger entries written on both sides of a CouchDB cluster partition: finding them (`_conflicts`)
 * and reconciling them without losing a charge or counting one twice.
 *
 * On one node (and on the embedded default) two writers can never both create `ledger:<a>:<seq>`:
 * the second gets 409. A cluster split in two accepts the same id on each side; when the sides
 * meet again the document has two revisions, CouchDB shows one (the winner) and lists the other
 * in `_conflicts`, and every view, `current` included, counts only the winner: one charge silently
 * hidden. Reconciling appends each losing charge again at the end of the ledger (so it counts, and
 * the balance may go below zero: that is what the partition overspent, now visible) and then
 * deletes the losing revision. A marker document per losing revision makes a rerun after a crash
 * find its earlier work instead of appending twice.
 */
import { statusOf } from './db-errors.js';
import { VIEW_CONFLICTS } from './design.js';
import { ledgerEntryId, ledgerPrefix, type LedgerEntryDoc } from './documents.js';
import type { PrepaidStore } from './store.js';

export interface LedgerConflict {
  id: string;
  /** The revision CouchDB shows. */
  winner: LedgerEntryDoc;
  /** The other revisions: charges the views do not count. */
  losers: LedgerEntryDoc[];
}

/** Written before a losing revision is appended again; `after_seq` is the ledger's end then. */
interface ReconciliationMarker {
  _id: string;
  type: 'reconciliation';
  entry: string;
  rev: string;
  after_seq: number;
  created_at: string;
}

/** Every ledger entry with conflicting revisions (from the `conflicts` view). */
export async function findLedgerConflicts(store: PrepaidStore): Promise<LedgerConflict[]> {
  const rows = await store.run('find conflicts', (db) => db.query<string[]>(VIEW_CONFLICTS, {}));
  const conflicts: LedgerConflict[] = [];
  for (const row of rows.rows) {
    const id = String(row.key);
    if (!id.startsWith('ledger:')) continue;
    const winner = (await store.run('read a conflicted entry', (db) => db.get(id, { conflicts: true }))) as unknown as LedgerEntryDoc & {
      _conflicts?: string[];
    };
    const losers: LedgerEntryDoc[] = [];
    for (const rev of winner._conflicts ?? []) {
      losers.push((await store.run('read a losing revision', (db) => db.get(id, { rev }))) as unknown as LedgerEntryDoc);
    }
    if (losers.length > 0) conflicts.push({ id, winner, losers });
  }
  return conflicts;
}

/**
 * Append every losing revision again and delete it. Resolves with how many charges were appended
 * again per account (safe to run again: a marker per losing revision records the work).
 */
export async function reconcileLedgerConflicts(store: PrepaidStore): Promise<Map<string, number>> {
  const appended = new Map<string, number>();
  for (const conflict of await findLedgerConflicts(store)) {
    for (const loser of conflict.losers) {
      const account = loser.account;
      const markerId = `reconciled:${conflict.id}:${loser._rev}`;
      let marker = await store.getOptional<ReconciliationMarker>('read a reconciliation marker', markerId);
      if (!marker) {
        const end = await store.run('read the ledger end', (db) =>
          db.allDocs({ startkey: ledgerPrefix(account) + '\ufff0', endkey: ledgerPrefix(account), descending: true, limit: 1 }),
        );
        const lastId = end.rows[0]?.id;
        marker = {
          _id: markerId,
          type: 'reconciliation',
          entry: conflict.id,
          rev: loser._rev!,
          after_seq: lastId === undefined ? 0 : Number(lastId.slice(lastId.lastIndexOf(':') + 1)),
          created_at: new Date().toISOString(),
        };
        await store.run('write a reconciliation marker', (db) => db.put(marker as unknown as { _id: string }));
      }
      if (!(await alreadyAppended(store, account, marker))) {
        await store.appendCopy(loser, markerId);
        appended.set(account, (appended.get(account) ?? 0) + 1);
      }
      await store.run('delete a losing revision', async (db) => {
        try {
          await db.put({ _id: conflict.id, _rev: loser._rev!, _deleted: true });
        } catch (err) {
          if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err; // already gone
        }
      });
    }
  }
  return appended;
}

/** Whether an entry after the marker's `after_seq` already reconciles it. */
async function alreadyAppended(store: PrepaidStore, account: string, marker: ReconciliationMarker): Promise<boolean> {
  const after = await store.run('read the ledger after the marker', (db) =>
    db.allDocs({ startkey: ledgerEntryId(account, marker.after_seq + 1), endkey: ledgerPrefix(account) + '\ufff0', include_docs: true }),
  );
  return after.rows.some((row) => (row.doc as { reconciles?: unknown } | undefined)?.reconciles === marker._id);
}
