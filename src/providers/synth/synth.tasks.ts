/**
 * What a synthesis worker thread runs: the in-thread adapters, called exactly as the event loop
 * would call them, so a file made in a worker is byte for byte the one made without. Errors cross
 * the thread boundary as plain data (a structured clone keeps only an Error's message) and become
 * AppErrors again in synth-pool.ts.
 */
import { AppError, type ErrorCode, type ErrorDetail } from '../../contract/errors.js';
import { ProceduralComposer } from '../music/procedural.adapter.js';
import type { MusicRequest, MusicResult } from '../music/music.port.js';
import { ProceduralSfxLibrary } from '../sfx/procedural.adapter.js';
import type { SfxStemRequest, SfxStemResult } from '../sfx/sfx.port.js';
import { EspeakSynthesizer } from '../tts/espeak.adapter.js';
import type { SpeechRequest, SpeechResult, Voice } from '../tts/tts.port.js';

/** Every task: its input and its result. */
export interface SynthTasks {
  speak: { input: { request: SpeechRequest; outPath: string }; output: SpeechResult };
  voices: { input: Record<string, never>; output: Voice[] };
  compose: { input: { request: MusicRequest; outPath: string }; output: MusicResult };
  sfxStem: { input: { request: SfxStemRequest; outPath: string }; output: SfxStemResult };
}

export type SynthTaskName = keyof SynthTasks;

export interface SerializedError {
  code: ErrorCode;
  message: string;
  status: number;
  retryable: boolean;
  details: ErrorDetail[];
}

export type TaskReply<T> = { ok: true; value: T } | { ok: false; error: SerializedError };

const tts = new EspeakSynthesizer();
const music = new ProceduralComposer();
const sfx = new ProceduralSfxLibrary();

async function reply<T>(work: () => Promise<T>): Promise<TaskReply<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    const app = error instanceof AppError ? error : new AppError('internal', error instanceof Error ? error.message : String(error));
    return { ok: false, error: { code: app.code, message: app.message, status: app.status, retryable: app.retryable, details: app.details } };
  }
}

export const speak = ({ request, outPath }: SynthTasks['speak']['input']): Promise<TaskReply<SpeechResult>> => reply(() => tts.synthesize(request, outPath));
export const voices = (): Promise<TaskReply<Voice[]>> => reply(() => tts.voices());
export const compose = ({ request, outPath }: SynthTasks['compose']['input']): Promise<TaskReply<MusicResult>> => reply(() => music.compose(request, outPath));
export const sfxStem = ({ request, outPath }: SynthTasks['sfxStem']['input']): Promise<TaskReply<SfxStemResult>> => reply(() => sfx.renderStem(request, outPath));
