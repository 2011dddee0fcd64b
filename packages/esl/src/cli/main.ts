#!/usr/bin/env node
import { homedir } from 'node:os';
import { openSession } from './client-session.js';
import { OUTPUT_CLOSED } from './exit-codes.js';
import { run } from './run.js';

// fs-esl: the bin entry point. Everything testable lives in run.ts and the modules it uses; this
// file only binds them to the real process (argv, environment, streams, signals, exit status).

const controller = new AbortController();
let signals = 0;
const onSignal = (name: NodeJS.Signals) => {
  signals++;
  // A second Ctrl-C while shutting down means "now": leave without waiting for a polite close.
  if (signals > 1) process.exit(name === 'SIGINT' ? 130 : 143);
  controller.abort(name);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// A closed pipe downstream (fs-esl --events ... | head) is a normal way to stop, not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') controller.abort(OUTPUT_CLOSED);
});

const code = await run({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  home: homedir(),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
  openSession,
});

// Exit once our output is flushed: stdin (or a stray timer) must not keep a finished run alive.
process.exitCode = code;
let pending = 2;
const done = () => {
  if (--pending === 0) process.exit(code);
};
process.stdout.write('', done);
process.stderr.write('', done);
