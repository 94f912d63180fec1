/**
 * Queries on productions and what hangs off them (stage runs, outputs, idempotency keys). Every
 * function takes the drizzle handle it should use, so callers can pass a transaction.
 */
import { and, asc, desc, eq, gte, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import { RUNNING_STATUSES, type ListQuery, type ProductionStatus } from '../contract/production.js';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { AppDb } from './database.js';
import { idempotencyKeys, outputs, productionEdits, productions, stageRuns } from './schema.js';

export type ProductionRow = typeof productions.$inferSelect;
export type NewProduction = typeof productions.$inferInsert;
export type StageRunRow = typeof stageRuns.$inferSelect;
export type OutputRow = typeof outputs.$inferSelect;
export type EditRow = typeof productionEdits.$inferSelect;

export async function insertProductions(db: AppDb, rows: NewProduction[]): Promise<void> {
  if (rows.length > 0) await db.insert(productions).values(rows);
}

export async function findProduction(db: AppDb, tenantId: string, id: string): Promise<ProductionRow | undefined> {
  const [row] = await db.select().from(productions).where(and(eq(productions.id, id), eq(productions.tenantId, tenantId)));
  return row;
}

export async function findProductionById(db: AppDb, id: string): Promise<ProductionRow | undefined> {
  const [row] = await db.select().from(productions).where(eq(productions.id, id));
  return row;
}

export async function findStageRuns(db: AppDb, productionId: string): Promise<StageRunRow[]> {
  return db.select().from(stageRuns).where(eq(stageRuns.productionId, productionId)).orderBy(asc(stageRuns.attempt), asc(stageRuns.startedAt));
}

export async function findOutputs(db: AppDb, productionId: string): Promise<OutputRow[]> {
  return db.select().from(outputs).where(eq(outputs.productionId, productionId)).orderBy(asc(outputs.name));
}

/** Cursor: the (created_at, id) of the last row of the previous page, base64url JSON. */
export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } | undefined {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const createdAt = new Date(at);
    return typeof id === 'string' && !Number.isNaN(createdAt.getTime()) ? { createdAt, id } : undefined;
  } catch {
    return undefined;
  }
}

export interface ProductionWithDetails {
  row: ProductionRow;
  stages: StageRunRow[];
  outputs: OutputRow[];
}

// A production's stage runs and outputs as JSON arrays in the same row (keys as the row types
// name them), so a page is one query and not two more per production.
const STAGES_JSON = sql<Record<string, unknown>[]>`coalesce((
  select json_agg(json_build_object(
    'stage', s.stage, 'attempt', s.attempt, 'status', s.status, 'startedAt', s.started_at, 'finishedAt', s.finished_at,
    'wallSec', s.wall_sec, 'cachedUnits', s.cached_units, 'totalUnits', s.total_units) order by s.attempt, s.started_at)
  from stage_runs s where s.production_id = ${productions.id}), '[]'::json)`;
const OUTPUTS_JSON = sql<Record<string, unknown>[]>`coalesce((
  select json_agg(json_build_object(
    'name', o.name, 'kind', o.kind, 'mime', o.mime, 'bytes', o.bytes, 'durationSec', o.duration_sec,
    'storageKey', o.storage_key, 'createdAt', o.created_at) order by o.name)
  from outputs o where o.production_id = ${productions.id}), '[]'::json)`;

const date = (value: unknown): Date => new Date(value as string);

/** A page of productions, newest first, with their stage runs and outputs, in one query. `offset` skips rows (the legacy /pipeline/jobs pagination; the v1 API pages by cursor). */
export async function listProductionsWithDetails(
  db: AppDb,
  tenantId: string,
  query: ListQuery,
  cursor: { createdAt: Date; id: string } | undefined,
  offset = 0,
): Promise<ProductionWithDetails[]> {
  const rows = await db
    .select({ row: productions, stages: STAGES_JSON, outputs: OUTPUTS_JSON })
    .from(productions)
    .where(listConditions(tenantId, query, cursor))
    .orderBy(desc(productions.createdAt), desc(productions.id))
    .limit(query.limit + 1)
    .offset(offset);
  return rows.map(withDetails);
}

