#!/usr/bin/env node
/**
 * One-shot inbound client: connect to FreeSWITCH's event socket, authenticate, run one api
 * command (default `reloadxml`), print its output, say goodbye, exit.
 *
 *   node examples/oneshot-api.mjs [--host 127.0.0.1] [--port 8021] [--password ClueCon] [command …]
 *   node examples/oneshot-api.mjs --simulate status     # against the built-in simulator
 *
 * The password can also come from ESL_PASSWORD (keeps it out of `ps` output). Exit status: 0 on
 * success, 1 when FreeSWITCH answered -ERR, 2 when it could not connect or authenticate.
 * Run `npm ci` at the repository root first (it builds the library).
 */
import { connect, EslAuthError, EslCommandError } from 'freeswitch-esl';

const args = process.argv.slice(2);
const options = {
  host: process.env.ESL_HOST ?? '127.0.0.1',
  port: Number(process.env.ESL_PORT ?? 8021),
  password: process.env.ESL_PASSWORD ?? 'ClueCon',
  connectTimeout: 5000,
};
let simulate = false;
const words = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--host') options.host = args[++i];
  else if (a === '--port') options.port = Number(args[++i]);
  else if (a === '--password') options.password = args[++i];
  else if (a === '--simulate') simulate = true;
  else words.push(a);
}
const command = words.length > 0 ? words.join(' ') : 'reloadxml';

let sim;
if (simulate) {
  // A FreeSWITCH stand-in on a free loopback port, for trying this without a switch.
  const { Simulator } = await import('freeswitch-esl/testing');
  sim = await Simulator.start({ password: options.password });
  options.host = '127.0.0.1';
  options.port = sim.port;
}

let status = 0;
try {
  const client = await connect(options);
  try {
    process.stdout.write(await client.api(command));
  } catch (err) {
    if (!(err instanceof EslCommandError)) throw err;
    process.stderr.write(err.reply); // FreeSWITCH's own -ERR text
    status = 1;
  } finally {
    await client.close(); // sends `exit`, waits for the goodbye
  }
} catch (err) {
  const why = err instanceof EslAuthError ? 'authentication failed (check the password)' : err.message;
  console.error(`oneshot-api: ${why}`);
  status = 2;
} finally {
  await sim?.stop();
}
process.exitCode = status;
