/**
 * A scene's background, prepared once and cached: a gradient drawn as an image, a user image
 * scaled for Ken Burns motion, a probed video, or a flat colour.
 */
import { join } from 'node:path';
import type { Visual } from '../../contract/brief.js';
import { AppError } from '../../contract/errors.js';
import { buildPrepareStillArgs } from '../../media/args/image.js';
import { ffColor } from '../../media/args/escape.js';
import { overscanSize, type Background, type Motion } from '../../media/args/segment.js';
import { writeGradientPng } from '../../media/png.js';
import { createRandom, deriveSeed } from '../../lib/random.js';
import type { StageContext } from '../context.js';
import { mediaName } from '../media-identity.js';
import { resolveAsset } from '../preflight.js';

/** Gradients are drawn at a quarter of the overscan size: smooth colour scales up without loss. */
const GRADIENT_SCALE = 0.25;
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
}

export async function prepareLook(req: LookRequest, ctx: StageContext): Promise<Look> {
  const { visual, width, height } = req;
  const random = createRandom(deriveSeed(req.seed, 'look', req.sceneIndex));
  const pan: Motion = req.motion ?? random.pick(['pan-left', 'pan-right'] as const);
  const src = visual.type === 'image' || visual.type === 'video' ? resolveAsset(req.baseDir, visual.src) : undefined;
  // The source file enters the key by its content, not its path (a URL's download moves every attempt);
  // a video look names the file itself, which the cache gives back as this attempt's path.
  const content = src ? await mediaName(src) : undefined;
  const keyParts = { visual: content ? { ...visual, src: content } : visual, width, height, seed: req.seed, index: req.sceneIndex, ...(req.motion ? { motion: req.motion } : {}) };
  const refs = src && content ? { [content]: src } : undefined;
  const unit = await ctx.deps.cache.memo('look', keyParts, async (dir): Promise<Background> => {
    const size = overscanSize(width, height);
    switch (visual.type) {
      case 'color':
        return { kind: 'color', color: ffColor(visual.color) };
      case 'gradient': {
        const path = join(dir, 'gradient.png');
        const small = { width: even(size.width * GRADIENT_SCALE), height: even(size.height * GRADIENT_SCALE) };
        writeGradientPng(path, { ...small, colors: visual.colors, angleDeg: random.int(0, 359), vignette: 0.35 });
        return { kind: 'still', path, motion: pan };
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
        await ctx.deps.media.ffmpeg(buildPrepareStillArgs(src as string, path, { ...size, fit }), { signal: ctx.signal, timeoutSec: 120 }).catch(
          (error: unknown) => {
            throw new AppError('asset_unreadable', `${req.field}: cannot decode ${src}`, { cause: error, details: [{ path: req.field, message: 'give a valid image file' }] });
          },
        );
        const motion = visual.motion ?? req.motion ?? (fit === 'contain' ? 'none' : random.pick(['zoom-in', 'zoom-out', 'pan-left', 'pan-right'] as const));
        return { kind: 'still', path, motion };
      }
      case 'video': {
        const probed = await ctx.deps.media.probe(src as string, ctx.signal);
        if (!probed.video || probed.durationSec <= 0) {
          throw new AppError('asset_unreadable', `${req.field}: ${src} has no video stream`, { details: [{ path: req.field, message: 'give a video file with a picture' }] });
        }
        return { kind: 'video', path: src as string, startSec: Math.min(visual.startSec ?? 0, Math.max(0, probed.durationSec - 0.5)) };
      }
    }
  }, { signal: ctx.signal, note: (m) => ctx.note(m), refs });
  ctx.unit(unit.hit);
  return { background: unit.value, key: unit.key, backdrop: visual.type === 'color' ? [visual.color] : visual.type === 'gradient' ? [...visual.colors] : [] };
}
