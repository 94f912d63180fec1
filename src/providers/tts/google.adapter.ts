/**
 * Google Cloud Text-to-Speech over its REST API (v1beta1, API key): the text goes as SSML with a
 * `<mark name="wN"/>` before each word, and `enableTimePointing: ["SSML_MARK"]` returns the
 * instant each mark was reached — each word's start. A word ends where the next begins; the last
 * one where the speech ends, measured on the returned samples (speech-timing.ts).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from '../../contract/errors.js';
import { readWav, writePcm16Wav } from '../../media/wav.js';
import { toWav } from '../audio-files.js';
import { requestJson } from '../http.js';
import { ProviderError, providerErrorFromNetwork } from '../provider-error.js';
import { providerId, type ProviderContext, type ProviderDescriptor } from '../provider.js';
import { cancelled, ownVoiceId, primaryLanguage, unsupportedLanguage } from './cloud-voices.js';
import { speechActivity } from './speech-timing.js';
import { clampTimings, splitWords, type TextWord } from './speech-words.js';
import type { SpeechRequest, SpeechResult, SpeechSynthesizer, Voice, WordTiming } from './tts.port.js';

const NAME = 'google-tts';
const SAMPLE_RATE = 24_000;
/** Google's limit is 5,000 bytes of SSML per request; some room is kept. */
const SSML_MAX_BYTES = 4_800;

type Family = 'standard' | 'wavenet' | 'neural2';
const FAMILIES: readonly Family[] = ['standard', 'wavenet', 'neural2'];

/** A good voice per locale and family (Google's voice list, 2026-12); a missing family falls back to the next cheaper one. */
const VOICES: Readonly<Record<string, Partial<Record<Family, string>>>> = {
  'en-US': { standard: 'en-US-Standard-C', wavenet: 'en-US-Wavenet-F', neural2: 'en-US-Neural2-F' },
  'en-GB': { standard: 'en-GB-Standard-A', wavenet: 'en-GB-Wavenet-A', neural2: 'en-GB-Neural2-A' },
  'en-AU': { standard: 'en-AU-Standard-A', wavenet: 'en-AU-Wavenet-A', neural2: 'en-AU-Neural2-A' },
  'en-IN': { standard: 'en-IN-Standard-A', wavenet: 'en-IN-Wavenet-A', neural2: 'en-IN-Neural2-A' },
  'fr-FR': { standard: 'fr-FR-Standard-A', wavenet: 'fr-FR-Wavenet-A', neural2: 'fr-FR-Neural2-A' },
  'fr-CA': { standard: 'fr-CA-Standard-A', wavenet: 'fr-CA-Wavenet-A', neural2: 'fr-CA-Neural2-A' },
  'de-DE': { standard: 'de-DE-Standard-A', wavenet: 'de-DE-Wavenet-A', neural2: 'de-DE-Neural2-A' },
  'es-ES': { standard: 'es-ES-Standard-A', wavenet: 'es-ES-Wavenet-C', neural2: 'es-ES-Neural2-A' },
  'es-US': { standard: 'es-US-Standard-A', wavenet: 'es-US-Wavenet-A', neural2: 'es-US-Neural2-A' },
  'it-IT': { standard: 'it-IT-Standard-A', wavenet: 'it-IT-Wavenet-A', neural2: 'it-IT-Neural2-A' },
  'pt-BR': { standard: 'pt-BR-Standard-A', wavenet: 'pt-BR-Wavenet-A', neural2: 'pt-BR-Neural2-A' },
  'pt-PT': { standard: 'pt-PT-Standard-A', wavenet: 'pt-PT-Wavenet-A' },
  'nl-NL': { standard: 'nl-NL-Standard-A', wavenet: 'nl-NL-Wavenet-A' },
  'pl-PL': { standard: 'pl-PL-Standard-A', wavenet: 'pl-PL-Wavenet-A' },
  'sv-SE': { standard: 'sv-SE-Standard-A', wavenet: 'sv-SE-Wavenet-A' },
  'da-DK': { standard: 'da-DK-Standard-A', wavenet: 'da-DK-Wavenet-A', neural2: 'da-DK-Neural2-D' },
  'nb-NO': { standard: 'nb-NO-Standard-A', wavenet: 'nb-NO-Wavenet-A' },
  'fi-FI': { standard: 'fi-FI-Standard-A', wavenet: 'fi-FI-Wavenet-A' },
  'ru-RU': { standard: 'ru-RU-Standard-A', wavenet: 'ru-RU-Wavenet-A' },
  'uk-UA': { standard: 'uk-UA-Standard-A', wavenet: 'uk-UA-Wavenet-A' },
  'tr-TR': { standard: 'tr-TR-Standard-A', wavenet: 'tr-TR-Wavenet-A' },
  'el-GR': { standard: 'el-GR-Standard-A', wavenet: 'el-GR-Wavenet-A' },
  'cs-CZ': { standard: 'cs-CZ-Standard-A', wavenet: 'cs-CZ-Wavenet-A' },
  'hu-HU': { standard: 'hu-HU-Standard-A', wavenet: 'hu-HU-Wavenet-A' },
  'ro-RO': { standard: 'ro-RO-Standard-A', wavenet: 'ro-RO-Wavenet-A' },
  'ar-XA': { standard: 'ar-XA-Standard-A', wavenet: 'ar-XA-Wavenet-A' },
  'hi-IN': { standard: 'hi-IN-Standard-A', wavenet: 'hi-IN-Wavenet-A', neural2: 'hi-IN-Neural2-A' },
  'ja-JP': { standard: 'ja-JP-Standard-A', wavenet: 'ja-JP-Wavenet-A', neural2: 'ja-JP-Neural2-B' },
  'ko-KR': { standard: 'ko-KR-Standard-A', wavenet: 'ko-KR-Wavenet-A', neural2: 'ko-KR-Neural2-A' },
  'cmn-CN': { standard: 'cmn-CN-Standard-A', wavenet: 'cmn-CN-Wavenet-A' },
  'vi-VN': { standard: 'vi-VN-Standard-A', wavenet: 'vi-VN-Wavenet-A', neural2: 'vi-VN-Neural2-A' },
  'id-ID': { standard: 'id-ID-Standard-A', wavenet: 'id-ID-Wavenet-A' },
};

