import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Timeline } from '../timeline.js';
import { evaluateMotion, placeStillRuns } from './motion.js';

/** Three scenes: s1 0–4 s, s2 4–9 s, s3 9–12 s. */
const timeline: Timeline = {
  fps: 30,
  transitionSec: 0.4,
  totalSec: 12,
  notes: [],
  scenes: [
    { id: 's1', index: 0, startSec: 0, durationSec: 4, speechStartSec: 0.35, speechDurationSec: 3 },
    { id: 's2', index: 1, startSec: 4, durationSec: 5, speechStartSec: 4.35, speechDurationSec: 0 },
    { id: 's3', index: 2, startSec: 9, durationSec: 3, speechStartSec: 9.35, speechDurationSec: 2 },
  ],
};
const none = new Map<string, string>();
const byName = (checks: ReturnType<typeof evaluateMotion>) => Object.fromEntries(checks.map((c) => [c.name, c]));

test('no still run: both motion checks pass', () => {
  const { motion, motion_held } = byName(evaluateMotion([], timeline, none));
  assert.equal(motion?.passed, true);
  assert.equal(motion?.hard, true);
  assert.equal(motion_held?.passed, true);
  assert.equal(motion_held?.hard, false);
  assert.equal(motion?.measured, '0 run(s)');
});

test('a still run over 2 s in a drawn scene fails, named by its scene; 2 s or less passes', () => {
  const { motion } = byName(evaluateMotion([{ startSec: 5.2, endSec: 7.9 }], timeline, none));
  assert.equal(motion?.passed, false);
  assert.equal(motion?.measured, '1 run(s): 5.20–7.90 s (2.70 s) in scene s2');
  assert.equal(byName(evaluateMotion([{ startSec: 5, endSec: 7 }], timeline, none)).motion?.passed, true);
});

test('a run across a cut names every scene it lies in', () => {
  const [run] = placeStillRuns([{ startSec: 7.5, endSec: 10.5 }], timeline, none);
  assert.deepEqual(run?.sceneIds, ['s2', 's3']);
  assert.match(byName(evaluateMotion([{ startSec: 7.5, endSec: 10.5 }], timeline, none)).motion?.measured ?? '', /in scenes s2, s3$/);
});

test('a still run in a scene the brief holds still only warns, with the reason', () => {
  const held = new Map([['s2', "the brief's still image with motion none"]]);
  const { motion, motion_held } = byName(evaluateMotion([{ startSec: 4, endSec: 9 }], timeline, held));
  assert.equal(motion?.passed, true);
  assert.equal(motion_held?.passed, false);
  assert.equal(motion_held?.measured, "1 run(s): 4.00–9.00 s (5.00 s) in scene s2 (the brief's still image with motion none)");
});

test('the time in held scenes is taken out of a run before it is judged', () => {
  const held = new Map([['s2', "the brief's video"]]);
  // 1.5 s of drawn s1 and 3 s of held s2: the drawn part is under the limit.
  assert.equal(byName(evaluateMotion([{ startSec: 2.5, endSec: 7 }], timeline, held)).motion?.passed, true);
  // 2.5 s of drawn s1 and 5 s of held s2: the drawn part alone is over it.
  const { motion } = byName(evaluateMotion([{ startSec: 1.5, endSec: 9 }], timeline, held));
  assert.equal(motion?.passed, false);
  assert.match(motion?.measured ?? '', /in scenes s1, s2 \(the brief's video\)$/);
});
