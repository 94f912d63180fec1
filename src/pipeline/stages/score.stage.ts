/**
 * score: a music bed exactly the timeline's length, in the storyboard's mood, through the score
 * chain (a composed track when a music provider is configured, the procedural composer last).
 */
import { join } from 'node:path';
import { AppError } from '../../contract/errors.js';
import type { Stage } from '../context.js';

export const scoreStage: Stage = {
  name: 'score',
  weight: 5,
  async run(state, ctx) {
    const { brief, storyboard, timeline } = state;
    if (!storyboard || !timeline) throw new AppError('internal', 'score needs a storyboard and a timeline');
    if (brief.music === false) return { music: null };
    const base = { mood: storyboard.mood, durationSec: timeline.totalSec, seed: brief.seed };
    // Cloud composers take a text prompt: what the video is about. The offline one does not (nor does its key).
    const about = [storyboard.title, ...storyboard.scenes.slice(0, 2).map((s) => s.narration)].join('. ').slice(0, 400);
    const { value: unit, member } = await ctx.providers.score.run(
      (m, guarded) => {
        const request = m.offline ? base : { ...base, brief: about, ...(storyboard.musicStyle ? { style: storyboard.musicStyle } : {}) };
        return ctx.deps.cache.memo('score', { provider: m.provider.id, scope: m.scope, ...request }, (dir) =>
          guarded((signal) => m.provider.compose(request, join(dir, 'music.wav'), signal)),
        { signal: ctx.signal, note: (n) => ctx.note(n) });
      },
      { signal: ctx.signal, onFallback: (f) => ctx.fallback(f) },
    );
    ctx.unit(unit.hit);
    ctx.progress(1);
    ctx.record(member.provider.id, { secondsOfMusic: timeline.totalSec }, unit.hit ? {} : unit.value.usage);
    const { usage: _billed, attribution, ...music } = unit.value;
    return { music: { ...music, key: unit.key }, ...(attribution ? { attributions: [attribution] } : {}) };
  },
};
