import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AppError } from '../../contract/errors.js';
import { parseBrief, resolveBrief, type ResolvedBrief } from '../../contract/resolve.js';
import { storyboardSchema } from '../../contract/storyboard.js';
import { FakeGemini, type GeminiScenario } from '../../../test/support/fake-gemini.js';
import { providerContext } from '../../../test/support/provider-context.js';
import { ProviderChain, type Fallback } from '../chain.js';
import { ProviderError } from '../provider-error.js';
import { ProviderGuard } from '../resilience.js';
import { geminiPlanDescriptor } from './gemini.adapter.js';
import { RuleBasedWriter } from './rule-based.adapter.js';
import type { ScriptWriter } from './script.port.js';

const KEY = 'gm-test-plan-0123456789';
let fake: FakeGemini;
let writer: ScriptWriter;

const brief = (input: unknown): ResolvedBrief => resolveBrief(parseBrief(input));
const SCRIPT = 'Le café commence par une graine. Les fermiers cueillent les cerises à la main. Les grains sèchent au soleil pendant des semaines.';

before(async () => {
  fake = await FakeGemini.start({ apiKeys: [KEY, 'gm-tenant-key-9876'] });
  writer = geminiPlanDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'gemini-2.5-flash' }));
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
  assert.equal(geminiPlanDescriptor.name, 'gemini');
  assert.equal(geminiPlanDescriptor.tenantKey, 'gemini');
  assert.equal(geminiPlanDescriptor.keyEnv, 'GEMINI_API_KEY');
  assert.equal(geminiPlanDescriptor.baseUrlEnv, 'GEMINI_BASE_URL');
  assert.equal(geminiPlanDescriptor.defaultBaseUrl, 'https://generativelanguage.googleapis.com');
  assert.deepEqual(geminiPlanDescriptor.models, { economy: 'gemini-2.5-flash-lite', standard: 'gemini-2.5-flash', premium: 'gemini-2.5-pro' });
  assert.equal(writer.id, 'gemini:gemini-2.5-flash');
});

test('a prompt brief goes to generateContent with a JSON response schema and comes back as a valid storyboard', async () => {
  const before = fake.generations.length;
  const { storyboard, usage } = await writer.plan(brief({ prompt: 'A video about Kestrel, a kite for windless days', targetDurationSec: 40, music: { mood: 'calm' }, seed: 3 }));
  storyboardSchema.parse(storyboard);
  const call = fake.generations[before];
  assert.ok(call);
  assert.equal(call.model, 'gemini-2.5-flash');
  assert.equal(fake.requests.at(-1)?.path, '/v1beta/models/gemini-2.5-flash:generateContent');
  assert.equal(fake.keysSeen.at(-1), KEY);
  const config = call.body.generationConfig as Record<string, unknown>;
  assert.equal(config.responseMimeType, 'application/json');
  assert.equal((config.responseJsonSchema as { type: string }).type, 'object');
  assert.equal(config.seed, 3);
  assert.deepEqual(call.messages.map((m) => m.role), ['system', 'user']);
  assert.match(call.messages[1]?.content ?? '', /Kestrel, a kite for windless days/);
  assert.match(call.messages[1]?.content ?? '', /"mood": "calm"/);
  assert.equal(storyboard.mood, 'calm');
  assert.equal(storyboard.scenes.length, 8);
  assert.ok(storyboard.scenes.every((s) => s.narration.includes('Kestrel') && s.visual.type === 'gradient' && s.prompt));
  // Thinking tokens (7 per answer in the fake) are billed as output.
  assert.ok((usage.outputTokens ?? 0) > 7);
  assert.ok((usage.inputTokens ?? 0) > 0);
});

test('a script in the brief\'s language keeps its words; in another it is translated with a note', async () => {
  const same = await writer.plan(brief({ script: SCRIPT, language: 'fr' }));
  assert.equal(same.storyboard.scenes.map((s) => s.narration).join(' '), SCRIPT);
  assert.deepEqual(same.storyboard.notes, []);
  const translated = await writer.plan(brief({ script: SCRIPT, language: 'en' }));
  assert.ok(translated.storyboard.scenes.every((s) => s.narration.startsWith('[en] ')));
  assert.ok(translated.storyboard.notes.some((n) => /written in fr.*translated into en/.test(n)));
});

test('a scenes brief keeps the user\'s pictures and words', async () => {
  const { storyboard } = await writer.plan(brief({ scenes: [{ narration: 'Mine.', visual: { type: 'color', color: '#123456' } }, { title: 'Second' }] }));
  assert.deepEqual(storyboard.scenes[0]?.visual, { type: 'color', color: '#123456' });
  assert.equal(storyboard.scenes[0]?.prompt, undefined);
  assert.equal(storyboard.scenes[0]?.narration, 'Mine.');
  assert.equal(storyboard.scenes[1]?.title, 'Second');
});

test('a broken answer is repaired once, with the model\'s answer and the errors sent back', async () => {
  fake.fail('invalid_storyboard');
  const before = fake.generations.length;
  const { storyboard } = await writer.plan(brief({ prompt: 'A teaser for a night market' }));
  storyboardSchema.parse(storyboard);
  const repair = fake.generations[before + 1];
  assert.deepEqual(repair?.messages.map((m) => m.role), ['system', 'user', 'model', 'user']);
  assert.match(repair?.messages[3]?.content ?? '', /keywords/);
  fake.fail('invalid_storyboard', 2);
  await rejects(writer.plan(brief({ prompt: 'A teaser for a night market' })), 'provider_bad_response');
});

