/**
 * Port for the "foley" stage: a library of sound effects and a renderer that lays them on a
 * timeline. Adapters: procedural.adapter.ts (offline, default); Freesound plugs in here later.
 */
import type { SfxKind } from '../../contract/brief.js';
import type { Usage } from '../provider.js';
import type { Attribution } from '../visuals/visual.port.js';

export interface PlacedEffect {
  kind: SfxKind;
  /** Seconds from the start of the video. */
  atSec: number;
  /** Linear gain, 1 = the library's default level. */
  gain: number;
}

export interface SfxStemRequest {
  effects: PlacedEffect[];
  /** Exact stem length; effects running past the end are cut with a short fade. */
  durationSec: number;
  seed: number;
}

export interface SfxStemResult {
  /** Stereo 16-bit WAV at 48 kHz, exactly round(durationSec * 48000) frames. */
  path: string;
  durationSec: number;
  effectsPlaced: number;
  /** What the vendor billed; absent for the offline library. */
  usage?: Usage;
  /** Credits for the sounds used (Freesound's licences). */
  attributions?: Attribution[];
}

/**
 * @example
 * await library.renderStem({ effects: [{ kind: 'whoosh', atSec: 4.5, gain: 1 }], durationSec: 30, seed: 1 }, 'sfx.wav');
 */
export interface SoundEffectsLibrary {
  /** Provider id recorded in cost reports and cache keys, e.g. "procedural-sfx@1". */
  readonly id: string;
  kinds(): readonly SfxKind[];
  /** One effect alone, for previews and `aiprod doctor`. */
  renderEffect(kind: SfxKind, seed: number, outPath: string): Promise<{ path: string; durationSec: number }>;
  renderStem(request: SfxStemRequest, outPath: string, signal?: AbortSignal): Promise<SfxStemResult>;
}
