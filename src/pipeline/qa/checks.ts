/**
 * Quality gates as a pure function: measurements of the delivered file in, a report of every check
 * out (expected, measured, passed). Hard checks fail the render; soft ones are warnings. The design
 * gates (design.ts) judge the design record, the motion gate (motion.ts) the file's still runs.
 */
import type { DesignRecord } from '../../design/record.js';
import type { AnalysisResult, DecodeResult, Interval } from '../../media/args/analysis.js';
import type { ProbeResult } from '../../media/probe.js';
import type { CaptionCue } from '../captions.js';
import type { Timeline } from '../timeline.js';
import { evaluateDesign } from './design.js';
import { evaluateMotion, MOTION_LIMITS, type HeldScenes } from './motion.js';

export interface QaCheck {
  name: string;
  hard: boolean;
  passed: boolean;
  expected: string;
  measured: string;
}

export interface QaReport {
  passed: boolean;
  checks: QaCheck[];
  measurements: {
    durationSec: number;
    width?: number;
    height?: number;
    fps?: number;
    videoCodec?: string;
    pixFmt?: string;
    audioCodec?: string;
    integratedLufs: number;
    truePeakDb: number;
    loudnessRange: number;
    silences: Interval[];
    blacks: Interval[];
    /** Runs over the still limit in which the picture did not change. */
    freezes: Interval[];
    captionCoverage: number;
    /** Video frames a full decode of the file produced, and the decode errors it reported. */
    decodedFrames: number;
    decodeErrors: number;
  };
}

export interface QaExpectations {
  timeline: Timeline;
  width: number;
  height: number;
  loudnessLufs: number;
  truePeakDb: number;
  /** Narration text per scene id (empty for silent scenes). */
  narration: Record<string, string>;
  captionsExpected: boolean;
  captions: readonly CaptionCue[];
  /** Stretches the storyboard itself asks to be black (a black colour card): not a defect. */
  plannedBlack?: readonly Interval[];
  /** What visualize placed on the frame; absent, the design gates are not run. */
  design?: DesignRecord;
  /** Colours the brief named (brand and palette): text in them that misses the contrast is a warning. */
  briefColors?: readonly string[];
  /** Scenes whose picture may be still, with the reason (the brief's own video or held image). */
  heldStill?: HeldScenes;
}

export const LIMITS = { durationSec: 0.5, loudnessLu: 1, silenceSec: 3, blackSec: 1, decodedFrames: 1, stillSec: MOTION_LIMITS.stillSec };

const norm = (s: string): string => s.replace(/\s+/g, ' ').trim();
const overlap = (a: Interval, b: Interval): number => Math.max(0, Math.min(a.endSec, b.endSec) - Math.max(a.startSec, b.startSec));
const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : String(n));

/** Share of narrated characters that the caption cues reproduce, scene by scene. */
export function captionCoverage(narration: Record<string, string>, cues: readonly CaptionCue[]): number {
  // Compared without whitespace: cues of unspaced scripts (Chinese, Japanese) are joined by spaces.
  const squash = (s: string): string => s.replace(/\s+/g, '');
  let total = 0;
  let covered = 0;
  for (const [id, text] of Object.entries(narration)) {
    const want = squash(text);
    if (want.length === 0) continue;
    total += want.length;
    const got = squash(cues.filter((c) => c.sceneId === id).map((c) => c.text).join(''));
    if (got === want) {
      covered += want.length;
      continue;
    }
    // Partial: the narration's words (or characters, for unspaced scripts) found in the cues.
    const units = /\s/.test(norm(text)) ? norm(text).split(' ') : [...want];
    covered += units.filter((u) => got.includes(squash(u))).join('').length;
  }
  return total === 0 ? 1 : covered / total;
}

/**
 * `decode` is a full decode of the file (media/args/analysis.ts buildQaPassArgs): a file that
 * does not decode cleanly, or decodes to fewer or more frames than the timeline plans, is damaged
 * whatever its container claims — ffprobe reads the duration from the header of a truncated file.
 */
