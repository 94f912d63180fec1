/**
 * A worker killed with SIGKILL half-way through a render, on the real PostgreSQL: the production
 * stays unfinished, a second worker process (sharing the database, storage and cache) takes it over
 * once the first one's heartbeat is stale, and finishes it by resuming — the stages and video
 * segments the first attempt finished come from the cache. Skipped, with the reason, when
 * TEST_DATABASE_URL is unset.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isFinal, RUNNING_STATUSES, type Production } from '../../src/contract/production.js';
import { childWorkerEnv, freshPostgres, startTestService, type TestService } from './harness.js';
import { killAll, pollUntil, probeMedia, startWorkerProcess, tempDir, type CliProcess } from './processes.js';
import { postgresOrSkip } from '../support/services.js';

const { base, skip } = postgresOrSkip();

// 8 scenes × 3 s at 720p24: eight video segments of about half a second of encoding each.
const COLORS = ['#1e3a8a', '#7c2d12', '#14532d', '#581c87', '#0f766e', '#9a3412', '#1e40af', '#166534'];
const brief = {
  scenes: COLORS.map((color, i) => ({
    narration: `Scene ${i + 1} of eight.`,
    title: `Part ${i + 1}`,
    durationSec: 3,
    visual: i % 2 ? { type: 'gradient', colors: [color, '#111827'] } : { type: 'color', color },
  })),
  resolution: '720p',
  fps: 24,
};
const PLANNED_SEC = 24;

let dataDir: string;
let cacheDir: string;
let api: TestService | undefined;
let drop: (() => Promise<void>) | undefined;
let workerEnv: Record<string, string>;

before(async () => {
  if (!base) return;
  const db = await freshPostgres(base);
  drop = db.drop;
  dataDir = tempDir('kill-resume');
  cacheDir = join(dataDir, 'cache');
  // The API in this process; the workers are child processes on the same database, storage and cache.
  api = await startTestService({ databaseUrl: db.url, role: 'api', env: { AIPROD_DATA_DIR: dataDir, AIPROD_CACHE_DIR: cacheDir } });
  workerEnv = childWorkerEnv(db.url, dataDir, { STALL_TIMEOUT_SEC: '5', HEARTBEAT_SEC: '1' });
});
after(async () => {
  await killAll();
  await api?.stop();
  await drop?.();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const startWorker = (): Promise<CliProcess> => startWorkerProcess(workerEnv);

/** Cache units of `unit` ('look': a scene's prepared background, 'segment': an encoded video segment) that are complete (manifest written). */
function finished(unit: 'look' | 'segment'): number {
  const dir = join(cacheDir, unit);
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).filter((key) => existsSync(join(dir, key, 'manifest.json'))).length;
}

