/**
 * FFmpeg arguments and parsers for the qa stage: loudness (ebur128 with true peak), silence,
 * black and still (frozen) runs, all measured on the delivered file in one decoding pass.
 */

/**
 * A pixel counts as black at or below this share of the luma range: near-true black, the colour
 * of a missing or broken picture. (0.10, FFmpeg's default, also catches dark designer colours such
 * as #0f172a.) The qa stage uses the same number to know which planned colours are themselves black.
 */
export const BLACK_PIXEL_THRESHOLD = 0.05;

export interface AnalysisOptions {
  silenceNoiseDb: number;
  silenceMinSec: number;
  blackMinSec: number;
  /** The picture is analysed at this width (black detection needs no detail). */
  analysisWidth: number;
  /**
   * Still runs: freezedetect's noise tolerance (the mean absolute difference to the run's first
   * frame, 0..1; FFmpeg's default 0.001) and the shortest run it reports. Absent: not measured.
   */
  freezeNoise?: number;
  freezeMinSec?: number;
}

/** The picture analysis looks at every FRAME_STEP-th frame: runs of a second or more are found just as well. */
export const FRAME_STEP = 3;

/**
 * The qa stage's one pass over the delivered file. Every frame of the first video stream and the
 * first audio stream is decoded once, and three null outputs read it:
 * - the frames as decoded, counted from `-progress` (the last `frame=` is the first video output's);
 * - the soundtrack, through ebur128 (loudness, true peak) and silencedetect;
 * - every FRAME_STEP-th frame at `analysisWidth`, through blackdetect and freezedetect;
 * - with `stills`, the thumbnail and the contact sheet as JPEGs.
 * At `-loglevel level+info` every line carries its level, so the decode errors (`[error]` and
 * worse) are told apart from the filters' reports in the same stderr (parseQaPass).
 *
 * It replaced two passes side by side (an analysis that skipped the B-frames, and a full decode):
 * one decode of the file instead of 1.6, and the picture filters on a third of the frames.
 */
/** The thumbnail and the contact sheet, taken in the same pass (pipeline/stills.ts chooses the frames). */
export interface PassStills {
  thumbnail: { frame: number; outPath: string };
  sheet: { frames: readonly number[]; cell: { width: number; height: number }; columns: number; outPath: string };
}

export function buildQaPassArgs(path: string, opts: AnalysisOptions, stills?: PassStills): string[] {
  const audio = `[0:a:0]ebur128=peak=true:framelog=verbose,silencedetect=noise=${opts.silenceNoiseDb}dB:d=${opts.silenceMinSec}[ao]`;
  // freezedetect compares every frame with the first frame of the current run, so a slow drift ends
  // a run once it has moved far enough; at 320 px a Ken Burns pan over a soft gradient still counts
  // as motion at the default tolerance, while a flat colour card under a static title does not.
  const freeze = opts.freezeMinSec === undefined ? '' : `,freezedetect=n=${opts.freezeNoise ?? 0.001}:d=${opts.freezeMinSec}`;
  const look = `[look]framestep=${FRAME_STEP},scale=${opts.analysisWidth}:-2,blackdetect=d=${opts.blackMinSec}:pic_th=0.98:pix_th=${BLACK_PIXEL_THRESHOLD}${freeze}[vo]`;
  let video = `[0:v:0]split[count][look];${look}`;
  const stillOutputs: string[] = [];
  if (stills) {
    // select passes only its frames (n counts every decoded frame), so these branches cost nothing
    // until then; the sheet's frames are scaled into cells and tiled (a last row not full stays dark).
    const { cell, columns, frames } = stills.sheet;
    const pick = (ns: readonly number[]): string => `select=${ns.map((n) => `eq(n\\,${n})`).join('+')}`;
    const rows = Math.ceil(frames.length / columns);
    video =
      `[0:v:0]split=4[count][look][thumb][sheet];${look};` +
      `[thumb]${pick([stills.thumbnail.frame])}[thumbnail];` +
      `[sheet]${pick(frames)},scale=${cell.width}:${cell.height}:force_original_aspect_ratio=decrease,pad=${cell.width}:${cell.height}:(ow-iw)/2:(oh-ih)/2:color=0x111111,setsar=1,` +
      `tile=${columns}x${rows}:margin=12:padding=8:color=0x111111[contact]`;
    const jpeg = ['-frames:v', '1', '-q:v', '3', '-update', '1'];
    stillOutputs.push('-map', '[thumbnail]', ...jpeg, stills.thumbnail.outPath, '-map', '[contact]', ...jpeg, stills.sheet.outPath);
  }
  return [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'level+info',
    '-progress', 'pipe:1',
    '-i', path,
    '-filter_complex', `${video};${audio}`,
    '-map', '[count]', '-f', 'null', '-',
    '-map', '[ao]', '-f', 'null', '-',
    '-map', '[vo]', '-f', 'null', '-',
    ...stillOutputs,
  ];
}

export interface DecodeResult {
  /** Video frames decoded. */
  frames: number;
  /** What the decoders and demuxer reported at error level or worse, level tags removed (empty for a sound file). */
  errors: string[];
}

