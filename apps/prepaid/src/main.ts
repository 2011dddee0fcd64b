#!/usr/bin/env node
/** The `prepaid` binary. */
import { runCli } from './cli.js';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => controller.abort());
}

/**
 * `prepaid account show x | head -1`: once the reader has gone, further output has nowhere to go.
 * The write error (EPIPE) is expected then, not a crash: the rest of the output is dropped and
 * the command ends with its own exit code, quietly.
 */
function pipeWriter(stream: NodeJS.WriteStream): (text: string) => void {
  let gone = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    gone = true;
  });
  return (text) => {
    if (!gone) stream.write(text);
  };
}

const code = await runCli(process.argv.slice(2), {
  stdout: pipeWriter(process.stdout),
  stderr: pipeWriter(process.stderr),
  env: process.env,
  signal: controller.signal,
});
process.exitCode = code;