test('a worker killed with SIGKILL mid-render: a second worker takes over and resumes from the cache', { skip }, async () => {
  const svc = api as TestService;
  const first = await startWorker();

  const created = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: brief });
  assert.equal(created.statusCode, 202, created.body);
  const id = created.json().id as string;

  // Clearly mid-way: planning and narration done, and some (not all) video segments encoded.
  const midway = await svc.waitFor(id, (p) => isFinal(p.status) || (p.status !== 'planning' && p.stages.some((s) => s.stage === 'narrate' && s.status === 'succeeded')), 60_000);
  assert.ok((RUNNING_STATUSES as readonly string[]).includes(midway.status), `still running: ${midway.status}`);
  await pollUntil('two finished video segments', () => finished('segment') >= 2, 30_000, 10);

  first.killGroup('SIGKILL'); // the worker and its FFmpeg: as if the machine died
  const killedAt = performance.now();
  assert.equal((await first.exited).signal, 'SIGKILL');
  const segmentsBefore = finished('segment');
  const looksBefore = finished('look');
  const orphaned = await svc.productions.get('default', id);
  assert.ok((RUNNING_STATUSES as readonly string[]).includes(orphaned.status), `after the kill it is still ${orphaned.status}, not final`);
  assert.equal(orphaned.attempts, 1);
  assert.equal(orphaned.outputs.length, 0);
  const segmentRun = orphaned.stages.find((s) => s.stage === 'visualize');
  assert.equal(segmentRun?.status, 'running', 'the kill hit the visualize stage');

  const second = await startWorker();
  const done = await svc.waitFor(id, (p) => isFinal(p.status), 120_000);
  const takeoverSec = (performance.now() - killedAt) / 1000;
  assert.equal(done.status, 'succeeded', `${JSON.stringify(done.error)}\n${second.output()}`);
  assert.equal(done.attempts, 2);

  const runs = (attempt: number): Production['stages'] => done.stages.filter((s) => s.attempt === attempt);
  const finishedFirst = runs(1).filter((s) => s.status === 'succeeded').map((s) => s.stage);
  assert.ok(finishedFirst.includes('plan') && finishedFirst.includes('narrate'), JSON.stringify(runs(1)));
  assert.ok(!finishedFirst.includes('visualize') && !finishedFirst.includes('compose'), JSON.stringify(runs(1)));
  const secondRuns = new Map(runs(2).map((s) => [s.stage, s]));
  assert.deepEqual([...secondRuns.keys()].sort(), ['compose', 'foley', 'mix', 'narrate', 'plan', 'qa', 'score', 'visualize']);
  assert.ok(runs(2).every((s) => s.status === 'succeeded'), JSON.stringify(runs(2)));
  for (const stage of finishedFirst) {
    const run = secondRuns.get(stage);
    assert.ok(run && run.totalUnits && run.totalUnits > 0 && run.cachedUnits === run.totalUnits, `${stage} finished in attempt 1, so attempt 2 takes all of it from the cache: ${JSON.stringify(run)}`);
  }
  // visualize resumed, not restarted: its units (a background, an icon — "Part" draws the assembly
  // icon — and a segment per scene) finished before the kill were re-used, the rest encoded.
  const visualize = secondRuns.get('visualize');
  const units = 3 * COLORS.length;
  assert.equal(visualize?.totalUnits, units);
  assert.ok(visualize.cachedUnits !== null && visualize.cachedUnits >= looksBefore + segmentsBefore && visualize.cachedUnits < units,
    `visualize attempt 2 re-used ${visualize.cachedUnits} of ${units} units; ${looksBefore} backgrounds and ${segmentsBefore} segments were finished at the kill`);
  // Nothing of the dead attempt is left looking alive.
  assert.deepEqual(done.stages.filter((s) => s.status === 'running'), [], 'no stage run is still "running" after the production succeeded');
  // pg-boss completes the new job just after the handler returns.
  const jobStates = async (): Promise<string[]> =>
    ((await svc.database.executeSql(`select state from pgboss.job where data->>'productionId' = $1 order by created_on`, [id])).rows as { state: string }[]).map((r) => r.state);
  await pollUntil('the new job to complete', async () => (await jobStates()).at(-1) === 'completed', 10_000);
  assert.deepEqual(await jobStates(), ['failed', 'completed'], 'the dead worker\'s job was retired, the new one completed');
  assert.equal((await svc.queue.pendingProductionIds([id])).has(id), false);

  const mp4 = done.outputs.find((o) => o.name === 'video.mp4');
  assert.ok(mp4, JSON.stringify(done.outputs));
  const download = await svc.app!.inject({ url: mp4.url, headers: svc.auth });
  assert.equal(download.statusCode, 200);
  assert.equal(download.rawPayload.length, mp4.bytes);
  const file = join(dataDir, 'downloaded.mp4');
  writeFileSync(file, download.rawPayload);
  const facts = await probeMedia(file);
  assert.deepEqual([facts.video?.codec, facts.video?.width, facts.video?.height], ['h264', 1280, 720]);
  assert.equal(facts.audio?.codec, 'aac');
  assert.ok(Math.abs(facts.durationSec - PLANNED_SEC) < 0.25, `duration ${facts.durationSec} s, planned ${PLANNED_SEC} s`);
  assert.equal(done.qa?.passed, true, JSON.stringify(done.qa));

  second.child.kill('SIGTERM');
  assert.deepEqual(await second.exitWithin(10_000), { code: 0, signal: null }, second.output());
  process.stdout.write(`# ${segmentsBefore} of ${COLORS.length} segments done at the kill; taken over and finished ${takeoverSec.toFixed(1)} s after it\n`);
});
