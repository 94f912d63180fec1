/**
 * The part every cloud sound-effect library shares: fetch one sound per kind the stem needs (once
 * per kind within a stem), decode it to 48 kHz stereo, even out its level, and lay each placed
 * effect on a stem of exactly round(durationSec * 48000) frames at its time and gain. Only
 * `fetchEffect` is the vendor's (a Freesound search and preview, an ElevenLabs generation).
 *
 * The stem is written in blocks as the procedural library's is; the decoded sounds (a few seconds
 * each, one per kind) are the only audio held in memory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SFX_KINDS, type SfxKind } from '../../contract/brief.js';
import { AppError } from '../../contract/errors.js';
import { readWav, SAMPLE_RATE, WavWriter } from '../../media/wav.js';
import { vendorMediaError } from '../music/fit.js';
import type { ProviderMedia, Usage } from '../provider.js';
import type { Attribution } from '../visuals/visual.port.js';
import { softClip } from './procedural.adapter.js';
import type { SfxStemRequest, SfxStemResult, SoundEffectsLibrary } from './sfx.port.js';

const BLOCK = 8192;
/** Vendor sounds arrive at any level: each is scaled to this peak, near the procedural effects'. */
export const EFFECT_PEAK = 0.7;
/** Longest stretch of a vendor sound used: an effect, not a soundtrack. */
export const MAX_EFFECT_SEC = 6;
const EDGE_IN_SEC = 0.005;
const EDGE_OUT_SEC = 0.02;

export interface FetchedEffect {
  /** The vendor's file (any format FFmpeg reads). */
  path: string;
  attribution?: Attribution;
  usage: Usage;
}

/** A decoded effect: interleaved stereo at 48 kHz, level evened, edges faded so it never clicks. */
export interface EffectWave {
  samples: Float32Array;
  frames: number;
}

/** Peak-normalises and fades the edges of interleaved stereo samples, in place. */
export function shapeEffect(samples: Float32Array): EffectWave {
  const frames = samples.length / 2;
  let peak = 0;
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
  const scale = peak > 1e-4 ? EFFECT_PEAK / peak : 0;
  const fadeIn = Math.min(frames / 2, Math.round(EDGE_IN_SEC * SAMPLE_RATE));
  const fadeOut = Math.min(frames / 2, Math.round(EDGE_OUT_SEC * SAMPLE_RATE));
  for (let i = 0; i < frames; i++) {
    const edge = Math.min(1, fadeIn > 0 ? i / fadeIn : 1, fadeOut > 0 ? (frames - 1 - i) / fadeOut : 1);
    samples[i * 2] = (samples[i * 2] as number) * scale * edge;
    samples[i * 2 + 1] = (samples[i * 2 + 1] as number) * scale * edge;
  }
  return { samples, frames };
}

/**
 * Writes a stem of exactly round(durationSec * 48000) frames with each effect at its time and gain;
 * one that runs past the end is cut with a short fade. Returns how many were placed.
 */
export async function writeStem(request: SfxStemRequest, waves: ReadonlyMap<SfxKind, EffectWave>, outPath: string, signal?: AbortSignal): Promise<number> {
  const total = Math.round(request.durationSec * SAMPLE_RATE);
  const placed = request.effects
    .map((e) => ({ start: Math.round(e.atSec * SAMPLE_RATE), gain: e.gain, wave: waves.get(e.kind) }))
    .filter((e): e is { start: number; gain: number; wave: EffectWave } => e.wave !== undefined && e.start >= 0 && e.start < total);
  const fadeFrames = Math.round(EDGE_OUT_SEC * SAMPLE_RATE);
  const writer = new WavWriter(outPath, { sampleRate: SAMPLE_RATE, channels: 2 });
  try {
    for (let from = 0; from < total; from += BLOCK) {
      if (signal?.aborted) throw new AppError('aborted', 'effects rendering was cancelled');
      const frames = Math.min(BLOCK, total - from);
      const block = new Float32Array(frames * 2);
      for (const e of placed) {
        const len = e.wave.frames;
        if (e.start >= from + frames || e.start + len <= from) continue;
        const cutAt = total - e.start;
        for (let i = Math.max(from, e.start); i < Math.min(from + frames, e.start + len); i++) {
          const k = i - e.start;
          const tail = len > cutAt ? Math.min(1, (cutAt - k) / fadeFrames) : 1;
          const g = e.gain * tail;
          block[(i - from) * 2] = (block[(i - from) * 2] as number) + (e.wave.samples[k * 2] as number) * g;
          block[(i - from) * 2 + 1] = (block[(i - from) * 2 + 1] as number) + (e.wave.samples[k * 2 + 1] as number) * g;
        }
      }
      for (let i = 0; i < block.length; i++) block[i] = softClip(block[i] as number);
      writer.write(block);
      if ((from / BLOCK) % 64 === 63) await new Promise((r) => setImmediate(r));
    }
  } finally {
    writer.close();
  }
  return placed.length;
}

