import { EslAbortError, EslConnectError } from '../errors.js';
import { parseCliArgs, UsageError, type MainArgs } from './args.js';
import { resolveSettings, type Settings } from './config.js';
import { runConsole } from './console.js';
import { describeError, ExitCode, stoppedStatus, type ExitCodeValue } from './exit-codes.js';
import {
  apiResultToJson,
  eventToJson,
  formatApiBody,
  formatEventCompact,
  formatEventFull,
  formatLogRecord,
  logRecordToJson,
  makeColors,
  shouldUseColor,
  type Colors,
} from './format.js';
import { MAIN_HELP, packageVersion, SIMULATE_HELP } from './help.js';
import type { EslSession } from './session.js';
import { runSimulate } from './simulate.js';

export interface RunIO {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  home: string;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborted on SIGINT/SIGTERM (outside the console's raw mode, which sees Ctrl-C as a key). */
  signal: AbortSignal;
  /** Opens an authenticated session (the inbound client, adapted). */
  openSession: (settings: Settings, signal: AbortSignal) => Promise<EslSession>;
}

/** fs_cli retries the first connection up to 120 times, one second apart (its -r). */
export const RETRY_ATTEMPTS = 120;
export const RETRY_DELAY_MS = 1000;

/** Runs the command line and resolves with the exit status. Never throws. */
export async function run(io: RunIO): Promise<number> {
  const err = (line: string) => io.stderr.write(`fs-esl: ${line}\n`);
  try {
    const args = parseCliArgs(io.argv);
    switch (args.mode) {
      case 'help':
        io.stdout.write(args.topic === 'simulate' ? SIMULATE_HELP : MAIN_HELP);
        return ExitCode.OK;
      case 'version':
        io.stdout.write(`fs-esl ${packageVersion()}\n`);
        return ExitCode.OK;
      case 'simulate':
        return await runSimulate(args, io);
      case 'main':
        return await runMain(args, io);
    }
  } catch (e) {
    const d = describeError(e);
    err(d.message);
    if (d.exitCode === ExitCode.USAGE) io.stderr.write('Try fs-esl --help\n');
    if (d.exitCode === ExitCode.INTERNAL && io.env.FS_ESL_DEBUG && e instanceof Error && e.stack) io.stderr.write(`${e.stack}\n`);
    return d.exitCode;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new EslAbortError('interrupted'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new EslAbortError('interrupted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Connects, retrying refused/unreachable/timed-out connects with -r (never a rejected password). */
async function connect(settings: Settings, io: RunIO, target: string): Promise<EslSession> {
  const attempts = settings.retry ? RETRY_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await io.openSession(settings, io.signal);
    } catch (e) {
      if (!(e instanceof EslConnectError) || attempt >= attempts || io.signal.aborted) throw e;
      io.stderr.write(`fs-esl: ${describeError(e, target).message}; retrying (${attempt}/${attempts - 1})\n`);
      await sleep(RETRY_DELAY_MS, io.signal);
    }
  }
}

async function runMain(args: MainArgs, io: RunIO): Promise<number> {
  let settings: Settings;
  try {
    settings = resolveSettings(args, { env: io.env, cwd: io.cwd, home: io.home });
  } catch (e) {
    // `fs-esl -x show channels` makes "channels" look like a profile name: say what probably happened.
    if (e instanceof UsageError && args.profileFromArgument && args.execute.length > 0 && /profile/.test(e.message)) {
      throw new UsageError(`${e.message}; if "${args.profile}" belongs to the command, quote it: -x "${args.execute[args.execute.length - 1]} ${args.profile}"`);
    }
    throw e;
  }
  const colors = makeColors(shouldUseColor(settings.color, io.stdout.isTTY === true, io.env));
  const target = `${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${settings.port}`;

  let session: EslSession;
  try {
    session = await connect(settings, io, target);
  } catch (e) {
    if (e instanceof EslAbortError) return stoppedStatus(io.signal, ExitCode.OK);
    const d = describeError(e, target);
    if (args.json) io.stdout.write(`${JSON.stringify({ type: 'error', error: d.code, message: d.message })}\n`);
    io.stderr.write(`fs-esl: ${d.message}\n`);
    return d.exitCode;
  }

  if (args.execute.length > 0) return execute(args, settings, session, io, target);
  if (args.events !== undefined) return tail(args, settings, session, io, colors, target);

  const interactive = !args.batch && io.stdin.isTTY === true && io.stdout.isTTY === true;
  // Logs by default only where someone watches (fs_cli's console default is `log debug`); -q, or
  // -d for scripts, overrides.
  const logLevel = settings.quiet ? undefined : (settings.logLevel ?? (interactive ? 7 : undefined));
  const hostLabel = settings.port === 8021 ? settings.host : target;
  return runConsole({
    session,
    input: io.stdin,
    output: io.stdout,
    errorOutput: io.stderr,
    interactive,
    colors,
    json: args.json,
    eventsJson: args.format === 'json',
    reconnect: settings.reconnect,
    full: args.full,
    prompt: colors.enabled ? `${colors.bold(colors.blue(`freeswitch@${hostLabel}>`))} ` : `freeswitch@${hostLabel}> `,
    target,
    ...(settings.historyFile !== undefined ? { historyFile: settings.historyFile } : {}),
    ...(logLevel !== undefined ? { logLevel } : {}),
    ...(settings.timeout !== undefined ? { timeout: settings.timeout } : {}),
    banner: `Connected to ${target}. Type /help for commands, /exit or Ctrl-D to leave.`,
    signal: io.signal,
  });
}

/** -x: each command in order; its output on stdout, a failure on stderr; then exit. */
async function execute(args: MainArgs, settings: Settings, session: EslSession, io: RunIO, target: string): Promise<number> {
  let status: ExitCodeValue = ExitCode.OK;
  let interrupted = false;
  /** After a timeout or a lost link there is no point in a polite `exit`: its reply would queue behind the stuck one. */
  let broken = false;
  const onAbort = () => {
    interrupted = true;
    session.destroy();
  };
  io.signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (const command of args.execute) {
      try {
        const body = await session.api(command, settings.timeout);
        io.stdout.write(args.json ? `${apiResultToJson({ command, ok: true, body })}\n` : formatApiBody(body));
      } catch (e) {
        if (interrupted) return stoppedStatus(io.signal, status);
        const d = describeError(e, target);
        if (args.json) {
          const reply = (e as { reply?: unknown }).reply;
          io.stdout.write(`${apiResultToJson({ command, ok: false, error: d.code, message: d.message, ...(typeof reply === 'string' ? { body: reply } : {}) })}\n`);
        }
        io.stderr.write(`fs-esl: ${args.execute.length > 1 ? `${command}: ` : ''}${d.message}\n`);
        // A -ERR reply leaves the connection usable: go on with the next command. Anything else ends the run.
        if (d.exitCode !== ExitCode.COMMAND_FAILED) {
          broken = true;
          return d.exitCode;
        }
        if (status === ExitCode.OK) status = d.exitCode;
      }
    }
  } finally {
    io.signal.removeEventListener('abort', onAbort);
    if (interrupted || broken) session.destroy();
    else await session.close();
  }
  return status;
}

/** --events: subscribe, print every event (and log lines with -d) until Ctrl-C or the connection ends. */
async function tail(args: MainArgs, settings: Settings, session: EslSession, io: RunIO, colors: Colors, target: string): Promise<number> {
  const write = (text: string) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (code: number, closeNicely: boolean) => {
      if (done) return;
      done = true;
      io.signal.removeEventListener('abort', onAbort);
      if (closeNicely) session.close().then(() => resolve(code), () => resolve(code));
      else {
        session.destroy();
        resolve(code);
      }
    };
    const onAbort = () => finish(ExitCode.OK, true);
    io.signal.addEventListener('abort', onAbort, { once: true });

    session.onEvent((ev) => {
      if (!done) write(args.format === 'json' ? eventToJson(ev) : args.full ? formatEventFull(ev, colors) : formatEventCompact(ev, colors));
    });
    session.onLog((rec) => {
      if (!done) write(args.format === 'json' ? logRecordToJson(rec) : formatLogRecord(rec, colors));
    });
    session.onNotice((message) => {
      if (args.format === 'json') write(JSON.stringify({ type: 'notice', message }));
      else io.stderr.write(`fs-esl: ${message}\n`);
    });
    session.onEnd((e) => {
      if (done) return;
      io.stderr.write(`fs-esl: ${describeError(e ?? new EslConnectError('closed by the server'), target).message}\n`);
      finish(ExitCode.CONNECTION_LOST, false);
    });

    const start = async () => {
      for (const [header, value] of args.filters) await session.filter(header, value);
      const replies = [await session.event(args.format === 'json' ? 'json' : 'plain', args.events!)];
      if (settings.logLevel !== undefined && !settings.quiet) replies.push(await session.log(settings.logLevel));
      // The confirmation goes to stderr so stdout carries only events; it is printed once everything is on.
      io.stderr.write(`fs-esl: ${replies.map((r) => r.trim()).join('; ')} (${target}); Ctrl-C to stop\n`);
    };
    start().catch((e: unknown) => {
      if (done) return;
      const d = describeError(e, target);
      io.stderr.write(`fs-esl: ${d.message}\n`);
      finish(d.exitCode === ExitCode.OK ? ExitCode.COMMAND_FAILED : d.exitCode, false);
    });
  });
}

export { UsageError };
