/**
 * The admin API of `prepaid serve`: health, Prometheus metrics, accounts, credits, calls, live
 * calls, a server-sent event stream and the live dashboard, as JSON over HTTP. It answers on the
 * `--admin` address (bearer token from PREPAID_ADMIN_TOKEN when set) and on the control socket
 * (a Unix socket in the data directory, mode 0600: the file's permissions are its access control),
 * through which the `prepaid` CLI works while the server holds the embedded database.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { chmod, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { DASHBOARD_HTML } from './dashboard-page.js';
import { endedCall, liveCall, type EndedCall, type LiveCallSource } from './live-calls.js';
import type { Logger } from './log.js';
import type { PrepaidMetrics } from './metrics.js';
import { AccountExistsError, AccountNotFoundError, type PrepaidOperations } from './operations.js';
import { describeError } from './redact.js';
import { PrepaidDbError, PrepaidInputError, type AccountDoc, type AccountListing } from './store.js';
import type { CallReport } from './prepaid-server.js';

export interface AdminOptions {
  operations: PrepaidOperations;
  calls: LiveCallSource;
  metrics: PrepaidMetrics;
  /** Resolves when the database answers (PrepaidStore.ping). */
  pingDatabase: () => Promise<void>;
  /** Where FreeSWITCH's socket application connects; undefined once the server stopped accepting. */
  listener: () => { host: string; port: number } | undefined;
  logger: Logger;
  /** Required on `/api/*` and `/` of the admin address when set. */
  token?: string;
  /** Ended calls kept for the dashboard (default 50). */
  recentEnded?: number;
}

/** Error codes of the API's `{ "error": message, "code": code }` bodies. */
export type AdminErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'ACCOUNT_EXISTS'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INTERNAL'
  | PrepaidDbError['code'];

/** A request the API refuses, with its HTTP status. */
export class AdminHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AdminHttpError';
  }
}

export interface HealthReport {
  status: 'ok' | 'unavailable';
  /** Why it is unavailable. */
  reason?: string;
  listener: { ok: boolean; address?: string };
  database: { ok: boolean; latencyMs?: number; error?: string };
}

const MAX_BODY = 64 * 1024;
const HEARTBEAT_MS = 15_000;

