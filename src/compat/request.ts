/**
 * The original API's job request (`PipelineRequest` of POST /pipeline/run) and its translation into
 * a v1 brief. The original accepted any extra field (`extra="allow"`); those that mean something
 * here are used, and every one is kept with the job (`origin`) for its exports:
 *
 * | field           | becomes                                                                   |
 * |-----------------|---------------------------------------------------------------------------|
 * | content         | `prompt` (one paragraph up to 600 characters) or `script` (longer text)   |
 * | duration_sec    | `targetDurationSec`                                                       |
 * | lang            | `language`                                                                |
 * | preset          | v1 preset + quality tier (compat/presets.ts); ICC presets set `review`    |
 * | priority        | low 0, normal 5, high 8                                                   |
 * | voice           | `voice` when a configured speech provider has it (as given, or as        |
 * |                 | `google:<name>` for a Google voice name); otherwise the language's voice  |
 * | mood            | `music.mood` when it names one (or a near word: joy → uplifting …)        |
 * | emotion         | `music.mood` when no mood is given and it names one                       |
 * | music_style     | `music.style` (a composer's prompt)                                       |
 * | sfx_intensity   | the effects gain (`mix.sfx`): none/low/medium/high or a number 0–2        |
 * | brand_id        | `metadata.brand_id`                                                       |
 *
 * Anything else (transitions, effects, budget …) is kept but not used; `ignored` in the stored
 * request says which fields were not used and why.
 */
import { z } from 'zod';
import { MOODS, PRESET_NAMES, type Mood } from '../contract/brief.js';
import { COMPAT_PRESETS, COMPAT_PRESET_NAMES, isCompatPreset } from './presets.js';
import { PRIORITY_WORDS } from './vocabulary.js';

/** The languages the original accepted. */
export const COMPAT_LANGUAGES = ['en', 'fr', 'es', 'de', 'it', 'pt', 'ja', 'zh', 'ko'] as const;

/** Whole numbers, also when sent as text ("15"), as pydantic accepted them. */
const wholeNumber = z.preprocess((v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v), z.number().int());

export const pipelineRequestSchema = z
  .looseObject({
    content: z.string().trim().min(10, 'write at least 10 characters').max(10_000, 'at most 10000 characters').describe('The idea (one short paragraph) or the narration script.'),
    duration_sec: wholeNumber.pipe(z.number().min(5, 'at least 5 seconds').max(300, 'at most 300 seconds')).default(30),
    lang: z.enum(COMPAT_LANGUAGES).default('en'),
    preset: z
      .string()
      .refine((p) => isCompatPreset(p) || (PRESET_NAMES as readonly string[]).includes(p), `use one of ${[...COMPAT_PRESET_NAMES, ...PRESET_NAMES].join(', ')}`)
      .optional()
      .describe(`${COMPAT_PRESET_NAMES.join(', ')}, or a v1 preset (${PRESET_NAMES.join(', ')}).`),
    priority: z.enum(['low', 'normal', 'high']).default('low'),
  })
  .meta({ id: 'PipelineRequest', description: 'The original API\'s job request; any other field is accepted and kept (voice, mood, music_style, brand_id … are used).' });
export type PipelineRequest = z.infer<typeof pipelineRequestSchema>;

const KNOWN_FIELDS = new Set(['content', 'duration_sec', 'lang', 'preset', 'priority']);

/** Words clients used for moods, and the mood each is nearest to. */
const MOOD_WORDS: Record<string, Mood> = {
  joy: 'uplifting', joyful: 'uplifting', happy: 'uplifting', upbeat: 'uplifting', inspiring: 'uplifting', inspirational: 'uplifting', hopeful: 'uplifting', positive: 'uplifting', energetic: 'uplifting',
  relaxed: 'calm', peaceful: 'calm', serene: 'calm', soft: 'calm', gentle: 'calm', chill: 'calm', ambient: 'calm', neutral: 'calm',
  epic: 'dramatic', cinematic: 'dramatic', intense: 'dramatic', powerful: 'dramatic', emotional: 'dramatic', sad: 'dramatic',
  professional: 'corporate', business: 'corporate', corporate: 'corporate', confident: 'corporate',
  fun: 'playful', quirky: 'playful', funny: 'playful', cheerful: 'playful', light: 'playful',
  suspense: 'tense', suspenseful: 'tense', dark: 'tense', mysterious: 'tense', anxious: 'tense', fear: 'tense',
};

/** The mood a word names (itself, or a near word), if any. */
export function moodOf(word: unknown): Mood | undefined {
  if (typeof word !== 'string') return undefined;
  const w = word.trim().toLowerCase();
  if ((MOODS as readonly string[]).includes(w)) return w as Mood;
  return MOOD_WORDS[w] ?? w.split(/[^a-z]+/).map((part) => MOOD_WORDS[part] ?? ((MOODS as readonly string[]).includes(part) ? (part as Mood) : undefined)).find(Boolean);
}

