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
import type { Storage } from '../storage/storage.port.js';
import { sweepRenderDirs } from './temp-dirs.js';

const DAY_MS = 86_400_000;

export interface StoredRetentionResult {
  outputs: number;
  bytes: number;
  idempotencyKeys: number;
  /** Finished webhook deliveries (their attempts go with them). */
  webhookDeliveries: number;
}

/** Deletes outputs (objects, then rows) and idempotency keys created before the cut-off. */
export async function expireStored(database: Database, storage: Storage, retentionDays: number, now = new Date()): Promise<StoredRetentionResult> {
  const result: StoredRetentionResult = { outputs: 0, bytes: 0, idempotencyKeys: 0, webhookDeliveries: 0 };
  if (retentionDays <= 0) return result;
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  for (;;) {
    const batch = await repo.findExpiredOutputs(database.db, cutoff, 500);
    for (const output of batch) {
      // Object first: a crash between the two leaves a row whose download 404s, never an orphan object.
      await storage.delete(output.storageKey);
      await repo.deleteOutput(database.db, output.productionId, output.name);
      result.outputs++;
      result.bytes += output.bytes;
    }
    if (batch.length < 500) break;
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
}

/** A render directory nobody touched for this long (renders touch theirs at every heartbeat) belongs to no live render. */
export const RENDER_DIR_STALE_MS = 3600_000;

/**
 * Prunes this machine's stage cache (units unused for RETENTION_DAYS; 0 keeps them) and the render
 * directories killed workers left (whatever RETENTION_DAYS says: see temp-dirs.ts for the rule).
 */
export function expireLocal(cache: StageCache, tmpDir: string, retentionDays: number, now = new Date()): LocalRetentionResult {
  const tmpDirs = sweepRenderDirs(tmpDir, { staleMs: RENDER_DIR_STALE_MS, now: now.getTime() }).length;
  if (retentionDays <= 0) return { cacheUnits: 0, cacheBytes: 0, tmpDirs };
  const pruned = cache.prune(new Date(now.getTime() - retentionDays * DAY_MS));
  return { cacheUnits: pruned.units, cacheBytes: pruned.bytes, tmpDirs };
}
