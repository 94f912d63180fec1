/**
 * visualize: the picture. Each scene's background is prepared (looks.ts), the timeline is cut into
 * segments (segments.ts), and each segment — titles, burned captions and logo included — is
 * encoded once and cached on everything it shows. compose joins them without re-encoding.
 */
import { writeFileSync } from 'node:fs';
import { pool } from '../../lib/settle.js';
import { join } from 'node:path';
import { AppError } from '../../contract/errors.js';
import type { ResolvedBrief } from '../../contract/resolve.js';
import { ffColor } from '../../media/args/escape.js';
import type { Transition } from '../../contract/brief.js';
import { buildSegmentArgs, XFADE_NAMES, type SceneLayers, type SegmentPlan, type TextLayer } from '../../media/args/segment.js';
import type { MediaCapabilities } from '../../media/capabilities.js';
import { fontFor } from '../../media/fonts.js';
import type { CaptionCue } from '../captions.js';
import type { Stage } from '../context.js';
import { mediaName } from '../media-identity.js';
import { resolveAsset } from '../preflight.js';
import { captionStyle, safeArea, titleStyle } from '../visual/layout.js';
import { prepareLook } from '../visual/looks.js';
import { fetchPictures } from '../visual/pictures.js';
import { layoutText } from '../../design/text-layout.js';
import { cutSegments, type SegmentCut } from '../visual/segments.js';

/** A text layer before its text file exists: what goes into the cache key. */
type TextSpec = Omit<TextLayer, 'textFile'> & { text: string };

function font(text: string, weight: 'regular' | 'bold', brief: ResolvedBrief, baseDir: string): string {
  const brandFont = brief.brand?.font ? resolveAsset(baseDir, brief.brand.font) : undefined;
  const choice = fontFor(text, weight, brandFont);
  if (!choice) throw new AppError('internal', 'no font found: install fonts-dejavu-core (and fonts-noto-core, fonts-noto-cjk for other scripts)');
  return choice.path;
}

/**
 * A scene title, laid out with the real font (design/text-layout.ts): balanced lines that fit the
 * safe area, the size lowered (to 60 %) before a long title overflows, each line its own layer
 * centred on its own width, the block a little above the middle of the safe area.
 */
function titleSpec(title: string, brief: ResolvedBrief, baseDir: string, visibleSec: number): TextSpec[] {
  const safe = safeArea(brief.width, brief.height, brief.aspectRatio);
  const style = titleStyle(brief.width, brief.height, title);
  const fontFile = font(title, 'bold', brief, baseDir);
  const layout = layoutText(title, {
    font: { file: fontFile },
    maxWidth: brief.width - safe.left - safe.right,
    maxLines: 4,
    sizePx: style.fontSize,
    minSizePx: Math.round(style.fontSize * 0.6),
    lineHeight: 1.25,
    align: 'center',
  });
  const step = Math.round(layout.sizePx * layout.lineHeight);
  const block = step * layout.lines.length;
  return layout.lines.map((line, i) => ({
    text: line.text,
    fontFile,
    fontSize: layout.sizePx,
    color: ffColor(brief.brand?.colors.text ?? '#ffffff'),
    x: '(w-text_w)/2',
    y: `${safe.top}+(h-${safe.top + safe.bottom}-${block})*0.42+${i * step}`,
    fromSec: 0.15,
    toSec: visibleSec,
    fadeInSec: 0.5,
    box: false,
    borderPx: Math.max(2, Math.round(layout.sizePx / 16)),
  }));
}

