/**
 * The routes of the original AIPROD API (V33), kept so its clients work unchanged: a thin
 * translation over the v1 services, with one job store — the `job_id` of POST /pipeline/run works
 * on every /pipeline, /job, export and socket route. What maps to what: docs/migrating-from-v33.md.
 * Every route is tagged `compat` in openapi.json and answers errors with FastAPI's `detail`.
 */
import type { FastifyInstance } from 'fastify';
import { costEstimate } from '../../../compat/costs.js';
import type { CompatDeps, CompatOptions } from './deps.js';
import { exportRoutes } from './export.routes.js';
import { iccRoutes } from './icc.routes.js';
import { pipelineRoutes } from './pipeline.routes.js';
import { presetsRoutes } from './presets.routes.js';

export async function registerCompatRoutes(app: FastifyInstance, options: CompatOptions): Promise<void> {
  const { productions } = options;
  const deps: CompatDeps = {
    ...options,
    // The §4 estimate of a job request, with the tenant's provider chains and the price tables.
    costEstimate: async (request, tenantId) =>
      costEstimate(request, (body) => productions.estimate(body, '', tenantId), productions.priceTable()),
  };
  await app.register(presetsRoutes(deps));
  await app.register(pipelineRoutes(deps));
  await app.register(iccRoutes(deps));
  await app.register(exportRoutes(deps));
}
