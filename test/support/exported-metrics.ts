/**
 * Every series name an AIPROD process exports (histograms as _bucket/_sum/_count), read from the
 * same registry the service builds (observability/metrics.ts, webhook metrics, the database
 * metrics): what alert rules and dashboards may query.
 */
import type { Database } from '../../src/db/database.js';
import { createMetrics, exportedSeriesNames } from '../../src/observability/metrics.js';
import { createBudgetMetrics } from '../../src/services/budgets.service.js';
import { registerDatabaseMetrics } from '../../src/services/database-metrics.js';
import { createWebhookMetrics } from '../../src/webhooks/metrics.js';

export async function exportedSeries(): Promise<Set<string>> {
  const metrics = createMetrics({ version: 'test', role: 'all' });
  createWebhookMetrics(metrics.registry);
  createBudgetMetrics(metrics.registry);
  // No database: the database metrics keep their names and report no values.
  const database = { executeSql: () => Promise.reject(new Error('no database here')) } as unknown as Database;
  registerDatabaseMetrics(metrics.registry, { database, stallTimeoutSec: 60, ttlMs: 0 });
  return exportedSeriesNames(metrics.registry);
}