/** A language without a region → its usual locale; Google's codes where they differ from BCP-47. */
const LOCALE_OF: Readonly<Record<string, string>> = {
  en: 'en-US', fr: 'fr-FR', de: 'de-DE', es: 'es-ES', it: 'it-IT', pt: 'pt-BR', nl: 'nl-NL', pl: 'pl-PL', sv: 'sv-SE', da: 'da-DK',
  nb: 'nb-NO', no: 'nb-NO', fi: 'fi-FI', ru: 'ru-RU', uk: 'uk-UA', tr: 'tr-TR', el: 'el-GR', cs: 'cs-CZ', hu: 'hu-HU', ro: 'ro-RO',
  ar: 'ar-XA', hi: 'hi-IN', ja: 'ja-JP', ko: 'ko-KR', zh: 'cmn-CN', cmn: 'cmn-CN', vi: 'vi-VN', id: 'id-ID',
};

const synthesizeSchema = z.object({
  audioContent: z.string().min(1),
  timepoints: z.array(z.object({ markName: z.string(), timeSeconds: z.number().optional() })).optional(),
});
const voicesSchema = z.object({ voices: z.array(z.object({ name: z.string(), languageCodes: z.array(z.string()) })).optional() });

/** The table's locale for a BCP-47 tag, if any ("en" → en-US, "pt-pt" → pt-PT, "zh-CN" → cmn-CN). */
function localeFor(language: string): string | undefined {
  const tag = language.toLowerCase();
  const exact = Object.keys(VOICES).find((l) => l.toLowerCase() === tag);
  if (exact) return exact;
  const primary = primaryLanguage(tag);
  const region = tag.split(/[-_]/)[1];
  const sameRegion = region ? Object.keys(VOICES).find((l) => l.toLowerCase() === `${LOCALE_OF[primary]?.split('-')[0]}-${region}`.toLowerCase()) : undefined;
  return sameRegion ?? LOCALE_OF[primary];
}

/** The locale inside a Google voice name: "en-US-Neural2-F" → "en-US", "cmn-CN-Wavenet-A" → "cmn-CN". */
export const languageCodeOf = (voiceName: string): string => voiceName.split('-').slice(0, 2).join('-');

/** SSML with a mark before each word; the text XML-escaped. A range of the text gives one piece of it (mark names stay global). */
export function markedSsml(text: string, range: { from: number; to: number; words: TextWord[]; first: number } = { from: 0, to: text.length, words: splitWords(text), first: 0 }): { ssml: string; words: TextWord[] } {
  let ssml = '<speak>';
  let at = range.from;
  for (const [i, w] of range.words.entries()) {
    ssml += `${escapeXml(text.slice(at, w.charStart))}<mark name="w${range.first + i}"/>${escapeXml(w.text)}`;
    at = w.charEnd;
  }
  return { ssml: `${ssml}${escapeXml(text.slice(at, range.to))}</speak>`, words: range.words };
}

