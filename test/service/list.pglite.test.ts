/**
 * GET /v1/productions reads a page in one query (stage runs and outputs aggregated in it), not
 * two more per row, and every item is the same as GET /v1/productions/:id answers.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as repo from '../../src/db/productions.repository.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
before(async () => {
  svc = await startTestService({ role: 'api' });
});
after(async () => {
  await svc?.stop();
});

const brief = (i: number): Record<string, unknown> => ({
  title: `List ${i}`,
  scenes: [{ narration: `Item ${i}.`, durationSec: 2, visual: { type: 'gradient', colors: ['#1e3a8a', '#111827'] } }],
  resolution: '480p',
});

/** Counts the statements the database runs while `run` does. */
async function countQueries<T>(run: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
  const client = (svc.database.db as unknown as { session: { client: { query: (...args: unknown[]) => Promise<unknown> } } }).session.client;
  const original = client.query;
  const queries: string[] = [];
  client.query = function (this: unknown, ...args: unknown[]) {
    queries.push(String(args[0]));
    return original.apply(this, args);
  };
  try {
    return { result: await run(), queries };
  } finally {
    client.query = original;
  }
}

test('a page of 20 productions is one query, and each item equals its GET', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 25; i++) ids.push((await svc.productions.create('default', brief(i))).id);
  // Stage runs and outputs on some of them, as a worker would leave them.
  for (const id of ids.slice(-6)) {
    await repo.startStageRun(svc.database.db, id, 'plan', 1);
    await repo.finishStageRun(svc.database.db, { productionId: id, stage: 'plan', attempt: 1 }, { status: 'succeeded', wallSec: 0.25, cachedUnits: 0, totalUnits: 1 });
    await repo.startStageRun(svc.database.db, id, 'narrate', 1);
    await repo.replaceOutputs(svc.database.db, id, [
      { productionId: id, name: 'video.mp4', kind: 'video', mime: 'video/mp4', bytes: 12345, durationSec: 2, storageKey: `productions/${id}/video.mp4` },
      { productionId: id, name: 'captions.vtt', kind: 'captions', mime: 'text/vtt', bytes: 99, durationSec: null, storageKey: `productions/${id}/captions.vtt` },
    ]);
  }
  // Authentication is cached after the first request: count from the second on.
  assert.equal((await svc.app!.inject({ url: '/v1/productions?limit=1', headers: svc.auth })).statusCode, 200);
  const { result: res, queries } = await countQueries(() => svc.app!.inject({ url: '/v1/productions?limit=20', headers: svc.auth }));
  assert.equal(res.statusCode, 200, res.body);
  const page = res.json<{ data: { id: string }[]; nextCursor: string | null }>();
  assert.equal(page.data.length, 20);
  assert.ok(page.nextCursor);
  assert.ok(queries.length <= 2, `${queries.length} queries for one page:\n${queries.join('\n')}`);

  for (const item of page.data) {
    const one = await svc.app!.inject({ url: `/v1/productions/${item.id}`, headers: svc.auth });
    assert.deepEqual(item, one.json(), `list item ${item.id} equals its GET`);
  }
  const withDetails = page.data.filter((p) => (p as unknown as { outputs: unknown[] }).outputs.length > 0);
  assert.equal(withDetails.length, 6, 'the outputs came through the aggregation');

  const next = await svc.app!.inject({ url: `/v1/productions?limit=20&cursor=${page.nextCursor}`, headers: svc.auth });
  assert.equal(next.json<{ data: unknown[] }>().data.length, 5);
});
