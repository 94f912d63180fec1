import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transitionsInto } from './visualize.stage.js';

test('each scene enters with its own transition, else the brief\'s; one the build lacks cross-fades, with a note', () => {
  const notes: string[] = [];
  const storyboard = { scenes: [{}, { transition: 'wipe-left' as const }, {}, { transition: 'pixelize' as const }] };
  const caps = { xfadeTransitions: ['fade', 'wipeleft', 'circleopen'] };
  assert.deepEqual(transitionsInto(storyboard, { transition: 'circle-open' }, caps, 'xfade', (n) => notes.push(n)), ['circleopen', 'wipeleft', 'circleopen', 'fade']);
  assert.deepEqual(notes, ["this FFmpeg's xfade lacks pixelize: cross-faded instead"]);
  notes.length = 0;
  transitionsInto(storyboard, { transition: 'fade' }, { xfadeTransitions: [] }, 'dip', (n) => notes.push(n));
  assert.deepEqual(notes, ['this FFmpeg has no xfade filter: every transition dips through black']);
});

test('a brief\'s transitions reach the storyboard: each scene\'s own, and the brief\'s default', async () => {
  const { parseBrief, resolveBrief } = await import('../../contract/resolve.js');
  const { RuleBasedWriter } = await import('../../providers/script/rule-based.adapter.js');
  const brief = resolveBrief(parseBrief({ transition: 'slide-up', scenes: [{ narration: 'One.' }, { narration: 'Two.', transition: 'radial' }] }));
  assert.equal(brief.transition, 'slide-up');
  const { storyboard } = await new RuleBasedWriter().plan(brief);
  assert.deepEqual(storyboard.scenes.map((s) => s.transition), [undefined, 'radial']);
  assert.equal(resolveBrief(parseBrief({ prompt: 'a teaser' })).transition, 'fade');
});

test('the contact sheet takes a keyframe near the middle of each scene from its own segment, at most 48, in cells of the video\'s shape', async () => {
  const { contactSheet, stillTimes } = await import('../stills.js');
  const timeline = { transitionSec: 0.5, scenes: [{ durationSec: 4 }, { durationSec: 6 }, { durationSec: 2 }, { durationSec: 1 }] };
  // Middles 2, 3.25 (half a transition into its segment), 1.25 and 0.75: the keyframes at 2 and 4 are
  // within a second and inside their scenes; the 2 s scene's segment ends at its keyframe at 2, and
  // the 1 s scene holds none past its opening transition: both keep their middles.
  assert.deepEqual(stillTimes(timeline).map((s) => s.sheetSec), [2, 4, 1.25, 0.75]);
  const sheet = contactSheet(['/s0.jpg', '/s1.jpg', '/s2.jpg', '/s3.jpg'], { width: 1080, height: 1920 });
  assert.deepEqual(sheet.frames, ['/s0.jpg', '/s1.jpg', '/s2.jpg', '/s3.jpg']);
  assert.deepEqual(sheet.cell, { width: 180, height: 320 });
  assert.equal(sheet.columns, 4);
  const many = contactSheet(Array.from({ length: 100 }, (_, i) => `/s${i}.jpg`), { width: 1920, height: 1080 });
  assert.equal(many.frames.length, 48);
  assert.equal(many.frames[0], '/s0.jpg');
  assert.equal(many.frames[47], '/s97.jpg', 'spread over the whole video');
  assert.equal(many.columns, 4);
});

test('the thumbnail is 1.5 s into the first scene, or the keyframe at 2 s when the scene runs past it', async () => {
  const { stillTimes } = await import('../stills.js');
  const thumbnailAt = (first: number, transitionSec: number): number | undefined =>
    stillTimes({ transitionSec, scenes: [{ durationSec: first }, ...(transitionSec > 0 ? [{ durationSec: 3 }] : [])] })[0]?.thumbnailSec;
  assert.equal(thumbnailAt(6, 0.5), 2);
  assert.equal(thumbnailAt(2.2, 0.5), 1.1, 'a short first scene: its middle, no keyframe before its end');
  assert.equal(thumbnailAt(3, 0), 2);
  assert.equal(thumbnailAt(2.1, 0), 1.05);
  assert.equal(stillTimes({ transitionSec: 0.5, scenes: [{ durationSec: 4 }, { durationSec: 4 }] })[1]?.thumbnailSec, undefined, 'only the first segment has one');
});
