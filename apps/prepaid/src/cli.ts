/**
 * `prepaid` command line: the outbound server (`serve`) and the operator's commands for accounts
 * and calls. Storage is chosen the same way for every command:
 *   --couch URL   (or PREPAID_COUCH_URL)  a CouchDB database, e.g. http://user:pass@host:5984/prepaid
 *   --data DIR    (or PREPAID_DATA_DIR)   embedded PouchDB on disk (default ./.data)
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PrepaidDbError, PrepaidInputError, PrepaidStore, type StorageConfig } from './store.js';
import { describeError, redactUrl } from './redact.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** `serve` runs until this aborts (the binary wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
}

export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3 } as const;

export const USAGE = `Usage: prepaid <command> [options]

Commands
  serve                              run the outbound-socket server FreeSWITCH connects to
  account create <account>           create an account (--interval-duration seconds, required)
  account credit <account> <n>       add n intervals to an account
  account show <account>             balance, credits and charges of an account
  calls                              recent charged calls (--account A, --limit N)

Storage (every command; before or after it)
  --couch URL     CouchDB database URL, e.g. http://user:pass@host:5984/prepaid  [PREPAID_COUCH_URL]
  --data DIR      embedded database directory (default ./.data)                 [PREPAID_DATA_DIR]
  --db-timeout-ms N   bound on each database operation (default 5000)

serve
  --listen HOST:PORT      where FreeSWITCH's socket application connects (default 127.0.0.1:8084)
  --allow CIDR[,CIDR]     peers allowed to connect (default: any)
  --freeswitch HOST:PORT  FreeSWITCH event socket for api fallbacks (uuid_kill when a call's own
                          socket is gone); password from FREESWITCH_PASSWORD (default ClueCon)
  --ring-check-ms N       balance re-check period while ringing (default 10000)
  --log-level LEVEL       debug|info|warn|error (default info)

account create:  --interval-duration S  [--name NAME] [--credit N]
account credit:  [--id ID] (idempotency key: the same id applies once)  [--reason TEXT]
show / calls:    [--json]

Dialplan: <action application="set" data="ccnq_account=ACCOUNT"/>
          <action application="set" data="target=sofia/gateway/GW/NUMBER"/>
          <action application="socket" data="127.0.0.1:8084 async full"/>
`;

const STORAGE_OPTIONS = {
  couch: { type: 'string' },
  data: { type: 'string' },
  'db-timeout-ms': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

class UsageError extends Error {}

/** Storage from flags, then environment, then the default data directory. */
export function storageFrom(values: { couch?: string; data?: string }, env: CliIo['env']): StorageConfig {
  const couch = values.couch ?? env['PREPAID_COUCH_URL'];
  const data = values.data ?? env['PREPAID_DATA_DIR'];
  if (values.couch !== undefined && values.data !== undefined) throw new UsageError('give --couch or --data, not both');
  if (couch) return { kind: 'couch', url: couch };
  return { kind: 'disk', dataDir: data || '.data' };
}

