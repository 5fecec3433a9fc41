import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * The service's Prometheus metrics, in a registry of its own (several applications can live in
 * one process, as in the tests). Counters are bumped after the transaction they count has
 * committed. Modules add metrics of their own to `registry` (the product gauges).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from the request arriving to its answer being sent.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly holdsCreated = new Counter({ name: 'holds_created_total', help: 'Holds granted.', registers: [this.registry] });
  private readonly holdsRejected = new Counter({
    name: 'holds_rejected_total',
    help: 'Holds refused, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly holdsExpired = new Counter({ name: 'holds_expired_total', help: 'Holds marked expired by the expiry job.', registers: [this.registry] });
  private readonly holdsPurged = new Counter({
    name: 'holds_purged_total',
    help: 'Ended holds deleted by the expiry job after HOLD_RETENTION_DAYS.',
    registers: [this.registry],
  });
  private readonly ordersExpired = new Counter({
    name: 'orders_expired_total',
    help: 'Orders expired unpaid past their payment deadline.',
    registers: [this.registry],
  });
  private readonly ordersCreated = new Counter({ name: 'orders_created_total', help: 'Orders created from holds.', registers: [this.registry] });
  private readonly webhookEvents = new Counter({
    name: 'webhook_events_total',
    help: 'Payment webhook deliveries, by result (applied, duplicate, ignored, deferred, late, conflict).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly txRetries = new Counter({
    name: 'tx_retries_total',
    help: 'Transactions rolled back and run again, by reason (deadlock, lock_wait_timeout).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly lockWait = new Histogram({
    name: 'stock_lock_wait_seconds',
    help: "Time spent waiting for a product row's lock (SELECT … FOR UPDATE).",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  private readonly rateLimitedRequests = new Counter({
    name: 'rate_limited_total',
    help: 'Requests refused 429 rate_limited, by route template.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Label-bound children per (method, route, status): the hot path skips hashing the labels. */
  private readonly httpSeries = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let series = this.httpSeries.get(key);
    if (!series) {
      const labels = { method, route, status: String(status) };
      series = { count: this.httpRequests.labels(labels), time: this.httpDuration.labels(labels) };
      this.httpSeries.set(key, series);
    }
    series.count.inc();
    series.time.observe(seconds);
  }

  holdCreated(): void {
    this.holdsCreated.inc();
  }

  holdRejected(reason: string): void {
    this.holdsRejected.inc({ reason });
  }

  holdsExpiredBy(count: number): void {
    this.holdsExpired.inc(count);
  }

  holdsPurgedBy(count: number): void {
    this.holdsPurged.inc(count);
  }

  orderCreated(): void {
    this.ordersCreated.inc();
  }

  ordersExpiredBy(count: number): void {
    this.ordersExpired.inc(count);
  }

  webhookEvent(result: string): void {
    this.webhookEvents.inc({ result });
  }

  txRetry(reason: string): void {
    this.txRetries.inc({ reason });
  }

  rateLimited(route: string): void {
    this.rateLimitedRequests.inc({ route });
  }

  stockLockWait(seconds: number): void {
    this.lockWait.observe(seconds);
  }
}
