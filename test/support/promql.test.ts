import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metricNamesIn, withoutGrafanaVariables } from './promql.js';
test('metric names of PromQL expressions, by the PromQL grammar', () => {
  assert.deepEqual(metricNamesIn('sum by (route) (rate(aiprod_http_requests_total{status=~"5.."}[5m])) / ignoring(status) sum(rate(aiprod_http_requests_total[5m])) > 0.01'), ['aiprod_http_requests_total']);
  assert.deepEqual(metricNamesIn('histogram_quantile(0.99, sum by (le) (rate(aiprod_http_request_duration_seconds_bucket[5m]))) and on() vector(1)').sort(), ['aiprod_http_request_duration_seconds_bucket']);
  assert.deepEqual(metricNamesIn('max(aiprod_tenant_spend_usd) / max(aiprod_tenant_budget_usd) >= 0.8').sort(), ['aiprod_tenant_budget_usd', 'aiprod_tenant_spend_usd']);
  assert.deepEqual(metricNamesIn('{__name__="aiprod_workers_alive"} == 0'), ['aiprod_workers_alive']);
  assert.deepEqual(metricNamesIn(withoutGrafanaVariables('sum(rate(aiprod_provider_calls_total{provider=~"$provider"}[$__rate_interval]))')), ['aiprod_provider_calls_total']);
  assert.throws(() => metricNamesIn('sum(rate(aiprod_x[5m])'), /does not parse/);
});

test('the exported series include the KPIs, the database metrics and the histograms\' parts', async () => {
  const { exportedSeries } = await import('./exported-metrics.js');
  const names = await exportedSeries();
  for (const name of ['aiprod_jobs_revenue_usd_total', 'aiprod_job_processing_cost_usd_bucket', 'aiprod_workers_alive', 'aiprod_http_request_duration_seconds_bucket', 'aiprod_webhook_attempts_total', 'aiprod_process_resident_memory_bytes']) {
    assert.ok(names.has(name), name);
  }
  assert.ok(!names.has('aiprod_http_request_duration_seconds'), 'a histogram is queried by its parts');
});
