/**
 * The Prometheus metrics `GET /metrics` exposes, with prom-client: live calls, calls by outcome,
 * intervals charged, how late each charge was, database operation latency, and prom-client's
 * default process metrics.
 * Each PrepaidMetrics has its own registry (several servers in one process do not mix).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LiveCallSource } from './live-calls.js';

export class PrepaidMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'outcome'>;
  private readonly intervals: Counter;
  private readonly dbLatency: Histogram<'operation' | 'result'>;
  private readonly chargeLateness: Histogram;
  /** Intervals already counted per live call, so each update adds only what is new. */
  private readonly counted = new Map<string, number>();
  private source: LiveCallSource | undefined;

  /** Made before the store (which reports its latency here) and the server it then watches. */
  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const metrics = this;
    new Gauge({
      name: 'prepaid_live_calls',
      help: 'Calls in progress on this server (arrived, checking, ringing, talking or hanging up)',
      registers,
      collect() {
        this.set(metrics.source?.reports().length ?? 0);
      },
    });
    this.calls = new Counter({
      name: 'prepaid_calls_total',
      help: 'Calls ended since the server started, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.intervals = new Counter({
      name: 'prepaid_intervals_charged_total',
      help: 'Intervals charged since the server started',
      registers,
    });
    this.chargeLateness = new Histogram({
      name: 'prepaid_charge_lateness_seconds',
      help: 'Time from when an interval was due to be charged to the ledger confirming the charge',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.dbLatency = new Histogram({
      name: 'prepaid_db_operation_duration_seconds',
      help: 'Duration of database operations, by operation and result (ok or error)',
      labelNames: ['operation', 'result'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }

  /** Count the calls of this server. */
  watch(source: LiveCallSource): void {
    this.source = source;
    source.on('update', (report) => this.countIntervals(report.uuid, report.intervalsCharged));
    source.on('charge', (notice) => this.chargeLateness.observe(notice.lateMs / 1000));
    source.on('end', (report) => {
      this.countIntervals(report.uuid, report.intervalsCharged);
      this.counted.delete(report.uuid);
      this.calls.inc({ outcome: report.outcome ?? 'unknown' });
    });
  }

  /** The store's `observe` hook. */
  readonly observeDb = (operation: string, seconds: number, ok: boolean): void => {
    this.dbLatency.observe({ operation, result: ok ? 'ok' : 'error' }, seconds);
  };

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  private countIntervals(uuid: string, charged: number): void {
    const before = this.counted.get(uuid) ?? 0;
    if (charged > before) {
      this.intervals.inc(charged - before);
      this.counted.set(uuid, charged);
    }
  }
}
