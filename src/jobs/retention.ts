/**
 * Retention: deletes what is older than RETENTION_DAYS.
 * - Cluster-wide, once a day from the queue's cron (any one worker runs it): stored outputs of
 *   productions (the objects and their rows; the production row and its history stay),
 *   idempotency keys and finished webhook deliveries with their attempts.
 * - Per machine, in every worker process at start and every 6 hours: stage-cache units not used
 *   for that long, and temporary render directories left by a killed process (those at any
 *   RETENTION_DAYS: they are garbage, not history).
 * RETENTION_DAYS=0 keeps everything else.
 */
import { and, lt, ne } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import * as repo from '../db/productions.repository.js';
import { idempotencyKeys, webhookDeliveries } from '../db/schema.js';
import type { StageCache } from '../pipeline/cache.js';
import type { ExportsService } from '../services/exports.service.js';
import type { Storage } from '../storage/storage.port.js';
import { sweepRenderDirs } from './temp-dirs.js';

const DAY_MS = 86_400_000;

export interface StoredRetentionResult {
  outputs: number;
  bytes: number;
  idempotencyKeys: number;
  /** Finished webhook deliveries (their attempts go with them). */
  webhookDeliveries: number;
  /** Outputs whose object could not be deleted: their rows stay, and the next run tries again. */
  failedDeletions: number;
  /** The first few of those failures, for the log. */
  failures: { storageKey: string; message: string }[];
  /** Bulk exports past their own expiry (EXPORT_RETENTION_DAYS, whatever RETENTION_DAYS says) whose files were deleted. */
  exports: number;
}

/** Deletes outputs (objects, then rows) and idempotency keys created before the cut-off, and the files of expired exports. */
export async function expireStored(database: Database, storage: Storage, retentionDays: number, now = new Date(), exports?: Pick<ExportsService, 'expire'>): Promise<StoredRetentionResult> {
  const result: StoredRetentionResult = { outputs: 0, bytes: 0, idempotencyKeys: 0, webhookDeliveries: 0, failedDeletions: 0, failures: [], exports: 0 };
  if (exports) {
    const expired = await exports.expire(now);
    result.exports = expired.expired;
    result.failedDeletions += expired.failures.length;
    for (const f of expired.failures.slice(0, 10 - result.failures.length)) result.failures.push({ storageKey: `exports/${f.id}`, message: f.message });
  }
  if (retentionDays <= 0) return result;
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  // Paged by key: an output whose deletion failed keeps its row and must not be read again this run.
  let after: repo.OutputKey | undefined;
  for (;;) {
    const batch = await repo.findExpiredOutputs(database.db, cutoff, 500, after);
    for (const output of batch) {
      try {
        // Object first: a crash between the two leaves a row whose download 404s, never an orphan object.
        await storage.delete(output.storageKey);
      } catch (error) {
        // One object the store refuses (a permission, an outage) must not stop the others.
        result.failedDeletions++;
        if (result.failures.length < 10) result.failures.push({ storageKey: output.storageKey, message: error instanceof Error ? error.message : String(error) });
        continue;
      }
      await repo.deleteOutput(database.db, output.productionId, output.name);
      result.outputs++;
      result.bytes += output.bytes;
    }
    const last = batch[batch.length - 1];
    if (!last || batch.length < 500) break;
    after = last;
  }
  const keys = await database.db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, cutoff)).returning({ key: idempotencyKeys.key });
  result.idempotencyKeys = keys.length;
  const deliveries = await database.db
    .delete(webhookDeliveries)
    .where(and(lt(webhookDeliveries.createdAt, cutoff), ne(webhookDeliveries.status, 'pending')))
    .returning({ id: webhookDeliveries.id });
  result.webhookDeliveries = deliveries.length;
  return result;
}

export interface LocalRetentionResult {
  cacheUnits: number;
  cacheBytes: number;
  tmpDirs: number;
  /** Temp directories of cache producers that died. */
  cacheTmpDirs: number;
}

/** A render directory nobody touched for this long (renders touch theirs at every heartbeat) belongs to no live render. */
export const RENDER_DIR_STALE_MS = 3600_000;

/**
 * Prunes this machine's stage cache (units unused for RETENTION_DAYS; 0 keeps them) and the render
 * directories killed workers left (whatever RETENTION_DAYS says: see temp-dirs.ts for the rule).
 */
export async function expireLocal(cache: StageCache, tmpDir: string, retentionDays: number, now = new Date()): Promise<LocalRetentionResult> {
  const tmpDirs = sweepRenderDirs(tmpDir, { staleMs: RENDER_DIR_STALE_MS, now: now.getTime() }).length;
  // Units are kept forever with RETENTION_DAYS=0, but what dead producers left is still cleared.
  if (retentionDays <= 0) return { cacheUnits: 0, cacheBytes: 0, tmpDirs, cacheTmpDirs: (await cache.prune(new Date(0))).tmpDirs };
  const pruned = await cache.prune(new Date(now.getTime() - retentionDays * DAY_MS));
  return { cacheUnits: pruned.units, cacheBytes: pruned.bytes, tmpDirs, cacheTmpDirs: pruned.tmpDirs };
}
