/** qa: measures the delivered MP4 (ffprobe plus one analysis pass) and applies the quality gates. */
import { AppError } from '../../contract/errors.js';
import { buildAnalysisArgs, parseAnalysis } from '../../media/args/analysis.js';
import type { Stage } from '../context.js';
import { evaluateQa, LIMITS } from '../qa/checks.js';

export const qaStage: Stage = {
  name: 'qa',
  weight: 10,
  async run(state, ctx) {
    const { brief, timeline, outputs, narration, captions = [] } = state;
    const mp4 = outputs?.find((o) => o.kind === 'mp4');
    if (!timeline || !mp4 || !narration) throw new AppError('internal', 'qa needs the mp4, the timeline and the narration');
    const probed = await ctx.deps.media.probe(mp4.path, ctx.signal);
    ctx.progress(0.1, 'probed');
    const args = buildAnalysisArgs(mp4.path, {
      silenceNoiseDb: -50,
      silenceMinSec: LIMITS.silenceSec,
      blackMinSec: LIMITS.blackSec,
      analysisWidth: 320,
    });
    const { stderr } = await ctx.deps.media.ffmpeg(args, { signal: ctx.signal });
    const analysis = parseAnalysis(stderr, probed.durationSec);
    const report = evaluateQa(probed, analysis, {
      timeline,
      width: brief.width,
      height: brief.height,
      loudnessLufs: brief.mix.loudnessLufs,
      truePeakDb: brief.mix.truePeakDb,
      narration: Object.fromEntries(Object.entries(narration).map(([id, n]) => [id, n.text])),
      captionsExpected: brief.captions !== false,
      captions,
    });
    ctx.progress(1);
    ctx.record('ffprobe-qa@1', { secondsAnalysed: probed.durationSec });
    return { qa: report };
  },
};
