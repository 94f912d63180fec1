/**
 * Queries on webhooks, their deliveries and attempts. Every function takes the drizzle handle to
 * use, so callers can pass a transaction; every read an API caller can reach is scoped by tenant.
 */
import { and, asc, desc, eq, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { AppDb } from '../db/database.js';
import { tenants, webhookAttempts, webhookDeliveries, webhooks } from '../db/schema.js';

export type WebhookRow = typeof webhooks.$inferSelect;
export type NewWebhook = typeof webhooks.$inferInsert;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type NewDelivery = typeof webhookDeliveries.$inferInsert;
export type AttemptRow = typeof webhookAttempts.$inferSelect;
/** Column values for an update; SQL such as now() is allowed. */
export type DeliveryChanges = PgUpdateSetSource<typeof webhookDeliveries>;
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export async function insertWebhook(db: AppDb, row: NewWebhook): Promise<WebhookRow> {
  const [inserted] = await db.insert(webhooks).values(row).returning();
  return inserted as WebhookRow;
}

export async function findWebhook(db: AppDb, tenantId: string, id: string): Promise<WebhookRow | undefined> {
  const [row] = await db.select().from(webhooks).where(and(eq(webhooks.id, id), eq(webhooks.tenantId, tenantId)));
  return row;
}

export async function findWebhookById(db: AppDb, id: string): Promise<WebhookRow | undefined> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id));
  return row;
}

export async function listWebhooks(db: AppDb, tenantId: string): Promise<WebhookRow[]> {
  return db.select().from(webhooks).where(eq(webhooks.tenantId, tenantId)).orderBy(asc(webhooks.createdAt), asc(webhooks.id));
}

export async function updateWebhook(db: AppDb, tenantId: string, id: string, values: Partial<NewWebhook>): Promise<WebhookRow | undefined> {
  const [row] = await db
    .update(webhooks)
    .set({ ...values, updatedAt: sql`now()` })
    .where(and(eq(webhooks.id, id), eq(webhooks.tenantId, tenantId)))
    .returning();
  return row;
}

export async function deleteWebhook(db: AppDb, tenantId: string, id: string): Promise<WebhookRow | undefined> {
  const [row] = await db.delete(webhooks).where(and(eq(webhooks.id, id), eq(webhooks.tenantId, tenantId))).returning();
  return row;
}

/** The tenant's enabled endpoints that asked for `type`. */
export async function subscribedWebhooks(db: AppDb, tenantId: string, type: string): Promise<WebhookRow[]> {
  return db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.tenantId, tenantId), eq(webhooks.enabled, true), sql`${webhooks.events} @> ${JSON.stringify([type])}::jsonb`))
    .orderBy(asc(webhooks.id));
}

/** One more delivery that ran out of attempts; returns the endpoint as it is now. */
export async function countFailure(db: AppDb, id: string): Promise<WebhookRow | undefined> {
  const [row] = await db
    .update(webhooks)
    .set({ consecutiveFailures: sql`${webhooks.consecutiveFailures} + 1`, updatedAt: sql`now()` })
    .where(eq(webhooks.id, id))
    .returning();
  return row;
}

export async function resetFailures(db: AppDb, id: string): Promise<void> {
  await db.update(webhooks).set({ consecutiveFailures: 0 }).where(and(eq(webhooks.id, id), sql`${webhooks.consecutiveFailures} > 0`));
}

/** Disables an endpoint still enabled; undefined when someone else already did. */
export async function disableWebhook(db: AppDb, id: string, reason: string): Promise<WebhookRow | undefined> {
  const [row] = await db
    .update(webhooks)
    .set({ enabled: false, disabledReason: reason, updatedAt: sql`now()` })
    .where(and(eq(webhooks.id, id), eq(webhooks.enabled, true)))
    .returning();
  return row;
}

export async function tenantWebhookSecret(db: AppDb, tenantId: string): Promise<string | null | undefined> {
  const [row] = await db.select({ secret: tenants.webhookSecret }).from(tenants).where(eq(tenants.id, tenantId));
  return row?.secret;
}

/** Stores the tenant's default secret; with `onlyIfMissing`, false when one was there already. */
export async function setTenantWebhookSecret(db: AppDb, tenantId: string, sealed: string, onlyIfMissing = false): Promise<boolean> {
  const where = onlyIfMissing ? and(eq(tenants.id, tenantId), isNull(tenants.webhookSecret)) : eq(tenants.id, tenantId);
  const rows = await db.update(tenants).set({ webhookSecret: sealed, updatedAt: sql`now()` }).where(where).returning({ id: tenants.id });
  return rows.length === 1;
}

/**
 * Inserts deliveries stamped with clock_timestamp(): called after the status change in the same
 * transaction, which holds the production's row lock, so a later event of a production always has
 * a later created_at — the order deliveries keep.
 */
export async function insertDeliveries(db: AppDb, rows: NewDelivery[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insert(webhookDeliveries).values(rows.map((r) => ({ ...r, createdAt: sql`clock_timestamp()`, nextAttemptAt: sql`now()` })));
}

export async function findDelivery(db: AppDb, tenantId: string, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await db.select().from(webhookDeliveries).where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.tenantId, tenantId)));
  return row;
}

export async function findDeliveryById(db: AppDb, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  return row;
}

export interface DeliveryFilter {
  webhookId?: string;
  productionId?: string;
  status?: DeliveryStatus;
}

