/**
 * A scene's decoration: the layers drawn over its background and under its text — an icon chosen
 * from the scene's words, the scene's extra images (picture-in-picture, split, grid) — each
 * prepared once as an image (cached) and animated by the segment's filter graph: it rises and
 * fades in, then keeps floating gently, so a scene never holds still.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImagePosition } from '../../contract/brief.js';
import { AppError } from '../../contract/errors.js';
import type { ResolvedBrief } from '../../contract/resolve.js';
import type { StoryboardScene } from '../../contract/storyboard.js';
import { scenePalette } from '../../design/backgrounds/palette.js';
import { framedImageSvg, framePad, illustrationSvg } from '../../design/illustrations/art.js';
import { chooseIcon, iconExists } from '../../design/illustrations/icons.js';
import { iconRect, imageRects } from '../../design/illustrations/placement.js';
import { renderSvg } from '../../design/illustrations/render.js';
import type { DesignElement, Rect } from '../../design/record.js';
import { buildPrepareLayerArgs } from '../../media/args/image.js';
import type { ImageLayer } from '../../media/args/segment.js';
import { deriveSeed } from '../../lib/random.js';
import type { StageContext } from '../context.js';
import { mediaName } from '../media-identity.js';
import { resolveAsset } from '../preflight.js';
import { captionStyle, safeArea, titleStyle } from './layout.js';
import type { Look } from './looks.js';

export interface DecorRequest {
  scene: StoryboardScene;
  sceneIndex: number;
  /** Where the scene starts in the video and how long its picture moves (slot plus transitions). */
  startSec: number;
  motionSec: number;
  /** The length of the transitions at the scene's edges (half of each lies outside its slot). */
  transitionSec?: number;
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

/** When layers enter (scene seconds) and how long their entrance takes, per the design's motion style. */
const PACE = {
  calm: { enter: 0.45, fade: 0.9, stagger: 0.5, float: 5.2 },
  smooth: { enter: 0.35, fade: 0.6, stagger: 0.35, float: 4.2 },
  energetic: { enter: 0.2, fade: 0.4, stagger: 0.25, float: 3.4 },
  punchy: { enter: 0.15, fade: 0.3, stagger: 0.2, float: 3 },
} as const;

const f3 = (n: number): string => String(Math.round(n * 1000) / 1000);

/**
 * overlay x/y expressions of a layer that arrives from an offset (`dx`, `dy` pixels) along an
 * ease-out curve over `durSec` from `fromSec`, then drifts around its place by `float` pixels on a
 * slow sine (`periodSec`), so the layer is never still.
 */
export function motionExpressions(rect: { x: number; y: number }, entrance: { fromSec: number; durSec: number; dx: number; dy: number }, float: { px: number; periodSec: number; phase: number }): { x: string; y: string } {
  const p = `clip((t-${f3(entrance.fromSec)})/${f3(entrance.durSec)},0,1)`;
  const rest = `(1-${p})*(1-${p})`;
  const w = `2*PI*t/${f3(float.periodSec)}`;
  const x = `${rect.x}${entrance.dx ? `+${f3(entrance.dx)}*${rest}` : ''}${float.px ? `+${f3(float.px * 0.6)}*cos(${w}*0.7+${f3(float.phase)})` : ''}`;
  const y = `${rect.y}${entrance.dy ? `+${f3(entrance.dy)}*${rest}` : ''}${float.px ? `+${f3(float.px)}*sin(${w}+${f3(float.phase)})` : ''}`;
  return { x, y };
}

