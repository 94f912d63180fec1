/**
 * The routes of the original AIPROD API (V33), kept so its clients work unchanged: a thin
 * translation over the v1 services, with one job store — the `job_id` of POST /pipeline/run works
 * on every /pipeline, /job, export and socket route. What maps to what: docs/migrating-from-v33.md.
 * Every route is tagged `compat` in openapi.json and answers errors with FastAPI's `detail`.
 */
import type { FastifyInstance } from 'fastify';
import type { EventHub } from '../../events.js';
import type { ProductionsService } from '../../../services/productions.service.js';
import type { QuotaService } from '../../../services/quotas.service.js';
import type { Storage } from '../../../storage/storage.port.js';
import { exportRoutes } from './export.routes.js';

export interface CompatDeps {
  productions: ProductionsService;
  quotas: QuotaService;
  storage: Storage;
  events: EventHub;
  /** COMPAT_AUTO_APPROVE_SEC: how long an ICC job waits for approval before it renders as planned; 0 for ever. */
  autoApproveSec: number;
  /** PUBLIC_URL: the base of absolute links; undefined takes it from each request. */
  publicUrl?: string;
}

export { COMPAT_TAG } from './tag.js';

export async function registerCompatRoutes(app: FastifyInstance, deps: CompatDeps): Promise<void> {
  await app.register(exportRoutes(deps));
}
