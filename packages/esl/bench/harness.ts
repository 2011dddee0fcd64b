/**
 * Shared benchmark plumbing: timing loops, memory figures and the results table. A benchmark
 * module exports a `Suite` (see run.ts) and uses these helpers; nothing here knows about ESL.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Forces a full GC when possible (the flag is turned on at run time), else does nothing. */
export const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // fall through
  }
  return () => {};
})();

export interface Result {
  /** Row label, e.g. "freeswitch-esl". */
  name: string;
  /** Items (events) processed in the timed passes. */
  items: number;
  /** Payload bytes processed in the timed passes. */
  bytes: number;
  /** Time spent in the timed passes. */
  seconds: number;
  passes: number;
  /** Items per second of each timed pass. */
  passRates: number[];
  /** Items per second over each interleaved round (measureInterleaved only), for paired ratios. */
  roundRates?: number[];
  /** Process CPU time (user + system, all threads) spent in the timed passes, in seconds. */
  cpuSeconds: number;
  /** Largest growth of heap used over one timed round (GC'd before it), in bytes. */
  heapDelta: number;
  /** Largest growth of RSS over one timed round, in bytes. */
  rssDelta: number;
  /** A checksum the contender computed; contenders on the same input must agree. */
  check: string;
  note?: string;
}

export interface PassOutput {
  items: number;
  check: string;
}

export interface Contestant {
  name: string;
  /** One pass over the input; may be synchronous. */
  pass: () => PassOutput | Promise<PassOutput>;
}

export interface MeasureOptions {
  /** Keep running passes until this much time has been spent timing (default 1.5 s). */
  minSeconds?: number;
  /** Never run more passes than this (default unlimited). */
  maxPasses?: number;
  /** Untimed warm-up passes first (default 1). */
  warmup?: number;
  /** Bytes of input one pass consumes, for the MB/s column. */
  bytesPerPass: number;
}

export interface InterleaveOptions {
  /** Timed rounds; in each, every contestant runs for `secondsPerRound` (default 3 rounds). */
  rounds?: number;
  /** Time each contestant gets per round, at least one pass (default 0.5 s). */
  secondsPerRound?: number;
  /** Never run more passes than this per round (default unlimited). */
  maxPassesPerRound?: number;
  /** Untimed passes of each contestant, interleaved, before the first round (default 1). */
  warmup?: number;
  /**
   * Force a full garbage collection before each contestant's round, to report its heap growth
   * (default true). A forced collection also shrinks the young generation, so the next passes of
   * a contestant that allocates start by growing it again (page faults): fine for a memory
   * figure, a distortion for a throughput figure when rounds are short. Without it the memory
   * columns read "—".
   */
  collect?: boolean;
  /** Bytes of input one pass consumes, for the MB/s column. */
  bytesPerPass: number;
}

function memory(): { heap: number; rss: number } {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

/**
 * Times contestants against each other in interleaved rounds (A B C, A B C, ...) after one
 * untimed warm-up pass each, so that load from elsewhere on the machine hits all of them alike.
 */
export async function measureInterleaved(contestants: Contestant[], options: InterleaveOptions): Promise<Result[]> {
  const rounds = options.rounds ?? 3;
  const roundNs = (options.secondsPerRound ?? 0.5) * 1e9;
  const maxPasses = options.maxPassesPerRound ?? Infinity;
  const collect = options.collect ?? true;
  const results: Result[] = [];
  // Warm-up rounds, interleaved like the timed ones, so that JIT tiers and socket buffers settle.
  for (let w = 1; w < (options.warmup ?? 1); w++) for (const c of contestants) await c.pass();
  for (const c of contestants) {
    const out = await c.pass();
    results.push({
      name: c.name,
      items: 0,
      bytes: 0,
      seconds: 0,
      passes: 0,
      passRates: [],
      roundRates: [],
      heapDelta: 0,
      rssDelta: 0,
      cpuSeconds: 0,
      check: out.check,
    });
  }
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < contestants.length; i++) {
      const c = contestants[i]!;
      const r = results[i]!;
      if (collect) collectGarbage();
      const m0 = memory();
      let spent = 0;
      let passes = 0;
      let roundItems = 0;
      do {
        const cpu0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        const out = await c.pass();
        const ns = Number(process.hrtime.bigint() - t0);
        const cpu = process.cpuUsage(cpu0);
        r.cpuSeconds += (cpu.user + cpu.system) / 1e6;
        if (out.check !== r.check) throw new Error(`${c.name}: results differ between passes`);
        spent += ns;
        passes++;
        r.items += out.items;
        roundItems += out.items;
        r.passRates.push(out.items / (ns / 1e9));
      } while (spent < roundNs && passes < maxPasses);
      const m1 = memory();
      r.roundRates!.push(roundItems / (spent / 1e9));
      r.seconds += spent / 1e9;
      r.passes += passes;
      r.bytes += options.bytesPerPass * passes;
      r.heapDelta = collect ? Math.max(r.heapDelta, m1.heap - m0.heap) : NaN;
      r.rssDelta = collect ? Math.max(r.rssDelta, m1.rss - m0.rss) : NaN;
    }
  }
  return results;
}

