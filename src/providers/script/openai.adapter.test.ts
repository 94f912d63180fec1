import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AppError } from '../../contract/errors.js';
import { parseBrief, resolveBrief, type ResolvedBrief } from '../../contract/resolve.js';
import { storyboardSchema } from '../../contract/storyboard.js';
import { FakeOpenAI } from '../../../test/support/fake-openai.js';
import { providerContext } from '../../../test/support/provider-context.js';
import { ProviderChain, type Fallback } from '../chain.js';
import { ProviderError } from '../provider-error.js';
import { ProviderGuard } from '../resilience.js';
import { openaiPlanDescriptor } from './openai.adapter.js';
import { RuleBasedWriter } from './rule-based.adapter.js';
import type { ScriptWriter } from './script.port.js';

const KEY = 'sk-test-plan-0123456789';
let fake: FakeOpenAI;
let writer: ScriptWriter;

const brief = (input: unknown): ResolvedBrief => resolveBrief(parseBrief(input));
const SCRIPT = 'Coffee starts with a seed. Farmers pick the ripe cherries by hand. The beans dry in the sun for weeks. Then we roast them slowly. And the cup in your hand tells that whole story.';

before(async () => {
  fake = await FakeOpenAI.start({ apiKeys: [KEY, 'sk-tenant-key-9876'] });
  writer = openaiPlanDescriptor.create(await providerContext({ baseUrl: `${fake.url}/v1`, apiKey: KEY, model: 'gpt-4o-mini' }));
});
after(async () => {
  assert.deepEqual(fake.unexpected, []);
  await fake.close();
});

