/**
 * qa: measures the delivered MP4 (ffprobe, then one pass that decodes every frame and analyses it) and applies the
 * quality gates. A failed gate (or a file that cannot be measured) removes the cached units it
 * implicates before the failure goes on, so the next render of the brief makes them again instead of
 * failing the same way for good.
 */
import { AppError } from '../../contract/errors.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BLACK_PIXEL_THRESHOLD, buildQaPassArgs, parseQaPass, type Interval, type PassStills } from '../../media/args/analysis.js';
import type { RunResult } from '../../media/ffmpeg.js';
import { contactSheet, stillFrames } from '../stills.js';
import type { OutputFile } from './compose.stage.js';
import type { ResolvedBrief } from '../../contract/resolve.js';
import type { Storyboard } from '../../contract/storyboard.js';
import type { ProductionState, Stage, StageContext } from '../context.js';
import { evaluateQa, LIMITS, type QaReport } from '../qa/checks.js';
import type { Timeline } from '../timeline.js';

/** Luma (BT.601, 0..1) of a #rgb/#rrggbb colour. */
function luma(hex: string): number {
  const h = hex.replace('#', '');
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h;
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16) / 255) as [number, number, number];
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/** Scenes whose background is a colour the black detector itself would call black. */
export function plannedBlack(storyboard: Storyboard, timeline: Timeline): Interval[] {
  return timeline.scenes.flatMap((slot) => {
    const visual = storyboard.scenes[slot.index]?.visual;
    const dark = visual?.type === 'color' ? luma(visual.color) <= BLACK_PIXEL_THRESHOLD : visual?.type === 'gradient' && visual.colors.every((c) => luma(c) <= BLACK_PIXEL_THRESHOLD);
    return dark ? [{ startSec: slot.startSec, endSec: slot.startSec + slot.durationSec }] : [];
  });
}

/**
 * Scenes whose picture may be still without failing the motion gate (qa/motion.ts), with the
 * reason: a video (the brief's own, or footage a provider found), and a still image that the brief
 * or storyboard asked to hold (motion "none", or fit "contain" with no motion named, which looks.ts
 * also holds). Colours, gradients and stills AIPROD moves are never held.
 */
export function heldStillScenes(storyboard: Storyboard, pictures: ProductionState['pictures'] = {}): Map<string, string> {
  const held = new Map<string, string>();
  for (const scene of storyboard.scenes) {
    const picture = pictures[scene.id];
    const visual = scene.visual;
    if (picture) {
      if (picture.kind === 'video') held.set(scene.id, `${picture.provider} footage`);
      else if (scene.motion === 'none') held.set(scene.id, 'a still picture with motion none');
    } else if (visual.type === 'video') {
      held.set(scene.id, "the brief's video");
    } else if (visual.type === 'image' && (visual.motion ?? scene.motion ?? (visual.fit === 'contain' ? 'none' : undefined)) === 'none') {
      held.set(scene.id, "the brief's still image with motion none");
    }
  }
  return held;
}

/** The colours the brief named: brand colours and the design palette (a template's palette arrives as both). */
export function briefColors(brief: Pick<ResolvedBrief, 'brand' | 'design'>): string[] {
  return [...Object.values(brief.brand?.colors ?? {}), ...Object.values(brief.design.palette ?? {})].filter((c): c is string => typeof c === 'string');
}

/** Thrown inside the stills unit when the pass wrote no stills (a damaged file): nothing is cached. */
class NoStills extends Error {}

