/**
 * What the admin API, the dashboard and the metrics read of the calls in progress: a narrow view
 * of the prepaid server (PrepaidServer implements LiveCallSource), and the JSON shapes of a live
 * call and of an ended one.
 */
import type { CallOutcome, CallPhase, CallReport, ChargeNotice } from './prepaid-server.js';

export interface LiveCallSource {
  /** The calls in progress, as of now. */
  reports(): CallReport[];
  on(event: 'call' | 'update' | 'end', listener: (report: CallReport) => void): unknown;
  on(event: 'charge', listener: (notice: ChargeNotice) => void): unknown;
  off(event: 'call' | 'update' | 'end', listener: (report: CallReport) => void): unknown;
}

/** `GET /api/calls/live`: one call in progress. Times are ISO 8601, null when not known yet. */
export interface LiveCall {
  uuid: string;
  account: string;
  target: string;
  phase: CallPhase;
  /** Seconds per interval, once the account is loaded. */
  intervalDuration: number | null;
  answeredAt: string | null;
  intervalsCharged: number;
  /**
   * The end of the time paid for so far, as the server charges it (each interval is charged when it
   * starts); FreeSWITCH's scheduled hangup ends the call there unless another interval is paid.
   */
  paidUntil: string | null;
  /** The account's balance (intervals) at the last check. */
  remaining: number | null;
  resumed: boolean;
}

/** A call that ended while this server ran (the dashboard's recent calls and outcomes). */
export interface EndedCall {
  uuid: string;
  account: string;
  target: string;
  outcome: CallOutcome | null;
  detail: string | null;
  intervalsCharged: number;
  hangupCause: string | null;
  arrivedAt: string;
  answeredAt: string | null;
  endedAt: string | null;
}

const iso = (date: Date | undefined): string | null => (date ? date.toISOString() : null);

export function liveCall(report: CallReport): LiveCall {
  return {
    uuid: report.uuid,
    account: report.account,
    target: report.target,
    phase: report.phase,
    intervalDuration: report.intervalDuration ?? null,
    answeredAt: iso(report.answeredAt),
    intervalsCharged: report.intervalsCharged,
    paidUntil: iso(report.paidUntil),
    remaining: report.remaining ?? null,
    resumed: report.resumed ?? false,
  };
}

export function endedCall(report: CallReport): EndedCall {
  return {
    uuid: report.uuid,
    account: report.account,
    target: report.target,
    outcome: report.outcome ?? null,
    detail: report.detail ?? null,
    intervalsCharged: report.intervalsCharged,
    hangupCause: report.hangupCause ?? null,
    arrivedAt: report.arrivedAt.toISOString(),
    answeredAt: iso(report.answeredAt),
    endedAt: iso(report.endedAt),
  };
}