async function rejects(promise: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AppError, `an AppError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.ok(!error.message.includes(KEY), 'the key stays out of the message');
    return error;
  }
  assert.fail(`expected ${code}`);
}

test('the descriptor names the provider, its key, base URL, models and id', () => {
  assert.equal(openaiPlanDescriptor.name, 'openai');
  assert.equal(openaiPlanDescriptor.stage, 'plan');
  assert.equal(openaiPlanDescriptor.keyEnv, 'OPENAI_API_KEY');
  assert.equal(openaiPlanDescriptor.baseUrlEnv, 'OPENAI_BASE_URL');
  assert.equal(openaiPlanDescriptor.defaultBaseUrl, 'https://api.openai.com/v1');
  assert.equal(openaiPlanDescriptor.modelEnv, 'AIPROD_LLM_MODEL');
  assert.deepEqual(openaiPlanDescriptor.models, { economy: 'gpt-4o-mini', standard: 'gpt-4o-mini', premium: 'gpt-4o' });
  assert.equal(writer.id, 'openai:gpt-4o-mini');
});

test('a prompt brief goes out as a strict json_schema request and comes back as a valid storyboard with token usage', async () => {
  const before = fake.chats.length;
  const { storyboard, usage } = await writer.plan(brief({ prompt: 'A launch video for Lumen, a desk lamp that follows the sun', targetDurationSec: 20, aspectRatio: '9:16', brand: { colors: { primary: '#112233' } }, seed: 5 }));
  storyboardSchema.parse(storyboard);
  const chat = fake.chats[before];
  assert.ok(chat);
  assert.equal(chat.model, 'gpt-4o-mini');
  assert.equal(chat.body.seed, 5);
  assert.equal(chat.body.temperature, 0.8);
  const format = chat.body.response_format as { type: string; json_schema: { name: string; strict: boolean } };
  assert.equal(format.type, 'json_schema');
  assert.equal(format.json_schema.strict, true);
  assert.deepEqual(chat.messages.map((m) => m.role), ['system', 'user']);
  const user = chat.messages[1]?.content ?? '';
  assert.match(user, /Lumen, a desk lamp that follows the sun/);
  assert.match(user, /about 340 characters of narration/); // 20 s × 17 characters
  assert.match(user, /9:16 \(portrait\)/);
  assert.match(user, /#112233/);
  assert.equal(storyboard.scenes.length, 4); // the suggested count for 20 s, echoed by the fake model
  assert.deepEqual(storyboard.scenes.map((s) => s.id), ['s1', 's2', 's3', 's4']);
  for (const scene of storyboard.scenes) {
    assert.match(scene.narration, /Lumen/);
    assert.equal(scene.visual.type, 'gradient');
    assert.ok(scene.prompt?.startsWith('a picture of'));
    assert.ok(scene.keywords.length >= 3 && scene.keywords.length <= 8);
  }
  assert.match(storyboard.style ?? '', /#112233/);
  assert.ok((usage.inputTokens ?? 0) > 0 && (usage.outputTokens ?? 0) > 0);
  assert.deepEqual(Object.keys(usage).sort(), ['inputTokens', 'outputTokens']);
});

test('a reasoning model pinned by the operator gets no temperature (it accepts only its default)', async () => {
  fake.models.push('o4-mini');
  const reasoning = openaiPlanDescriptor.create(await providerContext({ baseUrl: `${fake.url}/v1`, apiKey: KEY, model: 'o4-mini' }));
  await reasoning.plan(brief({ script: SCRIPT }));
  assert.equal(fake.chats.at(-1)?.model, 'o4-mini');
  assert.equal('temperature' in (fake.chats.at(-1)?.body ?? {}), false);
});

test('a script brief keeps the user\'s words, segmented into scenes', async () => {
  const { storyboard } = await writer.plan(brief({ script: SCRIPT }));
  assert.equal(storyboard.scenes.map((s) => s.narration).join(' '), SCRIPT);
  assert.equal(storyboard.scenes.length, 3);
  assert.deepEqual(storyboard.notes, []);
  assert.match(fake.chats.at(-1)?.messages[1]?.content ?? '', /Farmers pick the ripe cherries by hand/);
});

test('a script in another language than the brief\'s is translated, and a note says so', async () => {
  const { storyboard } = await writer.plan(brief({ script: SCRIPT, language: 'fr' }));
  assert.equal(storyboard.language, 'fr');
  assert.ok(storyboard.scenes.every((s) => s.narration.startsWith('[fr] ')));
  assert.ok(storyboard.notes.some((n) => /written in en.*translated into fr/.test(n)), storyboard.notes.join('; '));
});

test('a scenes brief keeps the user\'s narration, titles and pictures; the model fills only the gaps', async () => {
  const { storyboard } = await writer.plan(brief({
    sfx: true,
    scenes: [
      { narration: 'Our own opening line.', title: 'Hello', visual: { type: 'image', src: 'hero.png' }, durationSec: 4, sfx: ['chime'] },
      { title: 'No narration here' },
      { narration: 'A closing line of ours.' },
    ],
  }));
  const [a, b, c] = storyboard.scenes;
  assert.ok(a && b && c);
  assert.equal(storyboard.scenes.length, 3);
  assert.deepEqual([a.narration, a.title, a.durationSec, a.sfx], ['Our own opening line.', 'Hello', 4, ['chime']]);
  assert.deepEqual(a.visual, { type: 'image', src: 'hero.png' });
  assert.equal(a.prompt, undefined, 'a user picture is never replaced');
  assert.equal(b.title, 'No narration here');
  assert.equal(b.narration, 'Narration written for scene 2.');
  assert.equal(c.narration, 'A closing line of ours.');
  assert.equal(c.title, 'Scene 3');
  assert.ok(b.prompt && c.prompt);
});

test('sound effects: the model\'s cues only when the brief asks for automatic ones; explicit cues go to sfxCues', async () => {
  const auto = await writer.plan(brief({ prompt: 'A quick teaser for a bike race', sfx: true }));
  assert.deepEqual(auto.storyboard.scenes[0]?.sfx, ['whoosh']);
  const off = await writer.plan(brief({ prompt: 'A quick teaser for a bike race', sfx: false }));
  assert.ok(off.storyboard.scenes.every((s) => s.sfx.length === 0));
  assert.match(fake.chats.at(-1)?.messages[1]?.content ?? '', /Sound effects are off/);
  const cues = [{ kind: 'impact' as const, atSec: 2 }];
  const explicit = await writer.plan(brief({ prompt: 'A quick teaser for a bike race', sfx: cues }));
  assert.deepEqual(explicit.storyboard.sfxCues, cues);
  assert.ok(explicit.storyboard.scenes.every((s) => s.sfx.length === 0));
});

test('an answer that breaks the schema is sent back once with its errors, and the repaired one is used', async () => {
  fake.fail('invalid_storyboard');
  const before = fake.chats.length;
  const { storyboard, usage } = await writer.plan(brief({ script: SCRIPT }));
  assert.equal(fake.chats.length, before + 2);
  const repair = fake.chats[before + 1]?.messages ?? [];
  assert.deepEqual(repair.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
  assert.match(repair[3]?.content ?? '', /keywords/);
  assert.match(repair[3]?.content ?? '', /mood/);
  assert.equal(storyboard.scenes.map((s) => s.narration).join(' '), SCRIPT);
  assert.ok((usage.inputTokens ?? 0) > (fake.chats[before]?.messages.map((m) => m.content).join('').length ?? 0) / 4, 'both calls are billed');
});

test('a second broken answer is provider_bad_response', async () => {
  fake.fail('invalid_storyboard', 2);
  await rejects(writer.plan(brief({ prompt: 'A teaser for a podcast about maps' })), 'provider_bad_response');
});

test('vendor failures come out as ProviderError codes', async () => {
  const cases: [string, string][] = [
    ['unauthorized', 'provider_auth'],
    ['server_error', 'provider_unavailable'],
    ['malformed', 'provider_bad_response'],
    ['refusal', 'provider_refused'],
    ['content_filter', 'provider_refused'],
    ['length', 'provider_bad_response'],
  ];
  for (const [scenario, code] of cases) {
    fake.fail(scenario);
    const error = await rejects(writer.plan(brief({ prompt: 'A teaser for a podcast about maps' })), code);
    assert.ok(error instanceof ProviderError, `${scenario}: ${error.name}`);
  }
  fake.fail('rate_limited');
  const limited = await rejects(writer.plan(brief({ prompt: 'A teaser for a podcast about maps' })), 'provider_rate_limited');
  assert.equal((limited as ProviderError).retryAfterMs, 1000);
});

test('a wrong key is provider_auth, and the key is never in the message', async () => {
  const wrong = openaiPlanDescriptor.create(await providerContext({ baseUrl: `${fake.url}/v1`, apiKey: 'sk-wrong-key-000000', model: 'gpt-4o-mini' }));
  const error = await rejects(wrong.plan(brief({ prompt: 'A teaser for a podcast about maps' })), 'provider_auth');
  assert.ok(!error.message.includes('sk-wrong-key-000000'));
  assert.equal(fake.keysSeen.at(-1), 'sk-wrong-key-000000');
});

test('cancelling the render aborts the call: aborted, not a vendor failure', async () => {
  fake.fail('hang');
  const controller = new AbortController();
  const pending = writer.plan(brief({ prompt: 'A teaser for a podcast about maps' }), controller.signal);
  setTimeout(() => controller.abort(), 50);
  await rejects(pending, 'aborted');
});

test('a vendor that never answers is provider_timeout under the provider\'s time limit', async () => {
  fake.fail('hang');
  const context = await providerContext({ baseUrl: `${fake.url}/v1`, apiKey: KEY, model: 'gpt-4o-mini' });
  const guard = new ProviderGuard();
  await rejects(guard.run('openai', context.credentials, { timeoutMs: 300, maxAttempts: 1 }, undefined, (signal) => writer.plan(brief({ prompt: 'A teaser for a podcast about maps' }), signal)), 'provider_timeout');
});

test('probe lists the models with the key', async () => {
  const context = await providerContext({ baseUrl: `${fake.url}/v1`, apiKey: KEY, model: 'gpt-4o-mini' });
  assert.match(await openaiPlanDescriptor.probe(context, new AbortController().signal), /gpt-4o-mini is available/);
  assert.equal(fake.requests.at(-1)?.path, '/models');
  const wrong = await providerContext({ baseUrl: `${fake.url}/v1`, apiKey: 'sk-nope-nope', model: 'gpt-4o-mini' });
  await rejects(openaiPlanDescriptor.probe(wrong, new AbortController().signal), 'provider_auth');
});

test('through a chain: a 429 with Retry-After: 1 is retried after the wait, with the tenant\'s key', async () => {
  const context = await providerContext({ baseUrl: `${fake.url}/v1`, apiKey: 'sk-tenant-key-9876', model: 'gpt-4o-mini', source: 'tenant' });
  const chain = new ProviderChain<ScriptWriter>('plan', [
    { name: 'openai', provider: openaiPlanDescriptor.create(context), offline: false, credentials: context.credentials, resilience: { timeoutMs: 10_000, baseDelayMs: 10 } },
    { name: 'offline', provider: new RuleBasedWriter(), offline: true },
  ], new ProviderGuard());
  fake.fail('rate_limited');
  const start = fake.requests.length;
  const fallbacks: Fallback[] = [];
  const { value, member } = await chain.run((m, guarded) => guarded((signal) => m.provider.plan(brief({ script: SCRIPT }), signal)), { onFallback: (f) => fallbacks.push(f) });
  assert.equal(member.name, 'openai');
  assert.deepEqual(fallbacks, []);
  assert.equal(value.storyboard.scenes.map((s) => s.narration).join(' '), SCRIPT);
  const calls = fake.requests.slice(start).filter((r) => r.path === '/chat/completions');
  assert.equal(calls.length, 2);
  assert.ok((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0) >= 950, 'the retry waited for Retry-After');
  assert.deepEqual(fake.keysSeen.slice(-2), ['sk-tenant-key-9876', 'sk-tenant-key-9876']);
});

test('through a chain: a refusing provider falls back to the offline writer, and the fallback is recorded', async () => {
  const context = await providerContext({ baseUrl: `${fake.url}/v1`, apiKey: KEY, model: 'gpt-4o-mini' });
  const chain = new ProviderChain<ScriptWriter>('plan', [
    { name: 'openai', provider: openaiPlanDescriptor.create(context), offline: false, credentials: context.credentials, resilience: { timeoutMs: 10_000, baseDelayMs: 10 } },
    { name: 'offline', provider: new RuleBasedWriter(), offline: true },
  ], new ProviderGuard());
  fake.fail('refusal');
  const fallbacks: Fallback[] = [];
  const { value, member } = await chain.run((m, guarded) => guarded((signal) => m.provider.plan(brief({ script: SCRIPT }), signal)), { onFallback: (f) => fallbacks.push(f) });
  assert.equal(member.name, 'offline');
  storyboardSchema.parse(value.storyboard);
  assert.equal(fallbacks.length, 1);
  assert.deepEqual([fallbacks[0]?.from, fallbacks[0]?.to, fallbacks[0]?.code], ['openai:gpt-4o-mini', 'rule-based@1', 'provider_refused']);
});
