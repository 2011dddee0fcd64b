/** What every `prepaid` command shares: its I/O, exit codes, usage errors and option parsers. */
import type { StorageConfig } from './store.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** `serve` runs until this aborts (the binary wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
}

export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3 } as const;

/** A command line that cannot be run as given: exit 2 with the usage text. */
export class UsageError extends Error {}

/** Storage from flags, then environment, then the default data directory. */
export function storageFrom(values: { couch?: string; data?: string }, env: CliIo['env']): StorageConfig {
  const couch = values.couch ?? env['PREPAID_COUCH_URL'];
  const data = values.data ?? env['PREPAID_DATA_DIR'];
  if (values.couch !== undefined && values.data !== undefined) throw new UsageError('give --couch or --data, not both');
  if (couch) return { kind: 'couch', url: couch };
  return { kind: 'disk', dataDir: data || '.data' };
}

export function positiveNumber(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, got ${JSON.stringify(text)}`);
  return n;
}

export function positiveInteger(text: string | undefined, name: string): number | undefined {
  const n = positiveNumber(text, name);
  if (n !== undefined && !Number.isInteger(n)) throw new UsageError(`${name} must be a whole number, got ${JSON.stringify(text)}`);
  return n;
}

/** Parse `host:port` (the port required; IPv6 as [::1]:port). */
export function parseHostPort(text: string, name: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError(`${name} must be HOST:PORT, got ${JSON.stringify(text)}`);
  return { host: (m[1] ?? m[2])!, port };
}
