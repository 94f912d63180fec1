/**
 * The static npm FFmpeg build (2018, no xfade, no gradients) renders a full brief too: transitions
 * fall back to a dip through black, and the delivered file passes the same quality checks.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { file, measureLoudness, render } from './harness.js';

const require = createRequire(import.meta.url);
const FFMPEG_PATH = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const FFPROBE_PATH = (require('@ffprobe-installer/ffprobe') as { path: string }).path;

test('a full render with FFMPEG_PATH and FFPROBE_PATH set to the npm binaries', async () => {
  const { deps, delivered, result } = await render(
    {
      scenes: [
        { narration: 'The npm build has no cross-fade.', title: 'Fallbacks', durationSec: 2.5, visual: { type: 'gradient', colors: ['#1e3a8a', '#9333ea'] } },
        { narration: 'So scenes dip through black instead.', durationSec: 2.5, visual: { type: 'color', color: '#064e3b' }, sfx: ['whoosh'] },
      ],
      resolution: '480p',
      fps: 24,
      outputs: ['mp4', 'gif'],
      seed: 8,
    },
    { env: { FFMPEG_PATH, FFPROBE_PATH } },
  );
  assert.equal(deps.media.bins.ffmpeg, FFMPEG_PATH);
  assert.equal(deps.media.bins.source.ffmpeg, 'env');
  assert.equal(deps.media.caps.filters.xfade, false, 'this test needs the build without xfade');
  const probe = await deps.media.probe(file(delivered, 'video.mp4'));
  assert.deepEqual([probe.video?.codecName, probe.video?.width, probe.video?.height], ['h264', 854, 480]);
  assert.equal(probe.audio?.codecName, 'aac');
  const loud = await measureLoudness(deps.media.bins.ffmpeg, file(delivered, 'video.mp4'));
  assert.ok(Math.abs(loud.lufs + 14) <= 1, `integrated ${loud.lufs}`);
  assert.equal(result.state.qa?.passed, true, JSON.stringify(result.state.qa?.checks.filter((c) => !c.passed)));
});
