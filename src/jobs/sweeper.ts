/**
 * Makes sure nothing stays "running" or "queued" forever: a production whose worker stopped
 * heartbeating is handed to another worker (it resumes from its cached stages), one that has used
 * up its attempts is failed with `worker_lost`, and a queued production whose job went missing
 * gets a new one. Runs every minute from the queue's cron, and once when a worker starts.
 */
import type { Database } from '../db/database.js';
import * as repo from '../db/productions.repository.js';
import { EVENTS_CHANNEL } from '../services/productions.service.js';
import { WebhookEmitter } from '../webhooks/emitter.js';
import type { JobQueue } from './queue.js';

export interface SweepResult {
  requeued: string[];
  failed: string[];
}

export async function sweepStalls(
  database: Database,
  queue: JobQueue,
  options: { stallTimeoutSec: number; maxAttempts: number; queuedGraceSec?: number },
): Promise<SweepResult> {
  const db = database.db;
  const candidates = await repo.findStalled(db, options.stallTimeoutSec, options.queuedGraceSec ?? 60);
  if (candidates.length === 0) return { requeued: [], failed: [] };
  const pending = await queue.pendingProductionIds();
  const result: SweepResult = { requeued: [], failed: [] };
  for (const row of candidates) {
    const running = row.status !== 'queued';
    if (!running && pending.has(row.id)) continue; // queued and its job is waiting: fine
    if (running && row.attempts >= options.maxAttempts) {
      // Webhooks: production.failed commits with the status change.
      const failed = await db.transaction(async (tx) => {
        const updated = await repo.updateProduction(
          tx,
          row.id,
          { status: 'failed', error: { code: 'worker_lost', message: `the worker rendering it stopped responding ${row.attempts} times` }, finishedAt: new Date(), workerId: null },
          [row.status],
        );
        if (updated) await new WebhookEmitter(queue).emit(tx, row.id, 'production.failed');
        return updated;
      });
      if (failed) result.failed.push(row.id);
    } else {
      const requeued = await repo.updateProduction(db, row.id, { status: 'queued', workerId: null, heartbeatAt: null }, [row.status]);
      if (!requeued) continue;
      // The dead worker's job would stay "active" in pg-boss until it expires; end it, so queue
      // depth and pending ids are true. The claim's lease check keeps any two from rendering at once.
      if (running) await queue.retireActive(row.id);
      await queue.enqueue('render', { productionId: row.id }, { priority: row.priority });
      result.requeued.push(row.id);
    }
    await database.notify(EVENTS_CHANNEL, JSON.stringify({ id: row.id, tenantId: row.tenantId }));
  }
  return result;
}