/** One production of the tenant with its stage runs and outputs, in one query (GET /v1/productions/:id). */
export async function findProductionWithDetails(db: AppDb, tenantId: string, id: string): Promise<ProductionWithDetails | undefined> {
  const [found] = await db
    .select({ row: productions, stages: STAGES_JSON, outputs: OUTPUTS_JSON })
    .from(productions)
    .where(and(eq(productions.id, id), eq(productions.tenantId, tenantId)));
  return found ? withDetails(found) : undefined;
}

function withDetails({ row, stages, outputs }: { row: ProductionRow; stages: Record<string, unknown>[]; outputs: Record<string, unknown>[] }): ProductionWithDetails {
  return {
    row,
    stages: stages.map((s) => ({ ...(s as StageRunRow), productionId: row.id, startedAt: date(s.startedAt), finishedAt: s.finishedAt ? date(s.finishedAt) : null })),
    outputs: outputs.map((o) => ({ ...(o as OutputRow), productionId: row.id, bytes: Number(o.bytes), createdAt: date(o.createdAt) })),
  };
}

function listConditions(tenantId: string, query: ListQuery, cursor: { createdAt: Date; id: string } | undefined): SQL | undefined {
  const conditions = [eq(productions.tenantId, tenantId)];
  if (query.status) conditions.push(inArray(productions.status, query.status.split(',') as ProductionStatus[]));
  if (query.createdFrom) conditions.push(gte(productions.createdAt, new Date(query.createdFrom)));
  if (query.createdTo) conditions.push(lt(productions.createdAt, new Date(query.createdTo)));
  if (query.metadata) {
    const at = query.metadata.indexOf('=');
    conditions.push(sql`${productions.metadata} @> ${JSON.stringify({ [query.metadata.slice(0, at)]: query.metadata.slice(at + 1) })}::jsonb`);
  }
  if (cursor) {
    conditions.push(
      or(lt(productions.createdAt, cursor.createdAt), and(eq(productions.createdAt, cursor.createdAt), lt(productions.id, cursor.id))) ?? sql`false`,
    );
  }
  return and(...conditions);
}

export async function findIdempotencyKey(db: AppDb, tenantId: string, key: string): Promise<typeof idempotencyKeys.$inferSelect | undefined> {
  const [row] = await db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.tenantId, tenantId), eq(idempotencyKeys.key, key)));
  return row;
}

/** Inserts the keys that are free; returns the `tenant\0key` of each one inserted. */
export async function insertIdempotencyKeys(db: AppDb, rows: (typeof idempotencyKeys.$inferInsert)[]): Promise<Set<string>> {
  const inserted = await db.insert(idempotencyKeys).values(rows).onConflictDoNothing().returning({ tenantId: idempotencyKeys.tenantId, key: idempotencyKeys.key });
  return new Set(inserted.map((r) => `${r.tenantId}\u0000${r.key}`));
}

/** Inserts the key; false when another request took it first (the caller rolls back and replays). */
export async function insertIdempotencyKey(db: AppDb, row: typeof idempotencyKeys.$inferInsert): Promise<boolean> {
  const inserted = await db.insert(idempotencyKeys).values(row).onConflictDoNothing().returning({ key: idempotencyKeys.key });
  return inserted.length === 1;
}

/**
 * Takes a production for this worker: only when it is waiting, or running under a worker whose
 * heartbeat is older than `stallSec` (a dead worker), and never once a cancel was asked. Returns
 * the row as taken, or undefined.
 */
export async function claimProduction(db: AppDb, id: string, workerId: string, stallSec: number): Promise<ProductionRow | undefined> {
  const [row] = await db
    .update(productions)
    .set({ workerId, heartbeatAt: sql`now()`, attempts: sql`${productions.attempts} + 1`, updatedAt: sql`now()`, startedAt: sql`coalesce(${productions.startedAt}, now())`, error: null })
    .where(
      and(
        eq(productions.id, id),
        eq(productions.cancelRequested, false),
        or(
          eq(productions.status, 'queued'),
          and(
            inArray(productions.status, [...RUNNING_STATUSES]),
            or(isNull(productions.workerId), eq(productions.workerId, workerId), lt(productions.heartbeatAt, sql`now() - make_interval(secs => ${stallSec})`)),
          ),
        ),
      ),
    )
    .returning();
  return row;
}

