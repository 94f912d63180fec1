/**
 * Port for the "score" stage: a music bed of an exact length following a mood.
 * Adapters: procedural.adapter.ts (offline, default); a Suno adapter plugs in here later.
 */
import type { Mood } from '../../contract/brief.js';
import type { Usage } from '../provider.js';
import type { Attribution } from '../visuals/visual.port.js';

export interface MusicRequest {
  mood: Mood;
  /** What the video is about (title and first lines), for composers that take a text prompt. */
  brief?: string;
  /** Free-text music direction ("acoustic folk"), for composers that take a text prompt; it comes before the mood's own words. */
  style?: string;
  /** Exact length of the bed; the file holds exactly round(durationSec * sampleRate) frames. */
  durationSec: number;
  seed: number;
}

export interface MusicResult {
  /** Stereo 16-bit WAV at 48 kHz. */
  path: string;
  durationSec: number;
  tempoBpm: number;
  /** e.g. "C major", "A minor". */
  key: string;
  /** Chord symbols of the progression, e.g. ["C", "G", "Am", "F"]; empty when the vendor does not say. */
  progression: string[];
  /** What the vendor billed; absent for the offline composer. */
  usage?: Usage;
  attribution?: Attribution;
}

/**
 * @example
 * const bed = await composer.compose({ mood: 'uplifting', durationSec: 30, seed: 1 }, 'bed.wav');
 */
export interface MusicComposer {
  /** Provider id recorded in cost reports and cache keys, e.g. "procedural@1". */
  readonly id: string;
  compose(request: MusicRequest, outPath: string, signal?: AbortSignal): Promise<MusicResult>;
}