export function evaluateQa(probe: ProbeResult, analysis: AnalysisResult, exp: QaExpectations, decode: DecodeResult): QaReport {
  const checks: QaCheck[] = [];
  const add = (name: string, hard: boolean, passed: boolean, expected: string, measured: string): void => {
    checks.push({ name, hard, passed, expected, measured });
  };
  const { video, audio } = probe;
  const total = exp.timeline.totalSec;

  add('duration', true, Math.abs(probe.durationSec - total) <= LIMITS.durationSec, `${fmt(total)} s ± ${LIMITS.durationSec}`, `${fmt(probe.durationSec)} s`);
  add('resolution', true, video?.width === exp.width && video?.height === exp.height, `${exp.width}x${exp.height}`, `${video?.width}x${video?.height}`);
  add('video_codec', true, video?.codecName === 'h264' && video.pixFmt === 'yuv420p', 'h264 yuv420p', `${video?.codecName} ${video?.pixFmt}`);
  add('audio_present', true, audio !== undefined, 'an audio stream', audio ? `${audio.codecName} ${audio.channels} ch` : 'none');
  add('audio_codec', true, audio?.codecName === 'aac', 'aac', String(audio?.codecName));
  const plannedFrames = Math.round(total * exp.timeline.fps);
  add(
    'decode',
    true,
    decode.errors.length === 0 && Math.abs(decode.frames - plannedFrames) <= LIMITS.decodedFrames,
    `${plannedFrames} frames ± ${LIMITS.decodedFrames}, no decode error`,
    `${decode.frames} frames, ${decode.errors.length} decode error(s)${decode.errors[0] ? `: ${decode.errors[0]}` : ''}`,
  );
  add('frame_rate', false, Math.abs((video?.frameRate ?? 0) - exp.timeline.fps) < 0.01, `${exp.timeline.fps} fps`, `${fmt(video?.frameRate ?? 0, 3)} fps`);
  add(
    'loudness',
    true,
    Math.abs(analysis.integratedLufs - exp.loudnessLufs) <= LIMITS.loudnessLu,
    `${exp.loudnessLufs} LUFS ± ${LIMITS.loudnessLu}`,
    `${fmt(analysis.integratedLufs, 1)} LUFS`,
  );
  add('true_peak', true, analysis.truePeakDb <= exp.truePeakDb, `≤ ${exp.truePeakDb} dBTP`, `${fmt(analysis.truePeakDb, 1)} dBTP`);

  const speech: Interval[] = exp.timeline.scenes
    .filter((s) => s.speechDurationSec > 0)
    .map((s) => ({ startSec: s.speechStartSec, endSec: s.speechStartSec + s.speechDurationSec }));
  const longSilences = analysis.silences.filter(
    (gap) => gap.endSec - gap.startSec > LIMITS.silenceSec && speech.some((s) => overlap(s, gap) > 0),
  );
  add('silence', true, longSilences.length === 0, `no silence over ${LIMITS.silenceSec} s during narration`, `${longSilences.length} run(s)`);
  // A black run counts once what the storyboard planned as black is taken out of it.
  const planned = exp.plannedBlack ?? [];
  const longBlacks = analysis.blacks.filter(
    (b) => b.endSec - b.startSec - planned.reduce((sum, p) => sum + overlap(p, b), 0) > LIMITS.blackSec,
  );
  add('black_frames', true, longBlacks.length === 0, `no black run over ${LIMITS.blackSec} s`, `${longBlacks.length} run(s)`);

  const coverage = captionCoverage(exp.narration, exp.captions);
  if (exp.captionsExpected) add('captions', true, coverage >= 0.999, 'every narrated word captioned', `${fmt(coverage * 100, 1)} %`);

  checks.push(...evaluateMotion(analysis.freezes, exp.timeline, exp.heldStill ?? new Map()));
  if (exp.design) checks.push(...evaluateDesign(exp.design, { briefColors: exp.briefColors ?? [] }));

  return {
    passed: checks.every((c) => c.passed || !c.hard),
    checks,
    measurements: {
      durationSec: probe.durationSec,
      width: video?.width,
      height: video?.height,
      fps: video?.frameRate,
      videoCodec: video?.codecName,
      pixFmt: video?.pixFmt,
      audioCodec: audio?.codecName,
      integratedLufs: analysis.integratedLufs,
      truePeakDb: analysis.truePeakDb,
      loudnessRange: analysis.loudnessRange,
      silences: analysis.silences,
      blacks: analysis.blacks,
      freezes: analysis.freezes,
      captionCoverage: coverage,
      decodedFrames: decode.frames,
      decodeErrors: decode.errors.length,
    },
  };
}
