/**
 * What the language-model planners share, whatever the vendor: the prompt built from the brief,
 * and the exchange around it — ask, check the answer against the storyboard schema and the brief,
 * ask once more with the errors when it does not match, else fail with `provider_bad_response` so
 * the chain falls back to the rule-based writer.
 *
 * The brief travels as a JSON document inside the user message (the model reads structure better
 * than prose, and nothing the user wrote is mistaken for an instruction of ours).
 *
 * @example
 *   const result = await planWithModel('openai', brief, (messages, signal) => callVendor(messages, signal), signal);
 */
import { SFX_KINDS, MOODS } from '../../contract/brief.js';
import type { ResolvedBrief } from '../../contract/resolve.js';
import { ProviderError } from '../provider-error.js';
import { addUsage, type Usage } from '../provider.js';
import { CHARACTERS_PER_SECOND, briefText, briefViolations, llmStoryboardSchema, toStoryboard, type BriefText, type LlmStoryboard } from './llm-storyboard.js';
import type { PlanResult } from './script.port.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ModelAnswer {
  /** The JSON text the model wrote. */
  text: string;
  usage: Usage;
}

/** One vendor call with the messages so far; throws a ProviderError (or AppError 'aborted'). */
export type AskModel = (messages: ChatMessage[]) => Promise<ModelAnswer>;

/** A prompt brief without a length asks for about this long a video. */
const DEFAULT_PROMPT_SECONDS = 30;

const SYSTEM = [
  'You are the creative director of a video production service. You turn a brief into the storyboard of a short narrated video:',
  'scenes, each with the narration a voice-over speaks, a short on-screen title, a visual prompt for an image or video generator,',
  'stock-footage keywords and sound-effect cues. Answer with one JSON object that follows the response schema, nothing else.',
  '',
  'Rules:',
  '- Narration is spoken text: plain sentences, no stage directions, no speaker labels, no markdown, no emoji, no URLs.',
  `- Speech runs at about ${CHARACTERS_PER_SECOND} characters of narration per second; size the narration with that.`,
  '- visualPrompt: one concrete picture per scene (subject, setting, action, camera), composed for the frame shape given; no text, logos or captions in the picture.',
  '- style: one sentence of look shared by every scene (lighting, colour palette, lens), so pictures made separately belong together; do not repeat it in each visualPrompt.',
  `- mood: the music mood, one of ${MOODS.join(', ')}; use the brief's mood when it gives one.`,
  `- sfx: effects from ${SFX_KINDS.join(', ')}, at most one per scene and often none; empty lists when the brief turns effects off.`,
  '- keywords: 3 to 8 short search terms a stock-footage library would find for the scene.',
  '- durationSec: null unless the brief or the scene calls for a length of its own.',
  "- sourceLanguage: the BCP-47 tag of the language the user's text is written in.",
  '- Write narration, titles and the video title in the target language of the brief.',
].join('\n');

function sourceRules(brief: ResolvedBrief, text: BriefText): { rules: string; document: Record<string, unknown> } {
  const source = brief.source;
  switch (source.kind) {
    case 'prompt': {
      const seconds = brief.targetDurationSec ?? DEFAULT_PROMPT_SECONDS;
      const scenes = Math.min(12, Math.max(3, Math.round(seconds / 5)));
      return {
        rules:
          `Write the video from the user's idea below. Aim for about ${Math.round(seconds * CHARACTERS_PER_SECOND)} characters of narration in all ` +
          `(about ${seconds} s${brief.targetDurationSec ? '' : ', unless the idea asks for another length'}), in about ${scenes} scenes. ` +
          "Keep the idea's own names, facts and claims; invent no prices, statistics or promises it does not make.",
        document: { kind: 'prompt', idea: source.prompt, suggestedScenes: scenes },
      };
    }
    case 'script': {
      const script = text.script ?? '';
      return {
        rules:
          'The user wrote the narration script below. Split it into scenes in order, each one to three sentences (about 3 to 8 seconds of speech). ' +
          `If the script is written in the target language (${brief.language}), each scene's narration is the script's own text, word for word: ` +
          'do not rewrite, shorten, correct, reorder or add anything; joined in order, the narrations are the whole script. ' +
          `If the script is written in another language, translate it faithfully into ${brief.language}, sentence by sentence, adding and leaving out nothing, ` +
          'and set sourceLanguage to the language of the script.',
        document: { kind: 'script', script, scriptSeconds: Math.round(script.length / CHARACTERS_PER_SECOND) },
      };
    }
    case 'scenes': {
      const scenes = source.scenes.map((s, i) => ({
        narration: text.scenes?.[i]?.narration ?? null,
        title: text.scenes?.[i]?.title ?? null,
        hasOwnPicture: s.visual !== undefined,
        durationSec: s.durationSec ?? null,
      }));
      return {
        rules:
          `The user gave the ${scenes.length} scenes below. Answer with exactly ${scenes.length} scenes, in the same order. ` +
          'Where a scene gives its narration or title, copy it unchanged; write only what is null, in the target language, fitting the scenes around it. ' +
          "A scene with hasOwnPicture shows the user's own picture: its visualPrompt only describes it for the record.",
        document: { kind: 'scenes', scenes },
      };
    }
  }
}

