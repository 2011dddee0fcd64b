/**
 * The project's demo (`npm start` at the repository root): the simulator plays FreeSWITCH, an
 * embedded on-disk PouchDB (in a temporary directory) holds the demo accounts, and the prepaid
 * server sells the calls. Four calls show the application's cases; it prints them live and ends
 * with a summary table. Intervals are half a second so the whole run takes a few seconds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Simulator } from 'freeswitch-esl/testing';
import { createLogger, formatRecord, type LogRecord } from './log.js';
import { PrepaidServer, type CallOutcome, type CallReport } from './prepaid-server.js';
import { PrepaidStore } from './store.js';

const INTERVAL_S = 0.5;

interface DemoCall {
  label: string;
  account: string;
  target: string;
  expect: CallOutcome;
  /** Take the database down for this call. */
  databaseDown?: boolean;
  delayMs: number;
}

const CALLS: DemoCall[] = [
  { label: 'within credit', account: 'alice', target: 'sim/1001/answer-after-600/hangup-after-2200', expect: 'completed', delayMs: 0 },
  { label: 'runs out of credit', account: 'bob', target: 'sim/1002/answer-after-400/hangup-after-30000', expect: 'cut-off', delayMs: 250 },
  { label: 'unknown account', account: 'carol', target: 'sim/1003/answer-after-400/hangup-after-2000', expect: 'unknown-account', delayMs: 500 },
  { label: 'database unreachable', account: 'alice', target: 'sim/1001/answer-after-400/hangup-after-2000', expect: 'database-down', databaseDown: true, delayMs: 0 },
];

const verbose = process.argv.includes('--verbose');
const started = Date.now();
const out = (text: string) => process.stdout.write(text + '\n');
const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
const short = (uuid: string) => uuid.slice(0, 8);

