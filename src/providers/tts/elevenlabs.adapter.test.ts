import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AppError } from '../../contract/errors.js';
import { readWav } from '../../media/wav.js';
import { FakeElevenLabs } from '../../../test/support/fake-elevenlabs.js';
import { providerContext } from '../../../test/support/provider-context.js';
import { ProviderChain } from '../chain.js';
import { ProviderError } from '../provider-error.js';
import { ProviderGuard } from '../resilience.js';
import { EspeakSynthesizer } from './espeak.adapter.js';
import { ElevenLabsSynthesizer, elevenLabsTtsDescriptor } from './elevenlabs.adapter.js';
import type { SpeechSynthesizer } from './tts.port.js';

const KEY = 'xi-test-key';
const dir = mkdtempSync(join(tmpdir(), 'aiprod-elevenlabs-'));
let fake: FakeElevenLabs;
let tts: ElevenLabsSynthesizer;
let n = 0;
const out = (): string => join(dir, `s${++n}.wav`);

before(async () => {
  fake = await FakeElevenLabs.start({ apiKey: KEY });
  // A short SDK timeout: the SDK keeps its timer after an aborted call, which would hold the process open.
  tts = new ElevenLabsSynthesizer(await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'eleven_multilingual_v2' }), { sdkTimeoutSec: 3 });
});
after(async () => {
  assert.deepEqual(fake.unexpected, []);
  await fake.close();
});

const isCode = (code: string) => (e: unknown) => e instanceof AppError && e.code === code;

test('speech with timestamps: a mono WAV, words from the character alignment close to the truth, characters billed', async () => {
  const text = 'Solaris charges your phone, on the trail. It weighs under a kilogram!';
  const voice = await tts.resolveVoice('en');
  assert.equal(voice.id, 'elevenlabs:21m00Tcm4TlvDq8EDUAs');
  const result = await tts.synthesize({ text, voiceId: voice.id, rate: 1 }, out());
  assert.equal(tts.id, 'elevenlabs:eleven_multilingual_v2');
  const call = fake.speechCalls.at(-1)!;
  assert.equal(call.voiceId, '21m00Tcm4TlvDq8EDUAs');
  assert.equal(call.outputFormat, 'pcm_24000');
  assert.equal(call.body.model_id, 'eleven_multilingual_v2');
  assert.equal(fake.keysSeen.at(-1), KEY);
  const wav = readWav(result.path);
  assert.equal(wav.channels, 1);
  assert.equal(wav.sampleRate, 24_000);
  assert.ok(Math.abs(wav.samples.length / 24_000 - result.durationSec) < 0.01);
  assert.deepEqual(result.words.map((w) => w.text), ['Solaris', 'charges', 'your', 'phone', 'on', 'the', 'trail', 'It', 'weighs', 'under', 'a', 'kilogram']);
  let compared = 0;
  for (const w of result.words) {
    assert.equal(text.slice(w.charStart, w.charEnd), w.text);
    const truth = fake.truth.find((t) => t.charStart === w.charStart);
    if (!truth) continue;
    compared++;
    assert.ok(Math.abs(truth.startSec - w.startSec) < 0.02, `${w.text}: ${w.startSec} vs ${truth.startSec}`);
  }
  assert.ok(compared >= result.words.length - 2, `${compared} of ${result.words.length} words compared`);
  assert.equal(result.characters, text.length);
  assert.deepEqual(result.usage, { characters: text.length });
});

test('the rate becomes voice_settings.speed, within what ElevenLabs accepts', async () => {
  await tts.synthesize({ text: 'Faster please.', voiceId: 'elevenlabs:pNInz6obpgDQGcFmaJgB', rate: 1.5 }, out());
  assert.equal(fake.speechCalls.at(-1)!.body.voice_settings?.speed, 1.2);
  assert.equal(fake.speechCalls.at(-1)!.voiceId, 'pNInz6obpgDQGcFmaJgB');
});

test('voices: prefixed ids; explicit ids of this provider kept, others ignored; unsupported languages refused', async () => {
  const voices = await tts.voices();
  assert.ok(voices.every((v) => v.id.startsWith('elevenlabs:') && v.languages.includes('fr')));
  assert.equal((await tts.resolveVoice('fr', 'elevenlabs:onwK4e9ZLuTAKqWW03F9')).id, 'elevenlabs:onwK4e9ZLuTAKqWW03F9');
  assert.equal((await tts.resolveVoice('de', 'gmw/de')).id, 'elevenlabs:21m00Tcm4TlvDq8EDUAs');
  assert.equal((await tts.resolveVoice('pt-BR', 'google-tts:pt-BR-Neural2-A')).id, 'elevenlabs:21m00Tcm4TlvDq8EDUAs');
  await assert.rejects(tts.resolveVoice('hu'), (e: unknown) => e instanceof AppError && e.code === 'unsupported_language' && e.status === 400);
  const flash = elevenLabsTtsDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'eleven_flash_v2_5' }));
  assert.equal((await flash.resolveVoice('hu')).id, 'elevenlabs:21m00Tcm4TlvDq8EDUAs');
});

