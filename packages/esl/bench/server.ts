/**
 * Outbound server benchmark (suite `server`): freeswitch-esl's createServer against esl 11's
 * FreeSwitchServer and modesl's Server, each in a fresh process (bench/server-child.ts) with the
 * FreeSWITCH side in another (bench/server-peer.ts), loopback only. Several rounds; in each round
 * they run one after the other (interleaved, so load from elsewhere on the machine falls on all
 * of them alike); the tables print medians with the spread (min–max) over the rounds. A fourth,
 * 'bare socket', runs the same call flow over a bare net.Socket with only the framing it needs:
 * the floor of what Node's sockets cost per call, which no library can go under.
 *
 *  - server CPU per full call flow through the simulator: connect → myevents → linger → execute
 *    answer → execute playback → hangup → linger notice → exit, with a fixed number in flight.
 *    Only the server process's CPU time (user + system) is counted: the simulator runs in the peer
 *    process. Three phases in one process: the first calls after a cold start; the next ones,
 *    while V8 is still optimizing the code each call runs (its log shows TurboFan compiling for
 *    some 2,000 calls after the cold start, the more so the more code a library runs per call);
 *    then the steady state, what each call costs a server that runs for days, by which the goal
 *    is judged. Calls/s is printed too, but the simulator is usually its bottleneck.
 *  - memory per idle call session at N concurrent connections (connect, myevents, linger, then
 *    idle), the peer replaying the real connect reply of fixtures/outbound.bin: V8 heap, external
 *    (Buffers) and RSS growth divided by the session count, after full GCs; the RSS growth has
 *    the growth of V8's young generation taken out (it follows the allocation rate, not what is
 *    kept).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from './harness.js';

interface SuiteOptions {
  quick: boolean;
  noSocket: boolean;
}

/** The last is the floor (bench/server-child.ts): the call flow over a bare socket, framing only. */
const CONTENDERS = ['freeswitch-esl', 'esl 11', 'modesl', 'bare socket'] as const;
const OURS = 'freeswitch-esl';
const FLOOR = 'bare socket';
const PEER = 'esl 11';
/** Issue 18's goals against esl 11, measured in the same run. */
const CPU_GOAL = 0.5;
const MEMORY_GOAL = 1;

interface SetupPhase {
  calls: number;
  ms: number;
  failed: number;
  completed: number;
  userMs: number;
  systemMs: number;
}
/** The phases of a setups run, in order; the goal is judged on the last. */
const PHASES = ['cold', 'warming', 'steady'] as const;
type Phase = (typeof PHASES)[number];

interface SetupResult {
  phases: SetupPhase[];
  failures: string[];
}
interface MemoryResult {
  idle: number;
  count: number;
  heapPerSession: number;
  externalPerSession: number;
  rssPerSession: number;
  failures: string[];
}

