/**
 * The port through which whoever changes a production's status (the productions service, a render
 * worker, the sweeper) announces it, in the transaction of the change. The service layer owns the
 * port; webhooks/emitter.ts implements it as an outbox of webhook deliveries, and main/ passes it in.
 *
 * @example
 *   await db.transaction(async (tx) => {
 *     await repo.updateProduction(tx, id, { status: 'canceled' });
 *     await events.emit(tx, id, 'production.canceled');
 *   });
 */
import type { AppDb } from '../db/database.js';

export const PRODUCTION_EVENT_TYPES = [
  'production.succeeded',
  'production.failed',
  'production.canceled',
  'production.awaiting_review',
  'production.progress',
  // Self-healing (jobs/self-healing.ts): re-queued after a failure by the auto-retry job or an
  // operator's `aiprod productions retry-failed`; queued or running far past its expected time.
  'production.retrying',
  'production.stuck',
] as const;
export type ProductionEventType = (typeof PRODUCTION_EVENT_TYPES)[number];

export interface ProductionEvents {
  /** Records `type` for the production inside `tx`: it exists exactly when the change commits. */
  emit(tx: AppDb, productionId: string, type: ProductionEventType): Promise<unknown>;
  /** The progress step `percent` falls in; a render announces each step once. */
  progressStep(percent: number): number;
  /** production.progress, best effort, in a transaction of its own. */
  progress(db: AppDb, productionId: string): Promise<void>;
}