/** Addresses `--admin` may use without a token. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return net.isIPv4(host) && host.startsWith('127.');
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

export class AdminService {
  private readonly options: AdminOptions;
  private readonly servers = new Set<http.Server>();
  private readonly streams = new Set<http.ServerResponse>();
  private readonly ended: EndedCall[] = [];
  private readonly tokenDigest: Buffer | undefined;
  private readonly socketPaths: string[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly onCall = (report: CallReport): void => this.broadcast('call', { call: liveCall(report) });
  private readonly onUpdate = (report: CallReport): void => {
    this.broadcast('call', { call: liveCall(report) });
    if (report.remaining !== undefined) this.broadcast('balance', { account: report.account, remaining: report.remaining });
  };
  private readonly onEnd = (report: CallReport): void => {
    const call = endedCall(report);
    this.ended.unshift(call);
    this.ended.length = Math.min(this.ended.length, this.options.recentEnded ?? 50);
    this.broadcast('ended', { call });
  };

  constructor(options: AdminOptions) {
    this.options = options;
    this.tokenDigest = options.token ? digest(options.token) : undefined;
    options.calls.on('call', this.onCall);
    options.calls.on('update', this.onUpdate);
    options.calls.on('end', this.onEnd);
  }

  /** The admin address: token-protected when a token is set. Resolves with the bound address. */
  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = this.server(false);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as net.AddressInfo;
    return { host: address.address, port: address.port };
  }

  /**
   * The control socket. Only the server holding the embedded database's lock gets here, so a
   * socket file left at `path` is a crashed run's and is replaced. Created with umask 177 and
   * chmod 0600 after, so no other user can connect even for a moment.
   */
  async listenControl(path: string): Promise<void> {
    await rm(path, { force: true });
    const server = this.server(true);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const umask = process.umask(0o177);
      try {
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(umask);
      }
    });
    await chmod(path, 0o600);
    this.socketPaths.push(path);
  }

  /** Ends the event streams, stops both listeners and removes the control socket. */
  async close(): Promise<void> {
    const { calls } = this.options;
    calls.off('call', this.onCall);
    calls.off('update', this.onUpdate);
    calls.off('end', this.onEnd);
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    await Promise.all(
      [...this.servers].map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    this.servers.clear();
    await Promise.all(this.socketPaths.splice(0).map((p) => rm(p, { force: true })));
  }

  /** `GET /health`: the listener is accepting and the database answers. */
  async health(): Promise<HealthReport> {
    const address = this.options.listener();
    const listener = address ? { ok: true, address: `${address.host}:${address.port}` } : { ok: false };
    const started = performance.now();
    let database: HealthReport['database'];
    try {
      await this.options.pingDatabase();
      database = { ok: true, latencyMs: Math.round((performance.now() - started) * 1000) / 1000 };
    } catch (err) {
      database = { ok: false, error: describeError(err) };
    }
    const reasons = [
      ...(listener.ok ? [] : ['not accepting calls from FreeSWITCH (stopping or not listening)']),
      ...(database.ok ? [] : [`database: ${database.error}`]),
    ];
    return reasons.length === 0
      ? { status: 'ok', listener, database }
      : { status: 'unavailable', reason: reasons.join('; '), listener, database };
  }

  private server(trusted: boolean): http.Server {
    const server = http.createServer((req, res) => {
      this.handle(req, res, trusted).catch((err: unknown) => this.fail(res, err));
    });
    this.servers.add(server);
    return server;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, trusted: boolean): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/health') {
      allow(method, 'GET');
      const report = await this.health();
      return sendJson(res, report.status === 'ok' ? 200 : 503, report);
    }
    if (path === '/metrics') {
      allow(method, 'GET');
      const text = await this.options.metrics.text();
      res.writeHead(200, { 'content-type': this.options.metrics.contentType });
      res.end(text);
      return;
    }
    if (path !== '/' && !path.startsWith('/api/')) throw new AdminHttpError(404, 'NOT_FOUND', `no such endpoint: ${path}`);
    if (!trusted) this.authenticate(req);
    if (path === '/') {
      allow(method, 'GET');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(DASHBOARD_HTML);
      return;
    }
    return this.api(req, res, method, path.slice('/api/'.length).split('/'), url.searchParams);
  }

  private async api(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    method: string,
    segments: string[],
    query: URLSearchParams,
  ): Promise<void> {
    const ops = this.options.operations;
    let decoded: string[];
    try {
      decoded = segments.map((s) => decodeURIComponent(s));
    } catch {
      throw new AdminHttpError(400, 'BAD_REQUEST', 'the path is not valid percent-encoding');
    }
    const [collection, id, sub, ...extra] = decoded;
    if (collection === 'accounts' && extra.length === 0) {
      if (id === undefined || id === '') {
        if (method === 'GET') return sendJson(res, 200, { accounts: await ops.listAccounts() });
        allow(method, 'POST');
        const body = await readJson(req);
        const input = {
          account: requireString(body, 'account'),
          intervalDuration: requireNumber(body, 'interval_duration'),
          ...optional(body, 'name', 'string'),
          ...optional(body, 'credit', 'number'),
        };
        const created = await ops.createAccount(input);
        this.broadcastAccount(created.account, created.remaining);
        return sendJson(res, 201, created);
      }
      if (sub === undefined) {
        allow(method, 'GET');
        const summary = await ops.accountSummary(id);
        if (!summary) throw new AccountNotFoundError(id);
        return sendJson(res, 200, summary);
      }
      if (sub === 'credits') {
        allow(method, 'POST');
        const body = await readJson(req);
        const request = {
          intervals: requireNumber(body, 'intervals'),
          ...optional(body, 'id', 'string'),
          ...optional(body, 'reason', 'string'),
        };
        const result = await ops.addCredit(id, request);
        this.broadcast('balance', { account: id, remaining: result.remaining });
        return sendJson(res, result.applied ? 201 : 200, result);
      }
    }
    if (collection === 'calls' && sub === undefined) {
      allow(method, 'GET');
      if (id === undefined || id === '') {
        const limitText = query.get('limit');
        const limit = limitText === null ? 20 : Number(limitText);
        if (!Number.isInteger(limit) || limit <= 0) throw new AdminHttpError(400, 'BAD_REQUEST', 'limit must be a positive whole number');
        const account = query.get('account');
        return sendJson(res, 200, { calls: await ops.recentCalls(account === null ? { limit } : { account, limit }) });
      }
      if (id === 'live') return sendJson(res, 200, { calls: this.options.calls.reports().map(liveCall) });
    }
    if (collection === 'server' && id === undefined) {
      allow(method, 'GET');
      const address = this.options.listener();
      return sendJson(res, 200, { database: ops.description, listener: address ? `${address.host}:${address.port}` : null });
    }
    if (collection === 'events' && id === undefined) {
      allow(method, 'GET');
      return this.openStream(res);
    }
    throw new AdminHttpError(404, 'NOT_FOUND', `no such endpoint: /api/${segments.join('/')}`);
  }

  /** `GET /api/events`: a snapshot, then every change, as server-sent events. */
  private async openStream(res: http.ServerResponse): Promise<void> {
    const accounts = await this.options.operations.listAccounts();
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(sse('snapshot', {
      now: new Date().toISOString(),
      live: this.options.calls.reports().map(liveCall),
      accounts,
      ended: this.ended,
    }));
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
    this.heartbeat ??= setInterval(() => {
      for (const stream of this.streams) stream.write(': keep-alive\n\n');
    }, HEARTBEAT_MS).unref();
  }

  private broadcast(event: string, data: Record<string, unknown>): void {
    if (this.streams.size === 0) return;
    const frame = sse(event, { now: new Date().toISOString(), ...data });
    for (const stream of this.streams) stream.write(frame);
  }

  /** A new account: its listing line, as `GET /api/accounts` shows it. */
  private broadcastAccount(account: AccountDoc, remaining: number): void {
    const listing: AccountListing = {
      account: account.account,
      ...(account.name === undefined ? {} : { name: account.name }),
      interval_duration: account.interval_duration,
      remaining,
      created_at: account.created_at,
    };
    this.broadcast('account', { account: listing });
  }

  /**
   * `Authorization: Bearer <token>`, or Basic with the token as the password (what a browser
   * sends after the dashboard's login prompt; the user name is ignored).
   */
  private authenticate(req: http.IncomingMessage): void {
    if (!this.tokenDigest) return;
    const header = req.headers.authorization ?? '';
    const [scheme, value = ''] = header.split(' ', 2);
    let given: string | undefined;
    if (scheme?.toLowerCase() === 'bearer') given = value;
    else if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      given = decoded.slice(decoded.indexOf(':') + 1);
    }
    if (given === undefined || !timingSafeEqual(digest(given), this.tokenDigest)) {
      throw new AdminHttpError(401, 'UNAUTHORIZED', 'this endpoint needs the admin token (Authorization: Bearer <PREPAID_ADMIN_TOKEN>)');
    }
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    const { status, code, message } = classify(err);
    if (status === 500) this.options.logger.error(`admin: ${describeError(err)}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json; charset=utf-8' };
    if (status === 401) headers['www-authenticate'] = ['Bearer realm="prepaid"', 'Basic realm="prepaid", charset="UTF-8"'];
    res.writeHead(status, headers);
    res.end(JSON.stringify({ error: message, code }) + '\n');
  }
}

function classify(err: unknown): { status: number; code: AdminErrorCode; message: string } {
  if (err instanceof AdminHttpError) return { status: err.status, code: err.code, message: err.message };
  if (err instanceof AccountNotFoundError) return { status: 404, code: 'NOT_FOUND', message: err.message };
  if (err instanceof AccountExistsError) return { status: 409, code: 'ACCOUNT_EXISTS', message: err.message };
  if (err instanceof PrepaidInputError) return { status: 400, code: 'BAD_REQUEST', message: err.message };
  if (err instanceof PrepaidDbError) return { status: 503, code: err.code, message: err.message };
  return { status: 500, code: 'INTERNAL', message: 'internal error (see the server log)' };
}

function allow(method: string, expected: string): void {
  if (method !== expected) throw new AdminHttpError(405, 'METHOD_NOT_ALLOWED', `use ${expected} here, not ${method}`);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body) + '\n');
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The JSON object of a POST. `application/json` is required: a page on another origin cannot
 * send that without a CORS preflight, which this API never grants (no cross-site writes).
 */
async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new AdminHttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as JSON with Content-Type: application/json');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new AdminHttpError(413, 'PAYLOAD_TOO_LARGE', `the body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new AdminHttpError(400, 'BAD_REQUEST', `the body is not JSON: ${(err as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AdminHttpError(400, 'BAD_REQUEST', 'the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new AdminHttpError(400, 'BAD_REQUEST', `${field} is required (a string)`);
  return value;
}

function requireNumber(body: Record<string, unknown>, field: string): number {
  const value = body[field];
  if (typeof value !== 'number') throw new AdminHttpError(400, 'BAD_REQUEST', `${field} is required (a number)`);
  return value;
}

/** `{ [field]: value }` when the body has it with the right type, `{}` when absent. */
function optional<K extends string, T extends 'string' | 'number'>(
  body: Record<string, unknown>,
  field: K,
  type: T,
): Partial<Record<K, T extends 'string' ? string : number>> {
  const value = body[field];
  if (value === undefined) return {};
  if (typeof value !== type) throw new AdminHttpError(400, 'BAD_REQUEST', `${field} must be a ${type}`);
  return { [field]: value } as Partial<Record<K, T extends 'string' ? string : number>>;
}
