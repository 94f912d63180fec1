/**
 * The queue port and its pg-boss adapter. pg-boss keeps jobs in the same database as the
 * productions, so a production and its job are inserted in one transaction (`executor`).
 *
 * @example
 *   const queue = await PgBossQueue.start(database, { prefix: 'aiprod' });
 *   await queue.enqueue('render', { productionId }, { priority: 5 });
 */
import PgBoss from 'pg-boss';
import { AppError, isDatabaseUnavailable } from '../contract/errors.js';
import type { Database, SqlExecutor } from '../db/database.js';
import { JOBS, type JobName, type JobPayload } from './catalog.js';

export interface EnqueueOptions {
  priority?: number;
  /** Run inside this transaction instead of on its own. */
  executor?: SqlExecutor;
  startAfterSec?: number;
}

export interface QueueJob<N extends JobName> {
  id: string;
  name: N;
  data: JobPayload<N>;
  retryCount: number;
}

export interface JobQueue {
  enqueue<N extends JobName>(name: N, data: JobPayload<N>, options?: EnqueueOptions): Promise<string>;
  enqueueMany<N extends JobName>(name: N, items: { data: JobPayload<N>; priority?: number }[], options?: EnqueueOptions): Promise<void>;
  /** Runs `handler` for jobs of `name`, `concurrency` at a time; resolves once polling started. */
  work<N extends JobName>(name: N, concurrency: number, handler: (job: QueueJob<N>) => Promise<void>): Promise<void>;
  /** Jobs waiting, and the age in seconds of the oldest (for /metrics). */
  depth(name: JobName): Promise<{ waiting: number; active: number; oldestWaitingSec: number }>;
  /** Which of `ids` have a render job not yet finished (waiting, retrying or active). */
  pendingProductionIds(ids: readonly string[]): Promise<Set<string>>;
  schedule(name: JobName, cron: string, data: object): Promise<void>;
  /** Cancels the render jobs of a production that no worker has started (after a cancel); in `executor`'s transaction when given. */
  discardPending(productionId: string, executor?: SqlExecutor): Promise<number>;
  /** Ends the "active" render jobs of a production whose worker died (it gets a new job, or fails); in `executor`'s transaction when given. */
  retireActive(productionId: string, executor?: SqlExecutor): Promise<number>;
  stopWorking(): Promise<void>;
  stop(): Promise<void>;
}

export interface QueueOptions {
  /** pg-boss schema; tests give each run its own. */
  schema?: string;
  pollingIntervalSec?: number;
  retryLimit?: number;
  /** Run pg-boss's maintenance and cron in this process (the API and workers all may; pg-boss coordinates). */
  supervise?: boolean;
  /** Where pg-boss's background errors (maintenance, polling) are reported. */
  onError?: (error: Error) => void;
  /** How long pg-boss's own statements are retried while the database is unavailable (default 60 s). */
  outageBudgetMs?: number;
}

type JobState = 'created' | 'retry' | 'active';

function check<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  const parsed = JOBS[name].payload.safeParse(data);
  if (!parsed.success) throw new AppError('internal', `bad ${name} job payload: ${parsed.error.message}`);
  return parsed.data as JobPayload<N>;
}

export class PgBossQueue implements JobQueue {
  private readonly workers: string[] = [];

  private constructor(
    private readonly boss: PgBoss,
    private readonly db: Database,
    private readonly schema: string,
    private readonly options: QueueOptions,
    private readonly stopping: { now: boolean },
  ) {}

  static async start(db: Database, options: QueueOptions = {}): Promise<PgBossQueue> {
    const schema = options.schema ?? 'pgboss';
    // It is spliced into SQL below (pg-boss does the same), so it must be a plain identifier.
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new AppError('internal', `bad queue schema name: ${schema}`);
    const stopping = { now: false };
    const boss = new PgBoss({
      db: patient(db, options.outageBudgetMs ?? 60_000, stopping),
      schema,
      supervise: options.supervise ?? true,
      schedule: options.supervise ?? true,
      retryLimit: options.retryLimit ?? 2,
      retryBackoff: true,
      retryDelay: 2,
      maintenanceIntervalSeconds: 30,
    });
    // Background errors (a lost connection during polling) must not crash the process; they are
    // logged, and /ready reports a queue that stays unreachable.
    boss.on('error', (error) => options.onError?.(error));
    await boss.start();
    for (const [name, job] of Object.entries(JOBS)) {
      await boss.createQueue(job.queue, {
        name: job.queue,
        retryLimit: name === 'render' ? (options.retryLimit ?? 2) : 'retryLimit' in job ? job.retryLimit : 1,
        retryBackoff: true,
        retryDelay: 2,
        expireInSeconds: job.expireInSeconds,
      });
    }
    return new PgBossQueue(boss, db, schema, options, stopping);
  }

