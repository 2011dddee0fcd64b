/**
 * Prepaid load benchmark: many concurrent calls through one `prepaid serve` process, charged
 * interval by interval, with FreeSWITCH's side (the simulator, bench/load-switch.ts) in another
 * process, and in HTTP mode the CouchDB-compatible server (bench/load-couch.ts) in a third.
 *
 * Each run places N calls at a fixed rate, one account each; every call talks long enough that
 * all N are live together for `--steady-s` seconds. Printed per run: intervals charged, missed
 * (the call talked through an interval that was never charged) and doubled (an interval charged
 * twice), calls the switch cut off, lateness of each charge against its due time (from serve's
 * own log, p50/p99/max), serve's CPU per charged interval (all its CPU over the run, call set-up
 * included) and its share of one core, database writes/s (the database's update sequence), and
 * serve's RSS growth per live call at the peak. Each case runs `--runs` times (a shared machine's
 * noise moves the tail from run to run): a summary gives the medians with their spread, and in how
 * many runs the goal was met.
 *
 *   npm run bench:load -w prepaid                              # 1,000 calls, embedded then HTTP, 3 runs each
 *   npm run bench:load -w prepaid -- --calls 100,200,500,1000,1500 --db embedded --runs 1   # find the knee
 *   npm run bench:load -w prepaid -- --db http --couch http://admin:pw@127.0.0.1:5984 --couch-pid PID
 *
 * With `--couch`, HTTP mode uses that CouchDB server instead of starting its own: each run in a
 * database of its own, deleted afterwards; `--couch-pid` (its process) gives its CPU share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import PouchDB from 'pouchdb';
import type { StorageConfig } from '../src/databases.js';
import { redactUrl } from '../src/redact.js';
import { PrepaidStore } from '../src/store.js';
import type { SwitchCallRecord, SwitchMessage, SwitchReport } from './load-switch.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    db: { type: 'string', default: 'both' },
    rate: { type: 'string', default: '100' },
    'interval-s': { type: 'string', default: '1' },
    'steady-s': { type: 'string', default: '10' },
    'answer-after-ms': { type: 'string', default: '200' },
    couch: { type: 'string' },
    'couch-pid': { type: 'string' },
  },
});
const COUCH_SERVER = values.couch?.replace(/\/+$/, '');
const COUCH_PID = values['couch-pid'] === undefined ? undefined : Number(values['couch-pid']);
const CALL_COUNTS = values.calls.split(',').map(Number);
type Mode = 'embedded' | 'http';
const MODES: Mode[] = values.db === 'both' ? ['embedded', 'http'] : [values.db as Mode];
const RUNS = Number(values.runs);
const RATE = Number(values.rate);
const INTERVAL_S = Number(values['interval-s']);
const STEADY_S = Number(values['steady-s']);
const ANSWER_AFTER_MS = Number(values['answer-after-ms']);
for (const mode of MODES) if (mode !== 'embedded' && mode !== 'http') throw new Error('--db is embedded, http or both');
if (CALL_COUNTS.some((n) => !(n > 0)) || !Number.isInteger(RUNS) || RUNS < 1 || !(RATE > 0) || !(INTERVAL_S > 0) || !(STEADY_S >= 0)) throw new Error('bad numbers');

/** Issue 18's goal: p99 lateness of a charge against its due time. */
const LATENESS_GOAL_MS = 50;
/** An interval that started this close to the hangup may count either way (clocks of two processes). */
const BOUNDARY_MS = 100;
/** ChargingSession.settle's rule: an interval started less than this before the end is not charged. */
const START_GRACE_MS = Math.min((INTERVAL_S * 1000) / 2, 250);

const here = path.dirname(fileURLToPath(import.meta.url));
const mainScript = path.join(here, '..', 'src', 'main.js');
const TICKS_PER_S = 100; // USER_HZ on Linux

interface ProcSample {
  cpuMs: number;
  rssKiB: number;
}

/** CPU time (user + system) and RSS of a process, from /proc. */
async function sample(pid: number): Promise<ProcSample> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return { cpuMs, rssKiB };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}

