/**
 * Group commit of document creations: creations asked for while a write is in flight go out
 * together in the next one (one `_bulk_docs` request, one LevelDB batch), so a database that
 * takes one write at a time (PouchDB's LevelDB adapter queues them) still keeps up with many
 * calls charging at once; each creation still gets its own answer (created, or already there).
 */
export interface PendingCreate {
  what: string;
  doc: { _id: string };
  resolve(created: boolean): void;
  reject(err: unknown): void;
}

export class CreateBatcher {
  private pending: PendingCreate[] = [];
  private writing = false;

  constructor(
    /** Writes one batch and settles each of its entries; a rejection settles those it did not. */
    private readonly writeBatch: (batch: readonly PendingCreate[]) => Promise<void>,
    private readonly maxBatch = 500,
  ) {}

  create(what: string, doc: { _id: string }): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ what, doc, resolve, reject });
      if (this.writing) return;
      this.writing = true;
      // After this turn's other timers and I/O callbacks: the charges due together go together.
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        await this.writeBatch(batch);
      } catch (err) {
        for (const entry of batch) entry.reject(err);
      }
    }
    this.writing = false;
  }
}
