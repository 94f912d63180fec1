/**
 * A cancel sticks: whatever the worker is doing when the cancel lands (handing the render back on
 * shutdown, recording a retryable failure, claiming the job), the production ends canceled and
 * stays canceled — the worker's status writes are guarded, and a write that finds the production
 * canceled ends the job instead of putting the production back in the queue. And the sweeper
 * re-queues a production it keeps finding only a bounded number of times.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { AppError } from '../../src/contract/errors.js';
import { productions } from '../../src/db/schema.js';
import { sweepStalls } from '../../src/jobs/sweeper.js';
import { startTestService, type TestService } from './harness.js';
import { RaceRig, uniqueBrief } from './render-races.js';

let svc: TestService;
let rig: RaceRig;

before(async () => {
  svc = await startTestService({ role: 'api' });
  rig = await RaceRig.create(svc);
});
after(async () => {
  await svc?.stop();
});

const read = async (id: string): Promise<typeof productions.$inferSelect> => {
  const [row] = await svc.database.db.select().from(productions).where(eq(productions.id, id));
  assert.ok(row);
  return row;
};

/** The sweeper, as every worker runs it, with no grace for queued productions. */
const sweep = (): ReturnType<typeof sweepStalls> => sweepStalls(svc.database, svc.queue, { stallTimeoutSec: 60, maxAttempts: 3, maxRequeues: 3, queuedGraceSec: 0 });

async function assertStaysCanceled(id: string): Promise<void> {
  assert.equal((await read(id)).status, 'canceled');
  await sweep();
  const later = await read(id);
  assert.equal(later.status, 'canceled', 'the sweeper leaves a canceled production alone');
  assert.equal((await svc.queue.pendingProductionIds([id])).has(id), false, 'no render job is waiting for it');
}

type Logged = { level: string; message: string } & Record<string, unknown>;

/** The handler's log lines, for what path a render took. */
function logInto(logs: Logged[]): (level: string, message: string, fields?: Record<string, unknown>) => void {
  return (level, message, fields) => logs.push({ level, message, ...fields });
}

/**
 * A cancel the worker does not hear of: written straight to the row (no NOTIFY, and the rig's
 * heartbeat is 30 s), once the handler's own writes before planning are done. The next status
 * write of the worker is then the only thing that can see it.
 */
async function cancelBehindTheWorkersBack(id: string): Promise<void> {
  await rig.events(id, 2);
  await svc.database.db.update(productions).set({ status: 'canceled', cancelRequested: true, finishedAt: new Date() }).where(eq(productions.id, id));
}

const stoppedWhy = (logs: Logged[]): unknown[] => logs.filter((l) => l.message.startsWith('render stopped')).map((l) => l.why);

test('a cancel that lands during a retryable failure is not undone by the retry', async () => {
  const { id } = await svc.productions.create('default', uniqueBrief());
  await svc.queue.discardPending(id); // the rig plays the worker
  rig.hook = async (productionId) => {
    await cancelBehindTheWorkersBack(productionId);
    throw new AppError('tts_failed', 'the voice service is down', { retryable: true });
  };
  const logs: Logged[] = [];
  const { threw } = await rig.render(id, { log: logInto(logs) });
  const row = await read(id);
  assert.equal(row.status, 'canceled', 'the retry path did not put it back in the queue');
  assert.equal(row.requeues, 0);
  assert.equal(threw, undefined, 'the job completes: the queue must not retry a canceled production');
  assert.deepEqual(stoppedWhy(logs), ['retryable tts_failed'], 'the retry\'s release found nothing to change');
  await assertStaysCanceled(id);
});

