/**
 * The planner's choice of template for a prompt brief that names none: every template's keywords
 * (and, more weakly, the words of its title and description) are matched against the prompt's
 * words, and the best score wins when it is clear — at least one keyword, and ahead of the next.
 * Deterministic: the same prompt always picks the same template, or none.
 *
 *   pickTemplate('Launch our new app')?.name; // 'product-launch'
 *   pickTemplate('xqzt blorp');               // undefined
 */
import type { TemplateName } from '../../contract/brief.js';
import { templates } from './registry.js';
import type { Template } from './template.schema.js';

/** A keyword (one word or a phrase) that the prompt holds. */
const KEYWORD_SCORE = 2;
/** A phrase of several words is a stronger sign than one word. */
const PHRASE_SCORE = 3;
/** A word of the template's title or description: a hint, never enough alone. */
const DESCRIPTION_SCORE = 0.5;
/** Below this, nothing matches well enough to choose a look for the user. */
const MIN_SCORE = KEYWORD_SCORE;

/** Words too common to tell templates apart. */
const STOP_WORDS = new Set(
  'a an and are as at be by for from has have in is it its of on or our that the their this to was we what with you your who how when where one two'.split(' '),
);

export interface TemplatePick {
  name: TemplateName;
  score: number;
  /** The keywords and description words of the prompt that matched, for the storyboard's note. */
  words: string[];
}

/** A word without a plural or possessive ending, so "votes" matches "vote" (but "news" stays). */
function stem(word: string): string {
  const bare = word.replace(/'s$/, '');
  return bare.length > 3 && /[^iusw']s$/.test(bare) ? bare.slice(0, -1) : bare;
}

/** The prompt's words, lower-case and stemmed, in order. */
export function promptWords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? []).map((w) => stem(w.replace(/'$/, '')));
}

/** Whether `phrase` (already split into stemmed words) occurs in `words`. */
function holds(words: readonly string[], phrase: readonly string[]): boolean {
  for (let i = 0; i + phrase.length <= words.length; i++) {
    if (phrase.every((p, k) => words[i + k] === p)) return true;
  }
  return false;
}

/** How well `words` match one template, and the words that did. */
export function scoreTemplate(template: Template, words: readonly string[]): { score: number; words: string[] } {
  let score = 0;
  const matched: string[] = [];
  for (const keyword of template.keywords) {
    const phrase = promptWords(keyword);
    if (phrase.length === 0 || !holds(words, phrase)) continue;
    score += phrase.length > 1 ? PHRASE_SCORE : KEYWORD_SCORE;
    matched.push(keyword);
  }
  const described = new Set(promptWords(`${template.title} ${template.description}`).filter((w) => w.length >= 4 && !STOP_WORDS.has(w)));
  for (const word of new Set(words)) {
    if (!described.has(word) || matched.some((m) => promptWords(m).includes(word))) continue;
    score += DESCRIPTION_SCORE;
    matched.push(word);
  }
  return { score, words: matched };
}

/** The template whose look suits `prompt` best, or undefined when none matches well or two tie. */
export function pickTemplate(prompt: string, all: readonly Template[] = templates()): TemplatePick | undefined {
  const words = promptWords(prompt);
  const ranked = all
    .map((template) => ({ name: template.name, ...scoreTemplate(template, words) }))
    .sort((a, b) => b.score - a.score);
  const [best, next] = ranked;
  if (!best || best.score < MIN_SCORE) return undefined;
  // A tie is no choice: the prompt speaks for two looks equally, so neither is imposed.
  if (next && next.score === best.score) return undefined;
  return best;
}
