/**
 * A scene's decoration: the layers drawn over its background and under its text — an icon chosen
 * from the scene's words, the scene's extra images (picture-in-picture, split, grid), shapes —
 * each prepared once as an image (cached) and animated by the segment's filter graph.
 */
import type { ResolvedBrief } from '../../contract/resolve.js';
import type { StoryboardScene } from '../../contract/storyboard.js';
import type { DesignElement } from '../../design/record.js';
import type { ImageLayer } from '../../media/args/segment.js';
import type { StageContext } from '../context.js';
import type { Look } from './looks.js';

export interface DecorRequest {
  scene: StoryboardScene;
  sceneIndex: number;
  /** Where the scene starts in the video and how long its picture moves (slot plus transitions). */
  startSec: number;
  motionSec: number;
  /** Whether a provider picture replaced the planned look (no icon over a photograph). */
  hasPicture: boolean;
  look: Look;
  brief: ResolvedBrief;
  baseDir: string;
}

export interface Decor {
  /** Layers in the scene's clock, drawn in order. */
  images: ImageLayer[];
  /** What the layers are, for the segment cache key (content, not paths). */
  key: string;
  /** The layers for the design record (absolute times). */
  elements: DesignElement[];
}

export async function prepareDecor(_req: DecorRequest, _ctx: StageContext): Promise<Decor> {
  return { images: [], key: '', elements: [] };
}
