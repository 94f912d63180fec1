/**
 * API keys: `aiprod_<id>_<secret>`, shown once, stored as a SHA-256 of the secret and checked in
 * constant time. Each key has a name, scopes, an optional expiry and a last-used time (minute
 * resolution). Rotation gives a new secret while the previous one keeps working for a grace period
 * (KEY_ROTATION_GRACE_SEC, 24 h by default); revocation is immediate in this process and reaches
 * other API processes through NOTIFY aiprod_keys.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, desc, eq, isNull, ne, sql } from 'drizzle-orm';
import { AppError } from '../contract/errors.js';
import type { AppDb } from '../db/database.js';
import { apiKeys, tenants } from '../db/schema.js';

export const ALL_SCOPES = ['productions:write', 'productions:read', 'webhooks', 'admin'] as const;
export type Scope = (typeof ALL_SCOPES)[number];

export interface Principal {
  tenantId: string;
  tier: string;
  /** `key:<id>` or `jwt:<subject>`: who acts, for the audit log. */
  actor: string;
  keyId?: string;
  scopes: Scope[];
}

export interface ApiKeyView {
  id: string;
  tenantId: string;
  name: string;
  scopes: Scope[];
  prefix: string;
  createdAt: string;
  createdBy: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  /** Until when the secret before the last rotation still works. */
  previousValidUntil: string | null;
}

const sha256 = (secret: string): string => createHash('sha256').update(secret).digest('hex');
const KEY = /^aiprod_([a-z0-9]{12})_([A-Za-z0-9_-]{32,})$/;
const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

const newId = (): string => randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
const newSecret = (): string => randomBytes(24).toString('base64url');

function view(row: typeof apiKeys.$inferSelect): ApiKeyView {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    scopes: row.scopes as Scope[],
    prefix: `aiprod_${row.id}_`,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy ?? null,
    lastUsedAt: iso(row.lastUsedAt),
    expiresAt: iso(row.expiresAt),
    revokedAt: iso(row.revokedAt),
    previousValidUntil: row.previousValidUntil && row.previousValidUntil > new Date() ? row.previousValidUntil.toISOString() : null,
  };
}

export interface NewKey {
  tenantId: string;
  name: string;
  scopes: Scope[];
  expiresAt?: Date;
  createdBy?: string;
  /** A full key to use instead of a random one (ADMIN_API_KEY). */
  given?: string;
}

/** Creates a key; the returned `key` is the only time the secret exists outside the caller. */
export async function createApiKey(db: AppDb, input: NewKey): Promise<{ key: string; apiKey: ApiKeyView }> {
  const match = input.given ? KEY.exec(input.given) : null;
  if (input.given && !match) throw new AppError('invalid_request', 'ADMIN_API_KEY must look like aiprod_<12 lowercase letters or digits>_<32+ characters>');
  const id = match?.[1] ?? newId();
  const secret = match?.[2] ?? newSecret();
  const [row] = await db
    .insert(apiKeys)
    .values({ id, tenantId: input.tenantId, name: input.name, secretHash: sha256(secret), scopes: input.scopes, expiresAt: input.expiresAt ?? null, createdBy: input.createdBy ?? null })
    .returning();
  return { key: `aiprod_${id}_${secret}`, apiKey: view(row as typeof apiKeys.$inferSelect) };
}

export async function countApiKeys(db: AppDb): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(apiKeys);
  return Number(row?.n ?? 0);
}

export async function listApiKeys(db: AppDb, tenantId?: string): Promise<ApiKeyView[]> {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(tenantId ? eq(apiKeys.tenantId, tenantId) : undefined)
    .orderBy(desc(apiKeys.createdAt));
  return rows.map(view);
}

async function requireKey(db: AppDb, id: string, tenantId?: string): Promise<typeof apiKeys.$inferSelect> {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(tenantId ? and(eq(apiKeys.id, id), eq(apiKeys.tenantId, tenantId)) : eq(apiKeys.id, id));
  if (!row) throw new AppError('not_found', `no API key ${id}`, { details: [{ path: 'id', message: 'see GET /v1/api-keys for your keys' }] });
  return row;
}

/**
 * A new secret for the key. The previous secret keeps working for `graceSec` (0: not at all), so
 * clients can be redeployed without an outage.
 */
export async function rotateApiKey(db: AppDb, id: string, graceSec: number, tenantId?: string): Promise<{ key: string; apiKey: ApiKeyView }> {
  const row = await requireKey(db, id, tenantId);
  if (row.revokedAt) throw new AppError('conflict', `API key ${id} is revoked`, { details: [{ path: 'id', message: 'create a new key instead' }] });
  const secret = newSecret();
  const [updated] = await db
    .update(apiKeys)
    .set({ secretHash: sha256(secret), previousSecretHash: graceSec > 0 ? row.secretHash : null, previousValidUntil: graceSec > 0 ? new Date(Date.now() + graceSec * 1000) : null })
    .where(eq(apiKeys.id, id))
    .returning();
  return { key: `aiprod_${id}_${secret}`, apiKey: view(updated as typeof apiKeys.$inferSelect) };
}

