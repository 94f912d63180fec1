/**
 * OpenAI text to speech through the official SDK (`audio.speech.create`, 24 kHz 16-bit PCM).
 * OpenAI returns no timings, so the words' timings are measured from the audio: pauses found by
 * voice activity are matched to the text's punctuation, and the words between them are spread
 * over the voiced time by length (speech-timing.ts; accuracy in docs/providers/narrate.md).
 */
import { rmSync, writeFileSync } from 'node:fs';
import OpenAI from 'openai';
import { readWav } from '../../media/wav.js';
import { toWav } from '../audio-files.js';
import { providerErrorFromSdk } from '../http.js';
import { ProviderError, providerErrorFromNetwork } from '../provider-error.js';
import { providerId, type ProviderContext, type ProviderDescriptor } from '../provider.js';
import { cancelled, ownVoiceId, primaryLanguage, unsupportedLanguage } from './cloud-voices.js';
import { distributeWords, speechActivity } from './speech-timing.js';
import { clampTimings, splitWords } from './speech-words.js';
import type { SpeechRequest, SpeechResult, SpeechSynthesizer, Voice } from './tts.port.js';

const NAME = 'openai-tts';
const SAMPLE_RATE = 24_000;

/** Voices of tts-1 and tts-1-hd; each speaks every language below. */
const VOICES: readonly { id: string; name: string }[] = [
  { id: 'alloy', name: 'Alloy (neutral)' },
  { id: 'nova', name: 'Nova (bright, female)' },
  { id: 'onyx', name: 'Onyx (deep, male)' },
  { id: 'echo', name: 'Echo (male)' },
  { id: 'fable', name: 'Fable (British)' },
  { id: 'shimmer', name: 'Shimmer (soft, female)' },
  { id: 'ash', name: 'Ash' },
  { id: 'coral', name: 'Coral' },
  { id: 'sage', name: 'Sage' },
];
const DEFAULT_VOICE = 'alloy';

/** The languages OpenAI's speech models are documented to speak (those of Whisper). */
const LANGUAGES = [
  'af', 'ar', 'hy', 'az', 'be', 'bs', 'bg', 'ca', 'zh', 'hr', 'cs', 'da', 'nl', 'en', 'et', 'fi', 'fr', 'gl', 'de', 'el', 'he', 'hi', 'hu', 'is', 'id', 'it', 'ja', 'kn', 'kk',
  'ko', 'lv', 'lt', 'mk', 'ms', 'mr', 'mi', 'ne', 'no', 'nb', 'fa', 'pl', 'pt', 'ro', 'ru', 'sr', 'sk', 'sl', 'es', 'sw', 'sv', 'tl', 'fil', 'ta', 'th', 'tr', 'uk', 'ur', 'vi', 'cy',
];

export class OpenAiTtsSynthesizer implements SpeechSynthesizer {
  readonly id: string;
  private readonly client: OpenAI;

  constructor(private readonly context: ProviderContext) {
    this.id = providerId(NAME, context.model);
    this.client = new OpenAI({ apiKey: context.credentials.apiKey, baseURL: context.credentials.baseUrl, maxRetries: 0, timeout: 600_000 });
  }

  async voices(): Promise<Voice[]> {
    return VOICES.map((v) => ({ id: `${NAME}:${v.id}`, name: v.name, languages: [...LANGUAGES] }));
  }

  async resolveVoice(language: string, voice?: string): Promise<Voice> {
    if (!LANGUAGES.includes(primaryLanguage(language))) throw unsupportedLanguage(NAME, language, LANGUAGES);
    const own = ownVoiceId(NAME, voice) ?? DEFAULT_VOICE;
    return { id: `${NAME}:${own}`, name: VOICES.find((v) => v.id === own)?.name ?? own, languages: [language.toLowerCase(), ...LANGUAGES] };
  }

  async synthesize(request: SpeechRequest, outPath: string, signal?: AbortSignal): Promise<SpeechResult> {
    if (signal?.aborted) throw cancelled();
    const voice = ownVoiceId(NAME, request.voiceId) ?? DEFAULT_VOICE;
    let pcm: Buffer;
    try {
      const response = await this.client.audio.speech.create(
        { model: this.context.model, voice, input: request.text, response_format: 'pcm', speed: Math.min(4, Math.max(0.25, request.rate)) },
        { signal },
      );
      const type = response.headers.get('content-type') ?? '';
      pcm = Buffer.from(await response.arrayBuffer());
      if (/json|html|text\//i.test(type) || pcm.length < 2) {
        throw new ProviderError('provider_bad_response', NAME, `expected PCM audio, got ${type || 'no content type'} (${pcm.length} bytes)`);
      }
    } catch (error) {
      throw mapError(error, signal);
    }
    const rawPath = `${outPath}.pcm`;
    writeFileSync(rawPath, pcm.subarray(0, pcm.length - (pcm.length % 2)));
    let durationSec: number;
    try {
      ({ durationSec } = await toWav(this.context.media, rawPath, outPath, { channels: 1, sampleRate: SAMPLE_RATE, rawInput: { format: 's16le', sampleRate: SAMPLE_RATE, channels: 1 } }, signal));
    } finally {
      rmSync(rawPath, { force: true });
    }
    const wav = readWav(outPath);
    const words = distributeWords(request.text, splitWords(request.text), speechActivity(wav.samples, wav.sampleRate), durationSec);
    return {
      path: outPath,
      durationSec,
      sampleRate: SAMPLE_RATE,
      words: clampTimings(words, durationSec),
      characters: request.text.length,
      usage: { characters: request.text.length },
    };
  }
}

/** SDK failures in project terms; an auth failure's message never repeats OpenAI's (it quotes part of the key). */
function mapError(error: unknown, signal?: AbortSignal): Error {
  if (signal?.aborted) return providerErrorFromNetwork(NAME, error, signal);
  const mapped = providerErrorFromSdk(NAME, error, signal);
  if (mapped.code === 'provider_auth' && mapped instanceof ProviderError) {
    return new ProviderError('provider_auth', NAME, `the key was refused (HTTP ${mapped.httpStatus ?? '401'})`, { httpStatus: mapped.httpStatus });
  }
  return mapped;
}

export const openAiTtsDescriptor: ProviderDescriptor<SpeechSynthesizer> = {
  name: NAME,
  stage: 'narrate',
  vendor: 'OpenAI',
  keyEnv: 'OPENAI_API_KEY',
  tenantKey: 'openai',
  baseUrlEnv: 'OPENAI_BASE_URL',
  defaultBaseUrl: 'https://api.openai.com/v1',
  models: { economy: 'tts-1', standard: 'tts-1', premium: 'tts-1-hd' },
  modelEnv: 'OPENAI_TTS_MODEL',
  timeoutMs: 120_000,
  sends: 'each scene\'s narration text, the voice name, the model and the speaking speed',
  create: (context) => new OpenAiTtsSynthesizer(context),
  async probe(context, signal) {
    const client = new OpenAI({ apiKey: context.credentials.apiKey, baseURL: context.credentials.baseUrl, maxRetries: 0 });
    try {
      const ids: string[] = [];
      for await (const model of client.models.list({ signal })) ids.push(model.id);
      return `${ids.length} models available; ${context.model} ${ids.includes(context.model) ? 'is' : 'is NOT'} among them`;
    } catch (error) {
      throw mapError(error, signal);
    }
  },
};
