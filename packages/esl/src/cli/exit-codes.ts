import {
  EslAccessDeniedError,
  EslAuthError,
  EslCommandError,
  EslConnectError,
  EslConnectionClosedError,
  EslError,
  EslInvalidArgumentError,
  EslTimeoutError,
} from '../errors.js';
import { UsageError } from './args.js';

/** fs-esl's exit statuses; documented in --help and the README. Stable: scripts branch on them. */
export const ExitCode = {
  OK: 0,
  /** FreeSWITCH answered -ERR (or -USAGE) to a command. */
  COMMAND_FAILED: 1,
  /** Bad option, setting or config file. */
  USAGE: 2,
  /** Could not connect: refused, unreachable, name not found, connect timeout. */
  CONNECT_FAILED: 3,
  /** Wrong password or user, or refused by the server's ACL. */
  AUTH_FAILED: 4,
  /** A command got no reply within -t/--timeout. */
  TIMEOUT: 5,
  /** The connection dropped while working. */
  CONNECTION_LOST: 6,
  /** A bug in fs-esl itself. */
  INTERNAL: 70,
  /** Interrupted (Ctrl-C) while a command was running. */
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The abort reason the bin gives when the reader of stdout goes away (`fs-esl -x … | head -1`). */
export const OUTPUT_CLOSED = 'EPIPE';

/**
 * The status of a run stopped while a command was running. Ctrl-C is 130. A reader closing our
 * output is a normal way to stop, as `head` expects of any Unix tool: fs-esl stops quietly with
 * the status of what ran before (`soFar`, 0 when all of it succeeded) rather than dying of SIGPIPE
 * (141) or reporting an interruption nobody asked for.
 */
export function stoppedStatus(signal: AbortSignal | undefined, soFar: ExitCodeValue): ExitCodeValue {
  return signal?.reason === OUTPUT_CLOSED ? soFar : ExitCode.INTERRUPTED;
}

export const EXIT_CODE_HELP = `Exit status:
  0    success
  1    FreeSWITCH answered -ERR to a command
  2    usage error: bad option, setting or config file
  3    cannot connect: connection refused, host unreachable, connect timeout
  4    authentication failed (wrong password or user) or access denied by ACL
  5    timeout: no reply within -t/--timeout
  6    connection lost
  130  interrupted (Ctrl-C) while a command was running
A reader that closes the output (fs-esl -x ... | head -1) stops fs-esl quietly, with the status
of the commands that ran until then.`;

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is FreeSWITCH running with mod_event_socket on that port?)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (temporary)',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'connection closed by peer',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this machine',
  EACCES: 'permission denied',
};

/** Finds a Node system error code (ECONNREFUSED, ...) on the error or along its cause chain. */
export function systemErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== undefined && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code) && !code.startsWith('ESL_')) return code;
    // AggregateError from happy-eyeballs connects carries the per-address errors.
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = systemErrorCode(errors[0]);
      if (inner !== undefined) return inner;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface DescribedError {
  exitCode: ExitCodeValue;
  /** One line (or a few) for stderr: never a stack trace. */
  message: string;
  /** Stable machine-readable code for --json output. */
  code: string;
}

/**
 * Maps any failure to an exit status and a message a person can act on. `target` names the
 * server ("127.0.0.1:8021") for connection failures.
 */
export function describeError(err: unknown, target?: string): DescribedError {
  const at = target === undefined ? '' : ` ${target}`;
  if (err instanceof UsageError) return { exitCode: ExitCode.USAGE, code: 'USAGE', message: err.message };
  // A command the library refused to send (a line break in it, say): the input is at fault.
  if (err instanceof EslInvalidArgumentError) return { exitCode: ExitCode.USAGE, code: err.code, message: err.message };
  if (err instanceof EslCommandError) {
    return { exitCode: ExitCode.COMMAND_FAILED, code: err.code, message: err.reply.trim() || err.message };
  }
  if (err instanceof EslAuthError) {
    return {
      exitCode: ExitCode.AUTH_FAILED,
      code: err.code,
      message: `authentication failed at${at}: ${err.reply.trim() || 'rejected'} (check the password / user)`,
    };
  }
  if (err instanceof EslAccessDeniedError) {
    return {
      exitCode: ExitCode.AUTH_FAILED,
      code: err.code,
      message: `access denied by${at || ' the server'}: its ACL does not allow this address (apply-inbound-acl)`,
    };
  }
  if (err instanceof EslConnectError) {
    const sys = systemErrorCode(err);
    // The client's own messages repeat the address ("connect to h:p timed out ..."): keep the reason.
    const reason = sys !== undefined && SOCKET_ERRORS[sys] !== undefined ? SOCKET_ERRORS[sys] : err.message.replace(/^(connect|connection) to \S+ /, '');
    return { exitCode: ExitCode.CONNECT_FAILED, code: err.code, message: `cannot connect to${at}: ${reason}` };
  }
  if (err instanceof EslTimeoutError) {
    return { exitCode: ExitCode.TIMEOUT, code: err.code, message: `timeout: ${err.message}` };
  }
  if (err instanceof EslConnectionClosedError) {
    return { exitCode: ExitCode.CONNECTION_LOST, code: err.code, message: `connection to${at || ' the server'} lost: ${err.message}` };
  }
  if (err instanceof EslError) {
    return { exitCode: ExitCode.COMMAND_FAILED, code: err.code, message: err.message };
  }
  const sys = systemErrorCode(err);
  if (sys !== undefined) {
    const reason = SOCKET_ERRORS[sys] ?? (err as Error).message;
    return { exitCode: ExitCode.CONNECT_FAILED, code: sys, message: `cannot connect to${at}: ${reason}` };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { exitCode: ExitCode.INTERNAL, code: 'INTERNAL', message: `internal error: ${message}` };
}
