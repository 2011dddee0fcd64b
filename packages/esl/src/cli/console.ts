import { randomUUID } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import * as readline from 'node:readline';
import type { LogRecord } from '../transport/connection.js';
import type { EslEvent } from '../protocol/event.js';
import { createCompleter, parseShowApi } from './completion.js';
import { consoleHelp, parseConsoleLine, type ConsoleAction } from './console-commands.js';
import { describeError, ExitCode, stoppedStatus } from './exit-codes.js';
import {
  apiResultToJson,
  eventToJson,
  formatApiBody,
  formatEventCompact,
  formatEventFull,
  formatLogRecord,
  logRecordToJson,
  type Colors,
} from './format.js';
import type { EslSession } from './session.js';

export const HISTORY_SIZE = 500;

export interface ConsoleOptions {
  session: EslSession;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  errorOutput: NodeJS.WritableStream;
  /** Line editing, prompt, completion and history: stdin and stdout are terminals and not -b. */
  interactive: boolean;
  colors: Colors;
  /** Results, replies and errors as JSON lines (--json). */
  json: boolean;
  /** Events and log lines as JSON lines (--format json, or --json). */
  eventsJson: boolean;
  full: boolean;
  prompt: string;
  /** Target shown in messages, e.g. "127.0.0.1:8021". */
  target: string;
  historyFile?: string;
  /** Subscribe to log lines up to this level when the console starts. */
  logLevel?: number;
  /** The session reconnects by itself (-R): a command failing while the link is down does not end the console. */
  reconnect?: boolean;
  /** Reply timeout for commands, ms. */
  timeout?: number;
  /** Printed once before the first prompt (interactive only). */
  banner?: string;
  /** Aborting ends the console as Ctrl-C would (used for SIGINT/SIGTERM when not in raw mode). */
  signal?: AbortSignal;
}

/** Reads the history file, newest line first as node:readline wants it. Missing file = no history. */
export function loadHistory(path: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .slice(-HISTORY_SIZE)
      .reverse();
  } catch {
    return [];
  }
}

