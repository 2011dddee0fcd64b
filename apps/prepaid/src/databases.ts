/** Where the prepaid data lives, and opening it through PouchDB: a CouchDB URL, LevelDB files, or memory. */
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import PouchDB from 'pouchdb';
import { PrepaidInputError } from './db-errors.js';
import { redactUrl } from './redact.js';

export type StorageConfig =
  /** A CouchDB (or compatible) database URL, e.g. http://user:pass@host:5984/prepaid */
  | { kind: 'couch'; url: string }
  /** Embedded, on disk: the LevelDB files go in `<dataDir>/prepaid`. */
  | { kind: 'disk'; dataDir: string }
  /** Embedded, in memory. Stores with the same name in one process share their data. */
  | { kind: 'memory'; name: string };

/** The PouchDB methods the store uses (tests may wrap a database to inject faults). */
/** What the store uses of a database; with `bulkDocs`, creations are written in groups (group-commit.ts). */
export type DocDatabase = Pick<PouchDB.Database, 'info' | 'get' | 'put' | 'allDocs' | 'query' | 'close' | 'destroy'> &
  Partial<Pick<PouchDB.Database, 'bulkDocs'>>;

let memoryAdapterLoaded: Promise<void> | undefined;
function loadMemoryAdapter(): Promise<void> {
  memoryAdapterLoaded ??= import('pouchdb-adapter-memory').then((mod) => {
    PouchDB.plugin(mod.default);
  });
  return memoryAdapterLoaded;
}

/** A description safe to log (credentials redacted). */
export function describeConfig(config: StorageConfig): string {
  switch (config.kind) {
    case 'couch':
      return `CouchDB ${redactUrl(config.url)}`;
    case 'disk':
      return `embedded PouchDB in ${path.join(config.dataDir, 'prepaid')}`;
    case 'memory':
      return `in-memory PouchDB ${config.name}`;
  }
}

export async function openDatabase(config: StorageConfig, opTimeoutMs: number): Promise<DocDatabase> {
  switch (config.kind) {
    case 'couch': {
      let url: URL;
      try {
        url = new URL(config.url);
      } catch {
        throw new PrepaidInputError(`not a URL: ${redactUrl(config.url)}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new PrepaidInputError(`CouchDB URL must be http(s): ${redactUrl(config.url)}`);
      }
      if (url.pathname.replace(/\/+$/, '') === '') {
        throw new PrepaidInputError(`CouchDB URL must name the database, e.g. ${url.origin}/prepaid`);
      }
      // Abort each HTTP request at the operation bound too, so a hung server does not pile up sockets.
      const agent = keepAliveAgent(url.protocol);
      const boundedFetch = (target: string, init: Record<string, unknown> = {}) =>
        PouchDB.fetch(target, { ...init, agent, signal: AbortSignal.timeout(opTimeoutMs) });
      return new PouchDB(config.url, { fetch: boundedFetch });
    }
    case 'disk': {
      await mkdir(config.dataDir, { recursive: true });
      return new PouchDB(path.join(config.dataDir, 'prepaid'));
    }
    case 'memory': {
      await loadMemoryAdapter();
      return new PouchDB(config.name, { adapter: 'memory' });
    }
  }
}

let httpAgent: http.Agent | undefined;
let httpsAgent: https.Agent | undefined;

/**
 * How long a connection may sit idle in the pool. A server closes idle connections on its own
 * clock (Node's http servers after 5 s, proxies often sooner), and a request sent on one it is
 * closing fails with a reset: a read failed so ends its call. Dropping them first leaves that
 * race to servers that close within 2 s; under load connections never idle that long.
 */
const IDLE_CONNECTION_MS = 2000;

/**
 * The connection pool of every CouchDB store in the process. PouchDB's fetch on Node (node-fetch 2)
 * sends `Connection: close` when given no agent, so every request (each charge among them) would
 * open and tear down a TCP connection of its own. Idle sockets do not keep the process alive.
 */
function keepAliveAgent(protocol: string): http.Agent {
  // `timeout` is the idle bound of a pooled socket; on a request in progress it only notifies.
  const options = { keepAlive: true, timeout: IDLE_CONNECTION_MS };
  if (protocol === 'https:') return (httpsAgent ??= new https.Agent(options));
  return (httpAgent ??= new http.Agent(options));
}