/**
 * The text as SSML pieces of at most `maxBytes` (Google accepts 5,000 bytes of input per request,
 * and the marks take room), cut after sentences where possible, else between words.
 */
export function ssmlPieces(text: string, maxBytes = SSML_MAX_BYTES): { ssml: string; words: TextWord[]; first: number }[] {
  const words = splitWords(text);
  const whole = markedSsml(text);
  if (Buffer.byteLength(whole.ssml) <= maxBytes || words.length <= 1) return [{ ...whole, first: 0 }];
  const pieces: { ssml: string; words: TextWord[]; first: number }[] = [];
  let first = 0;
  let from = 0;
  while (first < words.length) {
    let end = first;
    let lastSentenceEnd = -1;
    // Grow the piece word by word while it fits; remember the last sentence end inside it.
    while (end + 1 < words.length) {
      const to = (words[end + 1] as TextWord).charStart;
      const candidate = markedSsml(text, { from, to, words: words.slice(first, end + 2), first });
      if (Buffer.byteLength(candidate.ssml) > maxBytes) break;
      end++;
      if (/[.!?…]/.test(text.slice((words[end - 1] as TextWord).charEnd, (words[end] as TextWord).charStart))) lastSentenceEnd = end - 1;
    }
    if (end + 1 < words.length && lastSentenceEnd >= first) end = lastSentenceEnd;
    const to = end + 1 < words.length ? (words[end + 1] as TextWord).charStart : text.length;
    pieces.push({ ...markedSsml(text, { from, to, words: words.slice(first, end + 1), first }), first });
    first = end + 1;
    from = to;
  }
  return pieces;
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export class GoogleTtsSynthesizer implements SpeechSynthesizer {
  readonly id: string;
  private readonly family: Family;

  constructor(private readonly context: ProviderContext) {
    this.id = providerId(NAME, context.model);
    this.family = (FAMILIES as readonly string[]).includes(context.model) ? (context.model as Family) : 'neural2';
  }

  async voices(): Promise<Voice[]> {
    return Object.entries(VOICES).map(([locale, byFamily]) => this.voice(locale, this.pick(byFamily)));
  }

  async resolveVoice(language: string, voice?: string): Promise<Voice> {
    const own = ownVoiceId(NAME, voice);
    if (own) return this.voice(languageCodeOf(own), own);
    const locale = localeFor(language);
    const byFamily = locale ? VOICES[locale] : undefined;
    if (!locale || !byFamily) throw unsupportedLanguage(NAME, language, Object.keys(VOICES));
    return this.voice(locale, this.pick(byFamily));
  }

  async synthesize(request: SpeechRequest, outPath: string, signal?: AbortSignal): Promise<SpeechResult> {
    if (signal?.aborted) throw cancelled();
    const name = ownVoiceId(NAME, request.voiceId);
    if (!name) throw new AppError('unknown_voice', `${NAME}: "${request.voiceId}" is not a Google voice id; resolve the voice first`);
    const rate = Math.min(4, Math.max(0.25, request.rate));
    const chunks: Int16Array[] = [];
    const timings: WordTiming[] = [];
    let offsetSec = 0;
    let billed = 0;
    for (const [index, piece] of ssmlPieces(request.text).entries()) {
      const { samples, marks, speechEnd } = await this.speak(piece.ssml, name, rate, `${outPath}.${index}`, signal);
      const pieceTimings = piece.words.map((w, i) => ({ ...w, startSec: offsetSec + (marks.get(`w${piece.first + i}`) ?? Number.NaN), endSec: Number.NaN }));
      // A word ends where the next starts; a piece's last word where its speech ends.
      for (const [i, t] of pieceTimings.entries()) t.endSec = pieceTimings[i + 1]?.startSec ?? offsetSec + Math.max(speechEnd, t.startSec - offsetSec + 0.05);
      timings.push(...pieceTimings);
      chunks.push(Int16Array.from(samples, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768)))));
      offsetSec += samples.length / SAMPLE_RATE;
      // Google bills SSML characters, tags included, except <mark>.
      billed += piece.ssml.replace(/<mark name="w\d+"\/>/g, '').length;
    }
    writePcm16Wav(outPath, chunks, { sampleRate: SAMPLE_RATE, channels: 1 });
    const durationSec = offsetSec;
    return {
      path: outPath,
      durationSec,
      sampleRate: SAMPLE_RATE,
      words: clampTimings(timings, durationSec),
      characters: request.text.length,
      usage: { characters: billed },
    };
  }

  /** One request: the piece's samples (24 kHz mono), its mark times and where its speech ends. */
  private async speak(ssml: string, name: string, rate: number, tempBase: string, signal?: AbortSignal): Promise<{ samples: Float32Array; marks: Map<string, number>; speechEnd: number }> {
    const { data } = await requestJson(
      NAME,
      {
        method: 'POST',
        url: `${this.context.credentials.baseUrl}/v1beta1/text:synthesize`,
        headers: { 'x-goog-api-key': this.context.credentials.apiKey },
        json: {
          input: { ssml },
          voice: { languageCode: languageCodeOf(name), name },
          audioConfig: { audioEncoding: 'LINEAR16', sampleRateHertz: SAMPLE_RATE, speakingRate: rate },
          enableTimePointing: ['SSML_MARK'],
        },
        signal: signal ?? new AbortController().signal,
      },
      synthesizeSchema,
    ).catch((error: unknown) => {
      throw authFromBadKey(error);
    });
    const vendorPath = `${tempBase}.vendor.wav`;
    const piecePath = `${tempBase}.wav`;
    writeFileSync(vendorPath, Buffer.from(data.audioContent, 'base64'));
    try {
      await toWav(this.context.media, vendorPath, piecePath, { channels: 1, sampleRate: SAMPLE_RATE }, signal);
      const { samples } = readWav(piecePath);
      const marks = new Map((data.timepoints ?? []).map((t) => [t.markName, t.timeSeconds ?? 0]));
      return { samples, marks, speechEnd: speechActivity(samples, SAMPLE_RATE).speechEnd };
    } catch (error) {
      if (signal?.aborted) throw providerErrorFromNetwork(NAME, error, signal);
      throw new ProviderError('provider_bad_response', NAME, `the audio cannot be read: ${(error as Error).message.slice(0, 200)}`, { cause: error });
    } finally {
      rmSync(vendorPath, { force: true });
      rmSync(piecePath, { force: true });
    }
  }

  private pick(byFamily: Partial<Record<Family, string>>): string {
    const order = FAMILIES.slice(0, FAMILIES.indexOf(this.family) + 1).reverse();
    return order.map((f) => byFamily[f]).find((v): v is string => v !== undefined) ?? (Object.values(byFamily)[0] as string);
  }

  private voice(locale: string, name: string): Voice {
    const tag = locale === 'cmn-CN' ? 'zh-cn' : locale.toLowerCase();
    const primary = locale === 'cmn-CN' ? 'zh' : primaryLanguage(locale);
    return { id: `${NAME}:${name}`, name, languages: [tag, primary] };
  }
}

