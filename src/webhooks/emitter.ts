/**
 * Turns a production's status change into webhook deliveries: one row per endpoint that wants the
 * event (the tenant's webhooks, and the brief's own webhookUrl) and one `webhook` job per row.
 * Call `emit` with the transaction that changes the status: the event then exists exactly when the
 * change does, and survives any crash after the commit (an outbox in the same database).
 *
 * @example
 *   await db.transaction(async (tx) => {
 *     await repo.updateProduction(tx, id, { status: 'canceled' });
 *     await webhooks.emit(tx, id, 'production.canceled');
 *   });
 */
import { executorFor, type AppDb } from '../db/database.js';
import { findOutputs, findProductionById } from '../db/productions.repository.js';
import type { JobQueue } from '../queue/queue.js';
import type { TenantEvents } from '../services/budgets.service.js';
import type { ProductionEvents } from '../services/production-events.port.js';
import { BRIEF_URL_EVENTS, eventBody, newId, type TenantEventType, type WebhookEventType } from './events.js';
import * as repo from './webhooks.repository.js';

/** The ProductionEvents and TenantEvents ports as an outbox of webhook deliveries. */
export class WebhookEmitter implements ProductionEvents, TenantEvents {
  constructor(
    private readonly queue: Pick<JobQueue, 'enqueueMany'>,
    private readonly options: { progressStepPct?: number } = {},
  ) {}

  /** Records `type` for the production inside `tx`; returns how many deliveries it made. */
  async emit(tx: AppDb, productionId: string, type: WebhookEventType): Promise<number> {
    const row = await findProductionById(tx, productionId);
    if (!row) return 0;
    const targets: { webhookId: string | null; url: string }[] = (await repo.subscribedWebhooks(tx, row.tenantId, type)).map((w) => ({ webhookId: w.id, url: w.url }));
    if (row.webhookUrl && BRIEF_URL_EVENTS.includes(type)) targets.push({ webhookId: null, url: row.webhookUrl });
    if (targets.length === 0) return 0;
    const body = eventBody(type, row, await findOutputs(tx, row.id));
    const rows = targets.map((t) => ({
      id: newId('dlv'), tenantId: row.tenantId, webhookId: t.webhookId, productionId: row.id,
      eventId: body.id, eventType: type, url: t.url, payload: body, status: 'pending',
    }));
    await repo.insertDeliveries(tx, rows);
    await this.queue.enqueueMany('webhook', rows.map((r) => ({ data: { deliveryId: r.id } })), { executor: executorFor(tx) });
    return rows.length;
  }

  /**
   * A tenant-level event (budget.threshold) to the tenant's webhooks that asked for it, inside `tx`
   * like `emit`. Its deliveries belong to no production, so each is ordered on its own.
   */
  async emitTenantEvent(tx: AppDb, tenantId: string, type: TenantEventType, data: Record<string, unknown>): Promise<number> {
    const hooks = await repo.subscribedWebhooks(tx, tenantId, type);
    if (hooks.length === 0) return 0;
    const body = { id: newId('evt'), type, time: new Date().toISOString(), data };
    const rows = hooks.map((w) => ({
      id: newId('dlv'), tenantId, webhookId: w.id, productionId: null,
      eventId: body.id, eventType: type, url: w.url, payload: body, status: 'pending',
    }));
    await repo.insertDeliveries(tx, rows);
    await this.queue.enqueueMany('webhook', rows.map((r) => ({ data: { deliveryId: r.id } })), { executor: executorFor(tx) });
    return rows.length;
  }

  /** The progress step `percent` falls in (0 … 100 / progressStepPct); a render announces each step once. */
  progressStep(percent: number): number {
    return Math.floor(percent / (this.options.progressStepPct ?? 10));
  }

  /**
   * production.progress in a transaction of its own: progress is written many times a second
   * outside any transaction, so these events are best effort (the final events are not).
   */
  async progress(db: AppDb, productionId: string): Promise<void> {
    await db.transaction((tx) => this.emit(tx, productionId, 'production.progress'));
  }
}
