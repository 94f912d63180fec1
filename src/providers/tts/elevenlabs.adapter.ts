/**
 * ElevenLabs text to speech, through the official SDK: one call to
 * `POST /v1/text-to-speech/{voice_id}/with-timestamps` returns the audio (24 kHz PCM, base64) and
 * the start and end time of every character, from which the words' timings follow exactly.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { lazyElevenLabs, type ElevenLabsClient } from '../elevenlabs-sdk.js';
import { toWav } from '../audio-files.js';
import { providerErrorFromSdk } from '../http.js';
import { ProviderError, providerErrorFromNetwork } from '../provider-error.js';
import { providerId, type ProviderContext, type ProviderDescriptor } from '../provider.js';
import { cancelled, ownVoiceId, primaryLanguage, unsupportedLanguage } from './cloud-voices.js';
import { wordsFromCharacterTimes } from './speech-words.js';
import type { SpeechRequest, SpeechResult, SpeechSynthesizer, Voice } from './tts.port.js';

const NAME = 'elevenlabs';
const SAMPLE_RATE = 24_000;
const TIMEOUT_MS = 120_000;

/** Languages of eleven_multilingual_v2; eleven_flash_v2_5 adds Hungarian, Norwegian and Vietnamese. */
const MULTILINGUAL_V2 = ['en', 'ja', 'zh', 'de', 'hi', 'fr', 'ko', 'pt', 'it', 'es', 'id', 'nl', 'tr', 'fil', 'pl', 'sv', 'bg', 'ro', 'ar', 'cs', 'el', 'fi', 'hr', 'ms', 'sk', 'da', 'ta', 'uk', 'ru'];
const FLASH_V2_5 = [...MULTILINGUAL_V2, 'hu', 'no', 'vi'];

/** Premade voices every account has; each speaks every language of the model. */
const PREMADE: readonly { id: string; name: string }[] = [
  { id: '21m00Tcm4TlvDq8EDUAs', name: 'Rachel (calm, American)' },
  { id: 'EXAVITQu4vr4xnSDxMaL', name: 'Sarah (soft, American)' },
  { id: 'pNInz6obpgDQGcFmaJgB', name: 'Adam (deep, American)' },
  { id: 'ErXwobaYiN019PkySvjV', name: 'Antoni (warm, American)' },
  { id: 'onwK4e9ZLuTAKqWW03F9', name: 'Daniel (authoritative, British)' },
  { id: 'XB0fDUnXU5powFXDhCwa', name: 'Charlotte (Swedish-English)' },
];
const DEFAULT_VOICE = '21m00Tcm4TlvDq8EDUAs';

export class ElevenLabsSynthesizer implements SpeechSynthesizer {
  readonly id: string;
  private readonly client: () => Promise<ElevenLabsClient>;
  private readonly languages: readonly string[];

  /**
   * `sdkTimeoutSec`: the SDK's own per-request limit, a backstop behind the guard's timeout. The SDK
   * does not clear its timer when a request is aborted, so each cancelled call keeps a timer this
   * long (tests shorten it).
   */
  constructor(
    private readonly context: ProviderContext,
    options: { sdkTimeoutSec?: number } = {},
  ) {
    this.id = providerId(NAME, context.model);
    this.client = lazyElevenLabs({
      apiKey: context.credentials.apiKey,
      baseUrl: context.credentials.baseUrl,
      maxRetries: 0,
      timeoutInSeconds: options.sdkTimeoutSec ?? TIMEOUT_MS / 1000 + 5,
    });
    this.languages = context.model.startsWith('eleven_flash_v2_5') || context.model.startsWith('eleven_turbo_v2_5') ? FLASH_V2_5 : MULTILINGUAL_V2;
  }

  async voices(): Promise<Voice[]> {
    return PREMADE.map((v) => ({ id: `${NAME}:${v.id}`, name: v.name, languages: [...this.languages] }));
  }

  async resolveVoice(language: string, voice?: string): Promise<Voice> {
    const primary = primaryLanguage(language);
    if (!this.languages.includes(primary)) throw unsupportedLanguage(NAME, language, this.languages);
    const own = ownVoiceId(NAME, voice) ?? DEFAULT_VOICE;
    const known = PREMADE.find((v) => v.id === own);
    return { id: `${NAME}:${own}`, name: known?.name ?? own, languages: [language.toLowerCase(), ...this.languages.filter((l) => l !== language.toLowerCase())] };
  }

