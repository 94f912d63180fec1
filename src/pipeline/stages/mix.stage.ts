/**
 * mix: the voice stem (each scene's narration at its place), music ducked under it, effects, at
 * the brief's gains; then two-pass EBU R128 normalisation to the loudness target. One cached unit
 * keyed on the keys of everything it consumes.
 */
import { join } from 'node:path';
import { AppError } from '../../contract/errors.js';
import { buildLoudnessMeasureArgs, parseLoudnessSummary } from '../../media/args/analysis.js';
import { buildLoudnessApplyArgs, buildMixArgs, buildVoiceStemArgs, type VoicePart } from '../../media/args/audio.js';
import { buildAudioOnlyArgs } from '../../media/args/final.js';
import type { RunResult } from '../../media/ffmpeg.js';
import type { Stage } from '../context.js';

/** AAC encoding can push inter-sample peaks up a few tenths of a dB; normalise below the ceiling. */
const CODEC_HEADROOM_DB = 0.5;
/** The encoded soundtrack must land this far under the true-peak ceiling. */
const DELIVERY_MARGIN_DB = 0.1;
/** Gain-and-encode rounds before giving up (one is the rule; a hard-limited mix takes two or three). */
const MAX_ROUNDS = 4;
/** How close the encoded loudness must land to the target (QA allows 1 LU). */
const LOUDNESS_SLACK_LU = 0.5;

export const mixStage: Stage = {
  name: 'mix',
  weight: 8,
  async run(state, ctx) {
    const { brief, timeline, narration, music, sfx } = state;
    if (!timeline || !narration || music === undefined || sfx === undefined) {
      throw new AppError('internal', 'mix needs narration, music and effects');
    }
    const parts: (VoicePart & { key?: string })[] = timeline.scenes.map((slot) => {
      const n = narration[slot.id];
      return { path: n?.path, key: n?.key, leadSec: slot.speechStartSec - slot.startSec, durationSec: slot.durationSec };
    });
    const target = { integratedLufs: brief.mix.loudnessLufs, truePeakDb: brief.mix.truePeakDb - CODEC_HEADROOM_DB };
    const keyParts = {
      // Bumped when the mixing method changes, so cached mixes made the old way are not re-used.
      method: 3,
      voice: parts.map(({ key, leadSec, durationSec }) => ({ key: key ?? null, leadSec, durationSec })),
      music: music?.key ?? null,
      sfx: sfx?.key ?? null,
      mix: brief.mix,
      totalSec: timeline.totalSec,
    };
    const run = (args: string[]) => ctx.deps.media.ffmpeg(args, { signal: ctx.signal });
    const unit = await ctx.deps.cache.memo('mix', keyParts, async (dir) => {
      const voicePath = join(dir, 'voice.wav');
      await run(buildVoiceStemArgs(parts, voicePath));
      ctx.progress(0.25, 'voice stem');
      const mixedPath = join(dir, 'mixed.wav');
      const mixed = await run(
        buildMixArgs({
          voicePath,
          musicPath: music?.path,
          sfxPath: sfx?.path,
          gains: { voice: brief.mix.voice, music: brief.mix.music, sfx: brief.mix.sfx },
          ducking: brief.mix.ducking,
          totalSec: timeline.totalSec,
          outPath: mixedPath,
        }),
      );
      const measured = parseLoudnessSummary(mixed.stderr);
      if (!Number.isFinite(measured.integratedLufs)) {
        throw new AppError('ffmpeg_failed', 'the mix could not be measured: is it silent?');
      }
      ctx.progress(0.6, 'mixed and measured');
      // Pass 2, closed loop (normaliseLoudness): apply the gain, encode the AAC the MP4 will carry,
      // measure that, and correct both the true peak and the loudness the limiter took.
      const path = join(dir, 'final.wav');
      const aacPath = join(dir, 'final.m4a');
      const { apply, encoded, rounds } = await normaliseLoudness(run, { mixedPath, path, aacPath, measured, ...target, ceilingDb: brief.mix.truePeakDb - DELIVERY_MARGIN_DB });
      return {
        path,
        aacPath,
        voicePath,
        loudness: {
          inputLufs: measured.integratedLufs,
          inputTruePeakDb: measured.truePeakDb,
          mode: apply.some((a) => a.includes('alimiter')) ? ('gain+limiter' as const) : ('gain' as const),
          encodedLufs: encoded.integratedLufs,
          encodedTruePeakDb: encoded.truePeakDb,
          rounds,
        },
      };
    }, { signal: ctx.signal, note: (m) => ctx.note(m) });
    ctx.unit(unit.hit);
    ctx.progress(1);
    ctx.record('ffmpeg-mix@1', { secondsMixed: timeline.totalSec });
    return { mix: { path: unit.value.path, aacPath: unit.value.aacPath, key: unit.key, loudness: unit.value.loudness } };
  },
};

type Measured = ReturnType<typeof parseLoudnessSummary>;

/**
 * The second pass of the loudness normalisation, as a closed loop on the encoded AAC. The gain is
 * worked out from the first pass's measurement, and a limiter holds the true peak. How much AAC then
 * raises the peak depends on the material (0.3–0.8 dB measured), so a peak over the ceiling lowers
 * the limiter's ceiling by the excess; and a limiter that works hard (speech and effects with a high
 * peak-to-loudness ratio) takes loudness with it — up to 1.8 LU in the soak — so a round that lands
 * short of the target raises the gain by what is missing. The peak is the hard limit: it is fixed
 * first, the loudness after.
 */
export async function normaliseLoudness(
  run: (args: string[]) => Promise<RunResult>,
  o: { mixedPath: string; path: string; aacPath: string; measured: Measured; integratedLufs: number; truePeakDb: number; ceilingDb: number },
): Promise<{ apply: string[]; encoded: Measured; rounds: number }> {
  let limit = o.truePeakDb;
  let boost = 0;
  let apply: string[] = [];
  let encoded = o.measured;
  let rounds = 0;
  // The closest round to the loudness target whose peak was under the ceiling: where the loop goes
  // back to if its last round is over the ceiling (a boost can push AAC's overshoot past it).
  let safe: { boost: number; limit: number; offLu: number } | undefined;
  const round = async (gain: number, ceiling: number): Promise<void> => {
    rounds++;
    apply = buildLoudnessApplyArgs(o.mixedPath, o.path, { integratedLufs: o.integratedLufs + gain, truePeakDb: ceiling }, o.measured);
    await run(apply);
    await run(buildAudioOnlyArgs(o.path, o.aacPath));
    encoded = parseLoudnessSummary((await run(buildLoudnessMeasureArgs(o.aacPath))).stderr);
  };
  while (rounds < MAX_ROUNDS) {
    await round(boost, limit);
    const peakOver = encoded.truePeakDb > o.ceilingDb;
    const shortLu = o.integratedLufs - encoded.integratedLufs;
    if (!peakOver && (!safe || Math.abs(shortLu) < safe.offLu)) safe = { boost, limit, offLu: Math.abs(shortLu) };
    if (!peakOver && Math.abs(shortLu) <= LOUDNESS_SLACK_LU) return { apply, encoded, rounds };
    if (peakOver) limit -= encoded.truePeakDb - o.ceilingDb + DELIVERY_MARGIN_DB;
    else boost += shortLu;
  }
  // Out of rounds: the peak is the hard limit, so the last round stands only if it kept under it.
  if (encoded.truePeakDb > o.ceilingDb && safe) await round(safe.boost, safe.limit);
  return { apply, encoded, rounds };
}
