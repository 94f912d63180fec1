/**
 * The upkeep jobs fail loudly and partially, never silently or all at once: a stall sweep that
 * throws is logged; retention goes on past a storage deletion that throws, counts it, and retries it
 * on the next run; the sweep asks the queue only about its candidates.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import type { Database } from '../../src/db/database.js';
import { outputs } from '../../src/db/schema.js';
import { expireStored } from '../../src/jobs/retention.js';
import { sweepStallsLogged } from '../../src/jobs/sweeper.js';
import type { Storage } from '../../src/storage/storage.port.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;

before(async () => {
  svc = await startTestService({ role: 'api' });
});
after(async () => {
  await svc?.stop();
});

const brief = (n: number): Record<string, unknown> => ({ scenes: [{ narration: `Upkeep ${n}.`, durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } }], resolution: '480p' });

test('a stall sweep that throws is logged with its message, not swallowed', async () => {
  const broken = new Proxy({} as Database, {
    get: () => {
      throw new Error('Connection terminated unexpectedly');
    },
  });
  const logged: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const result = await sweepStallsLogged(broken, svc.queue, { stallTimeoutSec: 60, maxAttempts: 3 }, (level, message, fields) => logged.push({ level, message, fields }));
  assert.equal(result, undefined);
  assert.deepEqual(logged.map((l) => [l.level, l.message, l.fields?.message]), [['error', 'stall sweep failed', 'Connection terminated unexpectedly']]);
});

test('retention goes on past a deletion that throws, counts it, and deletes it on the next run', async () => {
  const { id } = await svc.productions.create('default', brief(1));
  const file = join(mkdtempSync(join(tmpdir(), 'aiprod-upkeep-')), 'x.bin');
  writeFileSync(file, Buffer.alloc(100, 1));
  const old = new Date(Date.now() - 40 * 86_400_000);
  const names = ['a.mp4', 'b.mp4', 'c.mp4'];
  for (const name of names) {
    const key = `productions/${id}/${name}`;
    await svc.storage.put(key, file, 'video/mp4');
    await svc.database.db.insert(outputs).values({ productionId: id, name, kind: 'video', mime: 'video/mp4', bytes: 100, storageKey: key, createdAt: old, durationSec: 1 });
  }
  // The store refuses the first object (a permission, an outage of one shard).
  const refusing: Storage = Object.assign(Object.create(svc.storage) as Storage, {
    delete: async (key: string) => {
      if (key.endsWith('/a.mp4')) throw new Error('AccessDenied');
      return svc.storage.delete(key);
    },
  });
  const first = await expireStored(svc.database, refusing, 30);
  assert.equal(first.outputs, 2, 'the others are deleted');
  assert.equal(first.failedDeletions, 1);
  assert.deepEqual(first.failures, [{ storageKey: `productions/${id}/a.mp4`, message: 'AccessDenied' }]);
  const left = await svc.database.db.select().from(outputs).where(eq(outputs.productionId, id));
  assert.deepEqual(left.map((o) => o.name), ['a.mp4'], 'its row stays, for the next run');

  const second = await expireStored(svc.database, svc.storage, 30);
  assert.equal(second.outputs, 1);
  assert.equal(second.failedDeletions, 0);
  assert.equal(await svc.storage.stat(`productions/${id}/a.mp4`), undefined);
});

test('the queue is asked only which of the given productions have a pending job', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await svc.productions.create('default', brief(10 + i))).id);
  await svc.queue.discardPending(ids[1] as string);
  const pending = await svc.queue.pendingProductionIds([ids[0] as string, ids[1] as string]);
  assert.deepEqual([...pending], [ids[0]], 'only the asked-for ids, and only those with a job');
  assert.equal((await svc.queue.pendingProductionIds([])).size, 0);
});
