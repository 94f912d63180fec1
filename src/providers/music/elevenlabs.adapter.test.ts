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
import { ElevenLabsComposer, elevenLabsMusicDescriptor, MUSIC_MIN_MS, requestedLengthMs } from './elevenlabs.adapter.js';
import type { MusicComposer } from './music.port.js';
import { ProceduralComposer } from './procedural.adapter.js';

const KEY = 'xi-music-key';
const dir = mkdtempSync(join(tmpdir(), 'aiprod-el-music-'));
let fake: FakeElevenLabsAudio;
let context: ProviderContext;
let n = 0;
const out = (): string => join(dir, `bed-${n++}.wav`);
const request = { mood: 'uplifting' as const, brief: 'Solar backpack launch.\nCharge anywhere.', durationSec: 12.5, seed: 3 };

before(async () => {
  fake = await FakeElevenLabsAudio.start({ apiKey: KEY });
  context = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'music_v1' });
});
after(() => fake.close());
beforeEach(() => {
  fake.scenario = 'ok';
  fake.music = 'long';
  fake.requests.length = 0;
});

const code = (expected: string) => (error: unknown) => error instanceof AppError && error.code === expected;

test('composes an instrumental bed of the exact length from mood and brief', async () => {
  const composer = elevenLabsMusicDescriptor.create(context);
  assert.equal(composer.id, 'elevenlabs-music:music_v1');
  const r = await composer.compose(request, out());
  const wav = readWav(r.path);
  assert.equal(wav.sampleRate, 48_000);
  assert.equal(wav.channels, 2);
  assert.equal(wav.samples.length / 2, Math.round(12.5 * 48_000));
  assert.deepEqual({ tempo: r.tempoBpm, key: r.key, progression: r.progression }, { tempo: 0, key: 'unknown', progression: [] });
  assert.deepEqual(r.usage, { secondsOfAudio: 12.5 });
  const probed = await context.media.probe(r.path);
  assert.ok(Math.abs(probed.durationSec - 12.5) < 0.01);
  const [sent] = fake.requests;
  assert.equal(sent?.path, '/v1/music');
  assert.equal(sent?.query.get('output_format'), 'mp3_44100_128');
  const body = sent?.body as Record<string, unknown>;
  assert.equal(body.music_length_ms, 12_500);
  assert.equal(body.model_id, 'music_v1');
  assert.equal(body.force_instrumental, true);
  assert.match(String(body.prompt), /uplifting.*Solar backpack launch\. Charge anywhere\./);
  assert.deepEqual(fake.keysSeen, [KEY]);
  assert.deepEqual(fake.unexpected, []);
});

test('a bed shorter than the service minimum is asked at the minimum and cut; a short answer is looped', async () => {
  assert.equal(requestedLengthMs(2), MUSIC_MIN_MS);
  assert.equal(requestedLengthMs(9999), 300_000);
  const composer = elevenLabsMusicDescriptor.create(context);
  const short = await composer.compose({ ...request, durationSec: 3 }, out());
  assert.equal(readWav(short.path).samples.length / 2, 3 * 48_000);
  assert.equal((fake.requests[0]?.body as { music_length_ms: number }).music_length_ms, MUSIC_MIN_MS);
  fake.music = 'short';
  const looped = await composer.compose({ ...request, durationSec: 10 }, out());
  assert.equal(readWav(looped.path).samples.length / 2, 10 * 48_000);
});

test('failures map to ProviderError codes', async () => {
  const composer = elevenLabsMusicDescriptor.create(context);
  const cases = [
    ['unauthorized', 'provider_auth'],
    ['rate-limited', 'provider_rate_limited'],
    ['server-error', 'provider_unavailable'],
    ['malformed', 'provider_bad_response'],
    ['refused', 'provider_refused'],
  ] as const;
  for (const [scenario, expected] of cases) {
    fake.scenario = scenario;
    await assert.rejects(composer.compose(request, out()), code(expected), scenario);
  }
  fake.scenario = 'rate-limited';
  await assert.rejects(composer.compose(request, out()), (e: unknown) => (e as { retryAfterMs?: number }).retryAfterMs === 1000);
  fake.scenario = 'ok';
  const wrongKey = elevenLabsMusicDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: 'wrong', model: 'music_v1', source: 'tenant' }));
  await assert.rejects(wrongKey.compose(request, out()), code('provider_auth'));
  assert.equal(fake.keysSeen.at(-1), 'wrong');
});

test('a hang ends at the timeout; cancellation is "aborted"', async () => {
  // A short SDK timeout: the SDK keeps its timer running after a cancelled request.
  const composer = new ElevenLabsComposer(context, { sdkTimeoutMs: 2000 });
  fake.scenario = 'hang';
  await assert.rejects(composer.compose(request, out(), AbortSignal.timeout(300)), code('provider_timeout'));
  const controller = new AbortController();
  const pending = composer.compose(request, out(), controller.signal);
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(pending, code('aborted'));
});

test('probe: GET /v1/user with the key', async () => {
  assert.match(await elevenLabsMusicDescriptor.probe(context, AbortSignal.timeout(5000)), /creator/);
  fake.scenario = 'unauthorized';
  await assert.rejects(elevenLabsMusicDescriptor.probe(context, AbortSignal.timeout(5000)), code('provider_auth'));
  fake.scenario = 'malformed';
  await assert.rejects(elevenLabsMusicDescriptor.probe(context, AbortSignal.timeout(5000)), code('provider_bad_response'));
});

function chain(composer: MusicComposer): ProviderChain<MusicComposer> {
  return new ProviderChain<MusicComposer>('score', [
    { name: 'elevenlabs-music', provider: composer, offline: false, credentials: context.credentials, resilience: { timeoutMs: 10_000, baseDelayMs: 10, maxAttempts: 3 } },
    { name: 'offline', provider: new ProceduralComposer(), offline: true },
  ], new ProviderGuard());
}

test('through a chain: a 429 with Retry-After: 1 is waited for, then the call succeeds', async () => {
  fake.failNext('rate-limited');
  const { value, member } = await chain(elevenLabsMusicDescriptor.create(context)).run((m, guarded) => guarded((signal) => m.provider.compose(request, out(), signal)));
  assert.equal(member.name, 'elevenlabs-music');
  assert.equal(readWav(value.path).samples.length / 2, Math.round(12.5 * 48_000));
  const [first, second] = fake.requests;
  assert.ok(second!.at - first!.at >= 950, `waited ${second!.at - first!.at} ms`);
});

test('through a chain: the key refused, the offline composer is used and the fallback recorded', async () => {
  fake.scenario = 'unauthorized';
  const fallbacks: Fallback[] = [];
  const { value, member } = await chain(elevenLabsMusicDescriptor.create(context)).run((m, guarded) => guarded((signal) => m.provider.compose(request, out(), signal)), { onFallback: (f) => fallbacks.push(f) });
  assert.equal(member.name, 'offline');
  assert.ok(value.tempoBpm > 0);
  assert.equal(fallbacks[0]?.code, 'provider_auth');
  assert.equal(fallbacks[0]?.to, 'procedural@1');
});
