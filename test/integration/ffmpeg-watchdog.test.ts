/**
 * The runner's progress watchdog on real processes: a child that stops making progress is killed
 * with `ffmpeg_stalled` (a wedged FFmpeg that keeps printing the same progress block, an FFmpeg
 * asleep on a fifo that never delivers), and one that is slow but progressing, or silent but busy,
 * is left to finish.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import { AppError } from '../../src/contract/errors.js';
import { resolveBinaries } from '../../src/media/binaries.js';
import { childEnv, childGuard, liveChildCount, procReader, runProcess } from '../../src/media/ffmpeg.js';
import { processes } from '../service/processes.js';
import { tempDir } from './harness.js';

const { ffmpeg } = resolveBinaries(loadEnv(), process.env.PATH);
const node = (code: string): [string, string[]] => [process.execPath, ['-e', code]];

/** A progress block as FFmpeg's `-progress pipe:1` prints it. */
const BLOCK = "`frame=${f}\\nout_time_us=${f * 33333}\\nout_time_ms=${f * 33333}\\ntotal_size=${f * 100}\\nprogress=continue\\n`";

async function stalled(run: Promise<unknown>): Promise<AppError> {
  const error = await run.then(
    () => assert.fail('the run should have been stopped'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError, String(error));
  assert.equal(error.code, 'ffmpeg_stalled', error.message);
  assert.equal(error.retryable, true);
  return error;
}

test('a child that repeats the same progress block is killed as stalled', async () => {
  // What a deadlocked filter graph looks like from outside: a block every 100 ms, frame frozen at 14.
  const [bin, args] = node(`const f = 14; setInterval(() => process.stdout.write(${BLOCK}), 100);`);
  const error = await stalled(runProcess(bin, args, { stallSec: 1, timeoutSec: 120 }));
  assert.match(error.message, /no progress for 1 s/);
  assert.equal(liveChildCount(), 0);
});

test('a real FFmpeg asleep on a fifo that never delivers is killed as stalled, and is gone', async () => {
  const fifo = join(tempDir('stall'), 'never.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  await stalled(runProcess(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', fifo, '-f', 'null', '-'], { stallSec: 1, timeoutSec: 120 }));
  assert.equal(liveChildCount(), 0);
  assert.deepEqual(processes().filter((p) => p.cmdline.includes(fifo)), []);
});

test('a slow child whose position keeps advancing is not killed', async () => {
  // Each block comes after 300 ms and moves on by one frame: slow, never stalled for two seconds.
  const [bin, args] = node(`let f = 0; const t = setInterval(() => { f++; process.stdout.write(${BLOCK}); if (f === 8) clearInterval(t); }, 300);`);
  const seconds: number[] = [];
  await runProcess(bin, args, { stallSec: 2, timeoutSec: 120, onProgress: (s) => seconds.push(s) });
  assert.ok(seconds.length >= 8);
});

test('a real FFmpeg reading in real time, with progress, is not killed', async () => {
  const { stdout } = await runProcess(
    ffmpeg,
    ['-hide_banner', '-nostdin', '-loglevel', 'error', '-progress', 'pipe:1', '-nostats', '-re', '-f', 'lavfi', '-i', 'testsrc=s=64x48:r=10', '-t', '3', '-f', 'null', '-'],
    { stallSec: 2, timeoutSec: 120, captureStdout: true },
  );
  assert.match(stdout, /frame=30\n/);
});

test('a silent child that keeps a core busy is not killed', async () => {
  const [bin, args] = node('const end = Date.now() + 4000; while (Date.now() < end) {}');
  await runProcess(bin, args, { stallSec: 2, timeoutSec: 120 });
});

test('stallSec 0 turns the watchdog off', async () => {
  const [bin, args] = node('setTimeout(() => {}, 1500);');
  await runProcess(bin, args, { stallSec: 0, timeoutSec: 120 });
});

test('a binary that cannot be started is ffmpeg_missing, through the parent-death wrapper too', async () => {
  for (const binary of ['/nonexistent/ffmpeg', '/etc/passwd']) {
    const error = await runProcess(binary, ['-version']).then(
      () => assert.fail(`${binary} should not start`),
      (e: unknown) => e,
    );
    assert.ok(error instanceof AppError && error.code === 'ffmpeg_missing', String(error));
  }
});

test('a run that printed progress and then works silently (a +faststart rewrite) is not killed while it uses CPU', async () => {
  // Three advancing blocks, then four seconds of silent work: the moov rewrite after the last frame.
  const [bin, args] = node(`for (let f = 1; f <= 3; f++) process.stdout.write(${BLOCK}); const end = Date.now() + 4000; while (Date.now() < end) {}`);
  await runProcess(bin, args, { stallSec: 2, timeoutSec: 120 });
  assert.equal(liveChildCount(), 0);
});

test('childGuard says whether children die with this process (setpriv) or only on a clean exit', () => {
  const guard = childGuard();
  assert.equal(typeof guard.deathSignal, 'boolean');
  if (!guard.deathSignal) assert.match(guard.warning ?? '', /setpriv/);
  else assert.equal(guard.warning, undefined);
});

test('where /proc cannot be read, a silent run is not judged stalled, but one repeating the same progress block is', async (t) => {
  const real = procReader.childCpuTicks;
  procReader.childCpuTicks = () => undefined;
  t.after(() => (procReader.childCpuTicks = real));
  const [busy, busyArgs] = node('const end = Date.now() + 4000; while (Date.now() < end) {}');
  await runProcess(busy, busyArgs, { stallSec: 2, timeoutSec: 120 });
  const [wedged, wedgedArgs] = node(`const f = 14; setInterval(() => process.stdout.write(${BLOCK}), 100);`);
  await stalled(runProcess(wedged, wedgedArgs, { stallSec: 1, timeoutSec: 120 }));
  assert.equal(liveChildCount(), 0);
});

test("children start with glibc's allocator tuned for frame-sized buffers, and the operator's own tunables win", async () => {
  const [bin, args] = node('process.stdout.write(process.env.GLIBC_TUNABLES ?? "")');
  const seen = (await runProcess(bin, args, { captureStdout: true })).stdout.split(':');
  assert.ok(seen.includes(`glibc.malloc.mmap_threshold=${64 * 1024 * 1024}`), seen.join(':'));
  assert.ok(seen.includes(`glibc.malloc.top_pad=${64 * 1024 * 1024}`), seen.join(':'));
  const env = childEnv({ PATH: '/bin', GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072:glibc.cpu.hwcaps=-AVX2' });
  assert.equal(env.PATH, '/bin');
  const tunables = env.GLIBC_TUNABLES?.split(':') ?? [];
  assert.deepEqual(tunables.filter((t) => t.startsWith('glibc.malloc.mmap_threshold=')), ['glibc.malloc.mmap_threshold=131072']);
  assert.ok(tunables.includes('glibc.cpu.hwcaps=-AVX2'));
  assert.ok(tunables.includes(`glibc.malloc.trim_threshold=${256 * 1024 * 1024}`));
});
