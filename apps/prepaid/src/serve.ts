/**
 * `prepaid serve`: run the outbound server until SIGINT/SIGTERM (or the io signal) stops it, with
 * the control socket (embedded database) and, when asked, the admin HTTP API and dashboard.
 */
import { parseArgs } from 'node:util';
import { AdminService, isLoopback } from './admin.js';
import { EXIT, parseHostPort, positiveInteger, storageFrom, UsageError, type CliIo } from './cli-options.js';
import { controlSocketPath } from './control-client.js';
import { batchedWriter, createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log.js';
import { PrepaidMetrics } from './metrics.js';
import { storeOperations } from './operations.js';
import { PrepaidServer, type PrepaidServerOptions } from './prepaid-server.js';
import { describeError } from './redact.js';
import { PrepaidStore } from './store.js';

/** `--admin PORT` (loopback) or `--admin HOST:PORT`. */
export function parseAdminAddress(text: string): { host: string; port: number } {
  if (/^\d+$/.test(text.trim())) return parseHostPort(`127.0.0.1:${text.trim()}`, '--admin');
  return parseHostPort(text, '--admin');
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T, name: string): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      couch: { type: 'string' },
      data: { type: 'string' },
      'db-timeout-ms': { type: 'string' },
      listen: { type: 'string' },
      allow: { type: 'string' },
      freeswitch: { type: 'string' },
      'ring-check-ms': { type: 'string' },
      'close-deadline-ms': { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      admin: { type: 'string' },
    },
  });
  const listen = parseHostPort(values.listen ?? '127.0.0.1:8084', '--listen');
  const level = oneOf<LogLevel>(values['log-level'], LOG_LEVELS, 'info', '--log-level');
  const format = oneOf<LogFormat>(values['log-format'], LOG_FORMATS, 'text', '--log-format');
  const ringCheckMs = positiveInteger(values['ring-check-ms'], '--ring-check-ms');
  const opTimeoutMs = positiveInteger(values['db-timeout-ms'], '--db-timeout-ms');
  const closeDeadline = positiveInteger(values['close-deadline-ms'], '--close-deadline-ms');
  const admin = values.admin === undefined ? undefined : parseAdminAddress(values.admin);
  const token = io.env['PREPAID_ADMIN_TOKEN'] || undefined;
  if (admin && !isLoopback(admin.host) && !token) {
    throw new UsageError(
      `--admin ${admin.host}:${admin.port} is not a loopback address: set PREPAID_ADMIN_TOKEN so the admin API and ` +
        'dashboard require a token there, or give a loopback address (e.g. --admin 127.0.0.1:8085)',
    );
  }
  const storage = storageFrom(values, io.env);
  const writeLines = batchedWriter(io.stderr);
  const logger = createLogger({ level, format, write: (line) => writeLines(line + '\n') });
  const metrics = new PrepaidMetrics();

  const store = await PrepaidStore.open(storage, { observe: metrics.observeDb, ...(opTimeoutMs === undefined ? {} : { opTimeoutMs }) });
  const options: PrepaidServerOptions = { store, logger };
  if (ringCheckMs !== undefined) options.ringCheckMs = ringCheckMs;
  if (closeDeadline !== undefined) options.closeDeadline = closeDeadline;
  if (values.allow !== undefined) options.allow = values.allow.split(',').map((a) => a.trim()).filter(Boolean);
  if (values.freeswitch !== undefined) {
    const fs = parseHostPort(values.freeswitch, '--freeswitch');
    options.freeswitch = { ...fs, password: io.env['FREESWITCH_PASSWORD'] ?? 'ClueCon' };
  }
  const server = new PrepaidServer(options);
  metrics.watch(server);
  let accepting = false;
  const service = new AdminService({
    operations: storeOperations(store),
    calls: server,
    metrics,
    pingDatabase: () => store.ping(),
    listener: () => (accepting ? server.address() : undefined),
    logger,
    ...(token ? { token } : {}),
  });
  try {
    const bound = await server.listen(listen);
    accepting = true;
    io.stdout(`prepaid: listening on ${bound.host}:${bound.port} (${store.description})\n`);
    if (storage.kind === 'disk') {
      const socket = controlSocketPath(storage.dataDir);
      await service.listenControl(socket).catch((err: unknown) => {
        throw new Error(`could not open the control socket ${socket}: ${describeError(err)}`);
      });
      logger.info(`control socket ${socket}: the prepaid CLI works through this server while it runs`);
    }
    if (admin) {
      const at = await service.listen(admin.host, admin.port);
      const shown = at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
      io.stdout(`prepaid: admin API and dashboard on http://${shown}/${token ? ' (token required)' : ''}\n`);
    }
    await new Promise<void>((resolve) => {
      if (!io.signal || io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    logger.info('stopping');
    accepting = false;
    // The admin API stays up while calls drain: operators can watch them end and top accounts up.
    await server.close();
    return EXIT.ok;
  } finally {
    accepting = false;
    await server.close();
    await service.close();
    await store.close();
  }
}
