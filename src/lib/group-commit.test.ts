import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit } from './group-commit.js';

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('an idle writer writes at once; what arrives during a write goes in the next batch, in order', async () => {
  const writes: number[][] = [];
  const gc = new GroupCommit(async (items: number[]) => {
    writes.push(items);
    await tick();
    return items.map((i) => i * 10);
  });
  const first = gc.submit(1);
  const rest = [2, 3, 4].map((i) => gc.submit(i));
  assert.deepEqual(await Promise.all([first, ...rest]), [10, 20, 30, 40]);
  assert.deepEqual(writes, [[1], [2, 3, 4]]);
  assert.deepEqual(gc.batchSizes, [1, 3]);
});

test('batches are capped at maxBatch', async () => {
  const gc = new GroupCommit(async (items: number[]) => {
    await tick(1);
    return items;
  }, { maxBatch: 2 });
  await Promise.all([1, 2, 3, 4, 5, 6].map((i) => gc.submit(i)));
  assert.ok(gc.batchSizes.every((n) => n <= 2));
  assert.equal(gc.batchSizes.reduce((a, b) => a + b, 0), 6);
});

test('a failing batch is retried item by item: only the bad item fails', async () => {
  const gc = new GroupCommit(async (items: number[]) => {
    await tick(1);
    if (items.includes(3)) throw new Error(`bad ${items.join(',')}`);
    return items.map((i) => -i);
  });
  const results = await Promise.allSettled([1, 2, 3, 4].map((i) => gc.submit(i)));
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  assert.equal((results[2] as PromiseRejectedResult).reason.message, 'bad 3');
  assert.equal((results[3] as PromiseFulfilledResult<number>).value, -4);
});
