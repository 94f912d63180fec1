import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AppError } from '../../contract/errors.js';
import { readWav } from '../../media/wav.js';
import { FakeGoogleTts } from '../../../test/support/fake-google-tts.js';
import { providerContext } from '../../../test/support/provider-context.js';
import { ProviderChain } from '../chain.js';
import { ProviderError } from '../provider-error.js';
import { ProviderGuard } from '../resilience.js';
import { EspeakSynthesizer } from './espeak.adapter.js';
import { googleTtsDescriptor, markedSsml, ssmlPieces } from './google.adapter.js';
import type { SpeechSynthesizer } from './tts.port.js';

const KEY = 'AIza-test-key';
const dir = mkdtempSync(join(tmpdir(), 'aiprod-google-tts-'));
let fake: FakeGoogleTts;
let tts: SpeechSynthesizer;
let n = 0;
const out = (): string => join(dir, `s${++n}.wav`);
const isCode = (code: string) => (e: unknown) => e instanceof AppError && e.code === code;

before(async () => {
  fake = await FakeGoogleTts.start({ apiKey: KEY });
  tts = googleTtsDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'neural2' }));
});
after(async () => {
  assert.deepEqual(fake.unexpected, []);
  await fake.close();
});

test('SSML: a mark before each word, the text XML-escaped', () => {
  const { ssml, words } = markedSsml('Fish & chips <today>, "ok"?');
  assert.equal(ssml, '<speak><mark name="w0"/>Fish &amp; <mark name="w1"/>chips &lt;<mark name="w2"/>today&gt;, &quot;<mark name="w3"/>ok&quot;?</speak>');
  assert.deepEqual(words.map((w) => w.text), ['Fish', 'chips', 'today', 'ok']);
});

test('a long text is cut into SSML pieces under the limit, after sentences, marks numbered across pieces', () => {
  const text = 'One two three. Four five six seven. Eight & nine.';
  const pieces = ssmlPieces(text, 120);
  assert.ok(pieces.length > 1);
  for (const p of pieces) assert.ok(Buffer.byteLength(p.ssml) <= 120, p.ssml);
  assert.equal(pieces[0]!.ssml, '<speak><mark name="w0"/>One <mark name="w1"/>two <mark name="w2"/>three. </speak>');
  assert.deepEqual(pieces.flatMap((p) => p.words.map((w) => w.text)), ['One', 'two', 'three', 'Four', 'five', 'six', 'seven', 'Eight', 'nine']);
  assert.deepEqual(pieces.map((p) => p.first), [0, 3, 7]);
  assert.equal(pieces.map((p) => p.ssml.replace(/<[^>]+>/g, '')).join('').replace(/&amp;/g, '&'), text);
});

test('a narration longer than one request is spoken in pieces, joined, with timings across them', async () => {
  const sentence = 'Keep a balance of green and brown material, turn the pile every week, and keep it damp. ';
  const text = sentence.repeat(14).trim();
  const requests = fake.bodies.length;
  const result = await tts.synthesize({ text, voiceId: 'google-tts:en-US-Neural2-F', rate: 1.5 }, out());
  assert.ok(fake.bodies.length - requests >= 2, 'several requests');
  const words = result.words;
  assert.equal(words.length, 17 * 14);
  for (const [i, w] of words.entries()) {
    assert.equal(text.slice(w.charStart, w.charEnd), w.text);
    if (i > 0) assert.ok(w.startSec > words[i - 1]!.startSec, `${i} ${w.text}`);
  }
  assert.ok(words.at(-1)!.endSec <= result.durationSec);
  const wav = readWav(result.path);
  assert.ok(Math.abs(wav.samples.length / wav.sampleRate - result.durationSec) < 0.01);
});

