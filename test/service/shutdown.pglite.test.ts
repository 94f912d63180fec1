/**
 * A worker told to stop (SIGTERM → service.stop()) lets running renders finish within
 * SHUTDOWN_GRACE_SEC and hands back the rest: the production goes back to the queue and the next
 * worker resumes it from the cache. Both on one embedded database, opened by one service at a time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startTestService, type TestService } from './harness.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aiprod-shutdown-'));
  dirs.push(dir);
  return dir;
}

const brief = {
  scenes: ['#1e3a8a', '#7c2d12', '#14532d', '#581c87'].map((color, i) => ({ narration: `Scene ${i + 1} of a render that is stopped.`, durationSec: 3, visual: { type: 'color', color } })),
  resolution: '720p',
  fps: 24,
};

const start = (dir: string, grace: string, role: 'all' | 'api' = 'all'): Promise<TestService> =>
  startTestService({ role, env: { AIPROD_DATA_DIR: dir, AIPROD_CACHE_DIR: join(dir, 'cache'), SHUTDOWN_GRACE_SEC: grace } });

test('past the grace period a running render is handed back, and the next worker resumes it', async () => {
  const dir = dataDir();
  const first = await start(dir, '0');
  const { id } = await first.productions.create('default', brief);
  await first.waitFor(id, (p) => p.status === 'rendering' && p.stages.some((s) => s.stage === 'narrate' && s.status === 'succeeded'));
  await first.stop();

  const look = await start(dir, '0', 'api');
  const handedBack = await look.productions.get('default', id);
  await look.stop();
  assert.equal(handedBack.status, 'queued');
  assert.equal(handedBack.attempts, 1);
  assert.deepEqual(handedBack.stages.filter((s) => s.status === 'running'), []);

  const second = await start(dir, '0');
  try {
    const done = await second.waitFor(id, (p) => p.status === 'succeeded' || p.status === 'failed');
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.attempts, 2);
    const narrate = done.stages.find((s) => s.attempt === 2 && s.stage === 'narrate');
    assert.equal(narrate?.cachedUnits, narrate?.totalUnits, 'narration finished before the stop is re-used');
  } finally {
    await second.stop();
  }
});

test('within the grace period a running render finishes before the worker stops', async () => {
  const dir = dataDir();
  const svc = await start(dir, '60');
  const { id } = await svc.productions.create('default', brief);
  await svc.waitFor(id, (p) => p.status === 'rendering');
  await svc.stop();
  const look = await start(dir, '0', 'api');
  try {
    const done = await look.productions.get('default', id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.attempts, 1);
  } finally {
    await look.stop();
  }
});
