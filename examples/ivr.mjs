#!/usr/bin/env node
/**
 * A minimal IVR on FreeSWITCH's outbound socket: answer, greet, ask for one digit, act on it,
 * hang up. Point a dialplan extension at it:
 *
 *   <action application="socket" data="127.0.0.1:8084 async full"/>
 *
 *   node examples/ivr.mjs [--host 127.0.0.1] [--port 8084] [--bridge user/1000]
 *
 * (or ESL_LISTEN_HOST / ESL_LISTEN_PORT / IVR_BRIDGE). Press 1 to hear a tone, 2 to be bridged
 * to the --bridge target (when given); anything else, or nothing, says goodbye. The sound files
 * are FreeSWITCH's stock English prompts. Run `npm ci` at the repository root first.
 * Ctrl-C stops accepting calls and lets the ones in progress finish.
 */
import { createServer, EslHangupError } from 'freeswitch-esl';

const args = process.argv.slice(2);
let host = process.env.ESL_LISTEN_HOST ?? '127.0.0.1';
let port = Number(process.env.ESL_LISTEN_PORT ?? 8084);
let bridgeTarget = process.env.IVR_BRIDGE;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--host') host = args[++i];
  else if (a === '--port') port = Number(args[++i]);
  else if (a === '--bridge') bridgeTarget = args[++i];
  else {
    console.error(`ivr: unknown argument ${a}`);
    process.exit(2);
  }
}

const server = createServer(async (call) => {
  const log = (msg) => console.log(`[${call.uuid}] ${msg}`);
  log(`call from ${call.callerIdNumber ?? 'unknown'} to ${call.destinationNumber ?? '?'}`);
  // This channel's events (execute waits on them), and keep the socket after hangup so the
  // final events still arrive; the session sends `exit` when the handler returns.
  await call.myevents();
  await call.linger();
  try {
    await call.answer();
    await call.playback('ivr/ivr-welcome.wav');
    const choice = await call.playAndGetDigits({
      min: 1,
      max: 1,
      tries: 3,
      timeout: 5000,
      file: 'ivr/ivr-please_choose_from_the_following.wav',
      invalidFile: 'ivr/ivr-that_was_an_invalid_entry.wav',
      regexp: '[0-9]',
    });
    log(`caller chose ${choice || 'nothing'}`);
    if (choice === '1') {
      await call.playback('tone_stream://%(1000,0,440)');
    } else if (choice === '2' && bridgeTarget) {
      const result = await call.bridge(bridgeTarget);
      log(`bridge ended: ${result.get('variable_bridge_hangup_cause') ?? result.get('Application-Response')}`);
    }
    if (!call.hungUp) {
      await call.playback('ivr/ivr-thank_you_for_calling.wav');
      await call.hangup('NORMAL_CLEARING');
    }
  } catch (err) {
    // The caller hanging up mid-menu is how many calls end, not an error.
    if (!(err instanceof EslHangupError)) throw err;
  }
  const end = await call.ended;
  log(`ended (${end.reason}${end.hangupCause ? `, ${end.hangupCause}` : ''})`);
});

server.on('handler-error', (err, call) => console.error(`[${call.uuid}] handler failed: ${err.message}`));
server.on('rejected', (info) => console.error(`refused ${info.address}: ${info.reason}`));

const addr = await server.listen({ host, port });
console.log(`ivr listening on ${addr.host}:${addr.port}`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.log('ivr: closing (calls in progress may finish)');
    server.close().then(() => process.exit(0));
  });
}
