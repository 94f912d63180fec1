/**
 * Self-healing on a real database (no renders: failures are written as a worker writes them):
 * a transient failure is auto-retried after its backoff up to AUTO_RETRY_MAX, through the
 * tenant's retry path; a permanent one is not; two runs of the job re-queue a failure once; the
 * operator's retry-failed filters by code and tenant and changes nothing on a dry run; a stuck
 * production is reported once and counted by aiprod_productions_stuck.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import * as repo from '../../src/db/productions.repository.js';
import { productions, stageRuns } from '../../src/db/schema.js';
import { autoRetryFailed, detectStuck, expectedSec, healCron, retryFailed, type AutoRetryOptions } from '../../src/jobs/self-healing.js';
import { readSnapshot } from '../../src/services/database-metrics.js';
import type { ProductionEvents, ProductionEventType } from '../../src/services/production-events.port.js';
import { requeueFailed } from '../../src/services/requeue-failed.js';
import { startTestService, type TestService } from './harness.js';
import { uniqueBrief } from './render-races.js';

let svc: TestService;

before(async () => {
  svc = await startTestService({ role: 'api' });
  await svc.access.createTenant({ actor: 'cli' }, { id: 'other', name: 'Other' });
});
after(async () => {
  await svc?.stop();
});

/** What the job announced, in the order it did (the real emitter writes webhook deliveries in the same transaction). */
const announced: { id: string; type: ProductionEventType }[] = [];
const events: ProductionEvents = {
  emit: async (_tx, id, type) => announced.push({ id, type }),
  progressStep: () => 0,
  progress: async () => undefined,
};
const eventsOf = (id: string): ProductionEventType[] => announced.filter((e) => e.id === id).map((e) => e.type);

const read = async (id: string): Promise<typeof productions.$inferSelect> => {
  const row = await repo.findProductionById(svc.database.db, id);
  assert.ok(row);
  return row;
};

const jobStates = async (id: string): Promise<string[]> =>
  ((await svc.database.executeSql(`select state from pgboss.job where name = 'aiprod.render' and data->>'productionId' = $1 order by created_on`, [id])).rows as { state: string }[]).map((r) => r.state);

/** A production that failed `ageSec` ago with `code`, as the render handler records it (its job ended). */
async function failed(code: string, ageSec: number, options: { retryable?: boolean; tenantId?: string } = {}): Promise<string> {
  const { id } = await svc.productions.create(options.tenantId ?? 'default', uniqueBrief());
  await svc.database.executeSql(`update pgboss.job set state = 'failed', completed_on = now() where data->>'productionId' = $1`, [id]);
  await failAgain(id, code, ageSec, options.retryable);
  return id;
}

/** The render after a re-queue failed too: one more attempt, failed `ageSec` ago. */
async function failAgain(id: string, code: string, ageSec: number, retryable?: boolean): Promise<void> {
  await svc.database.executeSql(`update pgboss.job set state = 'failed', completed_on = now() where data->>'productionId' = $1 and state <> 'failed'`, [id]);
  await svc.database.db
    .update(productions)
    .set({
      status: 'failed', attempts: sql`${productions.attempts} + 3`, workerId: null, heartbeatAt: null,
      error: { code, message: `${code} happened`, ...(retryable === undefined ? {} : { retryable }) },
      finishedAt: sql`now() - make_interval(secs => ${ageSec})`,
    })
    .where(eq(productions.id, id));
}

const due = async (id: string, ageSec: number): Promise<void> => {
  await svc.database.db.update(productions).set({ finishedAt: sql`now() - make_interval(secs => ${ageSec})` }).where(eq(productions.id, id));
};

const OPTIONS: AutoRetryOptions = { max: 2, backoffSec: 60, windowSec: 3600, events };
const retriedIds = async (options: Partial<AutoRetryOptions> = {}): Promise<string[]> => (await autoRetryFailed(svc.database, svc.queue, { ...OPTIONS, ...options })).map((r) => r.id);

