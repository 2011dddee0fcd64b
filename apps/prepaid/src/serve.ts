/** `prepaid serve`: run the outbound server until SIGINT/SIGTERM (or the io signal) stops it. */
import { parseArgs } from 'node:util';
import { EXIT, parseHostPort, storageFrom, UsageError, type CliIo } from './cli.js';
import { createLogger, type LogLevel } from './log.js';
import { PrepaidServer, type PrepaidServerOptions } from './prepaid-server.js';
import { PrepaidStore } from './store.js';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

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
    },
  });
  const listen = parseHostPort(values.listen ?? '127.0.0.1:8084', '--listen');
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
  const number = (name: string): number | undefined => {
    const text = values[name as keyof typeof values] as string | undefined;
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive whole number`);
    return n;
  };
  const ringCheckMs = number('ring-check-ms');
  const opTimeoutMs = number('db-timeout-ms');
  const closeDeadline = number('close-deadline-ms');
  const logger = createLogger({ level, write: (line) => io.stderr(line + '\n') });

  const store = await PrepaidStore.open(storageFrom(values, io.env), opTimeoutMs === undefined ? {} : { opTimeoutMs });
  const options: PrepaidServerOptions = { store, logger };
  if (ringCheckMs !== undefined) options.ringCheckMs = ringCheckMs;
  if (closeDeadline !== undefined) options.closeDeadline = closeDeadline;
  if (values.allow !== undefined) options.allow = values.allow.split(',').map((a) => a.trim()).filter(Boolean);
  if (values.freeswitch !== undefined) {
    const fs = parseHostPort(values.freeswitch, '--freeswitch');
    options.freeswitch = { ...fs, password: io.env['FREESWITCH_PASSWORD'] ?? 'ClueCon' };
  }
  const server = new PrepaidServer(options);
  try {
    const bound = await server.listen(listen);
    io.stdout(`prepaid: listening on ${bound.host}:${bound.port} (${store.description})\n`);
    await new Promise<void>((resolve) => {
      if (!io.signal || io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    logger.info('stopping');
    await server.close();
    return EXIT.ok;
  } finally {
    await server.close();
    await store.close();
  }
}
