/**
 * A tenant's own provider keys at work, through the whole service (API + worker, PGlite): its
 * renders and estimates call the vendor with its key, another tenant's with the operator's; a
 * brief naming a provider the tenant cannot use is refused with the field and the fix; and the
 * production view and its events carry the provider fallbacks.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeOpenAI } from '../support/fake-openai.js';
import { startTestService, type TestService } from './harness.js';

const OPERATOR_KEY = 'sk-operator-key-0001';
const ACME_KEY = 'sk-acme-own-key-0001';
let svc: TestService;
let openai: FakeOpenAI;

before(async () => {
  openai = await FakeOpenAI.start({ apiKeys: [OPERATOR_KEY, ACME_KEY] });
  svc = await startTestService({
    env: {
      OPENAI_API_KEY: OPERATOR_KEY,
      OPENAI_BASE_URL: `${openai.url}/v1`,
      AIPROD_PLAN_PROVIDERS: 'openai',
      AIPROD_TTS_PROVIDERS: 'offline',
      AIPROD_VISUAL_PROVIDERS: 'offline',
      PROVIDER_MAX_ATTEMPTS: '1',
      // Dear tokens, so that a budget test can afford the offline render and not the planner.
      AIPROD_PRICES: '{"openai:gpt-4o-mini":{"inputTokens":0.001,"outputTokens":0.001}}',
    },
  });
});
after(async () => {
  await svc?.stop();
  await openai?.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
type Json = Record<string, unknown>;

async function call(method: 'GET' | 'POST' | 'PATCH', url: string, key: string, payload?: Json): Promise<{ status: number; body: Json }> {
  const res = await svc.app!.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as Json };
}

async function tenantKey(id: string): Promise<string> {
  assert.equal((await call('POST', '/v1/tenants', svc.key, { id, name: id, tier: 'pro' })).status, 201);
  const created = await call('POST', '/v1/api-keys', svc.key, { name: `${id} key`, scopes: ['admin'], tenantId: id });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.key as string;
}

const brief = (topic: string): Json => ({ prompt: `a 6 second teaser about ${topic}`, targetDurationSec: 6, resolution: '480p', music: false });

test("a tenant with its own key renders with it; another tenant's render uses the operator's", async () => {
  const acme = await tenantKey('acme');
  const globex = await tenantKey('globex');
  assert.equal((await call('PATCH', '/v1/tenants/acme', svc.key, { providerKeys: { openai: ACME_KEY } })).status, 200);

  const mine = await call('POST', '/v1/productions', acme, brief('acme rockets'));
  const theirs = await call('POST', '/v1/productions', globex, brief('globex turbines'));
  assert.equal(mine.status, 202, JSON.stringify(mine.body));
  assert.equal(theirs.status, 202, JSON.stringify(theirs.body));
  for (const [id, tenant] of [[mine.body.id, 'acme'], [theirs.body.id, 'globex']] as [string, string][]) {
    const done = await svc.waitFor(id, (p) => p.status === 'succeeded' || p.status === 'failed', 180_000, tenant);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal((done.cost?.stages as Json[]).find((s) => s.stage === 'plan')?.provider, 'openai:gpt-4o-mini');
    assert.deepEqual(done.fallbacks, []);
  }
  const planKey = (topic: string): (string | undefined)[] => openai.chats.filter((c) => JSON.stringify(c.messages).includes(topic)).map((c) => c.key);
  assert.deepEqual([...new Set(planKey('acme rockets'))], [ACME_KEY]);
  assert.deepEqual([...new Set(planKey('globex turbines'))], [OPERATOR_KEY]);
  // Estimates never call the planner, whoever asks.
  const chats = openai.chats.length;
  const estimate = await call('POST', '/v1/estimate', acme, brief('acme estimates'));
  assert.equal(estimate.status, 200, JSON.stringify(estimate.body));
  assert.equal(openai.chats.length, chats);
  const planLine = (estimate.body.cost as { items: Json[] }).items.find((i) => i.stage === 'plan');
  assert.equal(planLine?.provider, 'openai:gpt-4o-mini');
  assert.ok((planLine?.usd as number) > 0, JSON.stringify(planLine));
});

test('a brief asking for a provider with no key here is refused naming the field and the variable', async () => {
  const res = await call('POST', '/v1/productions', svc.key, { ...brief('voices'), providers: { plan: 'gemini' } });
  assert.equal(res.status, 400, JSON.stringify(res.body));
  const error = res.body.error as { code: string; details: { path: string; message: string }[] };
  assert.equal(error.code, 'provider_not_configured');
  assert.equal(error.details[0]?.path, 'providers.plan');
  assert.match(error.details[0]?.message ?? '', /GEMINI_API_KEY/);
  const unknown = await call('POST', '/v1/estimate', svc.key, { ...brief('voices'), providers: { narrate: 'nope' } });
  assert.equal(unknown.status, 400);
  const voice = await call('POST', '/v1/productions', svc.key, { ...brief('voices'), voice: 'elevenlabs:21m00Tcm4TlvDq8EDUAs' });
  assert.equal(voice.status, 400);
  assert.equal((voice.body.error as { code: string }).code, 'unknown_voice');
});

test('a provider failing mid-render shows in the production view and its events, and the render still succeeds', async () => {
  openai.fail('server_error', 5);
  const res = await call('POST', '/v1/productions', svc.key, brief('fallbacks'));
  assert.equal(res.status, 202);
  const done = await svc.waitFor(res.body.id as string, (p) => p.status === 'succeeded' || p.status === 'failed', 180_000);
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  assert.equal(done.fallbacks.length, 1, JSON.stringify(done.fallbacks));
  assert.deepEqual([done.fallbacks[0]?.stage, done.fallbacks[0]?.from, done.fallbacks[0]?.to, done.fallbacks[0]?.code], ['plan', 'openai:gpt-4o-mini', 'rule-based@1', 'provider_unavailable']);
  const view = await call('GET', `/v1/productions/${res.body.id as string}`, svc.key);
  assert.deepEqual(view.body.fallbacks, done.fallbacks);
  const cost = view.body.cost as { byStage: Json[]; estimatedUsd: number | null };
  assert.ok(cost.byStage.some((s) => s.stage === 'plan'), JSON.stringify(cost));
});

test('a budget that cannot pay for the cloud planner renders offline instead of refusing; below the floor it is a 402', async () => {
  assert.equal((await call('POST', '/v1/tenants', svc.key, { id: 'thrifty', name: 'Thrifty', tier: 'pro', monthlyBudgetUsd: 1 })).status, 201);
  const created = await call('POST', '/v1/api-keys', svc.key, { name: 'thrifty key', scopes: ['admin'], tenantId: 'thrifty' });
  const key = created.body.key as string;
  const estimate = await call('POST', '/v1/estimate', key, brief('thrifty budgets'));
  const cost = estimate.body.cost as { totalUsd: number; minimumUsd: number };
  assert.ok(cost.totalUsd > 1, `the planner alone is over the budget: ${JSON.stringify(cost)}`);
  assert.equal(cost.minimumUsd, 0);
  const chats = openai.chats.length;
  const res = await call('POST', '/v1/productions', key, brief('thrifty budgets'));
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const done = await svc.waitFor(res.body.id as string, (p) => p.status === 'succeeded' || p.status === 'failed', 180_000, 'thrifty');
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  assert.equal((done.cost?.stages as Json[]).find((s) => s.stage === 'plan')?.provider, 'rule-based@1');
  assert.equal(done.cost?.totalUsd, 0);
  assert.equal(openai.chats.length, chats, 'the planner was not called');
});
