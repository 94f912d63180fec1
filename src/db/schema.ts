/**
 * The service's tables (drizzle, PostgreSQL dialect — the same on PGlite and PostgreSQL).
 * Migrations in src/db/migrations are generated from this file with `npm run db:generate`.
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, date, doublePrecision, index, integer, jsonb, pgTable, primaryKey, real, text, timestamp } from 'drizzle-orm/pg-core';
import type { ExperimentAssignments, ProductionStatus } from '../contract/production.js';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const tenants = pgTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** free | pro | enterprise: its rate limits and quotas (security/tiers.ts). */
  tier: text('tier').notNull().default('free'),
  /** USD a month the tenant's productions may cost; null: no budget. */
  monthlyBudgetUsd: real('monthly_budget_usd'),
  /** Logo, colours and font applied to the tenant's productions (a brief's own brand wins). */
  branding: jsonb('branding').$type<TenantBranding | null>(),
  /** The tenant's own cloud-provider keys, as JSON encrypted by security/secrets.ts. */
  providerKeys: text('provider_keys'),
  /** Signs deliveries to briefs' own webhookUrl (webhooks/), encrypted like providerKeys; made on first use. */
  webhookSecret: text('webhook_secret'),
  /** Fractions of the monthly budget whose crossing is announced (budget.threshold); null: the default 0.8 and 1. */
  budgetThresholds: jsonb('budget_thresholds').$type<number[] | null>(),
  createdAt: at('created_at').notNull().defaultNow(),
  updatedAt: at('updated_at').notNull().defaultNow(),
});

export interface TenantBranding {
  logo?: string;
  colors?: { primary?: string; secondary?: string; text?: string };
  font?: string;
  position?: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
}

export const apiKeys = pgTable(
  'api_keys',
  {
    /** The public part of the key (`aiprod_<id>_<secret>`). */
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    name: text('name').notNull(),
    /** SHA-256 of the secret part: the secret itself is shown once and never stored. */
    secretHash: text('secret_hash').notNull(),
    scopes: jsonb('scopes').$type<string[]>().notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    lastUsedAt: at('last_used_at'),
    expiresAt: at('expires_at'),
    revokedAt: at('revoked_at'),
    /** After a rotation the previous secret keeps working until previous_valid_until. */
    previousSecretHash: text('previous_secret_hash'),
    previousValidUntil: at('previous_valid_until'),
    /** Who made it: `key:<id>`, `jwt:<subject>` or `cli`. */
    createdBy: text('created_by'),
  },
  (t) => [index('api_keys_tenant_idx').on(t.tenantId)],
);

