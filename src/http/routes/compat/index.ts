/**
 * The routes of the original AIPROD API (V33), kept so its clients work unchanged: a thin
 * translation over the v1 services, with one job store — the `job_id` of POST /pipeline/run works
 * on every /pipeline, /job, export and socket route. What maps to what: docs/migrating-from-v33.md.
 * Every route is tagged `compat` in openapi.json and answers errors with FastAPI's `detail`.
 */
import type { FastifyInstance } from 'fastify';
import type { CompatDeps, CompatOptions } from './deps.js';
import { iccRoutes } from './icc.routes.js';
import { pipelineRoutes } from './pipeline.routes.js';

export async function registerCompatRoutes(app: FastifyInstance, options: CompatOptions): Promise<void> {
  const deps: CompatDeps = {
    ...options,
    // Replaced by compat/costs.ts's estimate.
    costEstimate: async (request, tenantId) => ({ aiprod_optimized: (await options.productions.estimate({ prompt: request.content, targetDurationSec: request.duration_sec }, '', tenantId)).cost.totalUsd }),
  };
  await app.register(pipelineRoutes(deps));
  await app.register(iccRoutes(deps));
}
