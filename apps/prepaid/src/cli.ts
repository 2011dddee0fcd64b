/**
 * `prepaid` command line: the outbound server (`serve`) and the operator's commands for accounts
 * and calls. Storage is chosen the same way for every command:
 *   --couch URL   (or PREPAID_COUCH_URL)  a CouchDB database, e.g. http://user:pass@host:5984/prepaid
 *   --data DIR    (or PREPAID_DATA_DIR)   embedded PouchDB on disk (default ./.data)
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT, positiveInteger, positiveNumber, storageFrom, UsageError, type CliIo } from './cli-options.js';
import { connectControl, controlSocketPath } from './control-client.js';
import { storeOperations, type PrepaidOperations } from './operations.js';
import { PrepaidDbError, PrepaidInputError, PrepaidStore } from './store.js';
import { describeError, redactUrl } from './redact.js';

export { EXIT, type CliIo } from './cli-options.js';

export const USAGE = `Usage: prepaid <command> [options]        (prepaid <command> --help: this text)

Commands
  serve                              run the outbound-socket server FreeSWITCH connects to
  account create <account>           create an account (--interval-duration seconds, required)
  account credit <account> <n>       add n intervals to an account
  account show <account>             balance, credits and charges of an account
  account list                       every account with its balance
  calls                              recent charged calls (--account A, --limit N)

Storage (every command; before or after it)
  --couch URL     CouchDB database URL, e.g. http://user:pass@host:5984/prepaid  [PREPAID_COUCH_URL]
  --data DIR      embedded database directory (default ./.data)                 [PREPAID_DATA_DIR]
  --db-timeout-ms N   bound on each database operation (default 5000)
  While \`prepaid serve\` runs on an embedded database it holds it; the account and calls
  commands then go through the server's control socket DIR/prepaid.sock (same output).

serve
  --listen HOST:PORT      where FreeSWITCH's socket application connects (default 127.0.0.1:8084)
  --allow CIDR[,CIDR]     peers allowed to connect (default: any)
  --freeswitch HOST:PORT  FreeSWITCH event socket for api fallbacks (uuid_kill when a call's own
                          socket is gone); password from FREESWITCH_PASSWORD (default ClueCon)
  --ring-check-ms N       balance re-check period while ringing (default 10000)
  --close-deadline-ms N   on SIGTERM/SIGINT, live calls go on being charged this long, then are
                          hung up (default 30000)
  --log-level LEVEL       debug|info|warn|error (default info)
  --log-format FORMAT     text (time LEVEL key=value… message) or json (one object a line)
  --admin [HOST:]PORT     admin HTTP API and live dashboard (off by default; a bare port is
                          127.0.0.1). A non-loopback HOST needs PREPAID_ADMIN_TOKEN.
  PREPAID_ADMIN_TOKEN     when set, /api/* and the dashboard need "Authorization: Bearer TOKEN"
                          (a browser logs in with any user name and the token as password)

Admin API (JSON; errors are {"error": message, "code": CODE}: 400 bad input, 401 no token,
404 unknown account, 409 account exists, 503 database down)
  GET  /                               live dashboard: live calls counting down their paid
                                       time, balances (credit from the page), recent calls
  GET  /health                         200 when accepting calls and the database answers, else 503
  GET  /metrics                        Prometheus: prepaid_live_calls, prepaid_calls_total{outcome},
                                       prepaid_intervals_charged_total,
                                       prepaid_db_operation_duration_seconds, process metrics
  GET  /api/accounts                   {"accounts": [{account, name, interval_duration, remaining, created_at}]}
  GET  /api/accounts/ID                what \`account show --json\` prints
  POST /api/accounts                   {"account", "interval_duration", "name"?, "credit"?}  → 201
  POST /api/accounts/ID/credits        {"intervals", "id"? (idempotency key), "reason"?}
                                       → 201 {applied: true, remaining, credit}; 200 when id was applied
  GET  /api/calls?account=&limit=      {"calls": [{call, account, intervals, firstChargeAt, lastChargeAt}]}
  GET  /api/calls/live                 {"calls": [{uuid, account, target, phase, intervalDuration,
                                       answeredAt, intervalsCharged, paidUntil, remaining, resumed}]}
  GET  /api/events                     server-sent events: snapshot, call, ended, balance, account
  GET  /api/server                     {"database", "listener"}

account create:  --interval-duration S  [--name NAME] [--credit N]
account credit:  [--id ID] (idempotency key: the same id applies once)  [--reason TEXT]
show / list / calls:  [--json]

Dialplan: <action application="set" data="ccnq_account=ACCOUNT"/>
          <action application="set" data="target=sofia/gateway/GW/NUMBER"/>
          <action application="socket" data="127.0.0.1:8084 async full"/>
          (async full is required: without full, FreeSWITCH refuses linger, event and api)
`;

const STORAGE_OPTIONS = {
  couch: { type: 'string' },
  data: { type: 'string' },
  'db-timeout-ms': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/**
 * Runs `fn` on the configured data. On the embedded database a running `prepaid serve` holds its
 * lock, so when one answers on the data directory's control socket the command goes through it;
 * otherwise (and always with CouchDB, which many processes share) it opens the database itself.
 */
