/**
 * The exports table (schema.ts `dataExports`) and the period reads a bulk export makes. Every
 * write of a build says what it expects: a worker's writes match only the export it holds.
 */
import { and, asc, eq, gt, gte, inArray, isNotNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { AppDb } from './database.js';
import type { OutputRow, ProductionRow } from './productions.repository.js';
import { dataExports, outputs, productions } from './schema.js';

export type ExportRow = typeof dataExports.$inferSelect;
export type NewExport = typeof dataExports.$inferInsert;

export async function insertExport(db: AppDb, row: NewExport): Promise<ExportRow> {
  const [inserted] = await db.insert(dataExports).values(row).returning();
  return inserted as ExportRow;
}

export async function findExport(db: AppDb, id: string): Promise<ExportRow | undefined> {
  const [row] = await db.select().from(dataExports).where(eq(dataExports.id, id));
  return row;
}

/** The newest exports `ownerTenantId` asked for (every tenant's for undefined). */
export async function listExports(db: AppDb, ownerTenantId: string | undefined, limit: number): Promise<ExportRow[]> {
  return db
    .select()
    .from(dataExports)
    .where(ownerTenantId === undefined ? undefined : eq(dataExports.ownerTenantId, ownerTenantId))
    .orderBy(sql`${dataExports.createdAt} desc`, sql`${dataExports.id} desc`)
    .limit(limit);
}

/**
 * Takes an export to build: one that is queued, or running under a worker whose heartbeat is older
 * than `stallSec` (it died), or already this worker's (its own retry). Anything else — built,
 * failed, expired, or held by a live worker — is not taken.
 */
export async function claimExport(db: AppDb, id: string, workerId: string, stallSec: number): Promise<ExportRow | undefined> {
  const [row] = await db
    .update(dataExports)
    .set({ status: 'running', workerId, heartbeatAt: sql`now()`, startedAt: sql`coalesce(${dataExports.startedAt}, now())`, attempts: sql`${dataExports.attempts} + 1`, error: null })
    .where(
      and(
        eq(dataExports.id, id),
        or(
          eq(dataExports.status, 'queued'),
          and(eq(dataExports.status, 'running'), or(eq(dataExports.workerId, workerId), lt(dataExports.heartbeatAt, sql`now() - make_interval(secs => ${stallSec})`))),
        ),
      ),
    )
    .returning();
  return row;
}

const held = (id: string, workerId: string): SQL | undefined => and(eq(dataExports.id, id), eq(dataExports.status, 'running'), eq(dataExports.workerId, workerId));

/** Refreshes the worker's hold; false when it no longer holds the export. */
export async function heartbeatExport(db: AppDb, id: string, workerId: string): Promise<boolean> {
  const rows = await db.update(dataExports).set({ heartbeatAt: sql`now()` }).where(held(id, workerId)).returning({ id: dataExports.id });
  return rows.length > 0;
}

/** Ends a build this worker holds: ready (with its file), failed, or back to queued for a retry. */
export async function settleExport(db: AppDb, id: string, workerId: string, values: Partial<NewExport>): Promise<ExportRow | undefined> {
  const [row] = await db.update(dataExports).set({ ...values, workerId: null }).where(held(id, workerId)).returning();
  return row;
}

/** Running exports whose worker stopped heartbeating `stallSec` ago, made queued again (their ids). */
export async function requeueStalledExports(db: AppDb, stallSec: number, limit = 100): Promise<string[]> {
  const stale = db
    .select({ id: dataExports.id })
    .from(dataExports)
    .where(and(eq(dataExports.status, 'running'), lt(dataExports.heartbeatAt, sql`now() - make_interval(secs => ${stallSec})`)))
    .limit(limit);
  const rows = await db
    .update(dataExports)
    .set({ status: 'queued', workerId: null })
    .where(and(inArray(dataExports.id, stale), eq(dataExports.status, 'running')))
    .returning({ id: dataExports.id });
  return rows.map((r) => r.id);
}

/** Ready exports whose time is up. */
export async function findExpiredExports(db: AppDb, now: Date, limit = 500): Promise<ExportRow[]> {
  return db
    .select()
    .from(dataExports)
    .where(and(eq(dataExports.status, 'ready'), isNotNull(dataExports.expiresAt), lte(dataExports.expiresAt, now)))
    .orderBy(asc(dataExports.expiresAt))
    .limit(limit);
}

export async function markExpired(db: AppDb, id: string): Promise<void> {
  await db.update(dataExports).set({ status: 'expired', storageKey: null }).where(and(eq(dataExports.id, id), eq(dataExports.status, 'ready')));
}

/** Which productions an export holds. */
export interface Period {
  from: Date;
  to: Date;
  /** null: every tenant. */
  tenantId: string | null;
  statuses: readonly string[] | null;
}

function inPeriod(period: Period): SQL | undefined {
  return and(
    gte(productions.createdAt, period.from),
    lt(productions.createdAt, period.to),
    period.tenantId === null ? undefined : eq(productions.tenantId, period.tenantId),
    period.statuses === null ? undefined : inArray(productions.status, period.statuses as ProductionRow['status'][]),
  );
}

export async function countInPeriod(db: AppDb, period: Period): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(productions).where(inPeriod(period));
  return row?.n ?? 0;
}

/**
 * The period's productions, oldest first, a page at a time: keyset on (created_at, id), stable
 * while rows are added. The cursor keeps created_at as the database's text, not a JS Date, whose
 * milliseconds would drop the microseconds and repeat or skip rows created in the same millisecond.
 */
export async function* pagesInPeriod(db: AppDb, period: Period, pageSize = 500): AsyncGenerator<ProductionRow[]> {
  let last: { at: string; id: string } | undefined;
  for (;;) {
    const after = last
      ? or(gt(productions.createdAt, sql`${last.at}::timestamptz`), and(eq(productions.createdAt, sql`${last.at}::timestamptz`), gt(productions.id, last.id)))
      : undefined;
    const page = await db
      .select({ row: productions, at: sql<string>`${productions.createdAt}::text` })
      .from(productions)
      .where(and(inPeriod(period), after))
      .orderBy(asc(productions.createdAt), asc(productions.id))
      .limit(pageSize);
    if (page.length > 0) yield page.map((p) => p.row);
    if (page.length < pageSize) return;
    const tail = page[page.length - 1] as (typeof page)[number];
    last = { at: tail.at, id: tail.row.id };
  }
}

/** The outputs of `ids`, by production. */
export async function outputsOf(db: AppDb, ids: string[]): Promise<Map<string, OutputRow[]>> {
  const byId = new Map<string, OutputRow[]>();
  if (ids.length === 0) return byId;
  for (const o of await db.select().from(outputs).where(inArray(outputs.productionId, ids)).orderBy(asc(outputs.productionId), asc(outputs.name))) {
    byId.set(o.productionId, [...(byId.get(o.productionId) ?? []), o]);
  }
  return byId;
}