test('speech with mark timepoints: word starts are the marks, the last word ends with the speech', async () => {
  const text = 'Compost turns peels & coffee grounds into <rich> soil. Microbes do the work!';
  const voice = await tts.resolveVoice('en');
  assert.equal(voice.id, 'google-tts:en-US-Neural2-F');
  const result = await tts.synthesize({ text, voiceId: voice.id, rate: 1.1 }, out());
  assert.equal(tts.id, 'google-tts:neural2');
  const body = fake.bodies.at(-1)!;
  assert.deepEqual(body.voice, { languageCode: 'en-US', name: 'en-US-Neural2-F' });
  assert.deepEqual(body.audioConfig, { audioEncoding: 'LINEAR16', sampleRateHertz: 24_000, speakingRate: 1.1 });
  assert.deepEqual(body.enableTimePointing, ['SSML_MARK']);
  assert.equal(fake.lastPlainText, text);
  assert.equal(fake.keysSeen.at(-1), KEY);
  assert.ok(!fake.requests.at(-1)!.includes(KEY), 'the key travels in a header, not the URL');
  const wav = readWav(result.path);
  assert.equal(wav.channels, 1);
  assert.ok(Math.abs(wav.samples.length / wav.sampleRate - result.durationSec) < 0.01);
  assert.deepEqual(result.words.map((w) => w.text), ['Compost', 'turns', 'peels', 'coffee', 'grounds', 'into', 'rich', 'soil', 'Microbes', 'do', 'the', 'work']);
  for (const w of result.words) {
    assert.equal(text.slice(w.charStart, w.charEnd), w.text);
    const truth = fake.truth.find((t) => t.charStart === w.charStart);
    if (truth) assert.ok(Math.abs(truth.startSec - w.startSec) < 0.02, `${w.text}: ${w.startSec} vs ${truth.startSec}`);
  }
  const last = result.words.at(-1)!;
  assert.ok(last.endSec <= result.durationSec && last.endSec > last.startSec);
  assert.equal(result.characters, text.length);
  assert.ok((result.usage?.characters ?? 0) > text.length, 'SSML characters are billed');
});

test('voices: family by model, explicit Google names keep their locale, others ignored, unknown languages refused', async () => {
  const economy = googleTtsDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'standard' }));
  const standard = googleTtsDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'wavenet' }));
  assert.equal((await economy.resolveVoice('fr')).id, 'google-tts:fr-FR-Standard-A');
  assert.equal((await standard.resolveVoice('de')).id, 'google-tts:de-DE-Wavenet-A');
  assert.equal((await tts.resolveVoice('pt')).id, 'google-tts:pt-BR-Neural2-A');
  assert.equal((await tts.resolveVoice('pt-PT')).id, 'google-tts:pt-PT-Wavenet-A', 'no Neural2 in pt-PT: the next family');
  assert.equal((await tts.resolveVoice('zh')).id, 'google-tts:cmn-CN-Wavenet-A');
  assert.equal((await tts.resolveVoice('en-GB')).id, 'google-tts:en-GB-Neural2-A');
  const explicit = await tts.resolveVoice('en', 'google-tts:en-AU-Neural2-B');
  assert.equal(explicit.id, 'google-tts:en-AU-Neural2-B');
  assert.equal(explicit.languages[0], 'en-au');
  assert.equal((await tts.resolveVoice('es', 'elevenlabs:21m00Tcm4TlvDq8EDUAs')).id, 'google-tts:es-ES-Neural2-A');
  assert.equal((await tts.resolveVoice('it', 'roa/it')).id, 'google-tts:it-IT-Neural2-A');
  await assert.rejects(tts.resolveVoice('xx'), (e: unknown) => e instanceof AppError && e.code === 'unsupported_language' && e.status === 400);
  assert.ok((await tts.voices()).every((v) => v.id.startsWith('google-tts:')));
  await tts.synthesize({ text: 'Explicit voice.', voiceId: explicit.id, rate: 1 }, out());
  assert.deepEqual(fake.bodies.at(-1)!.voice, { languageCode: 'en-AU', name: 'en-AU-Neural2-B' });
});

