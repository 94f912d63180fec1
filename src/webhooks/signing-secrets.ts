/**
 * Signing secrets: one per webhook, and one per tenant for the deliveries to briefs' own
 * webhookUrl. Stored sealed by security/secrets.ts (AES-256-GCM, bound to the row), shown once.
 */
import { randomBytes } from 'node:crypto';
import type { AppDb } from '../db/database.js';
import type { SecretBox } from '../security/secrets.js';
import * as repo from './webhooks.repository.js';

export const newSigningSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

export const webhookSecretContext = (webhookId: string): string => `webhook:${webhookId}`;
/** The secret before the last rotation, kept (sealed under its own context) for the grace period. */
export const previousSecretContext = (webhookId: string): string => `webhook-previous:${webhookId}`;
export const tenantSecretContext = (tenantId: string): string => `tenant-webhook:${tenantId}`;

/**
 * The tenant's secret for briefs' webhookUrl. Made on first use if the tenant never asked for one,
 * so every delivery is signed; POST /v1/webhooks/default-secret replaces it and shows it.
 */
export async function tenantSigningSecret(db: AppDb, box: SecretBox, tenantId: string): Promise<string> {
  const stored = await repo.tenantWebhookSecret(db, tenantId);
  if (stored) return box.open(stored, tenantSecretContext(tenantId));
  const fresh = newSigningSecret();
  if (await repo.setTenantWebhookSecret(db, tenantId, box.seal(fresh, tenantSecretContext(tenantId)), true)) return fresh;
  return tenantSigningSecret(db, box, tenantId); // another process made one first
}