function secondsBetween(a: Date | undefined, b: Date | undefined): string {
  if (!a || !b) return '-';
  return `${((b.getTime() - a.getTime()) / 1000).toFixed(1)} s`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => '  ' + r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(rows[0]!), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

async function main(): Promise<number> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'prepaid-demo-'));
  out('Prepaid calling demo: the simulator plays FreeSWITCH, PouchDB is embedded, calls are sold by the interval.');
  out(`Database: embedded PouchDB in ${dataDir} (removed at the end)\n`);

  const sim = await Simulator.start({ password: 'ClueCon' });
  const store = await PrepaidStore.open({ kind: 'disk', dataDir }, { opTimeoutMs: 2000 });
  const logs: LogRecord[] = [];
  const logger = createLogger({
    level: verbose ? 'debug' : 'error',
    write: (line) => out(`        ${line}`),
    onRecord: (r) => logs.push(r),
  });
  const server = new PrepaidServer({ store, logger, ringCheckMs: 300, hangupEscalationMs: 1000, hangupGraceMs: 3000 });
  let exitCode = 0;
  try {
    await store.createAccount({ account: 'alice', intervalDuration: INTERVAL_S, name: 'Alice' });
    await store.addCredit('alice', 20, { id: 'demo-topup', reason: 'demo' });
    await store.createAccount({ account: 'bob', intervalDuration: INTERVAL_S, name: 'Bob' });
    await store.addCredit('bob', 5, { id: 'demo-topup', reason: 'demo' });
    out(`Accounts: alice 20 intervals, bob 5 intervals (an interval is ${INTERVAL_S} s); no account "carol".`);

    const bound = await server.listen({ host: '127.0.0.1', port: 0 });
    out(`Prepaid server on ${bound.host}:${bound.port}; dialplan: set ccnq_account, set target, socket ${bound.host}:${bound.port} async full\n`);

    const labels = new Map<string, string>();
    const tag = (uuid: string) => `[${short(uuid)} ${labels.get(uuid) ?? ''}]`.padEnd(32);
    const lastPhase = new Map<string, string>();
    const lastCharged = new Map<string, number>();
    server.on('update', (r: CallReport) => {
      if (lastPhase.get(r.uuid) !== r.phase) {
        lastPhase.set(r.uuid, r.phase);
        const what: Record<string, string> = {
          checking: `account ${r.account || '(none)'}: checking the database and the balance`,
          ringing: `${r.remaining ?? '?'} intervals available; bridging to ${r.target}, ringing`,
          talking: 'answered: charging one interval now, then one every interval',
          'hanging-up': `hanging up (${r.hangupRequested}): ${r.detail ?? ''}`,
        };
        if (what[r.phase]) out(`${clock()} ${tag(r.uuid)} ${what[r.phase]}`);
      }
      if (r.intervalsCharged > (lastCharged.get(r.uuid) ?? 0)) {
        lastCharged.set(r.uuid, r.intervalsCharged);
        out(`${clock()} ${tag(r.uuid)} charged interval ${r.intervalsCharged}, balance ${r.remaining} interval(s)`);
      }
    });
    const ends = new Map<string, Promise<CallReport>>();
    const waiters = new Map<string, (r: CallReport) => void>();
    server.on('end', (r: CallReport) => {
      out(`${clock()} ${tag(r.uuid)} ended: ${r.outcome}; ${r.intervalsCharged} interval(s) charged; cause ${r.hangupCause ?? r.hangupRequested ?? '-'}`);
      waiters.get(r.uuid)?.(r);
    });

    const place = async (call: DemoCall): Promise<{ call: DemoCall; uuid: string; report: Promise<CallReport> }> => {
      const uuid = crypto.randomUUID();
      labels.set(uuid, call.label);
      ends.set(uuid, new Promise((resolve) => waiters.set(uuid, resolve)));
      out(`${clock()} ${tag(uuid)} new call for ${call.account} to ${call.target.split('/').slice(0, 2).join('/')}`);
      await sim.originate({
        uuid,
        direction: 'inbound',
        destination: '5000',
        callerIdNumber: '5551000',
        variables: { ccnq_account: call.account, target: call.target },
        socket: `${bound.host}:${bound.port} async full`,
      });
      return { call, uuid, report: ends.get(uuid)! };
    };

    // The first three calls run at the same time, a little apart.
    const concurrent = CALLS.filter((c) => !c.databaseDown);
    const placed = await Promise.all(
      concurrent.map((c) => new Promise<void>((r) => setTimeout(r, c.delayMs)).then(() => place(c))),
    );
    const results: Array<{ call: DemoCall; uuid: string; report: CallReport }> = [];
    for (const p of placed) results.push({ call: p.call, uuid: p.uuid, report: await p.report });

    // Then the database goes away (its handle is closed), and a call comes in.
    for (const call of CALLS.filter((c) => c.databaseDown)) {
      out(`\n${clock()} the database goes down (the embedded database is closed)`);
      await store.close();
      const p = await place(call);
      results.push({ call, uuid: p.uuid, report: await p.report });
      await store.reopen();
      out(`${clock()} the database is back`);
    }

    const balances = new Map<string, number>();
    for (const account of ['alice', 'bob']) balances.set(account, await store.remaining(account));

    out('\nSummary');
    out(
      table([
        ['call', 'case', 'account', 'outcome', 'intervals', 'talk time', 'hangup cause', 'expected'],
        ...results.map(({ call, uuid, report }) => [
          short(uuid),
          call.label,
          call.account,
          report.outcome ?? '-',
          String(report.intervalsCharged),
          secondsBetween(report.answeredAt, report.endedAt),
          report.hangupCause ?? report.hangupRequested ?? '-',
          report.outcome === call.expect ? 'yes' : `NO (${call.expect})`,
        ]),
      ]),
    );
    out('\nBalances');
    out(
      table([
        ['account', 'credited', 'charged', 'remaining'],
        ['alice', '20', String(20 - balances.get('alice')!), String(balances.get('alice'))],
        ['bob', '5', String(5 - balances.get('bob')!), String(balances.get('bob'))],
      ]),
    );
    const recent = await store.recentCalls();
    out(`\nRecorded in the database: ${recent.length} charged call(s), ${recent.reduce((n, c) => n + c.intervals, 0)} interval record(s).`);
    const wrong = results.filter(({ call, report }) => report.outcome !== call.expect);
    if (wrong.length > 0) {
      exitCode = 1;
      out(`\n${wrong.length} call(s) did not end as expected; the full log follows.`);
      for (const r of logs) out(`        ${formatRecord(r)}`);
    } else {
      out(`\nAll ${results.length} calls ended as expected in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
      if (!verbose) out('(run with --verbose for the server log: one line per step, each with the call uuid)');
    }
  } finally {
    await server.close({ deadline: 1000 });
    await sim.stop();
    await store.destroy().catch(() => {});
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  return exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
