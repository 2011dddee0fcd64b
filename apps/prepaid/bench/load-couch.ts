/**
 * The CouchDB-compatible server of the prepaid load benchmark's HTTP mode, in a process of its
 * own: express-pouchdb (CouchDB's HTTP API) over PouchDB's LevelDB files in the directory given
 * as the first argument, on 127.0.0.1 at an OS-chosen port, which it prints as `port N`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import expressPouchdb from 'express-pouchdb';
import PouchDB from 'pouchdb';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: load-couch.js DIR\n');
  process.exit(2);
}
const app = expressPouchdb(PouchDB.defaults({ prefix: dir + path.sep }), {
  mode: 'minimumForPouchDB',
  inMemoryConfig: true,
  logPath: false,
});
const server = http.createServer(app);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