/** Newest first, after the (createdAt, id) cursor; one row more than `limit` tells there is a next page. */
export async function listDeliveries(db: AppDb, tenantId: string, filter: DeliveryFilter, cursor: { createdAt: Date; id: string } | undefined, limit: number): Promise<DeliveryRow[]> {
  const where: SQL[] = [eq(webhookDeliveries.tenantId, tenantId)];
  if (filter.webhookId) where.push(eq(webhookDeliveries.webhookId, filter.webhookId));
  if (filter.productionId) where.push(eq(webhookDeliveries.productionId, filter.productionId));
  if (filter.status) where.push(eq(webhookDeliveries.status, filter.status));
  if (cursor) {
    where.push(or(lt(webhookDeliveries.createdAt, cursor.createdAt), and(eq(webhookDeliveries.createdAt, cursor.createdAt), lt(webhookDeliveries.id, cursor.id))) ?? sql`false`);
  }
  return db
    .select()
    .from(webhookDeliveries)
    .where(and(...where))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit + 1);
}

export async function listAttempts(db: AppDb, deliveryId: string): Promise<AttemptRow[]> {
  return db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, deliveryId)).orderBy(asc(webhookAttempts.attempt));
}

export async function insertAttempt(db: AppDb, row: typeof webhookAttempts.$inferInsert): Promise<void> {
  await db.insert(webhookAttempts).values(row).onConflictDoNothing();
}

/** Same production, same endpoint (a webhook, or a brief's URL): the deliveries that keep an order. */
function sameStream(d: Pick<DeliveryRow, 'productionId' | 'webhookId' | 'url' | 'id'>): SQL {
  if (!d.productionId) return eq(webhookDeliveries.id, d.id);
  const endpoint = d.webhookId ? eq(webhookDeliveries.webhookId, d.webhookId) : and(isNull(webhookDeliveries.webhookId), eq(webhookDeliveries.url, d.url));
  return and(eq(webhookDeliveries.productionId, d.productionId), endpoint) ?? sql`false`;
}

/**
 * The pending deliveries of `d`'s stream, oldest first, locked (always in this order, so two
 * handlers of one stream never deadlock). The first is the one allowed to be sent.
 */
export async function lockPendingStream(db: AppDb, d: DeliveryRow): Promise<Pick<DeliveryRow, 'id' | 'nextAttemptAt'>[]> {
  return db
    .select({ id: webhookDeliveries.id, nextAttemptAt: webhookDeliveries.nextAttemptAt })
    .from(webhookDeliveries)
    .where(and(sameStream(d), eq(webhookDeliveries.status, 'pending')))
    .orderBy(asc(webhookDeliveries.createdAt), asc(webhookDeliveries.id))
    .for('update');
}

/** The oldest pending delivery of `d`'s stream other than `d`. */
export async function nextInStream(db: AppDb, d: DeliveryRow): Promise<DeliveryRow | undefined> {
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(sameStream(d), eq(webhookDeliveries.status, 'pending'), sql`${webhookDeliveries.id} <> ${d.id}`))
    .orderBy(asc(webhookDeliveries.createdAt), asc(webhookDeliveries.id))
    .limit(1);
  return row;
}

/** Takes attempt n+1 of a due, pending delivery: the lease (next_attempt_at in the future) keeps other jobs off it. */
export async function claimDelivery(db: AppDb, id: string, leaseSec: number): Promise<DeliveryRow | undefined> {
  const [row] = await db
    .update(webhookDeliveries)
    .set({ attempts: sql`${webhookDeliveries.attempts} + 1`, nextAttemptAt: sql`now() + make_interval(secs => ${leaseSec})` })
    .where(
      and(
        eq(webhookDeliveries.id, id),
        eq(webhookDeliveries.status, 'pending'),
        or(isNull(webhookDeliveries.nextAttemptAt), sql`${webhookDeliveries.nextAttemptAt} <= now() + interval '1 second'`),
      ),
    )
    .returning();
  return row;
}

export async function updateDelivery(db: AppDb, id: string, values: DeliveryChanges): Promise<void> {
  await db.update(webhookDeliveries).set(values).where(eq(webhookDeliveries.id, id));
}

/** Sets when a delivery is next due, `sec` from now. */
export async function scheduleDelivery(db: AppDb, id: string, sec: number, values: DeliveryChanges = {}): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({ ...values, nextAttemptAt: sql`now() + make_interval(secs => ${sec})` })
    .where(eq(webhookDeliveries.id, id));
}

/** Closes the pending deliveries of an endpoint that is disabled or deleted; returns their ids. */
export async function failPendingOfWebhook(db: AppDb, webhookId: string): Promise<string[]> {
  const rows = await db
    .update(webhookDeliveries)
    .set({ status: 'failed', nextAttemptAt: null })
    .where(and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.status, 'pending')))
    .returning({ id: webhookDeliveries.id });
  return rows.map((r) => r.id);
}

/**
 * Pending deliveries overdue by more than `graceSec` (their job was lost) are made due now; returns
 * their ids for new jobs. SKIP LOCKED leaves deliveries being sent right now alone.
 */
export async function reviveOverdue(db: AppDb, graceSec: number, limit = 500): Promise<string[]> {
  const rows = await db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: sql`now()` })
    .where(
      inArray(
        webhookDeliveries.id,
        db
          .select({ id: webhookDeliveries.id })
          .from(webhookDeliveries)
          .where(and(eq(webhookDeliveries.status, 'pending'), or(isNull(webhookDeliveries.nextAttemptAt), lt(webhookDeliveries.nextAttemptAt, sql`now() - make_interval(secs => ${graceSec})`))))
          .limit(limit)
          .for('update', { skipLocked: true }),
      ),
    )
    .returning({ id: webhookDeliveries.id });
  return rows.map((r) => r.id);
}
