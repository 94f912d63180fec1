import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBrief, resolveBrief, type ResolvedBrief } from '../../contract/resolve.js';
import { storyboardSchema } from '../../contract/storyboard.js';
import { strictSchemaError } from '../../../test/support/fake-openai.js';
import { planMessages, planWithModel, readAnswer, type ChatMessage } from './llm-planner.js';
import { LLM_STORYBOARD_JSON_SCHEMA, briefText, toStoryboard, type LlmStoryboard } from './llm-storyboard.js';

const brief = (input: unknown): ResolvedBrief => resolveBrief(parseBrief(input));

const scene = (narration: string, extra: Partial<LlmStoryboard['scenes'][number]> = {}): LlmStoryboard['scenes'][number] => ({
  narration,
  title: 'A title',
  visualPrompt: 'a quiet harbour at dawn',
  keywords: ['Harbour', 'dawn', 'boats', 'harbour'],
  sfx: ['whoosh'],
  durationSec: null,
  ...extra,
});
const plan = (scenes: LlmStoryboard['scenes'], extra: Partial<LlmStoryboard> = {}): LlmStoryboard => ({
  sourceLanguage: 'en',
  title: 'Harbour',
  mood: 'calm',
  style: 'soft morning light, muted blues, 35 mm lens',
  scenes,
  ...extra,
});

test('the JSON Schema keeps OpenAI strict mode rules: every property required, no extra ones, nullable as a type union', () => {
  assert.equal(strictSchemaError(LLM_STORYBOARD_JSON_SCHEMA), undefined);
  const json = JSON.stringify(LLM_STORYBOARD_JSON_SCHEMA);
  assert.ok(!json.includes('$schema') && !json.includes('maxLength') && !json.includes('anyOf'));
  const sceneSchema = (LLM_STORYBOARD_JSON_SCHEMA.properties as { scenes: { items: { properties: Record<string, { type: unknown }> } } }).scenes.items;
  assert.deepEqual(sceneSchema.properties.durationSec?.type, ['number', 'null']);
  assert.deepEqual(sceneSchema.properties.title?.type, ['string', 'null']);
});

