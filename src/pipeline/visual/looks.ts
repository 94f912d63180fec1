/**
 * A scene's background, prepared once and cached: a designed background (a gradient or a colour
 * drawn with shapes, a pattern or particles) rendered as an image, a user image scaled for Ken
 * Burns motion, or a probed video. Every look says which colours text will sit on (`backdrop`):
 * the colours drawn, or cells measured on the image or the video's first frame.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackgroundStyle, Palette, Visual } from '../../contract/brief.js';
import { AppError } from '../../contract/errors.js';
import { duotoneColors, scenePalette, type ScenePalette } from '../../design/backgrounds/palette.js';
import { backgroundSvg, withClouds } from '../../design/backgrounds/svg.js';
import { relativeLuminance, toHex } from '../../design/contrast.js';
import { renderSvgAsync } from '../../design/illustrations/render.js';
import { buildBackdropCellsArgs, BACKDROP_GRID, buildPrepareStillArgs } from '../../media/args/image.js';
import { overscanSize, type Background, type Motion } from '../../media/args/segment.js';
import { createRandom, deriveSeed } from '../../lib/random.js';
import type { StageContext } from '../context.js';
import { mediaName } from '../media-identity.js';
import { resolveAsset } from '../preflight.js';

/**
 * Designed backgrounds are drawn at half the overscan size: soft shapes and clouds scale up
 * without visible loss, and resvg draws a quarter of the pixels.
 */
const DRAWN_SCALE = 0.5;
const even = (n: number): number => 2 * Math.round(n / 2);

export interface LookRequest {
  visual: Visual;
  /** Where in the brief the visual came from, for error messages. */
  field: string;
  sceneIndex: number;
  /** The scene's camera movement (a reviewer's choice) for a still or gradient whose visual names none. */
  motion?: Motion;
  width: number;
  height: number;
  seed: number;
  baseDir: string;
  /** How a scene with no picture is drawn (brief.design.background; default shapes). */
  style?: BackgroundStyle;
  /** The video's shared palette (brief.design.palette), for the decoration's colours. */
  palette?: Palette;
}

export interface Look {
  background: Background;
  key: string;
  /**
   * Colours of the background ("#rrggbb") that text may sit on: a drawn look's own colours, or
   * cells measured on an image (empty when unknown). The text layout keeps text readable over all
   * of them, and the qa stage checks the contrast against them.
   */
  backdrop: string[];
  /** A drawn look's colours (base, decoration, accent), for the scene's icon; absent for images and videos. */
  palette?: ScenePalette;
}

/** What a look's cache unit holds. */
interface Prepared {
  background: Background;
  backdrop: string[];
}

