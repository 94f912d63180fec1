/**
 * `aiprod providers` and `aiprod doctor --live` as an operator runs them: the chains this
 * configuration builds, keys named but never printed, prices with their date; one authenticated
 * call per configured provider, and exit 1 when one fails.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeOpenAI } from '../support/fake-openai.js';
import { runCli, type CliRun } from './harness.js';

const shown = (r: CliRun): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
let openai: FakeOpenAI;
before(async () => {
  openai = await FakeOpenAI.start({ apiKey: 'sk-live-check-0001' });
});
after(async () => {
  await openai?.close();
});

test('providers lists each stage\'s chain with its key state and prices, and never a key', async () => {
  const env = { OPENAI_API_KEY: 'sk-secret-never-printed', PEXELS_API_KEY: 'px-secret-never-printed', AIPROD_TTS_PROVIDERS: 'offline' };
  const text = await runCli(['providers'], env);
  assert.equal(text.code, 0, shown(text));
  assert.match(text.stdout, /as of 2026-12-01/);
  assert.match(text.stdout, /plan {2}\(AIPROD_PLAN_PROVIDERS\)\n {2}1\. openai +gpt-4o-mini/);
  assert.match(text.stdout, /OPENAI_API_KEY set/);
  assert.doesNotMatch(text.stdout + text.stderr, /never-printed/);
  const json = await runCli(['providers', '--json', '--quality', 'premium'], env);
  assert.equal(json.code, 0, shown(json));
  const report = JSON.parse(json.stdout) as { quality: string; stages: { stage: string; members: { name: string; key: string; model?: string; prices?: Record<string, number> }[] }[] };
  assert.equal(report.quality, 'premium');
  // Providers without the operator's key are listed as usable with tenants' own keys.
  const chain = (stage: string, key = 'set'): string[] => report.stages.find((s) => s.stage === stage)?.members.filter((m) => m.key === key).map((m) => m.name) ?? [];
  assert.deepEqual(chain('plan'), ['openai', 'offline']);
  assert.deepEqual(chain('plan', 'tenant-only'), ['gemini']);
  assert.deepEqual(chain('narrate'), ['offline'], 'AIPROD_TTS_PROVIDERS=offline keeps OpenAI\'s voices out');
  assert.deepEqual(chain('visualize'), ['openai-images', 'pexels', 'offline']);
  assert.equal(report.stages.find((s) => s.stage === 'plan')?.members[0]?.model, 'gpt-4o');
  assert.equal(report.stages.find((s) => s.stage === 'plan')?.members[0]?.prices?.outputTokens, 10 / 1e6);
  const bad = await runCli(['providers', '--quality', 'luxury']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--quality: use economy, standard or premium/);
});

test('doctor --live makes one authenticated call per configured provider and fails when one is refused', async () => {
  const base = { OPENAI_BASE_URL: `${openai.url}/v1`, AIPROD_TTS_PROVIDERS: 'offline' };
  const good = await runCli(['doctor', '--live'], { ...base, OPENAI_API_KEY: 'sk-live-check-0001' });
  assert.equal(good.code, 0, shown(good));
  assert.match(good.stdout, /✓ plan openai: /);
  assert.ok(openai.keysSeen.includes('sk-live-check-0001'));
  const refused = await runCli(['doctor', '--live'], { ...base, OPENAI_API_KEY: 'sk-wrong-key-0000' });
  assert.equal(refused.code, 1, shown(refused));
  assert.match(refused.stdout, /✗ plan openai: provider_auth/);
  assert.doesNotMatch(refused.stdout, /sk-wrong-key-0000/);
  const none = await runCli(['doctor', '--live']);
  assert.match(none.stdout, /no cloud provider key is set: every stage runs offline/);
});
