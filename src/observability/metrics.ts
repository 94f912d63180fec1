/**
 * Prometheus metrics of the API and workers (GET /metrics, or a worker's --metrics-port): what this
 * process did since it started. The installation-wide numbers that must survive restarts (revenue,
 * cost, productions by outcome, queue, workers alive, budgets) are read from the database when
 * scraped, by services/database-metrics.ts, onto the same registry. docs/metrics.md lists every name.
 */
import { statfs } from 'node:fs/promises';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { existingAncestor } from '../lib/disk-space.js';

export interface Metrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  requestSeconds: Histogram<'method' | 'route' | 'status'>;
  /** Requests refused with 429, by the rule that refused them. */
  rateLimited: Counter<'rule'>;
  stageSeconds: Histogram<'stage' | 'provider'>;
  /** One render attempt, by how it ended. */
  renderSeconds: Histogram<'outcome'>;
  stageCacheUnits: Counter<'stage' | 'result'>;
  providerCalls: Counter<'provider' | 'outcome'>;
  providerErrors: Counter<'provider' | 'code'>;
  providerCallSeconds: Histogram<'provider'>;
  /** 1 while a provider's circuit breaker (for the operator's or a tenant's key) is open. */
  providerBreakerOpen: Gauge<'provider' | 'source'>;
  /** Provider fallbacks taken by renders in this process, by stage, failed provider and reason. */
  providerFallbacks: Counter<'stage' | 'provider' | 'code'>;
  workersBusy: Gauge;
  workersIdle: Gauge;
  /** 1/0 per readiness check, set when scraped. */
  ready: Gauge<'check'>;
  diskUsedRatio: Gauge<'dir'>;
  buildInfo: Gauge<'version' | 'role'>;
  /**
   * The text a scrape gets: this registry's metrics, or in a cluster's API process those of every
   * process of the machine (main/cluster.ts). Gauges say how they add up across processes
   * (`aggregator`): readiness by its worst process, disk and build info by their largest value.
   */
  expose(): Promise<string>;
}

/** Every metric name starts with this (prom-client's default process metrics too). */
export const METRIC_PREFIX = 'aiprod_';

export interface MetricsOptions {
  version?: string;
  role?: string;
  /** Node's process metrics (CPU, memory, event loop lag, heap); default on. */
  defaultMetrics?: boolean;
  /** Directories whose file system's use aiprod_data_dir_disk_used_ratio reports, read with statfs at each scrape. */
  diskDirs?: { dir: string; path: string }[];
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const registers = [registry];
  const metrics: Metrics = {
    registry,
    requests: new Counter({ name: 'aiprod_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers }),
    requestSeconds: new Histogram({
      name: 'aiprod_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    rateLimited: new Counter({ name: 'aiprod_rate_limited_total', help: 'Requests refused with 429, by the limit that refused them', labelNames: ['rule'], registers }),
    stageSeconds: new Histogram({
      name: 'aiprod_stage_duration_seconds',
      help: 'Wall time of pipeline stages in this process, by the provider that did the work',
      labelNames: ['stage', 'provider'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    renderSeconds: new Histogram({
      name: 'aiprod_render_duration_seconds',
      help: 'Wall time of one render attempt in this process, by how it ended',
      labelNames: ['outcome'],
      buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1200, 3600],
      registers,
    }),
    stageCacheUnits: new Counter({ name: 'aiprod_stage_cache_units_total', help: 'Stage units re-used from the cache (hit) or made (miss)', labelNames: ['stage', 'result'], registers }),
    providerCalls: new Counter({ name: 'aiprod_provider_calls_total', help: 'Calls (attempts) to cloud providers by outcome', labelNames: ['provider', 'outcome'], registers }),
    providerErrors: new Counter({ name: 'aiprod_provider_errors_total', help: 'Failed provider calls by error code', labelNames: ['provider', 'code'], registers }),
    providerCallSeconds: new Histogram({
      name: 'aiprod_provider_call_duration_seconds',
      help: 'Latency of provider calls (each attempt)',
      labelNames: ['provider'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    providerBreakerOpen: new Gauge({ name: 'aiprod_provider_breaker_open', help: 'Cloud providers skipped by an open circuit breaker (1) in this process', labelNames: ['provider', 'source'], registers, aggregator: 'max' }),
    providerFallbacks: new Counter({ name: 'aiprod_provider_fallbacks_total', help: 'Provider failures a render fell back from, by stage, provider and error code', labelNames: ['stage', 'provider', 'code'], registers }),
    workersBusy: new Gauge({ name: 'aiprod_worker_slots_busy', help: 'Render slots of this process rendering now', registers }),
    workersIdle: new Gauge({ name: 'aiprod_worker_slots_idle', help: 'Render slots of this process waiting for work', registers }),
    ready: new Gauge({ name: 'aiprod_ready', help: 'Readiness checks of this process: 1 passing, 0 failing', labelNames: ['check'], registers, aggregator: 'min' }),
    diskUsedRatio: new Gauge({
      name: 'aiprod_data_dir_disk_used_ratio',
      help: 'Used fraction of the file system of the data and cache directories',
      labelNames: ['dir'],
      registers,
      aggregator: 'max',
      async collect() {
        for (const { dir, path } of options.diskDirs ?? []) {
          const stats = await statfs(existingAncestor(path)).catch(() => undefined);
          // Used as df counts it: blocks not free, over what users may fill (used + available).
          if (stats && stats.blocks > 0) this.set({ dir }, (stats.blocks - stats.bfree) / (stats.blocks - stats.bfree + stats.bavail));
        }
      },
    }),
    buildInfo: new Gauge({ name: 'aiprod_build_info', help: 'Version and role of this process (always 1)', labelNames: ['version', 'role'], registers, aggregator: 'max' }),
    expose: () => registry.metrics(),
  };
  metrics.buildInfo.set({ version: options.version ?? 'unknown', role: options.role ?? 'all' }, 1);
  return metrics;
}

/**
 * Every series name a registry exports (histograms as _bucket, _sum and _count): what alert rules
 * and dashboards may query. Read from the registry itself, so it cannot drift from the code.
 */
export async function exportedSeriesNames(registry: Registry): Promise<Set<string>> {
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    if (metric.type === ('histogram' as never)) for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    else if (metric.type === ('summary' as never)) for (const suffix of ['', '_sum', '_count']) names.add(metric.name + suffix);
    else names.add(metric.name);
  }
  return names;
}