  async enqueue<N extends JobName>(name: N, data: JobPayload<N>, options: EnqueueOptions = {}): Promise<string> {
    const id = await this.boss.send(JOBS[name].queue, check(name, data), {
      priority: options.priority ?? 0,
      startAfter: options.startAfterSec,
      ...(options.executor ? { db: options.executor } : {}),
    });
    if (!id) throw new AppError('internal', `the ${name} job was not created`);
    return id;
  }

  async enqueueMany<N extends JobName>(name: N, items: { data: JobPayload<N>; priority?: number }[], options: EnqueueOptions = {}): Promise<void> {
    const jobs = items.map((item) => ({ name: JOBS[name].queue, data: check(name, item.data), priority: item.priority ?? 0 }));
    await this.boss.insert(jobs, options.executor ? { db: options.executor } : {});
  }

  async work<N extends JobName>(name: N, concurrency: number, handler: (job: QueueJob<N>) => Promise<void>): Promise<void> {
    // One pg-boss worker per slot, each taking one job at a time: a slow render never holds
    // fetched-but-unstarted jobs hostage.
    for (let i = 0; i < concurrency; i++) {
      const id = await this.boss.work<JobPayload<N>>(
        JOBS[name].queue,
        { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: this.options.pollingIntervalSec ?? 1 },
        async ([job]) => {
          if (!job) return;
          await handler({ id: job.id, name, data: check(name, job.data), retryCount: job.retryCount });
        },
      );
      this.workers.push(id);
    }
  }

  async depth(name: JobName): Promise<{ waiting: number; active: number; oldestWaitingSec: number }> {
    const { rows } = await this.db.executeSql(
      `select count(*) filter (where state in ('created', 'retry'))::int as waiting,
              count(*) filter (where state = 'active')::int as active,
              coalesce(extract(epoch from now() - min(created_on) filter (where state in ('created', 'retry'))), 0)::float as oldest
         from ${this.schema}.job where name = $1`,
      [JOBS[name].queue],
    );
    const row = rows[0] as { waiting: number; active: number; oldest: number } | undefined;
    return { waiting: row?.waiting ?? 0, active: row?.active ?? 0, oldestWaitingSec: row?.oldest ?? 0 };
  }

  async pendingProductionIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    // One text parameter (ids are UUIDs, never commas): both executors pass it the same way.
    const { rows } = await this.db.executeSql(
      `select distinct data->>'productionId' as id from ${this.schema}.job
        where name = $1 and state in ('created', 'retry', 'active') and data->>'productionId' = any(string_to_array($2, ','))`,
      [JOBS.render.queue, ids.join(',')],
    );
    return new Set((rows as { id: string }[]).map((r) => r.id));
  }

  async discardPending(productionId: string, executor?: SqlExecutor): Promise<number> {
    return this.endRenderJobs(productionId, ['created', 'retry'], 'cancelled', executor);
  }

  async retireActive(productionId: string, executor?: SqlExecutor): Promise<number> {
    // If the worker was only slow, not dead, its later completion of this job is a no-op.
    return this.endRenderJobs(productionId, ['active'], 'failed', executor);
  }

  private async endRenderJobs(productionId: string, from: readonly JobState[], to: 'cancelled' | 'failed', executor: SqlExecutor = this.db): Promise<number> {
    // States are spliced in (both executors pass arrays differently); they are constants of this file.
    const states = from.map((state) => `'${state}'`).join(', ');
    const { rows } = await executor.executeSql(
      `update ${this.schema}.job set state = $3, completed_on = now()
        where name = $1 and data->>'productionId' = $2 and state in (${states}) returning id`,
      [JOBS.render.queue, productionId, to],
    );
    return rows.length;
  }

  async schedule(name: JobName, cron: string, data: object): Promise<void> {
    await this.boss.schedule(JOBS[name].queue, cron, check(name, data));
  }

  async stopWorking(): Promise<void> {
    for (const id of this.workers.splice(0)) await this.boss.offWork({ id });
  }

  async stop(): Promise<void> {
    this.stopping.now = true;
    await this.boss.stop({ graceful: false, wait: true, close: false });
  }
}

/**
 * pg-boss's own statements (polling, completing and failing jobs, maintenance), retried with
 * backoff while the database is unavailable — a restart, a failover, terminated backends — for up
 * to `budgetMs`: workers pause during an outage and resume after it. pg-boss completes and fails
 * jobs without awaiting the result, so a statement that gave up at once would be an unhandled
 * rejection; and a job whose completion was lost would run again after it expires.
 */
function patient(db: SqlExecutor, budgetMs: number, stopping: { now: boolean }): SqlExecutor {
  return {
    async executeSql(text, values) {
      const deadline = Date.now() + budgetMs;
      for (let attempt = 0; ; attempt++) {
        try {
          return await db.executeSql(text, values);
        } catch (error) {
          if (!isDatabaseUnavailable(error) || stopping.now || Date.now() >= deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** attempt)));
        }
      }
    },
  };
}
