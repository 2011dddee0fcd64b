import type { LogRecord } from '../transport/connection.js';
import type { EslEvent } from '../protocol/event.js';
import type { EventFormatName } from './console-commands.js';

/**
 * What the CLI needs from a connection, in its own terms: every command resolves with the text
 * FreeSWITCH replied (what fs_cli prints) and rejects with the library's typed errors. The
 * console, one-shot and tail modes are written against this, and `openSession` (client-session.ts)
 * adapts the inbound client to it.
 */
export interface EslSession {
  /** api/response body; rejects with EslCommandError on -ERR. */
  api(command: string, timeout?: number): Promise<string>;
  /** A background job with this Job-UUID; settles with the BACKGROUND_JOB body. */
  bgapi(command: string, jobUuid: string, timeout?: number): Promise<string>;
  event(format: EventFormatName, names: readonly string[]): Promise<string>;
  nixevent(names: readonly string[]): Promise<string>;
  noevents(): Promise<string>;
  filter(header: string, value: string): Promise<string>;
  filterDelete(header: string, value?: string): Promise<string>;
  log(level: number): Promise<string>;
  nolog(): Promise<string>;

  onEvent(listener: (ev: EslEvent) => void): void;
  onLog(listener: (rec: LogRecord) => void): void;
  /** Connection state changes worth telling the user about (reconnecting, reconnected). */
  onNotice(listener: (message: string) => void): void;
  /** The session is over for good (no more reconnects); `err` says why when it was not close(). */
  onEnd(listener: (err: Error | undefined) => void): void;

  /** Polite close (`exit`), bounded in time. */
  close(): Promise<void>;
  /** Immediate close; pending commands reject. */
  destroy(): void;
}
