/**
 * Liveness, readiness and Prometheus metrics. /ready is public and cheap (see readiness.ts): it
 * names each check with ok and a generic reason only; operators read the messages behind them at
 * /v1/system/ready (and may ask for the slow checks to run again there).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBodySchema } from '../../contract/production.js';
import type { Database } from '../../db/database.js';
import type { JobQueue } from '../../queue/queue.js';
import type { Metrics } from '../../observability/metrics.js';
import { requireOperator } from '../auth.js';
import { publicReport, type Readiness } from '../readiness.js';

export interface SystemDeps {
  database: Database;
  queue: JobQueue;
  readiness: Readiness;
  metrics: Metrics;
  /** Free space of the data and cache directories (DISK_MIN_FREE_BYTES). */
  disk?: { assertRoom(): Promise<void> };
}

const REASONS = ['timeout', 'unavailable', 'reconnecting', 'failed', 'not_checked_yet', 'not_in_this_process'] as const;
const publicSchema = z.object({
  ok: z.boolean(),
  checks: z
    .record(z.string(), z.object({ ok: z.boolean(), reason: z.enum(REASONS).optional() }))
    .describe('database, queue, listener (LISTEN/NOTIFY connection), storage and ffmpeg (the last two checked at start and every few minutes)'),
});
const detailedSchema = z.object({
  ok: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), reason: z.enum(REASONS).optional(), message: z.string().optional(), checkedAt: z.string().optional() })),
});

export const systemRoutes = (deps: SystemDeps): FastifyPluginAsyncZod => async (app) => {
  app.get('/health', { schema: { tags: ['system'], summary: 'Liveness: the process answers', description: '`status` is what clients of the original API read; `ok` what /v1 clients read.', response: { 200: z.object({ status: z.literal('ok'), ok: z.literal(true) }) } } }, async () => ({ status: 'ok' as const, ok: true as const }));

  app.get('/ready', {
    schema: {
      tags: ['system'],
      summary: 'Readiness: database, queue, listener, storage and FFmpeg (503 naming what is not ready)',
      description: 'Cheap enough to probe often: the database and the queue are pinged, storage and FFmpeg results come from checks run at start and every few minutes. Only check names, ok and a generic reason are shown; operators see the messages at GET /v1/system/ready.',
      response: { 200: publicSchema, 503: publicSchema },
    },
  }, async (_request, reply) => {
    const report = await deps.readiness.probe();
    return reply.status(report.ok ? 200 : 503).send(publicReport(report));
  });

  app.get('/v1/system/ready', {
    config: { scope: 'admin' },
    schema: {
      tags: ['system'],
      summary: 'Readiness with the message behind each failed check (operators only)',
      description: 'As /ready, with each check\'s error message and when the cached checks last ran. `recheck=true` runs the storage and FFmpeg checks again first.',
      querystring: z.object({ recheck: z.enum(['true', 'false']).optional() }),
      response: { 200: detailedSchema, 503: detailedSchema, 401: errorBodySchema, 403: errorBodySchema },
    },
  }, async (request, reply) => {
    requireOperator(request);
    if (request.query.recheck === 'true') await deps.readiness.recheck();
    const report = await deps.readiness.probe();
    return reply.status(report.ok ? 200 : 503).send(report);
  });

  app.get('/metrics', { schema: { tags: ['system'], summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
    // Readiness as gauges, from the same cheap probe /ready answers with (alert rules read them).
    const report = await deps.readiness.probe().catch(() => undefined);
    if (report) for (const [check, result] of Object.entries(report.checks)) deps.metrics.ready.set({ check }, result.ok ? 1 : 0);
    return reply.header('content-type', deps.metrics.registry.contentType).send(await deps.metrics.expose());
  });
};
