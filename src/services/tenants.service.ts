/**
 * Tenants and API keys, as far as the service needs them now: a default tenant, and keys of the
 * form `aiprod_<id>_<secret>` stored as a SHA-256 of the secret, checked in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { AppError } from '../contract/errors.js';
import type { AppDb } from '../db/database.js';
import { apiKeys, tenants } from '../db/schema.js';

export const DEFAULT_TENANT = 'default';
export const ALL_SCOPES = ['productions:write', 'productions:read', 'webhooks', 'admin'] as const;
export type Scope = (typeof ALL_SCOPES)[number];

export interface Principal {
  tenantId: string;
  keyId: string;
  scopes: Scope[];
}

const hash = (secret: string): string => createHash('sha256').update(secret).digest('hex');
const KEY = /^aiprod_([a-z0-9]{12})_([A-Za-z0-9_-]{32,})$/;

export async function ensureDefaultTenant(db: AppDb): Promise<void> {
  await db.insert(tenants).values({ id: DEFAULT_TENANT, name: 'Default', tier: 'enterprise' }).onConflictDoNothing();
}

/** Creates a key and returns it in full: the only time the secret exists outside the caller. */
export async function createApiKey(db: AppDb, tenantId: string, name: string, scopes: Scope[], given?: string): Promise<string> {
  const match = given ? KEY.exec(given) : null;
  if (given && !match) throw new AppError('invalid_request', 'ADMIN_API_KEY must look like aiprod_<12 lowercase letters or digits>_<32+ characters>');
  const id = match?.[1] ?? randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
  const secret = match?.[2] ?? randomBytes(24).toString('base64url');
  await db.insert(apiKeys).values({ id, tenantId, name, secretHash: hash(secret), scopes });
  return `aiprod_${id}_${secret}`;
}

export async function countApiKeys(db: AppDb): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(apiKeys);
  return Number(row?.n ?? 0);
}

/** The principal of a bearer key; 401 with a code for a malformed, unknown, revoked or expired key. */
export async function authenticate(db: AppDb, presented: string): Promise<Principal> {
  const match = KEY.exec(presented);
  const refuse = (code: 'unauthorized', message: string): AppError =>
    new AppError(code, message, { details: [{ path: 'Authorization', message: 'send "Authorization: Bearer aiprod_<id>_<secret>" with a valid key' }] });
  if (!match?.[1] || !match[2]) throw refuse('unauthorized', 'malformed API key');
  const [row] = await db.select().from(apiKeys).where(and(eq(apiKeys.id, match[1]), isNull(apiKeys.revokedAt)));
  const expected = Buffer.from(row?.secretHash ?? hash('-'), 'hex');
  const given = Buffer.from(hash(match[2]), 'hex');
  if (!row || !timingSafeEqual(expected, given)) throw refuse('unauthorized', 'unknown or revoked API key');
  if (row.expiresAt && row.expiresAt.getTime() < Date.now()) throw refuse('unauthorized', 'expired API key');
  // last_used_at at minute resolution: a write per minute per key, not per request.
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    await db.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, row.id));
  }
  return { tenantId: row.tenantId, keyId: row.id, scopes: row.scopes as Scope[] };
}

/**
 * Remembers keys that authenticated for `ttlMs` (default 10 s), so a busy client costs one key
 * lookup per TTL rather than one per request. Failures are never remembered. A key revoked or
 * expired in the database stops working here within the TTL.
 */
export class CachedAuthenticator {
  private readonly entries = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly db: AppDb,
    private readonly options: { ttlMs?: number; maxEntries?: number } = {},
  ) {}

  async authenticate(presented: string): Promise<Principal> {
    const now = Date.now();
    // Keyed by a hash, so the cache never holds a usable secret.
    const slot = hash(presented);
    const hit = this.entries.get(slot);
    if (hit && hit.until > now) return hit.principal;
    const principal = await authenticate(this.db, presented);
    if (this.entries.size >= (this.options.maxEntries ?? 10_000)) this.entries.clear();
    this.entries.set(slot, { principal, until: now + (this.options.ttlMs ?? 10_000) });
    return principal;
  }

  /** Forgets every remembered key (after a revocation in this process). */
  clear(): void {
    this.entries.clear();
  }
}