test('vendor failures map to project codes', async () => {
  const req = { text: 'Hello there.', voiceId: 'elevenlabs:21m00Tcm4TlvDq8EDUAs', rate: 1 };
  const wrongKey = elevenLabsTtsDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: 'wrong', model: 'eleven_multilingual_v2' }));
  await assert.rejects(wrongKey.synthesize(req, out()), isCode('provider_auth'));
  assert.equal(fake.keysSeen.at(-1), 'wrong');
  fake.fail('rate_limited', 1);
  await assert.rejects(tts.synthesize(req, out()), (e: unknown) => e instanceof ProviderError && e.code === 'provider_rate_limited' && e.retryAfterMs === 1000);
  fake.fail('server_error', 1);
  await assert.rejects(tts.synthesize(req, out()), isCode('provider_unavailable'));
  fake.fail('malformed', 1);
  await assert.rejects(tts.synthesize(req, out()), isCode('provider_bad_response'));
  fake.fail('refused', 1);
  await assert.rejects(tts.synthesize(req, out()), isCode('provider_refused'));
  await assert.rejects(tts.synthesize({ ...req, voiceId: 'elevenlabs:nope' }, out()), isCode('provider_failed'));
  await assert.rejects(tts.synthesize({ ...req, text: '' }, out()), isCode('provider_failed'));
});

test('a hang is cut by the signal: cancellation is aborted, a timeout is provider_timeout', async () => {
  const req = { text: 'Hello there.', voiceId: 'elevenlabs:21m00Tcm4TlvDq8EDUAs', rate: 1 };
  fake.fail('hang', 2);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(tts.synthesize(req, out(), controller.signal), isCode('aborted'));
  await assert.rejects(tts.synthesize(req, out(), AbortSignal.timeout(200)), isCode('provider_timeout'));
  fake.ok();
});

test('probe lists the models with the key', async () => {
  const ctx = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'eleven_multilingual_v2' });
  assert.match(await elevenLabsTtsDescriptor.probe(ctx, AbortSignal.timeout(5000)), /eleven_multilingual_v2 is among them/);
  await assert.rejects(elevenLabsTtsDescriptor.probe({ ...ctx, credentials: { ...ctx.credentials, apiKey: 'bad' } }, AbortSignal.timeout(5000)), isCode('provider_auth'));
});

test('through a chain: a 429 with Retry-After 1 is waited for, then the voice answers', async () => {
  const ctx = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'eleven_multilingual_v2' });
  const chain = new ProviderChain<SpeechSynthesizer>('narrate', [
    { name: 'elevenlabs', provider: tts, offline: false, credentials: ctx.credentials, resilience: { timeoutMs: 10_000, maxAttempts: 3, baseDelayMs: 10 } },
    { name: 'offline', provider: new EspeakSynthesizer(), offline: true },
  ], new ProviderGuard());
  fake.fail('rate_limited', 1);
  const first = fake.requestTimes.length;
  const fallbacks: unknown[] = [];
  const { member } = await chain.run((m, guarded) => guarded((signal) => m.provider.synthesize({ text: 'Wait for it.', voiceId: 'elevenlabs:21m00Tcm4TlvDq8EDUAs', rate: 1 }, out(), signal)), { onFallback: (f) => fallbacks.push(f) });
  assert.equal(member.name, 'elevenlabs');
  assert.deepEqual(fallbacks, []);
  const times = fake.requestTimes.slice(first);
  assert.equal(times.length, 2);
  assert.ok(times[1]! - times[0]! >= 950, `waited ${times[1]! - times[0]!} ms`);
});

test('through a chain: a refused key falls back to the offline voice', async () => {
  const ctx = await providerContext({ baseUrl: fake.url, apiKey: 'revoked', model: 'eleven_multilingual_v2' });
  const cloud = elevenLabsTtsDescriptor.create(ctx);
  const espeak = new EspeakSynthesizer();
  const chain = new ProviderChain<SpeechSynthesizer>('narrate', [
    { name: 'elevenlabs', provider: cloud, offline: false, credentials: ctx.credentials, resilience: { timeoutMs: 10_000, baseDelayMs: 10 } },
    { name: 'offline', provider: espeak, offline: true },
  ], new ProviderGuard());
  const fallbacks: { from: string; code: string; to?: string }[] = [];
  const { value, member } = await chain.run(async (m, guarded) => {
    const voice = await m.provider.resolveVoice('en', m.offline ? undefined : 'elevenlabs:21m00Tcm4TlvDq8EDUAs');
    return guarded((signal) => m.provider.synthesize({ text: 'Plan B.', voiceId: voice.id, rate: 1 }, out(), signal));
  }, { onFallback: (f) => fallbacks.push(f) });
  assert.equal(member.name, 'offline');
  assert.ok(value.words.length === 2);
  assert.deepEqual(fallbacks.map((f) => [f.from, f.code, f.to]), [['elevenlabs:eleven_multilingual_v2', 'provider_auth', 'espeak-ng@1']]);
});
