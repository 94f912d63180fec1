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
  /** free | pro | enterprise (limits arrive with the tenancy issue). */
  tier: text('tier').notNull().default('free'),
  createdAt: at('created_at').notNull().defaultNow(),
});

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
    webhookUrl: text('webhook_url'),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull().default({}),
    priority: integer('priority').notNull().default(0),
    /** Render attempts started (a resumed attempt counts too). */
    attempts: integer('attempts').notNull().default(0),
    error: jsonb('error').$type<{ code: string; message: string; retryable?: boolean }>(),
    qa: jsonb('qa'),
    cost: jsonb('cost'),
    /** Per-stage wall seconds of the last attempt. */
    timings: jsonb('timings').$type<Record<string, number>>().notNull().default({}),
    durationSec: real('duration_sec'),
    /** The worker rendering it now, and when it last said so: a stale heartbeat means a dead worker. */
    workerId: text('worker_id'),
    heartbeatAt: at('heartbeat_at'),
    cancelRequested: boolean('cancel_requested').notNull().default(false),
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

export const schema = { tenants, apiKeys, productions, stageRuns, outputs, idempotencyKeys };
