/**
 * The design record: every element the visualize stage placed on the frame — titles, captions,
 * list items, counters, images, icons, the logo — with its box in pixels, its time window in the
 * video and, for text, its colour and what sits right behind it. The qa stage checks it (contrast,
 * safe area, overlap) without decoding a frame; design.json is it as delivered.
 */
import type { SafeArea } from './geometry.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DESIGN_ELEMENT_KINDS = ['title', 'subtitle', 'caption', 'lower-third', 'item', 'counter', 'quote', 'end-card', 'image', 'icon', 'logo'] as const;
export type DesignElementKind = (typeof DESIGN_ELEMENT_KINDS)[number];

export interface DesignElement {
  kind: DesignElementKind;
  /** The storyboard scene it belongs to (captions: the scene whose narration they show). */
  sceneId: string;
  /** For text: what it says (one line, or one word of a per-word layer). */
  text?: string;
  /** Where it is drawn, in pixels of the output frame, at rest (after its entrance). */
  rect: Rect;
  /** When it is visible, in seconds of the whole video. */
  fromSec: number;
  toSec: number;
  /** Text colour, "#rrggbb". */
  color?: string;
  /** A box drawn right behind the text (a caption box, a lower-third bar, a scrim). */
  box?: { color: string; opacity: number };
  /** The text's outline. */
  outline?: { color: string; px: number };
  /**
   * Colours of the background under `rect` ("#rrggbb"): the palette colours of a drawn look, or
   * the darkest and lightest cells measured on an image or a video's first frame.
   */
  backdrop?: string[];
}

export interface DesignRecord {
  width: number;
  height: number;
  safe: SafeArea;
  elements: DesignElement[];
}
