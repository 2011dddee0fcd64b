/**
 * The CLI's side of the control socket: PrepaidOperations carried out by a running `prepaid
 * serve` (which holds the embedded database's lock) through its admin API on a Unix socket in the
 * data directory. The API's errors come back as the same error classes the database raises, so
 * the CLI prints the same messages and exits with the same codes either way.
 */
import http from 'node:http';
import path from 'node:path';
import { AccountExistsError, AccountNotFoundError, type PrepaidOperations } from './operations.js';
import { PrepaidDbError, PrepaidInputError, type CallSummary, type PrepaidDbErrorCode } from './store.js';

/** Where `prepaid serve` on the embedded database `dataDir` opens its control socket. */
export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, 'prepaid.sock');
}

const DB_CODES = new Set<string>(['PREPAID_DB_UNAVAILABLE', 'PREPAID_DB_TIMEOUT', 'PREPAID_DB_ERROR']);

interface Reply {
  status: number;
  body: unknown;
}

function request(socketPath: string, method: string, target: string, timeoutMs: number, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        socketPath,
        method,
        path: target,
        timeout: timeoutMs,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) });
          } catch {
            reject(new Error(`the running server's control socket answered ${res.statusCode} with something that is not JSON`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new PrepaidDbError('PREPAID_DB_TIMEOUT', `the running server did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The API's error body back into the error the database layer would have thrown. */
function toError(reply: Reply, account: string | undefined): Error {
  const { error, code } = (reply.body ?? {}) as { error?: string; code?: string };
  const message = error ?? `the running server answered ${reply.status}`;
  if (reply.status === 404 && code === 'NOT_FOUND' && account !== undefined) return new AccountNotFoundError(account);
  if (reply.status === 409 && code === 'ACCOUNT_EXISTS' && account !== undefined) return new AccountExistsError(account);
  if (code !== undefined && DB_CODES.has(code)) return new PrepaidDbError(code as PrepaidDbErrorCode, message);
  if (reply.status === 400) return new PrepaidInputError(message);
  return new Error(`the running server: ${message}`);
}

const accountPath = (account: string): string => `/api/accounts/${encodeURIComponent(account)}`;

/**
 * Operations through the server listening on `socketPath`; undefined when none answers there
 * (no socket file, or one left by a server that is gone).
 */
export async function connectControl(socketPath: string, options: { timeoutMs?: number } = {}): Promise<PrepaidOperations | undefined> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const call = async (method: string, target: string, body?: unknown, account?: string): Promise<Reply> => {
    const reply = await request(socketPath, method, target, timeoutMs, body);
    if (reply.status >= 400) throw toError(reply, account);
    return reply;
  };
  let description: string;
  try {
    const reply = await call('GET', '/api/server');
    description = (reply.body as { database: string }).database;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return undefined;
    throw err;
  }
  return {
    description,
    async createAccount(input) {
      const body: Record<string, unknown> = { account: input.account, interval_duration: input.intervalDuration };
      if (input.name !== undefined) body['name'] = input.name;
      if (input.credit !== undefined) body['credit'] = input.credit;
      return (await call('POST', '/api/accounts', body, input.account)).body as Awaited<ReturnType<PrepaidOperations['createAccount']>>;
    },
    async addCredit(account, request) {
      const reply = await call('POST', `${accountPath(account)}/credits`, request, account);
      return reply.body as Awaited<ReturnType<PrepaidOperations['addCredit']>>;
    },
    async accountSummary(account) {
      try {
        return (await call('GET', accountPath(account), undefined, account)).body as Awaited<ReturnType<PrepaidOperations['accountSummary']>>;
      } catch (err) {
        if (err instanceof AccountNotFoundError) return null;
        throw err;
      }
    },
    async listAccounts() {
      return ((await call('GET', '/api/accounts')).body as { accounts: Awaited<ReturnType<PrepaidOperations['listAccounts']>> }).accounts;
    },
    async recentCalls(query) {
      const params = new URLSearchParams();
      if (query.account !== undefined) params.set('account', query.account);
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      const { calls } = (await call('GET', `/api/calls?${params}`)).body as { calls: Array<Record<string, string | number>> };
      // Dates travel as ISO text; the CLI formats Date objects, as it does from the database.
      return calls.map((c) => ({ ...c, firstChargeAt: new Date(c['firstChargeAt']!), lastChargeAt: new Date(c['lastChargeAt']!) }) as unknown as CallSummary);
    },
    async close() {},
  };
}
