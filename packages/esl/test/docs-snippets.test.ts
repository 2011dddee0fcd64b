/**
 * Every ```js block of README.md, packages/esl/README.md and docs/*.md, run as written against
 * the simulator: the documentation's examples are programs that work.
 *
 * The convention the documentation follows (docs/README.md says it for writers):
 * - A ```js block is a complete ES module program. Other code (shell, dialplan XML, JSON,
 *   TypeScript signatures, fragments) uses another tag (```sh, ```xml, ```json, ```text, ```ts)
 *   and is not run.
 * - A program that connects to FreeSWITCH reads the address and password from ESL_HOST,
 *   ESL_PORT and ESL_PASSWORD, falling back to FreeSWITCH's defaults. The test points them at a
 *   fresh simulator whose password is not the default, so a snippet that does not authenticate
 *   with them fails.
 * - A program that reads ESL_LISTEN_PORT is an outbound server: it listens on that port and
 *   prints a line containing "listening" once it does. The test then places one call through the
 *   simulator that runs `socket 127.0.0.1:<port> async full` (the caller presses 1), waits for the
 *   channel to be destroyed and sends SIGTERM; the program must then close and exit by itself.
 * - Every program must exit with status 0 within the time limit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { Simulator } from '../src/testing/index.js';
import { FIXTURES_DIR } from './helpers/fixtures.js';

/** packages/esl/test/fixtures → the repository root. */
const REPO_ROOT = resolve(FIXTURES_DIR, '..', '..', '..', '..');
/** Inside the package's build output (ignored by git), so `import 'freeswitch-esl'` resolves to this workspace. */
const RUN_DIR = join(REPO_ROOT, 'packages', 'esl', 'dist', 'doc-snippets');
const PASSWORD = 'snippet-secret';
const TIME_LIMIT_MS = 30_000;

interface Snippet {
  file: string;
  line: number;
  code: string;
}

/** The ```js blocks of a Markdown text, with the line each starts on. */
function jsBlocks(file: string, text: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
    if (end === -1) throw new Error(`${file}:${i + 1}: unterminated code block`);
    if (open[2] === 'js') out.push({ file, line: i + 1, code: lines.slice(i + 1, end).join('\n') + '\n' });
    i = end;
  }
  return out;
}

function documents(): string[] {
  const docs = join(REPO_ROOT, 'docs');
  return [
    join(REPO_ROOT, 'README.md'),
    join(REPO_ROOT, 'packages', 'esl', 'README.md'),
    ...readdirSync(docs).filter((f) => f.endsWith('.md')).sort().map((f) => join(docs, f)),
  ];
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

interface Outcome {
  /** Outbound sockets the simulator opened to the program (a server snippet must take its call). */
  callsConnected: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

async function runSnippet(snippet: Snippet, index: number): Promise<Outcome> {
  const sim = await Simulator.start({ password: PASSWORD });
  const isServer = snippet.code.includes('ESL_LISTEN_PORT');
  const listenPort = isServer ? await freePort() : 0;
  const file = join(RUN_DIR, `${index}-${relative(REPO_ROOT, snippet.file).replace(/[\\/]/g, '-')}-${snippet.line}.mjs`);
  writeFileSync(file, snippet.code);
  const child = spawn(process.execPath, [file], {
    cwd: RUN_DIR,
    env: {
      PATH: process.env['PATH'] ?? '',
      ESL_HOST: sim.host,
      ESL_PORT: String(sim.port),
      ESL_PASSWORD: PASSWORD,
      ...(isServer ? { ESL_LISTEN_PORT: String(listenPort) } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr += d));
  let callsConnected = 0;
  sim.on('connection', (info) => {
    if (info.outbound) callsConnected++;
  });
  const exited = new Promise<Outcome>((done) => child.on('close', (code, signal) => done({ callsConnected, code, signal, stdout, stderr })));
  const killer = setTimeout(() => child.kill('SIGKILL'), TIME_LIMIT_MS);
  try {
    if (isServer) {
      const listening = new Promise<void>((ready) => {
        child.stdout.on('data', (d: string) => {
          stdout += d;
          if (/listening/.test(stdout)) ready();
        });
      });
      const early = await Promise.race([listening.then(() => undefined), exited]);
      if (early !== undefined) return early;
      const uuid = await sim.originate({
        direction: 'inbound',
        destination: '5000',
        callerIdNumber: '1001',
        dtmf: '1',
        hangupAfterMs: 10_000,
        socket: { host: '127.0.0.1', port: listenPort, async: true, full: true },
      });
      if (sim.channels.some((c) => c.uuid === uuid)) {
        await new Promise<void>((gone) => {
          const onDestroy = (info: { uuid: string }) => {
            if (info.uuid !== uuid) return;
            sim.off('channelDestroy', onDestroy);
            gone();
          };
          sim.on('channelDestroy', onDestroy);
        });
      }
      child.kill('SIGTERM');
    } else {
      child.stdout.on('data', (d: string) => (stdout += d));
    }
    return await exited;
  } finally {
    clearTimeout(killer);
    child.kill('SIGKILL');
    await sim.stop();
  }
}

describe('documentation snippets', { concurrency: 2 }, () => {
  rmSync(RUN_DIR, { recursive: true, force: true });
  mkdirSync(RUN_DIR, { recursive: true });
  after(() => rmSync(RUN_DIR, { recursive: true, force: true }));

  const snippets = documents().flatMap((file) => jsBlocks(file, readFileSync(file, 'utf8')));

  it('the documentation has runnable snippets in the README and every component page', () => {
    const where = new Set(snippets.map((s) => relative(REPO_ROOT, s.file)));
    for (const page of ['README.md', 'docs/protocol.md', 'docs/client.md', 'docs/outbound.md', 'docs/simulator.md']) {
      assert.ok(where.has(page), `${page} has a js snippet`);
    }
  });

  snippets.forEach((snippet, index) => {
    it(`${relative(REPO_ROOT, snippet.file)}:${snippet.line} runs`, async () => {
      const r = await runSnippet(snippet, index);
      const output = `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
      assert.equal(r.code, 0, `exit ${r.code ?? r.signal}\n${output}`);
      if (snippet.code.includes('ESL_LISTEN_PORT')) assert.equal(r.callsConnected, 1, `the server took the call\n${output}`);
    });
  });
});