const measureStage: Stage = {
  name: 'qa',
  weight: 10,
  async run(state, ctx) {
    const { brief, timeline, outputs, narration, storyboard, captions = [] } = state;
    const mp4 = outputs?.find((o) => o.kind === 'mp4');
    if (!timeline || !mp4 || !narration || !storyboard) throw new AppError('internal', 'qa needs the mp4, the timeline and the narration');
    const probed = await ctx.deps.media.probe(mp4.path, ctx.signal);
    let stillsKey: string | undefined;
    ctx.progress(0.1, 'probed');
    const options = {
      silenceNoiseDb: -50,
      silenceMinSec: LIMITS.silenceSec,
      blackMinSec: LIMITS.blackSec,
      analysisWidth: 320,
      freezeMinSec: LIMITS.stillSec,
    };
    // Every frame decoded and counted: a truncated or damaged file fails here, whatever its header
    // says. FFmpeg reads a damaged file to its end, reporting what it could not decode, so the pass
    // measures the rest; one it cannot open fails the stage (and invalidates the units behind it).
    // The report is shown to tenants: FFmpeg's messages name the file, never its path on this machine.
    const unpathed = (line: string): string => line.split(mp4.path).join(mp4.name);
    const run = (stills?: PassStills): Promise<RunResult> => ctx.deps.media.ffmpeg(buildQaPassArgs(mp4.path, options, stills), { signal: ctx.signal, captureStdout: true });
    // The thumbnail and the contact sheet come from the same pass (pipeline/stills.ts), cached beside
    // the MP4 they show; when they are cached already, the pass only measures.
    const frames = stillFrames(timeline);
    const layout = contactSheet(frames.sheet, brief);
    let pass: RunResult | undefined;
    let stills: { thumbnail: string; sheet: string } | undefined;
    try {
      const unit = await ctx.deps.cache.memo(
        'stills',
        { outputs: state.outputsKey ?? mp4.path, thumbnail: frames.thumbnail, sheet: layout.frames, cell: layout.cell, columns: layout.columns },
        async (dir) => {
          const made = { thumbnail: join(dir, 'thumbnail.jpg'), sheet: join(dir, 'contact-sheet.jpg') };
          pass = await run({ thumbnail: { frame: frames.thumbnail, outPath: made.thumbnail }, sheet: { ...layout, outPath: made.sheet } });
          // A damaged file can end before the frames: it has no stills, and the report says why.
          if (!existsSync(made.thumbnail) || !existsSync(made.sheet)) throw new NoStills();
          return made;
        },
        { signal: ctx.signal, note: (m) => ctx.note(m) },
      );
      stills = unit.value;
      stillsKey = unit.key;
    } catch (error) {
      if (!(error instanceof NoStills)) throw error;
    }
    pass ??= await run();
    const { analysis, decode } = parseQaPass(pass.stdout, pass.stderr, probed.durationSec);
    ctx.progress(0.8, 'analysed');
    decode.errors = decode.errors.map(unpathed);
    const report = evaluateQa(probed, analysis, {
      timeline,
      width: brief.width,
      height: brief.height,
      loudnessLufs: brief.mix.loudnessLufs,
      truePeakDb: brief.mix.truePeakDb,
      narration: Object.fromEntries(Object.entries(narration).map(([id, n]) => [id, n.text])),
      captionsExpected: brief.captions !== false,
      captions,
      plannedBlack: plannedBlack(storyboard, timeline),
      heldStill: heldStillScenes(storyboard, state.pictures),
      ...(state.design ? { design: state.design, briefColors: briefColors(brief) } : {}),
    }, decode);
    ctx.progress(1);
    ctx.record('ffprobe-qa@1', { secondsAnalysed: probed.durationSec });
    const images: OutputFile[] = stills
      ? [
          { name: 'thumbnail.jpg', kind: 'thumbnail', path: stills.thumbnail, mime: 'image/jpeg' },
          { name: 'contact-sheet.jpg', kind: 'contact-sheet', path: stills.sheet, mime: 'image/jpeg' },
        ]
      : [];
    // After the MP4, where compose used to list them.
    // Replacing any a measured state already carried (a second qa over the same state).
    const files = (outputs ?? []).filter((o) => o.kind !== 'thumbnail' && o.kind !== 'contact-sheet');
    const at = files.indexOf(mp4) + 1;
    return { qa: report, outputs: [...files.slice(0, at), ...images, ...files.slice(at)], ...(stillsKey ? { stillsKey } : {}) };
  },
};

/** Checks that measure only the soundtrack: their failure spares the video segments. */
const AUDIO_CHECKS = new Set(['audio_present', 'audio_codec', 'loudness', 'true_peak', 'silence']);

/**
 * Checks of the design record: the layout is computed from the brief on every render, so remaking
 * the segments would draw the same thing again; their failure spares the segments.
 */
const DESIGN_CHECKS = new Set(['text_contrast', 'safe_area', 'caption_overlap']);

/**
 * The cached units a failure implicates: always the final files and the mix they carry; the video
 * segments unless only audio, caption or design checks failed (a file that cannot be measured
 * implicates them too, and so does a still run: a damaged segment can freeze the picture); the
 * narration, which the captions come from, when the captions check failed.
 */
export function implicatedUnits(state: Readonly<ProductionState>, report?: QaReport): { stage: string; key: string }[] {
  const failed = report ? report.checks.filter((c) => c.hard && !c.passed).map((c) => c.name) : undefined;
  const units: { stage: string; key: string }[] = [];
  if (state.outputsKey) units.push({ stage: 'compose', key: state.outputsKey });
  if (state.stillsKey) units.push({ stage: 'stills', key: state.stillsKey });
  if (state.mix?.key) units.push({ stage: 'mix', key: state.mix.key });
  if (!failed || failed.some((name) => !AUDIO_CHECKS.has(name) && !DESIGN_CHECKS.has(name) && name !== 'captions')) {
    for (const key of new Set(state.video?.keys ?? [])) units.push({ stage: 'segment', key });
  }
  if (failed?.includes('captions')) {
    for (const n of Object.values(state.narration ?? {})) if (n.key) units.push({ stage: 'narrate', key: n.key });
  }
  return units;
}

async function dropImplicated(state: Readonly<ProductionState>, ctx: StageContext, report?: QaReport): Promise<void> {
  let removed = 0;
  // Only the versions this render used: a unit another render has made again since is left alone.
  for (const unit of implicatedUnits(state, report)) if (await ctx.deps.cache.invalidate(unit.stage, unit.key, { signal: ctx.signal })) removed++;
  if (removed > 0) ctx.note(`quality checks failed: ${removed} cached unit(s) behind this video were invalidated and will be made again`);
}

/** Failures that say nothing about the units (a stalled or slow decode, a full disk, a cancel): they invalidate nothing. */
const TRANSIENT = new Set(['ffmpeg_stalled', 'ffmpeg_timeout', 'resource_exhausted', 'aborted']);

export const qaStage: Stage = {
  ...measureStage,
  async run(state, ctx) {
    try {
      const output = await measureStage.run(state, ctx);
      if (output.qa && !output.qa.passed) await dropImplicated({ ...state, ...output }, ctx, output.qa);
      return output;
    } catch (error) {
      // A cancelled render, or one whose measuring stalled or ran out of resources, proves nothing about its units.
      if (!ctx.signal?.aborted && !(error instanceof AppError && TRANSIENT.has(error.code))) await dropImplicated(state, ctx);
      throw error;
    }
  },
};
