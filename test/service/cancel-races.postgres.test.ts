/**
 * The cancel races on the real PostgreSQL, where the cancel and the worker's writes run on separate
 * connections at the same time: a cancel sent while the worker claims the job, while it records a
 * retryable failure, and while it hands the render back on shutdown. Whichever write commits first,
 * every production ends canceled, no job is left to render it, and the sweeper leaves it so.
 * Skipped, with the reason, when TEST_DATABASE_URL is unset (a failure under CI=true).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inArray } from 'drizzle-orm';
import { AppError } from '../../src/contract/errors.js';
import { productions } from '../../src/db/schema.js';
import { sweepStalls } from '../../src/jobs/sweeper.js';
import { freshPostgres, startTestService, type TestService } from './harness.js';
import { postgresOrSkip } from '../support/services.js';
import { RaceRig, uniqueBrief, type PlanHook } from './render-races.js';

// Skipped without TEST_DATABASE_URL; under CI=true its absence fails the suite.
const { base, skip } = postgresOrSkip();

let svc: TestService | undefined;
let rig: RaceRig;
let drop: (() => Promise<void>) | undefined;

before(async () => {
  if (!base) return;
  const db = await freshPostgres(base);
  drop = db.drop;
  svc = await startTestService({ databaseUrl: db.url, role: 'api' });
  rig = await RaceRig.create(svc);
});
after(async () => {
  await svc?.stop();
  await drop?.();
});

const ROUNDS = 8;

/** Creates ROUNDS productions, then renders each while canceling it; returns what each render left. */
async function race(hook: (cancel: () => Promise<void>, shutdown: AbortController) => PlanHook, delayCancelMs: (i: number) => number): Promise<void> {
  const s = svc as TestService;
  const ids: string[] = [];
  for (let i = 0; i < ROUNDS; i++) ids.push((await s.productions.create('default', uniqueBrief())).id);
  for (const id of ids) await s.queue.discardPending(id); // the rig plays the worker
  const outcomes = await Promise.all(
    ids.map(async (id, i) => {
      const shutdown = new AbortController();
      const cancel = async (): Promise<void> => {
        await s.productions.cancel('default', id).catch((error: unknown) => {
          // Already final (it failed or was canceled first) is a fair outcome of the race only if it is canceled.
          if (!(error instanceof AppError && error.code === 'conflict')) throw error;
        });
      };
      rig.hooks.set(id, hook(cancel, shutdown));
      const [rendered] = await Promise.all([
        rig.render(id, { shutdown: shutdown.signal, heartbeatSec: 1 }),
        new Promise((r) => setTimeout(r, delayCancelMs(i))).then(cancel),
      ]);
      return rendered;
    }),
  );
  const rows = await s.database.db.select().from(productions).where(inArray(productions.id, ids));
  assert.deepEqual(rows.map((r) => r.status), ids.map(() => 'canceled'), JSON.stringify(rows.map((r) => [r.status, r.error])));
  // A render that was put back in the queue before the cancel committed asks for a retry; the
  // claim of that retry refuses it (the pglite suite checks the claim).
  for (const outcome of outcomes) if (outcome.threw) assert.ok(outcome.threw instanceof AppError && outcome.threw.retryable, String(outcome.threw));
  await sweepStalls(s.database, s.queue, { stallTimeoutSec: 60, maxAttempts: 3, queuedGraceSec: 0 });
  const later = await s.database.db.select().from(productions).where(inArray(productions.id, ids));
  assert.deepEqual(later.map((r) => r.status), ids.map(() => 'canceled'), 'still canceled after a sweep');
  assert.equal((await s.queue.pendingProductionIds(ids)).size, 0, 'no render job is waiting for them');
}

/** Plans until the cancel's NOTIFY aborts the render. */
const untilAborted: PlanHook = async (_id, signal) => {
  await new Promise<void>((resolve) => {
    if (signal?.aborted) resolve();
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  signal?.throwIfAborted();
};

test('a cancel sent while the worker claims the job: canceled either way', { skip }, async () => {
  // 0–7 ms apart: some cancels commit before the claim, some between the claim and its first write, some after.
  await race(() => untilAborted, (i) => i);
});

test('a cancel sent while the worker records a retryable failure: canceled, not put back in the queue', { skip }, async () => {
  await race(() => async () => {
    throw new AppError('tts_failed', 'the voice service is down', { retryable: true });
  }, (i) => i % 3);
});

test('a cancel sent while the worker hands the render back on shutdown: canceled, not handed back', { skip }, async () => {
  await race((_cancel, shutdown) => async () => {
    shutdown.abort();
    throw new AppError('aborted', 'planning was stopped');
  }, (i) => i % 3);
});