/** Attempts that count against RENDER_ATTEMPTS: failures and lost workers, not hand-backs or deferrals. */
export function countedAttempts(row: Pick<ProductionRow, 'attempts' | 'uncountedAttempts'>): number {
  return row.attempts - row.uncountedAttempts;
}

/** Renews the lease; undefined when the production is no longer this worker's. */
export async function heartbeat(db: AppDb, id: string, workerId: string): Promise<{ cancelRequested: boolean } | undefined> {
  const [row] = await db
    .update(productions)
    .set({ heartbeatAt: sql`now()` })
    .where(and(eq(productions.id, id), eq(productions.workerId, workerId)))
    .returning({ cancelRequested: productions.cancelRequested });
  return row;
}

/**
 * Updates a production this worker holds (queued or running, its worker, no cancel asked); false
 * when it holds it no more — canceled, or taken over — which the caller must treat as a signal.
 */
export async function updateOwned(db: AppDb, id: string, workerId: string, values: Partial<NewProduction>): Promise<boolean> {
  const rows = await db
    .update(productions)
    .set({ updatedAt: sql`now()`, heartbeatAt: sql`now()`, ...values })
    .where(
      and(
        eq(productions.id, id),
        eq(productions.workerId, workerId),
        eq(productions.cancelRequested, false),
        inArray(productions.status, ['queued', ...RUNNING_STATUSES]),
      ),
    )
    .returning({ id: productions.id });
  return rows.length === 1;
}

/**
 * Puts a production this worker holds back in the queue (a retryable failure the queue retries; or,
 * with `requeue`, a hand-back on shutdown or a full disk's deferral, which count against
 * RENDER_MAX_REQUEUES and not as an attempt); false when it holds it no more (see updateOwned).
 */
export async function releaseOwned(db: AppDb, id: string, workerId: string, options: { requeue: boolean; error?: NewProduction['error'] }): Promise<boolean> {
  const rows = await db
    .update(productions)
    .set({
      status: 'queued', workerId: null, heartbeatAt: null, updatedAt: sql`now()`,
      ...(options.error !== undefined ? { error: options.error } : {}),
      ...(options.requeue ? { requeues: sql`${productions.requeues} + 1`, uncountedAttempts: sql`${productions.uncountedAttempts} + 1` } : {}),
    })
    .where(and(eq(productions.id, id), eq(productions.workerId, workerId), eq(productions.cancelRequested, false), inArray(productions.status, [...RUNNING_STATUSES])))
    .returning({ id: productions.id });
  return rows.length === 1;
}

/**
 * A production whose cancel was asked but that is not final yet (a cancel that raced a status
 * write) is recorded canceled; returns the row when this call did it.
 */
export async function settleCanceled(db: AppDb, id: string): Promise<ProductionRow | undefined> {
  const [row] = await db
    .update(productions)
    .set({ status: 'canceled', workerId: null, heartbeatAt: null, finishedAt: sql`coalesce(${productions.finishedAt}, now())`, updatedAt: sql`now()` })
    .where(and(eq(productions.id, id), eq(productions.cancelRequested, true), inArray(productions.status, ['queued', 'awaiting_review', ...RUNNING_STATUSES])))
    .returning();
  return row;
}

/**
 * The sweeper's write on a production it found stalled or jobless: applied only while the row is
 * still as found — same status and worker, no cancel asked, and (when running) its lease still
 * stale — so a worker that was only slow, or a cancel that landed meanwhile, wins.
 */
export async function updateSwept(db: AppDb, found: ProductionRow, stallSec: number, values: PgUpdateSetSource<typeof productions>): Promise<ProductionRow | undefined> {
  const running = (RUNNING_STATUSES as readonly ProductionStatus[]).includes(found.status);
  const [row] = await db
    .update(productions)
    .set({ ...values, updatedAt: sql`now()` })
    .where(
      and(
        eq(productions.id, found.id),
        eq(productions.status, found.status),
        eq(productions.cancelRequested, false),
        found.workerId === null ? isNull(productions.workerId) : eq(productions.workerId, found.workerId),
        running ? or(isNull(productions.heartbeatAt), lt(productions.heartbeatAt, sql`now() - make_interval(secs => ${stallSec})`)) : undefined,
      ),
    )
    .returning();
  return row;
}

