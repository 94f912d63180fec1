import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProviderDescriptor } from './provider.js';
import { ProviderRegistry, type Catalog, type OfflineProviders } from './registry.js';
import type { ScriptWriter } from './script/script.port.js';

/** A plan provider that remembers what it was built with. */
const writer = (name: string, keyEnv: string, tenantKey: 'openai' | 'gemini', models: ProviderDescriptor<ScriptWriter>['models']): ProviderDescriptor<ScriptWriter> => ({
  name,
  stage: 'plan',
  vendor: name,
  keyEnv,
  tenantKey,
  baseUrlEnv: `${name.toUpperCase()}_BASE_URL`,
  defaultBaseUrl: `https://api.${name}.example/v1/`,
  models,
  modelEnv: name === 'openai' ? 'AIPROD_LLM_MODEL' : undefined,
  timeoutMs: 1000,
  sends: 'the brief',
  create: (ctx) => Object.assign({ id: `${name}:${ctx.model}`, plan: async () => { throw new Error('not in this test'); } }, { ctx }),
  probe: async () => 'ok',
});

const offlineWriter: ScriptWriter = { id: 'rule-based@1', plan: async () => { throw new Error('not in this test'); } };
const offline = { plan: offlineWriter, narrate: { id: 'espeak-ng@1' }, score: { id: 'procedural@1' }, foley: { id: 'procedural-sfx@1' }, visualize: { id: 'procedural-visuals@1' } } as unknown as OfflineProviders;
const catalog = {
  plan: [writer('openai', 'OPENAI_API_KEY', 'openai', { economy: 'mini', standard: 'mini', premium: 'big' }), writer('gemini', 'GEMINI_API_KEY', 'gemini', { standard: 'flash', premium: 'pro' })],
  narrate: [],
  score: [],
  foley: [],
  visualize: [],
} as unknown as Catalog;
const registry = (env: Record<string, string | undefined>): ProviderRegistry =>
  new ProviderRegistry({ catalog, offline, env, media: {} as never, download: () => async () => { throw new Error('no'); } });
const plan = (r: ProviderRegistry, selection = {}): string[] => r.forRender(selection).plan.members.map((m) => m.provider.id);

test('by default every provider with a key, in catalog order, then the offline one', () => {
  assert.deepEqual(plan(registry({})), ['rule-based@1']);
  assert.deepEqual(plan(registry({ GEMINI_API_KEY: 'g' })), ['gemini:flash', 'rule-based@1']);
  assert.deepEqual(plan(registry({ GEMINI_API_KEY: 'g', OPENAI_API_KEY: 'o' })), ['openai:mini', 'gemini:flash', 'rule-based@1']);
});

test('AIPROD_PLAN_PROVIDERS orders the chain; names without a key are left out; offline always ends it', () => {
  const r = registry({ GEMINI_API_KEY: 'g', OPENAI_API_KEY: 'o', AIPROD_PLAN_PROVIDERS: 'gemini,openai' });
  assert.deepEqual(plan(r), ['gemini:flash', 'openai:mini', 'rule-based@1']);
  assert.deepEqual(plan(registry({ GEMINI_API_KEY: 'g', AIPROD_PLAN_PROVIDERS: 'openai,gemini' })), ['gemini:flash', 'rule-based@1']);
  assert.deepEqual(plan(registry({ GEMINI_API_KEY: 'g', AIPROD_PLAN_PROVIDERS: 'offline' })), ['rule-based@1']);
});

test('the tier picks models and leaves out providers without one; AIPROD_LLM_MODEL pins the model', () => {
  const r = registry({ GEMINI_API_KEY: 'g', OPENAI_API_KEY: 'o' });
  assert.deepEqual(plan(r, { quality: 'economy' }), ['openai:mini', 'rule-based@1']);
  assert.deepEqual(plan(r, { quality: 'premium' }), ['openai:big', 'gemini:pro', 'rule-based@1']);
  assert.deepEqual(plan(registry({ OPENAI_API_KEY: 'o', AIPROD_LLM_MODEL: 'llama3.1' }), { quality: 'premium' }), ['openai:llama3.1', 'rule-based@1']);
});