function child<T>(args: string[]): Promise<T> {
  const script = fileURLToPath(new URL('./server-child.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`${args.join(' ')}: exited with ${code}: ${out.slice(-400)}`));
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${args.join(' ')}: unreadable output: ${out.slice(-400)}`));
      }
    });
  });
}

/** Median and spread of a figure over the rounds, e.g. "1.23 (1.10–1.40)". */
function spread(values: number[], digits: number, unit = ''): string {
  if (values.length === 0) return '-';
  const f = (n: number) => n.toFixed(digits);
  const m = `${f(median(values))}${unit}`;
  return values.length === 1 ? m : `${m} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
}

/** ours/theirs within each round (both measured in it), as a list. */
function roundRatios(ours: number[], theirs: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(ours.length, theirs.length); i++) if (theirs[i]! > 0) out.push(ours[i]! / theirs[i]!);
  return out;
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

export async function run(options: SuiteOptions): Promise<boolean> {
  if (options.noSocket) {
    console.log('(skipped: --no-socket)');
    return true;
  }
  let ok = true;
  const phaseCalls: Record<Phase, number> = options.quick
    ? { cold: 100, warming: 300, steady: 300 }
    : { cold: 300, warming: 2000, steady: 4000 };
  const inFlight = 20;
  const sessions = options.quick ? 1000 : 5000;
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? (options.quick ? 1 : 3));
  console.log(`(${rounds} rounds, the servers interleaved in each; set BENCH_ROUNDS to change)`);

  console.log(`\nserver CPU per full call flow through the simulator: ${inFlight} in flight, ${rounds} rounds`);
  console.log('  connect → myevents → linger → answer → playback → hangup → linger notice → exit; the simulator in its own process');
  console.log(
    `  phases of one process: cold, the first ${phaseCalls.cold} calls; warming, the next ${phaseCalls.warming} (V8 still optimizing);` +
      ` steady, the next ${phaseCalls.steady}`,
  );
  const cpu = new Map<string, Record<Phase, number[]>>(CONTENDERS.map((n) => [n, { cold: [], warming: [], steady: [] }]));
  const steadyUser = new Map<string, number[]>(CONTENDERS.map((n) => [n, []]));
  const steadySystem = new Map<string, number[]>(CONTENDERS.map((n) => [n, []]));
  const rate = new Map<string, number[]>(CONTENDERS.map((n) => [n, []]));
  const counts = PHASES.map((p) => phaseCalls[p]).join(',');
  for (let round = 0; round < rounds; round++) {
    for (const name of CONTENDERS) {
      try {
        const r = await child<SetupResult>(['setups', name, counts, String(inFlight)]);
        const bad = r.phases.filter((p) => p.failed > 0 || p.completed !== p.calls);
        if (r.failures.length > 0 || bad.length > 0 || r.phases.length !== PHASES.length) {
          ok = false;
          const what = r.phases.map((p) => `${p.completed}/${p.calls} completed, ${p.failed} failed`).join('; ');
          console.log(`  ${name}: ${what}; ${r.failures.join('; ')}`);
          continue;
        }
        PHASES.forEach((phase, i) => {
          const p = r.phases[i]!;
          cpu.get(name)![phase].push((p.userMs + p.systemMs) / p.calls);
        });
        const steady = r.phases[PHASES.length - 1]!;
        steadyUser.get(name)!.push(steady.userMs / steady.calls);
        steadySystem.get(name)!.push(steady.systemMs / steady.calls);
        rate.get(name)!.push(steady.calls / (steady.ms / 1000));
      } catch (err) {
        ok = false;
        console.log(`  ${name}: failed: ${(err as Error).message}`);
      }
    }
  }
  const ratio = (phase: Phase, name: string) =>
    name === OURS ? '' : spread(roundRatios(cpu.get(OURS)![phase], cpu.get(name)![phase]), 2, '×');
  table(
    ['server', 'cold ms/call', 'ours/theirs', 'warming ms/call', 'ours/theirs', 'steady ms/call', 'user', 'system', 'steady: ours/theirs', 'steady calls/s'],
    CONTENDERS.map((name) => [
      name,
      spread(cpu.get(name)!.cold, 2),
      ratio('cold', name),
      spread(cpu.get(name)!.warming, 2),
      ratio('warming', name),
      spread(cpu.get(name)!.steady, 2),
      spread(steadyUser.get(name)!, 2),
      spread(steadySystem.get(name)!, 2),
      ratio('steady', name),
      spread(rate.get(name)!, 0),
    ]),
  );
  const cpuRatio = roundRatios(cpu.get(OURS)!.steady, cpu.get(PEER)!.steady);
  if (cpuRatio.length > 0) {
    const m = median(cpuRatio);
    console.log(`  goal: server CPU per call (steady) ≤ ${CPU_GOAL}× esl 11's: ${m.toFixed(2)}× — ${m <= CPU_GOAL ? 'met' : 'NOT met'}`);
  }

  console.log(`\nmemory per idle call session at ${sessions} concurrent connections, ${rounds} rounds`);
  const heap = new Map<string, number[]>(CONTENDERS.map((n) => [n, []]));
  const external = new Map<string, number[]>(CONTENDERS.map((n) => [n, []]));
  const rss = new Map<string, number[]>(CONTENDERS.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of CONTENDERS) {
      try {
        const m = await child<MemoryResult>(['memory', name, String(sessions)]);
        if (m.idle !== m.count || m.failures.length > 0) {
          ok = false;
          console.log(`  ${name}: only ${m.idle}/${m.count} sessions idle; ${m.failures.join('; ')}`);
          continue;
        }
        heap.get(name)!.push(m.heapPerSession / 1024);
        external.get(name)!.push(m.externalPerSession / 1024);
        rss.get(name)!.push(m.rssPerSession / 1024);
      } catch (err) {
        ok = false;
        console.log(`  ${name}: failed: ${(err as Error).message}`);
      }
    }
  }
  const total = (name: string) => heap.get(name)!.map((h, i) => h + (external.get(name)![i] ?? 0));
  table(
    ['server', 'heap KiB', 'external KiB', 'heap+ext KiB', 'RSS KiB', 'RSS: ours/theirs', 'heap+ext: ours/theirs'],
    CONTENDERS.map((name) => [
      name,
      spread(heap.get(name)!, 1),
      spread(external.get(name)!, 1),
      spread(total(name), 1),
      spread(rss.get(name)!, 1),
      // The floor's RSS growth is within the measurement's resolution: a ratio to it means nothing.
      name === OURS || name === FLOOR ? '' : spread(roundRatios(rss.get(OURS)!, rss.get(name)!), 2, '×'),
      name === OURS ? '' : spread(roundRatios(total(OURS), total(name)), 2, '×'),
    ]),
  );
  const rssRatio = roundRatios(rss.get(OURS)!, rss.get(PEER)!);
  if (rssRatio.length > 0) {
    const m = median(rssRatio);
    console.log(`  goal: RSS per idle session ≤ esl 11's: ${m.toFixed(2)}× — ${m <= MEMORY_GOAL ? 'met' : 'NOT met'}`);
  }
  console.log("  freeswitch-esl keeps the connect reply's channel data for call.get()/variable(); esl 11 and modesl");
  console.log('  keep it only as long as the handler holds it (here: not at all).');
  if (sessions < 5000) console.log('  (--quick: fixed process overhead weighs more per session at this count)');
  return ok;
}