test('the prompt carries the brief: source text, language, length at 17 characters a second, frame, mood, brand colours', () => {
  const [system, user] = planMessages(brief({ prompt: 'A film about tides', language: 'de', targetDurationSec: 60, aspectRatio: '1:1', music: { mood: 'dramatic' }, brand: { colors: { primary: '#abcdef', secondary: '#123456' } }, sfx: false }));
  assert.equal(system?.role, 'system');
  assert.match(system?.content ?? '', /17 characters of narration per second/);
  const text = user?.content ?? '';
  assert.match(text, /about 1020 characters of narration/);
  assert.match(text, /"idea": "A film about tides"/);
  assert.match(text, /"targetLanguage": "de"/);
  assert.match(text, /"frame": "1:1 \(square\)"/);
  assert.match(text, /"mood": "dramatic"/);
  assert.match(text, /#abcdef/);
  assert.match(text, /Sound effects are off/);
  const script = planMessages(brief({ script: 'One line. Two lines.', language: 'fr' }))[1]?.content ?? '';
  assert.match(script, /word for word/);
  assert.match(script, /translate it faithfully into fr/);
  const scenes = planMessages(brief({ scenes: [{ narration: 'Hello 👋 there' }, { visual: { type: 'color', color: '#000' } }] }))[1]?.content ?? '';
  assert.match(scenes, /exactly 2 scenes/);
  assert.match(scenes, /"narration": "Hello there"/);
  assert.match(scenes, /"hasOwnPicture": true/);
});

test('the conversion: ids s1.., gradients from the mood, prompts, keywords cleaned, style, brief title and mood win', () => {
  const b = brief({ prompt: 'A film about tides', title: 'Tides', music: { mood: 'tense' }, sfx: true, seed: 9 });
  const board = toStoryboard(b, briefText(b), plan([scene('The sea comes in.'), scene('The sea goes out.', { durationSec: 6, sfx: ['pop', 'pop'] })]));
  storyboardSchema.parse(board);
  assert.equal(board.title, 'Tides');
  assert.equal(board.mood, 'tense');
  assert.equal(board.style, 'soft morning light, muted blues, 35 mm lens');
  assert.deepEqual(board.scenes.map((s) => s.id), ['s1', 's2']);
  assert.deepEqual(board.scenes[0]?.keywords, ['harbour', 'dawn', 'boats']);
  assert.equal(board.scenes[0]?.visual.type, 'gradient');
  assert.equal(board.scenes[0]?.prompt, 'a quiet harbour at dawn');
  assert.equal(board.scenes[1]?.durationSec, 6);
  assert.deepEqual(board.scenes[1]?.sfx, ['pop']);
  const again = toStoryboard(b, briefText(b), plan([scene('The sea comes in.'), scene('The sea goes out.')]));
  assert.deepEqual(again.scenes.map((s) => s.visual), board.scenes.map((s) => s.visual), 'gradients follow the seed');
  const branded = brief({ prompt: 'A film about tides', brand: { colors: { primary: '#abcdef' } } });
  assert.deepEqual(toStoryboard(branded, briefText(branded), plan([scene('x')])).scenes[0]?.visual, { type: 'gradient', colors: ['#abcdef', '#0f172a'] });
});

test('a script answer that rewrites the words is refused; one that only segments them is taken', () => {
  const b = brief({ script: 'The tide turns twice a day.   The moon pulls it.' });
  const text = briefText(b);
  const ok = readAnswer(b, text, JSON.stringify(plan([scene('The tide turns twice a day.'), scene('The moon pulls it.')])));
  assert.ok('plan' in ok);
  const rewritten = readAnswer(b, text, JSON.stringify(plan([scene('Twice a day, the tide turns.'), scene('The moon pulls it.')])));
  assert.ok('errors' in rewritten && /exact words/.test(rewritten.errors[0] ?? ''));
  const fenced = readAnswer(b, text, '```json\n' + JSON.stringify(plan([scene('The tide turns twice a day. The moon pulls it.')])) + '\n```');
  assert.ok('plan' in fenced, 'a markdown fence around the JSON is tolerated');
  const curly = brief({ script: "It's the tide's hour - \"now\".\n\nThe moon pulls it." });
  const curled = readAnswer(curly, briefText(curly), JSON.stringify(plan([scene('It’s the tide’s hour – “now”.'), scene('The moon pulls it.')])));
  assert.ok('plan' in curled, 'curled quotes and dashes are not a rewrite');
  const board = toStoryboard(curly, briefText(curly), curled.plan);
  assert.deepEqual(board.scenes.map((s) => s.narration), ["It's the tide's hour - \"now\".", 'The moon pulls it.'], 'the narration is the script as written');
  const scenes = brief({ scenes: [{ narration: 'a' }, { narration: 'b' }] });
  const short = readAnswer(scenes, briefText(scenes), JSON.stringify(plan([scene('a')])));
  assert.ok('errors' in short && /exactly 2/.test(short.errors[0] ?? ''));
});

test('the planner asks once more with the errors, sums the usage, and gives up with provider_bad_response', async () => {
  const b = brief({ script: 'The tide turns. The moon pulls it.' });
  const seen: ChatMessage[][] = [];
  const answers = ['not json', JSON.stringify(plan([scene('The tide turns.'), scene('The moon pulls it.')]))];
  const result = await planWithModel('test', b, async (messages) => {
    seen.push(messages);
    return { text: answers[seen.length - 1] ?? '', usage: { inputTokens: 10, outputTokens: 5 } };
  });
  assert.deepEqual(result.usage, { inputTokens: 20, outputTokens: 10 });
  assert.match(seen[1]?.at(-1)?.content ?? '', /not JSON/);
  await assert.rejects(
    planWithModel('test', b, async () => ({ text: '{}', usage: {} })),
    (error: Error & { code?: string }) => error.code === 'provider_bad_response' && /after one repair/.test(error.message),
  );
});
