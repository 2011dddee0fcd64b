import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built binary, found from this compiled test file (dist/test/ → dist/src/cli/main.js). */
export const BIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** The committed launcher npm links as the `fs-esl` bin (dist/test/ → packages/esl/bin/fs-esl.js). */
export const LAUNCHER = fileURLToPath(new URL('../../bin/fs-esl.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A scratch directory used as HOME and cwd so no real config or history file is read or written. */
export function scratchDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fs-esl-cli-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Environment for the child: PATH only, plus the given variables (no FS_ESL_* from the host). */
export function cleanEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...extra };
}

export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  input?: string;
  /** Safety net: kill the child if it runs longer than this (the test then fails). */
  killAfterMs?: number;
}

/** Runs the CLI to completion. */
export function runCli(args: string[], o: SpawnOptions = {}, entry: string = BIN): Promise<CliResult> {
  const child = spawn(process.execPath, [entry, ...args], {
    env: o.env ?? cleanEnv(tmpdir()),
    cwd: o.cwd ?? tmpdir(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return collect(child, o);
}

export function collect(child: ChildProcess, o: SpawnOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (o.input !== undefined) child.stdin!.end(o.input);
  else child.stdin!.end();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fs-esl did not exit within ${o.killAfterMs ?? 10_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, o.killAfterMs ?? 10_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A long-running CLI process (tail, console, simulate) with helpers to wait for output. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;
  private waiters: Array<() => void> = [];

  constructor(args: string[], o: SpawnOptions = {}, command: string = process.execPath, prefix: string[] = [BIN]) {
    this.child = spawn(command, [...prefix, ...args], {
      env: o.env ?? cleanEnv(tmpdir()),
      cwd: o.cwd ?? tmpdir(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.notify();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `stream` matches `re`; rejects after `ms` or if the process exits first. */
  async waitFor(stream: 'stdout' | 'stderr', re: RegExp, ms = 5000, options: { stripAnsi?: boolean } = {}): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const text = options.stripAnsi ? this[stream].replace(/\u001b\[[0-9;]*[A-Za-z]/g, '') : this[stream];
      const m = text.match(re);
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`process exited before ${stream} matched ${re}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${stream} to match ${re}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  write(text: string): void {
    this.child.stdin!.write(text);
  }

  /** Sends a signal and waits for exit; SIGKILL if it does not go within `ms`. */
  async stop(signal: NodeJS.Signals = 'SIGINT', ms = 5000): Promise<CliResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), ms);
    try {
      return await this.exited;
    } finally {
      clearTimeout(t);
    }
  }
}

/** A loopback port that was free a moment ago and is closed now (connecting to it is refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** True when the output holds something that looks like a JavaScript stack trace. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[:(]/m.test(text) || /node:internal/.test(text);
}