  async synthesize(request: SpeechRequest, outPath: string, signal?: AbortSignal): Promise<SpeechResult> {
    if (signal?.aborted) throw cancelled();
    const voiceId = ownVoiceId(NAME, request.voiceId) ?? DEFAULT_VOICE;
    let answer: Awaited<ReturnType<ElevenLabsClient['textToSpeech']['convertWithTimestamps']>>;
    try {
      answer = await (await this.client()).textToSpeech.convertWithTimestamps(
        voiceId,
        {
          text: request.text,
          modelId: this.context.model,
          outputFormat: 'pcm_24000',
          // ElevenLabs accepts speeds from 0.7 to 1.2.
          voiceSettings: { speed: Math.min(1.2, Math.max(0.7, request.rate)) },
        },
        { abortSignal: signal, maxRetries: 0 },
      );
    } catch (error) {
      throw mapError(error, signal);
    }
    const pcm = Buffer.from(answer.audioBase64, 'base64');
    if (pcm.length < 2) throw new ProviderError('provider_bad_response', NAME, 'the answer has no audio');
    const rawPath = `${outPath}.pcm`;
    writeFileSync(rawPath, pcm);
    let wav: { durationSec: number };
    try {
      wav = await toWav(this.context.media, rawPath, outPath, { channels: 1, sampleRate: SAMPLE_RATE, rawInput: { format: 's16le', sampleRate: SAMPLE_RATE, channels: 1 } }, signal);
    } finally {
      rmSync(rawPath, { force: true });
    }
    // `alignment` follows the text as sent; `normalized_alignment` the text as spoken (numbers expanded).
    const alignment = answer.alignment ?? answer.normalizedAlignment;
    if (!alignment) throw new ProviderError('provider_bad_response', NAME, 'the answer has no character alignment');
    const words = wordsFromCharacterTimes(
      request.text,
      { characters: alignment.characters, starts: alignment.characterStartTimesSeconds, ends: alignment.characterEndTimesSeconds },
      wav.durationSec,
    );
    return { path: outPath, durationSec: wav.durationSec, sampleRate: SAMPLE_RATE, words, characters: request.text.length, usage: { characters: request.text.length } };
  }
}

/** SDK failures in project terms; a body the SDK could not read is a bad response. */
function mapError(error: unknown, signal?: AbortSignal): Error {
  if (signal?.aborted) return providerErrorFromNetwork(NAME, error, signal);
  const mapped = providerErrorFromSdk(NAME, error, signal);
  const name = error instanceof Error ? `${error.name} ${error.message}` : '';
  if (mapped.code === 'provider_unavailable' && /pars|json|serializ|response\b.*(expected|missing)/i.test(name)) {
    return new ProviderError('provider_bad_response', NAME, `unexpected answer: ${error instanceof Error ? error.message.slice(0, 200) : ''}`, { cause: error });
  }
  return mapped;
}

export const elevenLabsTtsDescriptor: ProviderDescriptor<SpeechSynthesizer> = {
  name: NAME,
  stage: 'narrate',
  vendor: 'ElevenLabs',
  keyEnv: 'ELEVENLABS_API_KEY',
  tenantKey: 'elevenlabs',
  baseUrlEnv: 'ELEVENLABS_BASE_URL',
  defaultBaseUrl: 'https://api.elevenlabs.io',
  models: { economy: 'eleven_flash_v2_5', standard: 'eleven_multilingual_v2', premium: 'eleven_multilingual_v2' },
  modelEnv: 'ELEVENLABS_TTS_MODEL',
  timeoutMs: TIMEOUT_MS,
  sends: 'each scene\'s narration text, the voice id, the model and the speaking speed',
  create: (context) => new ElevenLabsSynthesizer(context),
  async probe(context, signal) {
    const client = await lazyElevenLabs({ apiKey: context.credentials.apiKey, baseUrl: context.credentials.baseUrl, maxRetries: 0, timeoutInSeconds: 30 })();
    try {
      const models = await client.models.list({ abortSignal: signal, maxRetries: 0 });
      return `${models.length} models available; ${context.model} ${models.some((m) => m.modelId === context.model) ? 'is' : 'is NOT'} among them`;
    } catch (error) {
      throw mapError(error, signal);
    }
  },
};