export const productions = pgTable(
  'productions',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    status: text('status').$type<ProductionStatus>().notNull(),
    /** The stage running now (or the last one that ran). */
    stage: text('stage'),
    progress: real('progress').notNull().default(0),
    brief: jsonb('brief').notNull(),
    /** The plan, once made; edited while awaiting review. */
    storyboard: jsonb('storyboard'),
    review: boolean('review').notNull().default(false),
    approved: boolean('approved').notNull().default(false),
    /** When the storyboard was approved (by a reviewer, or by the auto-approval below). */
    approvedAt: at('approved_at'),
    /**
     * Seconds a production may wait in awaiting_review without a review action (an edit) before it
     * is approved as it stands; null waits for ever. Set by the original API's ICC presets (COMPAT_AUTO_APPROVE_SEC).
     */
    autoApproveSec: integer('auto_approve_sec'),
    /** Why it was canceled, as the canceller said. */
    cancelReason: text('cancel_reason'),
    /**
     * The request as a client of the original API sent it (POST /pipeline/run: content, preset,
     * lang, priority and any extra fields, plus the cost estimate it was answered with); null for /v1.
     */
    origin: jsonb('origin').$type<Record<string, unknown> | null>(),
    webhookUrl: text('webhook_url'),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull().default({}),
    priority: integer('priority').notNull().default(0),
    /** Render attempts started (a resumed attempt counts too); each claim's number names its stage runs and stored outputs. */
    attempts: integer('attempts').notNull().default(0),
    /**
     * Attempts that used up nothing: handed back on shutdown or deferred on a full disk (and, after a
     * tenant's retry, every attempt before it). RENDER_ATTEMPTS
     * bounds `attempts - uncounted_attempts` (failures and lost workers); RENDER_MAX_REQUEUES bounds the rest.
     */
    uncountedAttempts: integer('uncounted_attempts').notNull().default(0),
    error: jsonb('error').$type<{ code: string; message: string; retryable?: boolean }>(),
    qa: jsonb('qa'),
    cost: jsonb('cost'),
    /** The estimate at creation (POST /v1/estimate's total): counted against the tenant's monthly budget until the actual cost is known. */
    estimatedUsd: real('estimated_usd'),
    /** Per-stage wall seconds of the last attempt. */
    timings: jsonb('timings').$type<Record<string, number>>().notNull().default({}),
    durationSec: real('duration_sec'),
    /** Providers that failed during the render and what replaced them ({ stage, from, to, code, reason }), newest last. */
    fallbacks: jsonb('fallbacks').$type<{ stage: string; from: string; to?: string; code: string; reason: string }[]>().notNull().default([]),
    /** The A/B experiments it is in (flag key → variant, value, applied), assigned at creation from the flags (src/experiments). */
    experiments: jsonb('experiments').$type<ExperimentAssignments>().notNull().default({}),
    /** The worker rendering it now, and when it last said so: a stale heartbeat means a dead worker. */
    workerId: text('worker_id'),
    heartbeatAt: at('heartbeat_at'),
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    /** Times it went back to the queue without finishing (shutdown hand-backs, stall and lost-job recoveries); bounded by RENDER_MAX_REQUEUES. */
    requeues: integer('requeues').notNull().default(0),
    /** Renders handed to another worker because this one's worker stopped heartbeating (aiprod_render_stalls_total). */
    stalls: integer('stalls').notNull().default(0),
    /** Times the auto-retry job re-queued it after a transient failure (jobs/self-healing.ts); bounded by AUTO_RETRY_MAX. */
    autoRetries: integer('auto_retries').notNull().default(0),
    /** Set once when it was found queued or running past STUCK_FACTOR × its expected time (cleared by a retry). */
    stuck: jsonb('stuck').$type<{ at: string; status: string; expectedSec: number; thresholdSec: number } | null>(),
    /** Set when it finishes, for metrics and usage: the tenant's tier then, the frame shape, what the tenant was charged, and the real cost (providers + compute). */
    tier: text('tier'),
    aspectRatio: text('aspect_ratio'),
    revenueUsd: real('revenue_usd'),
    processingCostUsd: real('processing_cost_usd'),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
    startedAt: at('started_at'),
    finishedAt: at('finished_at'),
  },
  (t) => [
    index('productions_tenant_status_idx').on(t.tenantId, t.status),
    index('productions_created_idx').on(t.createdAt.desc(), t.id.desc()),
    index('productions_tenant_created_idx').on(t.tenantId, t.createdAt.desc(), t.id.desc()),
    // Usage rollups (services/usage.service.ts): the days whose productions changed since the last refresh.
    index('productions_updated_idx').on(t.updatedAt),
    index('productions_running_idx')
      .on(t.heartbeatAt)
      .where(sql`${t.status} in ('planning', 'rendering', 'mixing', 'composing', 'checking')`),
  ],
);

/** Worker processes and their last heartbeat: aiprod_workers_alive counts those heard from within STALL_TIMEOUT_SEC. */
export const workers = pgTable('workers', {
  id: text('id').primaryKey(),
  host: text('host').notNull(),
  pid: integer('pid').notNull(),
  version: text('version').notNull(),
  /** Render slots (WORKER_CONCURRENCY). */
  slots: integer('slots').notNull(),
  busy: integer('busy').notNull().default(0),
  startedAt: at('started_at').notNull().defaultNow(),
  heartbeatAt: at('heartbeat_at').notNull().defaultNow(),
});

/** Each edit of a storyboard under review, oldest first: what changed, from what, to what. */
export const productionEdits = pgTable(
  'production_edits',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    productionId: text('production_id')
      .notNull()
      .references(() => productions.id, { onDelete: 'cascade' }),
    at: at('at').notNull().defaultNow(),
    /** Who edited: `key:<id>`, `jwt:<subject>`. */
    actor: text('actor'),
    /** { field: { old, new } } for the fields that changed (`storyboard` when the whole document was replaced). */
    changes: jsonb('changes').$type<Record<string, { old: unknown; new: unknown }>>().notNull(),
  },
  (t) => [index('production_edits_production_idx').on(t.productionId, t.id)],
);

export const stageRuns = pgTable(
  'stage_runs',
  {
    productionId: text('production_id')
      .notNull()
      .references(() => productions.id, { onDelete: 'cascade' }),
    stage: text('stage').notNull(),
    attempt: integer('attempt').notNull(),
    status: text('status').$type<'running' | 'succeeded' | 'failed'>().notNull(),
    startedAt: at('started_at').notNull().defaultNow(),
    finishedAt: at('finished_at'),
    wallSec: real('wall_sec'),
    cachedUnits: integer('cached_units'),
    totalUnits: integer('total_units'),
  },
  (t) => [primaryKey({ columns: [t.productionId, t.stage, t.attempt] })],
);