test('vendor failures map to project codes (a wrong key is Google\'s 400 API_KEY_INVALID)', async () => {
  const req = { text: 'Hello there.', voiceId: 'google-tts:en-US-Neural2-F', rate: 1 };
  const wrongKey = googleTtsDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: 'wrong', model: 'neural2' }));
  await assert.rejects(wrongKey.synthesize(req, out()), isCode('provider_auth'));
  assert.equal(fake.keysSeen.at(-1), 'wrong');
  fake.fail('rate_limited', 1);
  await assert.rejects(tts.synthesize(req, out()), (e: unknown) => e instanceof ProviderError && e.code === 'provider_rate_limited' && e.retryAfterMs === 1000);
  fake.fail('server_error', 1);
  await assert.rejects(tts.synthesize(req, out()), isCode('provider_unavailable'));
  fake.fail('malformed', 1);
  await assert.rejects(tts.synthesize(req, out()), isCode('provider_bad_response'));
  fake.fail('invalid', 1);
  await assert.rejects(tts.synthesize(req, out()), isCode('provider_failed'));
  await assert.rejects(tts.synthesize({ ...req, voiceId: 'google-tts:en-US-Nope' }, out()), isCode('provider_failed'));
});

test('a hang is cut by the signal: cancellation is aborted, a timeout is provider_timeout', async () => {
  const req = { text: 'Hello there.', voiceId: 'google-tts:en-US-Neural2-F', rate: 1 };
  fake.fail('hang', 2);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(tts.synthesize(req, out(), controller.signal), isCode('aborted'));
  await assert.rejects(tts.synthesize(req, out(), AbortSignal.timeout(200)), isCode('provider_timeout'));
  fake.ok();
});

test('probe lists voices with the key', async () => {
  const ctx = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'neural2' });
  assert.match(await googleTtsDescriptor.probe(ctx, AbortSignal.timeout(5000)), /3 en-US voices/);
  await assert.rejects(googleTtsDescriptor.probe({ ...ctx, credentials: { ...ctx.credentials, apiKey: 'bad' } }, AbortSignal.timeout(5000)), isCode('provider_auth'));
});

test('through a chain: a 429 with Retry-After 1 is waited for, then the voice answers', async () => {
  const ctx = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'neural2' });
  const chain = new ProviderChain<SpeechSynthesizer>('narrate', [
    { name: 'google-tts', provider: tts, offline: false, credentials: ctx.credentials, resilience: { timeoutMs: 10_000, maxAttempts: 3, baseDelayMs: 10 } },
    { name: 'offline', provider: new EspeakSynthesizer(), offline: true },
  ], new ProviderGuard());
  fake.fail('rate_limited', 1);
  const first = fake.requestTimes.length;
  const { member } = await chain.run((m, guarded) => guarded((signal) => m.provider.synthesize({ text: 'Wait for it.', voiceId: 'google-tts:en-US-Neural2-F', rate: 1 }, out(), signal)));
  assert.equal(member.name, 'google-tts');
  const times = fake.requestTimes.slice(first);
  assert.equal(times.length, 2);
  assert.ok(times[1]! - times[0]! >= 950, `waited ${times[1]! - times[0]!} ms`);
});

test('through a chain: a server that keeps failing hands over to the offline voice', async () => {
  const ctx = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'neural2' });
  const chain = new ProviderChain<SpeechSynthesizer>('narrate', [
    { name: 'google-tts', provider: tts, offline: false, credentials: ctx.credentials, resilience: { timeoutMs: 10_000, maxAttempts: 2, baseDelayMs: 10 } },
    { name: 'offline', provider: new EspeakSynthesizer(), offline: true },
  ], new ProviderGuard());
  fake.fail('server_error');
  const fallbacks: { from: string; code: string; to?: string }[] = [];
  const { value, member } = await chain.run(async (m, guarded) => {
    const voice = await m.provider.resolveVoice('en');
    return guarded((signal) => m.provider.synthesize({ text: 'Plan B.', voiceId: voice.id, rate: 1 }, out(), signal));
  }, { onFallback: (f) => fallbacks.push(f) });
  fake.ok();
  assert.equal(member.name, 'offline');
  assert.equal(value.words.length, 2);
  assert.deepEqual(fallbacks.map((f) => [f.from, f.code, f.to]), [['google-tts:neural2', 'provider_unavailable', 'espeak-ng@1']]);
});
