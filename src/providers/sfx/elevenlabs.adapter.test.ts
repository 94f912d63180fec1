import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { FakeElevenLabsAudio } from '../../../test/support/fake-elevenlabs-audio.js';
import { providerContext } from '../../../test/support/provider-context.js';
import { AppError } from '../../contract/errors.js';
import { readWav } from '../../media/wav.js';
import { ProviderChain, type Fallback } from '../chain.js';
import type { ProviderContext } from '../provider.js';
import { ProviderGuard } from '../resilience.js';
import { ELEVENLABS_EFFECTS, ElevenLabsSfxLibrary, elevenLabsSfxDescriptor } from './elevenlabs.adapter.js';
import { ProceduralSfxLibrary } from './procedural.adapter.js';
import type { SoundEffectsLibrary } from './sfx.port.js';

const KEY = 'xi-sfx-key';
const dir = mkdtempSync(join(tmpdir(), 'aiprod-el-sfx-'));
let fake: FakeElevenLabsAudio;
let context: ProviderContext;
let n = 0;
const out = (): string => join(dir, `stem-${n++}.wav`);
const stem = { effects: [{ kind: 'riser' as const, atSec: 0.5, gain: 1 }, { kind: 'chime' as const, atSec: 2, gain: 1 }, { kind: 'riser' as const, atSec: 3.2, gain: 0.7 }], durationSec: 4, seed: 9 };
const code = (expected: string) => (error: unknown) => error instanceof AppError && error.code === expected;

function energy(samples: Float32Array, fromSec: number, toSec: number): number {
  let sum = 0;
  for (let i = Math.round(fromSec * 48_000) * 2; i < Math.round(toSec * 48_000) * 2; i++) sum += samples[i]! ** 2;
  return sum;
}

before(async () => {
  fake = await FakeElevenLabsAudio.start({ apiKey: KEY });
  context = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'eleven_text_to_sound_v2' });
});
after(() => fake.close());
beforeEach(() => {
  fake.scenario = 'ok';
  fake.requests.length = 0;
});

test('one generation per distinct kind, placed at each time; usage in seconds generated', async () => {
  const library = elevenLabsSfxDescriptor.create(context);
  assert.equal(library.id, 'elevenlabs-sfx:eleven_text_to_sound_v2');
  const r = await library.renderStem(stem, out());
  assert.equal(r.effectsPlaced, 3);
  const wav = readWav(r.path);
  assert.equal(wav.samples.length / 2, 4 * 48_000);
  assert.equal(wav.channels, 2);
  assert.equal(energy(wav.samples, 0, 0.49), 0);
  assert.ok(energy(wav.samples, 0.5, 1) > 100);
  assert.ok(energy(wav.samples, 3.2, 3.7) > energy(wav.samples, 2.95, 3.15), 'the second riser starts at 3.2 s');
  assert.equal(fake.requests.length, 2);
  const bodies = fake.requests.map((q) => q.body as Record<string, unknown>);
  assert.deepEqual(bodies.map((b) => b.text), [ELEVENLABS_EFFECTS.riser.text, ELEVENLABS_EFFECTS.chime.text]);
  assert.deepEqual(bodies.map((b) => b.duration_seconds), [2, 2]);
  assert.ok(bodies.every((b) => b.model_id === 'eleven_text_to_sound_v2' && b.prompt_influence === 0.6));
  assert.equal(fake.requests[0]?.path, '/v1/sound-generation');
  assert.deepEqual(r.usage, { secondsOfAudio: 4 });
  assert.deepEqual(r.attributions, []);
  assert.deepEqual(fake.keysSeen, [KEY, KEY]);
  assert.deepEqual(fake.unexpected, []);
});

test('failures map to ProviderError codes', async () => {
  const library = elevenLabsSfxDescriptor.create(context);
  for (const [scenario, expected] of [['unauthorized', 'provider_auth'], ['rate-limited', 'provider_rate_limited'], ['server-error', 'provider_unavailable'], ['malformed', 'provider_bad_response'], ['refused', 'provider_refused']] as const) {
    fake.scenario = scenario;
    await assert.rejects(library.renderStem(stem, out()), code(expected), scenario);
  }
});

test('a hang ends at the timeout; cancellation is "aborted"; renderEffect writes one sound', async () => {
  // A short SDK timeout: the SDK keeps its timer running after a cancelled request.
  const library = new ElevenLabsSfxLibrary(context, { sdkTimeoutMs: 2000 });
  fake.scenario = 'hang';
  await assert.rejects(library.renderStem(stem, out(), AbortSignal.timeout(300)), code('provider_timeout'));
  const controller = new AbortController();
  const pending = library.renderStem(stem, out(), controller.signal);
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(pending, code('aborted'));
  fake.scenario = 'ok';
  const one = await library.renderEffect('impact', 1, out());
  assert.ok(one.durationSec > 0.5);
  assert.match(await elevenLabsSfxDescriptor.probe(context, AbortSignal.timeout(5000)), /key accepted/);
});

function chain(library: SoundEffectsLibrary): ProviderChain<SoundEffectsLibrary> {
  return new ProviderChain<SoundEffectsLibrary>('foley', [
    { name: 'elevenlabs-sfx', provider: library, offline: false, credentials: context.credentials, resilience: { timeoutMs: 10_000, baseDelayMs: 10, maxAttempts: 3 } },
    { name: 'offline', provider: new ProceduralSfxLibrary(), offline: true },
  ], new ProviderGuard());
}

test('through a chain: 429 Retry-After: 1 then success; a refusal falls back to the offline library', async () => {
  fake.failNext('rate-limited');
  const { member } = await chain(elevenLabsSfxDescriptor.create(context)).run((m, guarded) => guarded((signal) => m.provider.renderStem(stem, out(), signal)));
  assert.equal(member.name, 'elevenlabs-sfx');
  const [first, second] = fake.requests;
  assert.ok(second!.at - first!.at >= 950, `waited ${second!.at - first!.at} ms`);
  fake.scenario = 'refused';
  const fallbacks: Fallback[] = [];
  const fell = await chain(elevenLabsSfxDescriptor.create(context)).run((m, guarded) => guarded((signal) => m.provider.renderStem(stem, out(), signal)), { onFallback: (f) => fallbacks.push(f) });
  assert.equal(fell.member.name, 'offline');
  assert.equal(fallbacks[0]?.code, 'provider_refused');
});
