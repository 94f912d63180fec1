/**
 * A failed quality check does not leave the units it implicates in the cache: a bad unit (here, a
 * final MP4 replaced by a damaged one with a matching manifest, as a race could have left it) fails
 * QA once, and the next render of the same brief makes those units again and passes.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import { hashFile } from '../../src/lib/file-hash.js';
import { resolveBinaries } from '../../src/media/binaries.js';
import { runProcess } from '../../src/media/ffmpeg.js';
import { render, tempDir } from './harness.js';

const brief = {
  scenes: [
    { narration: 'One. A first scene.', durationSec: 2, visual: { type: 'color', color: '#1d4ed8' } },
    { narration: 'Two. A second scene.', durationSec: 2, visual: { type: 'gradient', colors: ['#0f766e', '#9333ea'] } },
  ],
  resolution: '480p',
  fps: 24,
  seed: 5,
};

const env = loadEnv(process.env);
const ffmpeg = resolveBinaries(env, env.PATH).ffmpeg;

/** Replaces the compose unit's MP4 by `args` applied to it, and re-seals the manifest: a bad unit that looks whole. */
async function damageFinalMp4(mp4: string, args: string[]): Promise<void> {
  const out = `${mp4}.bad.mp4`;
  await runProcess(ffmpeg, ['-hide_banner', '-y', '-i', mp4, ...args, out]);
  renameSync(out, mp4);
  const manifestPath = join(dirname(mp4), 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: { path: string; size: number; sha256: string }[] };
  for (const file of manifest.files) if (file.path === 'video.mp4') Object.assign(file, await hashFile(mp4));
  writeFileSync(manifestPath, JSON.stringify(manifest));
}

async function renderFailingQa(cacheDir: string): Promise<void> {
  await assert.rejects(render(brief, { cacheDir }), (e: Error & { code?: string }) => e.code === 'qa_failed');
}

test('an audio check that fails removes the final video and the mix from the cache; the next render makes them again', async () => {
  const cacheDir = tempDir('cache');
  const first = await render(brief, { cacheDir });
  const state = first.result.state;
  const mp4 = state.outputs?.find((o) => o.kind === 'mp4')?.path ?? '';
  const mixDir = dirname(state.mix?.path ?? '');
  const segmentDirs = (state.video?.segments ?? []).map((s) => dirname(s));
  assert.ok(mp4.startsWith(cacheDir) && existsSync(mixDir) && segmentDirs.length === 2);

  await damageFinalMp4(mp4, ['-c:v', 'copy', '-af', 'volume=-20dB', '-c:a', 'aac']);
  await renderFailingQa(cacheDir);
  assert.equal(existsSync(join(dirname(mp4), 'manifest.json')), false, 'the compose unit is invalid');
  assert.equal(existsSync(join(mixDir, 'manifest.json')), false, 'the mix unit is invalid');
  for (const dir of segmentDirs) assert.ok(statSync(dir).isDirectory(), 'an audio failure keeps the segments');

  const again = await render(brief, { cacheDir });
  assert.deepEqual(again.cached.compose, { cached: 0, total: 1 });
  assert.deepEqual(again.cached.mix, { cached: 0, total: 1 });
  // 2 looks, the icons drawn from the scenes' words, 2 segments: all re-used.
  const icons = again.result.state.design?.elements.filter((e) => e.kind === 'icon').length ?? 0;
  assert.deepEqual(again.cached.visualize, { cached: 4 + icons, total: 4 + icons });
  assert.equal(again.result.state.qa?.passed, true);
});

test('a video check that fails removes the segments as well', async () => {
  const cacheDir = tempDir('cache');
  const first = await render(brief, { cacheDir });
  const mp4 = first.result.state.outputs?.find((o) => o.kind === 'mp4')?.path ?? '';
  await damageFinalMp4(mp4, ['-vf', 'scale=320:180', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'copy']);
  await renderFailingQa(cacheDir);
  for (const s of first.result.state.video?.segments ?? []) assert.equal(existsSync(join(dirname(s), 'manifest.json')), false, 'the segments are invalid');

  const again = await render(brief, { cacheDir });
  const icons = again.result.state.design?.elements.filter((e) => e.kind === 'icon').length ?? 0;
  assert.deepEqual(again.cached.visualize, { cached: 2 + icons, total: 4 + icons }, 'the scene looks and icons stay; the segments are made again');
  assert.deepEqual(again.cached.compose, { cached: 0, total: 1 });
  assert.equal(again.result.state.qa?.passed, true);
});
