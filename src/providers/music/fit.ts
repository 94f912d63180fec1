/**
 * A vendor's track fitted to the video's length, with FFmpeg: the port promises a stereo 16-bit
 * 48 kHz WAV of exactly round(durationSec * 48000) frames, and vendors return whatever length they
 * like (Suno two to four minutes, ElevenLabs within its limits).
 *
 * - Longer than needed: cut, with a short fade-out so the bed does not stop mid-note.
 * - Shorter: played again and again, each seam an equal-power cross-fade (the end of one pass is
 *   uncorrelated with the start of the next, so equal power keeps the level), then cut and faded.
 *
 * The track is resampled first, so frame counts are counted at 48 kHz, not the vendor's rate.
 * The arguments are built by pure functions (tested as arrays); `fitTrack` runs them.
 *
 * @example
 *   await fitTrack(context.media, 'suno.mp3', 'bed.wav', { durationSec: 42.5 }, signal);
 */
import { rm } from 'node:fs/promises';
import { AppError } from '../../contract/errors.js';
import { toWav } from '../audio-files.js';
import { ProviderError } from '../provider-error.js';
import type { Attribution } from '../visuals/visual.port.js';
import type { MusicResult } from './music.port.js';
import type { ProviderContext, ProviderMedia, Usage } from '../provider.js';

export const FIT_SAMPLE_RATE = 48_000;
/** Cross-fade at each loop seam, shortened for short tracks. */
const CROSSFADE_SEC = 2;
/** Fade at the very end of the bed, shortened for short beds. */
const FADE_OUT_SEC = 1.5;

export interface FitOptions {
  durationSec: number;
  crossfadeSec?: number;
  fadeOutSec?: number;
}

export interface FitResult {
  path: string;
  durationSec: number;
  /** How long the vendor's track was. */
  sourceSec: number;
  /** How many passes of the track the bed holds (1: cut only). */
  passes: number;
}

const OUTPUT = (output: string): string[] => ['-ac', '2', '-ar', String(FIT_SAMPLE_RATE), '-c:a', 'pcm_s16le', '-f', 'wav', output];

/** Exact length at 48 kHz, then the fade-out over the last `fadeFrames` frames. */
function endFilters(frames: number, fadeFrames: number): string[] {
  const fade = fadeFrames > 0 ? [`afade=t=out:ss=${frames - fadeFrames}:ns=${fadeFrames}`] : [];
  return [`atrim=end_sample=${frames}`, `apad=whole_len=${frames}`, ...fade];
}

/** The track cut to `frames` frames at 48 kHz stereo, faded out at the end. */
export function trimArgs(input: string, output: string, frames: number, fadeFrames: number): string[] {
  const filters = [`aresample=${FIT_SAMPLE_RATE}`, 'aformat=channel_layouts=stereo', ...endFilters(frames, fadeFrames)];
  return ['-hide_banner', '-nostdin', '-y', '-i', input, '-vn', '-af', filters.join(','), ...OUTPUT(output)];
}

/**
 * `passes` copies of a 48 kHz stereo WAV joined by `crossfadeSec` cross-fades. Each pass is its own
 * input (decoded as it is needed), so memory does not grow with the passes. The join is cut in a
 * second run (`trimArgs`): an `atrim` that ends the graph while `acrossfade` still holds frames
 * crashes some FFmpeg builds (the 4.1 static build segfaults).
 */
export function loopArgs(input: string, output: string, passes: number, crossfadeSec: number): string[] {
  const inputs = Array.from({ length: passes }, () => ['-i', input]).flat();
  const graph: string[] = [];
  let last = '[0:a]';
  for (let i = 1; i < passes; i++) {
    const label = `[x${i}]`;
    graph.push(`${last}[${i}:a]acrossfade=d=${crossfadeSec.toFixed(3)}:c1=qsin:c2=qsin${label}`);
    last = label;
  }
  graph.push(`${last}anull[out]`);
  return ['-hide_banner', '-nostdin', '-y', ...inputs, '-filter_complex', graph.join(';'), '-map', '[out]', ...OUTPUT(output)];
}