function captionSpecs(cues: readonly CaptionCue[], cut: SegmentCut, fps: number, brief: ResolvedBrief, baseDir: string): TextSpec[] {
  if (brief.captions === false || !brief.captions.burnIn) return [];
  const { style: captionLook } = brief.captions;
  const from = cut.startFrame / fps;
  const to = (cut.startFrame + cut.frames) / fps;
  const safe = safeArea(brief.width, brief.height, brief.aspectRatio);
  return cues
    .filter((c) => c.endSec > from && c.startSec < to)
    .flatMap((c) => {
      const style = captionStyle(brief.width, brief.height, captionLook === 'minimal');
      const fontFile = font(c.text, captionLook === 'minimal' ? 'regular' : 'bold', brief, baseDir);
      // At most two balanced lines, each its own layer centred on its own width, the last one on the safe area's bottom edge.
      const layout = layoutText(c.text, {
        font: { file: fontFile },
        maxWidth: brief.width - safe.left - safe.right,
        maxLines: 2,
        sizePx: style.fontSize,
        minSizePx: Math.round(style.fontSize * 0.75),
        lineHeight: captionLook === 'boxed' ? 1.6 : 1.25,
        align: 'center',
      });
      const step = Math.round(layout.sizePx * layout.lineHeight);
      return layout.lines.map((line, i) => ({
        text: line.text,
        fontFile,
        fontSize: layout.sizePx,
        color: ffColor(brief.brand?.colors.text ?? '#ffffff'),
        x: '(w-text_w)/2',
        y: `h-${safe.bottom + (layout.lines.length - 1 - i) * step}-text_h`,
        fromSec: Math.round((c.startSec - from) * 1000) / 1000,
        toSec: Math.round((c.endSec - from) * 1000) / 1000,
        fadeInSec: 0,
        box: captionLook === 'boxed',
        borderPx: captionLook === 'bold' ? Math.max(2, Math.round(layout.sizePx / 12)) : captionLook === 'minimal' ? 2 : 0,
      }));
    });
}

function materialise(spec: TextSpec, dir: string, name: string): TextLayer {
  const textFile = join(dir, `${name}.txt`);
  writeFileSync(textFile, spec.text);
  const { text: _text, ...layer } = spec;
  return { ...layer, textFile };
}

export const visualizeStage: Stage = {
  name: 'visualize',
  weight: 55,
  async run(state, ctx) {
    const { brief, storyboard, timeline, captions = [], baseDir } = state;
    if (!storyboard || !timeline) throw new AppError('internal', 'visualize needs a storyboard and a timeline');
    const provided = await fetchPictures(storyboard, timeline, brief, ctx);
    const looks: Awaited<ReturnType<typeof prepareLook>>[] = [];
    for (const [i, scene] of storyboard.scenes.entries()) {
      const picture = provided.visuals[i];
      const field = picture ? `pictures.${scene.id}` : brief.source.kind === 'scenes' ? `scenes.${i}.visual.src` : `storyboard.scenes.${i}.visual`;
      looks.push(await prepareLook({ visual: picture ?? scene.visual, field, sceneIndex: i, ...(scene.motion ? { motion: scene.motion } : {}), width: brief.width, height: brief.height, seed: brief.seed, baseDir }, ctx));
    }
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
      const sceneSpec = (sceneIndex: number): { look: string; titles?: TextSpec[]; motionSec: number } => {
        const scene = storyboard.scenes[sceneIndex];
        const slot = timeline.scenes[sceneIndex];
        const motionSec = (slot?.durationSec ?? 1) + timeline.transitionSec;
        return {
          look: looks[sceneIndex]?.key ?? '',
          ...(scene?.title ? { titles: titleSpec(scene.title, brief, baseDir, motionSec + 1) } : {}),
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
        captions: captionSpecs(captions, cut, timeline.fps, brief, baseDir),
        logo: logoContent ? { content: logoContent, position: brief.brand?.position } : null,
        encode,
      };
      const unit = await ctx.deps.cache.memo('segment', key, async (dir) => {
        const layers = (spec: ReturnType<typeof sceneSpec>, sceneIndex: number, name: string): SceneLayers => ({
          background: looks[sceneIndex]?.background ?? { kind: 'color', color: '0x000000' },
          titles: (spec.titles ?? []).map((t, i) => materialise(t, dir, `${name}-${i}`)),
          motionSec: spec.motionSec,
        });
        const plan: SegmentPlan = {
          width: brief.width,
          height: brief.height,
          fps: timeline.fps,
          scene: { scene: layers(key.scene, cut.scene.sceneIndex, 'title'), localStartSec: cut.scene.localStartFrame / timeline.fps, frames: cut.scene.frames },
          incoming:
            cut.incoming && key.incoming
              ? { scene: layers(key.incoming, cut.incoming.sceneIndex, 'title-prev'), localStartSec: cut.incoming.localStartFrame / timeline.fps, frames: cut.incoming.frames }
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
    return { video: { segments, keys }, pictures: provided.pictures, ...(provided.attributions.length > 0 ? { attributions: provided.attributions } : {}) };
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