const sumUsage = (a: Usage, b: Usage): Usage => {
  const out: Usage = { ...a };
  for (const [unit, n] of Object.entries(b) as [keyof Usage, number][]) out[unit] = (out[unit] ?? 0) + n;
  return out;
};

/** A cloud library: the vendor supplies `fetchEffect`; stems, caching, decoding and credits are here. */
export abstract class VendorSfxLibrary implements SoundEffectsLibrary {
  abstract readonly id: string;
  protected abstract readonly provider: string;
  protected abstract readonly media: ProviderMedia;
  /** Longest a single effect (renderEffect, which has no caller's signal) may take. */
  protected abstract readonly timeoutMs: number;

  /** One sound of `kind`, chosen or generated deterministically from `seed`, written under `dir`. */
  protected abstract fetchEffect(kind: SfxKind, seed: number, dir: string, signal: AbortSignal): Promise<FetchedEffect>;

  kinds(): readonly SfxKind[] {
    return SFX_KINDS;
  }

  async renderEffect(kind: SfxKind, seed: number, outPath: string): Promise<{ path: string; durationSec: number }> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    await this.inWorkDir(outPath, async (dir) => {
      const fetched = await this.fetchEffect(kind, seed, dir, signal);
      await this.decode(fetched.path, outPath, signal);
    });
    const wav = readWav(outPath);
    return { path: outPath, durationSec: wav.samples.length / 2 / SAMPLE_RATE };
  }

  async renderStem(request: SfxStemRequest, outPath: string, signal: AbortSignal = new AbortController().signal): Promise<SfxStemResult> {
    if (signal.aborted) throw new AppError('aborted', 'effects rendering was cancelled');
    const total = Math.round(request.durationSec * SAMPLE_RATE);
    const needed = [...new Set(request.effects.filter((e) => e.atSec >= 0 && Math.round(e.atSec * SAMPLE_RATE) < total).map((e) => e.kind))];
    const waves = new Map<SfxKind, EffectWave>();
    const attributions: Attribution[] = [];
    let usage: Usage = {};
    await this.inWorkDir(outPath, async (dir) => {
      // One kind at a time, in a fixed order: the same stem asks the vendor the same things.
      for (const kind of needed) {
        const fetched = await this.fetchEffect(kind, request.seed, dir, signal);
        const wav = join(dir, `${kind}.wav`);
        await this.decode(fetched.path, wav, signal);
        waves.set(kind, shapeEffect(readWav(wav).samples));
        usage = sumUsage(usage, fetched.usage);
        if (fetched.attribution && !attributions.some((a) => a.url === fetched.attribution?.url)) attributions.push(fetched.attribution);
      }
    });
    const effectsPlaced = await writeStem(request, waves, outPath, signal);
    return { path: outPath, durationSec: total / SAMPLE_RATE, effectsPlaced, usage, attributions };
  }

  /** The vendor's file as 48 kHz stereo WAV, at most MAX_EFFECT_SEC long. */
  private async decode(input: string, output: string, signal: AbortSignal): Promise<void> {
    try {
      await this.media.ffmpeg(['-hide_banner', '-nostdin', '-y', '-t', String(MAX_EFFECT_SEC), '-i', input, '-vn', '-ac', '2', '-ar', String(SAMPLE_RATE), '-c:a', 'pcm_s16le', '-f', 'wav', output], { signal, timeoutSec: 60 });
    } catch (error) {
      if (signal.aborted) throw new AppError('aborted', 'effects rendering was cancelled', { cause: error });
      throw vendorMediaError(this.provider, 'the sound could not be decoded', error);
    }
  }

  private async inWorkDir(outPath: string, fn: (dir: string) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(join(dirname(outPath), `.${this.provider}-`));
    try {
      await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