test('a transient failure is re-queued after its backoff (base × 2^n), up to AUTO_RETRY_MAX, with fresh counts and an event each time', async () => {
  const id = await failed('provider_unavailable', 30, { retryable: true });
  assert.ok(!(await retriedIds()).includes(id), 'not before AUTO_RETRY_BACKOFF_SEC (60 s) has passed');

  await due(id, 61);
  const first = await autoRetryFailed(svc.database, svc.queue, OPTIONS);
  assert.deepEqual(first.filter((r) => r.id === id), [{ id, tenantId: 'default', code: 'provider_unavailable', autoRetry: 1 }]);
  let row = await read(id);
  assert.equal(row.status, 'queued');
  assert.equal(row.autoRetries, 1);
  assert.equal(row.error, null);
  assert.equal(row.finishedAt, null);
  // The tenant's retry path: attempts and re-queues start afresh (RENDER_ATTEMPTS applies again).
  assert.equal(row.uncountedAttempts, row.attempts);
  assert.equal(row.requeues, 0);
  assert.deepEqual(await jobStates(id), ['failed', 'created'], 'a new render job');
  assert.deepEqual(eventsOf(id), ['production.retrying']);

  // It fails again: the second auto-retry waits 2 × 60 s.
  await failAgain(id, 'provider_timeout', 61, true);
  assert.ok(!(await retriedIds()).includes(id), 'the second auto-retry waits 120 s');
  await due(id, 121);
  assert.ok((await retriedIds()).includes(id));
  row = await read(id);
  assert.equal(row.autoRetries, 2);
  assert.deepEqual(eventsOf(id), ['production.retrying', 'production.retrying']);

  // Past AUTO_RETRY_MAX it stays failed, however long ago it failed.
  await failAgain(id, 'provider_timeout', 3000, true);
  assert.ok(!(await retriedIds()).includes(id));
  assert.equal((await read(id)).status, 'failed');
  assert.equal(eventsOf(id).length, 2);
});

test('a permanent failure is not auto-retried; a transient one outside the window is not either; rows without a recorded class are judged by their code', async () => {
  const refused = await failed('provider_refused', 600, { retryable: false });
  const badMedia = await failed('ffmpeg_failed', 600, { retryable: false });
  const oldTransient = await failed('worker_lost', 7200, { retryable: true });
  const legacyTransient = await failed('database_unavailable', 600);
  const legacyBug = await failed('internal', 600);
  // S3 throttling is recorded as `internal` with retryable (jobs/failure-class.ts classifyError).
  const throttled = await failed('internal', 600, { retryable: true });
  const retried = await retriedIds();
  assert.ok(!retried.includes(refused), 'content refused: permanent');
  assert.ok(!retried.includes(badMedia), 'invalid media: permanent');
  assert.ok(!retried.includes(oldTransient), 'older than AUTO_RETRY_WINDOW_SEC');
  assert.ok(retried.includes(legacyTransient), 'a transient code without a recorded class');
  assert.ok(!retried.includes(legacyBug), 'internal without a recorded class: permanent');
  assert.ok(retried.includes(throttled), 'an error its adapter marked retryable');
  assert.equal((await read(refused)).status, 'failed');
  assert.deepEqual(eventsOf(refused), []);

  // AUTO_RETRY_MAX=0 turns the re-queue off.
  const another = await failed('provider_unavailable', 600, { retryable: true });
  assert.deepEqual(await retriedIds({ max: 0 }), []);
  assert.equal((await read(another)).status, 'failed');
});

test('two runs of the job at once re-queue a failure once: the conditional UPDATE claims it', async () => {
  const id = await failed('provider_rate_limited', 600, { retryable: true });
  const stale = await read(id);
  // Two runs that both read the failure, then both try to claim it.
  const claims = await Promise.all([0, 1].map(() => svc.database.db.transaction((tx) => requeueFailed(tx, svc.queue, stale, { auto: true }))));
  assert.equal(claims.filter(Boolean).length, 1);
  assert.deepEqual(await jobStates(id), ['failed', 'created']);

  // And two whole runs of the job, each finding the same due failures.
  const ids = await Promise.all([1, 2, 3].map(() => failed('resource_exhausted', 600, { retryable: true })));
  const [a, b] = await Promise.all([autoRetryFailed(svc.database, svc.queue, OPTIONS), autoRetryFailed(svc.database, svc.queue, OPTIONS)]);
  for (const each of ids) {
    assert.equal([...a, ...b].filter((r) => r.id === each).length, 1, `${each} re-queued by exactly one run`);
    assert.equal((await read(each)).autoRetries, 1);
    assert.deepEqual(await jobStates(each), ['failed', 'created'], 'one new job');
    assert.deepEqual(eventsOf(each), ['production.retrying']);
  }
  // A stale read after the re-queue finds nothing to claim.
  assert.equal(await svc.database.db.transaction((tx) => requeueFailed(tx, svc.queue, stale, { auto: true })), undefined);
});

