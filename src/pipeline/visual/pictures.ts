/**
 * Provider pictures for the scenes that may have one: each scene the planner gave a prompt and the
 * user gave no media of their own goes through the visualize chain (generated image or clip, stock
 * footage or photo; the offline provider keeps the planned look). Each picture is a cached unit
 * keyed on the provider and the request, so a re-render never pays for it twice.
 *
 * What comes back replaces the scene's planned look for this render only (the storyboard keeps
 * its prompt and gradient): an image becomes a Ken Burns still, a clip a video background that is
 * looped or trimmed to the scene and scaled and cropped to the frame.
 */
import type { Visual } from '../../contract/brief.js';
import type { ResolvedBrief } from '../../contract/resolve.js';
import type { Storyboard } from '../../contract/storyboard.js';
import { deriveSeed } from '../../lib/random.js';
import { pool } from '../../lib/settle.js';
import { addUsage, type Usage } from '../../providers/provider.js';
import type { Attribution, VisualRequest } from '../../providers/visuals/visual.port.js';
import type { ProductionState, StageContext } from '../context.js';
import { pictureKind, wantsPicture } from '../estimate.js';
import type { Timeline } from '../timeline.js';

/** Scenes whose pictures are requested at once when PipelineDeps does not say. */
const DEFAULT_CONCURRENCY = 4;

export interface Pictures {
  /** Per storyboard scene: the provider's media as a visual, or undefined to keep the planned look. */
  visuals: (Visual | undefined)[];
  pictures: NonNullable<ProductionState['pictures']>;
  attributions: Attribution[];
}

export async function fetchPictures(storyboard: Storyboard, timeline: Timeline, brief: ResolvedBrief, ctx: StageContext): Promise<Pictures> {
  const chain = ctx.providers.visualize;
  const visuals = new Array<Visual | undefined>(storyboard.scenes.length).fill(undefined);
  const pictures: Pictures['pictures'] = {};
  const attributions: Attribution[] = [];
  // Offline only: nothing to ask, and nothing to cache.
  if (chain.members.every((m) => m.offline)) return { visuals, pictures, attributions };
  const wanted = storyboard.scenes.flatMap((scene, index) => (wantsPicture(scene) ? [{ scene, index }] : []));
  const billed = new Map<string, { usage: Usage; pictures: number }>();
  let done = 0;
  await pool(wanted, ctx.deps.pictureConcurrency ?? DEFAULT_CONCURRENCY, async ({ scene, index }, _i, signal) => {
    const slot = timeline.scenes[index];
    const request: VisualRequest = {
      sceneId: scene.id,
      prompt: scene.prompt ?? scene.narration,
      style: storyboard.style ?? '',
      keywords: scene.keywords,
      // Whole seconds: a scene that grows by a frame does not ask for a new clip.
      durationSec: Math.ceil(slot?.durationSec ?? 5),
      width: brief.width,
      height: brief.height,
      aspectRatio: brief.aspectRatio,
      seed: deriveSeed(brief.seed, 'picture', index),
      // The tier the render runs at (a budget may have stepped it down from the brief's).
      prefer: pictureKind(ctx.providers.quality),
    };
    const { value: unit, member } = await chain.run(
      (m, guarded) =>
        ctx.deps.cache.memo('picture', { provider: m.provider.id, scope: m.scope, variant: m.provider.variant, ...request }, (dir) => guarded((attempt) => m.provider.generate(request, dir, attempt)), {
          signal,
          note: (n) => ctx.note(n),
        }),
      { signal, onFallback: (f) => ctx.fallback(f) },
    );
    ctx.unit(unit.hit);
    const result = unit.value;
    const spent = billed.get(member.provider.id) ?? { usage: {}, pictures: 0 };
    billed.set(member.provider.id, spent);
    if (result.kind === 'planned') return;
    spent.pictures++;
    if (!unit.hit) addUsage(spent.usage, result.usage);
    visuals[index] = result.kind === 'image' ? { type: 'image', src: result.path, fit: 'cover' } : { type: 'video', src: result.path };
    pictures[scene.id] = { provider: member.provider.id, kind: result.kind, ...(result.attribution ? { attribution: result.attribution } : {}) };
    if (result.attribution) attributions.push(result.attribution);
    ctx.progress((0.3 * ++done) / wanted.length, `picture ${done}/${wanted.length}`);
  }, ctx.signal);
  for (const [provider, spent] of billed) if (spent.pictures > 0) ctx.record(provider, { pictures: spent.pictures }, spent.usage);
  return { visuals, pictures, attributions };
}
