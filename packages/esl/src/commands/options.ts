/** Options taken by the commands both the inbound client and the outbound call session send. */
import type { HeaderInput } from '../protocol/serializer.js';

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

/** Options for `execute` and the convenience methods built on it. */
export interface ExecuteOptions {
  /** Event-UUID to send (comes back as Application-UUID). Default: a random UUID. */
  eventUuid?: string;
  /** Run with CF_EVENT_LOCK: later queued messages wait until this application returns. */
  eventLock?: boolean;
  /**
   * `async: true` on the sendmsg: in a sync (static) outbound socket the message is queued instead
   * of run inline, so its `+OK` comes at once. Ignored where messages are always queued.
   */
  async?: boolean;
  /** Repeat count; negative repeats until hangup (switch_ivr_parse_event). The promise settles after the last iteration. */
  loops?: number;
  /** Hold music for the bridged partner while the application runs. */
  holdBleg?: boolean;
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
