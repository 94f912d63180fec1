import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MOODS } from '../../contract/brief.js';
import { readWav } from '../../media/wav.js';
import { chordSymbol, moodParameters, SCALES, triad } from './composer/moods.js';
import { fadeGain, ProceduralComposer } from './procedural.adapter.js';

const composer = new ProceduralComposer();
const dir = mkdtempSync(join(tmpdir(), 'aiprod-music-'));

test('moods are distinct and musically valid', () => {
  const signatures = new Set(MOODS.map((m) => { const p = moodParameters(m); return `${p.tempoBpm}/${p.mode}/${p.drums.style}/${p.arp.style}`; }));
  assert.equal(signatures.size, MOODS.length);
  for (const mood of MOODS) {
    const p = moodParameters(mood);
    assert.ok(p.tempoBpm >= 60 && p.tempoBpm <= 140, `${mood} tempo`);
    for (const prog of p.progressions) {
      for (const degree of prog) {
        const scale = SCALES[p.mode];
        for (const note of triad(p, degree)) assert.ok(scale.includes((note - p.tonic + 120) % 12), `${mood}: chord on ${degree} leaves the key`);
      }
    }
  }
  assert.equal(moodParameters('calm').drums.style, 'none');
  assert.equal(moodParameters('tense').mode, 'minor');
  assert.equal(moodParameters('uplifting').mode, 'major');
  const c = moodParameters('uplifting');
  assert.deepEqual([0, 4, 5, 3].map((d) => chordSymbol(c, d)), ['C', 'G', 'Am', 'F']);
});

test('a bed has exactly the requested length, with fades, for short and long durations', async () => {
  for (const durationSec of [1, 7.3, 30]) {
    const r = await composer.compose({ mood: 'corporate', durationSec, seed: 1 }, join(dir, `len-${durationSec}.wav`));
    const wav = readWav(r.path);
    assert.equal(wav.channels, 2);
    assert.equal(wav.sampleRate, 48_000);
    assert.equal(wav.samples.length / 2, Math.round(durationSec * 48_000));
    assert.equal(wav.samples[0], 0);
    assert.ok(Math.abs(wav.samples.at(-1)!) < 0.001);
  }
  assert.equal(fadeGain(0, 48_000, 48_000), 0);
  assert.equal(fadeGain(48_000 * 5, 48_000 * 30, 48_000), 1);
  assert.equal(fadeGain(24_000, 48_000 * 30, 48_000), 0.5);
});

test('the same seed gives the same bytes; another seed another bed', async () => {
  const a = await composer.compose({ mood: 'playful', durationSec: 6, seed: 4 }, join(dir, 'a.wav'));
  const b = await composer.compose({ mood: 'playful', durationSec: 6, seed: 4 }, join(dir, 'b.wav'));
  const c = await composer.compose({ mood: 'playful', durationSec: 6, seed: 5 }, join(dir, 'c.wav'));
  assert.ok(readFileSync(a.path).equals(readFileSync(b.path)));
  assert.ok(!readFileSync(a.path).equals(readFileSync(c.path)));
});

test('it sounds like music: sensible level, beats that pulse, several pitches', async () => {
  for (const mood of MOODS) {
    const r = await composer.compose({ mood, durationSec: 12, seed: 1 }, join(dir, `${mood}.wav`));
    const { samples } = readWav(r.path);
    let peak = 0;
    let sum = 0;
    for (const s of samples) {
      peak = Math.max(peak, Math.abs(s));
      sum += s * s;
    }
    const rmsDb = 10 * Math.log10(sum / samples.length);
    assert.ok(peak < 0.8, `${mood} peak ${peak}`);
    assert.ok(rmsDb > -30 && rmsDb < -12, `${mood} rms ${rmsDb.toFixed(1)} dB`);
    // Energy in 50 ms windows over the middle of the bed varies: notes start and decay.
    const win = 2400 * 2;
    const energies: number[] = [];
    for (let at = samples.length / 4; at + win < (samples.length * 3) / 4; at += win) {
      let e = 0;
      for (let i = at; i < at + win; i++) e += samples[i]! ** 2;
      energies.push(e);
    }
    const ratio = Math.max(...energies) / Math.max(1e-9, Math.min(...energies));
    assert.ok(ratio > 1.5, `${mood}: energy too steady (${ratio.toFixed(2)}), a drone not music`);
    // More than one pitch: a coarse DFT over one second finds several strong, separate peaks.
    const strong = strongBins(samples, samples.length / 4, 48_000);
    assert.ok(strong >= 3, `${mood}: ${strong} strong pitches`);
  }
});

// How fast a bed is made is bench:synth's business; here, that a long one is whole.
test('long beds are written whole and an abort stops them', async () => {
  await composer.compose({ mood: 'uplifting', durationSec: 120, seed: 1 }, join(dir, 'long.wav'));
  assert.ok(statSync(join(dir, 'long.wav')).size >= 120 * 48_000 * 2 * 2, 'two minutes of 48 kHz 16-bit stereo');
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(composer.compose({ mood: 'calm', durationSec: 60, seed: 1 }, join(dir, 'x.wav'), controller.signal), /cancelled/);
});

/** Counts local maxima above 10 % of the strongest between 60 Hz and 2 kHz (1 Hz bins, left channel). */
function strongBins(samples: Float32Array, startFrame: number, sr: number): number {
  const n = sr / 4;
  const mags: number[] = [];
  for (let f = 60; f <= 2000; f += 4) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < n; i++) {
      const s = samples[(startFrame + i) * 2]!;
      re += s * Math.cos((2 * Math.PI * f * i) / sr);
      im -= s * Math.sin((2 * Math.PI * f * i) / sr);
    }
    mags.push(Math.hypot(re, im));
  }
  const max = Math.max(...mags);
  return mags.filter((m, i) => m > max * 0.1 && m >= (mags[i - 1] ?? 0) && m >= (mags[i + 1] ?? 0)).length;
}