function positiveNumber(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, got ${JSON.stringify(text)}`);
  return n;
}

function positiveInteger(text: string | undefined, name: string): number | undefined {
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

async function withStore<T>(values: Record<string, unknown>, io: CliIo, fn: (store: PrepaidStore) => Promise<T>): Promise<T> {
  const config = storageFrom(values as { couch?: string; data?: string }, io.env);
  const opTimeoutMs = positiveInteger(values['db-timeout-ms'] as string | undefined, '--db-timeout-ms');
  const store = await PrepaidStore.open(config, opTimeoutMs === undefined ? {} : { opTimeoutMs });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

async function accountCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      ...STORAGE_OPTIONS,
      'interval-duration': { type: 'string' },
      name: { type: 'string' },
      credit: { type: 'string' },
      id: { type: 'string' },
      reason: { type: 'string' },
    },
  });
  const account = positionals[0];
  if (account === undefined) throw new UsageError(`account ${sub ?? ''}: which account?`);
  switch (sub) {
    case 'create': {
      const duration = positiveNumber(values['interval-duration'], '--interval-duration');
      if (duration === undefined) throw new UsageError('account create needs --interval-duration <seconds>');
      const credit = positiveInteger(values.credit, '--credit');
      return withStore(values, io, async (store) => {
        const input: { account: string; intervalDuration: number; name?: string } = { account, intervalDuration: duration };
        if (values.name !== undefined) input.name = values.name;
        await store.createAccount(input);
        if (credit !== undefined) await store.addCredit(account, credit, { id: 'initial', reason: 'initial credit' });
        io.stdout(`created account ${account} (interval ${duration} s${credit ? `, ${credit} intervals` : ''}) in ${store.description}\n`);
        return EXIT.ok;
      });
    }
    case 'credit': {
      const intervals = positiveInteger(positionals[1], 'intervals');
      if (intervals === undefined) throw new UsageError('account credit <account> <intervals>');
      return withStore(values, io, async (store) => {
        const options: { id?: string; reason?: string } = {};
        if (values.id !== undefined) options.id = values.id;
        if (values.reason !== undefined) options.reason = values.reason;
        const { applied } = await store.addCredit(account, intervals, options);
        const remaining = await store.remaining(account);
        io.stdout(
          applied
            ? `credited ${intervals} intervals to ${account}; ${remaining} remaining\n`
            : `credit ${values.id} was already applied to ${account}; ${remaining} remaining\n`,
        );
        return EXIT.ok;
      });
    }
    case 'show': {
      return withStore(values, io, async (store) => {
        const summary = await store.accountSummary(account);
        if (!summary) {
          io.stderr(`no account ${account}\n`);
          return EXIT.notFound;
        }
        if (values.json) {
          io.stdout(JSON.stringify(summary, null, 2) + '\n');
          return EXIT.ok;
        }
        const a = summary.account;
        io.stdout(
          `account           ${a.account}${a.name ? ` (${a.name})` : ''}\n` +
            `interval          ${a.interval_duration} s\n` +
            `remaining         ${summary.remaining} intervals (${formatSeconds(summary.remaining * a.interval_duration)})\n` +
            `credited          ${summary.credited} intervals in ${summary.credits.length} credit(s)\n` +
            `charged           ${summary.charged} intervals over ${summary.calls} call(s)\n`,
        );
        if (summary.credits.length > 0) {
          io.stdout('\n' + table([['credited at', 'intervals', 'id', 'reason'], ...summary.credits.map((c) => [
            c.created_at, String(c.intervals), c._id.slice(`credit:${a.account}:`.length), c.reason ?? '',
          ])]));
        }
        return EXIT.ok;
      });
    }
    default:
      throw new UsageError(`unknown account command ${JSON.stringify(sub ?? '')} (create, credit, show)`);
  }
}

async function callsCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...STORAGE_OPTIONS, account: { type: 'string' }, limit: { type: 'string' } },
  });
  const limit = positiveInteger(values.limit, '--limit') ?? 20;
  return withStore(values, io, async (store) => {
    const query: { account?: string; limit: number } = { limit };
    if (values.account !== undefined) query.account = values.account;
    const calls = await store.recentCalls(query);
    if (values.json) {
      io.stdout(JSON.stringify(calls, null, 2) + '\n');
      return EXIT.ok;
    }
    if (calls.length === 0) {
      io.stdout('no charged calls\n');
      return EXIT.ok;
    }
    io.stdout(table([['last charge', 'account', 'call', 'intervals', 'first charge'], ...calls.map((c) => [
      c.lastChargeAt.toISOString(), c.account, c.call, String(c.intervals), c.firstChargeAt.toISOString(),
    ])]));
    return EXIT.ok;
  });
}

export function formatSeconds(total: number): string {
  const s = Math.max(0, total);
  if (s < 60) return `${+s.toFixed(3)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${+(s - m * 60).toFixed(3)} s`;
}

/** Storage options that take a value: the only options accepted before the command. */
const LEADING_WITH_VALUE = new Set(['--couch', '--data', '--db-timeout-ms']);

/**
 * `prepaid --data DIR account show x` reads as naturally as `prepaid account show x --data DIR`:
 * storage options given before the command are moved after it (every command takes them).
 */
function commandFirst(argv: string[]): string[] {
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    const name = arg.split('=', 1)[0]!;
    if (!LEADING_WITH_VALUE.has(name)) break;
    i += arg.includes('=') ? 1 : 2;
  }
  if (i === 0 || i >= argv.length) return argv;
  return [argv[i]!, ...argv.slice(i + 1), ...argv.slice(0, i)];
}

/** Runs one command line; resolves with the process exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = commandFirst(argv);
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return command === undefined ? EXIT.usage : EXIT.ok;
      case 'account':
        return await accountCommand(rest, io);
      case 'calls':
        return await callsCommand(rest, io);
      case 'serve': {
        const { serveCommand } = await import('./serve.js');
        return await serveCommand(rest, io);
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`prepaid: ${describeError(err).replace(/^ERR_PARSE_ARGS_\w+: /, '')}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (err instanceof PrepaidInputError) {
      io.stderr(`prepaid: ${err.message}\n`);
      return EXIT.failure;
    }
    if (err instanceof PrepaidDbError) {
      io.stderr(`prepaid: database error: ${err.message}\n`);
      return EXIT.failure;
    }
    io.stderr(`prepaid: ${describeError(err)}\n`);
    return EXIT.failure;
  }
}

export { UsageError, redactUrl };
