/** score: a music bed exactly the timeline's length, in the storyboard's mood. */
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
    const composer = ctx.deps.providers.music;
    const request = { mood: storyboard.mood, durationSec: timeline.totalSec, seed: brief.seed };
    const unit = await ctx.deps.cache.memo('score', { provider: composer.id, ...request }, (dir) =>
      composer.compose(request, join(dir, 'music.wav'), ctx.signal),
    { signal: ctx.signal, note: (m) => ctx.note(m) });
    ctx.unit(unit.hit);
    ctx.progress(1);
    ctx.record(composer.id, { secondsOfMusic: timeline.totalSec });
    return { music: { ...unit.value, key: unit.key } };
  },
};
