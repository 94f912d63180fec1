/** Prometheus metrics of the API and workers (GET /metrics). One registry per service instance. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  requestSeconds: Histogram<'method' | 'route'>;
  stageSeconds: Histogram<'stage'>;
  productions: Gauge<'status'>;
  queueWaiting: Gauge;
  queueOldestSec: Gauge;
  workersBusy: Gauge;
  workersIdle: Gauge;
  /** 1 while a provider's circuit breaker (for the operator's or a tenant's key) is open. */
  providerBreakerOpen: Gauge<'provider' | 'source'>;
  /** Provider fallbacks taken by renders in this process, by stage, failed provider and reason. */
  providerFallbacks: Counter<'stage' | 'provider' | 'code'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    requests: new Counter({ name: 'aiprod_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    requestSeconds: new Histogram({
      name: 'aiprod_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    stageSeconds: new Histogram({
      name: 'aiprod_stage_duration_seconds',
      help: 'Wall time of pipeline stages in this process',
      labelNames: ['stage'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    productions: new Gauge({ name: 'aiprod_productions', help: 'Productions by status', labelNames: ['status'], registers: [registry] }),
    queueWaiting: new Gauge({ name: 'aiprod_queue_waiting_jobs', help: 'Render jobs waiting', registers: [registry] }),
    queueOldestSec: new Gauge({ name: 'aiprod_queue_oldest_waiting_seconds', help: 'Age of the oldest waiting render job', registers: [registry] }),
    workersBusy: new Gauge({ name: 'aiprod_worker_slots_busy', help: 'Render slots of this process rendering now', registers: [registry] }),
    workersIdle: new Gauge({ name: 'aiprod_worker_slots_idle', help: 'Render slots of this process waiting for work', registers: [registry] }),
    providerBreakerOpen: new Gauge({ name: 'aiprod_provider_breaker_open', help: 'Cloud providers skipped by an open circuit breaker (1) in this process', labelNames: ['provider', 'source'], registers: [registry] }),
    providerFallbacks: new Counter({ name: 'aiprod_provider_fallbacks_total', help: 'Provider failures a render fell back from, by stage, provider and error code', labelNames: ['stage', 'provider', 'code'], registers: [registry] }),
  };
}