/** Times one asynchronous pass function on its own (e.g. one that reads a socket). */
export async function measureAsync(name: string, pass: () => Promise<PassOutput>, options: MeasureOptions): Promise<Result> {
  const minNs = (options.minSeconds ?? 1.5) * 1e9;
  const maxPasses = options.maxPasses ?? Infinity;
  let check = '';
  for (let i = 0; i < (options.warmup ?? 1); i++) check = (await pass()).check;
  collectGarbage();
  const m0 = memory();
  const r = emptyResult(name, check);
  do {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const out = await pass();
    record(r, out, Number(process.hrtime.bigint() - t0), options.bytesPerPass, process.cpuUsage(cpu0));
  } while (r.seconds * 1e9 < minNs && r.passes < maxPasses);
  return withMemory(r, m0);
}

function emptyResult(name: string, check: string): Result {
  return { name, items: 0, bytes: 0, seconds: 0, passes: 0, passRates: [], cpuSeconds: 0, heapDelta: 0, rssDelta: 0, check };
}

function record(r: Result, out: PassOutput, ns: number, bytesPerPass: number, cpu: NodeJS.CpuUsage): void {
  r.cpuSeconds += (cpu.user + cpu.system) / 1e6;
  if (out.check !== r.check) throw new Error(`${r.name}: results differ between passes`);
  r.items += out.items;
  r.bytes += bytesPerPass;
  r.seconds += ns / 1e9;
  r.passes++;
  r.passRates.push(out.items / (ns / 1e9));
}

function withMemory(r: Result, m0: { heap: number; rss: number }): Result {
  const m1 = memory();
  r.heapDelta = m1.heap - m0.heap;
  r.rssDelta = m1.rss - m0.rss;
  return r;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median events/s over the timed passes (robust against a pass slowed down by load). */
export function rate(r: Result): number {
  return median(r.passRates);
}

/**
 * a/b of events/s within each interleaved round. Both ran back to back in the same round, so a
 * change in the machine's state between rounds (load elsewhere, where the scheduler put the
 * threads) moves both sides of one ratio alike instead of splitting two medians.
 */
export function pairedRatios(a: Result, b: Result): number[] {
  const ra = a.roundRates ?? [];
  const rb = b.roundRates ?? [];
  const out: number[] = [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) out.push(ra[i]! / rb[i]!);
  return out;
}

/** Process CPU time per item, in microseconds (less sensitive to load from elsewhere). */
export function cpuPerItem(r: Result): number {
  return (r.cpuSeconds * 1e6) / r.items;
}

/** The best pass. */
export function bestRate(r: Result): number {
  return Math.max(...r.passRates);
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fmtMB(bytes: number): string {
  return Number.isNaN(bytes) ? '—' : (bytes / 1024 / 1024).toFixed(1);
}

function pad(s: string, width: number, right = false): string {
  return right ? s.padStart(width) : s.padEnd(width);
}

/**
 * Prints one table of results plus the requested ratios (numerator / denominator of events/s).
 * Rows whose checksum differs from the first row's are flagged; returns false if any did.
 */
export function printTable(title: string, rows: Result[], ratios: Array<[string, string]> = []): boolean {
  const header = ['', 'events/s', 'best pass', 'CPU µs/event', 'MB/s', 'passes', 'heap Δ MB', 'RSS Δ MB'];
  const body = rows.map((r) => [
    r.name + (r.note ? ` (${r.note})` : ''),
    fmtInt(rate(r)),
    fmtInt(bestRate(r)),
    cpuPerItem(r).toFixed(2),
    ((rate(r) * r.bytes) / r.items / 1024 / 1024).toFixed(0),
    String(r.passes),
    fmtMB(r.heapDelta),
    fmtMB(r.rssDelta),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => pad(c, widths[i]!, i > 0)).join('  ');
  console.log(`\n${title}`);
  console.log(
    '(events/s: median of the timed passes; CPU: process CPU time, all threads, per event; MB/s at the median rate; Δ: memory growth)',
  );
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of body) console.log(line(row));
  let ok = true;
  const reference = rows.find((r) => r.check !== '')?.check;
  for (const r of rows) {
    if (r.check !== '' && r.check !== reference) {
      console.log(`  !! ${r.name} saw different events (checksum ${r.check} vs ${reference})`);
      ok = false;
    }
  }
  for (const [a, b] of ratios) {
    const ra = rows.find((r) => r.name === a);
    const rb = rows.find((r) => r.name === b);
    if (ra === undefined || rb === undefined) continue;
    let line = `  ${a} / ${b}: ${(rate(ra) / rate(rb)).toFixed(2)}× events/s, ${(cpuPerItem(rb) / cpuPerItem(ra)).toFixed(2)}× by CPU time`;
    const paired = pairedRatios(ra, rb);
    if (paired.length > 1) {
      line += `; round by round ${median(paired).toFixed(2)}× (${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)})`;
    }
    console.log(line);
  }
  return ok;
}
