/**
 * FreeSWITCH's side of the prepaid load benchmark (bench/load.ts), in a process of its own: the
 * simulator places the calls (each `socket` to the prepaid server, which bridges it to a far end
 * that answers and hangs up after a fixed talk time) and records when each caller leg was
 * answered and hung up, and why. Driven over the IPC channel by the parent.
 */
import { Simulator } from 'freeswitch-esl/testing';

export interface LoadRunRequest {
  socket: { host: string; port: number };
  calls: number;
  /** Calls placed per second. */
  rate: number;
  answerAfterMs: number;
  talkMs: number;
  accountOf: (i: number) => string;
}

/** What the switch saw of one call. */
export interface SwitchCallRecord {
  uuid: string;
  account: string;
  placedAt: number;
  answeredAt: number | null;
  hungUpAt: number | null;
  cause: string | null;
}

export interface SwitchReport {
  calls: SwitchCallRecord[];
  failedToPlace: number;
  /** Most calls live at once, as the switch counts them. */
  peakLive: number;
  cpuMs: number;
}

export type SwitchMessage =
  | { kind: 'ready'; port: number }
  | { kind: 'live'; live: number; placed: number }
  | { kind: 'done'; report: SwitchReport };

type ParentMessage = { kind: 'run'; request: Omit<LoadRunRequest, 'accountOf'> & { accountPrefix: string } };

const send = (m: SwitchMessage) => process.send!(m);

async function run(sim: Simulator, request: ParentMessage['request']): Promise<SwitchReport> {
  const records = new Map<string, SwitchCallRecord>();
  let live = 0;
  let peakLive = 0;
  let failedToPlace = 0;
  let placed = 0;
  let ended = 0;
  let allEnded: () => void = () => {};
  const finished = new Promise<void>((resolve) => (allEnded = resolve));
  sim.on('event', (ev: { name: string; get(name: string): string | undefined }) => {
    if (ev.name !== 'CHANNEL_ANSWER' && ev.name !== 'CHANNEL_HANGUP') return;
    const record = records.get(ev.get('Unique-ID') ?? '');
    if (!record) return; // a far-end leg
    if (ev.name === 'CHANNEL_ANSWER') {
      record.answeredAt ??= Date.now();
    } else if (record.hungUpAt === null) {
      record.hungUpAt = Date.now();
      record.cause = ev.get('Hangup-Cause') ?? null;
      live--;
      if (++ended === request.calls) allEnded();
    }
  });
  const ticker = setInterval(() => send({ kind: 'live', live, placed }), 250);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < request.calls; i++) {
    // Placed on a fixed timetable, not one after another: a slow answer does not slow the rate.
    const wait = started + (i * 1000) / request.rate - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const uuid = crypto.randomUUID();
    const account = `${request.accountPrefix}${i}`;
    records.set(uuid, { uuid, account, placedAt: Date.now(), answeredAt: null, hungUpAt: null, cause: null });
    live++;
    peakLive = Math.max(peakLive, live);
    placed++;
    sim
      .originate({
        uuid,
        direction: 'inbound',
        destination: '5000',
        callerIdNumber: String(5550000 + i),
        variables: {
          ccnq_account: account,
          target: `sim/${2000 + (i % 1000)}/answer-after-${request.answerAfterMs}/hangup-after-${request.talkMs}`,
        },
        socket: `${request.socket.host}:${request.socket.port} async full`,
      })
      .catch(() => {
        failedToPlace++;
        const record = records.get(uuid);
        if (record && record.hungUpAt === null) {
          record.hungUpAt = Date.now();
          record.cause = 'NOT_PLACED';
          live--;
          if (++ended === request.calls) allEnded();
        }
      });
  }
  await finished;
  clearInterval(ticker);
  const cpu = process.cpuUsage(cpuBefore);
  return { calls: [...records.values()], failedToPlace, peakLive, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function main(): Promise<void> {
  // FreeSWITCH's sessions-per-second would refuse a load test's rate; a load switch raises it.
  const sim = await Simulator.start({ password: 'ClueCon', sessionsPerSecond: Infinity });
  process.on('message', (m: ParentMessage) => {
    if (m.kind !== 'run') return;
    run(sim, m.request).then(
      (report) => send({ kind: 'done', report }),
      (err: unknown) => {
        process.stderr.write(`load switch: ${err instanceof Error ? err.stack : String(err)}\n`);
        process.exit(1);
      },
    );
  });
  process.on('disconnect', () => void sim.stop().then(() => process.exit(0)));
  send({ kind: 'ready', port: sim.port });
}

void main();