export async function prepareLook(req: LookRequest, ctx: StageContext): Promise<Look> {
  const { visual, width, height } = req;
  const random = createRandom(deriveSeed(req.seed, 'look', req.sceneIndex));
  const pan: Motion = req.motion ?? random.pick(['pan-left', 'pan-right'] as const);
  const src = visual.type === 'image' || visual.type === 'video' ? resolveAsset(req.baseDir, visual.src) : undefined;
  // The source file enters the key by its content, not its path (a URL's download moves every attempt);
  // a video look names the file itself, which the cache gives back as this attempt's path.
  const content = src ? await mediaName(src) : undefined;
  const style = req.style ?? 'shapes';
  const drawn = visual.type === 'color' || visual.type === 'gradient' ? scenePalette(visual.type === 'color' ? [visual.color] : visual.colors, req.palette) : undefined;
  const duotone = visual.type === 'image' && visual.treatment === 'duotone' ? duotoneColors(req.palette) : undefined;
  const keyParts = {
    visual: content ? { ...visual, src: content } : visual,
    width,
    height,
    seed: req.seed,
    index: req.sceneIndex,
    ...(req.motion ? { motion: req.motion } : {}),
    // What the unit holds changed when looks were designed and measured (2), and when the clouds were drawn apart (3).
    v: 3,
    ...(drawn ? { style, palette: drawn } : {}),
    ...(duotone ? { duotone } : {}),
  };
  const refs = src && content ? { [content]: src } : undefined;
  const unit = await ctx.deps.cache.memo('look', keyParts, async (dir): Promise<Prepared> => {
    const size = overscanSize(width, height);
    switch (visual.type) {
      case 'color':
      case 'gradient': {
        // A flat colour is drawn too: texture and a moving crop, never a still frame.
        const path = join(dir, 'background.png');
        const small = { width: even(size.width * DRAWN_SCALE), height: even(size.height * DRAWN_SCALE) };
        const art = backgroundSvg({ ...small, style, palette: drawn as ScenePalette, seed: deriveSeed(req.seed, 'background', req.sceneIndex) });
        writeFileSync(path, (await renderSvgAsync(await withClouds(art, renderSvgAsync), small.width)).png);
        return { background: { kind: 'still', path, motion: pan }, backdrop: art.colors };
      }
      case 'image': {
        const probed = await ctx.deps.media.probe(src as string, ctx.signal).catch((error: unknown) => {
          throw new AppError('asset_unreadable', `${req.field}: ${src} is not a readable image`, {
            cause: error,
            details: [{ path: req.field, message: 'give a PNG, JPEG or WebP image that opens in an image viewer' }],
          });
        });
        if (!probed.video) {
          throw new AppError('asset_unreadable', `${req.field}: ${src} has no picture`, { details: [{ path: req.field, message: 'give an image file' }] });
        }
        const path = join(dir, 'still.png');
        const fit = visual.fit ?? 'cover';
        await ctx.deps.media.ffmpeg(buildPrepareStillArgs(src as string, path, { ...size, fit, ...(duotone ? { duotone } : {}) }), { signal: ctx.signal, timeoutSec: 120 }).catch(
          (error: unknown) => {
            throw new AppError('asset_unreadable', `${req.field}: cannot decode ${src}`, { cause: error, details: [{ path: req.field, message: 'give a valid image file' }] });
          },
        );
        const motion = visual.motion ?? req.motion ?? (fit === 'contain' ? 'none' : random.pick(['zoom-in', 'zoom-out', 'pan-left', 'pan-right'] as const));
        return { background: { kind: 'still', path, motion }, backdrop: await measureBackdrop(path, 0, dir, ctx) };
      }
      case 'video': {
        const probed = await ctx.deps.media.probe(src as string, ctx.signal);
        if (!probed.video || probed.durationSec <= 0) {
          throw new AppError('asset_unreadable', `${req.field}: ${src} has no video stream`, { details: [{ path: req.field, message: 'give a video file with a picture' }] });
        }
        const startSec = Math.min(visual.startSec ?? 0, Math.max(0, probed.durationSec - 0.5));
        return { background: { kind: 'video', path: src as string, startSec }, backdrop: await measureBackdrop(src as string, startSec, dir, ctx) };
      }
    }
  }, { signal: ctx.signal, note: (m) => ctx.note(m), refs });
  ctx.unit(unit.hit);
  return { background: unit.value.background, key: unit.key, backdrop: unit.value.backdrop, ...(drawn ? { palette: drawn } : {}) };
}

/**
 * The colours text over an image or a video may meet: the picture (its first frame) averaged
 * into a small grid of cells, and of those the darkest and lightest distinct ones. A text colour
 * that reads over both reads over the picture's broad areas (fine detail is the outline's job).
 */
async function measureBackdrop(src: string, startSec: number, dir: string, ctx: StageContext): Promise<string[]> {
  const out = join(dir, 'cells.rgb');
  try {
    await ctx.deps.media.ffmpeg(buildBackdropCellsArgs(src, out, startSec), { signal: ctx.signal, timeoutSec: 60 });
  } catch (error) {
    // The colours are advice for contrast checks; a clip that will not give a frame here still renders.
    ctx.note(`could not measure the colours of ${src}: ${(error as Error).message}`);
    return [];
  }
  return extremeCells(readFileSync(out));
}

/** The two darkest and the two lightest distinct cells of an RGB grid, darkest first. */
export function extremeCells(rgb: Uint8Array, count = 2): string[] {
  const cells: string[] = [];
  for (let i = 0; i + 2 < rgb.length && cells.length < BACKDROP_GRID * BACKDROP_GRID; i += 3) cells.push(toHex([rgb[i]!, rgb[i + 1]!, rgb[i + 2]!]));
  const sorted = [...new Set(cells)].sort((a, b) => relativeLuminance(a) - relativeLuminance(b));
  return [...new Set([...sorted.slice(0, count), ...sorted.slice(-count)])];
}
