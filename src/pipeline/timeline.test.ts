import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Storyboard } from '../contract/storyboard.js';
import { buildTimeline } from './timeline.js';

function board(scenes: { id: string; durationSec?: number }[]): Storyboard {
  return {
    title: 't',
    language: 'en',
    mood: 'calm',
    sfxCues: [],
    notes: [],
    scenes: scenes.map((s) => ({ ...s, narration: 'x', keywords: [], sfx: [], visual: { type: 'color', color: '#000' } })),
  };
}

test('scene length is narration plus padding, in whole frames', () => {
  const t = buildTimeline(board([{ id: 's1' }, { id: 's2' }]), new Map([['s1', 2.0], ['s2', 3.01]]), { fps: 30 });
  assert.equal(t.scenes[0]?.durationSec, 89 / 30); // 0.35 + 2.0 + 0.6 = 2.95 s = 88.5 frames, rounded
  assert.equal(Math.round((t.scenes[1]?.durationSec ?? 0) * 30), Math.round((0.35 + 3.01 + 0.6) * 30));
  assert.equal(t.scenes[1]?.startSec, t.scenes[0]?.durationSec);
  assert.equal(t.scenes[0]?.speechStartSec, 0.35);
  for (const s of t.scenes) assert.ok(Number.isInteger(Math.round(s.durationSec * 30 * 1e6) / 1e6));
  assert.equal(t.totalSec, (t.scenes[0]?.durationSec ?? 0) + (t.scenes[1]?.durationSec ?? 0));
});

test('an explicit duration is kept, or lengthened with a note when the narration does not fit', () => {
  const t = buildTimeline(board([{ id: 's1', durationSec: 5 }, { id: 's2', durationSec: 1 }]), new Map([['s1', 2], ['s2', 3]]), { fps: 25 });
  assert.equal(t.scenes[0]?.durationSec, 5);
  assert.equal(t.scenes[1]?.durationSec, 3.96);
  assert.match(t.notes[0] ?? '', /scene s2 lengthened/);
});

test('narration-sized scenes stretch to a longer target; silent scenes get a default', () => {
  const t = buildTimeline(board([{ id: 's1' }, { id: 's2' }]), new Map([['s1', 2]]), { fps: 30, targetDurationSec: 20 });
  assert.ok(Math.abs(t.totalSec - 20) < 0.1, `total ${t.totalSec}`);
  const silent = buildTimeline(board([{ id: 's1' }]), new Map(), { fps: 30 });
  assert.equal(silent.totalSec, 3);
  assert.equal(silent.transitionSec, 0);
});

test('transitions are an even number of frames and at most a third of the shortest scene', () => {
  const t = buildTimeline(board([{ id: 'a', durationSec: 0.6 }, { id: 'b', durationSec: 4 }]), new Map(), { fps: 30 });
  const frames = Math.round(t.transitionSec * 30);
  assert.equal(frames % 2, 0);
  assert.ok(t.transitionSec <= 0.2 + 1e-9);
});
