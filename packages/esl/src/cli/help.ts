import { readFileSync } from 'node:fs';
import { ENV } from './config.js';
import { EXIT_CODE_HELP } from './exit-codes.js';
import { SIMULATE_DEFAULT_PORT } from './args.js';

export const MAIN_HELP = `fs-esl - FreeSWITCH Event Socket command line (fs_cli for Node)

Usage:
  fs-esl [options] [profile]            interactive console
  fs-esl [options] -x COMMAND [-x ...]  run api commands, print the results, exit
  fs-esl [options] --events "NAME ..."  print events as they arrive (Ctrl-C to stop)
  fs-esl simulate [options]             run the FreeSWITCH simulator (fs-esl simulate --help)

Connection:
  -H, --host HOST              FreeSWITCH host (default 127.0.0.1)
  -P, --port PORT              event socket port (default 8021)
  -p, --password PASSWORD      password (default ClueCon)
  -u, --user USER@DOMAIN       log in with userauth as this user (password from -p)
  -T, --connect-timeout MS     give up connecting after MS milliseconds (default 10000; 5s, 1m work too)
  -t, --timeout MS             give up on a command with no reply after MS milliseconds (default: wait)
  -r, --retry                  keep retrying the first connection (every second, up to 120 times)
  -R, --reconnect              reconnect if the connection drops (console and --events)
  -c, --config FILE            read settings from FILE (see "Settings" below)
      --profile NAME           use the named profile from the config file (or give NAME as the argument)

Commands and output:
  -x, --execute COMMAND        run an api command and print its output; repeat for several, in order
  -e, --events "NAME ..."      subscribe to these events and print them (ALL, CUSTOM sub::class, ...)
      --filter "HEADER VALUE"  with --events: only events whose HEADER is VALUE (repeatable)
      --full                   print events with every header instead of one line each
      --format plain|json      how events and logs are printed (default plain)
      --json                   machine-readable output: one JSON object per line (also for -x)
  -d, --debug LEVEL            show server log lines up to LEVEL: 0-7 or console, alert, crit, err,
                               warning, notice, info, debug (console default: debug)
  -q, --quiet                  no server log lines in the console
  -b, --batch                  batch mode: no prompt, banner or line editing (as when stdin is not a terminal)
  -n, --no-color               no colours (also NO_COLOR=1); --color forces them
      --no-history             do not read or write the console history file
  -h, --help                   this help
  -v, --version                print the version

Console: type api commands (status, show channels, reloadxml, ...) or slash commands:
  /help /exit /quit /bye ... /event /nixevent /noevents /filter /log /nolog /bgapi /full
  Tab completes commands; history is kept in ~/.fs_esl_history. Ctrl-C clears the line,
  Ctrl-C on an empty line or Ctrl-D leaves.

Settings (highest wins): command-line flags > environment > config file > defaults.
  Environment: ${ENV.host}, ${ENV.port}, ${ENV.password}, ${ENV.user}, ${ENV.timeout},
               ${ENV.connectTimeout}, ${ENV.logLevel}, ${ENV.config} (config file path),
               ${ENV.history} (history file, or "off"), NO_COLOR
  Config file: --config FILE, else $${ENV.config}, else ./.fs-esl.json, else
               ~/.config/fs-esl/config.json. JSON, e.g.
               {"host": "10.0.0.5", "port": 8021, "password": "secret", "timeout": 5000,
                "profiles": {"lab": {"host": "127.0.0.1"}}}

${EXIT_CODE_HELP}

Examples:
  fs-esl -x reloadxml
  fs-esl -H pbx.example.com -p secret -x status -x "show channels count"
  fs-esl --events "CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE" --json
  FS_ESL_PASSWORD=secret fs-esl
`;

export const SIMULATE_HELP = `fs-esl simulate - run the FreeSWITCH simulator (an in-process fake FreeSWITCH event socket)

Usage:
  fs-esl simulate [options]

Options:
  -H, --host HOST              address to listen on (default 127.0.0.1)
  -P, --port PORT              port to listen on (default ${SIMULATE_DEFAULT_PORT}; 0 lets the system choose)
  -p, --password PASSWORD      password clients must send (default: as for the client, usually ClueCon)
  -o, --outbound HOST:PORT     place demo calls to this outbound-socket server (your app)
  -n, --calls N                how many demo calls to place (default 1 with --outbound)
      --interval MS            time between demo calls (default 1000)
      --destination NUMBER     destination number of the demo calls (default 9999)
      --answer-after MS        answer each demo call after MS milliseconds
      --hangup-after MS        hang each demo call up after MS milliseconds
      --var NAME=VALUE         set this channel variable on each demo call (repeatable)
      --json                   print status as JSON lines (the first one has host and port)
  -h, --help                   this help

It runs until Ctrl-C. Connect to it with the printed command, e.g.
  fs-esl -H 127.0.0.1 -P ${SIMULATE_DEFAULT_PORT} -p ClueCon

Exit status: 0 after Ctrl-C, 2 usage error, 3 cannot listen (port in use, ...) or place calls.
`;

/** The package version, from the package.json three levels up from dist/src/cli/. */
export function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
    const pkg = JSON.parse(text) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
