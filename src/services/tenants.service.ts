/**
 * Tenants: every production, key, webhook and audit entry belongs to one. A tenant has a tier
 * (free, pro, enterprise: its rate limits and quotas), an optional monthly budget in USD, and
 * optional branding applied to its productions.
 */
import { randomBytes } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { TENANT_KEY_NAMES } from '../providers/provider.js';
import { AppError } from '../contract/errors.js';
import type { AppDb } from '../db/database.js';
import { tenants, type TenantBranding } from '../db/schema.js';
import { TIERS, type Tier } from './tiers.js';

export const DEFAULT_TENANT = 'default';
// Defined in tiers.ts (which the CLI loads without this module); re-exported for the service's users.
export { TIERS, type Tier };

const hex = z.string().regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'use a hex colour such as "#1e3a8a"');
export const brandingSchema = z.strictObject({
  logo: z.string().min(1).max(512).optional().describe("A path under the server's assets directory."),
  colors: z.strictObject({ primary: hex.optional(), secondary: hex.optional(), text: hex.optional() }).optional(),
  font: z.string().min(1).max(512).optional(),
  position: z.enum(['top-left', 'top-right', 'bottom-left', 'bottom-right']).optional(),
});

/** Budget thresholds (services/budgets.service.ts) announced when no thresholds are configured: 80 % and the whole budget. */
export const DEFAULT_BUDGET_THRESHOLDS: readonly number[] = [0.8, 1];

export const budgetThresholdsSchema = z
  .array(
    z
      .number()
      .gt(0, 'a threshold is a fraction of the budget above 0 (0.8 = 80 %)')
      .max(10, 'a threshold is at most 10 (1000 % of the budget); 1 is the whole budget'),
  )
  .min(1, 'give at least one threshold, e.g. [0.8, 1], or null for the default')
  .max(10, 'at most 10 thresholds')
  // Sorted and without repeats, so a crossing is announced once per distinct fraction.
  .transform((list) => [...new Set(list)].sort((a, b) => a - b))
  .describe('Fractions of monthlyBudgetUsd whose crossing sends a budget.threshold event, e.g. [0.5, 0.8, 1]; sorted and deduplicated; null: the default [0.8, 1].');

export const tenantInputSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'use 2–63 lowercase letters, digits and -')
    .optional()
    .describe('Stable id; generated when absent.'),
  name: z.string().trim().min(1).max(200),
  tier: z.enum(TIERS).default('free'),
  monthlyBudgetUsd: z.number().min(0).max(10_000_000).nullable().optional(),
  budgetThresholds: budgetThresholdsSchema.nullable().optional(),
  branding: brandingSchema.nullable().optional(),
});
export type TenantInput = z.input<typeof tenantInputSchema>;

/** Cloud providers a tenant may bring its own key for (used instead of the operator's for its renders; docs/providers.md). */
export const PROVIDER_KEY_NAMES = TENANT_KEY_NAMES;
export const providerKeysSchema = z
  .partialRecord(z.enum(PROVIDER_KEY_NAMES), z.string().trim().min(8).max(1000))
  .describe('The tenant\'s own provider keys; stored encrypted, never shown again (reads list only which are set). null removes them all.');

// The tier is re-declared without its default: zod keeps a default inside .partial(), and a patch
// that leaves the tier out (a budget change) would otherwise reset it to free.
export const tenantPatchSchema = tenantInputSchema
  .omit({ id: true })
  .partial()
  .extend({ tier: z.enum(TIERS).optional(), providerKeys: providerKeysSchema.nullable().optional() });

export interface TenantView {
  id: string;
  name: string;
  tier: Tier;
  monthlyBudgetUsd: number | null;
  /** Fractions of the budget whose crossing is announced (the default [0.8, 1] when none are set). */
  budgetThresholds: number[];
  branding: TenantBranding | null;
  createdAt: string;
  updatedAt: string;
  /** Which providers the tenant has its own key for (the keys themselves are never shown). */
  providerKeys?: string[];
}

function view(row: typeof tenants.$inferSelect): TenantView {
  return {
    id: row.id,
    name: row.name,
    tier: row.tier as Tier,
    monthlyBudgetUsd: row.monthlyBudgetUsd ?? null,
    budgetThresholds: row.budgetThresholds ?? [...DEFAULT_BUDGET_THRESHOLDS],
    branding: row.branding ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function ensureDefaultTenant(db: AppDb): Promise<void> {
  await db.insert(tenants).values({ id: DEFAULT_TENANT, name: 'Default', tier: 'enterprise' }).onConflictDoNothing();
}

export async function createTenant(db: AppDb, input: TenantInput): Promise<TenantView> {
  const parsed = tenantInputSchema.parse(input);
  const id = parsed.id ?? `t-${randomBytes(6).toString('hex')}`;
  const [row] = await db
    .insert(tenants)
    .values({ id, name: parsed.name, tier: parsed.tier, monthlyBudgetUsd: parsed.monthlyBudgetUsd ?? null, budgetThresholds: parsed.budgetThresholds ?? null, branding: parsed.branding ?? null })
    .onConflictDoNothing()
    .returning();
  if (!row) throw new AppError('conflict', `tenant ${id} exists`, { details: [{ path: 'id', message: 'choose another id' }] });
  return view(row);
}

export async function listTenants(db: AppDb): Promise<TenantView[]> {
  return (await db.select().from(tenants).orderBy(asc(tenants.createdAt))).map(view);
}

export async function getTenant(db: AppDb, id: string): Promise<TenantView> {
  const [row] = await db.select().from(tenants).where(eq(tenants.id, id));
  if (!row) throw new AppError('not_found', `no tenant ${id}`, { details: [{ path: 'id', message: 'see GET /v1/tenants' }] });
  return view(row);
}

/** The sealed provider keys of a tenant, as stored (null: none). */
export async function sealedProviderKeys(db: AppDb, id: string): Promise<string | null> {
  const [row] = await db.select({ providerKeys: tenants.providerKeys }).from(tenants).where(eq(tenants.id, id));
  return row?.providerKeys ?? null;
}

export async function updateTenant(db: AppDb, id: string, patch: z.input<typeof tenantPatchSchema>, sealedProviderKeys?: string | null): Promise<TenantView> {
  // Provider keys arrive in clear and are stored only as `sealedProviderKeys` (security/secrets.ts).
  const { providerKeys: _clear, ...parsed } = tenantPatchSchema.parse(patch);
  const [row] = await db
    .update(tenants)
    .set({ ...parsed, ...(sealedProviderKeys !== undefined ? { providerKeys: sealedProviderKeys } : {}), updatedAt: new Date() })
    .where(eq(tenants.id, id))
    .returning();
  if (!row) throw new AppError('not_found', `no tenant ${id}`, { details: [{ path: 'id', message: 'see GET /v1/tenants' }] });
  return view(row);
}

/**
 * The tenant's branding under the brief's own: field by field (colours one by one), the brief wins.
 * Returns the brief unchanged when the tenant has none.
 */
export function applyTenantBranding<B extends object>(brief: B, branding: TenantBranding | null | undefined): B {
  if (!branding) return brief;
  const own = ((brief as { brand?: TenantBranding }).brand ?? {}) as TenantBranding;
  const colors = { ...branding.colors, ...own.colors };
  const brand = { ...branding, ...own, ...(Object.keys(colors).length > 0 ? { colors } : {}) };
  return { ...brief, brand };
}
