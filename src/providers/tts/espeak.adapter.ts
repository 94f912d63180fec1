/**
 * eSpeak-NG compiled to WebAssembly, running in-process: offline speech in about a hundred
 * languages with word timings. Synthesis is synchronous and holds its thread for a fraction of a
 * second per scene, so given a SynthPool the adapter speaks (and lists voices) in a worker thread,
 * off the event loop; without one it runs in the caller's thread (tests, the worker itself).
 *
 * Determinism: eSpeak's generator draws from a random state that advances with every utterance,
 * so the same text spoken twice by one engine gives different samples. Each utterance therefore
 * gets a fresh engine instance (about 30 ms, the 24 MB voice data read from disk only once), which
 * makes a scene's narration depend on its text, voice and rate alone — and cacheable.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ESpeakNGWorker, EspeakEvent } from '@echogarden/espeak-ng-emscripten';
import { AppError } from '../../contract/errors.js';
import { writePcm16Wav } from '../../media/wav.js';
import type { SynthPool } from '../synth/synth-pool.js';
import type { SpeechRequest, SpeechResult, SpeechSynthesizer, Voice, WordTiming } from './tts.port.js';

const BASE_WORDS_PER_MINUTE = 175;

/** A language's preferred voice where eSpeak lists several (its own priorities favour en-GB). */
const PREFERRED: Record<string, string> = {
  en: 'gmw/en-US',
  zh: 'sit/cmn',
  pt: 'roa/pt-BR',
  es: 'roa/es',
  fr: 'roa/fr',
};

let voiceData: ArrayBuffer | undefined;

/** A new engine instance whose random state starts from the same point every time. */
async function freshEngine(): Promise<ESpeakNGWorker> {
  if (!voiceData) {
    const require = createRequire(import.meta.url);
    const bytes = readFileSync(require.resolve('@echogarden/espeak-ng-emscripten/espeak-ng.data'));
    voiceData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
  const data = voiceData;
  // Imported here, not at the top: with a synthesis pool only its threads speak, and loading the
  // engine's module costs the process that imports it about 80 MiB (through tsx) and half a second.
  const { default: init } = await import('@echogarden/espeak-ng-emscripten');
  const module = await init({ getPreloadedPackage: () => data });
  return new module.eSpeakNGWorker();
}

/** Word events to timings: numbers expand to several spoken words at one position, so dedupe. */
export function wordTimings(text: string, events: EspeakEvent[], durationSec: number): WordTiming[] {
  const starts = events
    .filter((e) => e.type === 'word')
    .filter((e, i, all) => i === 0 || e.text_position !== all[i - 1]?.text_position);
  return starts.map((event, i) => {
    const charStart = Math.max(0, event.text_position - 1);
    const charEnd = Math.min(text.length, charStart + event.word_length);
    const next = starts[i + 1];
    return {
      text: text.slice(charStart, charEnd),
      charStart,
      charEnd,
      startSec: event.audio_position / 1000,
      endSec: next ? next.audio_position / 1000 : durationSec,
    };
  });
}

export class EspeakSynthesizer implements SpeechSynthesizer {
  readonly id = 'espeak-ng@1';
  /** The pending or finished load: concurrent first callers share one engine start (250 ms, 50 MiB each otherwise). */
  private voiceList: Promise<Voice[]> | undefined;
  private readonly pool: SynthPool | undefined;

  constructor(options: { pool?: SynthPool } = {}) {
    this.pool = options.pool;
  }

  voices(): Promise<Voice[]> {
    this.voiceList ??= this.pool
      ? this.pool.run('voices', {})
      : freshEngine().then((worker) =>
          worker.list_voices().map((v) => ({
            id: v.identifier,
            name: v.name,
            languages: [...v.languages].sort((a, b) => a.priority - b.priority).map((l) => l.name.toLowerCase()),
          })),
        );
    // A failed load is not cached: the next caller tries again.
    this.voiceList.catch(() => {
      this.voiceList = undefined;
    });
    return this.voiceList;
  }

  async resolveVoice(language: string, voice?: string): Promise<Voice> {
    const all = await this.voices();
    if (voice) {
      const wanted = voice.toLowerCase();
      const found = all.find(
        (v) => v.id.toLowerCase() === wanted || v.id.toLowerCase().endsWith(`/${wanted}`) || v.name.toLowerCase() === wanted,
      );
      if (!found) {
        throw new AppError('unknown_voice', `unknown voice "${voice}"`, {
          details: [{ path: 'voice', message: 'use a voice id listed by `aiprod doctor`, or leave voice out to use the language\'s voice' }],
        });
      }
      return found;
    }
    const tag = language.toLowerCase();
    const primary = tag.split('-')[0] ?? tag;
    const preferred = PREFERRED[tag] ?? (tag === primary ? PREFERRED[primary] : undefined);
    const byId = preferred ? all.find((v) => v.id === preferred) : undefined;
    const exact = all.filter((v) => v.languages.includes(tag));
    const loose = all.filter((v) => v.languages.includes(primary));
    const found = byId ?? exact[0] ?? loose[0];
    if (!found) {
      throw new AppError('unsupported_language', `no voice speaks language "${language}"`, {
        details: [{ path: 'language', message: 'use a BCP-47 tag with a voice, e.g. en, fr, es, de, it, pt-BR, zh, ar; `aiprod doctor` lists them' }],
      });
    }
    return found;
  }

  async synthesize(request: SpeechRequest, outPath: string, signal?: AbortSignal): Promise<SpeechResult> {
    if (signal?.aborted) throw new AppError('aborted', 'speech synthesis was cancelled');
    if (this.pool) return this.pool.run('speak', { request, outPath }, signal);
    const worker = await freshEngine();
    if (worker.set_voice(request.voiceId) !== 0) {
      throw new AppError('unknown_voice', `espeak-ng cannot load voice "${request.voiceId}"`);
    }
    worker.set_rate(Math.round(Math.min(450, Math.max(80, BASE_WORDS_PER_MINUTE * request.rate))));
    const sampleRate = worker.get_samplerate();
    const chunks: Int16Array[] = [];
    const events: EspeakEvent[] = [];
    let frames = 0;
    try {
      worker.synthesize(request.text, (samples, chunkEvents) => {
        chunks.push(samples);
        frames += samples.length;
        events.push(...chunkEvents);
        return false;
      });
    } catch (error) {
      throw new AppError('tts_failed', `espeak-ng failed: ${(error as Error).message}`, { cause: error, retryable: false });
    }
    const durationSec = frames / sampleRate;
    writePcm16Wav(outPath, chunks, { sampleRate, channels: 1 });
    return {
      path: outPath,
      durationSec,
      sampleRate,
      words: wordTimings(request.text, events, durationSec),
      characters: request.text.length,
    };
  }
}
