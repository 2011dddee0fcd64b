/** Options taken by the commands both the inbound client and the outbound call session send. */
import type { ExecuteOptions as ExecuteMessageOptions, HeaderInput } from '../protocol/serializer.js';

export interface CommandOptions {
  /** Reply timeout, ms (0 = none). Defaults to the connection's `timeout` (none on a call session). The command may still run. */
  timeout?: number;
  signal?: AbortSignal;
}

export interface ApiOptions extends CommandOptions {
  /** Resolve with `-ERR …` text instead of rejecting with EslCommandError. */
  raw?: boolean;
}

export interface BgapiOptions extends ApiOptions {
  /** Reject if the BACKGROUND_JOB result has not arrived this long after sending, ms. Default none. */
  completionTimeout?: number;
  /** Job-UUID to send (default: a random UUID). FreeSWITCH keeps at most 36 characters. */
  jobUuid?: string;
}

/**
 * Options for `execute` and the convenience methods built on it: those of the sendmsg itself
 * (eventUuid, default a random UUID; eventLock; async; loops, after whose last iteration the
 * promise settles; holdBleg), plus how long to wait.
 */
export interface ExecuteOptions extends ExecuteMessageOptions {
  /**
   * Timeout for the sendmsg `+OK`, ms. Default: the connection's `timeout`. In a sync outbound
   * socket FreeSWITCH sends it only once the application returned.
   */
  timeout?: number;
  /** Same as `timeout`. */
  replyTimeout?: number;
  /** Timeout for CHANNEL_EXECUTE_COMPLETE, ms. Default none (a 3-minute playback must finish). */
  completionTimeout?: number;
  signal?: AbortSignal;
}

/** Options of `sendCommand`: a raw command line with optional headers and body. */
export interface SendCommandOptions extends ApiOptions {
  headers?: HeaderInput;
  body?: string | Buffer;
}