test("the operator's retry-failed: any failure in the window, filtered by code and tenant; a dry run changes nothing", async () => {
  const refused = await failed('provider_refused', 120, { retryable: false });
  const missing = await failed('ffmpeg_missing', 120, { retryable: false });
  const otherTenant = await failed('ffmpeg_missing', 120, { retryable: false, tenantId: 'other' });
  const tooOld = await failed('ffmpeg_missing', 7200, { retryable: false });

  const dry = await retryFailed(svc.database, svc.queue, { sinceSec: 3600, code: 'ffmpeg_missing', dryRun: true, events });
  assert.deepEqual(dry.map((r) => r.id).sort(), [missing, otherTenant].sort());
  for (const id of [missing, otherTenant]) {
    assert.equal((await read(id)).status, 'failed', 'a dry run changes nothing');
    assert.deepEqual(eventsOf(id), []);
  }

  const mine = await retryFailed(svc.database, svc.queue, { sinceSec: 3600, code: 'ffmpeg_missing', tenantId: 'default', events });
  assert.deepEqual(mine.map((r) => r.id), [missing]);
  const row = await read(missing);
  assert.equal(row.status, 'queued');
  assert.equal(row.autoRetries, 0, 'an operator re-queue is not an auto-retry');
  assert.deepEqual(await jobStates(missing), ['failed', 'created']);
  assert.deepEqual(eventsOf(missing), ['production.retrying']);
  assert.equal((await read(otherTenant)).status, 'failed');
  assert.equal((await read(tooOld)).status, 'failed');

  // Without --code a permanent failure is re-queued too: the operator decides.
  const all = await retryFailed(svc.database, svc.queue, { sinceSec: 3600, tenantId: 'default', events });
  assert.ok(all.some((r) => r.id === refused));
  assert.equal((await read(refused)).status, 'queued');
});

test('a production queued or running past STUCK_FACTOR × its expected time is reported once, and counted until it moves on', async () => {
  const options = { factor: 3, minExpectedSec: 100, events };
  const { id: queued } = await svc.productions.create('default', uniqueBrief());
  const { id: fresh } = await svc.productions.create('default', uniqueBrief());
  const { id: running } = await svc.productions.create('default', uniqueBrief());
  const { id: slowButFine } = await svc.productions.create('default', uniqueBrief());
  // A 2 s brief at 480p: its expected time is the floor.
  assert.equal(expectedSec(await read(queued), 100), 100);
  await svc.database.db.update(productions).set({ updatedAt: sql`now() - interval '301 seconds'` }).where(eq(productions.id, queued));
  for (const [id, ageSec] of [[running, 400], [slowButFine, 200]] as const) {
    await svc.database.db.update(productions).set({ status: 'rendering', attempts: 2, workerId: 'w1', heartbeatAt: sql`now()`, startedAt: sql`now() - interval '1 day'` }).where(eq(productions.id, id));
    // The current attempt's first stage started ageSec ago (the first attempt's day-old start does not count).
    await svc.database.db.insert(stageRuns).values({ productionId: id, stage: 'plan', attempt: 2, status: 'succeeded', startedAt: sql`now() - make_interval(secs => ${ageSec})` });
  }

  const found = await detectStuck(svc.database, options);
  const byId = new Map(found.map((s) => [s.id, s]));
  assert.equal(byId.get(queued)?.status, 'queued');
  assert.equal(byId.get(queued)?.thresholdSec, 300);
  assert.equal(byId.get(running)?.status, 'rendering');
  assert.ok(!byId.has(fresh));
  assert.ok(!byId.has(slowButFine), '200 s is under 3 × 100 s');
  assert.deepEqual(eventsOf(queued), ['production.stuck']);
  assert.deepEqual(eventsOf(running), ['production.stuck']);
  assert.deepEqual((await read(running)).stuck?.status, 'rendering');

  // Once: the next runs report nothing new.
  assert.deepEqual((await detectStuck(svc.database, options)).filter((s) => s.id === queued || s.id === running), []);
  assert.deepEqual(eventsOf(queued), ['production.stuck']);

  const stuckGauge = async (): Promise<Record<string, number>> => Object.fromEntries((await readSnapshot(svc.database, undefined, 60)).stuck.map((r) => [r.status, r.n]));
  assert.deepEqual(await stuckGauge(), { queued: 1, rendering: 1 });
  // Moving on (the render reached mixing) takes it off the gauge.
  await svc.database.db.update(productions).set({ status: 'mixing' }).where(eq(productions.id, running));
  assert.deepEqual(await stuckGauge(), { queued: 1 });
});

test('the job runs every AUTO_RETRY_INTERVAL_SEC, in whole minutes', () => {
  assert.equal(healCron(60), '* * * * *');
  assert.equal(healCron(61), '*/2 * * * *');
  assert.equal(healCron(900), '*/15 * * * *');
  assert.equal(healCron(7200), '0 */2 * * *');
});
