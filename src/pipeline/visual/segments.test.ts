import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Timeline } from '../timeline.js';
import { cutSegments } from './segments.js';

const timeline: Timeline = {
  fps: 30,
  transitionSec: 0.4,
  totalSec: 10,
  notes: [],
  scenes: [
    { id: 's1', index: 0, startSec: 0, durationSec: 3, speechStartSec: 0.35, speechDurationSec: 2 },
    { id: 's2', index: 1, startSec: 3, durationSec: 4, speechStartSec: 3.35, speechDurationSec: 3 },
    { id: 's3', index: 2, startSec: 7, durationSec: 3, speechStartSec: 7.35, speechDurationSec: 2 },
  ],
};

test('one segment per scene, covering every frame once, cut in the middle of each transition', () => {
  for (const mode of ['xfade', 'dip'] as const) {
    const cuts = cutSegments(timeline, mode);
    assert.equal(cuts.length, 3);
    let frame = 0;
    for (const c of cuts) {
      assert.equal(c.startFrame, frame);
      frame += c.frames;
    }
    assert.equal(frame, 300);
    assert.deepEqual(cuts.map((c) => c.startFrame), [0, 84, 204]);
    assert.equal(cuts[0]?.incoming, undefined);
  }
});

test('a cross-fade starts the scene early and blends the previous scene around the cut', () => {
  const [, second] = cutSegments(timeline, 'xfade');
  assert.deepEqual(second, {
    startFrame: 84,
    frames: 120,
    scene: { sceneIndex: 1, localStartFrame: -6, frames: 120 },
    incoming: { sceneIndex: 0, localStartFrame: 84, frames: 12 },
  });
});

test('a dip to black fades the previous scene out, then this one in', () => {
  const [, second, third] = cutSegments(timeline, 'dip');
  assert.deepEqual(second, {
    startFrame: 84,
    frames: 120,
    scene: { sceneIndex: 1, localStartFrame: 0, frames: 114 },
    incoming: { sceneIndex: 0, localStartFrame: 84, frames: 6 },
  });
  assert.equal((third?.scene.frames ?? 0) + (third?.incoming?.frames ?? 0), third?.frames);
});

test('a single scene is one segment', () => {
  const one: Timeline = { ...timeline, transitionSec: 0, scenes: [timeline.scenes[0]!], totalSec: 3 };
  assert.deepEqual(cutSegments(one, 'xfade'), [{ startFrame: 0, frames: 90, scene: { sceneIndex: 0, localStartFrame: 0, frames: 90 } }]);
});
