import { Simulator } from '../testing/index.js';
import type { SimulateArgs } from './args.js';
import { resolveSettings } from './config.js';
import { describeError, ExitCode, systemErrorCode } from './exit-codes.js';
import { makeColors, shouldUseColor } from './format.js';

/** What `fs-esl simulate` uses of the command line's environment (a part of RunIO). */
export interface SimulateIO {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  home: string;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborted on SIGINT/SIGTERM: the simulator stops. */
  signal: AbortSignal;
}

/**
 * `fs-esl simulate`: runs the FreeSWITCH simulator until interrupted, prints how to connect, and
 * optionally places demo calls whose dialplan hands them to an outbound-socket server.
 */
export async function runSimulate(args: SimulateArgs, io: SimulateIO): Promise<number> {
  // The password follows the client's settings (flag > env > config > ClueCon) so that a bare
  // `fs-esl` in another terminal, reading the same settings, gets in.
  const settings = resolveSettings(
    { ...(args.password !== undefined ? { password: args.password } : {}), ...(args.config !== undefined ? { config: args.config } : {}), ...(args.profile !== undefined ? { profile: args.profile } : {}) },
    { env: io.env, cwd: io.cwd, home: io.home },
  );
  const password = settings.password;
  const c = makeColors(shouldUseColor(args.color, io.stdout.isTTY === true, io.env));
  const say = (text: string, json: Record<string, unknown>) => {
    io.stdout.write(args.json ? `${JSON.stringify(json)}\n` : `${text}\n`);
  };

  let sim: Simulator;
  try {
    sim = await Simulator.start({ host: args.host, port: args.port, password });
  } catch (e) {
    const sys = systemErrorCode(e);
    const where = `${args.host}:${args.port}`;
    const reason =
      sys === 'EADDRINUSE'
        ? `port ${args.port} is in use (a FreeSWITCH or another simulator?); choose one with --port, or --port 0`
        : sys === 'EADDRNOTAVAIL'
          ? `${args.host} is not an address of this machine`
          : sys === 'EACCES'
            ? `not allowed to listen on port ${args.port}`
            : (e as Error).message;
    io.stderr.write(`fs-esl: cannot listen on ${where}: ${reason}\n`);
    return ExitCode.CONNECT_FAILED;
  }

  const host = args.host;
  const port = sim.port;
  const hostArg = host.includes(':') ? `[${host}]` : host;
  const connectCommand = `fs-esl -H ${hostArg} -P ${port} -p ${shellQuote(password)}`;
  say(
    [
      `${c.bold('FreeSWITCH simulator')} listening on ${c.cyan(`${hostArg}:${port}`)} (password ${password})`,
      `Connect with:  ${c.bold(connectCommand)}`,
      `          or:  ${connectCommand} -x status`,
      'Ctrl-C to stop.',
    ].join('\n'),
    { type: 'listening', host, port, password, connect: connectCommand },
  );

  const stopped = new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });

  let status: number = ExitCode.OK;
  if (args.outbound !== undefined && args.calls > 0) {
    const target = `${args.outbound.host.includes(':') ? `[${args.outbound.host}]` : args.outbound.host}:${args.outbound.port}`;
    for (let i = 1; i <= args.calls && !io.signal.aborted; i++) {
      try {
        const uuid = await sim.originate({
          destination: args.destination,
          socket: `${target} async full`,
          variables: args.variables,
          ...(args.answerAfter !== undefined ? { answerAfterMs: args.answerAfter } : {}),
          ...(args.hangupAfter !== undefined ? { hangupAfterMs: args.hangupAfter } : {}),
        });
        say(`call ${i}/${args.calls}: ${uuid} to ${args.destination}, handed to the outbound server at ${target}`, {
          type: 'call', n: i, of: args.calls, uuid, destination: args.destination, outbound: target, variables: args.variables,
        });
      } catch (e) {
        const d = describeError(e, target);
        io.stderr.write(`fs-esl: demo call ${i} failed: ${d.message}\n`);
        status = ExitCode.CONNECT_FAILED;
        break;
      }
      if (i < args.calls) {
        await Promise.race([stopped, new Promise<void>((r) => setTimeout(r, args.interval).unref())]);
      }
    }
  }

  await stopped;
  await sim.stop();
  say('simulator stopped', { type: 'stopped' });
  return status;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
