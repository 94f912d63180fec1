/**
 * Canceling a production while FFmpeg is encoding it (service in-process on PGlite): the render
 * stops at once — its FFmpeg processes are gone, its working directory removed, no half-written
 * cache unit and no output left — and it stays canceled after the worker has let go of its job.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isFinal } from '../../src/contract/production.js';
import { startTestService, type TestService } from './harness.js';
import { ffmpegChildren, pollUntil, tempDir } from './processes.js';

// 4 scenes × 5 s at 720p24: segment encodes of most of a second each, one to cancel in the middle of.
const COLORS = ['#1e3a8a', '#7c2d12', '#14532d', '#581c87'];
const brief = {
  scenes: COLORS.map((color, i) => ({
    narration: `Scene ${i + 1}, soon canceled.`,
    title: `Part ${i + 1}`,
    durationSec: 5,
    visual: i % 2 ? { type: 'gradient', colors: [color, '#111827'] } : { type: 'color', color },
  })),
  resolution: '720p',
  fps: 24,
};

let dataDir: string;
let svc: TestService | undefined;

before(async () => {
  dataDir = tempDir('cancel');
  svc = await startTestService({ env: { AIPROD_DATA_DIR: dataDir, AIPROD_CACHE_DIR: join(dataDir, 'cache') } });
});
after(async () => {
  await svc?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The render's working directories under <AIPROD_DATA_DIR>/tmp. */
const workDirs = (id: string): string[] => readdirSync(join(dataDir, 'tmp')).filter((name) => name.startsWith(`render-${id}-`));

/** Half-written work: cache unit directories without a manifest, temp directories and locks of producers. */
function partialUnits(): string[] {
  const root = join(dataDir, 'cache');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((stage) =>
    readdirSync(join(root, stage))
      .filter((key) => stage.startsWith('.') || !existsSync(join(root, stage, key, 'manifest.json')))
      .map((key) => `${stage}/${key}`),
  );
}

test('cancel during the encode kills FFmpeg, removes the work directory and partial units, and stays canceled', async () => {
  const s = svc as TestService;
  const created = await s.app!.inject({ method: 'POST', url: '/v1/productions', headers: s.auth, payload: brief });
  assert.equal(created.statusCode, 202, created.body);
  const id = created.json().id as string;

  const rendering = await s.waitFor(id, (p) => p.status === 'rendering' || p.status === 'mixing' || isFinal(p.status), 60_000);
  assert.ok(!isFinal(rendering.status), `${rendering.status}: ${JSON.stringify(rendering.error)}`);
  // FFmpeg is encoding a video segment (a cache unit, produced under cache/.tmp/) for this worker.
  const encoding = await pollUntil('an FFmpeg segment encode', () => ffmpegChildren(process.pid).find((p) => /\/\.tmp\/segment-/.test(p.cmdline)), 30_000, 10);
  const unitDir = /(\/\S+\/\.tmp\/segment-[0-9a-f]+-[^/\s]+)\/segment\.mp4$/.exec(encoding.cmdline)?.[1];
  assert.ok(unitDir && existsSync(unitDir), `the encode writes into the unit's temp directory: ${encoding.cmdline}`);
  assert.equal(workDirs(id).length, 1, 'the render has its working directory');

  const canceledAt = performance.now();
  const res = await s.app!.inject({ method: 'POST', url: `/v1/productions/${id}/cancel`, headers: s.auth });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().status, 'canceled');

  await pollUntil('no FFmpeg child left', () => ffmpegChildren(process.pid).length === 0, 10_000, 10);
  const ffmpegGoneSec = (performance.now() - canceledAt) / 1000;
  assert.ok(!existsSync(`/proc/${encoding.pid}`), `FFmpeg ${encoding.pid} is gone (reaped)`);
  await pollUntil('the working directory removed', () => workDirs(id).length === 0, 10_000, 10);
  const cleanSec = (performance.now() - canceledAt) / 1000;

  // The worker has let go of its job (completed, not retried): nothing can render it again.
  await pollUntil('the render job finished', async () => !(await s.queue.pendingProductionIds([id])).has(id), 10_000, 100);
  const settled = await s.productions.get('default', id);
  assert.equal(settled.status, 'canceled');
  assert.equal(settled.attempts, 1);
  assert.deepEqual(settled.outputs, []);
  assert.equal(existsSync(join(dataDir, 'artifacts', 'productions', id)), false, 'nothing stored for it');
  assert.deepEqual(settled.stages.filter((st) => st.status === 'running'), [], 'no stage run is left running');
  assert.equal(settled.stages.find((st) => st.stage === 'visualize')?.status, 'failed');
  assert.equal(existsSync(unitDir), false, 'the interrupted segment unit was removed');
  assert.deepEqual(partialUnits().filter((u) => !u.startsWith('.')), [], 'no half-written cache unit');
  // The unit producers of the render's other lane end too, each removing its own temp directory and lock.
  await pollUntil('no cache producer left', () => partialUnits().length === 0, 30_000, 50);
  const retry = await s.app!.inject({ method: 'POST', url: `/v1/productions/${id}/retry`, headers: s.auth });
  assert.equal(retry.statusCode, 409, 'a canceled production is not retried');
  process.stdout.write(`# FFmpeg gone ${ffmpegGoneSec.toFixed(2)} s and work directory removed ${cleanSec.toFixed(2)} s after the cancel\n`);
});
