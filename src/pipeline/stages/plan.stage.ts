/**
 * plan: brief → storyboard, through the plan chain (an LLM planner when one is configured, the
 * rule-based writer last); cached on the brief and the writer, so a re-render never pays twice.
 */
import { parseStoryboard, storyboardSchema } from '../../contract/storyboard.js';
import type { Usage } from '../../providers/provider.js';
import type { Stage } from '../context.js';
import { mediaIdentity } from '../media-identity.js';
import type { ResolvedBrief } from '../../contract/resolve.js';
import { pickTemplate } from '../../design/templates/pick.js';

/**
 * What the storyboard's notes say of the brief's look: the template it came from, and for a
 * prompt whose words call for that template (expandBriefTemplate picks it so), which words.
 */
export function lookNote(brief: ResolvedBrief): string | undefined {
  const name = brief.design.template;
  if (!name) return undefined;
  const pick = brief.source.kind === 'prompt' ? pickTemplate(brief.source.prompt) : undefined;
  return pick?.name === name
    ? `look: the "${name}" template's (palette, motion, transitions, captions, music); the prompt's words call for it: ${pick.words.join(', ')}`
    : `look: the "${name}" template's (palette, motion, transitions, captions, music)`;
}

export const planStage: Stage = {
  name: 'plan',
  weight: 2,
  async run(state, ctx) {
    if (state.storyboard) {
      // A reviewed or edited storyboard replaces planning; validate it like any input.
      return { storyboard: parseStoryboard(state.storyboard) };
    }
    const { brief } = state;
    // Keyed on the brief's media by content: a URL's download lands on a new path every attempt.
    const media = await mediaIdentity(brief, state.baseDir);
    const { value: unit, member } = await ctx.providers.plan.run(
      (m, guarded) =>
        ctx.deps.cache.memo(
          'plan',
          { writer: m.provider.id, scope: m.scope, v: 2, brief: media.keyed },
          async () => {
            const result = await guarded((signal) => m.provider.plan(brief, signal));
            return { storyboard: storyboardSchema.parse(result.storyboard), usage: result.usage };
          },
          { signal: ctx.signal, note: (n) => ctx.note(n), refs: media.refs },
        ),
      { signal: ctx.signal, onFallback: (f) => ctx.fallback(f) },
    );
    ctx.unit(unit.hit);
    const planned = unit.value.storyboard;
    // The brief's music direction travels with the plan, where a reviewer can edit it.
    const style = brief.music === false ? undefined : brief.music.style;
    const styled = style && !planned.musicStyle ? { ...planned, musicStyle: style } : planned;
    // The look a template gave, said in the storyboard's notes: a picked one would surprise otherwise.
    const look = lookNote(brief);
    const storyboard = look ? { ...styled, notes: [look, ...styled.notes] } : styled;
    for (const note of storyboard.notes) ctx.note(note);
    const usage: Usage = unit.hit ? {} : unit.value.usage;
    ctx.record(member.provider.id, { scenes: storyboard.scenes.length }, usage);
    return { storyboard };
  },
};
