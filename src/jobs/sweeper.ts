/**
 * Makes sure nothing stays "running" or "queued" forever: a production whose worker stopped
 * heartbeating is handed to another worker (it resumes from its cached stages), one that has used
 * up its attempts is failed with `worker_lost`, and a queued production whose job went missing
 * gets a new one. Every re-queue counts against RENDER_MAX_REQUEUES: a production the sweeper
 * keeps finding fails with `requeue_limit` instead of looping. Runs every minute from the queue's
 * cron, and once when a worker starts.
 */
import { sql } from 'drizzle-orm';
import { AppError } from '../contract/errors.js';
import type { Database } from '../db/database.js';
import * as repo from '../db/productions.repository.js';
import { productions } from '../db/schema.js';
import { EVENTS_CHANNEL } from '../services/productions.service.js';
import { WebhookEmitter } from '../webhooks/emitter.js';
import type { JobQueue } from './queue.js';

export interface SweepResult {
  requeued: string[];
  failed: string[];
}

/** RENDER_MAX_REQUEUES's default. */
export const DEFAULT_MAX_REQUEUES = 10;

/** The failure of a production that went back to the queue `requeues` times without finishing. */
export function requeueLimit(requeues: number): AppError {
  return new AppError('requeue_limit', `it went back to the queue ${requeues} times (worker shutdowns or lost workers) without finishing; retry it once the workers are stable`);
}

export async function sweepStalls(
  database: Database,
  queue: JobQueue,
  options: { stallTimeoutSec: number; maxAttempts: number; maxRequeues?: number; queuedGraceSec?: number },
): Promise<SweepResult> {
  const db = database.db;
  const maxRequeues = options.maxRequeues ?? DEFAULT_MAX_REQUEUES;
  const candidates = await repo.findStalled(db, options.stallTimeoutSec, options.queuedGraceSec ?? 60);
  if (candidates.length === 0) return { requeued: [], failed: [] };
  // Only the candidates' jobs are looked up, not every pending job.
  const pending = await queue.pendingProductionIds(candidates.filter((row) => row.status === 'queued').map((row) => row.id));
  const result: SweepResult = { requeued: [], failed: [] };
  for (const row of candidates) {
    const running = row.status !== 'queued';
    if (!running && pending.has(row.id)) continue; // queued and its job is waiting: fine
    const failure =
      running && repo.countedAttempts(row) >= options.maxAttempts
        ? { code: 'worker_lost', message: `the worker rendering it stopped responding or failed ${repo.countedAttempts(row)} times` }
        : row.requeues >= maxRequeues
          ? { code: 'requeue_limit', message: requeueLimit(row.requeues).message }
          : undefined;
    if (failure) {
      // Webhooks: production.failed commits with the status change.
      const failed = await db.transaction(async (tx) => {
        const updated = await repo.updateSwept(tx, row, options.stallTimeoutSec, { status: 'failed', error: failure, finishedAt: new Date(), workerId: null, heartbeatAt: null });
        if (updated) await new WebhookEmitter(queue).emit(tx, row.id, 'production.failed');
        return updated;
      });
      if (!failed) continue; // it moved on meanwhile (a heartbeat, a claim, a cancel)
      result.failed.push(row.id);
    } else {
      const requeued = await repo.updateSwept(db, row, options.stallTimeoutSec, { status: 'queued', workerId: null, heartbeatAt: null, requeues: sql`${productions.requeues} + 1` });
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

type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/**
 * sweepStalls as the workers run it, on a timer and from the queue's cron: a failed sweep (the
 * database away) is logged and the next tick tries again; what a sweep did is logged too.
 */
export async function sweepStallsLogged(database: Database, queue: JobQueue, options: Parameters<typeof sweepStalls>[2], log: Log): Promise<SweepResult | undefined> {
  try {
    const result = await sweepStalls(database, queue, options);
    if (result.requeued.length + result.failed.length > 0) log('warn', 'stall sweep: productions re-queued or failed', { requeued: result.requeued, failed: result.failed });
    return result;
  } catch (error) {
    log('error', 'stall sweep failed', { message: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
}
