/**
 * Metrics read from the database when scraped: the numbers that must survive restarts and be the
 * same whichever process answers (revenue, cost per production, productions by outcome, failures,
 * provider spend, queue, live workers, stalls, webhook deliveries, budgets). One snapshot of a few
 * grouped queries serves every metric of a scrape, and is re-used for `ttlMs` (concurrent scrapes
 * share one read). Aggregate these with `max` across processes, not `sum` (docs/metrics.md).
 *
 * A failed read (the database away) leaves these metrics out of the scrape rather than reporting
 * zeros: an alert on "no workers alive" must not fire because the database blinked.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { FINAL_STATUSES, PRODUCTION_STATUSES, RUNNING_STATUSES } from '../contract/production.js';
import type { Database } from '../db/database.js';
import { RENDER_PRICE_ID } from '../pipeline/estimate.js';
import type { JobQueue } from '../queue/queue.js';
import { MONTHLY_SPEND_SQL } from './quotas.service.js';

/** Cost buckets of aiprod_job_processing_cost_usd (USD), around the $12.50 per-job ceiling. */
export const COST_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 7.5, 10, 12.5, 15, 20, 30, 50] as const;
/** Buckets of aiprod_production_turnaround_seconds, around the 5-minute input→output target. */
export const TURNAROUND_BUCKETS = [30, 60, 120, 180, 240, 300, 450, 600, 900, 1800, 3600] as const;

/** One labelled series of a histogram counted by the database: cumulative bucket counts, count and sum. */
export interface HistogramRow {
  labels: Record<string, string>;
  buckets: number[];
  count: number;
  sum: number;
}

export interface DatabaseSnapshot {
  byStatus: Record<string, number>;
  finished: { outcome: string; tier: string; n: number }[];
  revenue: { tier: string; aspectRatio: string; usd: number }[];
  /** Processing cost of finished productions by tier and aspect ratio (for margins by tier). */
  costByTier: { tier: string; aspectRatio: string; usd: number }[];
  cost: HistogramRow[];
  /** Created → finished of succeeded productions that did not wait for a review, by tier. */
  turnaround: HistogramRow[];
  failures: { code: string; n: number }[];
  providerCost: { provider: string; usd: number }[];
  retries: number;
  stalls: number;
  stalled: number;
  /** Auto-retries done by the self-healing job over all productions, and productions reported stuck that are still where they stuck. */
  autoRetries: number;
  stuck: { status: string; n: number }[];
  workersAlive: number;
  workerSlots: number;
  deliveries: { outcome: string; n: number }[];
  endpointsDisabled: number;
  tenants: { tenant: string; spentUsd: number; budgetUsd: number | null }[];
  queue: { waiting: number; oldestWaitingSec: number } | undefined;
}

const list = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');

