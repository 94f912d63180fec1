/** plan: brief → storyboard, through the script-writer port; cached on the brief and writer. */
import { parseStoryboard, storyboardSchema } from '../../contract/storyboard.js';
import type { Stage } from '../context.js';
import { mediaIdentity } from '../media-identity.js';

export const planStage: Stage = {
  name: 'plan',
  weight: 2,
  async run(state, ctx) {
    if (state.storyboard) {
      // A reviewed or edited storyboard replaces planning; validate it like any input.
      return { storyboard: parseStoryboard(state.storyboard) };
    }
    const writer = ctx.deps.providers.script;
    const { brief } = state;
    // Keyed on the brief's media by content: a URL's download lands on a new path every attempt.
    const media = await mediaIdentity(brief, state.baseDir);
    const { value, hit } = await ctx.deps.cache.memo(
      'plan',
      { writer: writer.id, brief: media.keyed },
      async () => storyboardSchema.parse((await writer.plan(brief, ctx.signal)).storyboard),
      { signal: ctx.signal, note: (m) => ctx.note(m), refs: media.refs },
    );
    ctx.unit(hit);
    for (const note of value.notes) ctx.note(note);
    ctx.record(writer.id, { scenes: value.scenes.length });
    return { storyboard: value };
  },
};
