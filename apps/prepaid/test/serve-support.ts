/** Runs `prepaid serve` in the test process (through runCli), with its ports read from its output. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli, type CliIo } from '../src/cli.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** One command line, its output captured. */
export async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  const captured = { out: '', err: '' };
  const io: CliIo = {
    stdout: (t) => void (captured.out += t),
    stderr: (t) => void (captured.err += t),
    env,
  };
  const code = await runCli(args, io);
  return { code, ...captured };
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface RunningServe {
  dir: string;
  /** The outbound listener's port (what FreeSWITCH's socket application dials). */
  port: number;
  /** `http://127.0.0.1:PORT` of the admin API, when started with --admin. */
  admin: string | undefined;
  output: { out: string; err: string };
  /** Stops serve (as SIGTERM would) and resolves with its exit code. */
  stop(): Promise<number>;
}

/** A temporary data directory, removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function startServe(dir: string, extra: string[] = [], env: Record<string, string | undefined> = {}): Promise<RunningServe> {
  const controller = new AbortController();
  const output = { out: '', err: '' };
  const io: CliIo = {
    stdout: (t) => void (output.out += t),
    stderr: (t) => void (output.err += t),
    env,
    signal: controller.signal,
  };
  let exited: number | undefined;
  const serving = runCli(['serve', '--listen', '127.0.0.1:0', '--data', dir, ...extra], io).then((code) => (exited = code));
  const wantsAdmin = extra.includes('--admin');
  await waitFor(`serve to start (${output.err})`, () => {
    if (exited !== undefined) throw new Error(`serve exited ${exited}: ${output.err}`);
    return /listening on/.test(output.out) && /control socket/.test(output.err) && (!wantsAdmin || /admin API/.test(output.out)) ? true : undefined;
  });
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(output.out)![1]);
  const admin = /admin API and dashboard on (http:\/\/[^/\s]+)\//.exec(output.out)?.[1];
  return {
    dir,
    port,
    admin,
    output,
    stop: async () => {
      controller.abort();
      return serving;
    },
  };
}
