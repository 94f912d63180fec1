/**
 * The service tiers a tenant can be on. A module of its own so that `aiprod` can list them in its
 * help without loading the tenants service (drizzle and the schema are most of a start's time).
 */
export const TIERS = ['free', 'pro', 'enterprise'] as const;
export type Tier = (typeof TIERS)[number];