/** Reads one snapshot (a handful of grouped queries over productions, workers, webhooks and tenants). */
export async function readSnapshot(database: Database, queue: JobQueue | undefined, stallTimeoutSec: number): Promise<DatabaseSnapshot> {
  const q = async <T>(text: string, values: unknown[] = []): Promise<T[]> => (await database.executeSql(text, values)).rows as T[];
  const finishedIn = list(FINAL_STATUSES);
  const bucketColumns = (buckets: readonly number[], value: string): string => buckets.map((b, i) => `count(*) filter (where ${value} <= ${b})::int as b${i}`).join(', ');
  const [byStatus, finished, revenue, costRows, failures, providerCost, counts, workers, deliveries, disabled, tenants, queueDepth, turnaroundRows, stuckRows] = await Promise.all([
    q<{ status: string; n: number }>(`select status, count(*)::int as n from productions group by status`),
    q<{ outcome: string; tier: string; n: number }>(
      `select p.status as outcome, coalesce(p.tier, t.tier) as tier, count(*)::int as n
         from productions p join tenants t on t.id = p.tenant_id
        where p.status in (${finishedIn}) group by 1, 2`,
    ),
    q<{ tier: string; aspect_ratio: string; usd: number; cost: number | null }>(
      `select coalesce(tier, 'unknown') as tier, coalesce(aspect_ratio, 'unknown') as aspect_ratio,
              coalesce(sum(revenue_usd) filter (where status = 'succeeded'), 0)::float8 as usd,
              sum(processing_cost_usd)::float8 as cost
         from productions
        where status in (${finishedIn}) and (revenue_usd is not null or processing_cost_usd is not null) group by 1, 2`,
    ),
    q<Record<string, number>>(
      `select ${bucketColumns(COST_BUCKETS, 'processing_cost_usd')},
              count(*)::int as n, coalesce(sum(processing_cost_usd), 0)::float8 as total
         from productions where processing_cost_usd is not null`,
    ),
    q<{ code: string; n: number }>(`select coalesce(error->>'code', 'unknown') as code, count(*)::int as n from productions where status = 'failed' group by 1`),
    q<{ provider: string; usd: number }>(
      `select r->>'provider' as provider, sum((r->>'usd')::float8)::float8 as usd
         from productions p, jsonb_array_elements(p.cost->'stages') r
        where p.status in (${finishedIn}) and jsonb_typeof(p.cost->'stages') = 'array' and r->>'provider' <> $1
        group by 1`,
      [RENDER_PRICE_ID],
    ),
    q<{ retries: number; stalls: number; stalled: number; auto_retries: number }>(
      `select coalesce(sum(greatest(attempts - 1, 0)), 0)::int as retries, coalesce(sum(stalls), 0)::int as stalls,
              coalesce(sum(auto_retries), 0)::int as auto_retries,
              (count(*) filter (where status in (${list(RUNNING_STATUSES)}) and heartbeat_at < now() - make_interval(secs => $1)))::int as stalled
         from productions`,
      [stallTimeoutSec],
    ),
    q<{ alive: number; slots: number }>(`select count(*)::int as alive, coalesce(sum(slots), 0)::int as slots from workers where heartbeat_at > now() - make_interval(secs => $1)`, [stallTimeoutSec]),
    q<{ outcome: string; n: number }>(`select status as outcome, count(*)::int as n from webhook_deliveries where status in ('delivered', 'failed') group by 1`),
    q<{ n: number }>(`select count(*)::int as n from webhooks where not enabled`),
    q<{ tenant: string; spent: number; budget: number | null }>(
      `select t.id as tenant, t.monthly_budget_usd::float8 as budget, coalesce(s.spent, 0)::float8 as spent
         from tenants t
         left join (select tenant_id, ${MONTHLY_SPEND_SQL} as spent from productions
                     where created_at >= date_trunc('month', now() at time zone 'utc') at time zone 'utc' group by tenant_id) s
           on s.tenant_id = t.id
        where t.monthly_budget_usd is not null or coalesce(s.spent, 0) > 0`,
    ),
    queue ? queue.depth('render') : Promise.resolve(undefined),
    q<Record<string, number> & { tier: string }>(
      `select coalesce(p.tier, t.tier) as tier, ${bucketColumns(TURNAROUND_BUCKETS, 'extract(epoch from p.finished_at - p.created_at)')},
              count(*)::int as n, coalesce(sum(extract(epoch from p.finished_at - p.created_at)), 0)::float8 as total
         from productions p join tenants t on t.id = p.tenant_id
        where p.status = 'succeeded' and not p.review and p.finished_at is not null group by 1`,
    ),
    // Reported stuck by the self-healing job (jobs/self-healing.ts) and not moved on since.
    q<{ status: string; n: number }>(`select status, count(*)::int as n from productions where stuck is not null and stuck->>'status' = status group by 1`),
  ]);
  const histogramRow = (row: Record<string, number | string> | undefined, buckets: readonly number[], labels: Record<string, string>): HistogramRow => ({
    labels,
    buckets: buckets.map((_, i) => Number(row?.[`b${i}`] ?? 0)),
    count: Number(row?.n ?? 0),
    sum: Number(row?.total ?? 0),
  });
  return {
    byStatus: Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)])),
    finished: finished.map((r) => ({ outcome: r.outcome, tier: r.tier, n: Number(r.n) })),
    revenue: revenue.map((r) => ({ tier: r.tier, aspectRatio: r.aspect_ratio, usd: Number(r.usd) })),
    costByTier: revenue.filter((r) => r.cost !== null).map((r) => ({ tier: r.tier, aspectRatio: r.aspect_ratio, usd: Number(r.cost) })),
    cost: [histogramRow(costRows[0], COST_BUCKETS, {})],
    turnaround: turnaroundRows.map((r) => histogramRow(r, TURNAROUND_BUCKETS, { tier: r.tier })),
    failures: failures.map((r) => ({ code: r.code, n: Number(r.n) })),
    providerCost: providerCost.map((r) => ({ provider: r.provider, usd: Number(r.usd) })),
    retries: Number(counts[0]?.retries ?? 0),
    stalls: Number(counts[0]?.stalls ?? 0),
    stalled: Number(counts[0]?.stalled ?? 0),
    autoRetries: Number(counts[0]?.auto_retries ?? 0),
    stuck: stuckRows.map((r) => ({ status: r.status, n: Number(r.n) })),
    workersAlive: Number(workers[0]?.alive ?? 0),
    workerSlots: Number(workers[0]?.slots ?? 0),
    deliveries: deliveries.map((r) => ({ outcome: r.outcome, n: Number(r.n) })),
    endpointsDisabled: Number(disabled[0]?.n ?? 0),
    tenants: tenants.map((r) => ({ tenant: r.tenant, spentUsd: Number(r.spent), budgetUsd: r.budget === null ? null : Number(r.budget) })),
    queue: queueDepth ? { waiting: queueDepth.waiting, oldestWaitingSec: queueDepth.oldestWaitingSec } : undefined,
  };
}

