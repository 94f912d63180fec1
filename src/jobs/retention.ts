/**
 * Retention: deletes what is older than RETENTION_DAYS.
 * - Cluster-wide, once a day from the queue's cron (any one worker runs it): stored outputs of
 *   productions (the objects and their rows; the production row and its history stay),
 *   idempotency keys and finished webhook deliveries with their attempts.
 * - Per machine, in every worker process at start and every 6 hours: stage-cache units not used
 *   for that long, and temporary render directories left by a killed process.
 * RETENTION_DAYS=0 keeps everything.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { and, lt, ne } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import * as repo from '../db/productions.repository.js';
import { idempotencyKeys, webhookDeliveries } from '../db/schema.js';
import type { StageCache } from '../pipeline/cache.js';
import type { Storage } from '../storage/storage.port.js';

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
  /** Temp directories of cache producers that died. */
  cacheTmpDirs: number;
}

/** Prunes this machine's stage cache and leftover render directories. */
export function expireLocal(cache: StageCache, tmpDir: string, retentionDays: number, now = new Date()): LocalRetentionResult {
  // Units are kept forever with RETENTION_DAYS=0, but what dead producers left is still cleared.
  if (retentionDays <= 0) return { cacheUnits: 0, cacheBytes: 0, tmpDirs: 0, cacheTmpDirs: cache.prune(new Date(0)).tmpDirs };
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  const pruned = cache.prune(cutoff);
  // A render directory lives only as long as its render; one a day old belongs to a dead process.
  const tmpCutoff = now.getTime() - Math.min(retentionDays * DAY_MS, DAY_MS);
  let tmpDirs = 0;
  for (const name of safeReaddir(tmpDir)) {
    if (!name.startsWith('render-')) continue;
    const path = join(tmpDir, name);
    try {
      if (statSync(path).mtimeMs < tmpCutoff) {
        rmSync(path, { recursive: true, force: true });
        tmpDirs++;
      }
    } catch {
      // gone meanwhile
    }
  }
  return { cacheUnits: pruned.units, cacheBytes: pruned.bytes, tmpDirs, cacheTmpDirs: pruned.tmpDirs };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
