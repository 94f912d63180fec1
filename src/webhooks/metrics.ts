/** Prometheus metrics of webhook delivery, registered on the service's registry (observability/metrics.ts). */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface WebhookMetrics {
  /** Attempts by outcome: delivered (2xx), retrying (failed, another attempt is scheduled), failed (out of attempts). */
  attempts: Counter<'outcome'>;
  attemptSeconds: Histogram;
  /** Endpoints disabled because they kept failing. */
  disabled: Counter;
}

/** Call once per registry (prom-client refuses a metric name twice). */
export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  return {
    attempts: new Counter({ name: 'aiprod_webhook_attempts_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'], registers: [registry] }),
    attemptSeconds: new Histogram({
      name: 'aiprod_webhook_attempt_duration_seconds',
      help: 'Time from connecting to the first bytes of the answer, per webhook attempt',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    disabled: new Counter({ name: 'aiprod_webhook_endpoints_disabled_total', help: 'Webhook endpoints disabled after failing too many deliveries in a row', registers: [registry] }),
  };
}
