/**
 * Procedural sound effects, synthesised offline from seeded recipes (synth/recipes.ts). A stem is
 * written in blocks: each block sums the parts of the effects that overlap it, so a 10-minute stem
 * holds only one block and the (short) effects in memory.
 *
 * Given a SynthPool, stems are rendered in a worker thread (thirty effects over a minute take most
 * of a second of CPU, mostly before the first block); without one, in the caller's thread.
 */
import type { SfxKind } from '../../contract/brief.js';
import { SFX_KINDS } from '../../contract/brief.js';
import { AppError } from '../../contract/errors.js';
import { createRandom, deriveSeed } from '../../lib/random.js';
import { SAMPLE_RATE, WavWriter } from '../../media/wav.js';
import type { SynthPool } from '../synth/synth-pool.js';
import type { SfxStemRequest, SfxStemResult, SoundEffectsLibrary } from './sfx.port.js';
import { DESCRIPTIONS, RECIPES } from './synth/recipes.js';
import type { Stereo } from './synth/dsp.js';

const BLOCK = 8192;
const END_FADE_SEC = 0.02;

/** The library's effects with a line each, for `aiprod doctor` and listings. */
export function describeEffects(): { kind: SfxKind; description: string }[] {
  return SFX_KINDS.map((kind) => ({ kind, description: DESCRIPTIONS[kind] }));
}

export class ProceduralSfxLibrary implements SoundEffectsLibrary {
  readonly id = 'procedural-sfx@1';
  private readonly pool: SynthPool | undefined;

  constructor(options: { pool?: SynthPool } = {}) {
    this.pool = options.pool;
  }

  kinds(): readonly SfxKind[] {
    return SFX_KINDS;
  }

  /** One effect, seeded by the stem seed, its kind and its position in the stem. */
  synthesize(kind: SfxKind, seed: number, occurrence = 0): Stereo {
    return RECIPES[kind](createRandom(deriveSeed(seed, 'sfx', kind, occurrence)), SAMPLE_RATE);
  }

  async renderEffect(kind: SfxKind, seed: number, outPath: string): Promise<{ path: string; durationSec: number }> {
    const fx = this.synthesize(kind, seed);
    const writer = new WavWriter(outPath, { sampleRate: SAMPLE_RATE, channels: 2 });
    try {
      writer.write(interleave(fx, 0, fx.left.length));
    } finally {
      writer.close();
    }
    return { path: outPath, durationSec: fx.left.length / SAMPLE_RATE };
  }

  async renderStem(request: SfxStemRequest, outPath: string, signal?: AbortSignal): Promise<SfxStemResult> {
    if (signal?.aborted) throw new AppError('aborted', 'effects rendering was cancelled');
    if (this.pool) return this.pool.run('sfxStem', { request, outPath }, signal);
    const total = Math.round(request.durationSec * SAMPLE_RATE);
    const placed = request.effects
      .map((e, i) => ({ ...e, start: Math.round(e.atSec * SAMPLE_RATE), fx: this.synthesize(e.kind, request.seed, i) }))
      .filter((e) => e.start < total && e.start >= 0)
      .sort((a, b) => a.start - b.start);
    const fadeFrames = Math.round(END_FADE_SEC * SAMPLE_RATE);
    const writer = new WavWriter(outPath, { sampleRate: SAMPLE_RATE, channels: 2 });
    try {
      for (let from = 0; from < total; from += BLOCK) {
        if (signal?.aborted) throw new AppError('aborted', 'effects rendering was cancelled');
        const frames = Math.min(BLOCK, total - from);
        const block = new Float32Array(frames * 2);
        for (const e of placed) {
          const len = e.fx.left.length;
          if (e.start >= from + frames || e.start + len <= from) continue;
          const cutAt = total - e.start; // frames of this effect that fit before the stem ends
          for (let i = Math.max(from, e.start); i < Math.min(from + frames, e.start + len); i++) {
            const k = i - e.start;
            const tail = len > cutAt ? Math.min(1, (cutAt - k) / fadeFrames) : 1;
            block[(i - from) * 2] = (block[(i - from) * 2] as number) + (e.fx.left[k] as number) * e.gain * tail;
            block[(i - from) * 2 + 1] = (block[(i - from) * 2 + 1] as number) + (e.fx.right[k] as number) * e.gain * tail;
          }
        }
        // Overlapping effects can sum past full scale: a soft clip keeps them from hard-clipping.
        for (let i = 0; i < block.length; i++) block[i] = softClip(block[i] as number);
        writer.write(block);
        if ((from / BLOCK) % 64 === 63) await new Promise((r) => setImmediate(r));
      }
    } finally {
      writer.close();
    }
    return { path: outPath, durationSec: total / SAMPLE_RATE, effectsPlaced: placed.length };
  }
}

/** Linear below 0.8, then bends smoothly towards 1: single effects pass untouched. */
export function softClip(x: number): number {
  const a = Math.abs(x);
  return a <= 0.8 ? x : Math.sign(x) * (0.8 + 0.2 * Math.tanh((a - 0.8) / 0.2));
}

function interleave(buf: Stereo, from: number, to: number): Float32Array {
  const out = new Float32Array((to - from) * 2);
  for (let i = from; i < to; i++) {
    out[(i - from) * 2] = buf.left[i] as number;
    out[(i - from) * 2 + 1] = buf.right[i] as number;
  }
  return out;
}
