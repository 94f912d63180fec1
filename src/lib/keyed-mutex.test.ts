import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedMutex } from './keyed-mutex.js';

test('work on one key runs one at a time in order; other keys run alongside; a failure frees the key', async () => {
  const locks = new KeyedMutex();
  const log: string[] = [];
  const step = (name: string, ms: number) => async () => {
    log.push(`${name}+`);
    await new Promise((r) => setTimeout(r, ms));
    log.push(`${name}-`);
    return name;
  };
  const results = await Promise.allSettled([
    locks.run('a', step('a1', 20)),
    locks.run('a', async () => {
      throw new Error('boom');
    }),
    locks.run('a', step('a3', 1)),
    locks.run('b', step('b1', 5)),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  assert.ok(log.indexOf('a1-') < log.indexOf('a3+'), log.join(' '));
  assert.ok(log.indexOf('b1+') < log.indexOf('a1-'), 'b does not wait for a');
  assert.equal((locks as unknown as { tails: Map<string, unknown> }).tails.size, 0);
});
