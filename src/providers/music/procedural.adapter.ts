/**
 * The procedural composer: a music bed in the mood's key, tempo and progression, synthesised in
 * blocks and streamed to a WAV of exactly the requested length. Memory holds the note list (a few
 * thousand events for ten minutes), one block, and one rendered waveform per distinct note — the
 * same chord tones and drum hits recur all song long, so each is synthesised once and mixed in at
 * its velocity and pan. The song itself is never held whole.
 *
 * Given a SynthPool, the bed is made in a worker thread (a minute of music is about half a second
 * of CPU); without one, in the caller's thread, yielding between blocks.
 */
import { AppError } from '../../contract/errors.js';
import { SAMPLE_RATE, WavWriter } from '../../media/wav.js';
import { arrange } from './composer/arranger.js';
import { chordSymbol, keyName, moodParameters } from './composer/moods.js';
import { type NoteEvent, releaseSec, renderNote, type VoiceSettings } from './composer/voices.js';
import type { SynthPool } from '../synth/synth-pool.js';
import type { MusicComposer, MusicRequest, MusicResult } from './music.port.js';

const BLOCK = 8192;
/** Headroom: the moods' instrument levels sum to about -10 dBFS RMS; the bed sits near -16. */
const MASTER_GAIN = 0.5;

/** Gain envelope of the whole bed: fade in, fade out, both shorter for short beds. */
export function fadeGain(frame: number, total: number, sampleRate: number): number {
  const seconds = total / sampleRate;
  const fadeIn = Math.min(1, seconds / 6) * sampleRate;
  const fadeOut = Math.min(2, seconds / 4) * sampleRate;
  const g = Math.min(1, fadeIn > 0 ? frame / fadeIn : 1, fadeOut > 0 ? (total - frame) / fadeOut : 1);
  return Math.max(0, g);
}

/** Transparent below 0.6, then bends smoothly towards 0.95 so summed voices never clip. */
function limit(x: number): number {
  const a = Math.abs(x);
  return a <= 0.6 ? x : Math.sign(x) * (0.6 + 0.35 * Math.tanh((a - 0.6) / 0.35));
}

/** dst[i] += src[i - offset] * gain for i in [begin, end): the hot loop, kept monomorphic. */
function mixInto(
  dstL: Float64Array, dstR: Float64Array, srcL: Float32Array, srcR: Float32Array,
  begin: number, end: number, offset: number, gainL: number, gainR: number,
): void {
  for (let i = begin; i < end; i++) {
    const k = i - offset;
    dstL[i] += srcL[k]! * gainL;
    dstR[i] += srcR[k]! * gainR;
  }
}

/** Equal-power pan gains, 1 at the centre. */
function panGains(pan: number): [number, number] {
  const angle = ((pan + 1) * Math.PI) / 4;
  return [Math.cos(angle) * Math.SQRT2, Math.sin(angle) * Math.SQRT2];
}

/** One synthesised waveform per distinct (instrument, pitch, length, noise seed), centred, at velocity 1. */
class WaveCache {
  private readonly waves = new Map<string, { left: Float32Array; right: Float32Array }>();
  constructor(private readonly settings: VoiceSettings) {}

  get(ev: NoteEvent, frames: number): { left: Float32Array; right: Float32Array } {
    const key = `${ev.instrument}:${ev.midi}:${ev.length}:${ev.seed}`;
    let wave = this.waves.get(key);
    if (!wave) {
      const left = new Float64Array(frames);
      const right = new Float64Array(frames);
      renderNote({ ...ev, start: 0, velocity: 1, pan: 0 }, 0, frames, 0, left, right, this.settings);
      wave = { left: Float32Array.from(left), right: Float32Array.from(right) };
      this.waves.set(key, wave);
    }
    return wave;
  }
}

export class ProceduralComposer implements MusicComposer {
  readonly id = 'procedural@1';
  private readonly pool: SynthPool | undefined;

  constructor(options: { pool?: SynthPool } = {}) {
    this.pool = options.pool;
  }

  async compose(request: MusicRequest, outPath: string, signal?: AbortSignal): Promise<MusicResult> {
    if (this.pool) return this.pool.run('compose', { request, outPath }, signal);
    const params = moodParameters(request.mood);
    const total = Math.round(request.durationSec * SAMPLE_RATE);
    const { events, progression } = arrange(params, total, SAMPLE_RATE, request.seed);
    const settings: VoiceSettings = { sampleRate: SAMPLE_RATE, brightness: params.brightness, padHarmonics: params.pad.harmonics, bassStyle: params.bass.style };
    const ends = events.map((e) => e.start + e.length + Math.round(releaseSec(e.instrument) * SAMPLE_RATE));
    const waves = new WaveCache(settings);
    const writer = new WavWriter(outPath, { sampleRate: SAMPLE_RATE, channels: 2 });
    let next = 0; // first event not yet active
    let active: { ev: NoteEvent; end: number }[] = [];
    try {
      for (let from = 0; from < total; from += BLOCK) {
        if (signal?.aborted) throw new AppError('aborted', 'music composition was cancelled');
        const frames = Math.min(BLOCK, total - from);
        const to = from + frames;
        while (next < events.length && (events[next] as NoteEvent).start < to) {
          active.push({ ev: events[next] as NoteEvent, end: ends[next] as number });
          next++;
        }
        active = active.filter((a) => a.end > from);
        const left = new Float64Array(frames);
        const right = new Float64Array(frames);
        for (const { ev, end } of active) {
          const wave = waves.get(ev, end - ev.start);
          const [gl, gr] = panGains(ev.pan);
          mixInto(left, right, wave.left, wave.right, Math.max(from, ev.start) - from, Math.min(to, end) - from, ev.start - from, gl * ev.velocity, gr * ev.velocity);
        }
        const block = new Float32Array(frames * 2);
        for (let i = 0; i < frames; i++) {
          const g = fadeGain(from + i, total, SAMPLE_RATE) * MASTER_GAIN;
          block[i * 2] = limit((left[i] as number) * g);
          block[i * 2 + 1] = limit((right[i] as number) * g);
        }
        writer.write(block);
        // Let FFmpeg progress events and other stages run between blocks.
        if ((from / BLOCK) % 16 === 15) await new Promise((r) => setImmediate(r));
      }
    } finally {
      writer.close();
    }
    return {
      path: outPath,
      durationSec: total / SAMPLE_RATE,
      tempoBpm: params.tempoBpm,
      key: keyName(params),
      progression: progression.map((d) => chordSymbol(params, d)),
    };
  }
}