function waitForLine(child: ChildProcess, stream: NodeJS.ReadableStream, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${what} exited (${code}) before it was ready`));
    child.once('exit', onExit);
    lines(stream, (line) => {
      const m = pattern.exec(line);
      if (m) {
        child.off('exit', onExit);
        resolve(m);
      }
    });
  });
}

async function startCouch(dir: string): Promise<{ url: string; child: ChildProcess }> {
  await mkdir(dir, { recursive: true });
  const child = spawn(process.execPath, [path.join(here, 'load-couch.js'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const m = await waitForLine(child, child.stdout!, /^port (\d+)$/, 'the CouchDB-compatible server');
  return { url: `http://127.0.0.1:${m[1]}/prepaid`, child };
}

interface ServeLog {
  lateness: number[];
  /** When each charge of `lateness` was logged (ms since epoch). */
  loggedAt: number[];
  ended: number;
  warnings: Map<string, number>;
}

async function startServe(storage: StorageConfig): Promise<{ child: ChildProcess; port: number; log: ServeLog }> {
  const where = storage.kind === 'couch' ? ['--couch', storage.url] : ['--data', (storage as { dataDir: string }).dataDir];
  const child = spawn(
    process.execPath,
    [mainScript, 'serve', ...where, '--listen', '127.0.0.1:0', '--log-format', 'json'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log: ServeLog = { lateness: [], loggedAt: [], ended: 0, warnings: new Map() };
  lines(child.stderr!, (line) => {
    let record: { time?: string; level?: string; msg?: string; late_ms?: number };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      process.stderr.write(`serve: ${line}\n`);
      return;
    }
    const msg = record.msg ?? '';
    if (msg.startsWith('charged interval') && typeof record.late_ms === 'number') {
      log.lateness.push(record.late_ms);
      log.loggedAt.push(Date.parse(record.time ?? ''));
    } else if (msg.startsWith('call ended')) log.ended++;
    if (record.level === 'warn' || record.level === 'error') {
      // Counted by kind (the message without its numbers), not printed: a run at its knee logs thousands.
      const kind = `${record.level}: ${msg.replace(/\d+/g, 'N').slice(0, 160)}`;
      log.warnings.set(kind, (log.warnings.get(kind) ?? 0) + 1);
    }
  });
  const m = await waitForLine(child, child.stdout!, /listening on [^:]+:(\d+)/, 'prepaid serve');
  return { child, port: Number(m[1]), log };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

function databaseOf(storage: StorageConfig): PouchDB.Database {
  return storage.kind === 'couch' ? new PouchDB(storage.url) : new PouchDB(path.join((storage as { dataDir: string }).dataDir, 'prepaid'));
}

async function updateSeq(storage: StorageConfig): Promise<number> {
  const db = databaseOf(storage);
  try {
    const info = (await db.info()) as { update_seq: number | string };
    return typeof info.update_seq === 'number' ? info.update_seq : parseInt(info.update_seq, 10);
  } finally {
    await db.close();
  }
}

interface LedgerDoc {
  _id: string;
  type?: string;
  call?: string;
  interval?: number;
}

/** Per call: interval numbers charged (with repeats) and given back. */
async function ledgerByCall(storage: StorageConfig): Promise<Map<string, { charged: number[]; givenBack: number[] }>> {
  const db = databaseOf(storage);
  const byCall = new Map<string, { charged: number[]; givenBack: number[] }>();
  try {
    const result = await db.allDocs({ startkey: 'ledger:', endkey: 'ledger:\ufff0', include_docs: true });
    for (const row of result.rows) {
      const doc = row.doc as unknown as LedgerDoc | undefined;
      if (!doc?.call || typeof doc.interval !== 'number') continue;
      let entry = byCall.get(doc.call);
      if (!entry) byCall.set(doc.call, (entry = { charged: [], givenBack: [] }));
      if (doc.type === 'interval_record') entry.charged.push(doc.interval);
      else if (doc.type === 'credit') entry.givenBack.push(doc.interval);
    }
  } finally {
    await db.close();
  }
  return byCall;
}

interface Check {
  /** Intervals charged and kept (charges less the ones given back at the hangup). */
  intervals: number;
  /** Charges written, each logged by serve with its lateness (given back or not). */
  charges: number;
  missed: number;
  doubled: number;
  overcharged: number;
  cutOff: number;
  /** The hangup causes of the calls cut off, with their counts. */
  cutOffCauses: Map<string, number>;
  notAnswered: number;
}

/** Compares the ledger with what the switch saw: every interval talked charged once, none more. */
function check(calls: SwitchCallRecord[], ledger: Map<string, { charged: number[]; givenBack: number[] }>): Check {
  const intervalMs = INTERVAL_S * 1000;
  const c: Check = { intervals: 0, charges: 0, missed: 0, doubled: 0, overcharged: 0, cutOff: 0, cutOffCauses: new Map(), notAnswered: 0 };
  for (const call of calls) {
    const entry = ledger.get(call.uuid) ?? { charged: [], givenBack: [] };
    const unique = new Set(entry.charged);
    c.doubled += entry.charged.length - unique.size;
    const net = unique.size - new Set(entry.givenBack).size;
    c.intervals += net;
    c.charges += unique.size;
    if (call.cause !== 'NORMAL_CLEARING') {
      c.cutOff++;
      const cause = call.cause ?? 'no hangup seen';
      c.cutOffCauses.set(cause, (c.cutOffCauses.get(cause) ?? 0) + 1);
    }
    if (call.answeredAt === null || call.hungUpAt === null) {
      c.notAnswered++;
      continue;
    }
    const talked = call.hungUpAt - call.answeredAt;
    // Interval n counts when it started START_GRACE_MS before the end; near that line, either way.
    const counted = (slack: number) => Math.max(0, Math.floor((talked + slack - START_GRACE_MS) / intervalMs) + 1);
    const fewest = counted(-BOUNDARY_MS);
    const most = counted(BOUNDARY_MS);
    if (net < fewest) c.missed += fewest - net;
    if (net > most) c.overcharged += net - most;
  }
  return c;
}

interface RunResult {
  mode: string;
  calls: number;
  peakLive: number;
  check: Check;
  lateness: number[];
  /** The lateness of the charges made during the ramp (calls still being set up), and after it. */
  latenessRamp: number[];
  latenessLive: number[];
  cpuMsPerInterval: number;
  cpuShare: number;
  switchCpuShare: number;
  /** The CouchDB-compatible server's share of one core (HTTP mode). */
  dbCpuShare: number | undefined;
  writesPerS: number;
  rssPerCallKiB: number;
  seconds: number;
  warnings: Map<string, number>;
}

async function runOnce(mode: 'embedded' | 'http', calls: number): Promise<RunResult> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'prepaid-load-'));
  const children: ChildProcess[] = [];
  let couchPid: number | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  try {
    let storage: StorageConfig;
    if (mode === 'http' && COUCH_SERVER !== undefined) {
      const url = `${COUCH_SERVER}/prepaid-load-${path.basename(tmp).toLowerCase().replace(/[^a-z0-9]/g, '')}`;
      storage = { kind: 'couch', url };
      couchPid = COUCH_PID;
      dropDatabase = () => databaseOf(storage).destroy().then(() => {});
    } else if (mode === 'http') {
      const couch = await startCouch(path.join(tmp, 'couch'));
      children.push(couch.child);
      couchPid = couch.child.pid;
      storage = { kind: 'couch', url: couch.url };
    } else {
      storage = { kind: 'disk', dataDir: path.join(tmp, 'data') };
    }
    const rampS = calls / RATE;
    const talkMs = Math.round((Math.ceil(rampS) + STEADY_S + 0.5) * 1000);
    const credit = Math.ceil(talkMs / 1000 / INTERVAL_S) + 20;
    const seeding = await PrepaidStore.open(storage);
    for (let i = 0; i < calls; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, calls - i) }, async (_, k) => {
          const account = `load-${i + k}`;
          await seeding.createAccount({ account, intervalDuration: INTERVAL_S });
          await seeding.addCredit(account, credit, { id: 'load', reason: 'load test' });
        }),
      );
    }
    await seeding.close();
    const seqBefore = await updateSeq(storage);

    const serve = await startServe(storage);
    children.push(serve.child);
    const switchProc = spawn(process.execPath, [path.join(here, 'load-switch.js')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(switchProc);
    const messages = (kind: SwitchMessage['kind'], fn: (m: SwitchMessage) => void) =>
      switchProc.on('message', (m: SwitchMessage) => m.kind === kind && fn(m));
    await new Promise<void>((resolve) => messages('ready', () => resolve()));

    const idle = await sample(serve.child.pid!);
    const dbIdle = couchPid === undefined ? undefined : await sample(couchPid);
    let peak = { live: 0, rssKiB: idle.rssKiB };
    messages('live', (m) => {
      if (m.kind !== 'live' || m.live < peak.live) return;
      const live = m.live;
      void sample(serve.child.pid!).then(
        (s) => {
          if (live >= peak.live) peak = { live, rssKiB: s.rssKiB };
        },
        () => {},
      );
    });
    const started = Date.now();
    const done = new Promise<SwitchReport>((resolve) => messages('done', (m) => m.kind === 'done' && resolve(m.report)));
    switchProc.send({
      kind: 'run',
      request: { socket: { host: '127.0.0.1', port: serve.port }, calls, rate: RATE, answerAfterMs: ANSWER_AFTER_MS, talkMs, accountPrefix: 'load-' },
    });
    const report = await done;
    // Serve logs each call's end after settling it with the database.
    const until = Date.now() + 30_000;
    while (serve.log.ended < calls && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const seconds = (Date.now() - started) / 1000;
    const end = await sample(serve.child.pid!);
    const dbEnd = couchPid === undefined ? undefined : await sample(couchPid);
    await stopProcess(serve.child);
    switchProc.disconnect();
    await once(switchProc, 'exit');
    const seqAfter = await updateSeq(storage);
    const result = check(report.calls, await ledgerByCall(storage));
    // The ramp: until the last call placed has been answered; after it every call is live.
    const rampEnd = started + (calls / RATE) * 1000 + ANSWER_AFTER_MS;
    const { lateness: late, loggedAt } = serve.log;
    // (A line without a readable time counts as the ramp's.)
    const latenessRamp = late.filter((_, i) => !(loggedAt[i]! >= rampEnd)).sort((a, b) => a - b);
    const latenessLive = late.filter((_, i) => loggedAt[i]! >= rampEnd).sort((a, b) => a - b);
    const lateness = [...late].sort((a, b) => a - b);
    return {
      mode,
      calls,
      peakLive: report.peakLive,
      check: result,
      lateness,
      latenessRamp,
      latenessLive,
      cpuMsPerInterval: (end.cpuMs - idle.cpuMs) / Math.max(1, lateness.length),
      cpuShare: (end.cpuMs - idle.cpuMs) / (seconds * 1000),
      switchCpuShare: report.cpuMs / (seconds * 1000),
      dbCpuShare: dbIdle && dbEnd ? (dbEnd.cpuMs - dbIdle.cpuMs) / (seconds * 1000) : undefined,
      writesPerS: (seqAfter - seqBefore) / seconds,
      rssPerCallKiB: peak.live > 0 ? (peak.rssKiB - idle.rssKiB) / peak.live : NaN,
      seconds,
      warnings: serve.log.warnings,
    };
  } finally {
    for (const child of children.reverse()) await stopProcess(child).catch(() => {});
    await dropDatabase?.().catch((err: unknown) => process.stderr.write(`could not delete the run's database: ${String(err)}\n`));
    await rm(tmp, { recursive: true, force: true });
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  process.stdout.write(
    `prepaid load: ${RATE} calls/s placed, ${INTERVAL_S} s intervals, all calls live together for ${STEADY_S} s; ` +
      `Node.js ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, load average ${os.loadavg()[0]!.toFixed(1)}\n` +
      (MODES.includes('http') ? `HTTP: ${COUCH_SERVER === undefined ? 'express-pouchdb over LevelDB, in a process of its own' : redactUrl(COUCH_SERVER)}\n` : '') +
      '\n',
  );
  const rows: string[][] = [
    ['database', 'calls', 'peak live', 'intervals', 'missed', 'doubled', 'over', 'cut off', 'late p50', 'late p99', 'late max', 'p99 ramp', 'p99 all live', `p99 ≤ ${LATENESS_GOAL_MS} ms`, 'CPU/interval', 'serve CPU', 'switch CPU', 'db CPU', 'writes/s', 'RSS/call'],
  ];
  const warnings: string[] = [];
  const summary: string[][] = [
    ['database', 'calls', 'runs', 'goal met', 'missed', 'doubled', 'late p99 median', 'late p99 range', 'p99 ramp', 'p99 all live', 'CPU/interval median', 'CPU/interval range', 'writes/s', 'RSS/call'],
  ];
  for (const mode of MODES) {
    for (const calls of CALL_COUNTS) {
      const runs: Array<{ p99: number; ok: boolean; r: RunResult }> = [];
      for (let run = 1; run <= RUNS; run++) {
        const r = await runOnce(mode, calls);
        const p99 = percentile(r.lateness, 99);
        const ok = r.check.missed === 0 && r.check.doubled === 0 && p99 <= LATENESS_GOAL_MS && r.lateness.length === r.check.charges;
        runs.push({ p99, ok, r });
        rows.push([
          mode,
          String(calls),
          String(r.peakLive),
          String(r.check.intervals),
          String(r.check.missed),
          String(r.check.doubled),
          String(r.check.overcharged),
          String(r.check.cutOff),
          `${percentile(r.lateness, 50).toFixed(0)} ms`,
          `${p99.toFixed(0)} ms`,
          `${(r.lateness.at(-1) ?? NaN).toFixed(0)} ms`,
          `${percentile(r.latenessRamp, 99).toFixed(0)} ms`,
          `${percentile(r.latenessLive, 99).toFixed(0)} ms`,
          ok ? 'yes' : 'no',
          `${r.cpuMsPerInterval.toFixed(2)} ms`,
          `${(r.cpuShare * 100).toFixed(0)} %`,
          `${(r.switchCpuShare * 100).toFixed(0)} %`,
          r.dbCpuShare === undefined ? '-' : `${(r.dbCpuShare * 100).toFixed(0)} %`,
          r.writesPerS.toFixed(0),
          `${r.rssPerCallKiB.toFixed(1)} KiB`,
        ]);
        process.stdout.write(`${table([rows[0]!, rows.at(-1)!])}\n\n`);
        for (const [kind, count] of r.warnings) warnings.push(`${mode} ${calls} run ${run}: ${count} × ${kind}`);
        for (const [cause, count] of r.check.cutOffCauses) warnings.push(`${mode} ${calls} run ${run}: ${count} calls cut off with ${cause}`);
      }
      const p99s = runs.map((x) => x.p99);
      const cpu = runs.map((x) => x.r.cpuMsPerInterval);
      summary.push([
        mode,
        String(calls),
        String(runs.length),
        `${runs.filter((x) => x.ok).length} of ${runs.length}`,
        String(runs.reduce((sum, x) => sum + x.r.check.missed, 0)),
        String(runs.reduce((sum, x) => sum + x.r.check.doubled, 0)),
        `${median(p99s).toFixed(0)} ms`,
        `${Math.min(...p99s).toFixed(0)}–${Math.max(...p99s).toFixed(0)} ms`,
        `${median(runs.map((x) => percentile(x.r.latenessRamp, 99))).toFixed(0)} ms`,
        `${median(runs.map((x) => percentile(x.r.latenessLive, 99))).toFixed(0)} ms`,
        `${median(cpu).toFixed(2)} ms`,
        `${Math.min(...cpu).toFixed(2)}–${Math.max(...cpu).toFixed(2)} ms`,
        median(runs.map((x) => x.r.writesPerS)).toFixed(0),
        `${median(runs.map((x) => x.r.rssPerCallKiB)).toFixed(1)} KiB`,
      ]);
    }
  }
  process.stdout.write(`${table(rows)}\n`);
  process.stdout.write(`\nover the runs (goal met: every interval charged once and late p99 ≤ ${LATENESS_GOAL_MS} ms):\n${table(summary)}\n`);
  process.stdout.write(
    `\nlateness: from when a charge was due to the ledger's answer, every charge of the run; p99 ramp / all live: of the charges ` +
      `made while calls were still being placed (until the last one was answered), and after; CPU/interval: serve's CPU over the run ` +
      `(call set-up included) per interval charged; serve/switch/db CPU: share of one core (db: the CouchDB-compatible server, HTTP mode); writes/s: database update sequence over the run; ` +
      `RSS/call: serve's RSS growth at the peak divided by the calls live then\n`,
  );
  if (warnings.length > 0) process.stdout.write(`\nserve's warnings and errors, and the causes of the calls cut off:\n${warnings.map((w) => `  ${w}`).join('\n')}\n`);
}

await main();
