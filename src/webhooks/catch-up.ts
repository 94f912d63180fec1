/**
 * Every pending delivery has a job (inserted with it, or by the attempt before). Should one be lost
 * anyway — a queue restored from an older backup, jobs deleted by hand, a worker killed between its
 * attempt and the record of it — the delivery stays pending and overdue. The catch-up, run by every
 * worker at start and every WEBHOOK catch-up interval, gives such deliveries a new job. A duplicate
 * job is harmless: the claim lets one attempt through.
 */
import { executorFor, type Database } from '../db/database.js';
import type { JobQueue } from '../queue/queue.js';
import * as repo from './webhooks.repository.js';

/** Returns the ids of the deliveries given a new job. */
export async function catchUpDeliveries(database: Database, queue: JobQueue, options: { graceSec: number }): Promise<string[]> {
  return database.db.transaction(async (tx) => {
    const ids = await repo.reviveOverdue(tx, options.graceSec);
    if (ids.length > 0) await queue.enqueueMany('webhook', ids.map((deliveryId) => ({ data: { deliveryId } })), { executor: executorFor(tx) });
    return ids;
  });
}
