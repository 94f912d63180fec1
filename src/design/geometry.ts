/** Plain geometry shared by the layout code and the qa checks. */
import type { Rect } from './record.js';

export interface SafeArea {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Whether `inner` lies inside the frame's safe area (edges may touch it). */
export function insideSafeArea(rect: Rect, frame: { width: number; height: number }, safe: SafeArea): boolean {
  return rect.x >= safe.left && rect.y >= safe.top && rect.x + rect.width <= frame.width - safe.right && rect.y + rect.height <= frame.height - safe.bottom;
}

/** The area two rectangles share, in square pixels (0 when they do not overlap). */
export function overlapArea(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}
