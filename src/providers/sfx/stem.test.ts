import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readWav } from '../../media/wav.js';
import { EFFECT_PEAK, shapeEffect, writeStem } from './stem.js';

const dir = mkdtempSync(join(tmpdir(), 'aiprod-stem-'));

/** A constant-level stereo "sound" of `frames` frames. */
const flat = (frames: number, level: number): Float32Array => new Float32Array(frames * 2).fill(level);

test('shapeEffect: peak evened to EFFECT_PEAK, edges faded to zero', () => {
  const wave = shapeEffect(flat(4800, 0.1));
  assert.equal(wave.frames, 4800);
  assert.ok(Math.abs(Math.max(...wave.samples) - EFFECT_PEAK) < 1e-6);
  assert.equal(wave.samples[0], 0);
  assert.ok(Math.abs(wave.samples.at(-1)!) < 1e-6);
  assert.deepEqual([...shapeEffect(flat(10, 0)).samples], new Array(20).fill(0), 'silence stays silence');
});

test('writeStem: each effect starts on its frame at its gain; past the end it is cut with a fade; exact length', async () => {
  const wave = { samples: flat(9600, 0.5), frames: 9600 };
  const out = join(dir, 'stem.wav');
  const placed = await writeStem({ effects: [{ kind: 'click', atSec: 0.25, gain: 1 }, { kind: 'click', atSec: 0.9, gain: 0.5 }, { kind: 'pop', atSec: 0.1, gain: 1 }, { kind: 'click', atSec: 3, gain: 1 }], durationSec: 1, seed: 1 }, new Map([['click', wave]]), out);
  assert.equal(placed, 2, 'a kind without a sound and an effect after the end are left out');
  const { samples } = readWav(out);
  assert.equal(samples.length / 2, 48_000);
  assert.equal(samples[12_000 * 2 - 2], 0);
  assert.ok(Math.abs(samples[12_000 * 2]! - 0.5) < 1e-3, 'starts exactly at 0.25 s');
  assert.ok(Math.abs(samples[44_000 * 2]! - 0.25) < 1e-3, 'the second at half gain');
  assert.ok(Math.abs(samples.at(-1)!) < 0.01, 'cut with a fade at the end');
});