/** Writes history oldest first, readable only by the user (commands can carry secrets). */
export function saveHistory(path: string, newestFirst: readonly string[]): void {
  const lines = newestFirst.slice(0, HISTORY_SIZE).reverse();
  writeFileSync(path, lines.length > 0 ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * The interactive console (fs_cli's main loop): each line is an api command or a slash command,
 * run one at a time in order; events and log lines print as they arrive, above the prompt. With a
 * non-terminal stdin it reads the lines as a script and ends at end of input.
 *
 * Resolves with the exit status: 0, or for scripts 1 when any command failed; 6 when the
 * connection was lost; 130 when interrupted while a command was running.
 */
export async function runConsole(o: ConsoleOptions): Promise<number> {
  const { session, colors: c } = o;
  let full = o.full;
  let failures = 0;
  let busy = false;
  let interrupted = false;
  let interruptedCommand = false;
  let lost: Error | undefined;
  let apiNames: string[] = [];
  const jobs = new Set<Promise<void>>();

  const history = o.interactive && o.historyFile !== undefined ? loadHistory(o.historyFile) : [];
  const rl = readline.createInterface({
    input: o.input,
    output: o.interactive ? o.output : undefined,
    terminal: o.interactive,
    prompt: o.prompt,
    history,
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    tabSize: 4,
    ...(o.interactive ? { completer: createCompleter(() => apiNames) } : {}),
  });
  // Take the iterator now: lines (and the end of input) that readline emits while we are still
  // awaiting the setup below would otherwise be lost, and a piped script would hang.
  const lines = rl[Symbol.asyncIterator]();
  let rlClosed = false;
  rl.on('close', () => {
    rlClosed = true;
  });
  let latestHistory = history;
  rl.on('history', (h: string[]) => {
    latestHistory = h;
  });

  let promptShown = false;
  const write = (text: string) => {
    o.output.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  /** Output that arrives on its own (events, logs, job results): printed above the prompt. */
  const writeAsync = (text: string) => {
    if (o.interactive && promptShown) {
      readline.clearLine(o.output, 0);
      readline.cursorTo(o.output, 0);
      write(text);
      rl.prompt(true);
    } else {
      write(text);
    }
  };
  const prompt = () => {
    if (!o.interactive || rlClosed) return;
    promptShown = true;
    rl.prompt();
  };

  session.onEvent((ev: EslEvent) => {
    writeAsync(o.eventsJson ? eventToJson(ev) : full ? formatEventFull(ev, c) : formatEventCompact(ev, c));
  });
  session.onLog((rec: LogRecord) => {
    writeAsync(o.eventsJson ? logRecordToJson(rec) : formatLogRecord(rec, c));
  });
  session.onNotice((message) => {
    if (o.json) writeAsync(JSON.stringify({ type: 'notice', message }));
    else writeAsync(c.yellow(`[${message}]`));
  });
  session.onEnd((err) => {
    if (err === undefined || interrupted) return;
    lost = err;
    rl.close();
  });

  const stop = () => {
    if (interrupted) return;
    interrupted = true;
    if (busy) {
      interruptedCommand = true;
      session.destroy();
    }
    rl.close();
  };
  o.signal?.addEventListener('abort', stop, { once: true });
  rl.on('SIGINT', () => {
    // Ctrl-C in raw mode: clear a half-typed line; on an empty line (or while waiting) leave.
    if (!busy && rl.line.length > 0) {
      write('^C');
      rl.write(null, { ctrl: true, name: 'u' });
      prompt();
      return;
    }
    write('^C');
    stop();
  });

  const reply = (command: string, text: string) => {
    if (o.json) write(JSON.stringify({ type: 'reply', command, ok: true, reply: text }));
    else write(text.trim());
  };
  const failure = (command: string, err: unknown) => {
    failures++;
    const d = describeError(err, o.target);
    if (o.json) {
      const body = (err as { reply?: unknown }).reply;
      write(apiResultToJson({ command, ok: false, error: d.code, message: d.message, ...(typeof body === 'string' ? { body } : {}) }));
    } else {
      write(c.red(d.message));
    }
    if (d.exitCode === ExitCode.CONNECTION_LOST || d.exitCode === ExitCode.TIMEOUT) return d;
    return undefined;
  };

  const run = async (action: ConsoleAction, line: string): Promise<boolean> => {
    switch (action.kind) {
      case 'empty':
        return true;
      case 'exit':
        return false;
      case 'help':
        write(o.json ? JSON.stringify({ type: 'help', text: consoleHelp() }) : consoleHelp());
        return true;
      case 'invalid':
        failures++;
        write(o.json ? JSON.stringify({ type: 'reply', command: line, ok: false, message: action.message }) : c.red(action.message));
        return true;
      case 'full':
        full = action.on ?? !full;
        reply(line, `events are printed ${full ? 'in full' : 'one per line'}`);
        return true;
      case 'api': {
        const body = await session.api(action.command, o.timeout);
        if (o.json) write(apiResultToJson({ command: action.command, ok: true, body }));
        else o.output.write(formatApiBody(body));
        return true;
      }
      case 'bgapi': {
        // Our own Job-UUID, so it can be shown before the job finishes.
        const jobUuid = randomUUID();
        const result = session.bgapi(action.command, jobUuid, o.timeout);
        reply(line, `Job-UUID: ${jobUuid} (the result is printed when the job finishes)`);
        const job = result.then(
          (body) => {
            if (o.json) writeAsync(JSON.stringify({ type: 'job', command: action.command, jobUuid, ok: true, body }));
            else writeAsync(`${c.bold(`[bgapi ${action.command}] ${jobUuid}`)}\n${body.replace(/\n$/, '')}`);
          },
          (err: unknown) => {
            failures++;
            const d = describeError(err, o.target);
            if (o.json) writeAsync(JSON.stringify({ type: 'job', command: action.command, jobUuid, ok: false, error: d.code, message: d.message }));
            else writeAsync(c.red(`[bgapi ${action.command}] ${jobUuid}: ${d.message}`));
          },
        );
        jobs.add(job);
        void job.finally(() => jobs.delete(job));
        return true;
      }
      case 'event':
        reply(line, await session.event(action.format, action.names));
        return true;
      case 'nixevent':
        reply(line, await session.nixevent(action.names));
        return true;
      case 'noevents':
        reply(line, await session.noevents());
        return true;
      case 'filter':
        reply(line, await session.filter(action.header, action.value));
        return true;
      case 'filterDelete':
        reply(line, await session.filterDelete(action.header, action.value));
        return true;
      case 'log':
        reply(line, await session.log(action.level));
        return true;
      case 'nolog':
        reply(line, await session.nolog());
        return true;
    }
  };

  if (o.interactive) {
    if (o.banner) write(o.banner);
    // The server's own command list for completion; a refusal just leaves the built-in list.
    session.api('show api', o.timeout).then(
      (body) => {
        apiNames = parseShowApi(body);
      },
      () => undefined,
    );
  }
  if (o.logLevel !== undefined) {
    try {
      const text = await session.log(o.logLevel);
      if (o.interactive && !o.json) write(c.dim(text.trim()));
    } catch (err) {
      const d = describeError(err, o.target);
      o.errorOutput.write(`fs-esl: cannot subscribe to logs: ${d.message}\n`);
      if (d.exitCode === ExitCode.CONNECTION_LOST) lost = err as Error;
    }
  }

  let fatal: ReturnType<typeof failure>;
  if (lost === undefined && !interrupted) {
    prompt();
    for await (const line of lines) {
      promptShown = false;
      const action = parseConsoleLine(line);
      busy = true;
      let keepGoing = true;
      try {
        keepGoing = await run(action, line.trim());
      } catch (err) {
        if (interrupted) break;
        const f = failure(line.trim(), err);
        if (f?.exitCode === ExitCode.CONNECTION_LOST && o.reconnect) {
          // The client is reconnecting: the next command may well work; onEnd says when it gives up.
        } else {
          fatal = f ?? fatal;
          if (f?.exitCode === ExitCode.CONNECTION_LOST) break;
        }
      } finally {
        busy = false;
      }
      if (!keepGoing || interrupted) break;
      prompt();
    }
  }
  rl.close();
  o.signal?.removeEventListener('abort', stop);

  // A script's background jobs finish before the console does (unless interrupted or lost).
  if (!interrupted && lost === undefined && jobs.size > 0) await Promise.allSettled([...jobs]);

  if (o.interactive && o.historyFile !== undefined) {
    try {
      saveHistory(o.historyFile, latestHistory);
    } catch (err) {
      o.errorOutput.write(`fs-esl: cannot save history to ${o.historyFile}: ${(err as Error).message}\n`);
    }
  }

  if (lost !== undefined || fatal?.exitCode === ExitCode.CONNECTION_LOST) {
    if (lost !== undefined) o.errorOutput.write(`fs-esl: ${describeError(lost, o.target).message}\n`);
    session.destroy();
    return ExitCode.CONNECTION_LOST;
  }
  const scriptStatus = !o.interactive && failures > 0 ? (fatal?.exitCode ?? ExitCode.COMMAND_FAILED) : ExitCode.OK;
  if (interrupted) {
    session.destroy();
    return interruptedCommand ? stoppedStatus(o.signal, scriptStatus) : ExitCode.OK;
  }
  await session.close();
  return scriptStatus;
}
