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
import type { Stage } from '../context.js';

/** AAC encoding can push inter-sample peaks up a few tenths of a dB; normalise below the ceiling. */
const CODEC_HEADROOM_DB = 0.5;
/** The encoded soundtrack must land this far under the true-peak ceiling. */
const DELIVERY_MARGIN_DB = 0.1;
/** Gain-and-encode rounds before giving up on the ceiling (one is the rule, two is rare). */
const MAX_ROUNDS = 3;

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
      method: 2,
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
      // Pass 2, closed loop: apply the gain, encode the AAC the MP4 will carry, and measure that.
      // How much AAC raises the true peak depends on the material (0.3–0.8 dB measured), so when
      // the encoded peak is over the ceiling the limiter's ceiling drops by the excess and the
      // round repeats.
      const path = join(dir, 'final.wav');
      const aacPath = join(dir, 'final.m4a');
      const ceiling = brief.mix.truePeakDb - DELIVERY_MARGIN_DB;
      let apply: string[] = [];
      let encoded = measured;
      let rounds = 0;
      for (let limit = target.truePeakDb; rounds < MAX_ROUNDS; rounds++) {
        apply = buildLoudnessApplyArgs(mixedPath, path, { ...target, truePeakDb: limit }, measured);
        await run(apply);
        await run(buildAudioOnlyArgs(path, aacPath));
        encoded = parseLoudnessSummary((await run(buildLoudnessMeasureArgs(aacPath))).stderr);
        if (!(encoded.truePeakDb > ceiling)) break;
        limit -= encoded.truePeakDb - ceiling + DELIVERY_MARGIN_DB;
      }
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
          rounds: Math.min(rounds + 1, MAX_ROUNDS),
        },
      };
    }, { signal: ctx.signal, note: (m) => ctx.note(m) });
    ctx.unit(unit.hit);
    ctx.progress(1);
    ctx.record('ffmpeg-mix@1', { secondsMixed: timeline.totalSec });
    return { mix: { path: unit.value.path, aacPath: unit.value.aacPath, key: unit.key, loudness: unit.value.loudness } };
  },
};
