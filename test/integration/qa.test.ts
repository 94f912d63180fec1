/**
 * The qa stage decodes the whole delivered file: a real render's MP4 cut to 40 % of its bytes
 * (a damaged cache unit or output) fails QA, and so does one whose video stream alone is cut short
 * beside intact audio, which passed every other check.
 */
import assert from 'node:assert/strict';
import { copyFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { StageContext } from '../../src/pipeline/context.js';
import { qaStage } from '../../src/pipeline/stages/qa.stage.js';
import { file, render, tempDir } from './harness.js';

test('an MP4 truncated to 40 % of its bytes fails QA on the decode check; the intact one passes it', async () => {
  const { result, delivered, deps } = await render({
    scenes: [
      { narration: 'A whole file decodes to the last frame.', durationSec: 2.5, visual: { type: 'gradient', colors: ['#1d4ed8', '#9333ea'] } },
      { narration: 'A cut one does not.', durationSec: 2.5, visual: { type: 'color', color: '#7c2d12' } },
    ],
    resolution: '480p',
    fps: 25,
    seed: 6,
  });
  const intact = result.state.qa;
  assert.equal(intact?.passed, true, JSON.stringify(intact?.checks.filter((c) => !c.passed)));
  const frames = Math.round((result.state.timeline?.totalSec ?? 0) * 25);
  assert.equal(intact?.measurements.decodedFrames, frames);
  assert.equal(intact?.measurements.decodeErrors, 0);

  const cut = join(tempDir('qa'), 'video.mp4');
  copyFileSync(file(delivered, 'video.mp4'), cut);
  truncateSync(cut, Math.floor(statSync(cut).size * 0.4));
  const ctx: StageContext = { deps, providers: deps.providers.forRender(), progress: () => undefined, unit: () => undefined, note: () => undefined, record: () => undefined, fallback: () => undefined };
  const outputs = (result.state.outputs ?? []).map((o) => (o.kind === 'mp4' ? { ...o, path: cut } : o));
  const { qa } = await qaStage.run({ ...result.state, outputs }, ctx);
  assert.equal(qa?.passed, false);
  const decode = qa?.checks.find((c) => c.name === 'decode');
  assert.equal(decode?.passed, false, JSON.stringify(decode));
  assert.ok((qa?.measurements.decodedFrames ?? frames) < frames * 0.8, JSON.stringify(decode));
  assert.ok((qa?.measurements.decodeErrors ?? 0) > 0);
  assert.ok(!JSON.stringify(qa).includes(cut), 'the report names the file, not its path on the server');

  // With no stills cached for it, the damaged file still gets its report (the stills come from the same pass).
  const { outputsKey: _key, ...uncached } = result.state;
  const fresh = await qaStage.run({ ...uncached, outputs }, ctx);
  assert.equal(fresh.qa?.passed, false);
  assert.equal(fresh.qa?.checks.find((c) => c.name === 'decode')?.passed, false);

  // The case seen in the field: a truncated segment stream-copied into the MP4 beside intact audio.
  // Container duration (from the audio), loudness and the rest all pass; only the frame count tells.
  const remuxed = join(tempDir('qa'), 'video.mp4');
  await deps.media.ffmpeg(['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', cut, '-i', file(delivered, 'video.mp4'), '-map', '0:v:0', '-map', '1:a:0', '-c', 'copy', '-movflags', '+faststart', remuxed]);
  const again = await qaStage.run({ ...result.state, outputs: outputs.map((o) => (o.kind === 'mp4' ? { ...o, path: remuxed } : o)) }, ctx);
  assert.deepEqual(again.qa?.checks.filter((c) => !c.passed).map((c) => c.name), ['decode']);
  assert.equal(again.qa?.passed, false);
});
