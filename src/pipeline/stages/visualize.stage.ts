/**
 * visualize: the picture. Each scene's background is prepared (looks.ts), the timeline is cut into
 * segments (segments.ts), and each segment — titles, burned captions and logo included — is
 * encoded once and cached on everything it shows. compose joins them without re-encoding.
 */
import { pool } from '../../lib/settle.js';
import { join } from 'node:path';
import { AppError } from '../../contract/errors.js';
import type { ResolvedBrief } from '../../contract/resolve.js';
import type { Transition } from '../../contract/brief.js';
import { buildSegmentArgs, XFADE_NAMES, type SceneLayers, type SegmentPlan } from '../../media/args/segment.js';
import type { MediaCapabilities } from '../../media/capabilities.js';
import type { Stage } from '../context.js';
import { mediaName } from '../media-identity.js';
import { resolveAsset } from '../preflight.js';
import { safeArea } from '../visual/layout.js';
import { prepareLook } from '../visual/looks.js';
import { prepareDecor, type Decor } from '../visual/decor.js';
import type { DesignElement } from '../../design/record.js';
import { fetchPictures } from '../visual/pictures.js';
import { captionElements, captionSpecs, materialise, sceneText, type TextSpec } from '../visual/text.js';
import { cutSegments } from '../visual/segments.js';

/** Scene looks prepared at once (each is one resvg drawing or one FFmpeg run). */
const LOOK_CONCURRENCY = 2;

