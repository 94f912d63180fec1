/** Liveness, readiness (database, queue, storage, FFmpeg) and Prometheus metrics. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PRODUCTION_STATUSES } from '../../contract/production.js';
import type { Database } from '../../db/database.js';
import { countByStatus } from '../../db/productions.repository.js';
import type { JobQueue } from '../../queue/queue.js';
import type { MediaTools } from '../../pipeline/context.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Storage } from '../../storage/storage.port.js';

export interface SystemDeps {
  database: Database;
  queue: JobQueue;
  storage: Storage;
  media?: MediaTools;
  metrics: Metrics;
  /** Free space of the data and cache directories (DISK_MIN_FREE_BYTES). */
  disk?: { assertRoom(): Promise<void> };
}

const checkSchema = z.object({
  ok: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional(), skipped: z.string().optional() })),
});

export const systemRoutes = (deps: SystemDeps): FastifyPluginAsyncZod => async (app) => {
  app.get('/health', { schema: { tags: ['system'], summary: 'Liveness: the process answers', response: { 200: z.object({ ok: z.literal(true) }) } } }, async () => ({ ok: true as const }));

  app.get('/ready', {
    schema: { tags: ['system'], summary: 'Readiness: database, queue, storage and FFmpeg reachable (503 naming what is not)', response: { 200: checkSchema, 503: checkSchema } },
  }, async (_request, reply) => {
    const probe = async (run: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> => {
      try {
        await run();
        return { ok: true };
      } catch (error) {
        return { ok: false, error: error instanceof Error ? error.message : String(error) };
      }
    };
    const checks = {
      database: await probe(() => deps.database.executeSql('select 1')),
      queue: await probe(() => deps.queue.depth('render')),
      storage: await probe(() => deps.storage.check()),
      // An API-only process never runs FFmpeg; its workers report their own.
      ffmpeg: deps.media
        ? await probe(() => deps.media!.ffmpeg(['-hide_banner', '-version'], { timeoutSec: 10 }))
        : { ok: true, skipped: 'no render worker in this process (--role api)' },
      disk: deps.disk ? await probe(() => deps.disk!.assertRoom()) : { ok: true, skipped: 'not checked' },
    };
    const ok = Object.values(checks).every((c) => c.ok);
    return reply.status(ok ? 200 : 503).send({ ok, checks });
  });

  app.get('/metrics', { schema: { tags: ['system'], summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
    const counts = await countByStatus(deps.database.db).catch(() => ({}) as Record<string, number>);
    for (const status of PRODUCTION_STATUSES) deps.metrics.productions.set({ status }, counts[status] ?? 0);
    const depth = await deps.queue.depth('render').catch(() => undefined);
    if (depth) {
      deps.metrics.queueWaiting.set(depth.waiting);
      deps.metrics.queueOldestSec.set(depth.oldestWaitingSec);
    }
    return reply.header('content-type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
};
