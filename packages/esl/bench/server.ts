/**
 * Outbound server benchmark (suite `server`): freeswitch-esl's createServer against esl 11's
 * FreeSwitchServer and modesl's Server, each in a fresh process (bench/server-child.ts) with the
 * FreeSWITCH side in another (bench/server-peer.ts), loopback only.
 *
 *  - call setups per second through the simulator: connect → myevents → linger → execute answer
 *    → hangup → exit, N calls with a fixed number in flight; plus the server process's CPU per call.
 *    The simulator runs in its own process and is usually the bottleneck, so the CPU figure is
 *    the better comparison of the servers themselves.
 *  - memory per idle call session at 10,000 concurrent connections (connect, myevents, linger,
 *    then idle), the peer replaying the real connect reply of fixtures/outbound.bin: V8 heap,
 *    external (Buffers) and RSS deltas divided by the session count, after full GCs. The three
 *    contenders are measured at the same time in separate processes (memory figures do not depend
 *    on it; it keeps the run short).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface SuiteOptions {
  quick: boolean;
  noSocket: boolean;
}

const CONTENDERS = ['freeswitch-esl', 'esl 11', 'modesl'] as const;
const OURS = 'freeswitch-esl';
const TARGET_BYTES_PER_SESSION = 20 * 1024;

interface SetupResult {
  calls: number;
  ms: number;
  completed: number;
  peerFailed: number;
  cpuMsPerCall: number;
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

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const ratio = (ours: number, theirs: number) => (ours > 0 && theirs > 0 ? `${(theirs / ours).toFixed(2)}x` : '-');

export async function run(options: SuiteOptions): Promise<boolean> {
  if (options.noSocket) {
    console.log('(skipped: --no-socket)');
    return true;
  }
  let ok = true;
  const calls = options.quick ? 100 : 300;
  const inFlight = 20;
  const sessions = options.quick ? 2000 : 10_000;

  console.log(`\ncall setups through the simulator: ${calls} calls, ${inFlight} in flight`);
  console.log('  connect → myevents → linger → execute answer → hangup → exit on the linger notice');
  const setups = new Map<string, SetupResult>();
  for (const name of CONTENDERS) {
    try {
      const r = await child<SetupResult>(['setups', name, String(calls), String(inFlight)]);
      setups.set(name, r);
      if (r.failures.length > 0 || r.peerFailed > 0 || r.completed !== r.calls) {
        ok = false;
        console.log(`  ${name}: ${r.completed}/${r.calls} completed, ${r.peerFailed} failed; ${r.failures.join('; ')}`);
      }
    } catch (err) {
      ok = false;
      console.log(`  ${name}: failed: ${(err as Error).message}`);
    }
  }
  const ourSetup = setups.get(OURS);
  console.log(`  ${'server'.padEnd(16)}${'calls/s'.padStart(10)}${'server CPU/call'.padStart(18)}${'calls/s: ours/theirs'.padStart(22)}${'CPU: theirs/ours'.padStart(18)}`);
  for (const [name, r] of setups) {
    const rate = r.calls / (r.ms / 1000);
    const ourRate = ourSetup ? ourSetup.calls / (ourSetup.ms / 1000) : 0;
    console.log(
      `  ${name.padEnd(16)}${rate.toFixed(0).padStart(10)}${`${r.cpuMsPerCall.toFixed(2)} ms`.padStart(18)}` +
        `${(name === OURS || !ourSetup ? '' : ratio(rate, ourRate)).padStart(22)}` +
        `${(name === OURS || !ourSetup ? '' : ratio(ourSetup.cpuMsPerCall, r.cpuMsPerCall)).padStart(18)}`,
    );
  }

  console.log(`\nmemory per idle call session at ${sessions} concurrent connections (target ≤ 20 KiB)`);
  const memory = new Map<string, MemoryResult>();
  const results = await Promise.allSettled(CONTENDERS.map((name) => child<MemoryResult>(['memory', name, String(sessions)])));
  results.forEach((r, i) => {
    const name = CONTENDERS[i]!;
    if (r.status === 'rejected') {
      ok = false;
      console.log(`  ${name}: failed: ${(r.reason as Error).message}`);
      return;
    }
    memory.set(name, r.value);
    if (r.value.idle !== r.value.count || r.value.failures.length > 0) {
      ok = false;
      console.log(`  ${name}: only ${r.value.idle}/${r.value.count} sessions idle; ${r.value.failures.join('; ')}`);
    }
  });
  const ourMem = memory.get(OURS);
  console.log(`  ${'server'.padEnd(16)}${'heap'.padStart(11)}${'external'.padStart(11)}${'heap+ext'.padStart(11)}${'RSS'.padStart(11)}${'heap+ext: theirs/ours'.padStart(23)}${'RSS: theirs/ours'.padStart(18)}`);
  for (const [name, m] of memory) {
    const total = m.heapPerSession + m.externalPerSession;
    const ourTotal = ourMem ? ourMem.heapPerSession + ourMem.externalPerSession : 0;
    console.log(
      `  ${name.padEnd(16)}${kib(m.heapPerSession).padStart(11)}${kib(m.externalPerSession).padStart(11)}${kib(total).padStart(11)}${kib(m.rssPerSession).padStart(11)}` +
        `${(name === OURS || !ourMem ? '' : ratio(ourTotal, total)).padStart(23)}` +
        `${(name === OURS || !ourMem ? '' : ratio(ourMem.rssPerSession, m.rssPerSession)).padStart(18)}`,
    );
  }
  if (ourMem && sessions < 10_000) {
    console.log('  (--quick: fixed process overhead inflates RSS per session at this count; the target applies at 10,000)');
  } else if (ourMem) {
    const total = ourMem.heapPerSession + ourMem.externalPerSession;
    const met = total <= TARGET_BYTES_PER_SESSION && ourMem.rssPerSession <= TARGET_BYTES_PER_SESSION;
    console.log(`  freeswitch-esl: ${met ? 'within' : 'OVER'} the 20 KiB target (heap+external ${kib(total)}, RSS ${kib(ourMem.rssPerSession)})`);
    console.log('  external = the channel data of the connect reply, which freeswitch-esl keeps for call.get()/variable();');
    console.log('  esl 11 and modesl keep it only as long as the handler holds it.');
  }
  return ok;
}
