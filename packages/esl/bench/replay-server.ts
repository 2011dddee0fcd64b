/**
 * Worker thread: a loopback TCP server (127.0.0.1, ephemeral port) that sends the byte stream it
 * was given to every client, in writes of `chunkSize` bytes honouring back-pressure, then closes.
 * Running in its own thread keeps the sending side off the measured event loop.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

const { data, chunkSize } = workerData as { data: Uint8Array; chunkSize: number };
const stream = Buffer.from(data.buffer, data.byteOffset, data.byteLength);

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  void (async () => {
    for (let i = 0; i < stream.length && !socket.destroyed; i += chunkSize) {
      if (!socket.write(stream.subarray(i, Math.min(stream.length, i + chunkSize)))) await once(socket, 'drain');
    }
    socket.end();
  })().catch(() => socket.destroy());
});

server.listen(0, '127.0.0.1', () => {
  parentPort!.postMessage({ port: (server.address() as AddressInfo).port });
});

parentPort!.on('message', (msg: unknown) => {
  if (msg === 'close') server.close(() => parentPort!.close());
});