/** Reads at most once per `ttlMs`; concurrent callers share the read in flight. */
class SnapshotCache {
  private value: { at: number; snapshot: DatabaseSnapshot } | undefined;
  private inFlight: Promise<DatabaseSnapshot | undefined> | undefined;

  constructor(
    private readonly read: () => Promise<DatabaseSnapshot>,
    private readonly ttlMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  get(): Promise<DatabaseSnapshot | undefined> {
    if (this.value && Date.now() - this.value.at < this.ttlMs) return Promise.resolve(this.value.snapshot);
    this.inFlight ??= this.read()
      .then((snapshot) => {
        this.value = { at: Date.now(), snapshot };
        return snapshot;
      })
      .catch((error: unknown) => {
        this.onError(error);
        return undefined;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}

export interface DatabaseMetricsOptions {
  database: Database;
  /** The render queue, for depth and the oldest waiting job (absent: those two are left out). */
  queue?: JobQueue;
  stallTimeoutSec: number;
  /** How long one read serves scrapes (METRICS_DB_TTL_SEC); 0 reads on every scrape. */
  ttlMs: number;
  onError?: (error: unknown) => void;
}

/** Registers the database metrics on `registry`. Call once per registry. */
export function registerDatabaseMetrics(registry: Registry, options: DatabaseMetricsOptions): void {
  const cache = new SnapshotCache(() => readSnapshot(options.database, options.queue, options.stallTimeoutSec), options.ttlMs, options.onError ?? (() => undefined));
  const registers = [registry];

  /** A gauge or counter whose values are replaced from the snapshot at each scrape. */
  const fromSnapshot = <L extends string>(
    kind: 'gauge' | 'counter',
    name: string,
    help: string,
    labelNames: L[],
    fill: (snapshot: DatabaseSnapshot, set: (labels: Partial<Record<L, string>>, value: number) => void) => void,
  ): void => {
    const collect = async function (this: Gauge<L> | Counter<L>): Promise<void> {
      const snapshot = await cache.get();
      this.reset();
      if (!snapshot) return;
      fill(snapshot, (labels, value) => {
        if (this instanceof Gauge) this.set(labels, value);
        else this.inc(labels, Math.max(0, value));
      });
    };
    if (kind === 'gauge') new Gauge<L>({ name, help, labelNames, registers, collect });
    else new Counter<L>({ name, help, labelNames, registers, collect });
  };

  fromSnapshot('counter', 'aiprod_jobs_revenue_usd_total', 'What tenants were charged for succeeded productions (USD), by tier and aspect ratio', ['tier', 'aspect_ratio'], (s, set) => {
    for (const r of s.revenue) set({ tier: r.tier, aspect_ratio: r.aspectRatio }, r.usd);
  });
  fromSnapshot('counter', 'aiprod_jobs_processing_cost_usd_total', 'Real cost of finished productions (USD), by tier and aspect ratio: margins by tier against the revenue', ['tier', 'aspect_ratio'], (s, set) => {
    for (const r of s.costByTier) set({ tier: r.tier, aspect_ratio: r.aspectRatio }, r.usd);
  });
  registry.registerMetric(
    new DatabaseHistogram(cache, 'aiprod_job_processing_cost_usd', 'Real cost of each finished production (USD): cloud providers plus compute', COST_BUCKETS, (s) => s.cost) as never,
  );
  registry.registerMetric(
    new DatabaseHistogram(
      cache, 'aiprod_production_turnaround_seconds', 'Seconds from creation to success of productions that did not wait for a review, by tier (the 5-minute input-to-output target)',
      TURNAROUND_BUCKETS, (s) => s.turnaround,
    ) as never,
  );
  fromSnapshot('counter', 'aiprod_productions_total', 'Finished productions by outcome and tier', ['outcome', 'tier'], (s, set) => {
    for (const r of s.finished) set({ outcome: r.outcome, tier: r.tier }, r.n);
  });
  fromSnapshot('counter', 'aiprod_production_failures_total', 'Failed productions by error code', ['code'], (s, set) => {
    for (const r of s.failures) set({ code: r.code }, r.n);
  });
  fromSnapshot('counter', 'aiprod_provider_cost_usd_total', 'What each provider billed over finished productions (USD)', ['provider'], (s, set) => {
    for (const r of s.providerCost) set({ provider: r.provider }, r.usd);
  });
  fromSnapshot('gauge', 'aiprod_tenant_spend_usd', "The tenant's spend this calendar month (UTC), as its budget counts it", ['tenant'], (s, set) => {
    for (const t of s.tenants) set({ tenant: t.tenant }, t.spentUsd);
  });
  fromSnapshot('gauge', 'aiprod_tenant_budget_usd', "The tenant's monthly budget (tenants that have one)", ['tenant'], (s, set) => {
    for (const t of s.tenants) if (t.budgetUsd !== null) set({ tenant: t.tenant }, t.budgetUsd);
  });
  fromSnapshot('gauge', 'aiprod_productions', 'Productions by status now', ['status'], (s, set) => {
    for (const status of PRODUCTION_STATUSES) set({ status }, s.byStatus[status] ?? 0);
  });
  fromSnapshot('gauge', 'aiprod_queue_waiting_jobs', 'Render jobs waiting for a worker', [], (s, set) => {
    if (s.queue) set({}, s.queue.waiting);
  });
  fromSnapshot('gauge', 'aiprod_queue_oldest_waiting_seconds', 'Age of the oldest waiting render job', [], (s, set) => {
    if (s.queue) set({}, s.queue.oldestWaitingSec);
  });
  fromSnapshot('gauge', 'aiprod_workers_alive', 'Worker processes heard from within STALL_TIMEOUT_SEC', [], (s, set) => set({}, s.workersAlive));
  fromSnapshot('gauge', 'aiprod_worker_slots', 'Render slots of the live workers', [], (s, set) => set({}, s.workerSlots));
  fromSnapshot('gauge', 'aiprod_renders_stalled', "Running productions whose worker's heartbeat is older than STALL_TIMEOUT_SEC", [], (s, set) => set({}, s.stalled));
  fromSnapshot('counter', 'aiprod_render_retries_total', 'Render attempts after the first, over all productions', [], (s, set) => set({}, s.retries));
  fromSnapshot('counter', 'aiprod_auto_retries_total', 'Failed productions re-queued by the self-healing job after a transient failure', [], (s, set) => set({}, s.autoRetries));
  fromSnapshot('gauge', 'aiprod_productions_stuck', 'Productions queued or running past STUCK_FACTOR times their expected time, by the status they are stuck in', ['status'], (s, set) => {
    for (const r of s.stuck) set({ status: r.status }, r.n);
  });
  fromSnapshot('counter', 'aiprod_render_stalls_total', 'Renders handed to another worker because theirs stopped heartbeating', [], (s, set) => set({}, s.stalls));
  fromSnapshot('counter', 'aiprod_webhook_deliveries_total', 'Webhook deliveries that ended, by outcome', ['outcome'], (s, set) => {
    for (const r of s.deliveries) set({ outcome: r.outcome }, r.n);
  });
  fromSnapshot('gauge', 'aiprod_webhook_endpoints_disabled', 'Webhook endpoints disabled now after failing too often', [], (s, set) => set({}, s.endpointsDisabled));
}

/**
 * A histogram whose buckets the database counts (prom-client's Histogram only observes), exposed
 * through the registry's metric interface: aiprod_job_processing_cost_usd, aiprod_production_turnaround_seconds.
 */
class DatabaseHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'max';

  constructor(
    private readonly cache: SnapshotCache,
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    private readonly rows: (snapshot: DatabaseSnapshot) => HistogramRow[],
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { metricName: string; labels: Record<string, string | number>; value: number }[] }> {
    const snapshot = await this.cache.get();
    type Value = { metricName: string; labels: Record<string, string | number>; value: number };
    const values: Value[] = [];
    for (const row of snapshot ? this.rows(snapshot) : []) {
      this.buckets.forEach((le, i) => values.push({ metricName: `${this.name}_bucket`, labels: { ...row.labels, le }, value: row.buckets[i] ?? 0 }));
      values.push({ metricName: `${this.name}_bucket`, labels: { ...row.labels, le: '+Inf' }, value: row.count });
      values.push({ metricName: `${this.name}_sum`, labels: row.labels, value: row.sum });
      values.push({ metricName: `${this.name}_count`, labels: row.labels, value: row.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}
