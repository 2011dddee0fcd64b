/** Every error the library raises: one class per condition, each with a stable `code`. */

/**
 * Every error the library raises is an EslError with a stable `code` string, so callers can
 * branch on `err.code` without parsing messages (which may be reworded between releases):
 *
 * | code | class | retriable |
 * |---|---|---|
 * | `ESL_PARSE` | EslParseError: the peer's bytes are not valid ESL | no |
 * | `ESL_INVALID_ARGUMENT` | EslInvalidArgumentError: a value that cannot be sent safely | no |
 * | `ESL_COMMAND_FAILED` | EslCommandError: FreeSWITCH answered `-ERR …` | no |
 * | `ESL_AUTH_FAILED` | EslAuthError: wrong password or user | no |
 * | `ESL_ACCESS_DENIED` | EslAccessDeniedError: refused by the server's ACL | no |
 * | `ESL_CONNECTION_CLOSED` | EslConnectionClosedError: the connection went away | yes |
 * | `ESL_CONNECT_FAILED` | EslConnectError: could not connect | yes |
 * | `ESL_OUT_OF_SYNC` | EslOutOfSyncError: a reply of the wrong type, pairing lost | yes |
 * | `ESL_TIMEOUT` | EslTimeoutError: no reply or result in time | yes |
 * | `ESL_ABORTED` | EslAbortError: the caller's signal aborted it | no |
 * | `ESL_HANGUP` | EslHangupError: the channel hung up first | no |
 * | `ESL_SERVER` | EslServerError: the outbound server or call session was used in a state that does not allow it | no |
 *
 * `retriable` is the one rule for "may succeed on a fresh connection": the client's reconnect
 * reads it (see isRetriable).
 */
export type EslErrorCode =
  | 'ESL_PARSE'
  | 'ESL_INVALID_ARGUMENT'
  | 'ESL_COMMAND_FAILED'
  | 'ESL_AUTH_FAILED'
  | 'ESL_ACCESS_DENIED'
  | 'ESL_CONNECTION_CLOSED'
  | 'ESL_CONNECT_FAILED'
  | 'ESL_OUT_OF_SYNC'
  | 'ESL_TIMEOUT'
  | 'ESL_ABORTED'
  | 'ESL_HANGUP'
  | 'ESL_SERVER';

export class EslError extends Error {
  readonly code: EslErrorCode;
  /** True when the same operation may succeed if tried again on a fresh connection. */
  readonly retriable: boolean;

  constructor(code: EslErrorCode, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options?.retriable ?? false;
  }
}

/** The byte stream from the peer is not valid ESL framing (or exceeds a configured limit). */
export class EslParseError extends EslError {
  constructor(message: string) {
    super('ESL_PARSE', message);
  }
}

/**
 * A caller-supplied value cannot be sent safely: most often a CR or LF inside a command argument
 * or header, which would end the command early and let the rest be read as a second command.
 */
export class EslInvalidArgumentError extends EslError {
  constructor(message: string) {
    super('ESL_INVALID_ARGUMENT', message);
  }
}

/** FreeSWITCH answered `-ERR ...` (as a command/reply Reply-Text or an api/response body). */
export class EslCommandError extends EslError {
  /** The full reply text as FreeSWITCH sent it, e.g. `-ERR invalid session id [abc]`. */
  readonly reply: string;
  /** The command that was sent (arguments included; never carries a password). */
  readonly command: string;

  constructor(command: string, reply: string) {
    super('ESL_COMMAND_FAILED', `${commandLabel(command)} failed: ${reply.trim()}`);
    this.reply = reply;
    this.command = command;
  }
}

/**
 * The command's name for a message, without its arguments (they may be long or private): the first
 * word, and for api and bgapi the api command after it ("api originate").
 */
function commandLabel(command: string): string {
  const words = command.split(' ', 2);
  const first = words[0] ?? command;
  return words.length > 1 && (first === 'api' || first === 'bgapi') ? `${first} ${words[1]}` : first;
}

/** Authentication was refused. Terminal: retrying with the same credentials cannot help. */
export class EslAuthError extends EslError {
  readonly reply: string;
  constructor(reply: string) {
    super('ESL_AUTH_FAILED', `authentication failed: ${reply.trim()}`);
    this.reply = reply;
  }
}

/** The server rejected this peer by ACL (`text/rude-rejection`). */
export class EslAccessDeniedError extends EslError {
  readonly reply: string;
  constructor(reply: string) {
    super('ESL_ACCESS_DENIED', `access denied by server: ${reply.trim()}`);
    this.reply = reply;
  }
}

/**
 * The connection went away while an operation was pending. Retriable: the operation was never
 * answered, so it may or may not have run; the library never resends it on its own.
 */
export class EslConnectionClosedError extends EslError {
  constructor(message = 'connection closed', options?: { cause?: unknown }) {
    super('ESL_CONNECTION_CLOSED', message, { cause: options?.cause, retriable: true });
  }
}

/** Could not establish the TCP connection (refused, unreachable, connect timeout). */
export class EslConnectError extends EslError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ESL_CONNECT_FAILED', message, { cause: options?.cause, retriable: true });
  }
}

/** A reply arrived whose type does not match the oldest pending command: pairing is lost. */
export class EslOutOfSyncError extends EslError {
  constructor(message: string) {
    super('ESL_OUT_OF_SYNC', message, { retriable: true });
  }
}

export class EslTimeoutError extends EslError {
  constructor(message: string) {
    super('ESL_TIMEOUT', message, { retriable: true });
  }
}

export class EslAbortError extends EslError {
  constructor(message = 'operation aborted', options?: { cause?: unknown }) {
    super('ESL_ABORTED', message, { cause: options?.cause });
  }
}

/** The channel hung up before the operation completed. */
export class EslHangupError extends EslError {
  /** FreeSWITCH hangup cause, e.g. NORMAL_CLEARING, when known. */
  readonly hangupCause: string | undefined;
  constructor(hangupCause: string | undefined, message?: string) {
    super('ESL_HANGUP', message ?? `channel hung up${hangupCause ? ` (${hangupCause})` : ''}`);
    this.hangupCause = hangupCause;
  }
}

/**
 * The outbound server or a call session was asked for something its state does not allow:
 * listen() twice or after close(), channel data before `connect` was answered, a session started
 * twice.
 */
export class EslServerError extends EslError {
  constructor(message: string) {
    super('ESL_SERVER', message);
  }
}

/** True when `err` is an EslError marked retriable: the same operation may succeed on a fresh connection. */
export function isRetriable(err: unknown): boolean {
  return err instanceof EslError && err.retriable;
}
