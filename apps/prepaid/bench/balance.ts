/**
 * Balance checks and charges against the length of an account's history, on the embedded default
 * (PouchDB on LevelDB files): p50/p95 of `remaining()` (the check before bridging and while
 * ringing) and of `chargeInterval()` (each interval) at 100, 10k, 100k and 1M ledger entries, and,
 * for contrast, the seed's `current` view (with its index up to date) where it is still quick
 * enough to time.
 *
 *   npm run bench -w prepaid                  # up to 1,000,000 entries (writing them takes minutes)
 *   npm run bench -w prepaid -- --max 100000  # a bounded run
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import PouchDB from 'pouchdb';
import { VIEW_CURRENT } from '../src/design.js';
import { PrepaidStore, ledgerEntryId } from '../src/store.js';

const { values } = parseArgs({
  options: {
    max: { type: 'string', default: '1000000' },
    samples: { type: 'string', default: '200' },
    /** The seed view is timed only up to this many entries (it re-reduces every row). */
    'view-max': { type: 'string', default: '10000' },
  },
});
const MAX = Number(values.max);
const SAMPLES = Number(values.samples);
const VIEW_MAX = Number(values['view-max']);
const SIZES = [100, 10_000, 100_000, 1_000_000].filter((n) => n <= MAX);
const BATCH = 5000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p95: percentile(ms, 95) };
}

const fmt = (x: number) => x.toFixed(2).padStart(9);

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'prepaid-bench-'));
  const started = performance.now();
  try {
    const seedStore = await PrepaidStore.open({ kind: 'disk', dataDir: dir });
    await seedStore.createAccount({ account: 'busy', intervalDuration: 6 });
    await seedStore.addCredit('busy', 10_000_000, { id: 'bench' });
    await seedStore.close();
    const raw = new PouchDB(path.join(dir, 'prepaid'));
    console.log(`prepaid balance bench: embedded PouchDB (LevelDB), ${SAMPLES} samples per figure, ms`);
    console.log('  entries   remaining p50   p95   charge p50   p95   seed view p50');
    let written = 0;
    for (const size of SIZES) {
      const writeStart = performance.now();
      while (written < size) {
        const count = Math.min(BATCH, size - written);
        await raw.bulkDocs(
          Array.from({ length: count }, (_, i) => {
            const seq = written + i + 1;
            return {
              _id: ledgerEntryId('busy', seq),
              type: 'interval_record', account: 'busy', call: `history-${Math.floor(seq / 50)}`, interval: (seq % 50) + 1,
              intervals: -1, seq, used: seq, interval_duration: 6, at: new Date(1_700_000_000_000 + seq * 6000).toISOString(),
            };
          }),
        );
        written += count;
      }
      const writeMs = performance.now() - writeStart;
      // A new store (nothing cached), as a server starting on this history would have. (One LevelDB
      // handle: PouchDB shares it by name within a process, and closing one closes it for all.)
      const store = PrepaidStore.fromDatabase(raw);
      const remaining = await timed(SAMPLES, () => store.remaining('busy'));
      const charge = await timed(SAMPLES, (i) =>
        store.chargeInterval({ account: 'busy', call: `bench-${size}`, interval: i + 1, intervalDuration: 6 }),
      );
      written += SAMPLES;
      let view = '        (skipped)';
      if (size <= VIEW_MAX) {
        // Timed after one untimed query, which brings the view's index up to date first.
        const query = () => raw.query(VIEW_CURRENT, { key: 'busy', reduce: true, group: true });
        await query();
        view = fmt((await timed(3, query)).p50);
      }
      console.log(
        `${String(size).padStart(9)} ${fmt(remaining.p50)} ${fmt(remaining.p95)} ${fmt(charge.p50)} ${fmt(charge.p95)} ${view}` +
          `   (history written in ${(writeMs / 1000).toFixed(1)} s)`,
      );
    }
    await raw.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await main();