test('a tenant\'s own key is used for its render (and only its), with the operator\'s base URL', () => {
  const r = registry({ OPENAI_API_KEY: 'operator-key', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
  const mine = r.forRender({ tenantKeys: { openai: 'tenant-key', gemini: 'tenant-gemini' } }).plan.members;
  assert.deepEqual(mine.map((m) => [m.provider.id, m.credentials?.apiKey, m.credentials?.source]), [
    ['openai:mini', 'tenant-key', 'tenant'],
    ['gemini:flash', 'tenant-gemini', 'tenant'],
    ['rule-based@1', undefined, undefined],
  ]);
  assert.equal(mine[0]?.credentials?.baseUrl, 'http://127.0.0.1:9/v1');
  assert.equal(mine[1]?.credentials?.baseUrl, 'https://api.gemini.example/v1', 'the default base URL, trailing slash dropped');
  const theirs = r.forRender({}).plan.members;
  assert.deepEqual(theirs.map((m) => m.credentials?.apiKey), ['operator-key', undefined]);
});

test('a brief\'s preferred provider goes first; an unavailable one is reported', () => {
  const r = registry({ GEMINI_API_KEY: 'g', OPENAI_API_KEY: 'o' });
  assert.deepEqual(plan(r, { prefer: { plan: 'gemini' } }), ['gemini:flash', 'openai:mini', 'rule-based@1']);
  assert.deepEqual(plan(r, { prefer: { plan: 'offline' } }), ['rule-based@1']);
  const lone = registry({ OPENAI_API_KEY: 'o' });
  const chosen = lone.forRender({ prefer: { plan: 'gemini' } });
  assert.match(chosen.notes.join(' '), /providers\.plan: "gemini" is not available/);
  assert.deepEqual(lone.checkPreference({ plan: 'gemini' }).map((d) => d.path), ['providers.plan']);
  assert.match(lone.checkPreference({ plan: 'gemini' })[0]?.message ?? '', /GEMINI_API_KEY/);
  assert.deepEqual(lone.checkPreference({ plan: 'gemini' }, { gemini: 'mine' }), []);
  assert.match(lone.checkPreference({ plan: 'nope' })[0]?.message ?? '', /not a plan provider; use one of openai, gemini, offline/);
});

test('a budget that cannot pay for the tier steps the render down, to offline at the bottom', () => {
  const r = registry({ GEMINI_API_KEY: 'g', OPENAI_API_KEY: 'o' });
  const price = { premium: 5, standard: 1, economy: 0.2 } as const;
  const estimateUsd = (p: ReturnType<ProviderRegistry['forRender']>): number => (p.plan.members.length > 1 ? price[p.quality] : 0);
  const rich = r.forRender({ quality: 'premium', budgetUsd: 10, estimateUsd });
  assert.equal(rich.quality, 'premium');
  assert.deepEqual(rich.notes, []);
  const tight = r.forRender({ quality: 'premium', budgetUsd: 0.5, estimateUsd });
  assert.equal(tight.quality, 'economy');
  assert.match(tight.notes.join(' '), /cannot pay for the premium tier: rendered at economy/);
  const broke = r.forRender({ quality: 'standard', budgetUsd: 0, estimateUsd });
  assert.deepEqual(broke.plan.members.map((m) => m.name), ['offline']);
  assert.match(broke.notes.join(' '), /rendered offline/);
});

test('describe() lists each stage\'s chain with whether its key is set, never the key', () => {
  const r = registry({ OPENAI_API_KEY: 'sk-secret-value', AIPROD_PLAN_PROVIDERS: 'openai,gemini' });
  const planChain = r.describe().find((d) => d.stage === 'plan');
  assert.deepEqual(planChain?.members.map((m) => [m.name, m.key]), [['openai', 'set'], ['gemini', 'tenant-only'], ['offline', 'set']]);
  assert.doesNotMatch(JSON.stringify(r.describe()), /sk-secret-value/);
});