/** Passes of a `sourceSec` track, seams `crossfadeSec` long, needed to cover `targetSec`. */
export function passesFor(sourceSec: number, targetSec: number, crossfadeSec: number): number {
  if (sourceSec >= targetSec) return 1;
  return 1 + Math.ceil((targetSec - sourceSec) / (sourceSec - crossfadeSec));
}

export async function fitTrack(media: ProviderMedia, input: string, output: string, options: FitOptions, signal?: AbortSignal): Promise<FitResult> {
  const frames = Math.round(options.durationSec * FIT_SAMPLE_RATE);
  const targetSec = frames / FIT_SAMPLE_RATE;
  const fadeFrames = Math.round(Math.min(options.fadeOutSec ?? FADE_OUT_SEC, targetSec / 4) * FIT_SAMPLE_RATE);
  const sourceSec = (await media.probe(input, signal)).durationSec;
  if (!(sourceSec > 0.1)) throw new AppError('invalid_request', `the track to fit is empty (${sourceSec} s)`);
  if (sourceSec >= targetSec) {
    await media.ffmpeg(trimArgs(input, output, frames, fadeFrames), { signal, timeoutSec: 300 });
    return { path: output, durationSec: targetSec, sourceSec, passes: 1 };
  }
  // Decoded once to the port's format, so each pass reads plain PCM and seams land on whole frames.
  const pcm = `${output}.pass.wav`;
  const joined = `${output}.loop.wav`;
  try {
    await toWav(media, input, pcm, { channels: 2, sampleRate: FIT_SAMPLE_RATE }, signal);
    const crossfadeSec = Math.min(options.crossfadeSec ?? CROSSFADE_SEC, sourceSec / 4);
    const passes = passesFor(sourceSec, targetSec, crossfadeSec);
    await media.ffmpeg(loopArgs(pcm, joined, passes, crossfadeSec), { signal, timeoutSec: 600 });
    await media.ffmpeg(trimArgs(joined, output, frames, fadeFrames), { signal, timeoutSec: 300 });
    return { path: output, durationSec: targetSec, sourceSec, passes };
  } finally {
    await Promise.all([rm(pcm, { force: true }), rm(joined, { force: true })]);
  }
}

/** Failures that are the machine's or the render's, not the vendor's: passed on as they are. */
const OURS = new Set(['aborted', 'resource_exhausted', 'insufficient_storage', 'ffmpeg_missing']);

/**
 * What a failure to download or decode a vendor's audio means for the chain: the render stopping
 * stays itself; anything else is the vendor's answer being unusable (`provider_bad_response`).
 */
export function vendorMediaError(provider: string, what: string, error: unknown): AppError {
  if (error instanceof ProviderError) return error;
  if (error instanceof AppError && OURS.has(error.code)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderError('provider_bad_response', provider, `${what}: ${message}`, { cause: error });
}

/** Downloads a vendor's audio file through the context's SSRF-safe downloader; failures as ProviderErrors. */
export async function downloadAudio(context: ProviderContext, provider: string, url: string, dir: string, signal: AbortSignal): Promise<string> {
  try {
    return (await context.download(url, { dir, kinds: ['audio'], signal })).path;
  } catch (error) {
    if (signal.aborted) throw new AppError('aborted', 'the render was cancelled', { cause: error });
    throw vendorMediaError(provider, 'the audio could not be downloaded', error);
  }
}

/** Fits a vendor track, with decode failures reported as the vendor's. */
export async function fitVendorTrack(context: ProviderContext, provider: string, input: string, output: string, options: FitOptions, signal: AbortSignal): Promise<FitResult> {
  try {
    return await fitTrack(context.media, input, output, options, signal);
  } catch (error) {
    if (signal.aborted) throw new AppError('aborted', 'the render was cancelled', { cause: error });
    throw vendorMediaError(provider, 'the track could not be decoded', error);
  }
}

/** A fitted vendor track as the port's result: vendors say nothing of tempo, key or chords. */
export function vendorTrackResult(fitted: FitResult, usage: Usage, attribution: Attribution): MusicResult {
  return { path: fitted.path, durationSec: fitted.durationSec, tempoBpm: 0, key: 'unknown', progression: [], usage, attribution };
}