test('a cancel that lands during a shutdown hand-back is not undone by the hand-back', async () => {
  const { id } = await svc.productions.create('default', uniqueBrief());
  await svc.queue.discardPending(id);
  const shutdown = new AbortController();
  rig.hook = async (productionId, signal) => {
    await cancelBehindTheWorkersBack(productionId);
    shutdown.abort();
    assert.ok(signal?.aborted, 'the shutdown aborted the render');
    throw new AppError('aborted', 'planning was stopped');
  };
  const logs: Logged[] = [];
  const { threw } = await rig.render(id, { shutdown: shutdown.signal, log: logInto(logs) });
  const row = await read(id);
  assert.equal(row.status, 'canceled', 'the hand-back did not put it back in the queue');
  assert.equal(row.requeues, 0, 'nothing was handed back');
  assert.equal(threw, undefined, 'the job completes: nothing is handed back');
  assert.deepEqual(stoppedWhy(logs), ['shutdown'], 'the hand-back\'s release found nothing to change');
  await assertStaysCanceled(id);
});

test('the claim refuses a production whose cancel was requested, and the worker records it canceled', async () => {
  const { id } = await svc.productions.create('default', uniqueBrief());
  await svc.queue.discardPending(id);
  // What a cancel racing an unguarded hand-back used to leave: queued, with the cancel asked.
  await svc.database.db.update(productions).set({ cancelRequested: true }).where(eq(productions.id, id));
  rig.hook = async () => undefined;
  const { threw } = await rig.render(id);
  assert.equal(threw, undefined);
  assert.equal(rig.planned.includes(id), false, 'nothing was rendered');
  const row = await read(id);
  assert.equal(row.attempts, 0, 'not claimed');
  assert.equal(row.status, 'canceled');
  await assertStaysCanceled(id);
});

test('a shutdown hand-back puts the production back once; past the bound it fails with requeue_limit', async () => {
  const { id } = await svc.productions.create('default', uniqueBrief());
  await svc.queue.discardPending(id);
  const handBack = async (): Promise<{ threw?: Error }> => {
    const shutdown = new AbortController();
    rig.hook = async () => {
      shutdown.abort();
      throw new AppError('aborted', 'planning was stopped');
    };
    return rig.render(id, { shutdown: shutdown.signal });
  };
  for (let i = 1; i <= 3; i++) {
    const { threw } = await handBack();
    // Not the queue's retry (its budget is RENDER_ATTEMPTS - 1, fewer than the hand-backs allowed): a new job.
    assert.equal(threw, undefined, 'the job completes; a new one takes over');
    assert.ok((await svc.queue.pendingProductionIds([id])).has(id), 'a new render job waits for it');
    assert.equal(await svc.queue.discardPending(id), 1, 'exactly one');
    const row = await read(id);
    assert.equal(row.status, 'queued');
    assert.equal(row.requeues, i);
    assert.equal(row.attempts - row.uncountedAttempts, 0, 'a hand-back uses up no attempt');
  }
  const { threw } = await handBack();
  assert.equal(threw, undefined);
  const row = await read(id);
  assert.equal(row.status, 'failed');
  assert.equal(row.error?.code, 'requeue_limit');
  // A retry asked for by the tenant starts a fresh count.
  await svc.productions.retry('default', id);
  const retried = await read(id);
  assert.equal(retried.status, 'queued');
  assert.equal(retried.requeues, 0);
  assert.equal(retried.attempts - retried.uncountedAttempts, 0, 'and a fresh count of attempts');
});

test('a production the sweeper keeps finding without a job is re-queued at most RENDER_MAX_REQUEUES times, then failed', async () => {
  const { id } = await svc.productions.create('default', uniqueBrief());
  let requeued = 0;
  let failed = false;
  for (let i = 0; i < 8 && !failed; i++) {
    await svc.queue.discardPending(id); // its job goes missing again
    // Old enough for the sweeper (its grace is 0 s here): it changed before this sweep began.
    await svc.database.db.update(productions).set({ updatedAt: sql`now() - interval '1 second'` }).where(eq(productions.id, id));
    const result = await sweep();
    if (result.requeued.includes(id)) requeued++;
    failed = result.failed.includes(id);
  }
  assert.equal(requeued, 3);
  assert.ok(failed, 'the fourth sweep fails it');
  const row = await read(id);
  assert.equal(row.status, 'failed');
  assert.equal(row.error?.code, 'requeue_limit');
  assert.match(row.error?.message ?? '', /3 times/);
  assert.equal((await svc.queue.pendingProductionIds([id])).has(id), false);
});

