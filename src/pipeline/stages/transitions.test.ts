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

test('the contact sheet shows the middle of each scene, at most 48, in cells of the video\'s shape; the thumbnail 1.5 s in', async () => {
  const { contactSheet, stillFrames } = await import('../stills.js');
  const timeline = { fps: 30, totalSec: 13, scenes: [{ startSec: 0, durationSec: 4 }, { startSec: 4, durationSec: 6 }, { startSec: 10, durationSec: 2 }, { startSec: 12, durationSec: 1 }] };
  assert.deepEqual(stillFrames(timeline), { sheet: [60, 210, 330, 375], thumbnail: 45 });
  // A first scene shorter than 3 s: the thumbnail is its middle; no frame falls past the end.
  assert.deepEqual(stillFrames({ fps: 25, totalSec: 2.2, scenes: [{ startSec: 0, durationSec: 2.2 }] }), { sheet: [28], thumbnail: 28 });
  assert.deepEqual(stillFrames({ fps: 25, totalSec: 0.4, scenes: [{ startSec: 0, durationSec: 2 }] }), { sheet: [9], thumbnail: 9 });
  const sheet = contactSheet([60, 210, 330, 375], { width: 1080, height: 1920 });
  assert.deepEqual(sheet.frames, [60, 210, 330, 375]);
  assert.deepEqual(sheet.cell, { width: 180, height: 320 });
  assert.equal(sheet.columns, 4);
  const many = contactSheet(Array.from({ length: 100 }, (_, i) => i), { width: 1920, height: 1080 });
  assert.equal(many.frames.length, 48);
  assert.equal(many.frames[0], 0);
  assert.equal(many.frames[47], 97, 'spread over the whole video');
  assert.equal(many.columns, 4);
});