export async function revokeApiKey(db: AppDb, id: string, tenantId?: string): Promise<ApiKeyView> {
  const row = await requireKey(db, id, tenantId);
  if (row.revokedAt) return view(row);
  const [updated] = await db.update(apiKeys).set({ revokedAt: new Date(), previousSecretHash: null, previousValidUntil: null }).where(eq(apiKeys.id, id)).returning();
  return view(updated as typeof apiKeys.$inferSelect);
}

/** Revokes every live key of the tenant except `keep` (the caller's own, when it asks to keep it). */
export async function revokeAllApiKeys(db: AppDb, tenantId: string, keep?: string): Promise<string[]> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: new Date(), previousSecretHash: null, previousValidUntil: null })
    .where(and(eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt), keep ? ne(apiKeys.id, keep) : undefined))
    .returning({ id: apiKeys.id });
  return rows.map((r) => r.id);
}

const refuse = (code: 'unauthorized' | 'key_revoked' | 'key_expired', message: string): AppError =>
  new AppError(code, message, { details: [{ path: 'Authorization', message: 'send "Authorization: Bearer aiprod_<id>_<secret>" with a valid key' }] });

export const isApiKey = (token: string): boolean => token.startsWith('aiprod_');

/** The principal of a bearer key; 401 `unauthorized`, `key_revoked` or `key_expired` otherwise. */
export async function authenticateKey(db: AppDb, presented: string): Promise<Principal> {
  return (await verifyKey(db, presented)).principal;
}

/**
 * The principal, and until when this credential is valid at most (ms since the epoch; Infinity
 * when it has no end): its expiry, or the end of the rotation grace when the previous secret was used.
 */
async function verifyKey(db: AppDb, presented: string): Promise<{ principal: Principal; validUntil: number }> {
  const match = KEY.exec(presented);
  if (!match?.[1] || !match[2]) throw refuse('unauthorized', 'malformed API key');
  const [found] = await db
    .select({ key: apiKeys, tier: tenants.tier })
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(eq(apiKeys.id, match[1]));
  const row = found?.key;
  const now = Date.now();
  const given = Buffer.from(sha256(match[2]), 'hex');
  const same = (hash: string | null | undefined): boolean => timingSafeEqual(Buffer.from(hash ?? sha256('-'), 'hex'), given);
  const current = same(row?.secretHash);
  const previous = !current && !!row?.previousValidUntil && row.previousValidUntil.getTime() > now && same(row.previousSecretHash);
  if (!row || !found || (!current && !previous)) throw refuse('unauthorized', 'unknown API key');
  if (row.revokedAt) throw refuse('key_revoked', `API key ${row.id} was revoked at ${row.revokedAt.toISOString()}`);
  if (row.expiresAt && row.expiresAt.getTime() <= now) throw refuse('key_expired', `API key ${row.id} expired at ${row.expiresAt.toISOString()}`);
  // last_used_at at minute resolution: a write per minute per key, not per request.
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > 60_000) {
    await db.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, row.id));
  }
  const validUntil = Math.min(row.expiresAt?.getTime() ?? Infinity, previous && row.previousValidUntil ? row.previousValidUntil.getTime() : Infinity);
  return { principal: { tenantId: row.tenantId, tier: found.tier, actor: `key:${row.id}`, keyId: row.id, scopes: row.scopes as Scope[] }, validUntil };
}

/**
 * Remembers keys that authenticated for `ttlMs` (default 10 s), so a busy client costs one key
 * lookup per TTL rather than one per request — but never past the key's own end (its expiry, or
 * the end of the rotation grace for a previous secret): that is checked on every hit, and a key
 * past it is looked up again, which refuses it. Failures are never remembered. Revocations and
 * rotations clear it at once in every process (NOTIFY aiprod_keys); the TTL bounds what a lost
 * notification could leave behind.
 */
export class CachedAuthenticator {
  private readonly entries = new Map<string, { principal: Principal; until: number; validUntil: number }>();

  constructor(
    private readonly db: AppDb,
    private readonly options: { ttlMs?: number; maxEntries?: number } = {},
  ) {}

  /** Bumped by clear(): a lookup that started before a revocation must not refill the cache after it. */
  private generation = 0;

  async authenticate(presented: string): Promise<Principal> {
    // Keyed by a hash, so the cache never holds a usable secret.
    const slot = sha256(presented);
    const hit = this.entries.get(slot);
    if (hit) {
      const now = Date.now();
      if (hit.until > now && hit.validUntil > now) return hit.principal;
      this.entries.delete(slot);
    }
    const started = this.generation;
    const { principal, validUntil } = await verifyKey(this.db, presented);
    if (started !== this.generation) return principal;
    if (this.entries.size >= (this.options.maxEntries ?? 10_000)) this.entries.clear();
    this.entries.set(slot, { principal, until: Date.now() + (this.options.ttlMs ?? 10_000), validUntil });
    return principal;
  }

  /** Forgets every remembered key (after a revocation, rotation or tier change anywhere). */
  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
