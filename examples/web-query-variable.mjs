#!/usr/bin/env node
/**
 * Sets a channel variable from a web query, then lets the dialplan continue: for each call the
 * `socket` application delivers, fetch a URL (Node's built-in fetch) with the call's details as
 * query parameters, store the trimmed response body in a channel variable, and return.
 *
 *   node examples/web-query-variable.mjs --url http://127.0.0.1:8080/route \
 *        [--variable web_query_result] [--timeout 2000] [--host 127.0.0.1] [--port 8084]
 *
 * (or WEB_QUERY_URL, WEB_QUERY_VARIABLE, WEB_QUERY_TIMEOUT, ESL_LISTEN_HOST, ESL_LISTEN_PORT).
 * The request is GET <url>?uuid=…&caller_id_number=…&destination_number=… . When the query
 * fails (error status, timeout, unreachable), the variable is left unset and
 * `web_query_error` says why, so the dialplan can branch on it. Dialplan:
 *
 *   <extension name="routed">
 *     <condition field="destination_number" expression="^(7\d{3})$">
 *       <action application="socket" data="127.0.0.1:8084 async full"/>
 *       <action application="bridge" data="user/${web_query_result}"/>
 *     </condition>
 *   </extension>
 *
 * Run `npm ci` at the repository root first. Ctrl-C stops accepting calls and lets the ones in
 * progress finish.
 */
import { createServer } from 'freeswitch-esl';

const args = process.argv.slice(2);
let host = process.env.ESL_LISTEN_HOST ?? '127.0.0.1';
let port = Number(process.env.ESL_LISTEN_PORT ?? 8084);
let url = process.env.WEB_QUERY_URL;
let variable = process.env.WEB_QUERY_VARIABLE ?? 'web_query_result';
let timeoutMs = Number(process.env.WEB_QUERY_TIMEOUT ?? 2000);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--host') host = args[++i];
  else if (a === '--port') port = Number(args[++i]);
  else if (a === '--url') url = args[++i];
  else if (a === '--variable') variable = args[++i];
  else if (a === '--timeout') timeoutMs = Number(args[++i]);
  else {
    console.error(`web-query-variable: unknown argument ${a}`);
    process.exit(2);
  }
}
if (!url) {
  console.error('web-query-variable: --url (or WEB_QUERY_URL) is required');
  process.exit(2);
}

const server = createServer(async (call) => {
  const query = new URL(url);
  query.searchParams.set('uuid', call.uuid);
  query.searchParams.set('caller_id_number', call.callerIdNumber ?? '');
  query.searchParams.set('destination_number', call.destinationNumber ?? '');
  let value;
  let failure;
  try {
    const res = await fetch(query, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.text()).trim();
    if (!res.ok) failure = `HTTP ${res.status}`;
    else value = body;
  } catch (err) {
    failure = err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : err.message;
  }
  if (value !== undefined) {
    // A value with a line break goes to FreeSWITCH as a text/plain body (set's argument).
    await call.setVariable(variable, value);
    console.log(`[${call.uuid}] ${variable}=${value}`);
  } else {
    await call.setVariable('web_query_error', failure);
    console.log(`[${call.uuid}] query failed: ${failure}`);
  }
  // Returning ends the session: the socket closes and FreeSWITCH runs the next dialplan action.
});

server.on('handler-error', (err, call) => console.error(`[${call.uuid}] handler failed: ${err.message}`));

const addr = await server.listen({ host, port });
console.log(`web-query-variable listening on ${addr.host}:${addr.port}`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close().then(() => process.exit(0));
  });
}
