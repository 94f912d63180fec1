/**
 * The storyboard: the plan stage's output and the document a user reviews (storyboard.json).
 * Every scene has a concrete visual; durations are requests until the narrate stage fixes the
 * timeline (see pipeline/timeline.ts).
 */
import { z } from 'zod';
import { MOODS, SFX_KINDS, sfxCueSchema, visualSchema } from './brief.js';
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
});
export type StoryboardScene = z.infer<typeof storyboardSceneSchema>;

export const storyboardSchema = z.strictObject({
  title: z.string().max(200),
  language: z.string(),
  mood: z.enum(MOODS),
  /** The look every generated picture shares (lighting, palette, lens): appended to each scene's prompt. */
  style: z.string().max(500).optional(),
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
