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
  const { contactSheet } = await import('./compose.stage.js');
  const timeline = { transitionSec: 0.5, scenes: [{ durationSec: 4 }, { durationSec: 6 }, { durationSec: 2 }, { durationSec: 1 }] };
  const sheet = contactSheet(timeline, ['/s0.mp4', '/s1.mp4', '/s2.mp4', '/s3.mp4'], { width: 1080, height: 1920 });
  // Middles 2, 3.25 (half a transition into its segment), 1.25 and 0.75: the keyframes at 2 and 4 are
  // within a second and inside their scenes; the 2 s scene's segment ends at its keyframe at 2, and
  // the 1 s scene holds none past its opening transition: both keep their middles.
  assert.deepEqual(sheet.frames, [{ path: '/s0.mp4', atSec: 2 }, { path: '/s1.mp4', atSec: 4 }, { path: '/s2.mp4', atSec: 1.25 }, { path: '/s3.mp4', atSec: 0.75 }]);
  assert.deepEqual(sheet.cell, { width: 180, height: 320 });
  assert.equal(sheet.columns, 4);
  const many = contactSheet({ transitionSec: 0, scenes: Array.from({ length: 100 }, () => ({ durationSec: 2 })) }, Array.from({ length: 100 }, (_, i) => `/s${i}.mp4`), { width: 1920, height: 1080 });
  assert.equal(many.frames.length, 48);
  assert.equal(many.frames[0]?.path, '/s0.mp4');
  assert.equal(many.frames[47]?.path, '/s97.mp4', 'spread over the whole video');
  assert.equal(many.columns, 4);
});

test('the thumbnail is 1.5 s into the first scene, or the keyframe at 2 s when the scene runs past it', async () => {
  const { thumbnailAt } = await import('./compose.stage.js');
  assert.equal(thumbnailAt(6, 0.5), 2);
  assert.equal(thumbnailAt(2.2, 0.5), 1.1, 'a short first scene: its middle, no keyframe before its end');
  assert.equal(thumbnailAt(3, 0), 2);
  assert.equal(thumbnailAt(2.1, 0), 1.05);
});
