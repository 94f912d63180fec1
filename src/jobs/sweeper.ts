/**
 * Makes sure nothing stays "running" or "queued" forever: a production whose worker stopped
 * heartbeating is handed to another worker (it resumes from its cached stages), one that has used
 * up its attempts is failed with `worker_lost`, a queued production whose job went missing
 * gets a new one, and one whose cancel was asked but never made final is recorded canceled. Every re-queue counts against RENDER_MAX_REQUEUES: a production the sweeper
 * keeps finding fails with `requeue_limit` instead of looping. Runs every minute from the queue's
 * cron, and once when a worker starts.
 */
import { sql } from 'drizzle-orm';
import { AppError } from '../contract/errors.js';
import { executorFor, type Database } from '../db/database.js';
import * as repo from '../db/productions.repository.js';
import { productions } from '../db/schema.js';
import type { JobQueue } from '../queue/queue.js';
import { EVENTS_CHANNEL } from '../db/channels.js';
import type { ProductionEvents } from '../services/production-events.port.js';
import { failureRecord } from './failure-class.js';

export interface SweepResult {
  requeued: string[];
  failed: string[];
  /** Productions whose cancel was asked but never made final (a cancel that raced a status write). */
  canceled: string[];
}

/** RENDER_MAX_REQUEUES's default. */
export const DEFAULT_MAX_REQUEUES = 10;

/** The failure of a production that went back to the queue `requeues` times without finishing. */
export function requeueLimit(requeues: number): AppError {
  return new AppError('requeue_limit', `it went back to the queue ${requeues} times (worker shutdowns or lost workers) without finishing; retry it once the workers are stable`);
}

/**
 * One pass: each stalled production is settled as canceled (a cancel was asked), failed (attempts
 * or re-queues used up) or re-queued — each in one transaction with what it does to the
 * production's queue jobs, so a production is never left queued without a job, nor failed with
 * its dead worker's job still "active".
 */
export async function sweepStalls(
  database: Database,
  queue: JobQueue,
  options: { stallTimeoutSec: number; maxAttempts: number; maxRequeues?: number; queuedGraceSec?: number; events?: ProductionEvents },
): Promise<SweepResult> {
  const db = database.db;
  const maxRequeues = options.maxRequeues ?? DEFAULT_MAX_REQUEUES;
  const candidates = await repo.findStalled(db, options.stallTimeoutSec, options.queuedGraceSec ?? 60);
  const result: SweepResult = { requeued: [], failed: [], canceled: [] };
  if (candidates.length === 0) return result;
  // Only the candidates' jobs are looked up, not every pending job.
  const pending = await queue.pendingProductionIds(candidates.filter((row) => row.status === 'queued').map((row) => row.id));
  for (const row of candidates) {
    const running = row.status !== 'queued';
    if (row.cancelRequested) {
      // No guarded write can move it any more; only recording the cancel ends it.
      const settled = await db.transaction(async (tx) => {
        const done = await repo.settleCanceled(tx, row.id);
        if (done) await (running ? queue.retireActive(row.id, executorFor(tx)) : queue.discardPending(row.id, executorFor(tx)));
        return done;
      });
      if (!settled) continue;
      result.canceled.push(row.id);
      await database.notify(EVENTS_CHANNEL, JSON.stringify({ id: row.id, tenantId: row.tenantId }));
      continue;
    }
    if (!running && pending.has(row.id)) continue; // queued and its job is waiting: fine
    const failure =
      running && repo.countedAttempts(row) >= options.maxAttempts
        ? failureRecord(new AppError('worker_lost', ''), `the worker rendering it stopped responding or failed ${repo.countedAttempts(row)} times`)
        : row.requeues >= maxRequeues
          ? failureRecord(requeueLimit(row.requeues), requeueLimit(row.requeues).message)
          : undefined;
    if (failure) {
      // Webhooks: production.failed commits with the status change, and so does the end of the dead worker's job.
      const failed = await db.transaction(async (tx) => {
        const updated = await repo.updateSwept(tx, row, options.stallTimeoutSec, {
          status: 'failed', error: failure, finishedAt: new Date(), workerId: null, heartbeatAt: null,
          ...(running ? { stalls: sql`${productions.stalls} + 1` } : {}),
        });
        if (updated) {
          if (running) await queue.retireActive(row.id, executorFor(tx));
          await options.events?.emit(tx, row.id, 'production.failed');
        }
        return updated;
      });
      if (!failed) continue; // it moved on meanwhile (a heartbeat, a claim, a cancel)
      result.failed.push(row.id);
    } else {
      const requeued = await db.transaction(async (tx) => {
        const updated = await repo.updateSwept(tx, row, options.stallTimeoutSec, {
          status: 'queued', workerId: null, heartbeatAt: null, requeues: sql`${productions.requeues} + 1`,
          // A running render whose worker went silent is a stall (aiprod_render_stalls_total); a lost queued job is not.
          ...(running ? { stalls: sql`${productions.stalls} + 1` } : {}),
        });
        if (!updated) return undefined;
        // The dead worker's job would stay "active" in pg-boss until it expires; end it, so queue
        // depth and pending ids are true. The claim's lease check keeps any two from rendering at once.
        if (running) await queue.retireActive(row.id, executorFor(tx));
        await queue.enqueue('render', { productionId: row.id }, { priority: row.priority, executor: executorFor(tx) });
        return updated;
      });
      if (!requeued) continue;
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
    if (result.requeued.length + result.failed.length + result.canceled.length > 0) {
      log('warn', 'stall sweep: productions re-queued, failed or canceled', { requeued: result.requeued, failed: result.failed, canceled: result.canceled });
    }
    return result;
  } catch (error) {
    log('error', 'stall sweep failed', { message: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
}