export async function updateProduction(db: AppDb, id: string, values: Partial<NewProduction>, onlyIn?: ProductionStatus[]): Promise<ProductionRow | undefined> {
  const where = onlyIn ? and(eq(productions.id, id), inArray(productions.status, onlyIn)) : eq(productions.id, id);
  const [row] = await db.update(productions).set({ ...values, updatedAt: sql`now()` }).where(where).returning();
  return row;
}

export async function startStageRun(db: AppDb, productionId: string, stage: string, attempt: number): Promise<void> {
  await db
    .insert(stageRuns)
    .values({ productionId, stage, attempt, status: 'running' })
    .onConflictDoUpdate({ target: [stageRuns.productionId, stageRuns.stage, stageRuns.attempt], set: { status: 'running', startedAt: sql`now()` } });
}

export async function finishStageRun(
  db: AppDb,
  key: { productionId: string; stage: string; attempt: number },
  values: { status: 'succeeded' | 'failed'; wallSec?: number; cachedUnits?: number; totalUnits?: number },
): Promise<void> {
  await db
    .update(stageRuns)
    .set({ ...values, finishedAt: sql`now()` })
    .where(and(eq(stageRuns.productionId, key.productionId), eq(stageRuns.stage, key.stage), eq(stageRuns.attempt, key.attempt)));
}

/**
 * Marks running stage runs failed: those of one attempt (`attempt`, a render ending), or of every
 * attempt before one (`before`, a new claim ending what a dead worker left) — never a later owner's.
 */
export async function failRunningStageRuns(db: AppDb, productionId: string, which: { attempt: number } | { before: number }): Promise<void> {
  await db
    .update(stageRuns)
    .set({ status: 'failed', finishedAt: sql`now()` })
    .where(
      and(
        eq(stageRuns.productionId, productionId),
        eq(stageRuns.status, 'running'),
        'attempt' in which ? eq(stageRuns.attempt, which.attempt) : lt(stageRuns.attempt, which.before),
      ),
    );
}

export async function replaceOutputs(db: AppDb, productionId: string, rows: (typeof outputs.$inferInsert)[]): Promise<void> {
  await db.delete(outputs).where(eq(outputs.productionId, productionId));
  if (rows.length > 0) await db.insert(outputs).values(rows);
}

/**
 * Running productions whose worker has been silent for `stallSec`, and queued ones older than
 * `queuedSec`: at most `limit`, the longest silent first (so a backlog cannot starve the oldest).
 */
export async function findStalled(db: AppDb, stallSec: number, queuedSec: number, limit = 500): Promise<ProductionRow[]> {
  return db
    .select()
    .from(productions)
    .where(
      or(
        and(inArray(productions.status, [...RUNNING_STATUSES]), lt(productions.heartbeatAt, sql`now() - make_interval(secs => ${stallSec})`)),
        and(eq(productions.status, 'queued'), lt(productions.updatedAt, sql`now() - make_interval(secs => ${queuedSec})`)),
      ),
    )
    .orderBy(asc(sql`coalesce(${productions.heartbeatAt}, ${productions.updatedAt})`), asc(productions.id))
    .limit(limit);
}

