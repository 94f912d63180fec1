/**
 * End to end on fake cloud providers: a brief rendered with every stage's preferred provider on a
 * local fake speaking its vendor's wire format, then again with those providers failing — the
 * render succeeds on the fallbacks and cost.json says what happened. No real network anywhere.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import { AppError } from '../../src/contract/errors.js';
import { parseBrief, resolveBrief } from '../../src/contract/resolve.js';
import { createPipelineDeps, createProviders, fixedProviders } from '../../src/main/container.js';
import type { ProviderSource } from '../../src/pipeline/context.js';
import type { CostReport } from '../../src/pipeline/cost.js';
import { renderBrief, spentBefore } from '../../src/pipeline/run.js';
import { ProviderChain } from '../../src/providers/chain.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { ProviderGuard } from '../../src/providers/resilience.js';
import type { SpeechSynthesizer } from '../../src/providers/tts/tts.port.js';
import { FakeElevenLabs } from '../support/fake-elevenlabs.js';
import { FakeFreesound } from '../support/fake-freesound.js';
import { FakeGoogleTts } from '../support/fake-google-tts.js';
import { FakeOpenAI } from '../support/fake-openai.js';
import { FakePexels } from '../support/fake-pexels.js';
import { FakeRunway } from '../support/fake-runway.js';
import { FakeSuno } from '../support/fake-suno.js';
import { file, render, tempDir } from './harness.js';

let openai: FakeOpenAI;
let runway: FakeRunway;
let pexels: FakePexels;
let suno: FakeSuno;
let freesound: FakeFreesound;
let elevenlabs: FakeElevenLabs;
let google: FakeGoogleTts;

before(async () => {
  [openai, runway, pexels, suno, freesound] = await Promise.all([
    FakeOpenAI.start({ apiKey: 'sk-operator-0001' }),
    FakeRunway.start('key_runway_operator'),
    FakePexels.start('pexels-operator'),
    FakeSuno.start({ apiKey: 'suno-operator' }),
    FakeFreesound.start({ apiKey: 'freesound-operator' }),
  ]);
  [elevenlabs, google] = await Promise.all([FakeElevenLabs.start({ apiKey: 'el-operator' }), FakeGoogleTts.start({ apiKey: 'google-operator' })]);
});
after(async () => {
  await Promise.all([openai?.close(), runway?.close(), pexels?.close(), suno?.close(), freesound?.close(), elevenlabs?.close(), google?.close()]);
});

const cloudEnv = (): Record<string, string> => ({
  OPENAI_API_KEY: 'sk-operator-0001',
  OPENAI_BASE_URL: `${openai.url}/v1`,
  RUNWAYML_API_SECRET: 'key_runway_operator',
  RUNWAY_BASE_URL: runway.url,
  PEXELS_API_KEY: 'pexels-operator',
  PEXELS_BASE_URL: pexels.url,
  SUNO_API_KEY: 'suno-operator',
  SUNO_BASE_URL: suno.url,
  SUNO_POLL_INTERVAL_MS: '50',
  // The voice fakes: ElevenLabs' base URL serves speech only here, so its music and effects stay out of the chains below.
  ELEVENLABS_API_KEY: 'el-operator',
  ELEVENLABS_BASE_URL: elevenlabs.url,
  GOOGLE_TTS_API_KEY: 'google-operator',
  GOOGLE_TTS_BASE_URL: google.url,
  FREESOUND_API_KEY: 'freesound-operator',
  FREESOUND_BASE_URL: `${freesound.url}/apiv2`,
  // Each stage's chain named: the OpenAI key would otherwise bring OpenAI's voices and images in too.
  AIPROD_PLAN_PROVIDERS: 'openai',
  AIPROD_VISUAL_PROVIDERS: 'runway,pexels',
  AIPROD_TTS_PROVIDERS: 'elevenlabs,google-tts',
  AIPROD_MUSIC_PROVIDERS: 'suno',
  AIPROD_SFX_PROVIDERS: 'freesound',
  PROVIDER_MAX_ATTEMPTS: '2',
});

const brief = { prompt: 'a 12 second ad for Nimbus, a solar backpack that charges your phone on the trail', targetDurationSec: 12, resolution: '480p', sfx: true };

test('with keys set, the storyboard, the pictures and the cost come from the cloud providers', async () => {
  const cacheDir = tempDir('cloud-cache');
  const { result, delivered } = await render(brief, { env: cloudEnv(), cacheDir });
  const cost = JSON.parse(readFileSync(file(delivered, 'cost.json'), 'utf8')) as CostReport;
  assert.equal(result.state.qa?.passed, true, JSON.stringify(result.state.qa?.checks.filter((c) => !c.passed)));
  // Plan: the LLM wrote it, and the brief reached it.
  const plan = cost.stages.find((s) => s.stage === 'plan');
  assert.equal(plan?.provider, 'openai:gpt-4o-mini');
  assert.ok((plan?.usage.inputTokens ?? 0) > 0 && (plan?.usage.outputTokens ?? 0) > 0, JSON.stringify(plan));
  assert.ok((plan?.usd ?? 0) > 0);
  assert.ok(openai.chats.some((c) => JSON.stringify(c.messages).includes('Nimbus')), 'the prompt was sent to the planner');
  // Pictures: every planned scene shows a Runway still.
  const scenes = result.state.storyboard?.scenes ?? [];
  assert.ok(scenes.length >= 2);
  const pictures = Object.values(result.state.pictures ?? {});
  assert.equal(pictures.length, scenes.length, JSON.stringify(result.state.pictures));
  assert.ok(pictures.every((p) => p.provider === 'runway:gen4_image' && p.kind === 'image'));
  const visual = cost.stages.find((s) => s.stage === 'visualize' && s.provider === 'runway:gen4_image');
  assert.equal(visual?.usage.images, scenes.length);
  assert.equal(visual?.usd, Math.round(0.08 * scenes.length * 1e6) / 1e6);
  // Narration: the cloud voice, billed per character, with word timings the captions follow.
  const narrate = cost.stages.find((s) => s.stage === 'narrate');
  assert.equal(narrate?.provider, 'elevenlabs:eleven_multilingual_v2');
  const spoken = scenes.reduce((sum, s) => sum + s.narration.trim().length, 0);
  assert.equal(narrate?.usage.characters, spoken);
  assert.equal(narrate?.usd, Math.round(spoken * 0.0001 * 1e6) / 1e6);
  assert.ok((result.state.captions ?? []).length > 0);
  // Music: the composed track; effects: recorded sounds, credited.
  assert.equal(cost.stages.find((s) => s.stage === 'score')?.provider, 'suno:V4_5');
  assert.equal(cost.stages.find((s) => s.stage === 'score')?.usd, 0.06);
  assert.equal(cost.stages.find((s) => s.stage === 'foley')?.provider, 'freesound:apiv2');
  assert.ok(cost.attributions.some((a) => a.source === 'Freesound' && a.licence.length > 0), JSON.stringify(cost.attributions));
  // Real USD, the estimate and its variance.
  assert.ok(cost.totalUsd > 0.08, String(cost.totalUsd));
  assert.ok(cost.estimate && cost.estimate.totalUsd > 0, JSON.stringify(cost.estimate));
  assert.ok(cost.byStage.some((s) => s.stage === 'visualize' && s.estimatedUsd > 0 && s.actualUsd > 0));
  assert.equal(cost.varianceUsd, Math.round((cost.totalUsd - cost.estimate.totalUsd) * 1e6) / 1e6);
  assert.deepEqual(cost.fallbacks, []);

  // The same brief again is all cache: no vendor is asked or paid twice.
  const chats = openai.chats.length;
  const tasks = runway.created.length;
  const again = await render(brief, { env: cloudEnv(), cacheDir });
  assert.equal(openai.chats.length, chats);
  assert.equal(runway.created.length, tasks);
  const twice = JSON.parse(readFileSync(file(again.delivered, 'cost.json'), 'utf8')) as CostReport;
  assert.equal(twice.totalUsd, 0, JSON.stringify(twice.stages));
  assert.equal(twice.stages.find((s) => s.stage === 'plan')?.provider, 'openai:gpt-4o-mini');
});

test('a cloud voice in the brief puts its provider first, and that provider speaks it', async () => {
  const { result } = await render({ ...brief, voice: 'google-tts:en-US-Wavenet-D' }, { env: cloudEnv() });
  assert.equal(result.cost.stages.find((s) => s.stage === 'narrate')?.provider, 'google-tts:wavenet');
  assert.equal(result.state.voice?.id, 'google-tts:en-US-Wavenet-D');
  assert.deepEqual(result.cost.fallbacks, []);
});

test('with the preferred providers failing, the render succeeds on the fallbacks and cost.json says why', async () => {
  openai.fail('server_error', 1000);
  runway.scenario = 'server_error';
  suno.scenario = 'server-error';
  elevenlabs.fail('server_error');
  freesound.scenario = 'server-error';
  try {
    const { result, delivered } = await render(brief, { env: cloudEnv() });
    const cost = JSON.parse(readFileSync(file(delivered, 'cost.json'), 'utf8')) as CostReport;
    assert.equal(result.state.qa?.passed, true);
    const byStage = Object.fromEntries(cost.fallbacks.map((f) => [f.stage, f]));
    assert.equal(byStage.plan?.from, 'openai:gpt-4o-mini');
    assert.equal(byStage.plan?.to, 'rule-based@1');
    assert.equal(byStage.plan?.code, 'provider_unavailable');
    assert.equal(byStage.visualize?.from, 'runway:gen4_image');
    assert.equal(byStage.visualize?.to, 'pexels:stock');
    assert.equal(byStage.narrate?.from, 'elevenlabs:eleven_multilingual_v2');
    assert.equal(byStage.narrate?.to, 'google-tts:wavenet');
    assert.equal(cost.stages.find((s) => s.stage === 'narrate')?.provider, 'google-tts:wavenet');
    assert.equal(byStage.score?.from, 'suno:V4_5');
    assert.equal(byStage.score?.to, 'procedural@1');
    assert.equal(byStage.foley?.from, 'freesound:apiv2');
    assert.equal(byStage.foley?.to, 'procedural-sfx@1');
    assert.deepEqual(Object.keys(byStage).sort(), ['foley', 'narrate', 'plan', 'score', 'visualize'], 'every stage fell back, each reported once');
    assert.equal(cost.fallbacks.length, 5, JSON.stringify(cost.fallbacks));
    assert.equal(cost.stages.find((s) => s.stage === 'plan')?.provider, 'rule-based@1');
    const pictures = Object.values(result.state.pictures ?? {});
    assert.ok(pictures.length > 0 && pictures.every((p) => p.provider === 'pexels:stock'));
    assert.ok(cost.attributions.some((a) => a.source === 'Pexels'), 'stock media is credited');
    assert.ok(result.notes.some((n) => /plan: openai:gpt-4o-mini failed \(provider_unavailable/.test(n)), result.notes.join('\n'));
  } finally {
    // The queued failures outlive this test: it is the file's last.
    runway.scenario = 'ok';
    suno.scenario = 'ok';
    freesound.scenario = 'ok';
  }
});

test('a voice that fails part-way is replaced for the whole video, and what it was paid for still shows in cost.json', async () => {
  const env = loadEnv({ ...process.env, AIPROD_CACHE_DIR: tempDir('flaky-cache') });
  const deps = await createPipelineDeps(env);
  const offline = createProviders();
  let calls = 0;
  // A cloud voice that speaks one scene (billed), then goes down.
  const flaky: SpeechSynthesizer = {
    id: 'flaky:v1',
    voices: () => offline.tts.voices(),
    resolveVoice: (language, voice) => offline.tts.resolveVoice(language, voice),
    synthesize: async (request, outPath, signal) => {
      if (++calls > 1) throw new ProviderError('provider_unavailable', 'flaky', 'HTTP 503');
      return { ...(await offline.tts.synthesize(request, outPath, signal)), usage: { characters: request.text.length } };
    },
  };
  const fixed = fixedProviders(offline);
  const source: ProviderSource = {
    forRender: (selection) => {
      const chains = fixed.forRender(selection);
      const members = [
        { name: 'flaky', provider: flaky, offline: false, credentials: { apiKey: 'k', baseUrl: 'http://flaky.test', source: 'operator' as const }, resilience: { timeoutMs: 30_000, maxAttempts: 1 } },
        ...chains.narrate.members,
      ];
      return { ...chains, prices: { 'flaky:v1': { characters: 0.001 } }, narrate: new ProviderChain('narrate', members, new ProviderGuard()) };
    },
  };
  const script = 'The first scene is spoken by the cloud voice.\n\nThe second scene finds it down.';
  const result = await renderBrief(resolveBrief(parseBrief({ script, resolution: '480p', music: false })), { ...deps, providers: source }, { baseDir: process.cwd() });
  const narrate = result.cost.stages.filter((s) => s.stage === 'narrate');
  assert.deepEqual(narrate.map((s) => s.provider), ['espeak-ng@1', 'flaky:v1'], 'espeak narrated the video; the flaky voice\'s one scene is billed');
  const first = script.split('\n\n')[0] as string;
  assert.deepEqual(narrate[1]?.usage, { characters: first.length });
  assert.equal(narrate[1]?.usd, Math.round(first.length * 0.001 * 1e6) / 1e6);
  assert.equal(result.cost.fallbacks[0]?.to, 'espeak-ng@1');
  assert.ok(Object.values(result.state.narration ?? {}).every((n) => n.key), 'every scene is narrated');
});

test('a render that fails part-way still says what its finished stages were billed', async () => {
  const env = loadEnv({ ...process.env, AIPROD_CACHE_DIR: tempDir('spent-cache') });
  const deps = await createPipelineDeps(env);
  const offline = createProviders();
  const fixed = fixedProviders({
    ...offline,
    script: { id: 'paid-writer:v1', plan: async (b, signal) => ({ ...(await offline.script.plan(b, signal)), usage: { inputTokens: 1000, outputTokens: 500 } }) },
    music: { id: 'broken-composer@1', compose: async () => { throw new AppError('internal', 'the composer broke'); } },
  });
  const source: ProviderSource = { forRender: (selection) => ({ ...fixed.forRender(selection), prices: { 'paid-writer:v1': { inputTokens: 0.001, outputTokens: 0.002 } } }) };
  const failure = await renderBrief(resolveBrief(parseBrief({ script: 'One scene, then the music breaks.', resolution: '480p' })), { ...deps, providers: source }, { baseDir: process.cwd() }).then(
    () => undefined,
    (error: unknown) => error,
  );
  assert.ok(failure instanceof AppError && /composer broke/.test(failure.message), String(failure));
  const spent = spentBefore(failure);
  assert.equal(spent?.stages.find((s) => s.stage === 'plan')?.usd, 2);
  assert.equal(spent?.totalUsd, 2);
});
