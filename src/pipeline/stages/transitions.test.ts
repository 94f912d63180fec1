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