export const outputs = pgTable(
  'outputs',
  {
    productionId: text('production_id')
      .notNull()
      .references(() => productions.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    mime: text('mime').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    durationSec: real('duration_sec'),
    /** Key in the storage port (a path under the local root, or an S3 key under the prefix). */
    storageKey: text('storage_key').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.productionId, t.name] }), index('outputs_created_idx').on(t.createdAt)],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    key: text('key').notNull(),
    /** SHA-256 of the canonical request body: the same key with another body is a conflict. */
    requestHash: text('request_hash').notNull(),
    /** The productions the request created (one, or a batch's). */
    productionIds: jsonb('production_ids').$type<string[]>().notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key] }), index('idempotency_created_idx').on(t.createdAt)],
);

/** Data keys of security/secrets.ts, each wrapped (AES-256-GCM) with a master key. */
export const dataKeys = pgTable('data_keys', {
  id: text('id').primaryKey(),
  wrappedKey: text('wrapped_key').notNull(),
  /** Fingerprint of the master key that wraps it. */
  masterKeyId: text('master_key_id').notNull(),
  active: boolean('active').notNull().default(false),
  createdAt: at('created_at').notNull().defaultNow(),
  rotatedAt: at('rotated_at'),
});

export const webhooks = pgTable(
  'webhooks',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    url: text('url').notNull(),
    /** production.succeeded, production.failed, production.canceled, production.awaiting_review, production.progress */
    events: jsonb('events').$type<string[]>().notNull(),
    /** The signing secret, encrypted (security/secrets.ts). */
    secret: text('secret').notNull(),
    /** After a rotation the previous secret also signs deliveries until previous_secret_until (encrypted too). */
    previousSecret: text('previous_secret'),
    previousSecretUntil: at('previous_secret_until'),
    enabled: boolean('enabled').notNull().default(true),
    disabledReason: text('disabled_reason'),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [index('webhooks_tenant_idx').on(t.tenantId)],
);

/** One event for one endpoint (a webhook, or a brief's webhookUrl); delivered at least once. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    /** Null for a brief's own webhookUrl. */
    webhookId: text('webhook_id'),
    productionId: text('production_id'),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    url: text('url').notNull(),
    payload: jsonb('payload').notNull(),
    /** pending | delivered | failed (out of attempts) */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: at('next_attempt_at'),
    lastStatusCode: integer('last_status_code'),
    createdAt: at('created_at').notNull().defaultNow(),
    deliveredAt: at('delivered_at'),
  },
  (t) => [
    index('webhook_deliveries_webhook_idx').on(t.webhookId, t.createdAt.desc()),
    index('webhook_deliveries_tenant_idx').on(t.tenantId, t.createdAt.desc()),
    // Order within a production: the handler looks for earlier pending deliveries of the same production.
    index('webhook_deliveries_production_idx').on(t.productionId, t.createdAt),
    // The catch-up looks for pending deliveries that are overdue.
    index('webhook_deliveries_pending_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
  ],
);

/** Every delivery attempt: status, latency and the start of the response. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    deliveryId: text('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    at: at('at').notNull().defaultNow(),
    statusCode: integer('status_code'),
    latencyMs: integer('latency_ms').notNull(),
    responseStart: text('response_start'),
    error: text('error'),
  },
  (t) => [primaryKey({ columns: [t.deliveryId, t.attempt] })],
);

/** Security-relevant actions: who did what to what, from where. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: at('at').notNull().defaultNow(),
    tenantId: text('tenant_id'),
    /** `key:<id>`, `jwt:<subject>`, `cli`, `system` or `ip:<address>` for failed authentication. */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target: text('target'),
    ip: text('ip'),
    details: jsonb('details').$type<Record<string, unknown>>(),
  },
  (t) => [index('audit_tenant_at_idx').on(t.tenantId, t.at.desc()), index('audit_action_at_idx').on(t.action, t.at.desc())],
);

/**
 * Bulk exports of a period (POST /v1/exports, services/exports.service.ts): built by the export
 * job into one stored file, downloadable until expires_at, then deleted by retention.
 */
