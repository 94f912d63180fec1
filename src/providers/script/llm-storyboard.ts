/**
 * The storyboard a language model writes: one zod schema (validation and the JSON Schema sent as
 * the vendor's structured-output format), the checks a brief adds to it (a script's own words, the
 * user's scene count), and its conversion into the project's Storyboard.
 *
 * The model writes words and looks only. Every scene still gets the offline visual (a gradient, as
 * the rule-based writer draws it) so a render without picture providers looks right; the model's
 * `visualPrompt` becomes the scene's `prompt` for the picture providers that follow.
 */
import { z } from 'zod';
import { MOODS, sceneDesignOf, SFX_KINDS, type SfxKind } from '../../contract/brief.js';
import type { ResolvedBrief } from '../../contract/resolve.js';
import type { Storyboard, StoryboardScene } from '../../contract/storyboard.js';
import { createRandom, deriveSeed } from '../../lib/random.js';
import { sceneGradient } from './palettes.js';
import { cleanText } from './text.js';

/** Narration speed the plan is sized with: about 17 characters of text per second of speech. */
export const CHARACTERS_PER_SECOND = 17;

export const llmSceneSchema = z.strictObject({
  narration: z.string().max(5000).describe('What the voice says over this scene, in the target language.'),
  title: z.string().max(200).nullable().describe('A short on-screen title (2–6 words), or null for none.'),
  visualPrompt: z.string().min(1).max(2000).describe('What the picture shows, as a prompt for an image or video generator: subject, setting, action. No text in the picture.'),
  keywords: z.array(z.string().min(1).max(60)).min(3).max(8).describe('3–8 stock-footage search keywords, most specific first.'),
  sfx: z.array(z.enum(SFX_KINDS)).max(8).describe('Sound effects at the start of the scene; usually none or one.'),
  durationSec: z.number().min(0.5).max(600).nullable().describe('Seconds the scene lasts, or null to follow the narration.'),
});
export type LlmScene = z.infer<typeof llmSceneSchema>;

export const llmStoryboardSchema = z.strictObject({
  sourceLanguage: z.string().min(2).max(35).describe("BCP-47 tag of the language the user's script or scenes are written in (for a prompt: of the prompt)."),
  title: z.string().min(1).max(200).describe('Title of the video.'),
  mood: z.enum(MOODS).describe('The music mood.'),
  style: z.string().min(1).max(500).describe('One sentence of look shared by every scene: lighting, palette, lens.'),
  scenes: z.array(llmSceneSchema).min(1).max(400),
});
export type LlmStoryboard = z.infer<typeof llmStoryboardSchema>;

/** The name the schema travels under (OpenAI's `json_schema.name`: letters, digits, _ and -). */
export const LLM_STORYBOARD_NAME = 'aiprod_storyboard';

/**
 * Keywords both OpenAI's strict mode and Gemini's `responseJsonSchema` accept. Length limits and
 * number ranges stay in the zod schema, which checks every answer anyway.
 */
const KEPT = new Set(['type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'description', 'minItems', 'maxItems', 'anyOf']);

function strictSubset(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictSubset);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!KEPT.has(key)) continue;
    out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, strictSubset(v)])) : strictSubset(value);
  }
  // Nullable as a type union (`["string", "null"]`), which both vendors read, rather than anyOf.
  const options = out.anyOf as Record<string, unknown>[] | undefined;
  if (options?.every((o) => Object.keys(o).length === 1 && typeof o.type === 'string')) {
    out.type = options.map((o) => o.type);
    delete out.anyOf;
  }
  // Strict mode: every property required (optional ones are nullable), nothing else allowed.
  if (out.type === 'object' && out.properties) {
    out.required = Object.keys(out.properties);
    out.additionalProperties = false;
  }
  return out;
}

/** The JSON Schema of `llmStoryboardSchema`, in the subset strict structured outputs accept. */
export const LLM_STORYBOARD_JSON_SCHEMA = strictSubset(z.toJSONSchema(llmStoryboardSchema, { target: 'draft-7' })) as Record<string, unknown>;

/** Primary language subtag, lower case: "pt-BR" → "pt". */
export const primaryLanguage = (tag: string): string => tag.trim().toLowerCase().split(/[-_]/)[0] ?? '';

/**
 * Text with every space removed and typographic quotes and dashes folded, for comparing a script
 * with its segmentation (CJK joins without spaces; models like to curl quotes). Every fold maps
 * one code point to one, so positions in the squashed text map back to the script (`recut`).
 */
const squash = (text: string): string =>
  text.normalize('NFC').replace(/\s+/g, '').replace(/[‘’ʼ]/g, "'").replace(/[“”„]/g, '"').replace(/[‐‑‒–—]/g, '-');

/**
 * The script cut where the model cut it: each part takes as many visible characters of the
 * script as the model's part has, so the narration is the user's text exactly as written.
 */
function recut(script: string, parts: readonly string[]): string[] {
  const chars = [...script.normalize('NFC')];
  let at = 0;
  return parts.map((part, i) => {
    const start = at;
    let need = [...squash(part)].length;
    while (at < chars.length && need > 0) {
      if (!/\s/.test(chars[at] as string)) need--;
      at++;
    }
    return chars.slice(start, i === parts.length - 1 ? chars.length : at).join('').trim();
  });
}

/** What the brief's own text is once cleaned the way the rule-based writer cleans it. */
export interface BriefText {
  /** The cleaned script (script briefs). */
  script?: string;
  /** The user's scenes, cleaned (scenes briefs). */
  scenes?: { narration?: string; title?: string }[];
  notes: string[];
}

