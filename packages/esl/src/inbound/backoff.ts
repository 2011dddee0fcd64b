/** The reconnect option: its defaults, validation, and the backoff delay of each attempt. */
import { EslInvalidArgumentError } from '../errors.js';

export interface ReconnectOptions {
  /** Delay before the first attempt after a drop, ms. Default 250. */
  initialDelay?: number;
  /** Cap on any delay, ms. Default 30 000. */
  maxDelay?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /** 0…1: each delay is reduced by a random fraction up to this, so clients spread out. Default 0.2. */
  jitter?: number;
  /** A connection that stays up this long (ms) resets the backoff to initialDelay. Default 10 000. */
  stableAfter?: number;
  /** Give up after this many failed attempts in a row. Default Infinity. */
  maxAttempts?: number;
  /**
   * Retry the first connection too, with the same backoff: connect() then waits until FreeSWITCH
   * accepts (a service started before FreeSWITCH), gives up after maxAttempts, or stops on its
   * `signal`. A wrong password or an ACL refusal still fails at once. Default false.
   */
  initial?: boolean;
}

export type ResolvedReconnectOptions = Required<ReconnectOptions>;

export const RECONNECT_DEFAULTS: ResolvedReconnectOptions = {
  initialDelay: 250,
  maxDelay: 30_000,
  factor: 2,
  jitter: 0.2,
  stableAfter: 10_000,
  maxAttempts: Infinity,
  initial: false,
};

export function resolveReconnect(value: boolean | ReconnectOptions | undefined): ResolvedReconnectOptions | undefined {
  if (value === undefined || value === false) return undefined;
  const r = { ...RECONNECT_DEFAULTS, ...(value === true ? {} : stripUndefined(value)) };
  if (!(r.initialDelay >= 0) || !(r.maxDelay >= 0) || !(r.factor >= 1) || !(r.jitter >= 0 && r.jitter <= 1)) {
    throw new EslInvalidArgumentError('reconnect: need initialDelay >= 0, maxDelay >= 0, factor >= 1, 0 <= jitter <= 1');
  }
  if (!(r.stableAfter >= 0) || !(r.maxAttempts >= 1)) {
    throw new EslInvalidArgumentError('reconnect: need stableAfter >= 0 and maxAttempts >= 1');
  }
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Delay before attempt number `attempt` (1-based): initialDelay·factor^(attempt−1), capped at
 * maxDelay, then reduced by a random fraction of up to `jitter` ("equal-ish" jitter: never above
 * the cap, never below (1−jitter) of it).
 */
export function backoffDelay(attempt: number, o: ResolvedReconnectOptions, random: () => number = Math.random): number {
  const exp = o.initialDelay * Math.pow(o.factor, Math.max(0, attempt - 1));
  const capped = Math.min(o.maxDelay, Number.isFinite(exp) ? exp : o.maxDelay);
  return Math.round(capped * (1 - o.jitter * random()));
}
