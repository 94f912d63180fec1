/**
 * One render, one lifetime: the first lane to fail aborts its siblings, renderBrief rethrows only
 * once every lane has settled, and no FFmpeg it started is left running afterwards.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import { AppError } from '../../src/contract/errors.js';
import { parseBrief, resolveBrief } from '../../src/contract/resolve.js';
import { createPipelineDeps } from '../../src/main/container.js';
import { killAllChildren, liveChildCount, runProcess, type RunOptions } from '../../src/media/ffmpeg.js';
import type { PipelineDeps } from '../../src/pipeline/context.js';
import { renderBrief } from '../../src/pipeline/run.js';
import { ffmpegChildren } from '../service/processes.js';
import { tempDir } from './harness.js';

const brief = resolveBrief(
  parseBrief({
    scenes: [
      { narration: 'One lane fails.', durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } },
      { narration: 'The other must stop.', durationSec: 2, visual: { type: 'gradient', colors: ['#7c2d12', '#f59e0b'] } },
    ],
    resolution: '480p',
    fps: 24,
    seed: 8,
  }),
);

/** An FFmpeg that would run for ten minutes: the audio lane's stand-in. */
const SLOW = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-progress', 'pipe:1', '-nostats', '-re', '-f', 'lavfi', '-i', 'anullsrc=r=8000', '-t', '600', '-f', 'null', '-'];

interface Rigged {
  deps: PipelineDeps;
  /** Resolves once the audio lane's slow FFmpeg is running. */
  audioRunning: Promise<void>;
  audioSettled: () => boolean;
}

/**
 * Real deps whose visualize fails (its first segment encode, once the audio lane's FFmpeg runs)
 * and whose audio lane runs a ten-minute FFmpeg with the signal the stage passes.
 */
async function rigged(failVisualize: boolean): Promise<Rigged> {
  const env = loadEnv();
  const deps = await createPipelineDeps(env, { cacheDir: tempDir('cache') });
  const real = deps.media;
  let markRunning!: () => void;
  const audioRunning = new Promise<void>((resolve) => (markRunning = resolve));
  let settled = false;
  const ffmpeg = async (args: readonly string[], options: RunOptions = {}) => {
    if (args.includes('libx264')) {
      await audioRunning;
      if (failVisualize) throw new AppError('ffmpeg_failed', 'visualize failed (injected)');
      return real.ffmpeg(args, options);
    }
    if (args.some((a) => a.includes('sidechaincompress') || a.includes('amix')) || args.includes('pcm_s16le')) {
      const run = runProcess(real.bins.ffmpeg, SLOW, { ...options, timeoutSec: 900 });
      // The watchdog runs inside runProcess; the child exists once it reports, so give /proc a moment.
      setTimeout(markRunning, 300);
      try {
        return await run;
      } finally {
        settled = true;
      }
    }
    return real.ffmpeg(args, options);
  };
  return { deps: { ...deps, media: { ...real, ffmpeg } }, audioRunning, audioSettled: () => settled };
}

test('a failing visualize aborts the audio lane: the first error is thrown, after every lane settled, and no FFmpeg is left', async (t) => {
  t.after(killAllChildren);
  const { deps, audioRunning, audioSettled } = await rigged(true);
  let sawAudio = false;
  void audioRunning.then(() => (sawAudio = ffmpegChildren(process.pid).length > 0));
  const error = await renderBrief(brief, deps, { baseDir: process.cwd() }).then(
    () => assert.fail('the render should fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError, String(error));
  assert.equal(error.message, 'visualize failed (injected)');
  assert.ok(sawAudio, 'the audio lane never started its FFmpeg');
  assert.equal(audioSettled(), true, 'renderBrief threw while the audio lane was still running');
  assert.equal(liveChildCount(), 0);
  assert.deepEqual(ffmpegChildren(process.pid), []);
});

test("the caller's abort stops both lanes, and no FFmpeg is left", async (t) => {
  t.after(killAllChildren);
  const { deps, audioRunning, audioSettled } = await rigged(false);
  const controller = new AbortController();
  void audioRunning.then(() => controller.abort());
  const error = await renderBrief(brief, deps, { baseDir: process.cwd(), signal: controller.signal }).then(
    () => assert.fail('the render should be aborted'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError && error.code === 'aborted', String(error));
  assert.equal(audioSettled(), true);
  assert.equal(liveChildCount(), 0);
  assert.deepEqual(ffmpegChildren(process.pid), []);
});

test('a segment failing early while the others are slow: visualize settles only after its own FFmpegs, and none is left', async (t) => {
  t.after(killAllChildren);
  const env = loadEnv();
  const deps = await createPipelineDeps(env, { cacheDir: tempDir('cache') });
  const real = deps.media;
  let slowStarted = 0;
  let slowSettled = 0;
  let bothRunning!: () => void;
  const running = new Promise<void>((resolve) => (bothRunning = resolve));
  let segmentCalls = 0;
  const ffmpeg = async (args: readonly string[], options: RunOptions = {}) => {
    if (!args.includes('libx264') || args.includes('-c:a')) return real.ffmpeg(args, options);
    if (segmentCalls++ === 0) {
      await running;
      throw new AppError('ffmpeg_failed', 'a segment failed (injected)');
    }
    // The other segments: ten-minute FFmpegs that stop only when the render's signal kills them,
    // and take a few seconds to do so (an encoder finishing its write).
    slowStarted++;
    if (slowStarted === 2) setTimeout(bothRunning, 300);
    const slowToStop = new AbortController();
    options.signal?.addEventListener('abort', () => setTimeout(() => slowToStop.abort(options.signal?.reason), 3000), { once: true });
    try {
      return await runProcess(real.bins.ffmpeg, SLOW, { ...options, signal: slowToStop.signal, timeoutSec: 900 });
    } finally {
      slowSettled++;
    }
  };
  const fourScenes = resolveBrief(
    parseBrief({
      scenes: ['#1e3a8a', '#7c2d12', '#064e3b', '#581c87'].map((color, i) => ({ narration: `Scene ${i + 1}.`, durationSec: 2, visual: { type: 'color', color } })),
      resolution: '480p',
      fps: 24,
      seed: 9,
    }),
  );
  const error = await renderBrief(fourScenes, { ...deps, media: { ...real, parallelism: 3, ffmpeg } }, { baseDir: process.cwd() }).then(
    () => assert.fail('the render should fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError && error.message === 'a segment failed (injected)', String(error));
  assert.equal(slowStarted, 2, 'no segment is started after the first failure');
  assert.equal(slowSettled, slowStarted, 'renderBrief threw while segment FFmpegs of its own lane still ran');
  assert.equal(liveChildCount(), 0);
  assert.deepEqual(ffmpegChildren(process.pid), []);
});
