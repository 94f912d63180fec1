/**
 * FFmpeg arguments for the audio stages: the voice stem (each scene's narration placed at its
 * start), the mix (voice, ducked music, effects), and two-pass EBU R128 loudness normalisation.
 */

const f3 = (n: number): string => String(Math.round(n * 1000) / 1000);
const QUIET = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'];

export interface VoicePart {
  /** A narration WAV, or undefined for a silent scene. */
  path?: string;
  /** Silence before the narration inside the scene. */
  leadSec: number;
  /** The scene's full length; the part is padded or cut to it. */
  durationSec: number;
}

/** One 48 kHz mono WAV: every scene's narration in order, each padded to its scene's length. */
export function buildVoiceStemArgs(parts: readonly VoicePart[], outPath: string): string[] {
  const inputs: string[] = [];
  const graph: string[] = [];
  parts.forEach((part, i) => {
    if (part.path) {
      const input = inputs.length / 2;
      inputs.push('-i', part.path);
      const delayMs = Math.round(part.leadSec * 1000);
      graph.push(
        `[${input}:a]aresample=48000,aformat=sample_fmts=s16:channel_layouts=mono,` +
          `adelay=${delayMs},apad,atrim=end_sample=${Math.round(part.durationSec * 48000)}[p${i}]`,
      );
    } else {
      graph.push(`anullsrc=r=48000:cl=mono,atrim=end_sample=${Math.round(part.durationSec * 48000)},aformat=sample_fmts=s16[p${i}]`);
    }
  });
  graph.push(`${parts.map((_, i) => `[p${i}]`).join('')}concat=n=${parts.length}:v=0:a=1[voice]`);
  return [...QUIET, ...inputs, '-filter_complex', graph.join(';'), '-map', '[voice]', '-c:a', 'pcm_s16le', '-ar', '48000', outPath];
}

export interface MixPlan {
  voicePath: string;
  musicPath?: string;
  sfxPath?: string;
  gains: { voice: number; music: number; sfx: number };
  ducking: boolean;
  totalSec: number;
  outPath: string;
}

/**
 * Voice, music and effects summed at their gains; the music is compressed by the voice through
 * sidechaincompress (ducking). amix divides by its input count, so the sum is scaled back up.
 * The mix is measured (EBU R128, with true peak) in the same pass; ebur128 prints its summary on stderr.
 */
export function buildMixArgs(plan: MixPlan): string[] {
  const inputs = ['-i', plan.voicePath];
  const graph: string[] = [`[0:a]aformat=channel_layouts=stereo,volume=${plan.gains.voice}[vo]`];
  const bus: string[] = [];
  if (plan.musicPath) {
    inputs.push('-i', plan.musicPath);
    const m = inputs.length / 2 - 1;
    if (plan.ducking) {
      graph[0] = `[0:a]aformat=channel_layouts=stereo,volume=${plan.gains.voice},asplit=2[vo][key]`;
      // The gain goes after the compressor (the same result: detection is on the key): the 2018
      // static build cannot negotiate formats when a volume filter feeds sidechaincompress.
      graph.push(`[${m}:a][key]sidechaincompress=threshold=0.03:ratio=6:attack=30:release=350:makeup=1,volume=${plan.gains.music}[md]`);
    } else {
      graph.push(`[${m}:a]volume=${plan.gains.music}[md]`);
    }
    bus.push('[md]');
  }
  if (plan.sfxPath) {
    inputs.push('-i', plan.sfxPath);
    graph.push(`[${inputs.length / 2 - 1}:a]volume=${plan.gains.sfx}[fx]`);
    bus.push('[fx]');
  }
  const all = ['[vo]', ...bus];
  graph.push(
    all.length === 1
      ? '[vo]anull[mix]'
      : `${all.join('')}amix=inputs=${all.length}:duration=first:dropout_transition=0,volume=${all.length}[mix]`,
  );
  // Pass 1 of the loudness normalisation rides along: ebur128 measures the mix as it is written.
  graph.push(`[mix]atrim=end_sample=${Math.round(plan.totalSec * 48000)},asplit=2[out][meter]`);
  graph.push('[meter]ebur128=peak=true:framelog=verbose,anullsink');
  return [
    '-hide_banner', '-nostdin', '-y', '-nostats', '-loglevel', 'info',
    ...inputs, '-filter_complex', graph.join(';'), '-map', '[out]', '-c:a', 'pcm_s16le', '-ar', '48000', '-ac', '2', plan.outPath,
  ];
}

export interface LoudnessTarget {
  integratedLufs: number;
  truePeakDb: number;
}

export interface Measured {
  integratedLufs: number;
  thresholdLufs: number;
  loudnessRange: number;
  truePeakDb: number;
}

/** Margin between the limiter's sample-peak ceiling and the true-peak target: inter-sample peaks. */
const LIMITER_MARGIN_DB = 0.3;

/**
 * Pass 2 of the normalisation: the gain that brings the measured integrated loudness to the
 * target, followed, when that gain would push the true peak over the ceiling, by a look-ahead
 * limiter just under it. Linear gain keeps the mix's dynamics; the limiter only touches peaks.
 * (loudnorm's own second pass does the same but resamples to 192 kHz: 1.6 s against 0.2 s for
 * 30 s of audio here.)
 */
export function buildLoudnessApplyArgs(inPath: string, outPath: string, target: LoudnessTarget, m: Measured): string[] {
  const gain = Math.round((target.integratedLufs - m.integratedLufs) * 100) / 100;
  const filters = [`volume=${gain}dB`];
  if (m.truePeakDb + gain > target.truePeakDb) {
    const limit = Math.round(10 ** ((target.truePeakDb - LIMITER_MARGIN_DB) / 20) * 10000) / 10000;
    filters.push(`alimiter=limit=${limit}:attack=5:release=50:level=false`);
  }
  return [...QUIET, '-i', inPath, '-af', `${filters.join(',')},aformat=sample_fmts=s16:channel_layouts=stereo`, '-c:a', 'pcm_s16le', outPath];
}

export { f3 as formatSeconds };
