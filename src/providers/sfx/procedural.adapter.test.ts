import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SFX_KINDS } from '../../contract/brief.js';
import { readWav } from '../../media/wav.js';
import { describeEffects, ProceduralSfxLibrary, softClip } from './procedural.adapter.js';

const lib = new ProceduralSfxLibrary();
const dir = mkdtempSync(join(tmpdir(), 'aiprod-sfx-'));
const SR = 48_000;

function stats(samples: Float32Array): { peak: number; rms: number; zcr: number } {
  let peak = 0;
  let sum = 0;
  let crossings = 0;
  for (let i = 0; i < samples.length; i += 2) {
    const s = samples[i] as number;
    peak = Math.max(peak, Math.abs(s));
    sum += s * s;
    if (i >= 2 && Math.sign(s) !== Math.sign(samples[i - 2] as number)) crossings++;
  }
  const frames = samples.length / 2;
  return { peak, rms: Math.sqrt(sum / frames), zcr: crossings / frames };
}

test('every kind renders: plausible length, under full scale, silent at both ends', async () => {
  const lengths: Record<string, [number, number]> = {
    whoosh: [0.6, 1.1], riser: [1.5, 2.5], impact: [0.8, 1.5], click: [0.01, 0.1], pop: [0.05, 0.3], chime: [1.5, 3], ambience: [3, 5], swell: [2, 3],
  };
  for (const kind of SFX_KINDS) {
    const { path, durationSec } = await lib.renderEffect(kind, 1, join(dir, `${kind}.wav`));
    const [min, max] = lengths[kind]!;
    assert.ok(durationSec >= min && durationSec <= max, `${kind} lasts ${durationSec}`);
    const wav = readWav(path);
    const s = stats(wav.samples);
    assert.ok(s.peak <= 0.9 && s.peak > 0.2, `${kind} peak ${s.peak}`);
    assert.ok(Math.abs(wav.samples[0]!) < 0.01 && Math.abs(wav.samples.at(-1)!) < 0.01, `${kind} must not click`);
  }
  assert.equal(describeEffects().length, 8);
});

test('kinds sound different: a click is brighter than an impact, a whoosh noisier than a chime', () => {
  const zcr = (kind: (typeof SFX_KINDS)[number]) => {
    const fx = lib.synthesize(kind, 1);
    const inter = new Float32Array(fx.left.length * 2);
    fx.left.forEach((v, i) => (inter[i * 2] = v));
    return stats(inter).zcr;
  };
  assert.ok(zcr('click') > zcr('impact') * 5);
  assert.ok(zcr('whoosh') > zcr('impact'));
  assert.notDeepEqual(lib.synthesize('whoosh', 1).left, lib.synthesize('whoosh', 2).left);
});

test('a stem has the exact length and places effects at their times', async () => {
  const out = join(dir, 'stem.wav');
  const result = await lib.renderStem({ effects: [{ kind: 'impact', atSec: 2, gain: 1 }, { kind: 'click', atSec: 3.5, gain: 0.5 }], durationSec: 5.01, seed: 3 }, out);
  assert.equal(result.effectsPlaced, 2);
  const wav = readWav(out);
  assert.equal(wav.samples.length / 2, Math.round(5.01 * SR));
  const before = stats(wav.samples.subarray(0, 2 * SR * 2 - 200));
  const after = stats(wav.samples.subarray(2 * SR * 2, 2 * SR * 2 + SR));
  assert.equal(before.peak, 0);
  assert.ok(after.peak > 0.3);
});

test('overlapping effects never pass full scale; one cut by the end fades out; output is deterministic', async () => {
  const effects = [0, 0.01, 0.02, 0.03].map((atSec) => ({ kind: 'impact' as const, atSec, gain: 2 }));
  const a = join(dir, 'a.wav');
  await lib.renderStem({ effects: [...effects, { kind: 'swell', atSec: 1.5, gain: 1 }], durationSec: 2, seed: 5 }, a);
  const wav = readWav(a);
  assert.ok(stats(wav.samples).peak <= 1);
  assert.ok(Math.abs(wav.samples.at(-1)!) < 0.02, 'cut effect fades');
  const b = join(dir, 'b.wav');
  await lib.renderStem({ effects: [...effects, { kind: 'swell', atSec: 1.5, gain: 1 }], durationSec: 2, seed: 5 }, b);
  assert.ok(readFileSync(a).equals(readFileSync(b)));
  assert.equal(softClip(0.5), 0.5);
  assert.ok(softClip(3) < 1 && softClip(-3) > -1);
});

test('a long stem is written whole and an abort stops it', async () => {
  const effects = Array.from({ length: 100 }, (_, i) => ({ kind: SFX_KINDS[i % 8]!, atSec: i * 6, gain: 1 }));
  await lib.renderStem({ effects, durationSec: 600, seed: 1 }, join(dir, 'long.wav'));
  assert.ok(statSync(join(dir, 'long.wav')).size >= 600 * 48_000 * 2 * 2, 'ten minutes of 48 kHz 16-bit stereo');
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(lib.renderStem({ effects, durationSec: 600, seed: 1 }, join(dir, 'x.wav'), controller.signal), /cancelled/);
});