export function briefText(brief: ResolvedBrief): BriefText {
  const source = brief.source;
  switch (source.kind) {
    case 'prompt':
      return { notes: cleanText(source.prompt).removedEmoji ? ['emoji were removed from the prompt: the voice and caption fonts cannot render them'] : [] };
    case 'script': {
      const script = cleanText(source.script);
      return { script: script.text, notes: script.removedEmoji ? ['emoji were removed from the script: the voice and caption fonts cannot render them'] : [] };
    }
    case 'scenes': {
      let removed = false;
      const scenes = source.scenes.map((s) => {
        const narration = s.narration === undefined ? undefined : cleanText(s.narration);
        const title = s.title === undefined ? undefined : cleanText(s.title);
        removed ||= narration?.removedEmoji === true || title?.removedEmoji === true;
        return { narration: narration?.text || undefined, title: title?.text || undefined };
      });
      return { scenes, notes: removed ? ['emoji were removed from scene text: the voice and caption fonts cannot render them'] : [] };
    }
  }
}

/** Whether the model says the script is in another language than the brief's (so it was translated). */
export function isTranslation(brief: ResolvedBrief, plan: LlmStoryboard): boolean {
  return brief.source.kind === 'script' && primaryLanguage(plan.sourceLanguage) !== primaryLanguage(brief.language);
}

/**
 * What the brief requires of an answer beyond its schema, as messages the model can act on:
 * a script in the brief's language is segmented, never rewritten; a scenes brief keeps its count.
 */
export function briefViolations(brief: ResolvedBrief, text: BriefText, plan: LlmStoryboard): string[] {
  const problems: string[] = [];
  if (brief.source.kind === 'script' && text.script !== undefined && !isTranslation(brief, plan)) {
    const expected = squash(text.script);
    const got = squash(plan.scenes.map((s) => s.narration).join(' '));
    if (expected !== got) {
      let at = 0;
      while (at < expected.length && expected[at] === got[at]) at++;
      problems.push(
        `scenes[].narration, joined in order, must be the script's exact words (segmented, not rewritten, nothing left out); with spaces ignored, they differ from character ${at}: ` +
          `expected "${expected.slice(at, at + 40)}", got "${got.slice(at, at + 40)}"`,
      );
    }
  }
  if (brief.source.kind === 'scenes' && plan.scenes.length !== brief.source.scenes.length) {
    problems.push(`scenes must have exactly ${brief.source.scenes.length} entries, one per scene of the brief in the same order; got ${plan.scenes.length}`);
  }
  if (brief.source.kind !== 'scenes') {
    const empty = plan.scenes.findIndex((s) => !s.narration.trim());
    if (empty >= 0) problems.push(`scenes[${empty}].narration is empty: every scene is narrated`);
  }
  return problems;
}

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function keywordsOf(scene: LlmScene): string[] {
  const seen = new Set<string>();
  for (const k of scene.keywords) {
    const word = k.trim().toLowerCase().replace(/\s+/g, ' ');
    if (word) seen.add(clip(word, 60));
  }
  return [...seen].slice(0, 8);
}

/** The project's storyboard from a checked answer. */
export function toStoryboard(brief: ResolvedBrief, text: BriefText, plan: LlmStoryboard): Storyboard {
  const notes = [...text.notes];
  const mood = brief.music !== false && brief.music.mood ? brief.music.mood : plan.mood;
  const autoSfx = brief.sfx === true;
  const userScenes = brief.source.kind === 'scenes' ? brief.source.scenes : undefined;
  if (isTranslation(brief, plan)) {
    notes.push(`the script is written in ${plan.sourceLanguage}; its narration was translated into ${brief.language}`);
  }
  if (brief.source.kind === 'script' && brief.targetDurationSec && !isTranslation(brief, plan)) {
    const seconds = Math.round((text.script ?? '').length / CHARACTERS_PER_SECOND);
    if (seconds > brief.targetDurationSec * 1.15) notes.push(`the script takes about ${seconds} s to speak, longer than the ${brief.targetDurationSec} s target; nothing was cut`);
  }

  const kept = brief.source.kind === 'script' && !isTranslation(brief, plan) ? recut(text.script ?? '', plan.scenes.map((s) => s.narration)) : undefined;
  const scenes: StoryboardScene[] = plan.scenes.map((s, i) => {
    const user = userScenes?.[i];
    const own = text.scenes?.[i];
    const narration = own?.narration ?? kept?.[i] ?? cleanText(s.narration).text;
    const title = own?.title ?? (s.title ? cleanText(s.title).text : undefined);
    const durationSec = user?.durationSec ?? s.durationSec ?? undefined;
    const sfx: SfxKind[] = user?.sfx ?? (autoSfx ? [...new Set(s.sfx)].slice(0, 8) : []);
    return {
      id: `s${i + 1}`,
      narration: clip(narration, 5000),
      ...(title ? { title: clip(title, 200) } : {}),
      visual: user?.visual ?? { type: 'gradient', colors: sceneGradient(mood, createRandom(deriveSeed(brief.seed, 'palette', i)), brief.brand?.colors) },
      ...(durationSec !== undefined ? { durationSec } : {}),
      keywords: keywordsOf(s),
      // A picture provider may replace a planned look, never the user's own.
      ...(user?.visual ? {} : { prompt: clip(s.visualPrompt.trim() || title || narration || 'an abstract background', 2000) }),
      sfx,
      ...(user?.transition ? { transition: user.transition } : {}),
      ...sceneDesignOf(user),
    };
  });

  return {
    title: clip(brief.title ?? plan.title.trim(), 200) || 'Untitled',
    language: brief.language,
    mood,
    style: clip(plan.style.trim(), 500),
    sfxCues: Array.isArray(brief.sfx) ? brief.sfx : [],
    scenes,
    notes,
  };
}