/** The system and user messages of a plan request. */
export function planMessages(brief: ResolvedBrief, text: BriefText = briefText(brief)): ChatMessage[] {
  const { rules, document } = sourceRules(brief, text);
  const orientation = brief.width > brief.height ? 'landscape' : brief.width < brief.height ? 'portrait' : 'square';
  const colours = Object.entries(brief.brand?.colors ?? {}).filter(([, v]) => v !== undefined);
  const json = {
    ...document,
    targetLanguage: brief.language,
    targetDurationSec: brief.targetDurationSec ?? null,
    frame: `${brief.aspectRatio} (${orientation})`,
    mood: brief.music !== false ? (brief.music.mood ?? null) : null,
    title: brief.title ?? null,
    brandColours: colours.length > 0 ? Object.fromEntries(colours) : null,
    soundEffects: brief.sfx === true,
  };
  const extras = [
    colours.length > 0 ? 'Build the style around the brand colours.' : '',
    brief.sfx === true ? '' : 'Sound effects are off: every sfx list is empty.',
  ].filter(Boolean);
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: `${rules}${extras.length ? `\n${extras.join(' ')}` : ''}\n\nBrief:\n\`\`\`json\n${JSON.stringify(json, null, 2)}\n\`\`\`` },
  ];
}

/** A lower temperature where the user's words are kept, more freedom where the model writes. */
export const planTemperature = (brief: ResolvedBrief): number => (brief.source.kind === 'prompt' ? 0.8 : 0.3);

/** The answer as a storyboard plan, or the list of what is wrong with it. */
export function readAnswer(brief: ResolvedBrief, text: BriefText, answer: string): { plan: LlmStoryboard } | { errors: string[] } {
  // Some OpenAI-compatible servers (local models) wrap JSON in a markdown fence even in JSON mode.
  const body = answer.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return { errors: [`the answer is not JSON (${error instanceof Error ? error.message : String(error)})`] };
  }
  const result = llmStoryboardSchema.safeParse(parsed);
  if (!result.success) return { errors: result.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
  const violations = briefViolations(brief, text, result.data);
  return violations.length > 0 ? { errors: violations } : { plan: result.data };
}

/**
 * Asks for a storyboard; an answer that does not fit is sent back once with its errors.
 * Throws `provider_bad_response` when the second answer does not fit either.
 */
export async function planWithModel(provider: string, brief: ResolvedBrief, ask: AskModel): Promise<PlanResult> {
  const text = briefText(brief);
  const messages = planMessages(brief, text);
  const first = await ask(messages);
  let usage = first.usage;
  let read = readAnswer(brief, text, first.text);
  if ('errors' in read) {
    const repair: ChatMessage[] = [
      ...messages,
      { role: 'assistant', content: first.text },
      {
        role: 'user',
        content: `That answer does not fit. Fix these problems and answer again with the whole corrected JSON object:\n${read.errors.map((e) => `- ${e}`).join('\n')}`,
      },
    ];
    const second = await ask(repair);
    usage = { ...usage };
    addUsage(usage, second.usage);
    read = readAnswer(brief, text, second.text);
    if ('errors' in read) {
      // Asked twice already: another try would pay twice again, and one brief the model cannot fit says nothing about the vendor's health.
      throw new ProviderError('provider_bad_response', provider, `the storyboard did not fit its schema after one repair: ${read.errors.slice(0, 3).join('; ')}`, { retryable: false, vendorFault: false });
    }
  }
  return { storyboard: toStoryboard(brief, text, read.plan), usage };
}

/** Vendors sometimes quote the key they refused; it never goes further than the adapter. */
export function redact<E extends Error>(error: E, apiKey: string): E {
  if (apiKey.length >= 4 && error.message.includes(apiKey)) error.message = error.message.split(apiKey).join('[redacted]');
  return error;
}
