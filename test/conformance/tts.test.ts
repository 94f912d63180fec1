/**
 * The SpeechSynthesizer conformance suite against the offline voice and each cloud voice on its fake.
 */
import { after } from 'node:test';
import { ElevenLabsSynthesizer } from '../../src/providers/tts/elevenlabs.adapter.js';
import { EspeakSynthesizer } from '../../src/providers/tts/espeak.adapter.js';
import { googleTtsDescriptor } from '../../src/providers/tts/google.adapter.js';
import { openAiTtsDescriptor } from '../../src/providers/tts/openai.adapter.js';
import { FakeElevenLabs } from '../support/fake-elevenlabs.js';
import { FakeGoogleTts } from '../support/fake-google-tts.js';
import { FakeOpenAiSpeech } from '../support/fake-openai-speech.js';
import { providerContext } from '../support/provider-context.js';
import { ttsConformance, type TtsSubject } from './tts.conformance.js';

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers) await close();
});

/** One fake and adapter per provider, started on first use. */
function once(start: () => Promise<TtsSubject>): () => Promise<TtsSubject> {
  let subject: Promise<TtsSubject> | undefined;
  return () => (subject ??= start());
}

ttsConformance('espeak', once(async () => ({ tts: new EspeakSynthesizer(), ownVoice: 'gmw/en-GB-x-rp' })));

ttsConformance('elevenlabs', once(async () => {
  const fake = await FakeElevenLabs.start({ apiKey: 'xi-key' });
  closers.push(() => fake.close());
  // A short SDK timeout: the SDK keeps its timer after an aborted call, which would hold the process open.
  const tts = new ElevenLabsSynthesizer(await providerContext({ baseUrl: fake.url, apiKey: 'xi-key', model: 'eleven_multilingual_v2' }), { sdkTimeoutSec: 3 });
  return { tts, ownVoice: 'elevenlabs:pNInz6obpgDQGcFmaJgB', foreignVoice: 'gmw/en-US', hangNext: () => fake.fail('hang', 1), failNext: () => fake.fail('server_error', 1) };
}));

ttsConformance('google-tts', once(async () => {
  const fake = await FakeGoogleTts.start({ apiKey: 'AIza-key' });
  closers.push(() => fake.close());
  const tts = googleTtsDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: 'AIza-key', model: 'neural2' }));
  return { tts, ownVoice: 'google-tts:en-GB-Neural2-B', foreignVoice: 'openai-tts:alloy', hangNext: () => fake.fail('hang', 1), failNext: () => fake.fail('malformed', 1) };
}));

ttsConformance('openai-tts', once(async () => {
  const fake = await FakeOpenAiSpeech.start({ apiKey: 'sk-key' });
  closers.push(() => fake.close());
  const tts = openAiTtsDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: 'sk-key', model: 'tts-1-hd' }));
  return { tts, ownVoice: 'openai-tts:shimmer', foreignVoice: 'elevenlabs:21m00Tcm4TlvDq8EDUAs', hangNext: () => fake.fail('hang', 1), failNext: () => fake.fail('refused', 1) };
}));
