/**
 * Port for the "narrate" stage: text to speech with word timings (captions are built from them).
 * Adapters: espeak.adapter.ts (offline, in-process WASM, default); Google Cloud TTS and
 * ElevenLabs plug in here later.
 */

import type { Usage } from '../provider.js';

export interface Voice {
  /** Provider-specific id, e.g. "gmw/en-US". */
  id: string;
  name: string;
  /** Lower-case BCP-47 tags the voice speaks, best first, e.g. ["en-us", "en"]. */
  languages: string[];
}

export interface SpeechRequest {
  text: string;
  /** A voice id as returned by `resolveVoice`. */
  voiceId: string;
  /** 1 = the voice's normal speed. */
  rate: number;
}

export interface WordTiming {
  /** The word as written in the request text. */
  text: string;
  /** Offsets into the request text (UTF-16 code units), for caption building. */
  charStart: number;
  charEnd: number;
  startSec: number;
  endSec: number;
}

export interface SpeechResult {
  /** Mono 16-bit WAV. */
  path: string;
  durationSec: number;
  sampleRate: number;
  words: WordTiming[];
  /** Billing unit of TTS vendors. */
  characters: number;
  /** What the vendor billed, when it is not just `characters`. */
  usage?: Usage;
}

/**
 * @example
 * const voice = await tts.resolveVoice('fr');            // throws unsupported_language if none
 * const speech = await tts.synthesize({ text: 'Bonjour', voiceId: voice.id, rate: 1 }, 's1.wav');
 */
export interface SpeechSynthesizer {
  /** Provider id recorded in cost reports and cache keys, e.g. "espeak-ng@1". */
  readonly id: string;
  voices(): Promise<Voice[]>;
  /** The voice for a language (and an optional explicit voice); 4xx AppError when there is none. */
  resolveVoice(language: string, voice?: string): Promise<Voice>;
  synthesize(request: SpeechRequest, outPath: string, signal?: AbortSignal): Promise<SpeechResult>;
}
