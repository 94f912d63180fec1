import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AppError } from '../../contract/errors.js';
import { readWav } from '../../media/wav.js';
import { FakeOpenAiSpeech } from '../../../test/support/fake-openai-speech.js';
import { providerContext } from '../../../test/support/provider-context.js';
import { ProviderChain } from '../chain.js';
import { ProviderError } from '../provider-error.js';
import { ProviderGuard } from '../resilience.js';
import { EspeakSynthesizer } from './espeak.adapter.js';
import { openAiTtsDescriptor } from './openai.adapter.js';
import type { SpeechSynthesizer } from './tts.port.js';

const KEY = 'sk-test-key';
const dir = mkdtempSync(join(tmpdir(), 'aiprod-openai-tts-'));
let fake: FakeOpenAiSpeech;
let tts: SpeechSynthesizer;
let n = 0;
const out = (): string => join(dir, `s${++n}.wav`);
const isCode = (code: string) => (e: unknown) => e instanceof AppError && e.code === code;

before(async () => {
  fake = await FakeOpenAiSpeech.start({ apiKey: KEY });
  tts = openAiTtsDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'tts-1' }));
});
after(async () => {
  assert.deepEqual(fake.unexpected, []);
  await fake.close();
});

test('speech as PCM; word timings measured from the audio land near the true ones', async () => {
  const text = 'Every kitchen throws away food that could feed a garden. Compost turns peels, coffee grounds and leaves into dark, rich soil. Microbes do the work: they break the scraps down while you wait.';
  const voice = await tts.resolveVoice('en');
  assert.equal(voice.id, 'openai-tts:alloy');
  const result = await tts.synthesize({ text, voiceId: voice.id, rate: 1 }, out());
  assert.equal(tts.id, 'openai-tts:tts-1');
  assert.deepEqual(fake.bodies.at(-1), { model: 'tts-1', voice: 'alloy', input: text, response_format: 'pcm', speed: 1 });
  assert.equal(fake.keysSeen.at(-1), KEY);
  const wav = readWav(result.path);
  assert.equal(wav.channels, 1);
  assert.equal(wav.sampleRate, 24_000);
  assert.ok(Math.abs(wav.samples.length / 24_000 - result.durationSec) < 0.01);
  const errors: number[] = [];
  for (const [i, w] of result.words.entries()) {
    assert.equal(text.slice(w.charStart, w.charEnd), w.text);
    assert.ok(w.endSec > w.startSec && w.endSec <= result.durationSec);
    if (i > 0) assert.ok(w.startSec >= result.words[i - 1]!.startSec);
    const truth = fake.truth.find((t) => t.charStart === w.charStart);
    if (truth) errors.push(Math.abs(truth.startSec - w.startSec));
  }
  const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
  assert.ok(errors.length >= result.words.length - 3);
  assert.ok(mean < 0.2, `mean word-start error ${Math.round(mean * 1000)} ms`);
  assert.ok(Math.max(...errors) < 0.6, `max word-start error ${Math.round(Math.max(...errors) * 1000)} ms`);
  assert.deepEqual(result.usage, { characters: text.length });
  assert.equal(result.characters, text.length);
});

test('voices: explicit OpenAI voices kept, others ignored, unknown languages refused; the rate is the speed', async () => {
  assert.equal((await tts.resolveVoice('ja', 'openai-tts:nova')).id, 'openai-tts:nova');
  assert.equal((await tts.resolveVoice('fr', 'gmw/en-US')).id, 'openai-tts:alloy');
  assert.equal((await tts.resolveVoice('de', 'google-tts:de-DE-Neural2-A')).id, 'openai-tts:alloy');
  await assert.rejects(tts.resolveVoice('xx'), (e: unknown) => e instanceof AppError && e.code === 'unsupported_language' && e.status === 400);
  assert.ok((await tts.voices()).every((v) => v.id.startsWith('openai-tts:')));
  await tts.synthesize({ text: 'Quick now.', voiceId: 'openai-tts:onyx', rate: 1.3 }, out());
  assert.equal(fake.bodies.at(-1)!.speed, 1.3);
  assert.equal(fake.bodies.at(-1)!.voice, 'onyx');
});

