/**
 * Self-healing, run by the periodic `heal` job (a pg-boss cron: one worker of the cluster takes
 * each run) and, for the re-queue by hand, by `aiprod productions retry-failed`:
 *
 * - Auto-retry: a failed production whose failure was transient (jobs/failure-class.ts) goes back
 *   to the queue AUTO_RETRY_BACKOFF_SEC × 2^n after it failed, at most AUTO_RETRY_MAX times, and
 *   only while the failure is newer than AUTO_RETRY_WINDOW_SEC. It re-uses the tenant's retry path
 *   (services/requeue-failed.ts), so the cached stage units are re-used. Each re-queue is claimed
 *   by a conditional UPDATE, so several workers running the job re-queue it once, and announced:
 *   a `production.retrying` event in the same transaction, a NOTIFY and a log line.
 * - Stuck detection: a production queued or running longer than STUCK_FACTOR × its expected time
 *   is reported once — `production.stuck` and a log line — and counted by aiprod_productions_stuck
 *   until it moves on. Nothing is done to it: a live worker still holds it (a dead one's is the
 *   sweeper's), and only a person can tell a slow render from a wedged one.
 */
import { and, asc, eq, gte, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import { parseBrief, resolveBrief } from '../contract/resolve.js';
import { RUNNING_STATUSES } from '../contract/production.js';
import { parseStoryboard } from '../contract/storyboard.js';
import { EVENTS_CHANNEL } from '../db/channels.js';
import type { Database } from '../db/database.js';
import type { ProductionRow } from '../db/productions.repository.js';
import { productions } from '../db/schema.js';
import { expandBriefTemplate } from '../design/templates/merge.js';
import { estimateStoryboardSec, expectedRenderSec } from '../pipeline/estimate.js';
import type { JobQueue } from '../queue/queue.js';
import type { ProductionEvents } from '../services/production-events.port.js';
import { requeueFailed } from '../services/requeue-failed.js';
import { TRANSIENT_CODES } from './failure-class.js';

type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export interface AutoRetryOptions {
  /** AUTO_RETRY_MAX: auto-retries a production gets in all. */
  max: number;
  /** AUTO_RETRY_BACKOFF_SEC: auto-retry n waits backoffSec × 2^n after the failure. */
  backoffSec: number;
  /** AUTO_RETRY_WINDOW_SEC: older failures are left alone. */
  windowSec: number;
  events?: ProductionEvents;
  /** Productions re-queued per run at most (the next run takes the rest). */
  limit?: number;
}

export interface Requeued {
  id: string;
  tenantId: string;
  /** The error code of the failure it was re-queued after. */
  code: string;
  /** For an auto-retry: which one (1 … AUTO_RETRY_MAX). */
  autoRetry?: number;
}

/** A failure recorded as transient; rows written before the class was recorded are judged by their code. */
const TRANSIENT = sql`coalesce((${productions.error}->>'retryable')::boolean, ${productions.error}->>'code' in (${sql.join(TRANSIENT_CODES.map((c) => sql`${c}`), sql`, `)}))`;

/** Re-queues the failed productions that are due an auto-retry (see the file's comment); returns those it re-queued. */
export async function autoRetryFailed(database: Database, queue: JobQueue, options: AutoRetryOptions): Promise<Requeued[]> {
  if (options.max <= 0) return [];
  const due = await database.db
    .select()
    .from(productions)
    .where(
      and(
        eq(productions.status, 'failed'),
        eq(productions.cancelRequested, false),
        sql`${productions.autoRetries} < ${options.max}`,
        gte(productions.finishedAt, sql`now() - make_interval(secs => ${options.windowSec})`),
        // Exponential backoff: the n-th auto-retry (from 0) waits backoffSec × 2^n after the failure.
        lte(productions.finishedAt, sql`now() - make_interval(secs => ${options.backoffSec}::float8 * power(2, ${productions.autoRetries}))`),
        TRANSIENT,
      ),
    )
    .orderBy(asc(productions.finishedAt))
    .limit(options.limit ?? 200);
  const done: Requeued[] = [];
  for (const row of due) {
    const requeued = await requeueAndAnnounce(database, queue, row, { auto: true, events: options.events });
    if (requeued) done.push({ id: row.id, tenantId: row.tenantId, code: row.error?.code ?? 'unknown', autoRetry: row.autoRetries + 1 });
  }
  return done;
}

/** One re-queue and its production.retrying event in one transaction, then the NOTIFY the API's streams follow. */
async function requeueAndAnnounce(database: Database, queue: JobQueue, row: ProductionRow, options: { auto: boolean; events?: ProductionEvents }): Promise<boolean> {
  const next = await database.db.transaction(async (tx) => {
    const updated = await requeueFailed(tx, queue, row, { auto: options.auto });
    if (updated) await options.events?.emit(tx, row.id, 'production.retrying');
    return updated;
  });
  if (!next) return false; // claimed by another run, or it moved on
  await database.notify(EVENTS_CHANNEL, JSON.stringify({ id: row.id, tenantId: row.tenantId }));
  return true;
}

export interface RetryFailedOptions {
  /** Failures that finished within this many seconds. */
  sinceSec: number;
  /** Only failures with this error code. */
  code?: string;
  /** Only this tenant's productions. */
  tenantId?: string;
  /** List what would be re-queued; change nothing. */
  dryRun?: boolean;
  events?: ProductionEvents;
  limit?: number;
}

/**
 * The operator's re-queue (`aiprod productions retry-failed`): every failed production in the
 * window, transient or not — the operator decides — oldest failure first. Not counted as an
 * auto-retry. Returns what it re-queued (with `dryRun`, what it would have).
 */
export async function retryFailed(database: Database, queue: JobQueue, options: RetryFailedOptions): Promise<Requeued[]> {
  const rows = await database.db
    .select()
    .from(productions)
    .where(
      and(
        eq(productions.status, 'failed'),
        eq(productions.cancelRequested, false),
        gte(productions.finishedAt, sql`now() - make_interval(secs => ${options.sinceSec})`),
        ...(options.code ? [sql`${productions.error}->>'code' = ${options.code}`] : []),
        ...(options.tenantId ? [eq(productions.tenantId, options.tenantId)] : []),
      ),
    )
    .orderBy(asc(productions.finishedAt))
    .limit(options.limit ?? 10_000);
  const done: Requeued[] = [];
  for (const row of rows) {
    if (options.dryRun || (await requeueAndAnnounce(database, queue, row, { auto: false, events: options.events }))) {
      done.push({ id: row.id, tenantId: row.tenantId, code: row.error?.code ?? 'unknown' });
    }
  }
  return done;
}

export interface StuckOptions {
  /** STUCK_FACTOR: reported past factor × the expected time. */
  factor: number;
  /** STUCK_MIN_EXPECTED_SEC: the least expected time of any production. */
  minExpectedSec: number;
  events?: ProductionEvents;
  limit?: number;
}

export interface Stuck {
  id: string;
  tenantId: string;
  status: string;
  /** Seconds in its status now, its expected time, and the threshold it passed. */
  sinceSec: number;
  expectedSec: number;
  thresholdSec: number;
}

/** Video length assumed for a brief not planned yet that names no target duration. */
const DEFAULT_VIDEO_SEC = 60;

/**
 * A production's expected time, in seconds: what the estimate says one worker slot takes to render
 * it (pipeline/estimate.ts expectedRenderSec: a fixed overhead plus its video length over the
 * measured 1080p throughput, scaled by frame size, rate and extra encodes), and at least
 * `minExpectedSec`. The video length is its storyboard's when planned, else the brief's target,
 * else 60 s. The same figure serves a queued production: waiting longer than several of its own
 * renders means the queue is not keeping up (or no worker takes it).
 */
export function expectedSec(row: Pick<ProductionRow, 'brief' | 'storyboard'>, minExpectedSec: number): number {
  try {
    const brief = resolveBrief(expandBriefTemplate(parseBrief(row.brief)));
    const videoSec = row.storyboard ? estimateStoryboardSec(parseStoryboard(row.storyboard), brief.speechRate, brief.targetDurationSec) : (brief.targetDurationSec ?? DEFAULT_VIDEO_SEC);
    return Math.max(minExpectedSec, Math.round(expectedRenderSec(videoSec, brief)));
  } catch {
    // A brief this version cannot read (it was accepted by an older one): the floor.
    return minExpectedSec;
  }
}

/**
 * Reports each production queued or running past factor × its expected time, once: the report is
 * claimed by a conditional UPDATE (`stuck` still empty, status as read) with its production.stuck
 * event in the same transaction. Queued time counts from when it was last queued (updated_at,
 * which nothing touches while it waits); running time from the first stage of its current attempt.
 */
export async function detectStuck(database: Database, options: StuckOptions): Promise<Stuck[]> {
  const since = sql<number>`extract(epoch from now() - case when ${productions.status} = 'queued' then ${productions.updatedAt}
    else coalesce((select min(s.started_at) from stage_runs s where s.production_id = ${productions.id} and s.attempt = ${productions.attempts}), ${productions.startedAt}, ${productions.updatedAt}) end)::float8`;
  // Every expected time is at least the floor, so only rows past factor × floor can be stuck.
  const rows = await database.db
    .select({ row: productions, sinceSec: since })
    .from(productions)
    .where(and(or(eq(productions.status, 'queued'), inArray(productions.status, [...RUNNING_STATUSES])), isNull(productions.stuck), sql`${since} > ${options.factor * options.minExpectedSec}`))
    .orderBy(asc(productions.updatedAt))
    .limit(options.limit ?? 500);
  const found: Stuck[] = [];
  for (const { row, sinceSec } of rows) {
    const expected = expectedSec(row, options.minExpectedSec);
    const thresholdSec = Math.round(expected * options.factor);
    if (sinceSec <= thresholdSec) continue;
    const stuck = { at: new Date().toISOString(), status: row.status, expectedSec: expected, thresholdSec };
    const claimed = await database.db.transaction(async (tx) => {
      const [updated] = await tx
        .update(productions)
        .set({ stuck })
        .where(and(eq(productions.id, row.id), isNull(productions.stuck), eq(productions.status, row.status)))
        .returning({ id: productions.id });
      if (updated) await options.events?.emit(tx, row.id, 'production.stuck');
      return updated !== undefined;
    });
    if (claimed) found.push({ id: row.id, tenantId: row.tenantId, status: row.status, sinceSec: Math.round(sinceSec), expectedSec: expected, thresholdSec });
  }
  return found;
}

export interface HealOptions {
  autoRetry: AutoRetryOptions & { enabled: boolean };
  stuck: StuckOptions;
}

/**
 * One run of the periodic job: auto-retries (when enabled), then stuck detection. Each part's
 * failure (the database away) is logged and left to the next run; what it did is logged per production.
 */
export async function heal(database: Database, queue: JobQueue, options: HealOptions, log: Log): Promise<{ retried: Requeued[]; stuck: Stuck[] }> {
  let retried: Requeued[] = [];
  let stuck: Stuck[] = [];
  if (options.autoRetry.enabled) {
    try {
      retried = await autoRetryFailed(database, queue, options.autoRetry);
      for (const r of retried) log('warn', 'auto-retry: failed production re-queued after a transient failure', { productionId: r.id, tenantId: r.tenantId, code: r.code, autoRetry: r.autoRetry, max: options.autoRetry.max });
    } catch (error) {
      log('error', 'auto-retry failed; the next run tries again', { message: error instanceof Error ? error.message : String(error) });
    }
  }
  try {
    stuck = await detectStuck(database, options.stuck);
    for (const s of stuck) log('warn', 'production stuck: past STUCK_FACTOR × its expected time', { productionId: s.id, tenantId: s.tenantId, status: s.status, sinceSec: s.sinceSec, expectedSec: s.expectedSec, thresholdSec: s.thresholdSec });
  } catch (error) {
    log('error', 'stuck detection failed; the next run tries again', { message: error instanceof Error ? error.message : String(error) });
  }
  return { retried, stuck };
}

/** The pg-boss cron expression of the job: every AUTO_RETRY_INTERVAL_SEC, rounded up to whole minutes (cron's resolution). */
export function healCron(intervalSec: number): string {
  const minutes = Math.max(1, Math.ceil(intervalSec / 60));
  return minutes === 1 ? '* * * * *' : minutes < 60 ? `*/${minutes} * * * *` : `0 */${Math.min(24, Math.ceil(minutes / 60))} * * *`;
}