/** sfx_intensity → the effects gain; 0 turns effects off. */
export function sfxGainOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.min(2, Math.max(0, value));
  const words: Record<string, number> = { none: 0, off: 0, low: 0.3, subtle: 0.3, medium: 0.5, normal: 0.5, high: 0.8, strong: 0.8 };
  return typeof value === 'string' ? words[value.trim().toLowerCase()] : undefined;
}

/** The voice ids to try for an original `voice`, best first: as given, then as a Google voice name. */
export function voiceCandidates(voice: unknown): string[] {
  if (typeof voice !== 'string' || voice.trim() === '' || voice.length > 100) return [];
  const v = voice.trim();
  // fr-FR-Wavenet-D, en-US-Neural2-C, en-GB-Studio-B …: Google Cloud Text-to-Speech's names.
  return /^[a-z]{2,3}-[A-Z]{2}-[A-Za-z0-9]+-[A-Z]$/.test(v) && !v.includes(':') ? [v, `google:${v}`] : [v];
}

export interface Translation {
  /** The v1 production request (brief and options), without a voice: see `voices`. */
  body: Record<string, unknown>;
  /** Voice ids to try in turn; the route keeps the first a speech provider has. */
  voices: string[];
  /** The extra fields as sent. */
  extra: Record<string, unknown>;
  /** Extra fields that were not used, and why. */
  ignored: Record<string, string>;
}

/**
 * Translates a validated request. `autoApproveSec`: the auto-approval wait of ICC jobs (0: none).
 */
export function toProductionRequest(
  request: PipelineRequest,
  options: { autoApproveSec: number; limits?: { maxResolution: '480p' | '720p' | '1080p'; maxDurationSec: number; tier?: string } },
): Translation {
  const extra = Object.fromEntries(Object.entries(request).filter(([key]) => !KNOWN_FIELDS.has(key)));
  const ignored: Record<string, string> = {};
  const compat = isCompatPreset(request.preset) ? COMPAT_PRESETS[request.preset] : undefined;
  const content = request.content;
  const isPrompt = content.length <= 600 && !/\n\s*\n/.test(content);

  const music: Record<string, unknown> = {};
  const mood = moodOf(extra.mood);
  if (mood) music.mood = mood;
  else if (extra.mood !== undefined) ignored.mood = `not a mood; use one of ${MOODS.join(', ')}`;
  const emotionMood = moodOf(extra.emotion);
  if (extra.emotion !== undefined) {
    if (!mood && emotionMood) music.mood = emotionMood;
    else ignored.emotion = mood ? 'mood is used for the music; the voices take no emotion' : 'the voices take no emotion, and it names no mood';
  }
  if (typeof extra.music_style === 'string' && extra.music_style.trim() !== '') music.style = extra.music_style.trim().slice(0, 200);
  else if (extra.music_style !== undefined) ignored.music_style = 'not text';

  const sfx = sfxGainOf(extra.sfx_intensity);
  if (extra.sfx_intensity !== undefined && sfx === undefined) ignored.sfx_intensity = 'use none, low, medium, high or a number from 0 to 2';

  const metadata: Record<string, string> = {};
  if (typeof extra.brand_id === 'string' || typeof extra.brand_id === 'number') metadata.brand_id = String(extra.brand_id).slice(0, 512);
  for (const key of Object.keys(extra)) {
    if (!['voice', 'mood', 'emotion', 'music_style', 'sfx_intensity', 'brand_id'].includes(key)) ignored[key] = 'kept with the job; not used by this server';
  }

  // The original had no tiers: a request is fitted to the tenant's, and what was lowered is said.
  const limits = options.limits;
  const tierName = limits?.tier ?? 'this';
  const duration = limits && request.duration_sec > limits.maxDurationSec ? limits.maxDurationSec : request.duration_sec;
  if (duration !== request.duration_sec) ignored.duration_sec = `the ${tierName} tier makes videos of at most ${duration} s; asked ${duration} s instead of ${request.duration_sec}`;
  const resolution = limits && limits.maxResolution !== '1080p' ? limits.maxResolution : undefined;
  if (resolution) ignored.resolution = `the ${tierName} tier renders at most ${resolution}; rendered at ${resolution}`;

  const review = compat?.allow_icc === true;
  const body: Record<string, unknown> = {
    ...(isPrompt ? { prompt: content } : { script: content }),
    targetDurationSec: duration,
    ...(resolution ? { resolution } : {}),
    language: request.lang,
    ...(request.preset ? { preset: compat ? compat.v1Preset : request.preset } : {}),
    ...(compat ? { quality: compat.quality } : {}),
    ...(Object.keys(music).length > 0 ? { music } : {}),
    ...(sfx === 0 ? { sfx: false } : sfx !== undefined ? { mix: { sfx } } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    priority: PRIORITY_WORDS[request.priority],
    ...(review ? { review: true, ...(options.autoApproveSec > 0 ? { autoApproveAfterSec: options.autoApproveSec } : {}) } : {}),
  };
  return { body, voices: voiceCandidates(extra.voice), extra, ignored };
}

/** The preset a job reports: the one named in its request, `quick_social` when none (as the original did). */
export const reportedPreset = (origin: { preset?: unknown } | null | undefined): string => (typeof origin?.preset === 'string' ? origin.preset : 'quick_social');
