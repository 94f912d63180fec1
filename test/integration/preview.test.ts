/**
 * `preview: true` (`aiprod render --preview`): the same brief as a quick draft — 360p and the
 * fastest encoder — with the same timing, captions and plan as the full render, and passing the
 * same quality checks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { file, render } from './harness.js';

const brief = {
  scenes: [
    { narration: 'Fresh bread, every morning.', title: 'Bakery', durationSec: 2.5, visual: { type: 'gradient', colors: ['#7c2d12', '#f59e0b'] } },
    { narration: 'Come early, it goes fast.', durationSec: 2.5, visual: { type: 'color', color: '#1e3a8a' }, transition: 'wipe-left' },
  ],
  aspectRatio: '9:16',
  resolution: '720p',
  fps: 24,
  seed: 3,
};

test('a preview is 360p with the full render\'s timing, captions and plan', async () => {
  const full = await render(brief);
  const draft = await render({ ...brief, preview: true });
  const [fullProbe, draftProbe] = await Promise.all([full.deps.media.probe(file(full.delivered, 'video.mp4')), draft.deps.media.probe(file(draft.delivered, 'video.mp4'))]);
  assert.deepEqual([fullProbe.video?.width, fullProbe.video?.height], [720, 1280]);
  assert.deepEqual([draftProbe.video?.width, draftProbe.video?.height], [360, 640]);
  assert.ok(Math.abs(fullProbe.durationSec - draftProbe.durationSec) < 1 / 24 + 0.03, `${fullProbe.durationSec} vs ${draftProbe.durationSec}`);
  assert.equal(readFileSync(file(draft.delivered, 'captions.srt'), 'utf8'), readFileSync(file(full.delivered, 'captions.srt'), 'utf8'));
  assert.deepEqual(draft.result.state.storyboard, full.result.state.storyboard);
  assert.equal(draft.result.state.qa?.passed, true, JSON.stringify(draft.result.state.qa?.checks.filter((c) => !c.passed)));
});
