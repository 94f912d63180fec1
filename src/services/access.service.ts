/**
 * Access administration, shared by the HTTP API (/v1/api-keys, /v1/tenants, /v1/audit) and the CLI
 * (`aiprod keys …`, `aiprod tenants …`): every change is audited, and changes that affect
 * authentication are announced on NOTIFY aiprod_keys so every API process drops its key cache.
 */
import { AppError } from '../contract/errors.js';
import type { Database } from '../db/database.js';
import type { SecretBox } from '../security/secrets.js';
import { AuditLog } from './audit.service.js';
import * as keys from './keys.service.js';
import { KEYS_CHANNEL } from '../db/channels.js';
import { ALL_SCOPES, type Scope } from './keys.service.js';
import * as tenants from './tenants.service.js';

/** Who asks, and from where (for the audit log and for scope checks). */
export interface Actor {
  actor: string;
  tenantId?: string;
  /** The actor's own scopes; a key can only give out scopes it has. Undefined: all (the CLI). */
  scopes?: Scope[];
  ip?: string;
}

export class AccessService {
  readonly audit: AuditLog;

  constructor(
    private readonly database: Database,
    private readonly options: { rotationGraceSec: number; secrets?: SecretBox },
    audit?: AuditLog,
  ) {
    this.audit = audit ?? new AuditLog(database.db);
  }

  private get db() {
    return this.database.db;
  }

  private async changed(): Promise<void> {
    await this.database.notify(KEYS_CHANNEL, 'changed');
  }

  private record(by: Actor, action: string, tenantId: string | null, target: string | null, details?: Record<string, unknown>): Promise<void> {
    return this.audit.record({ actor: by.actor, tenantId, action, target, ip: by.ip ?? null, details });
  }

  async createKey(by: Actor, input: { tenantId: string; name: string; scopes: Scope[]; expiresAt?: Date }): Promise<{ key: string; apiKey: keys.ApiKeyView }> {
    const granted = by.scopes;
    const beyond = granted && !granted.includes('admin') ? input.scopes.filter((s) => !granted.includes(s)) : [];
    if (beyond.length > 0) {
      throw new AppError('forbidden', `a key cannot give out scopes it lacks: ${beyond.join(', ')}`, { details: [{ path: 'scopes', message: `use some of ${granted?.join(', ')}` }] });
    }
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw new AppError('invalid_request', `expiresAt ${input.expiresAt.toISOString()} is not in the future`, { details: [{ path: 'expiresAt', message: 'give a time in the future, or leave it out for a key that does not expire' }] });
    }
    await tenants.getTenant(this.db, input.tenantId);
    const created = await keys.createApiKey(this.db, { ...input, createdBy: by.actor });
    await this.record(by, 'api_key.created', input.tenantId, created.apiKey.id, { name: input.name, scopes: input.scopes, expiresAt: input.expiresAt?.toISOString() ?? null });
    return created;
  }

  listKeys(tenantId?: string): Promise<keys.ApiKeyView[]> {
    return keys.listApiKeys(this.db, tenantId);
  }

  async rotateKey(by: Actor, id: string, tenantId: string | undefined, graceSec = this.options.rotationGraceSec): Promise<{ key: string; apiKey: keys.ApiKeyView }> {
    const rotated = await keys.rotateApiKey(this.db, id, graceSec, tenantId);
    await this.record(by, 'api_key.rotated', rotated.apiKey.tenantId, id, { graceSec });
    await this.changed();
    return rotated;
  }

  async revokeKey(by: Actor, id: string, tenantId: string | undefined): Promise<keys.ApiKeyView> {
    const revoked = await keys.revokeApiKey(this.db, id, tenantId);
    await this.record(by, 'api_key.revoked', revoked.tenantId, id);
    await this.changed();
    return revoked;
  }

  async revokeAllKeys(by: Actor, tenantId: string, keep?: string): Promise<string[]> {
    const ids = await keys.revokeAllApiKeys(this.db, tenantId, keep);
    await this.record(by, 'api_key.revoked_all', tenantId, null, { revoked: ids, kept: keep ?? null });
    await this.changed();
    return ids;
  }

  async createTenant(by: Actor, input: tenants.TenantInput): Promise<tenants.TenantView> {
    const tenant = await tenants.createTenant(this.db, input);
    await this.record(by, 'tenant.created', tenant.id, tenant.id, { tier: tenant.tier, monthlyBudgetUsd: tenant.monthlyBudgetUsd });
    return tenant;
  }

  async updateTenant(by: Actor, id: string, patch: Parameters<typeof tenants.updateTenant>[2]): Promise<tenants.TenantView> {
    const before = await tenants.getTenant(this.db, id);
    let sealed: string | null | undefined;
    if (patch.providerKeys !== undefined) {
      if (patch.providerKeys === null || Object.keys(patch.providerKeys).length === 0) sealed = null;
      else {
        if (!this.options.secrets) throw new AppError('internal', 'provider keys need the secret box');
        sealed = this.options.secrets.seal(JSON.stringify(patch.providerKeys), providerKeysContext(id));
      }
    }
    const after = await tenants.updateTenant(this.db, id, patch, sealed);
    const changes: Record<string, unknown> = Object.fromEntries(
      Object.keys(patch)
        .filter((k) => k !== 'providerKeys')
        .map((k) => [k, { from: before[k as keyof typeof before] ?? null, to: after[k as keyof typeof after] ?? null }]),
    );
    // The audit names which provider keys were set, never their values.
    if (patch.providerKeys !== undefined) changes.providerKeys = { to: patch.providerKeys ? Object.keys(patch.providerKeys) : [] };
    await this.record(by, 'tenant.updated', id, id, changes);
    // The tier travels with cached principals.
    if (before.tier !== after.tier) await this.changed();
    return this.withProviderKeys(after);
  }

  /** The tenant's own provider keys, decrypted (for the providers; never returned by the API). */
  async providerKeys(tenantId: string): Promise<Partial<Record<(typeof tenants.PROVIDER_KEY_NAMES)[number], string>>> {
    const sealed = await tenants.sealedProviderKeys(this.db, tenantId);
    if (!sealed) return {};
    if (!this.options.secrets) throw new AppError('internal', 'provider keys need the secret box');
    return JSON.parse(this.options.secrets.open(sealed, providerKeysContext(tenantId))) as Record<string, string>;
  }

  private async withProviderKeys(tenant: tenants.TenantView): Promise<tenants.TenantView> {
    if (!this.options.secrets) return tenant;
    return { ...tenant, providerKeys: Object.keys(await this.providerKeys(tenant.id)).sort() };
  }

  async listTenants(): Promise<tenants.TenantView[]> {
    return Promise.all((await tenants.listTenants(this.db)).map((t) => this.withProviderKeys(t)));
  }

  async getTenant(id: string): Promise<tenants.TenantView> {
    return this.withProviderKeys(await tenants.getTenant(this.db, id));
  }
}

const providerKeysContext = (tenantId: string): string => `tenant:${tenantId}:provider-keys`;

export const parseScopes = (text: string): Scope[] => {
  const scopes = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = scopes.filter((s) => !(ALL_SCOPES as readonly string[]).includes(s));
  if (bad.length > 0 || scopes.length === 0) {
    throw new AppError('invalid_request', `unknown scope(s): ${bad.join(', ') || '(none given)'}`, { details: [{ path: 'scopes', message: `use some of ${ALL_SCOPES.join(', ')}` }] });
  }
  return scopes as Scope[];
};