export async function prepareDecor(req: DecorRequest, ctx: StageContext): Promise<Decor> {
  const { scene, brief } = req;
  const frame = { width: brief.width, height: brief.height };
  const safe = safeArea(brief.width, brief.height, brief.aspectRatio);
  const short = Math.min(brief.width, brief.height);
  const pace = PACE[brief.design.motion];
  const halfTransition = (req.transitionSec ?? 0) / 2;
  // Visible until the scene has handed over to the next (the layer itself may run on in the clock).
  const endLocal = Math.max(0.5, req.motionSec - halfTransition);
  const images: ImageLayer[] = [];
  const elements: DesignElement[] = [];
  const keyParts: unknown[] = [];

  const add = (kind: 'icon' | 'image', path: string, unitKey: string, rect: Rect, pad: number, fromSec: number, toSec: number, dx: number, dy: number, phase: number): void => {
    const motion = motionExpressions(
      { x: rect.x - pad, y: rect.y - pad },
      { fromSec, durSec: pace.fade * 1.2, dx, dy },
      { px: Math.max(2, Math.round(short * (kind === 'icon' ? 0.012 : 0.005))), periodSec: pace.float, phase },
    );
    const layer: ImageLayer = { path, x: motion.x, y: motion.y, fromSec, toSec, fadeInSec: pace.fade, fadeOutSec: 0 };
    images.push(layer);
    keyParts.push({ ...layer, path: unitKey });
    elements.push({ kind, sceneId: scene.id, rect, fromSec: round3(req.startSec + fromSec), toSec: round3(req.startSec + Math.min(toSec, endLocal)) });
  };

  // The extra images first: the icon is left out of a scene that has them.
  const specs = scene.images ?? [];
  if (specs.length > 0) {
    const captionBand = brief.captions !== false && brief.captions.burnIn ? Math.round(captionStyle(brief.width, brief.height, false).fontSize * 1.6 * 2 + short * 0.03) : 0;
    // The bottom of a centred title block (two lines, as the text layout places it), for a picture-in-picture to keep below.
    const titleSize = titleStyle(brief.width, brief.height, scene.title ?? '').fontSize;
    const block = 2 * Math.round(titleSize * 1.25);
    const titleBottom = scene.title && (scene.layout ?? 'title') === 'title' && brief.design.titlePosition === 'center'
      ? Math.round(safe.top + (brief.height - safe.top - safe.bottom - block) * 0.42 + block)
      : undefined;
    const rects = imageRects(frame, safe, specs.map((s) => s.position ?? 'pip'), captionBand, titleBottom);
    for (const [m, spec] of specs.entries()) {
      const rect = rects[m] as Rect;
      const field = brief.source.kind === 'scenes' ? `scenes.${req.sceneIndex}.images.${m}.src` : `storyboard.scenes.${req.sceneIndex}.images.${m}.src`;
      const prepared = await prepareImage(resolveAsset(req.baseDir, spec.src), field, rect, ctx);
      const fromSec = spec.fromSec ?? pace.enter + 0.15 + m * pace.stagger;
      const toSec = spec.toSec !== undefined && spec.toSec > fromSec ? spec.toSec : req.motionSec;
      const { dx, dy } = entranceFrom(spec.position ?? 'pip', short);
      add('image', prepared.path, prepared.key, rect, prepared.pad, fromSec, toSec, dx, dy, m * 1.3);
    }
  }

  const icon = pickIcon(req, ctx, specs.length > 0);
  if (icon) {
    const layout = scene.layout ?? 'title';
    const rect = iconRect(frame, safe, {
      hasTitle: Boolean(scene.title),
      titlePosition: brief.design.titlePosition,
      layout,
      titleSizePx: titleStyle(brief.width, brief.height, scene.title ?? '').fontSize,
      ...(brief.brand?.logo ? { logoCorner: brief.brand.position } : {}),
    });
    const colors = req.look.palette ?? scenePalette(req.look.backdrop.length > 0 ? req.look.backdrop : ['#0f172a', '#1e293b'], brief.design.palette);
    const unit = await ctx.deps.cache.memo('icon', { name: icon, size: rect.width, color: colors.accent, plate: colors.plate, v: 1 }, async (dir) => {
      const path = join(dir, 'icon.png');
      writeFileSync(path, renderSvg(illustrationSvg(icon, rect.width, colors.accent, colors.plate), rect.width).png);
      return { path };
    }, { signal: ctx.signal, note: (m) => ctx.note(m) });
    ctx.unit(unit.hit);
    add('icon', unit.value.path, unit.key, rect, 0, pace.enter, req.motionSec, 0, Math.round(short * 0.05), 0);
    elements[elements.length - 1] = { ...(elements[elements.length - 1] as DesignElement), text: icon, color: colors.accent };
  }

  const key = keyParts.length > 0 ? createHash('sha256').update(JSON.stringify(keyParts)).digest('hex').slice(0, 32) : '';
  return { images, key, elements };
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** Images slide in from the side they sit on (a picture-in-picture from below). */
function entranceFrom(position: ImagePosition, short: number): { dx: number; dy: number } {
  const d = Math.round(short * 0.06);
  switch (position) {
    case 'left':
    case 'pip-left':
      return { dx: -d, dy: 0 };
    case 'right':
      return { dx: d, dy: 0 };
    case 'top':
      return { dx: 0, dy: -d };
    case 'bottom':
    case 'center':
    case 'grid':
    case 'pip':
      return { dx: 0, dy: d };
  }
}

/**
 * The scene's icon: the one it names, else one chosen from its words — only in a scene drawn
 * offline (a colour or gradient, no provider picture, no extra images) and when the design allows
 * illustrations. An icon name the set does not have is noted and replaced by a chosen one.
 */
function pickIcon(req: DecorRequest, ctx: StageContext, hasImages: boolean): string | undefined {
  const { scene, brief } = req;
  if (scene.icon === false || !brief.design.illustrations) return undefined;
  if (req.hasPicture || (scene.visual.type !== 'color' && scene.visual.type !== 'gradient')) return undefined;
  if (typeof scene.icon === 'string') {
    if (iconExists(scene.icon)) return scene.icon;
    ctx.note(`scene ${scene.id}: no icon named "${scene.icon}"; one is chosen from the scene's words`);
  }
  const layout = scene.layout ?? 'title';
  // A scene whose text fills the frame, or that shows images, gets an icon only when it names one.
  if (hasImages || (layout !== 'title' && layout !== 'lower-third')) return undefined;
  return chooseIcon({ keywords: scene.keywords, ...(scene.title ? { title: scene.title } : {}), narration: scene.narration }, deriveSeed(brief.seed, 'icon', req.sceneIndex));
}

/** An extra image scaled and cropped to its cell and framed (rounded corners, border, shadow), once. */
async function prepareImage(src: string, field: string, rect: Rect, ctx: StageContext): Promise<{ path: string; key: string; pad: number }> {
  const unreadable = (error?: unknown): AppError =>
    new AppError('asset_unreadable', `${field}: ${src} is not a readable image`, {
      ...(error ? { cause: error } : {}),
      details: [{ path: field, message: 'give a PNG, JPEG or WebP image that opens in an image viewer' }],
    });
  let content: string;
  try {
    content = await mediaName(src);
  } catch (error) {
    throw unreadable(error);
  }
  const pad = framePad(rect.width, rect.height);
  const unit = await ctx.deps.cache.memo('layer', { src: content, width: rect.width, height: rect.height, frame: 1 }, async (dir) => {
    const probed = await ctx.deps.media.probe(src, ctx.signal).catch((error: unknown) => {
      throw unreadable(error);
    });
    if (!probed.video) throw unreadable();
    const cell = join(dir, 'cell.png');
    await ctx.deps.media.ffmpeg(buildPrepareLayerArgs(src, cell, rect), { signal: ctx.signal, timeoutSec: 120 }).catch((error: unknown) => {
      throw unreadable(error);
    });
    const path = join(dir, 'layer.png');
    writeFileSync(path, renderSvg(framedImageSvg(readFileSync(cell).toString('base64'), rect.width, rect.height), rect.width + 2 * pad).png);
    return { path };
  }, { signal: ctx.signal, note: (m) => ctx.note(m), refs: { [content]: src } });
  ctx.unit(unit.hit);
  return { path: unit.value.path, key: unit.key, pad };
}