/** A decode error line of a `level+info` log: `[h264 @ 0x…] [error] Invalid NAL unit size …`. */
const ERROR_LEVEL = /\[(error|fatal|panic)\] /;

/** The frame count from the last `-progress` block, and the error lines of a `level+info` stderr. */
export function parseDecodeCheck(stdout: string, stderr: string): DecodeResult {
  const counts = [...stdout.matchAll(/^frame=\s*(\d+)/gm)];
  const last = counts[counts.length - 1]?.[1];
  return {
    frames: last === undefined ? 0 : Number(last),
    errors: stderr
      .split(/\r?\n/)
      .filter((l) => ERROR_LEVEL.test(l))
      .map((l) => l.replace(ERROR_LEVEL, '').trim()),
  };
}

/** Both results of the qa pass (buildQaPassArgs). */
export function parseQaPass(stdout: string, stderr: string, durationSec: number): { analysis: AnalysisResult; decode: DecodeResult } {
  return { analysis: parseAnalysis(stderr, durationSec), decode: parseDecodeCheck(stdout, stderr) };
}

/** Loudness alone (EBU R128 with true peak) of a file's first audio stream. */
// framelog=verbose keeps the per-100 ms lines out of an info-level log: only the summary is printed.
export function buildLoudnessMeasureArgs(path: string): string[] {
  return ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-i', path, '-map', '0:a:0', '-af', 'ebur128=peak=true:framelog=verbose', '-f', 'null', '-'];
}

export interface Interval {
  startSec: number;
  endSec: number;
}

export interface AnalysisResult {
  integratedLufs: number;
  truePeakDb: number;
  loudnessRange: number;
  silences: Interval[];
  blacks: Interval[];
  /** Runs in which the picture did not change (empty when freezedetect was not in the pass). */
  freezes: Interval[];
}

function lastNumber(text: string, pattern: RegExp): number {
  const all = [...text.matchAll(pattern)];
  const value = all[all.length - 1]?.[1];
  // FFmpeg prints the peak of digital silence as -inf.
  if (value === '-inf') return Number.NEGATIVE_INFINITY;
  return value === undefined ? Number.NaN : Number(value);
}

export interface LoudnessSummary {
  integratedLufs: number;
  /** The gating threshold of the integrated measurement. */
  thresholdLufs: number;
  loudnessRange: number;
  truePeakDb: number;
}

/** ebur128's closing summary (the last one in stderr). */
export function parseLoudnessSummary(stderr: string): LoudnessSummary {
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  return {
    integratedLufs: lastNumber(summary, /I:\s+(-?[\d.]+) LUFS/g),
    thresholdLufs: Number(/Threshold:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]),
    loudnessRange: lastNumber(summary, /LRA:\s+(-?[\d.]+) LU/g),
    truePeakDb: lastNumber(summary, /Peak:\s+(-?[\d.]+|-inf) dBFS/g),
  };
}

/**
 * freezedetect's runs. It prints `lavfi.freezedetect.freeze_start: T` once a run has lasted its
 * minimum, then `freeze_duration` and `freeze_end` when the picture changes again; a run still
 * going when the file ends gets no end line, and is closed at `durationSec`.
 */
export function parseFreezes(stderr: string, durationSec: number): Interval[] {
  const freezes: Interval[] = [];
  let open: number | undefined;
  for (const line of stderr.split('\n')) {
    const start = /freezedetect\.freeze_start: (-?[\d.e+-]+)/.exec(line);
    if (start?.[1]) open = Math.max(0, Number(start[1]));
    const end = /freezedetect\.freeze_end: ([\d.e+-]+)/.exec(line);
    if (end?.[1] && open !== undefined) {
      freezes.push({ startSec: open, endSec: Number(end[1]) });
      open = undefined;
    }
  }
  if (open !== undefined) freezes.push({ startSec: open, endSec: Math.max(open, durationSec) });
  return freezes;
}

/** Reads ebur128's summary, silencedetect's, blackdetect's and freezedetect's lines from stderr. */
export function parseAnalysis(stderr: string, durationSec: number): AnalysisResult {
  const loudness = parseLoudnessSummary(stderr);
  const silences: Interval[] = [];
  let open: number | undefined;
  for (const line of stderr.split('\n')) {
    const start = /silence_start: (-?[\d.]+)/.exec(line);
    if (start?.[1]) open = Math.max(0, Number(start[1]));
    const end = /silence_end: ([\d.]+)/.exec(line);
    if (end?.[1] && open !== undefined) {
      silences.push({ startSec: open, endSec: Number(end[1]) });
      open = undefined;
    }
  }
  if (open !== undefined) silences.push({ startSec: open, endSec: durationSec });
  const blacks = [...stderr.matchAll(/black_start:([\d.]+) black_end:([\d.]+)/g)].map((m) => ({
    startSec: Number(m[1]),
    endSec: Number(m[2]),
  }));
  return {
    integratedLufs: loudness.integratedLufs,
    truePeakDb: loudness.truePeakDb,
    loudnessRange: loudness.loudnessRange,
    silences,
    blacks,
    freezes: parseFreezes(stderr, durationSec),
  };
}