test('vendor failures come out as ProviderError codes', async () => {
  const cases: [GeminiScenario, string][] = [
    ['unauthorized', 'provider_auth'],
    ['server_error', 'provider_unavailable'],
    ['unavailable', 'provider_unavailable'],
    ['malformed', 'provider_bad_response'],
    ['blocked', 'provider_refused'],
    ['safety', 'provider_refused'],
    ['max_tokens', 'provider_bad_response'],
  ];
  for (const [scenario, code] of cases) {
    fake.fail(scenario);
    const error = await rejects(writer.plan(brief({ prompt: 'A teaser for a night market' })), code);
    assert.ok(error instanceof ProviderError, `${scenario}: ${error.name}`);
  }
  fake.fail('rate_limited');
  const limited = await rejects(writer.plan(brief({ prompt: 'A teaser for a night market' })), 'provider_rate_limited');
  assert.equal((limited as ProviderError).retryAfterMs, 1000, 'the wait comes from RetryInfo');
});

test('a model the API does not serve (404 NOT_FOUND) is provider_failed', async () => {
  const unknown = geminiPlanDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'gemini-0-nonexistent' }));
  await rejects(unknown.plan(brief({ prompt: 'A teaser for a night market' })), 'provider_failed');
});

test('an invalid key (Google answers 400 API_KEY_INVALID) is provider_auth', async () => {
  const wrong = geminiPlanDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: 'gm-wrong-key-0000', model: 'gemini-2.5-flash' }));
  const error = await rejects(wrong.plan(brief({ prompt: 'A teaser for a night market' })), 'provider_auth');
  assert.ok(!error.message.includes('gm-wrong-key-0000'));
  assert.equal(fake.keysSeen.at(-1), 'gm-wrong-key-0000');
});

test('cancellation is aborted; a vendor that never answers is provider_timeout', async () => {
  fake.fail('hang');
  const controller = new AbortController();
  const pending = writer.plan(brief({ prompt: 'A teaser for a night market' }), controller.signal);
  setTimeout(() => controller.abort(), 50);
  await rejects(pending, 'aborted');
  fake.fail('hang');
  const context = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'gemini-2.5-flash' });
  await rejects(
    new ProviderGuard().run('gemini', context.credentials, { timeoutMs: 300, maxAttempts: 1 }, undefined, (signal) => writer.plan(brief({ prompt: 'A teaser for a night market' }), signal)),
    'provider_timeout',
  );
});

test('probe reads the model with the key', async () => {
  const context = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'gemini-2.5-pro' });
  assert.match(await geminiPlanDescriptor.probe(context, new AbortController().signal), /models\/gemini-2.5-pro is available/);
  assert.equal(fake.requests.at(-1)?.path, '/v1beta/models/gemini-2.5-pro');
  await rejects(geminiPlanDescriptor.probe({ ...context, credentials: { ...context.credentials, apiKey: 'gm-nope-nope' } }, new AbortController().signal), 'provider_auth');
});

test('through a chain: RetryInfo of 1 s is honoured before the retry, with the tenant\'s key', async () => {
  const context = await providerContext({ baseUrl: fake.url, apiKey: 'gm-tenant-key-9876', model: 'gemini-2.5-flash', source: 'tenant' });
  const chain = new ProviderChain<ScriptWriter>('plan', [
    { name: 'gemini', provider: geminiPlanDescriptor.create(context), offline: false, credentials: context.credentials, resilience: { timeoutMs: 10_000, baseDelayMs: 10 } },
    { name: 'offline', provider: new RuleBasedWriter(), offline: true },
  ], new ProviderGuard());
  fake.fail('rate_limited');
  const start = fake.requests.length;
  const { member } = await chain.run((m, guarded) => guarded((signal) => m.provider.plan(brief({ prompt: 'A teaser for a night market' }), signal)));
  assert.equal(member.name, 'gemini');
  const calls = fake.requests.slice(start);
  assert.equal(calls.length, 2);
  assert.ok((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0) >= 950, 'the retry waited');
  assert.deepEqual(fake.keysSeen.slice(-2), ['gm-tenant-key-9876', 'gm-tenant-key-9876']);
});

test('through a chain: a blocked prompt falls back to the offline writer', async () => {
  const context = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'gemini-2.5-flash' });
  const chain = new ProviderChain<ScriptWriter>('plan', [
    { name: 'gemini', provider: geminiPlanDescriptor.create(context), offline: false, credentials: context.credentials, resilience: { timeoutMs: 10_000, baseDelayMs: 10 } },
    { name: 'offline', provider: new RuleBasedWriter(), offline: true },
  ], new ProviderGuard());
  fake.fail('blocked');
  const fallbacks: Fallback[] = [];
  const { member } = await chain.run((m, guarded) => guarded((signal) => m.provider.plan(brief({ prompt: 'A teaser for a night market' }), signal)), { onFallback: (f) => fallbacks.push(f) });
  assert.equal(member.name, 'offline');
  assert.deepEqual([fallbacks[0]?.from, fallbacks[0]?.to, fallbacks[0]?.code], ['gemini:gemini-2.5-flash', 'rule-based@1', 'provider_refused']);
});