export const visualizeStage: Stage = {
  name: 'visualize',
  weight: 55,
  async run(state, ctx) {
    const { brief, storyboard, timeline, captions = [], baseDir } = state;
    if (!storyboard || !timeline) throw new AppError('internal', 'visualize needs a storyboard and a timeline');
    const provided = await fetchPictures(storyboard, timeline, brief, ctx);
    const looks = new Array<Awaited<ReturnType<typeof prepareLook>>>(storyboard.scenes.length);
    // Two at a time: a drawn background is resvg's work on a pool thread, an image's is FFmpeg's.
    await pool(storyboard.scenes, LOOK_CONCURRENCY, async (scene, i) => {
      const picture = provided.visuals[i];
      const field = picture ? `pictures.${scene.id}` : brief.source.kind === 'scenes' ? `scenes.${i}.visual.src` : `storyboard.scenes.${i}.visual`;
      const palette = brief.design.palette;
      // With a design palette, a scene whose colours the planner chose is drawn in the palette, so
      // every scene of the video shares it; colours a brief's scene gives stay its own.
      const planned = brief.source.kind !== 'scenes' || !brief.source.scenes[i]?.visual;
      const visual = picture ?? (palette && planned && scene.visual.type === 'gradient' ? { type: 'gradient' as const, colors: [palette.background, palette.primary] } : scene.visual);
      looks[i] = await prepareLook(
        { visual, field, sceneIndex: i, ...(scene.motion ? { motion: scene.motion } : {}), width: brief.width, height: brief.height, seed: brief.seed, baseDir, style: brief.design.background, ...(palette ? { palette } : {}) },
        ctx,
      );
    }, ctx.signal);
    const decor: Decor[] = [];
    for (const [i, scene] of storyboard.scenes.entries()) {
      const slot = timeline.scenes[i];
      const look = looks[i];
      if (!look) throw new AppError('internal', `scene ${scene.id} has no look`);
      decor.push(await prepareDecor({ scene, sceneIndex: i, startSec: slot?.startSec ?? 0, motionSec: (slot?.durationSec ?? 1) + timeline.transitionSec, transitionSec: timeline.transitionSec, hasPicture: provided.visuals[i] !== undefined, look, brief, baseDir }, ctx));
    }
    // Each scene's text, laid out once: its layers go into the segment keys, its elements into the design record.
    const texts = storyboard.scenes.map((scene, i) => {
      const slot = timeline.scenes[i];
      if (!slot) throw new AppError('internal', `scene ${scene.id} has no slot`);
      return sceneText({ scene, slot, words: state.narration?.[scene.id]?.words ?? [], backdrop: looks[i]?.backdrop ?? [], transitionOutSec: i < storyboard.scenes.length - 1 ? timeline.transitionSec : 0 }, brief, baseDir);
    });
    const backdropOf = (sceneId: string): readonly string[] => looks[storyboard.scenes.findIndex((s) => s.id === sceneId)]?.backdrop ?? [];
    const mode = ctx.deps.media.caps.filters.xfade ? 'xfade' : 'dip';
    // A preview trades file size and fidelity for time: the fastest x264 preset, a lower quality.
    const encode = brief.preview ? { ...ctx.deps.media.encode, preset: 'ultrafast' as const, crf: 28 } : ctx.deps.media.encode;
    const cuts = cutSegments(timeline, mode);
    const xfades = transitionsInto(storyboard, brief, ctx.deps.media.caps, mode, (n) => ctx.note(n));
    const totalFrames = cuts.reduce((s, c) => s + c.frames, 0);
    const done = new Array<number>(cuts.length).fill(0);
    // Provider pictures took the first 30 % of the bar (pictures.ts); the segments fill the rest.
    const base = Object.keys(provided.pictures).length > 0 ? 0.3 : 0;
    const report = (): void => ctx.progress(base + ((1 - base) * done.reduce((a, b) => a + b, 0)) / totalFrames);
    const segments = new Array<string>(cuts.length);
    const keys = new Array<string>(cuts.length);
    const logoPath = brief.brand?.logo ? resolveAsset(baseDir, brief.brand.logo) : undefined;
    // By content: a logo linked by URL is downloaded to a new path every attempt.
    const logoContent = logoPath ? await mediaName(logoPath) : undefined;

    // The first segment to fail stops the others (and no new one starts); the stage fails once they have stopped.
    await pool(cuts, ctx.deps.media.parallelism, async (cut, index, signal) => {
      const sceneSpec = (sceneIndex: number): { look: string; decor?: string; titles?: TextSpec[]; motionSec: number } => {
        const slot = timeline.scenes[sceneIndex];
        const titles = texts[sceneIndex]?.layers ?? [];
        const motionSec = (slot?.durationSec ?? 1) + timeline.transitionSec;
        return {
          look: looks[sceneIndex]?.key ?? '',
          // Absent with no decoration, so segments cached before decorations existed stay valid.
          ...(decor[sceneIndex]?.key ? { decor: decor[sceneIndex].key } : {}),
          // Absent for a scene with no text, so its key stays what it was.
          ...(titles.length > 0 ? { titles } : {}),
          motionSec,
        };
      };
      // Where the segment sits in the video is left out of its key: a scene that grows moves the
      // segments after it without changing what they show.
      const { startFrame: _startFrame, ...shape } = cut;
      const key = {
        cut: shape,
        fps: timeline.fps,
        size: [brief.width, brief.height],
        mode,
        // Named only when it is not the cross-fade every segment had before transitions had names (cached units stay valid).
        ...(cut.incoming && mode === 'xfade' && xfades[cut.scene.sceneIndex] !== 'fade' ? { xfade: xfades[cut.scene.sceneIndex] } : {}),
        scene: sceneSpec(cut.scene.sceneIndex),
        incoming: cut.incoming ? sceneSpec(cut.incoming.sceneIndex) : null,
        captions: captionSpecs(captions, cut, timeline.fps, brief, baseDir, backdropOf),
        logo: logoContent ? { content: logoContent, position: brief.brand?.position } : null,
        encode,
      };
      const unit = await ctx.deps.cache.memo('segment', key, async (dir) => {
        const layers = (spec: ReturnType<typeof sceneSpec>, sceneIndex: number, name: string, offsetSec: number): SceneLayers => ({
          background: looks[sceneIndex]?.background ?? { kind: 'color', color: '0x000000' },
          images: decor[sceneIndex]?.images ?? [],
          titles: (spec.titles ?? []).map((t, i) => materialise(t, dir, `${name}-${i}`, offsetSec)),
          motionSec: spec.motionSec,
        });
        const plan: SegmentPlan = {
          width: brief.width,
          height: brief.height,
          fps: timeline.fps,
          scene: { scene: layers(key.scene, cut.scene.sceneIndex, 'title', cut.scene.localStartFrame / timeline.fps), localStartSec: cut.scene.localStartFrame / timeline.fps, frames: cut.scene.frames },
          incoming:
            cut.incoming && key.incoming
              ? { scene: layers(key.incoming, cut.incoming.sceneIndex, 'title-prev', cut.incoming.localStartFrame / timeline.fps), localStartSec: cut.incoming.localStartFrame / timeline.fps, frames: cut.incoming.frames }
              : undefined,
          transition: cut.incoming ? mode : 'none',
          ...(key.xfade ? { xfade: key.xfade } : {}),
          captions: key.captions.map((c, i) => materialise(c, dir, `caption-${i}`)),
          logo: logoPath ? logoPlacement(logoPath, brief) : undefined,
          encode,
          outPath: join(dir, 'segment.mp4'),
        };
        await ctx.deps.media.ffmpeg(buildSegmentArgs(plan), {
          signal,
          onProgress: (sec) => {
            done[index] = Math.min(cut.frames, Math.round(sec * timeline.fps));
            report();
          },
        });
        return { path: plan.outPath, frames: cut.frames };
      }, { signal, render: ctx.signal, note: (m) => ctx.note(m) });
      ctx.unit(unit.hit);
      done[index] = cut.frames;
      report();
      segments[index] = unit.value.path;
      keys[index] = unit.key;
    }, ctx.signal);
    ctx.record('ffmpeg-motion@1', { secondsRendered: timeline.totalSec });
    const elements: DesignElement[] = [...decor.flatMap((d) => d.elements), ...texts.flatMap((t) => t.elements), ...captionElements(captions, brief, baseDir, backdropOf)];
    const design = { width: brief.width, height: brief.height, safe: safeArea(brief.width, brief.height, brief.aspectRatio), elements };
    return { video: { segments, keys }, design, pictures: provided.pictures, ...(provided.attributions.length > 0 ? { attributions: provided.attributions } : {}) };
  },
};