test('vendor failures map to project codes; the auth error does not repeat the key', async () => {
  const req = { text: 'Hello there.', voiceId: 'openai-tts:alloy', rate: 1 };
  const wrongKey = openAiTtsDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: 'sk-wrong-secret', model: 'tts-1' }));
  await assert.rejects(wrongKey.synthesize(req, out()), (e: unknown) => isCode('provider_auth')(e) && !(e as Error).message.includes('sk-'));
  assert.equal(fake.keysSeen.at(-1), 'sk-wrong-secret');
  fake.fail('rate_limited', 1);
  await assert.rejects(tts.synthesize(req, out()), (e: unknown) => e instanceof ProviderError && e.code === 'provider_rate_limited' && e.retryAfterMs === 1000);
  fake.fail('server_error', 1);
  await assert.rejects(tts.synthesize(req, out()), isCode('provider_unavailable'));
  fake.fail('malformed', 1);
  await assert.rejects(tts.synthesize(req, out()), isCode('provider_bad_response'));
  fake.fail('refused', 1);
  await assert.rejects(tts.synthesize(req, out()), isCode('provider_refused'));
  await assert.rejects(tts.synthesize({ ...req, voiceId: 'openai-tts:nobody' }, out()), isCode('provider_failed'));
});

test('a hang is cut by the signal: cancellation is aborted, a timeout is provider_timeout', async () => {
  const req = { text: 'Hello there.', voiceId: 'openai-tts:alloy', rate: 1 };
  fake.fail('hang', 2);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(tts.synthesize(req, out(), controller.signal), isCode('aborted'));
  await assert.rejects(tts.synthesize(req, out(), AbortSignal.timeout(200)), isCode('provider_timeout'));
  fake.ok();
});

test('probe lists the models with the key', async () => {
  const ctx = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'tts-1-hd' });
  assert.match(await openAiTtsDescriptor.probe(ctx, AbortSignal.timeout(5000)), /tts-1-hd is among them/);
  await assert.rejects(openAiTtsDescriptor.probe({ ...ctx, credentials: { ...ctx.credentials, apiKey: 'bad' } }, AbortSignal.timeout(5000)), isCode('provider_auth'));
});

test('through a chain: a 429 with Retry-After 1 is waited for, then the voice answers', async () => {
  const ctx = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'tts-1' });
  const chain = new ProviderChain<SpeechSynthesizer>('narrate', [
    { name: 'openai-tts', provider: tts, offline: false, credentials: ctx.credentials, resilience: { timeoutMs: 10_000, maxAttempts: 3, baseDelayMs: 10 } },
    { name: 'offline', provider: new EspeakSynthesizer(), offline: true },
  ], new ProviderGuard());
  fake.fail('rate_limited', 1);
  const first = fake.requestTimes.length;
  const { member } = await chain.run((m, guarded) => guarded((signal) => m.provider.synthesize({ text: 'Wait for it.', voiceId: 'openai-tts:alloy', rate: 1 }, out(), signal)));
  assert.equal(member.name, 'openai-tts');
  const times = fake.requestTimes.slice(first);
  assert.equal(times.length, 2);
  assert.ok(times[1]! - times[0]! >= 950, `waited ${times[1]! - times[0]!} ms`);
});

test('through a chain: a refused input hands over to the offline voice', async () => {
  const ctx = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'tts-1' });
  const chain = new ProviderChain<SpeechSynthesizer>('narrate', [
    { name: 'openai-tts', provider: tts, offline: false, credentials: ctx.credentials, resilience: { timeoutMs: 10_000, baseDelayMs: 10 } },
    { name: 'offline', provider: new EspeakSynthesizer(), offline: true },
  ], new ProviderGuard());
  fake.fail('refused', 1);
  const fallbacks: { from: string; code: string; to?: string }[] = [];
  const { member } = await chain.run(async (m, guarded) => {
    const voice = await m.provider.resolveVoice('en');
    return guarded((signal) => m.provider.synthesize({ text: 'Plan B.', voiceId: voice.id, rate: 1 }, out(), signal));
  }, { onFallback: (f) => fallbacks.push(f) });
  assert.equal(member.name, 'offline');
  assert.deepEqual(fallbacks.map((f) => [f.from, f.code, f.to]), [['openai-tts:tts-1', 'provider_refused', 'espeak-ng@1']]);
});
