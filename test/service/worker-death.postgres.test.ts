/**
 * A worker killed with SIGKILL mid-render — only the worker, not its process group, as when the
 * OOM killer or an operator's `kill -9 <pid>` takes it — leaves no FFmpeg running: its children
 * carry a parent-death signal (media/ffmpeg.ts). On the real PostgreSQL, as the worker is a process
 * of its own; skipped, with the reason, when TEST_DATABASE_URL is unset.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { childWorkerEnv, freshPostgres, startTestService, type TestService } from './harness.js';
import { ffmpegChildren, killAll, pollUntil, startWorkerProcess, tempDir } from './processes.js';

const base = process.env.TEST_DATABASE_URL;
const skip = base ? false : 'TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)';

// One long scene: its segment encode runs for tens of seconds, far longer than the test waits for
// it to die, so an FFmpeg that outlived the worker could not pass by finishing on its own.
const brief = {
  scenes: [{ narration: 'One long scene, with a worker about to die.', durationSec: 300, visual: { type: 'color', color: '#1e3a8a' } }],
  resolution: '1080p',
  fps: 24,
};

let dataDir: string;
let api: TestService | undefined;
let drop: (() => Promise<void>) | undefined;
let workerEnv: Record<string, string>;

before(async () => {
  if (!base) return;
  const db = await freshPostgres(base);
  drop = db.drop;
  dataDir = tempDir('worker-death');
  api = await startTestService({ databaseUrl: db.url, role: 'api', env: { AIPROD_DATA_DIR: dataDir, AIPROD_CACHE_DIR: join(dataDir, 'cache') } });
  workerEnv = childWorkerEnv(db.url, dataDir);
});
after(async () => {
  await killAll();
  await api?.stop();
  await drop?.();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Running, not a zombie waiting to be reaped by its new parent. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

test('a worker SIGKILLed mid-render (the worker alone, not its group) leaves no FFmpeg running', { skip }, async () => {
  const svc = api as TestService;
  const worker = await startWorkerProcess(workerEnv);
  const created = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: brief });
  assert.equal(created.statusCode, 202, created.body);

  const children = await pollUntil('the worker to encode the segment', () => {
    const found = ffmpegChildren(worker.pid).filter((p) => running(p.pid) && p.cmdline.includes('libx264'));
    return found.length > 0 ? found : undefined;
  }, 120_000, 10);
  process.kill(worker.pid, 'SIGKILL');
  assert.equal((await worker.exited).signal, 'SIGKILL');
  try {
    await pollUntil(`FFmpeg ${children.map((c) => c.pid).join(', ')} to die with the worker`, () => children.every((c) => !running(c.pid)), 5_000, 50);
  } finally {
    for (const c of children) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
  }
});