/** Google answers a wrong API key with 400 INVALID_ARGUMENT (reason API_KEY_INVALID), not 401. */
function authFromBadKey(error: unknown): unknown {
  if (error instanceof ProviderError && error.httpStatus === 400 && /API key not valid|API_KEY_INVALID/i.test(error.message)) {
    return new ProviderError('provider_auth', NAME, 'the API key was refused (HTTP 400 API_KEY_INVALID)', { httpStatus: 400, cause: error });
  }
  return error;
}

export const googleTtsDescriptor: ProviderDescriptor<SpeechSynthesizer> = {
  name: NAME,
  stage: 'narrate',
  vendor: 'Google Cloud Text-to-Speech',
  keyEnv: 'GOOGLE_TTS_API_KEY',
  tenantKey: 'google_tts',
  baseUrlEnv: 'GOOGLE_TTS_BASE_URL',
  defaultBaseUrl: 'https://texttospeech.googleapis.com',
  models: { economy: 'standard', standard: 'wavenet', premium: 'neural2' },
  modelEnv: 'GOOGLE_TTS_FAMILY',
  timeoutMs: 60_000,
  sends: 'each scene\'s narration text (as SSML with word marks), the voice name and the speaking rate',
  create: (context) => new GoogleTtsSynthesizer(context),
  async probe(context, signal) {
    const { data } = await requestJson(
      NAME,
      { url: `${context.credentials.baseUrl}/v1/voices`, query: { languageCode: 'en-US' }, headers: { 'x-goog-api-key': context.credentials.apiKey }, signal },
      voicesSchema,
    ).catch((error: unknown) => {
      throw authFromBadKey(error);
    });
    return `${data.voices?.length ?? 0} en-US voices available`;
  },
};
