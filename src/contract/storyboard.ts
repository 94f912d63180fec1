/**
 * The storyboard: the plan stage's output and the document a user reviews (storyboard.json).
 * Every scene has a concrete visual; durations are requests until the narrate stage fixes the
 * timeline (see pipeline/timeline.ts).
 */
import { z } from 'zod';
import { IMAGE_MOTIONS, MOODS, sceneDesignFields, SFX_KINDS, sfxCueSchema, TRANSITIONS, visualSchema } from './brief.js';
import { AppError } from './errors.js';

export const storyboardSceneSchema = z.strictObject({
  /** Stable id (`s1`, `s2` …) so an edited storyboard keeps its cache keys. */
  id: z.string().min(1).max(40),
  narration: z.string().max(5000),
  title: z.string().max(200).optional(),
  visual: visualSchema,
  /** Requested length; absent means "narration plus padding". */
  durationSec: z.number().min(0.5).max(600).optional(),
  keywords: z.array(z.string()).max(20),
  /** What a picture provider should show (a generated image or clip, or a stock search); absent keeps `visual` as it is. */
  prompt: z.string().max(2000).optional(),
  sfx: z.array(z.enum(SFX_KINDS)).max(8),
  /** Camera movement over a still or gradient background whose visual names none (Ken Burns); chosen from the seed when absent. */
  motion: z.enum(IMAGE_MOTIONS).optional(),
  /** How the scene enters from the one before; absent: the brief's transition. */
  transition: z.enum(TRANSITIONS).optional(),
  /** Layout, text animation, list items, counter, extra images and icon (see sceneDesignFields). */
  ...sceneDesignFields,
});
export type StoryboardScene = z.infer<typeof storyboardSceneSchema>;

export const storyboardSchema = z.strictObject({
  title: z.string().max(200),
  language: z.string(),
  mood: z.enum(MOODS),
  /** The look every generated picture shares (lighting, palette, lens): appended to each scene's prompt. */
  style: z.string().max(500).optional(),
  /** Free-text direction for the music (the brief's music.style, or a reviewer's edit): cloud composers get it in their prompt. */
  musicStyle: z.string().max(200).optional(),
  /** Extra cues at absolute times, from the brief's explicit `sfx` list. */
  sfxCues: z.array(sfxCueSchema),
  scenes: z.array(storyboardSceneSchema).min(1).max(400),
  /** Notes from the planner a reviewer should see (e.g. a shortened script). */
  notes: z.array(z.string()),
});
export type Storyboard = z.infer<typeof storyboardSchema>;

/** Parses an edited storyboard, raising `invalid_storyboard` with one detail per bad field. */
export function parseStoryboard(input: unknown): Storyboard {
  // A delivered storyboard.json carries the timeline it was rendered with, for reading; it is an
  // output of the narrate stage, not part of the plan, so an edited file is taken without it.
  const plan = input !== null && typeof input === 'object' && !Array.isArray(input) && 'timeline' in input
    ? Object.fromEntries(Object.entries(input).filter(([key]) => key !== 'timeline'))
    : input;
  const result = storyboardSchema.safeParse(plan);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
  throw new AppError('invalid_storyboard', `invalid storyboard: ${details[0]?.path}: ${details[0]?.message}`, { details });
}

/** One changed field of an edit: `{ old, new }`; an added scene has old null, a removed one new null. */
export type StoryboardChanges = Record<string, { old: unknown; new: unknown }>;

/**
 * What an edit changed, field by field: top-level fields by name (`mood`, `title` …), scene
 * fields as `scenes.<i>.<field>`, and whole scenes as `scenes.<i>` when one was added or removed.
 * Fields that are equal (as JSON) are left out, so an edit that changes nothing is `{}`.
 */
export function diffStoryboards(before: Storyboard, after: Storyboard): StoryboardChanges {
  const changes: StoryboardChanges = {};
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const compare = (path: string, a: Record<string, unknown>, b: Record<string, unknown>): void => {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!same(a[key], b[key])) changes[`${path}${key}`] = { old: a[key] ?? null, new: b[key] ?? null };
    }
  };
  const { scenes: oldScenes, ...oldRest } = before;
  const { scenes: newScenes, ...newRest } = after;
  compare('', oldRest, newRest);
  for (let i = 0; i < Math.max(oldScenes.length, newScenes.length); i++) {
    const a = oldScenes[i];
    const b = newScenes[i];
    if (a && b) compare(`scenes.${i}.`, a, b);
    else changes[`scenes.${i}`] = { old: a ?? null, new: b ?? null };
  }
  return changes;
}
