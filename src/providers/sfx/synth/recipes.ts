/**
 * One synthesis recipe per effect kind. Each is deterministic for its random stream and returns a
 * short stereo buffer, faded at both ends and normalised, ready to be placed on a timeline.
 */
import type { SfxKind } from '../../../contract/brief.js';
import { adEnvelope, BandPass, finish, OnePole, pan, type Recipe, stereo } from './dsp.js';

const TAU = 2 * Math.PI;

/** Band-passed noise sweeping up then down, travelling across the stereo field. */
const whoosh: Recipe = (random, sr) => {
  const dur = 0.75 + random.next() * 0.2;
  const n = Math.round(dur * sr);
  const out = stereo(n);
  const bp = new BandPass();
  const direction = random.next() < 0.5 ? -1 : 1;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const p = t / dur;
    const centre = 300 + 3500 * Math.sin(Math.PI * Math.min(1, p * 1.1));
    const env = Math.sin(Math.PI * p) ** 2;
    const s = bp.process(random.signed(), centre, 2.5, sr) * env;
    const [l, r] = pan(direction * (p * 2 - 1));
    out.left[i] = s * l;
    out.right[i] = s * r;
  }
  return finish(out, sr, 0.8);
};

/** A rising tone with noise that grows into the cut. */
const riser: Recipe = (random, sr) => {
  const dur = 2;
  const n = Math.round(dur * sr);
  const out = stereo(n);
  const lp = new OnePole();
  const base = 110 * (1 + random.next() * 0.2);
  let phase = 0;
  let phase2 = 0;
  for (let i = 0; i < n; i++) {
    const p = i / n;
    const f = base * 2 ** (p * 3);
    phase += (TAU * f) / sr;
    phase2 += (TAU * f * 1.007) / sr;
    const saw = ((phase / TAU) % 1) * 2 - 1 + (((phase2 / TAU) % 1) * 2 - 1);
    const noise = lp.process(random.signed(), 500 + 8000 * p, sr);
    const env = p ** 2 * (p > 0.97 ? (1 - p) / 0.03 : 1);
    out.left[i] = (0.35 * saw + 0.6 * noise) * env;
    out.right[i] = (0.35 * saw - 0.6 * noise * 0.8) * env;
  }
  return finish(out, sr, 0.75);
};

/** A low sine drop with a noise transient and a rumbling tail. */
const impact: Recipe = (random, sr) => {
  const dur = 1.2;
  const n = Math.round(dur * sr);
  const out = stereo(n);
  const lp = new OnePole();
  const start = 90 + random.next() * 20;
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const f = 35 + start * Math.exp(-t / 0.08);
    phase += (TAU * f) / sr;
    const body = Math.sin(phase) * adEnvelope(t, 0.002, 0.35);
    const crack = random.signed() * adEnvelope(t, 0.0005, 0.02);
    const rumble = lp.process(random.signed(), 180, sr) * adEnvelope(t, 0.01, 0.5) * 2;
    const s = body + 0.5 * crack + rumble;
    out.left[i] = s;
    out.right[i] = s * 0.95;
  }
  return finish(out, sr, 0.85);
};

/** A short, bright UI click. */
const click: Recipe = (random, sr) => {
  const n = Math.round(0.03 * sr);
  const out = stereo(n);
  const f = 2500 + random.next() * 800;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const s = (Math.sin(TAU * f * t) * 0.6 + random.signed() * 0.4) * adEnvelope(t, 0.0003, 0.004);
    out.left[i] = s;
    out.right[i] = s;
  }
  return finish(out, sr, 0.7, 0.001);
};

/** A bubbly pop: a fast pitch drop with a soft body. */
const pop: Recipe = (random, sr) => {
  const n = Math.round(0.13 * sr);
  const out = stereo(n);
  const top = 900 + random.next() * 400;
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    phase += (TAU * (220 + top * Math.exp(-t / 0.015))) / sr;
    const s = Math.sin(phase) * adEnvelope(t, 0.001, 0.03);
    out.left[i] = s;
    out.right[i] = s;
  }
  return finish(out, sr, 0.75, 0.002);
};

/** A bell: inharmonic partials, each with its own decay. */
const chime: Recipe = (random, sr) => {
  const dur = 2.2;
  const n = Math.round(dur * sr);
  const out = stereo(n);
  const f0 = [784, 880, 1047, 1175][random.int(0, 3)] as number;
  const partials = [
    [1, 1, 1.2],
    [2.76, 0.5, 0.7],
    [5.4, 0.25, 0.4],
    [8.93, 0.12, 0.25],
  ] as const;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    let s = 0;
    for (const [ratio, amp, decay] of partials) s += amp * Math.sin(TAU * f0 * ratio * t) * adEnvelope(t, 0.002, decay);
    out.left[i] = s * (1 + 0.1 * Math.sin(TAU * 3 * t));
    out.right[i] = s * (1 - 0.1 * Math.sin(TAU * 3 * t));
  }
  return finish(out, sr, 0.7);
};

/** Room tone: soft low-passed noise with slow movement, 4 s, faded so it can sit under a scene. */
const ambience: Recipe = (random, sr) => {
  const dur = 4;
  const n = Math.round(dur * sr);
  const out = stereo(n);
  const lpL = new OnePole();
  const lpR = new OnePole();
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const drift = 600 + 250 * Math.sin(TAU * 0.2 * t);
    const env = Math.min(1, t / 0.8, (dur - t) / 0.8);
    out.left[i] = lpL.process(random.signed(), drift, sr) * env;
    out.right[i] = lpR.process(random.signed(), drift * 1.1, sr) * env;
  }
  return finish(out, sr, 0.35, 0.05);
};

/** A slow swell: a detuned chord of soft tones and air that grows and falls away. */
const swell: Recipe = (random, sr) => {
  const dur = 2.5;
  const n = Math.round(dur * sr);
  const out = stereo(n);
  const root = [130.81, 146.83, 164.81][random.int(0, 2)] as number;
  const freqs = [root, root * 1.5, root * 2, root * 2.52];
  const lp = new OnePole();
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const p = t / dur;
    const env = p < 0.75 ? (p / 0.75) ** 2 : (1 - p) / 0.25;
    let l = 0;
    let r = 0;
    for (const [k, f] of freqs.entries()) {
      l += Math.sin(TAU * f * 1.003 * t + k);
      r += Math.sin(TAU * f * 0.997 * t + 2 * k);
    }
    const air = lp.process(random.signed(), 2000 + 4000 * p, sr) * 0.8;
    out.left[i] = (l / freqs.length + air) * env;
    out.right[i] = (r / freqs.length + air) * env;
  }
  return finish(out, sr, 0.7);
};

export const RECIPES: Record<SfxKind, Recipe> = { whoosh, riser, impact, click, pop, chime, ambience, swell };

export const DESCRIPTIONS: Record<SfxKind, string> = {
  whoosh: 'a sweep of air across the stereo field, for scene transitions',
  riser: 'two seconds of rising tone and noise that lands on a cut',
  impact: 'a deep hit with a rumbling tail, for reveals and emphasis',
  click: 'a short interface click',
  pop: 'a bubbly pop',
  chime: 'a bell-like chime, for ideas and "new"',
  ambience: 'four seconds of soft room tone',
  swell: 'a slow, rising pad that falls away',
};