async function withOperations<T>(values: Record<string, unknown>, io: CliIo, fn: (ops: PrepaidOperations) => Promise<T>): Promise<T> {
  const config = storageFrom(values as { couch?: string; data?: string }, io.env);
  const opTimeoutMs = positiveInteger(values['db-timeout-ms'] as string | undefined, '--db-timeout-ms');
  const remote = config.kind === 'disk' ? await connectControl(controlSocketPath(config.dataDir)) : undefined;
  const ops = remote ?? storeOperations(await PrepaidStore.open(config, opTimeoutMs === undefined ? {} : { opTimeoutMs }), { owned: true });
  try {
    return await fn(ops);
  } finally {
    await ops.close();
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
  if (sub === 'list') return listAccounts(values, io);
  const account = positionals[0];
  if (account === undefined) throw new UsageError(`account ${sub ?? ''}: which account?`);
  switch (sub) {
    case 'create': {
      const duration = positiveNumber(values['interval-duration'], '--interval-duration');
      if (duration === undefined) throw new UsageError('account create needs --interval-duration <seconds>');
      const credit = positiveInteger(values.credit, '--credit');
      return withOperations(values, io, async (ops) => {
        await ops.createAccount({
          account,
          intervalDuration: duration,
          ...(values.name === undefined ? {} : { name: values.name }),
          ...(credit === undefined ? {} : { credit }),
        });
        io.stdout(`created account ${account} (interval ${duration} s${credit ? `, ${credit} intervals` : ''}) in ${ops.description}\n`);
        return EXIT.ok;
      });
    }
    case 'credit': {
      const intervals = positiveInteger(positionals[1], 'intervals');
      if (intervals === undefined) throw new UsageError('account credit <account> <intervals>');
      return withOperations(values, io, async (ops) => {
        const { applied, remaining } = await ops.addCredit(account, {
          intervals,
          ...(values.id === undefined ? {} : { id: values.id }),
          ...(values.reason === undefined ? {} : { reason: values.reason }),
        });
        io.stdout(
          applied
            ? `credited ${intervals} intervals to ${account}; ${remaining} remaining\n`
            : `credit ${values.id} was already applied to ${account}; ${remaining} remaining\n`,
        );
        return EXIT.ok;
      });
    }
    case 'show': {
      return withOperations(values, io, async (ops) => {
        const summary = await ops.accountSummary(account);
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
      throw new UsageError(`unknown account command ${JSON.stringify(sub ?? '')} (create, credit, show, list)`);
  }
}

/** A listing: JSON with --json, else a table under `header`, or `empty` when there are no rows. */
function printListing<T>(io: CliIo, json: boolean | undefined, items: T[], empty: string, header: string[], row: (item: T) => string[]): number {
  if (json) io.stdout(JSON.stringify(items, null, 2) + '\n');
  else if (items.length === 0) io.stdout(`${empty}\n`);
  else io.stdout(table([header, ...items.map(row)]));
  return EXIT.ok;
}

function listAccounts(values: { json?: boolean } & Record<string, unknown>, io: CliIo): Promise<number> {
  return withOperations(values, io, async (ops) =>
    printListing(io, values.json, await ops.listAccounts(), 'no accounts', ['account', 'name', 'interval', 'remaining', 'created at'], (a) => [
      a.account, a.name ?? '', `${a.interval_duration} s`, String(a.remaining), a.created_at,
    ]),
  );
}

async function callsCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...STORAGE_OPTIONS, account: { type: 'string' }, limit: { type: 'string' } },
  });
  const limit = positiveInteger(values.limit, '--limit') ?? 20;
  return withOperations(values, io, async (ops) => {
    const calls = await ops.recentCalls(values.account === undefined ? { limit } : { account: values.account, limit });
    return printListing(io, values.json, calls, 'no charged calls', ['last charge', 'account', 'call', 'intervals', 'first charge'], (c) => [
      c.lastChargeAt.toISOString(), c.account, c.call, String(c.intervals), c.firstChargeAt.toISOString(),
    ]);
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
    // `prepaid serve --help`, `prepaid account create --help`: the same usage text as `prepaid --help`.
    if (command !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
      io.stdout(USAGE);
      return EXIT.ok;
    }
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
        // Loaded on demand: the account commands never need the server's modules.
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
