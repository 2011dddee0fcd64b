/**
 * Worker thread: a minimal raw inbound ESL server on 127.0.0.1 (ephemeral port) for the client
 * benchmarks, off the measured event loop. It sends auth/request, accepts any `auth`, answers
 * every `api …` with one fixed api/response and every other command with `+OK`. After a command
 * `event … ALL` it replays the given event stream (honouring back-pressure); `exit` gets the
 * usual goodbye. Replies to one read are written together, as FreeSWITCH's kernel buffer would
 * coalesce them.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

const { events, chunkSize } = workerData as { events: Uint8Array; chunkSize: number };
const replay = Buffer.from(events.buffer, events.byteOffset, events.byteLength);

const API_BODY = '+OK [Success]\n';
const API_REPLY = Buffer.from(`Content-Type: api/response\nContent-Length: ${Buffer.byteLength(API_BODY)}\n\n${API_BODY}`);
const OK_REPLY = Buffer.from('Content-Type: command/reply\nReply-Text: +OK\n\n');
const AUTH_OK = Buffer.from('Content-Type: command/reply\nReply-Text: +OK accepted\n\n');
const EVENT_OK = Buffer.from('Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n');
const BYE =
  'Content-Type: command/reply\nReply-Text: +OK bye\n\n' +
  'Content-Type: text/disconnect-notice\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';
const LFLF = Buffer.from('\n\n');

async function stream(socket: Socket): Promise<void> {
  for (let i = 0; i < replay.length && !socket.destroyed; i += chunkSize) {
    if (!socket.write(replay.subarray(i, Math.min(replay.length, i + chunkSize)))) await once(socket, 'drain');
  }
}

function serve(socket: Socket): void {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  let rest: Buffer | undefined;
  socket.on('data', (chunk: Buffer) => {
    const data = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
    rest = undefined;
    const out: Buffer[] = [];
    let pos = 0;
    let startReplay = false;
    let bye = false;
    for (;;) {
      const end = data.indexOf(LFLF, pos);
      if (end === -1) break;
      // Skip blank lines between commands, as mod_event_socket does.
      while (pos < end && (data[pos] === 0x0a || data[pos] === 0x0d)) pos++;
      const a = data[pos];
      const b = data[pos + 1];
      if (a === 0x61 && b === 0x70 && data[pos + 2] === 0x69) out.push(API_REPLY); // "api"
      else if (a === 0x61 && b === 0x75) out.push(AUTH_OK); // "auth"
      else if (a === 0x65 && b === 0x76) {
        // "event …": replay after "ALL"
        out.push(EVENT_OK);
        if (/\bALL\b/i.test(data.toString('latin1', pos, end))) startReplay = true;
      } else if (a === 0x65 && b === 0x78) bye = true; // "exit"
      else out.push(OK_REPLY);
      pos = end + 2;
    }
    if (pos < data.length) rest = data.subarray(pos);
    if (out.length > 0) socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    if (bye) socket.end(BYE);
    else if (startReplay) void stream(socket).catch(() => socket.destroy());
  });
  socket.write('Content-Type: auth/request\n\n');
}

const server = createServer(serve);
server.listen(0, '127.0.0.1', () => {
  parentPort!.postMessage({ port: (server.address() as AddressInfo).port });
});
parentPort!.on('message', (msg: unknown) => {
  if (msg === 'close') server.close(() => parentPort!.close());
});
