/**
 * Instrument voices. Each note renders any range of its samples on demand: oscillators and
 * envelopes are computed from the time since the note started (recurrences restart from closed
 * forms at each block), so a note continues seamlessly across blocks. Noise comes from a hash of
 * (note seed, sample index), so it is repeatable too.
 */
import { midiToHz } from './moods.js';

export type Instrument = 'pad' | 'bass' | 'pluck' | 'kick' | 'snare' | 'clap' | 'hat' | 'tom';

export interface NoteEvent {
  instrument: Instrument;
  /** First sample of the note. */
  start: number;
  /** Held length in samples; the release tail comes after it. */
  length: number;
  midi: number;
  velocity: number;
  /** -1 (left) … 1 (right). */
  pan: number;
  seed: number;
}

export interface VoiceSettings {
  sampleRate: number;
  brightness: number;
  padHarmonics: number;
  bassStyle: 'sustained' | 'pulse' | 'staccato';
}

const TABLE_SIZE = 4096;
const SINE = Float64Array.from({ length: TABLE_SIZE + 1 }, (_, i) => Math.sin((2 * Math.PI * i) / TABLE_SIZE));

/** sin(2π·cycles) from a table with linear interpolation: several times faster than Math.sin. */
export function sinCycles(cycles: number): number {
  const pos = (cycles - Math.floor(cycles)) * TABLE_SIZE;
  const i = pos | 0;
  const f = pos - i;
  return (SINE[i] as number) * (1 - f) + (SINE[i + 1] as number) * f;
}

/** Repeatable white noise in [-1, 1) for (seed, n). */
export function hashNoise(seed: number, n: number): number {
  let h = (seed ^ Math.imul(n, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h / 2147483648 - 1;
}

/** Seconds of sound after the held length (the release). */
export function releaseSec(instrument: Instrument): number {
  switch (instrument) {
    case 'pad':
      return 1.2;
    case 'bass':
      return 0.25;
    case 'pluck':
      return 0.5;
    case 'kick':
    case 'tom':
      return 0.6;
    case 'snare':
    case 'clap':
      return 0.35;
    case 'hat':
      return 0.12;
  }
}

/** Adds samples [from, to) of a note into the block buffers (indexed from `blockStart`). */
export function renderNote(ev: NoteEvent, from: number, to: number, blockStart: number, left: Float64Array, right: Float64Array, v: VoiceSettings): void {
  const sr = v.sampleRate;
  const f = midiToHz(ev.midi);
  const held = ev.length / sr;
  const gl = Math.cos(((ev.pan + 1) * Math.PI) / 4) * Math.SQRT2 * ev.velocity;
  const gr = Math.sin(((ev.pan + 1) * Math.PI) / 4) * Math.SQRT2 * ev.velocity;
  const put = (i: number, l: number, r: number): void => {
    left[i - blockStart] = (left[i - blockStart] as number) + l;
    right[i - blockStart] = (right[i - blockStart] as number) + r;
  };
  switch (ev.instrument) {
    case 'pad': {
      const rel = releaseSec('pad');
      const amps = Array.from({ length: v.padHarmonics }, (_, k) => (v.brightness ** k / (k + 1)) * 0.5);
      for (let i = from; i < to; i++) {
        const t = (i - ev.start) / sr;
        const env = Math.min(1, t / 0.6) * (t > held ? Math.max(0, 1 - (t - held) / rel) : 1);
        let l = 0;
        let r = 0;
        // Two detuned voices, one per side: width without a modulation state.
        for (let k = 0; k < amps.length; k++) {
          const h = k + 1;
          l += sinCycles(f * h * 1.004 * t + h * 0.13) * (amps[k] as number);
          r += sinCycles(f * h * 0.996 * t + h * 0.29) * (amps[k] as number);
        }
        put(i, l * env * ev.velocity, r * env * ev.velocity);
      }
      return;
    }
    case 'bass': {
      const tau = v.bassStyle === 'sustained' ? Infinity : v.bassStyle === 'pulse' ? 0.22 : 0.1;
      const rel = releaseSec('bass');
      for (let i = from; i < to; i++) {
        const t = (i - ev.start) / sr;
        const env = Math.min(1, t / 0.008) * Math.exp(-t / tau) * (t > held ? Math.max(0, 1 - (t - held) / rel) : 1);
        const s = (sinCycles(f * t) + 0.35 * sinCycles(2 * f * t) + 0.12 * v.brightness * sinCycles(3 * f * t)) * env;
        put(i, s * gl, s * gr);
      }
      return;
    }
    case 'pluck': {
      // Higher partials die faster, like a struck bar; decays advance by multiplication.
      const t0 = (from - ev.start) / sr;
      const rates = [8, 13, 18, 23];
      const amps = rates.map((_, k) => v.brightness ** k / (k + 1));
      const env = rates.map((rate) => Math.exp(-rate * t0));
      const step = rates.map((rate) => Math.exp(-rate / sr));
      for (let i = from; i < to; i++) {
        const t = (i - ev.start) / sr;
        let s = 0;
        for (let k = 0; k < 4; k++) {
          s += sinCycles(f * (k + 1) * t) * (amps[k] as number) * (env[k] as number);
          env[k] = (env[k] as number) * (step[k] as number);
        }
        s *= Math.min(1, t / 0.003);
        put(i, s * gl, s * gr);
      }
      return;
    }
    case 'kick':
    case 'tom': {
      const [base, sweep, tau, decay] = ev.instrument === 'kick' ? [48, 130, 0.035, 0.22] : [75, 90, 0.06, 0.35];
      for (let i = from; i < to; i++) {
        const t = (i - ev.start) / sr;
        const phase = base * t + sweep * tau * (1 - Math.exp(-t / tau));
        let s = sinCycles(phase) * Math.exp(-t / decay);
        if (ev.instrument === 'tom') s += 0.15 * hashNoise(ev.seed, i - ev.start) * Math.exp(-t / 0.03);
        s *= Math.min(1, t / 0.002);
        put(i, s * gl, s * gr);
      }
      return;
    }
    case 'snare':
    case 'clap':
    case 'hat': {
      for (let i = from; i < to; i++) {
        const n = i - ev.start;
        const t = n / sr;
        let s: number;
        if (ev.instrument === 'snare') s = 0.7 * hashNoise(ev.seed, n) * Math.exp(-t / 0.08) + 0.4 * sinCycles(185 * t) * Math.exp(-t / 0.05);
        else if (ev.instrument === 'clap') s = 0.8 * hashNoise(ev.seed, n) * (t < 0.03 ? Math.exp(-((t * 1000) % 10) / 3) : Math.exp(-(t - 0.03) / 0.07));
        // First difference of white noise: a cheap, stateless high-pass.
        else s = 0.5 * (hashNoise(ev.seed, n) - hashNoise(ev.seed, n - 1)) * Math.exp(-t / 0.035);
        s *= Math.min(1, t / 0.001);
        put(i, s * gl, s * gr);
      }
      return;
    }
  }
}
