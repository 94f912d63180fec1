/**
 * Port for a scene's picture from a provider: a generated image, a generated video clip, or stock
 * footage or a photo. `visualize` places it under the same titles, captions, logo and transitions
 * it draws for every scene: an image gets Ken Burns motion, a clip is trimmed or looped to the
 * scene's length and scaled and cropped to the frame.
 *
 * Adapters: procedural.adapter.ts (offline, default and last fallback: the storyboard's own look);
 * runway, veo, pexels, replicate and openai-images in this directory.
 */
import type { AspectRatio } from '../../contract/brief.js';
import type { Usage } from '../provider.js';

export interface VisualRequest {
  /** The scene this is for (`s1` …), for file names and messages. */
  sceneId: string;
  /** What the scene shows, written by the planner. */
  prompt: string;
  /** The look every scene shares (the storyboard's consistency markers), appended to generation prompts. */
  style: string;
  /** Search words for stock libraries. */
  keywords: string[];
  /** The scene's length on the timeline; a clip shorter than this is looped. */
  durationSec: number;
  width: number;
  height: number;
  aspectRatio: AspectRatio;
  seed: number;
  /** What the tier allows: a still or a clip (a provider that can make only one ignores it). */
  prefer: 'image' | 'video';
}

export interface Attribution {
  /** e.g. "Pexels", "Freesound". */
  source: string;
  author?: string;
  /** The page the media came from (not the file). */
  url?: string;
  /** e.g. "Pexels License", "CC BY 4.0". */
  licence: string;
}

export type VisualResult =
  | {
      kind: 'image' | 'video';
      /** The file, inside the directory the call was given. */
      path: string;
      width?: number;
      height?: number;
      /** Clips only. */
      durationSec?: number;
      attribution?: Attribution;
      /** What the vendor bills for this picture, e.g. { images: 1 } or { secondsOfVideo: 5 }. */
      usage: Usage;
    }
  /** The offline provider: keep the storyboard's own look (gradient or colour). */
  | { kind: 'planned'; usage: Usage };

/**
 * @example
 * const v = await visuals.generate({ sceneId: 's1', prompt: 'a solar backpack on a mountain trail', ... }, dir, signal);
 */
export interface VisualProvider {
  /** Provider id recorded in cost reports and cache keys, e.g. "runway:gen4_turbo". */
  readonly id: string;
  /** Anything else that changes what it makes (a second model for clips), for cache keys. */
  readonly variant?: string;
  generate(request: VisualRequest, dir: string, signal?: AbortSignal): Promise<VisualResult>;
  /** Seconds of video the vendor would bill for a clip of a scene this long (estimates); absent for providers that make no clips. */
  clipSeconds?(sceneSec: number): number;
}
