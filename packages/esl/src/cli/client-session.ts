import { connect, type EslClient, type ReconnectAttempt } from '../inbound/client.js';
import type { LogRecord } from '../transport/connection.js';
import { EslConnectionClosedError } from '../errors.js';
import type { EslEvent } from '../protocol/event.js';
import type { LogLevel } from '../protocol/serializer.js';
import type { Settings } from './config.js';
import type { EslSession } from './session.js';

/** How long a polite close (`exit`, wait for the goodbye) may take before the socket is cut. */
const CLOSE_TIMEOUT_MS = 2000;

/** Connects with the inbound client and adapts it to what the CLI modes use. */
export async function openSession(settings: Settings, signal: AbortSignal): Promise<EslSession> {
  const client = await connect({
    host: settings.host,
    port: settings.port,
    password: settings.password,
    ...(settings.user !== undefined ? { user: settings.user } : {}),
    connectTimeout: settings.connectTimeout > 0 ? settings.connectTimeout : 2_147_483_647,
    ...(settings.timeout !== undefined ? { timeout: settings.timeout } : {}),
    reconnect: settings.reconnect,
    closeTimeout: CLOSE_TIMEOUT_MS,
    signal,
  });
  return new ClientSession(client);
}

export class ClientSession implements EslSession {
  /** Set when we close: any other end of the client means the server or the network ended it. */
  private closing = false;

  constructor(readonly client: EslClient) {
    // Failures also arrive as rejected commands and the 'close' reason; without a listener
    // EventEmitter would throw them.
    client.on('error', () => undefined);
  }

  api(command: string, timeout?: number): Promise<string> {
    return this.client.api(command, timeout === undefined ? undefined : { timeout });
  }

  bgapi(command: string, jobUuid: string, timeout?: number): Promise<string> {
    return this.client.bgapi(command, { jobUuid, ...(timeout !== undefined ? { timeout } : {}) });
  }

  event(format: 'plain' | 'json' | 'xml', names: readonly string[]): Promise<string> {
    return this.client.subscribe(names, format);
  }

  nixevent(names: readonly string[]): Promise<string> {
    return this.client.unsubscribe(names);
  }

  noevents(): Promise<string> {
    return this.client.noevents();
  }

  filter(header: string, value: string): Promise<string> {
    return this.client.filter(header, value);
  }

  filterDelete(header: string, value?: string): Promise<string> {
    return this.client.filterDelete(header, value);
  }

  log(level: number): Promise<string> {
    return this.client.log(level as LogLevel);
  }

  nolog(): Promise<string> {
    return this.client.nolog();
  }

  onEvent(listener: (ev: EslEvent) => void): void {
    this.client.on('event', listener);
  }

  onLog(listener: (rec: LogRecord) => void): void {
    this.client.on('log', listener);
  }

  onNotice(listener: (message: string) => void): void {
    this.client.on('reconnecting', (a: ReconnectAttempt) => {
      const why = a.error ? `: ${a.error.message}` : '';
      listener(`connection lost${why}; reconnecting in ${a.delay} ms (attempt ${a.attempt})`);
    });
    this.client.on('reconnect', () => listener('reconnected; subscriptions, filters and log level restored'));
  }

  onEnd(listener: (err: Error | undefined) => void): void {
    this.client.on('close', (err: Error | undefined) => {
      listener(err ?? (this.closing ? undefined : new EslConnectionClosedError('connection closed by the server')));
    });
  }

  close(): Promise<void> {
    this.closing = true;
    return this.client.close();
  }

  destroy(): void {
    this.closing = true;
    this.client.destroy();
  }
}
