/** What the original API's route plugins are given, and their OpenAPI tag (apart from index.ts, which imports the plugins). */
import type { CostEstimate, CostEstimateInput } from '../../../compat/costs.js';
import type { EventHub } from '../../events.js';
import type { ProductionsService } from '../../../services/productions.service.js';
import type { QuotaService } from '../../../services/quotas.service.js';
import type { Storage } from '../../../storage/storage.port.js';

/** What the service passes in. */
export type CompatOptions = Omit<CompatDeps, 'costEstimate'>;

/** What the compat route plugins get. */
export interface CompatDeps {
  productions: ProductionsService;
  quotas: QuotaService;
  storage: Storage;
  events: EventHub;
  /** COMPAT_AUTO_APPROVE_SEC: how long an ICC job waits for approval before it renders as planned; 0 for ever. */
  autoApproveSec: number;
  /** PUBLIC_URL: the base of absolute links; undefined takes it from each request. */
  publicUrl?: string;
  /** POST /cost-estimate's answer for a job request (compat/costs.ts), with the tenant's providers. */
  costEstimate(request: CostEstimateInput, tenantId?: string): Promise<CostEstimate>;
}

export const COMPAT_TAG = 'compat';


/** The base of absolute links: PUBLIC_URL, else the request's own scheme and host. */
export function baseUrl(deps: Pick<CompatDeps, 'publicUrl'>, request: { protocol: string; host: string }): string {
  return deps.publicUrl ?? `${request.protocol}://${request.host}`;
}