test('a full disk (ENOSPC) is retryable: the production goes back to the queue with a delay, then fails past the bound', async () => {
  const { id } = await svc.productions.create('default', uniqueBrief());
  await svc.queue.discardPending(id);
  rig.hook = async () => {
    throw Object.assign(new Error(`ENOSPC: no space left on device, write '${svc.dataDir}/tmp/x.wav'`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  };
  const { threw } = await rig.render(id);
  assert.equal(threw, undefined, 'the job is done: a new, delayed one takes over (no queue retry is used up)');
  const row = await read(id);
  assert.equal(row.status, 'queued', JSON.stringify(row.error));
  assert.equal(row.error?.code, 'resource_exhausted');
  assert.equal(row.error?.retryable, true);
  assert.doesNotMatch(row.error?.message ?? '', new RegExp(svc.dataDir), 'no server path in what the tenant sees');
  assert.equal(row.requeues, 1);
  assert.equal(row.attempts, 1);
  assert.equal(row.uncountedAttempts, 1, 'a deferral uses up no attempt');
  const { rows } = await svc.database.executeSql(
    `select (start_after > now() + interval '5 seconds') as later from pgboss.job where data->>'productionId' = $1 and state = 'created'`,
    [id],
  );
  assert.deepEqual(rows, [{ later: true }], 'one waiting job, started after a backoff');

  // Still full after RENDER_MAX_REQUEUES delays: it fails, with the same code.
  await svc.database.db.update(productions).set({ requeues: 3 }).where(eq(productions.id, id));
  await rig.render(id);
  const failed = await read(id);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error?.code, 'resource_exhausted');
});

test('deferrals and hand-backs use up no attempt: a retryable failure after three of them is still retried, and a lost worker re-queued', async () => {
  const { id } = await svc.productions.create('default', uniqueBrief());
  await svc.queue.discardPending(id);
  const enospc = async (): Promise<void> => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  };
  for (let i = 0; i < 2; i++) {
    rig.hook = enospc;
    assert.equal((await rig.render(id)).threw, undefined);
    await svc.queue.discardPending(id);
  }
  const shutdown = new AbortController();
  rig.hook = async () => {
    shutdown.abort();
    throw new AppError('aborted', 'planning was stopped');
  };
  await rig.render(id, { shutdown: shutdown.signal });
  await svc.queue.discardPending(id);
  let row = await read(id);
  assert.equal(row.status, 'queued');
  assert.equal(row.attempts, 3, 'three claims');
  assert.equal(row.uncountedAttempts, 3, 'none of them counted');

  rig.hook = async () => {
    throw new AppError('internal', 'S3 PUT failed: 503 SlowDown', { status: 502, retryable: true });
  };
  const { threw } = await rig.render(id);
  assert.ok(threw instanceof AppError && threw.retryable, 'the first counted attempt is retried by the queue');
  row = await read(id);
  assert.equal(row.status, 'queued', JSON.stringify(row.error));
  assert.equal(row.attempts - row.uncountedAttempts, 1);

  // Its worker dies on the next attempt: the sweeper re-queues it (two counted of three), not worker_lost.
  await svc.database.db
    .update(productions)
    .set({ status: 'rendering', workerId: 'dead-worker', heartbeatAt: sql`now() - interval '1 hour'`, attempts: sql`${productions.attempts} + 1`, requeues: 0 })
    .where(eq(productions.id, id));
  const result = await sweep();
  assert.deepEqual(result.requeued, [id], JSON.stringify(result));
  assert.equal((await read(id)).status, 'queued');
});

test('a work directory that cannot be made fails the render like any failure, and leaves no timer or registration behind', async () => {
  const { id } = await svc.productions.create('default', uniqueBrief());
  await svc.queue.discardPending(id);
  rig.hook = async () => undefined;
  const { threw } = await rig.render(id, { tmpDir: '/nonexistent/aiprod-tmp', heartbeatSec: 0.05 });
  assert.equal(threw, undefined);
  assert.equal((await read(id)).status, 'failed');
  assert.equal(rig.active.size, 0, 'the render is no longer registered for cancels');
});
