/**
 * A small deterministic "language model" for the fake vendor servers (fake-openai.ts,
 * fake-gemini.ts): it reads the brief document the planner puts in its first user message (the
 * last ```json block) and writes a storyboard answer that fits the planner's response schema, so
 * adapter tests see their brief travel to the vendor and come back as scenes.
 *
 * - prompt: `suggestedScenes` scenes narrating the idea's words;
 * - script: the script's sentences, two per scene, word for word; when the script's language (a
 *   stop-word guess) is not the target language, each sentence is "translated" as `[<lang>] <sentence>`;
 * - scenes: one answer per scene, copying the user's narration and titles, filling the gaps.
 */

export interface FakeChatMessage {
  role: string;
  content: string;
}

interface BriefDocument {
  kind: 'prompt' | 'script' | 'scenes';
  idea?: string;
  suggestedScenes?: number;
  script?: string;
  scenes?: { narration: string | null; title: string | null; hasOwnPicture: boolean; durationSec: number | null }[];
  targetLanguage: string;
  mood: string | null;
  title: string | null;
  brandColours: Record<string, string> | null;
  soundEffects: boolean;
}

const STOPWORDS: Record<string, string[]> = {
  fr: ['le', 'la', 'les', 'et', 'est', 'une', 'des', 'du', 'pour', 'avec', 'nous', 'vous'],
  de: ['der', 'die', 'das', 'und', 'ist', 'ein', 'eine', 'mit', 'für', 'wir', 'nicht'],
  es: ['el', 'los', 'las', 'y', 'es', 'una', 'con', 'para', 'por', 'que', 'nosotros'],
  en: ['the', 'and', 'is', 'a', 'an', 'of', 'to', 'with', 'for', 'we', 'you', 'your'],
};

/** The language whose stop-words occur most (English on a tie or none). */
export function guessLanguage(text: string): string {
  const words = text.toLowerCase().match(/\p{L}+/gu) ?? [];
  let best = 'en';
  let bestScore = 0;
  for (const [language, stops] of Object.entries(STOPWORDS)) {
    const score = words.filter((w) => stops.includes(w)).length;
    if (score > bestScore) [best, bestScore] = [language, score];
  }
  return best;
}

/** The brief document of a plan request: the last ```json block of the first user message. */
export function briefDocument(messages: readonly FakeChatMessage[]): BriefDocument {
  const user = messages.find((m) => m.role === 'user')?.content ?? '';
  const blocks = [...user.matchAll(/```json\n([\s\S]*?)\n```/g)];
  const json = blocks.at(-1)?.[1];
  if (!json) throw new Error('the first user message carries no ```json brief document');
  return JSON.parse(json) as BriefDocument;
}

const sentences = (text: string): string[] => text.split(/(?<=[.!?])\s+/).map((s) => s.trim()).filter(Boolean);

function keywords(text: string): string[] {
  const words = [...new Set((text.toLowerCase().match(/\p{L}{4,}/gu) ?? []))].slice(0, 5);
  for (const pad of ['video', 'scene', 'story']) if (words.length < 3 && !words.includes(pad)) words.push(pad);
  return words;
}

/** A storyboard answer (as the planner's response schema describes it) for the request's messages. */
export function fakePlan(messages: readonly FakeChatMessage[]): Record<string, unknown> {
  const doc = briefDocument(messages);
  const target = doc.targetLanguage.split('-')[0] ?? 'en';
  let sourceLanguage = target;
  let drafts: { narration: string; title: string | null; durationSec: number | null }[];
  switch (doc.kind) {
    case 'prompt': {
      const idea = (doc.idea ?? '').replace(/\s+/g, ' ').trim();
      const count = Math.max(1, doc.suggestedScenes ?? 4);
      drafts = Array.from({ length: count }, (_, i) => ({ narration: `${idea.slice(0, 120)}, part ${i + 1}.`, title: `Part ${i + 1}`, durationSec: null }));
      sourceLanguage = guessLanguage(idea);
      break;
    }
    case 'script': {
      const script = doc.script ?? '';
      sourceLanguage = guessLanguage(script);
      const translate = sourceLanguage !== target;
      const parts = sentences(script).map((s) => (translate ? `[${target}] ${s}` : s));
      drafts = [];
      for (let i = 0; i < parts.length; i += 2) drafts.push({ narration: parts.slice(i, i + 2).join(' '), title: null, durationSec: null });
      if (drafts.length === 0) drafts.push({ narration: script, title: null, durationSec: null });
      break;
    }
    case 'scenes':
      drafts = (doc.scenes ?? []).map((s, i) => ({
        narration: s.narration ?? `Narration written for scene ${i + 1}.`,
        title: s.title ?? `Scene ${i + 1}`,
        durationSec: s.durationSec,
      }));
      break;
  }
  const colours = doc.brandColours ? ` in ${Object.values(doc.brandColours).join(' and ')}` : '';
  return {
    sourceLanguage,
    title: doc.title ?? (drafts[0]?.narration.split(/\s+/).slice(0, 4).join(' ') || 'Untitled'),
    mood: doc.mood ?? 'uplifting',
    style: `soft natural daylight, clean palette${colours}, 35 mm lens`,
    scenes: drafts.map((d, i) => ({
      narration: d.narration,
      title: d.title,
      visualPrompt: `a picture of ${d.narration.slice(0, 80)}`,
      keywords: keywords(d.narration),
      sfx: doc.soundEffects && i === 0 ? ['whoosh'] : [],
      durationSec: d.durationSec,
    })),
  };
}

/** An answer that parses as JSON but breaks the storyboard schema (no scene has keywords). */
export function brokenPlan(messages: readonly FakeChatMessage[]): Record<string, unknown> {
  const plan = fakePlan(messages);
  return { ...plan, mood: 'jolly', scenes: (plan.scenes as Record<string, unknown>[]).map(({ keywords: _keywords, ...scene }) => scene) };
}

/** Roughly what a tokenizer would count: a token per four characters. */
export const tokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));
