/**
 * Where a scene's icon and extra images go, per frame size, inside the ratio's safe area and out
 * of the text's way. The text layout (pipeline/visual/text.ts) centres titles a little above the
 * middle of the safe area and sets captions on its bottom edge: an icon takes the band above the
 * title block, and images keep clear of the caption band at the bottom.
 */
import type { ImagePosition, SceneLayout, TitlePosition } from '../../contract/brief.js';
import type { SafeArea } from '../geometry.js';
import type { Rect } from '../record.js';

export interface Frame {
  width: number;
  height: number;
}

export interface IconContext {
  /** Whether the scene shows a title (its block is centred as the title position says). */
  hasTitle: boolean;
  titlePosition: TitlePosition;
  layout: SceneLayout;
  /** The title's starting font size (pipeline/visual/layout.ts titleStyle): the block is estimated from it. */
  titleSizePx: number;
  /** Where the logo sits, so a small corner icon takes another corner. */
  logoCorner?: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
}

const even = (n: number): number => 2 * Math.round(n / 2);

/** The safe area as a rectangle. */
export function safeRect(frame: Frame, safe: SafeArea): Rect {
  return { x: safe.left, y: safe.top, width: frame.width - safe.left - safe.right, height: frame.height - safe.top - safe.bottom };
}

/**
 * The icon's square, at rest. Over a centred title: centred in the band between the safe area's
 * top and the title block (estimated at two lines, the common case; a longer title is drawn
 * smaller by the text layout, so its block stays about as tall). With the title at the top: in the
 * middle of the frame below it. With the title low or no title: above the middle. Layouts whose
 * text fills the frame (list, counter, quote, end card) get a small icon in a top corner.
 */
export function iconRect(frame: Frame, safe: SafeArea, ctx: IconContext): Rect {
  const area = safeRect(frame, safe);
  const short = Math.min(frame.width, frame.height);
  const square = (size: number, cx: number, cy: number): Rect => {
    const s = even(size);
    const x = Math.round(Math.min(Math.max(cx - s / 2, area.x), area.x + area.width - s));
    const y = Math.round(Math.min(Math.max(cy - s / 2, area.y), area.y + area.height - s));
    return { x, y, width: s, height: s };
  };
  const cx = frame.width / 2;
  if (ctx.layout === 'list' || ctx.layout === 'counter' || ctx.layout === 'quote' || ctx.layout === 'end-card') {
    const size = Math.min(short * 0.12, area.width * 0.2);
    const left = ctx.logoCorner === 'top-right' || ctx.logoCorner === undefined;
    return square(size, left ? area.x + size / 2 : area.x + area.width - size / 2, area.y + size / 2);
  }
  if (ctx.hasTitle && ctx.layout === 'title' && ctx.titlePosition === 'center') {
    const block = 2 * Math.round(ctx.titleSizePx * 1.25);
    const titleTop = area.y + (area.height - block) * 0.42;
    const band = titleTop - area.y;
    const size = Math.min(band * 0.82, area.width * 0.3, short * 0.22);
    return square(size, cx, area.y + band / 2);
  }
  if (ctx.hasTitle && ctx.layout === 'title' && ctx.titlePosition === 'top') {
    const below = area.y + 2 * ctx.titleSizePx * 1.25 + short * 0.04;
    const band = area.y + area.height * 0.78 - below;
    const size = Math.min(band * 0.8, area.width * 0.3, short * 0.24);
    return square(size, cx, below + band / 2);
  }
  // No title, a title low on the frame, or a lower third: the icon is the scene's picture.
  const size = Math.min(area.height * 0.4, area.width * 0.34, short * 0.28);
  return square(size, cx, area.y + area.height * 0.36);
}

/**
 * The rectangles of a scene's images, in order, inside the safe area and above the caption band.
 * `pip` sits in the lower right corner above the captions (pip-left mirrors it), made smaller to
 * keep below the title block when `titleBottomPx` says where that ends, `left`/`right`
 * take half of the area (side by side on wide frames; on tall frames they stack as top and
 * bottom), `top`/`bottom` half of its height, `center` a large centred card, and all `grid`
 * images share a two-column grid.
 */
export function imageRects(frame: Frame, safe: SafeArea, positions: readonly ImagePosition[], captionBandPx: number, titleBottomPx?: number): Rect[] {
  const area = safeRect(frame, safe);
  const usable: Rect = { ...area, height: Math.max(area.height * 0.5, area.height - captionBandPx) };
  const short = Math.min(frame.width, frame.height);
  const gap = Math.round(short * 0.03);
  const portrait = frame.height > frame.width;
  // Floored to even sizes (the frame's chroma is subsampled), so a box never grows past its cell.
  const box = (x: number, y: number, w: number, h: number): Rect => ({ x: Math.round(x), y: Math.round(y), width: 2 * Math.floor(w / 2), height: 2 * Math.floor(h / 2) });
  const grid = positions.filter((p) => p === 'grid').length;
  let gridIndex = 0;
  return positions.map((position) => {
    switch (position) {
      case 'pip':
      case 'pip-left': {
        const aspect = portrait ? 1 : 0.75;
        // Between the title block and the captions when there is room for a picture of readable size.
        const room = titleBottomPx === undefined ? Infinity : usable.y + usable.height - titleBottomPx - gap;
        const w = Math.max(short * 0.24, Math.min(usable.width * (portrait ? 0.46 : frame.width === frame.height ? 0.4 : 0.32), room / aspect));
        const h = w * aspect;
        const x = position === 'pip' ? usable.x + usable.width - w : usable.x;
        return box(x, usable.y + usable.height - h, w, h);
      }
      case 'left':
      case 'right': {
        if (portrait) {
          const h = (usable.height - gap) / 2;
          return box(usable.x, position === 'left' ? usable.y : usable.y + h + gap, usable.width, h);
        }
        const w = (usable.width - gap) / 2;
        return box(position === 'left' ? usable.x : usable.x + w + gap, usable.y, w, usable.height);
      }
      case 'top':
      case 'bottom': {
        const h = (usable.height - gap) / 2;
        return box(usable.x, position === 'top' ? usable.y : usable.y + h + gap, usable.width, h);
      }
      case 'center': {
        const w = usable.width * 0.8;
        const h = Math.min(usable.height * 0.8, w * (portrait ? 1.25 : 0.5625));
        return box(usable.x + (usable.width - w) / 2, usable.y + (usable.height - h) / 2, w, h);
      }
      case 'grid': {
        const columns = grid === 1 ? 1 : 2;
        const rows = Math.ceil(grid / columns);
        const i = gridIndex++;
        const w = (usable.width - gap * (columns - 1)) / columns;
        const h = (usable.height - gap * (rows - 1)) / rows;
        return box(usable.x + (i % columns) * (w + gap), usable.y + Math.floor(i / columns) * (h + gap), w, h);
      }
    }
  });
}