function logoPlacement(path: string, brief: ResolvedBrief): SegmentPlan['logo'] {
  const safe = safeArea(brief.width, brief.height, brief.aspectRatio);
  const position = brief.brand?.position ?? 'top-right';
  const x = position.endsWith('left') ? String(safe.left) : `main_w-overlay_w-${safe.right}`;
  const y = position.startsWith('top') ? String(safe.top) : `main_h-overlay_h-${safe.bottom}`;
  return { path, widthPx: 2 * Math.round((brief.width * 0.14) / 2), x, y };
}


/**
 * The FFmpeg transition into each scene: the scene's own, else the brief's, drawn with this
 * build's `xfade` when it has that transition and cross-faded (with a note) when it has not.
 * Without `xfade` at all every transition dips through black (the segments' `dip` mode).
 */
export function transitionsInto(
  storyboard: { scenes: { transition?: Transition }[] },
  brief: { transition: Transition },
  caps: Pick<MediaCapabilities, 'xfadeTransitions'>,
  mode: 'xfade' | 'dip',
  note: (message: string) => void,
): string[] {
  const missing = new Set<Transition>();
  const names = storyboard.scenes.map((scene) => {
    const wanted = scene.transition ?? brief.transition;
    const name = XFADE_NAMES[wanted];
    if (mode !== 'xfade' || caps.xfadeTransitions.length === 0 || caps.xfadeTransitions.includes(name)) return name;
    missing.add(wanted);
    return 'fade';
  });
  if (mode === 'dip' && storyboard.scenes.some((s) => (s.transition ?? brief.transition) !== 'fade')) {
    note('this FFmpeg has no xfade filter: every transition dips through black');
  }
  if (missing.size > 0) note(`this FFmpeg's xfade lacks ${[...missing].join(', ')}: cross-faded instead`);
  return names;
}
