/**
 * foley: the storyboard's effect cues placed on the timeline and rendered as one stem.
 * A transition whoosh peaks on the cut, a riser ends on it, everything else lands just after.
 */
import { join } from 'node:path';
import type { SfxKind } from '../../contract/brief.js';
import { AppError } from '../../contract/errors.js';
import type { Storyboard } from '../../contract/storyboard.js';
import type { PlacedEffect } from '../../providers/sfx/sfx.port.js';
import type { Stage } from '../context.js';
import type { Timeline } from '../timeline.js';

/** Seconds before the scene's first frame at which an effect starts. */
const LEAD: Partial<Record<SfxKind, number>> = { whoosh: 0.35, riser: 1.9, swell: 0.8 };

export function placeEffects(storyboard: Storyboard, timeline: Timeline): PlacedEffect[] {
  const placed: PlacedEffect[] = [];
  storyboard.scenes.forEach((scene, i) => {
    const slot = timeline.scenes[i];
    if (!slot) return;
    for (const kind of scene.sfx) {
      const atSec = Math.max(0, slot.startSec - (LEAD[kind] ?? -0.05));
      placed.push({ kind, atSec: Math.round(atSec * 1000) / 1000, gain: 1 });
    }
  });
  for (const cue of storyboard.sfxCues) {
    placed.push({ kind: cue.kind, atSec: cue.atSec, gain: cue.gain ?? 1 });
  }
  return placed.filter((e) => e.atSec < timeline.totalSec).sort((a, b) => a.atSec - b.atSec);
}

export const foleyStage: Stage = {
  name: 'foley',
  weight: 3,
  async run(state, ctx) {
    const { brief, storyboard, timeline } = state;
    if (!storyboard || !timeline) throw new AppError('internal', 'foley needs a storyboard and a timeline');
    const effects = brief.sfx === false ? [] : placeEffects(storyboard, timeline);
    if (effects.length === 0) return { sfx: null };
    const request = { effects, durationSec: timeline.totalSec, seed: brief.seed };
    const { value: unit, member } = await ctx.providers.foley.run(
      (m, guarded) =>
        ctx.deps.cache.memo('foley', { provider: m.provider.id, scope: m.scope, ...request }, (dir) =>
          guarded((signal) => m.provider.renderStem(request, join(dir, 'sfx.wav'), signal)),
        { signal: ctx.signal, note: (n) => ctx.note(n) }),
      { signal: ctx.signal, onFallback: (f) => ctx.fallback(f) },
    );
    ctx.unit(unit.hit);
    ctx.progress(1);
    ctx.record(member.provider.id, { effects: effects.length }, unit.hit ? {} : unit.value.usage);
    const credits = unit.value.attributions ?? [];
    return { sfx: { path: unit.value.path, key: unit.key, effects }, ...(credits.length > 0 ? { attributions: credits } : {}) };
  },
};