export async function countByStatus(db: AppDb): Promise<Record<string, number>> {
  const rows = await db.select({ status: productions.status, n: sql<number>`count(*)::int` }).from(productions).groupBy(productions.status);
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Where a page of outputs ended: outputs are paged by (production_id, name), exact text keys. */
export type OutputKey = Pick<OutputRow, 'productionId' | 'name'>;

/** Outputs created before `olderThan`, in key order, after `after` when given. */
export async function findExpiredOutputs(db: AppDb, olderThan: Date, limit = 1000, after?: OutputKey): Promise<OutputRow[]> {
  const conditions = [lt(outputs.createdAt, olderThan)];
  if (after) conditions.push(sql`(${outputs.productionId}, ${outputs.name}) > (${after.productionId}, ${after.name})`);
  return db
    .select()
    .from(outputs)
    .where(and(...conditions))
    .orderBy(asc(outputs.productionId), asc(outputs.name))
    .limit(limit);
}

export async function deleteOutput(db: AppDb, productionId: string, name: string): Promise<void> {
  await db.delete(outputs).where(and(eq(outputs.productionId, productionId), eq(outputs.name, name)));
}

/** Records one review edit of a production's storyboard. */
export async function insertEdit(db: AppDb, edit: { productionId: string; actor: string | null; changes: EditRow['changes'] }): Promise<EditRow> {
  const [row] = await db.insert(productionEdits).values(edit).returning();
  if (!row) throw new Error('insert into production_edits returned no row');
  return row;
}

/** A production's review edits, oldest first; only those after edit `afterId` when given. */
export async function findEdits(db: AppDb, productionId: string, afterId = 0): Promise<EditRow[]> {
  return db
    .select()
    .from(productionEdits)
    .where(and(eq(productionEdits.productionId, productionId), sql`${productionEdits.id} > ${afterId}`))
    .orderBy(asc(productionEdits.id));
}

/**
 * Productions awaiting review whose auto-approval wait has passed: `auto_approve_sec` since the
 * last change to the row (entering review, or the last edit, bumps updated_at).
 */
export async function findOverdueReviews(db: AppDb, limit = 200): Promise<ProductionRow[]> {
  return db
    .select()
    .from(productions)
    .where(
      and(
        eq(productions.status, 'awaiting_review'),
        sql`${productions.autoApproveSec} is not null`,
        lt(productions.updatedAt, sql`now() - make_interval(secs => ${productions.autoApproveSec})`),
      ),
    )
    .orderBy(asc(productions.updatedAt))
    .limit(limit);
}

/** A tenant's productions counted by status, approval and review (the original API's ICC summary). */
export async function countReviews(db: AppDb, tenantId: string): Promise<{ status: ProductionStatus; approved: boolean; review: boolean; n: number }[]> {
  const rows = await db
    .select({ status: productions.status, approved: sql<boolean>`${productions.approvedAt} is not null`, review: productions.review, n: sql<number>`count(*)::int` })
    .from(productions)
    .where(eq(productions.tenantId, tenantId))
    .groupBy(productions.status, sql`${productions.approvedAt} is not null`, productions.review);
  return rows.map((r) => ({ ...r, n: Number(r.n) }));
}

/** How many productions a tenant has, in `statuses` when given. */
export async function countProductions(db: AppDb, tenantId: string, statuses?: ProductionStatus[]): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(productions)
    .where(and(eq(productions.tenantId, tenantId), statuses ? inArray(productions.status, statuses) : undefined));
  return Number(row?.n ?? 0);
}

/**
 * Approves a production awaiting review (status queued, approved). With `unchangedSince`, only
 * when the row was not touched after it (an auto-approval must lose to an edit made meanwhile;
 * compared at the millisecond, the precision a Date read back has).
 */
export async function markApproved(db: AppDb, id: string, unchangedSince?: Date): Promise<ProductionRow | undefined> {
  const [row] = await db
    .update(productions)
    .set({ status: 'queued', approved: true, approvedAt: sql`now()`, workerId: null, updatedAt: sql`now()` })
    .where(and(eq(productions.id, id), eq(productions.status, 'awaiting_review'), unchangedSince ? sql`date_trunc('milliseconds', ${productions.updatedAt}) <= ${unchangedSince.toISOString()}::timestamptz` : undefined))
    .returning();
  return row;
}

/**
 * Writes a reviewed storyboard only while the production awaits review and its storyboard is still
 * `expected` (compared as jsonb): an edit made from a stale read writes nothing, and the caller
 * reads again. Returns the row when it wrote.
 */
export async function replaceStoryboard(db: AppDb, id: string, expected: unknown, storyboard: unknown): Promise<ProductionRow | undefined> {
  const [row] = await db
    .update(productions)
    .set({ storyboard, updatedAt: sql`now()` })
    .where(
      and(
        eq(productions.id, id),
        eq(productions.status, 'awaiting_review'),
        expected === null ? isNull(productions.storyboard) : sql`${productions.storyboard} = ${JSON.stringify(expected)}::jsonb`,
      ),
    )
    .returning();
  return row;
}
