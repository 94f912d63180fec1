/**
 * The one way a failed production goes back to the queue: a tenant's POST /v1/productions/:id/retry,
 * the self-healing job's auto-retry and an operator's `aiprod productions retry-failed` all use it.
 * The production keeps its id, its approved storyboard and its cached stage units, so the next
 * render re-uses every unit that was made before the failure instead of starting from zero.
 */
import { and, eq, sql } from 'drizzle-orm';
import { executorFor, type AppDb } from '../db/database.js';
import type { ProductionRow } from '../db/productions.repository.js';
import { productions } from '../db/schema.js';
import type { JobQueue } from '../queue/queue.js';

/**
 * Re-queues `row` — the failure as it was read — with a new render job, in `tx`. The UPDATE claims
 * that failure: it matches only while the production is still failed with the same attempts (and,
 * for an auto-retry, the same count of auto-retries), so of two callers that read the same failure
 * (two workers running the periodic job, an operator and the job) exactly one re-queues it.
 * Undefined when the failure was claimed by someone else, or the production moved on.
 *
 * A re-queue starts a fresh count of re-queues (RENDER_MAX_REQUEUES) and of attempts
 * (RENDER_ATTEMPTS): one that failed with requeue_limit or worker_lost can run again, and fail
 * again (a failed production is never claimed, so its attempts are as read). `auto` counts it in
 * `auto_retries`, which AUTO_RETRY_MAX bounds; a stuck report is cleared for the new run.
 */
export async function requeueFailed(tx: AppDb, queue: Pick<JobQueue, 'enqueue'>, row: ProductionRow, options: { auto?: boolean } = {}): Promise<ProductionRow | undefined> {
  const [next] = await tx
    .update(productions)
    .set({
      status: 'queued', error: null, workerId: null, heartbeatAt: null, finishedAt: null, progress: 0,
      requeues: 0, uncountedAttempts: row.attempts, stuck: null, updatedAt: sql`now()`,
      ...(options.auto ? { autoRetries: sql`${productions.autoRetries} + 1` } : {}),
    })
    .where(
      and(
        eq(productions.id, row.id),
        eq(productions.status, 'failed'),
        eq(productions.attempts, row.attempts),
        ...(options.auto ? [eq(productions.autoRetries, row.autoRetries)] : []),
      ),
    )
    .returning();
  if (next) await queue.enqueue('render', { productionId: row.id }, { priority: next.priority, executor: executorFor(tx) });
  return next;
}
