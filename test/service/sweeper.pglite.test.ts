/**
 * The stall sweeper: a cancel no worker made final is recorded; what it changes about a production
 * and its queue jobs commits at once or not at all; a production it fails leaves no job "active";
 * and when more productions are stalled than one sweep takes, the longest-silent go first.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import * as repo from '../../src/db/productions.repository.js';
import { productions } from '../../src/db/schema.js';
import type { JobQueue } from '../../src/queue/queue.js';
import { sweepStalls } from '../../src/jobs/sweeper.js';
import { startTestService, type TestService } from './harness.js';
import { uniqueBrief } from './render-races.js';

let svc: TestService;

before(async () => {
  svc = await startTestService({ role: 'api' });
});
after(async () => {
  await svc?.stop();
});

const read = async (id: string): Promise<typeof productions.$inferSelect> => {
  const [row] = await svc.database.db.select().from(productions).where(eq(productions.id, id));
  assert.ok(row);
  return row;
};

const sweep = (queue: JobQueue = svc.queue): ReturnType<typeof sweepStalls> =>
  sweepStalls(svc.database, queue, { stallTimeoutSec: 60, maxAttempts: 3, maxRequeues: 3, queuedGraceSec: 0 });

const jobStates = async (id: string): Promise<string[]> =>
  ((await svc.database.executeSql(`select state from pgboss.job where data->>'productionId' = $1 order by created_on`, [id])).rows as { state: string }[]).map((r) => r.state);

/** A production whose worker died mid-render: its job is active, its lease `ageSec` old. */
async function stalled(values: Partial<typeof productions.$inferInsert> = {}, ageSec = 3600): Promise<string> {
  const { id } = await svc.productions.create('default', uniqueBrief());
  await svc.database.executeSql(`update pgboss.job set state = 'active', started_on = now() where data->>'productionId' = $1`, [id]);
  await svc.database.db
    .update(productions)
    .set({ status: 'rendering', workerId: 'dead-worker', attempts: 1, heartbeatAt: sql`now() - make_interval(secs => ${ageSec})`, ...values })
    .where(eq(productions.id, id));
  return id;
}

test('a cancel no worker made final is recorded by the sweeper: a queued production without a job, and a stalled running one', async () => {
  const { id: queued } = await svc.productions.create('default', uniqueBrief());
  await svc.queue.discardPending(queued);
  await svc.database.db.update(productions).set({ cancelRequested: true, updatedAt: sql`now() - interval '1 second'` }).where(eq(productions.id, queued));
  const running = await stalled({ cancelRequested: true });

  await sweep();
  assert.equal((await read(queued)).status, 'canceled');
  const row = await read(running);
  assert.equal(row.status, 'canceled');
  assert.equal(row.workerId, null);
  assert.equal(row.requeues, 0, 'not re-queued');
  assert.deepEqual(await jobStates(running), ['failed'], 'the dead worker\'s job is no longer active');
});

test('a re-queue commits whole or not at all: when the new job cannot be inserted, the production stays as found', async () => {
  const id = await stalled();
  const broken = new Proxy(svc.queue, {
    get(target, property, receiver) {
      if (property === 'enqueue') return async () => Promise.reject(new Error('queue unreachable'));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  await assert.rejects(sweep(broken), /queue unreachable/);
  const row = await read(id);
  assert.equal(row.status, 'rendering', 'not queued without a job');
  assert.equal(row.requeues, 0);
  assert.deepEqual(await jobStates(id), ['active']);

  const result = await sweep();
  assert.deepEqual(result.requeued, [id]);
  assert.deepEqual(await jobStates(id), ['failed', 'created']);
  // Counted once as a stall (aiprod_render_stalls_total), with its re-queue; the failed attempt counted nothing.
  const requeued = await read(id);
  assert.equal(requeued.stalls, 1);
  assert.equal(requeued.requeues, 1);
});

test('a production the sweeper fails (worker lost too often) leaves no active job behind', async () => {
  const id = await stalled({ attempts: 3 });
  const result = await sweep();
  assert.deepEqual(result.failed, [id]);
  assert.equal((await read(id)).error?.code, 'worker_lost');
  assert.equal((await read(id)).stalls, 1, 'a lost worker is a stall too');
  assert.deepEqual(await jobStates(id), ['failed']);
  assert.equal((await svc.queue.pendingProductionIds([id])).size, 0);
});

test('past its limit, a sweep takes the longest-silent productions first', async () => {
  // Created first, so an unordered scan meets the more recent lease first.
  const recent = await stalled({}, 7200);
  const oldest = await stalled({}, 9000);
  const [first] = await repo.findStalled(svc.database.db, 60, 86_400, 1);
  assert.equal(first?.id, oldest);
  const two = await repo.findStalled(svc.database.db, 60, 86_400, 2);
  assert.deepEqual(two.map((r) => r.id), [oldest, recent]);
});
