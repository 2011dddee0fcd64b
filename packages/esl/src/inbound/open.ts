/** Opening one inbound connection: TCP connect, `auth`/`userauth`, and the typed failures of each step. */
import { connect as netConnect } from 'node:net';
import { Connection, replyText } from '../transport/connection.js';
import {
  EslAbortError,
  EslAccessDeniedError,
  EslAuthError,
  EslConnectError,
  EslError,
  EslInvalidArgumentError,
} from '../errors.js';
import type { Frame } from '../protocol/frame.js';
import type { ParserOptions } from '../protocol/parser.js';
import { serializeCommand } from '../protocol/serializer.js';

export interface OpenOptions extends ParserOptions {
  host: string;
  port: number;
  /** For `userauth user@domain:password`; plain `auth` when absent. */
  user: string | undefined;
  connectTimeout: number;
  signal: AbortSignal | undefined;
}

/** What `userauth` granted (its extra reply headers); undefined fields were not sent. */
export interface Permissions {
  allowedEvents: string | undefined;
  allowedApi: string | undefined;
  allowedLog: string | undefined;
}

export interface OpenResult {
  conn: Connection;
  permissions: Permissions | undefined;
}

const LINE_BREAK = /[\r\n]/;

/**
 * Builds the auth command without ever letting the secret reach an error message: the protocol
 * builders quote the offending text when they refuse a line break, so the checks happen here.
 */
function authBytes(user: string | undefined, password: string): Buffer {
  if (LINE_BREAK.test(password)) throw new EslInvalidArgumentError('password must not contain CR or LF');
  if (user === undefined) return serializeCommand(`auth ${password}`);
  if (LINE_BREAK.test(user) || /\s/.test(user) || user.length === 0) {
    throw new EslInvalidArgumentError('user must be a non-empty user@domain without whitespace');
  }
  return serializeCommand(`userauth ${user}:${password}`);
}

/**
 * Opens a TCP connection and authenticates: waits for `auth/request`, sends `auth` (or
 * `userauth`), and checks for `+OK accepted`. The whole exchange is bounded by connectTimeout.
 *
 * Failures: EslConnectError (refused, timeout, closed before auth; retriable), EslAuthError (wrong
 * password; terminal), EslAccessDeniedError (ACL `text/rude-rejection`; terminal), EslAbortError.
 */
export function openAuthenticated(o: OpenOptions, password: string): Promise<OpenResult> {
  let auth: Buffer;
  try {
    auth = authBytes(o.user, password);
  } catch (err) {
    return Promise.reject(err);
  }
  if (o.signal?.aborted) return Promise.reject(new EslAbortError('connect aborted', { cause: o.signal.reason }));
  const where = `${o.host}:${o.port}`;
  return new Promise<OpenResult>((resolve, reject) => {
    const socket = netConnect({ host: o.host, port: o.port });
    const conn = new Connection(socket, { maxHeaderBytes: o.maxHeaderBytes, maxBodyBytes: o.maxBodyBytes });
    let settled = false;
    let tcpUp = false;
    let rejection: string | undefined;
    let notice: string | undefined;

    const finish = (err: Error | undefined, result?: OpenResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      conn.off('auth-request', onAuthRequest);
      conn.off('rude-rejection', onRude);
      conn.off('disconnect-notice', onNotice);
      conn.off('close', onClose);
      if (err !== undefined) {
        conn.destroy();
        reject(err);
      } else resolve(result!);
    };
    const onAbort = () => finish(new EslAbortError('connect aborted', { cause: o.signal?.reason }));
    const onRude = (frame: Frame) => {
      // ACL denial: FreeSWITCH follows it with a disconnect notice and closes (MES listener_run).
      rejection = frame.bodyText;
      finish(new EslAccessDeniedError(rejection));
    };
    const onNotice = (frame: Frame) => {
      notice = frame.bodyText.split('\n')[0];
    };
    const onClose = (err: EslError | undefined) => {
      if (!tcpUp) {
        const cause = err?.cause instanceof Error ? err.cause : err;
        finish(new EslConnectError(`cannot connect to ${where}: ${cause?.message ?? 'closed'}`, { cause: err }));
        return;
      }
      const why = notice ? `: server said "${notice}"` : err ? `: ${err.message}` : '';
      finish(new EslConnectError(`connection to ${where} closed before authentication${why}`, { cause: err }));
    };
    const onAuthRequest = () => {
      conn.off('auth-request', onAuthRequest);
      // Label without the secret: it ends up in timeout and close messages.
      conn.send(auth, 'command/reply', o.user === undefined ? 'auth' : 'userauth').then(
        (reply) => {
          const text = replyText(reply);
          if (!text.startsWith('+OK')) {
            finish(new EslAuthError(text));
            return;
          }
          const permissions =
            o.user === undefined
              ? undefined
              : {
                  allowedEvents: reply.get('Allowed-Events'),
                  allowedApi: reply.get('Allowed-API'),
                  allowedLog: reply.get('Allowed-LOG'),
                };
          finish(undefined, { conn, permissions });
        },
        (err: Error) => {
          finish(new EslConnectError(`connection to ${where} lost during authentication: ${err.message}`, { cause: err }));
        },
      );
    };
    const timer = setTimeout(() => {
      const stage = socket.connecting ? 'TCP connect' : 'authentication';
      finish(new EslConnectError(`connect to ${where} timed out after ${o.connectTimeout} ms (${stage})`));
    }, o.connectTimeout);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      tcpUp = true;
    });
    conn.on('auth-request', onAuthRequest);
    conn.on('rude-rejection', onRude);
    conn.on('disconnect-notice', onNotice);
    conn.on('close', onClose);
  });
}
