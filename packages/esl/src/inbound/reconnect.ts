/** The inbound client's reconnection: backoff between attempts, and restoring filters, subscriptions and log level on the fresh connection. */
import { setTimeout as sleep } from 'node:timers/promises';
import { wordsAfterCommand } from '../commands/command-layer.js';
import { EslAbortError, EslCommandError, EslConnectError, isRetriable } from '../errors.js';
import { commands, serializeCommand, type LogLevel } from '../protocol/serializer.js';
import { backoffDelay, type ResolvedReconnectOptions } from './backoff.js';
import type { ClientState } from './event-streams.js';
import type { InternalSubscriptions, LinkSender } from './internal-subscriptions.js';
import type { Link } from './link.js';
import type { OpenResult } from './open.js';
import type { FilterModel, SubscriptionModel } from './subscriptions.js';

export interface ReconnectAttempt {
  /** 1-based count of attempts since the last stable connection. */
  attempt: number;
  /** Wait before this attempt, ms (backoff with jitter). */
  delay: number;
  /** Why the previous attempt (or the link) failed. */
  error: Error | undefined;
}

/** What the reconnect loop needs from the client. */
export interface ReconnectHost {
  readonly state: ClientState;
  /** Opens and authenticates one connection. */
  open(signal: AbortSignal | undefined): Promise<OpenResult>;
  /** Wraps an opened connection in a link (listeners attached; not current yet). */
  wrap(opened: OpenResult): Link;
  /** Replays the user's state on a fresh link. */
  restore(link: Link): Promise<void>;
  /** Makes the link current and reports `connected`. */
  adopt(link: Link): void;
  /** Closes the client for good. */
  finalize(err: Error | undefined): void;
  attempting(info: ReconnectAttempt): void;
  reconnected(): void;
}

/** The user's state a fresh connection gets back, and how to send it. */
export interface RestoreState {
  readonly subs: SubscriptionModel;
  readonly filters: FilterModel;
  readonly internal: InternalSubscriptions;
  readonly logLevel: LogLevel | undefined;
  readonly send: LinkSender;
  /** A restore command the server refused (it is skipped). */
  report(err: Error): void;
}

export function abortError(what: string, signal: AbortSignal | undefined): EslAbortError {
  return new EslAbortError(`${what} aborted`, { cause: signal?.reason });
}

/**
 * Retries with backoff, deciding with the one retriable rule (`EslError.retriable`): a refused
 * login, an ACL refusal or a parse error ends the client instead.
 */
export class Reconnector {
  private attempt = 0;
  private abortController: AbortController | undefined;

  constructor(
    private readonly options: ResolvedReconnectOptions,
    private readonly host: ReconnectHost,
  ) {}

  /** The first connection; retried with backoff only when `reconnect.initial` asks for it. */
  async first(signal: AbortSignal | undefined): Promise<OpenResult> {
    const o = this.options;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.host.open(signal);
      } catch (err) {
        if (!o.initial || !isRetriable(err)) throw err;
        if (attempt >= o.maxAttempts) {
          throw new EslConnectError(`gave up connecting after ${attempt} attempt${attempt === 1 ? '' : 's'}`, { cause: err });
        }
        try {
          await sleep(backoffDelay(attempt, o), undefined, { signal });
        } catch {
          throw abortError('connect', signal);
        }
      }
    }
  }

  /** Only a connection that stays up resets the backoff, so a flapping server is not hammered. */
  watchStability(link: Link): void {
    link.stableTimer = setTimeout(() => {
      this.attempt = 0;
    }, this.options.stableAfter);
    link.stableTimer.unref();
  }

  /** Stops a running loop (close() or destroy()). */
  abort(): void {
    this.abortController?.abort();
    this.abortController = undefined;
  }

  /** Reconnects until it succeeds, gives up, or the client leaves the `reconnecting` state. */
  async run(firstError: Error): Promise<void> {
    const o = this.options;
    const host = this.host;
    let lastError: Error | undefined = firstError;
    const abort = new AbortController();
    this.abortController = abort;
    while (host.state === 'reconnecting') {
      this.attempt++;
      if (this.attempt > o.maxAttempts) {
        host.finalize(new EslConnectError(`gave up reconnecting after ${o.maxAttempts} attempts`, { cause: lastError }));
        return;
      }
      const delay = backoffDelay(this.attempt, o);
      host.attempting({ attempt: this.attempt, delay, error: lastError });
      try {
        await sleep(delay, undefined, { signal: abort.signal });
      } catch {
        return; // close() or destroy() during the wait
      }
      if (host.state !== 'reconnecting') return;
      let link: Link;
      try {
        const opened = await host.open(abort.signal);
        if (host.state !== 'reconnecting') {
          opened.conn.destroy();
          return;
        }
        link = host.wrap(opened);
      } catch (err) {
        if (host.state !== 'reconnecting') return;
        if (!isRetriable(err)) {
          host.finalize(err as Error); // terminal: e.g. the same credentials cannot succeed
          return;
        }
        lastError = err as Error;
        continue;
      }
      try {
        await host.restore(link);
      } catch (err) {
        link.conn.destroy();
        if (host.state !== 'reconnecting') return;
        lastError = err as Error;
        continue;
      }
      if (host.state !== 'reconnecting' || link.conn.closed) {
        link.conn.destroy();
        if (host.state !== 'reconnecting') return;
        continue;
      }
      this.abortController = undefined;
      host.adopt(link);
      host.reconnected();
      return;
    }
  }
}

/**
 * Replays filters, then subscriptions (the user's and the library's own), then the log level on a
 * fresh connection, pipelined. Filters go first because FreeSWITCH applies them when it queues an
 * event for a listener, not when it writes it (mod_event_socket event_handler; PROTOCOL.md,
 * "Filters are applied when an event is queued"): with `event …` first, events queued before the
 * `filter …` is read pass unfiltered. A command the server refuses is reported and skipped; a
 * connection that dies meanwhile fails the attempt.
 */
export async function restore(link: Link, state: RestoreState): Promise<void> {
  const sent: Array<Promise<string>> = [];
  for (const [header, value] of state.filters.entries()) {
    sent.push(state.send(link, commands.filter(header, value), `filter ${header} ${value}`));
  }
  for (const line of state.subs.restoreLines()) {
    const bytes = serializeCommand(line);
    const words = wordsAfterCommand(bytes);
    if (line.startsWith('event ')) link.wire.applyEvent(words);
    else link.wire.applyNixevent(words);
    sent.push(state.send(link, bytes, line));
  }
  const internal = state.internal.restore(link);
  if (internal !== undefined) sent.push(internal.then(() => ''));
  if (state.logLevel !== undefined) sent.push(state.send(link, commands.log(state.logLevel), `log ${state.logLevel}`));
  const results = await Promise.allSettled(sent);
  for (const r of results) {
    if (r.status === 'rejected') {
      if (!(r.reason instanceof EslCommandError)) throw r.reason;
      state.report(r.reason);
    }
  }
}
