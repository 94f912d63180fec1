/**
 * The export job: builds one bulk export (services/exports.service.ts) in a directory of its own,
 * stores it and marks it ready. The export is held like a render: claimed with a heartbeat, so a
 * worker that dies mid-build loses nothing — the sweep queues the export again once its heartbeat
 * is stale (`requeueStalled`), and any worker builds it from the start. A failed build goes back
 * to pg-boss for a retry with backoff; a refusal the data will not change (an archive over the
 * size limit) and the last attempt mark the export failed, with the error shown on it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, classifyFailure } from '../contract/errors.js';
import { JOBS } from '../queue/catalog.js';
import type { QueueJob } from '../queue/queue.js';
import type { ExportsService } from '../services/exports.service.js';
import { makeRenderDir, touchRenderDir } from './temp-dirs.js';

export interface ExportHandlerDeps {
  exports: Pick<ExportsService, 'claim' | 'heartbeat' | 'build' | 'release'>;
  workerId: string;
  /** Builds write under <AIPROD_DATA_DIR>/tmp like renders (removed by the same sweep when a worker dies). */
  tmpDir: string;
  stallTimeoutSec: number;
  heartbeatSec: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

/** The attempts pg-boss gives an export job: the first and its retries. */
export const EXPORT_ATTEMPTS = JOBS.export.retryLimit + 1;

export async function handleExport(job: QueueJob<'export'>, deps: ExportHandlerDeps): Promise<void> {
  const { exportId } = job.data;
  const claimed = await deps.exports.claim(exportId, deps.workerId, deps.stallTimeoutSec);
  // Built, failed, expired or held by a live worker: this job (a duplicate or a late retry) has nothing to do.
  if (!claimed) return;
  const dir = makeRenderDir(deps.tmpDir, `export-${exportId}`);
  const beat = setInterval(() => {
    touchRenderDir(dir);
    void deps.exports.heartbeat(exportId, deps.workerId).catch(() => undefined);
  }, deps.heartbeatSec * 1000);
  try {
    const ready = await deps.exports.build(claimed, deps.workerId, join(dir, `export.${claimed.format}`));
    deps.log?.('info', 'export ready', { exportId, rows: ready.rows, bytes: ready.bytes });
  } catch (error) {
    const failure = classifyFailure(error);
    // Reading the database and writing storage fail for passing reasons (an outage, a throttled
    // store); only a refusal coded as final (payload_too_large) is not worth another attempt.
    const refused = error instanceof AppError && !error.retryable;
    const final = refused || job.retryCount + 1 >= EXPORT_ATTEMPTS;
    await deps.exports.release(exportId, deps.workerId, failure, final);
    deps.log?.(final ? 'error' : 'warn', final ? 'export failed' : 'export failed; retried', { exportId, code: failure.code, message: failure.message, attempt: job.retryCount + 1 });
    if (!final) throw failure;
  } finally {
    clearInterval(beat);
    rmSync(dir, { recursive: true, force: true });
  }
}
