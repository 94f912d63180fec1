/**
 * The service's tables (drizzle, PostgreSQL dialect — the same on PGlite and PostgreSQL).
 * Migrations in src/db/migrations are generated from this file with `npm run db:generate`.
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, real, text, timestamp } from 'drizzle-orm/pg-core';
import type { ProductionStatus } from '../contract/production.js';

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
    /** The worker rendering it now, and when it last said so: a stale heartbeat means a dead worker. */
    workerId: text('worker_id'),
    heartbeatAt: at('heartbeat_at'),
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    /** Times it went back to the queue without finishing (shutdown hand-backs, stall and lost-job recoveries); bounded by RENDER_MAX_REQUEUES. */
    requeues: integer('requeues').notNull().default(0),
    /** Renders handed to another worker because this one's worker stopped heartbeating (aiprod_render_stalls_total). */
    stalls: integer('stalls').notNull().default(0),
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

export const schema = { tenants, apiKeys, productions, stageRuns, outputs, idempotencyKeys, dataKeys, webhooks, webhookDeliveries, webhookAttempts, auditLog };