export const dataExports = pgTable(
  'exports',
  {
    id: text('id').primaryKey(),
    /** The tenant that asked: only it (and operators) may read and download the export. */
    ownerTenantId: text('owner_tenant_id')
      .notNull()
      .references(() => tenants.id),
    /** Whose productions it holds; null: every tenant's (an operator's export). */
    tenantId: text('tenant_id'),
    /** `key:<id>`, `jwt:<subject>` or `cli`. */
    requestedBy: text('requested_by'),
    format: text('format').$type<'csv' | 'json' | 'zip'>().notNull(),
    status: text('status').$type<'queued' | 'running' | 'ready' | 'failed' | 'expired'>().notNull(),
    /** Productions created in [from_at, to_at). */
    fromAt: at('from_at').notNull(),
    toAt: at('to_at').notNull(),
    /** Only productions in these statuses; null: all. */
    statuses: jsonb('statuses').$type<ProductionStatus[] | null>(),
    rows: integer('rows'),
    bytes: bigint('bytes', { mode: 'number' }),
    storageKey: text('storage_key'),
    filename: text('filename'),
    error: jsonb('error').$type<{ code: string; message: string }>(),
    /** Builds started; a worker lost mid-build is noticed by its stale heartbeat and the export queued again. */
    attempts: integer('attempts').notNull().default(0),
    workerId: text('worker_id'),
    heartbeatAt: at('heartbeat_at'),
    createdAt: at('created_at').notNull().defaultNow(),
    startedAt: at('started_at'),
    finishedAt: at('finished_at'),
    /** When its file is deleted (EXPORT_RETENTION_DAYS after it was ready). */
    expiresAt: at('expires_at'),
  },
  (t) => [index('exports_owner_created_idx').on(t.ownerTenantId, t.createdAt.desc()), index('exports_expires_idx').on(t.expiresAt)],
);

/**
 * Budget thresholds crossed: one row per scope (`tenant:<id>` or `operator`), calendar month (UTC,
 * `2026-12`) and threshold (a fraction of the budget). The primary key makes the announcement of a
 * crossing happen once however many API and worker processes see it (INSERT … ON CONFLICT DO NOTHING).
 */
export const budgetAlerts = pgTable(
  'budget_alerts',
  {
    scope: text('scope').notNull(),
    month: text('month').notNull(),
    threshold: real('threshold').notNull(),
    /** The tenant whose budget it is; null for the operator-wide budget. */
    tenantId: text('tenant_id'),
    budgetUsd: real('budget_usd').notNull(),
    spentUsd: real('spent_usd').notNull(),
    at: at('at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.month, t.threshold] })],
);

/**
 * Usage rollups (services/usage.service.ts): one row per UTC day of created_at and the dimensions
 * GET /v1/usage groups by, with the sums of that day's productions as of the last refresh. Days
 * before usage_rollup_state.rolled_through are here; later days, and days with a production changed
 * since the refresh, are read from productions at query time, so answers are exact. Coarser sums
 * sit beside the detailed rows, marked '*': each day over all tenants (tenant_id '*') and per
 * tenant and status only (tier, template, aspect_ratio '*').
 */
const usageDims = {
  day: date('day', { mode: 'string' }).notNull(),
  tenantId: text('tenant_id').notNull(),
  tier: text('tier').notNull(),
  template: text('template').notNull(),
  aspectRatio: text('aspect_ratio').notNull(),
  status: text('status').notNull(),
};
const usageMeasures = () => ({
  productions: integer('productions').notNull(),
  videoSec: doublePrecision('video_sec').notNull(),
  renderSec: doublePrecision('render_sec').notNull(),
  providerUsd: doublePrecision('provider_usd').notNull(),
  processingUsd: doublePrecision('processing_usd').notNull(),
  revenueUsd: doublePrecision('revenue_usd').notNull(),
  /** Productions with both an estimate and a cost report, and the two totals over them. */
  compared: integer('compared').notNull(),
  estimatedUsd: doublePrecision('estimated_usd').notNull(),
  actualUsd: doublePrecision('actual_usd').notNull(),
});

export const usageDaily = pgTable('usage_daily', { ...usageDims, ...usageMeasures() }, (t) => [
  primaryKey({ columns: [t.day, t.tenantId, t.tier, t.template, t.aspectRatio, t.status] }),
  // One tenant's days, or the coarse sums (tenant_id '*': all tenants).
  index('usage_daily_tenant_day_idx').on(t.tenantId, t.day),
]);

/** The same per provider a production's cost report names: provider_usd is that provider's own lines. */
export const usageDailyProviders = pgTable('usage_daily_providers', { ...usageDims, provider: text('provider').notNull(), ...usageMeasures() }, (t) => [
  primaryKey({ columns: [t.day, t.tenantId, t.tier, t.template, t.aspectRatio, t.status, t.provider] }),
  index('usage_daily_providers_tenant_day_idx').on(t.tenantId, t.day),
]);

/** One row (id 1): days before rolled_through are rolled up, as of refreshed_at. */
export const usageRollupState = pgTable('usage_rollup_state', {
  id: integer('id').primaryKey(),
  rolledThrough: date('rolled_through', { mode: 'string' }).notNull(),
  refreshedAt: at('refreshed_at').notNull(),
});

export const schema = { tenants, apiKeys, productions, stageRuns, outputs, idempotencyKeys, dataKeys, webhooks, webhookDeliveries, webhookAttempts, auditLog };
