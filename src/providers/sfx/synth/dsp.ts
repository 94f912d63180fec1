/**
 * Small DSP helpers shared by the effect recipes: envelopes, filters and a stereo buffer type.
 * Everything is sample-by-sample and allocation-light; effects are at most a few seconds long.
 */
import type { Random } from '../../../lib/random.js';

export interface Stereo {
  left: Float32Array;
  right: Float32Array;
}

export function stereo(frames: number): Stereo {
  return { left: new Float32Array(frames), right: new Float32Array(frames) };
}

/** Attack-then-exponential-decay envelope at time t (seconds). */
export function adEnvelope(t: number, attack: number, decay: number): number {
  if (t < attack) return t / attack;
  return Math.exp(-(t - attack) / decay);
}

/** One-pole low-pass whose cutoff may change every sample. */
export class OnePole {
  private y = 0;
  process(x: number, cutoffHz: number, sampleRate: number): number {
    const a = 1 - Math.exp((-2 * Math.PI * Math.min(cutoffHz, sampleRate * 0.45)) / sampleRate);
    this.y += a * (x - this.y);
    return this.y;
  }
}

/** State-variable filter (Chamberlin); band-pass output, centre and Q may change per sample. */
export class BandPass {
  private low = 0;
  private band = 0;
  process(x: number, centreHz: number, q: number, sampleRate: number): number {
    const f = 2 * Math.sin((Math.PI * Math.min(centreHz, sampleRate / 6)) / sampleRate);
    const damp = 1 / q;
    this.low += f * this.band;
    const high = x - this.low - damp * this.band;
    this.band += f * high;
    return this.band;
  }
}

/** Equal-power pan: -1 (left) … 1 (right). */
export function pan(position: number): [number, number] {
  const angle = ((Math.max(-1, Math.min(1, position)) + 1) * Math.PI) / 4;
  return [Math.cos(angle), Math.sin(angle)];
}

/** Short linear fades at both ends and peak normalisation to `peak`, removing DC first. */
export function finish(buf: Stereo, sampleRate: number, peak = 0.85, fadeSec = 0.005): Stereo {
  const n = buf.left.length;
  for (const ch of [buf.left, buf.right]) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += ch[i] as number;
    mean /= n || 1;
    for (let i = 0; i < n; i++) ch[i] = (ch[i] as number) - mean;
  }
  const fade = Math.max(1, Math.round(fadeSec * sampleRate));
  let max = 0;
  for (let i = 0; i < n; i++) {
    const g = Math.min(1, i / fade, (n - 1 - i) / fade);
    buf.left[i] = (buf.left[i] as number) * g;
    buf.right[i] = (buf.right[i] as number) * g;
    max = Math.max(max, Math.abs(buf.left[i] as number), Math.abs(buf.right[i] as number));
  }
  if (max > 0) {
    const scale = peak / max;
    for (let i = 0; i < n; i++) {
      buf.left[i] = (buf.left[i] as number) * scale;
      buf.right[i] = (buf.right[i] as number) * scale;
    }
  }
  return buf;
}

export type Recipe = (random: Random, sampleRate: number) => Stereo;
