/**
 * The offline script writer: prompts become a short ad or explainer from templates filled with
 * the prompt's own facts; scripts are segmented into scenes; explicit scenes are completed.
 * Deterministic for a brief and seed.
 */
import { sceneDesignOf, type Mood, type SceneDesign, type SfxKind, type Transition, type Visual } from '../../contract/brief.js';
import { AppError } from '../../contract/errors.js';
import type { ResolvedBrief } from '../../contract/resolve.js';
import type { Storyboard, StoryboardScene } from '../../contract/storyboard.js';
import { createRandom, deriveSeed } from '../../lib/random.js';
import { extractKeywords, isEnglish, moodFromText, sceneEffects } from './keywords.js';
import { sceneGradient } from './palettes.js';
import type { PlanResult, ScriptWriter } from './script.port.js';
import { bare, draftScenes, parsePrompt, titleCase, type DraftScene } from './templates.js';
import { cleanText, segmentScript } from './text.js';

/** Spoken words per second at rate 1, plus a second of padding per scene: sizes prompt plans. */
const WORDS_PER_SECOND = 2.5;
/** A template scene speaks 8–12 words: about 4.5 s with its padding. */
const SECONDS_PER_PROMPT_SCENE = 4.5;

interface Draft extends DraftScene {
  visual?: Visual;
  durationSec?: number;
  sfx?: SfxKind[];
  transition?: Transition;
  design?: SceneDesign;
}

export class RuleBasedWriter implements ScriptWriter {
  readonly id = 'rule-based@1';

  async plan(brief: ResolvedBrief, signal?: AbortSignal): Promise<PlanResult> {
    // A cancelled render plans nothing, whichever writer of the chain it reached.
    if (signal?.aborted) throw new AppError('aborted', 'the render was cancelled');
    return { storyboard: this.write(brief), usage: {} };
  }

  /** The storyboard, synchronously (the estimate sizes a plan with it without a vendor call). */
  write(brief: ResolvedBrief): Storyboard {
    const notes: string[] = [];
    const random = createRandom(deriveSeed(brief.seed, 'plan'));
    let drafts: Draft[];
    let title = brief.title;
    let fallbackMood: Mood = 'uplifting';

    switch (brief.source.kind) {
      case 'prompt': {
        const prompt = cleanText(brief.source.prompt);
        if (prompt.removedEmoji) notes.push('emoji were removed from the prompt: the voice and caption fonts cannot render them');
        if (!isEnglish(brief.language)) {
          notes.push(`prompt templates exist only for English; the ${brief.language} prompt is narrated as written`);
          drafts = segmentScript(prompt.text).map((narration) => ({ narration }));
          break;
        }
        const facts = parsePrompt(prompt.text);
        const target = brief.targetDurationSec ?? facts.durationSec ?? 30;
        const count = Math.min(8, Math.max(4, Math.round(target / SECONDS_PER_PROMPT_SCENE)));
        drafts = draftScenes(facts, count, random);
        title ??= facts.name ?? titleCase(bare(facts.descriptor));
        fallbackMood = facts.style === 'ad' || facts.style === 'announcement' ? 'corporate' : 'uplifting';
        break;
      }
      case 'script': {
        const script = cleanText(brief.source.script);
        if (script.removedEmoji) notes.push('emoji were removed from the script: the voice and caption fonts cannot render them');
        drafts = segmentScript(script.text).map((narration) => ({ narration }));
        const words = script.text.split(/\s+/).length;
        if (brief.targetDurationSec && words / WORDS_PER_SECOND > brief.targetDurationSec * 1.15) {
          notes.push(`the script takes about ${Math.round(words / WORDS_PER_SECOND)} s to speak, longer than the ${brief.targetDurationSec} s target; nothing was cut`);
        }
        if (drafts.length === 0) drafts = [{ narration: '' }];
        if (brief.title && drafts[0]) drafts[0].title = brief.title;
        break;
      }
      case 'scenes': {
        let removed = false;
        drafts = brief.source.scenes.map((s) => {
          const narration = cleanText(s.narration ?? '');
          const sceneTitle = s.title === undefined ? undefined : cleanText(s.title);
          removed ||= narration.removedEmoji || sceneTitle?.removedEmoji === true;
          return { narration: narration.text, title: sceneTitle?.text || undefined, visual: s.visual, durationSec: s.durationSec, sfx: s.sfx, transition: s.transition, design: sceneDesignOf(s) };
        });
        if (removed) notes.push('emoji were removed from scene text: the voice and caption fonts cannot render them');
        break;
      }
    }

    const allText = drafts.map((d) => `${d.title ?? ''} ${d.narration}`).join(' ');
    const mood = brief.music === false || !brief.music.mood ? moodFromText(allText, fallbackMood) : brief.music.mood;
    const explicitCues = Array.isArray(brief.sfx) ? brief.sfx : [];
    const autoSfx = brief.sfx === true;

    const scenes: StoryboardScene[] = drafts.map((d, i) => ({
      id: `s${i + 1}`,
      narration: d.narration,
      ...(d.title ? { title: d.title } : {}),
      visual: d.visual ?? { type: 'gradient', colors: sceneGradient(mood, createRandom(deriveSeed(brief.seed, 'palette', i)), brief.brand?.colors) },
      ...(d.durationSec !== undefined ? { durationSec: d.durationSec } : {}),
      keywords: extractKeywords(`${d.title ?? ''} ${d.narration}`),
      // A picture provider may replace a planned look, never the user's own.
      ...(d.visual ? {} : { prompt: visualPrompt(d) }),
      sfx: d.sfx ?? (autoSfx ? sceneEffects(d.narration, i) : []),
      ...(d.transition ? { transition: d.transition } : {}),
      ...d.design,
    }));

    return {
      title: title ?? titleCase(extractKeywords(allText, 3).join(' ') || 'Untitled'),
      language: brief.language,
      mood,
      style: STYLE_BY_MOOD[mood],
      sfxCues: explicitCues,
      scenes,
      notes,
    };
  }
}

/** One shared look per mood, so generated pictures of one video belong together. */
const STYLE_BY_MOOD: Record<Mood, string> = {
  uplifting: 'bright natural daylight, warm colours, clean modern composition, shallow depth of field',
  calm: 'soft diffused light, muted pastel palette, slow gentle framing, minimal composition',
  dramatic: 'high contrast cinematic lighting, deep shadows, rich saturated colours, wide anamorphic framing',
  corporate: 'clean professional look, neutral palette with blue accents, bright even lighting, modern offices and products',
  playful: 'vivid saturated colours, bold shapes, bright cheerful lighting, fun dynamic framing',
  tense: 'low-key lighting, cold desaturated palette, tight framing, handheld feel',
};

/** What the scene should show: its title and narration, trimmed to a generation prompt. */
function visualPrompt(d: Draft): string {
  const text = [d.title, d.narration].filter(Boolean).join('. ').replace(/\s+/g, ' ').trim();
  return (text.length > 400 ? `${text.slice(0, 400)}…` : text) || 'an abstract background';
}
