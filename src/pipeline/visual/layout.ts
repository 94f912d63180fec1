/**
 * Where text goes: safe areas per aspect ratio (vertical video keeps clear of the platform's
 * buttons and captions at the bottom) and starting font sizes from the frame's short side; the
 * lines themselves are laid out by design/text-layout.ts.
 */
import type { AspectRatio } from '../../contract/brief.js';
import type { SafeArea } from '../../design/geometry.js';

export type { SafeArea };

const MARGINS: Record<AspectRatio, { x: number; top: number; bottom: number }> = {
  '16:9': { x: 0.06, top: 0.08, bottom: 0.1 },
  '9:16': { x: 0.07, top: 0.12, bottom: 0.22 },
  '1:1': { x: 0.06, top: 0.08, bottom: 0.12 },
  '4:5': { x: 0.06, top: 0.08, bottom: 0.14 },
};

export function safeArea(width: number, height: number, aspectRatio: AspectRatio): SafeArea {
  const m = MARGINS[aspectRatio];
  return {
    left: Math.round(width * m.x),
    right: Math.round(width * m.x),
    top: Math.round(height * m.top),
    bottom: Math.round(height * m.bottom),
  };
}

/** The size text starts at; design/text-layout.ts lays it out (measured, balanced, lowered to fit). */
export interface TextStyle {
  fontSize: number;
}

export function titleStyle(width: number, height: number, text: string): TextStyle {
  const short = Math.min(width, height);
  const factor = text.length <= 24 ? 0.085 : text.length <= 60 ? 0.068 : 0.052;
  return { fontSize: Math.round(short * factor) };
}

export function captionStyle(width: number, height: number, minimal: boolean): TextStyle {
  const short = Math.min(width, height);
  const factor = (width < height ? 0.058 : 0.048) * (minimal ? 0.85 : 1);
  return { fontSize: Math.round(short * factor) };
}
