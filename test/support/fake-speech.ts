/**
 * Real speech for the TTS fakes: the fakes speak the request with eSpeak-NG (the project's own
 * offline adapter) so their audio is speech-like and they know every word's true timing, from
 * which they compute what the vendor would return (ElevenLabs' character alignment, Google's mark
 * timepoints) — and tests can compare an adapter's timings with the truth.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from '../../src/config/env.js';
import { createMediaTools } from '../../src/main/container.js';
import { EspeakSynthesizer } from '../../src/providers/tts/espeak.adapter.js';
import type { WordTiming } from '../../src/providers/tts/tts.port.js';

const espeak = new EspeakSynthesizer();
let tools: Awaited<ReturnType<typeof createMediaTools>> | undefined;

export interface FakeSpeech {
  /** Raw 16-bit mono PCM at `sampleRate`. */
  pcm: Buffer;
  sampleRate: number;
  durationSec: number;
  /** eSpeak's word timings (its word list, offsets into the spoken text). */
  words: WordTiming[];
}

export type FakeAudioFormat = 'pcm' | 'wav' | 'mp3';

/**
 * Loads what `speak` needs (FFmpeg's capabilities, the eSpeak engine) before a fake answers its
 * first request: loaded on that request, it counted against the client's timeout (3 s in the
 * adapter tests), which a loaded CI machine can exceed.
 */
export async function warmSpeech(): Promise<void> {
  tools ??= await createMediaTools(loadEnv({}));
  await espeak.voices();
}

/** The text spoken in English by eSpeak at `rate`, resampled to `sampleRate`. */
export async function speak(text: string, options: { rate?: number; sampleRate: number }): Promise<FakeSpeech> {
  tools ??= await createMediaTools(loadEnv({}));
  const dir = mkdtempSync(join(tmpdir(), 'aiprod-fake-tts-'));
  try {
    const said = await espeak.synthesize({ text, voiceId: 'gmw/en-US', rate: options.rate ?? 1 }, join(dir, 'in.wav'));
    const out = join(dir, 'out.raw');
    await tools.ffmpeg(['-hide_banner', '-nostdin', '-y', '-i', said.path, '-ac', '1', '-ar', String(options.sampleRate), '-f', 's16le', out]);
    const pcm = readFileSync(out);
    return { pcm, sampleRate: options.sampleRate, durationSec: pcm.length / 2 / options.sampleRate, words: said.words };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** PCM as the vendor would send it: raw, a WAV file, or MP3. */
export async function encode(speech: FakeSpeech, format: FakeAudioFormat): Promise<Buffer> {
  if (format === 'pcm') return speech.pcm;
  if (format === 'wav') return Buffer.concat([wavHeader(speech.pcm.length, speech.sampleRate), speech.pcm]);
  tools ??= await createMediaTools(loadEnv({}));
  const dir = mkdtempSync(join(tmpdir(), 'aiprod-fake-tts-'));
  try {
    const raw = join(dir, 'in.raw');
    await import('node:fs').then((fs) => fs.writeFileSync(raw, speech.pcm));
    const out = join(dir, 'out.mp3');
    await tools.ffmpeg(['-hide_banner', '-nostdin', '-y', '-f', 's16le', '-ar', String(speech.sampleRate), '-ac', '1', '-i', raw, '-c:a', 'libmp3lame', '-b:a', '64k', out]);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function wavHeader(dataBytes: number, sampleRate: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** Reads a request body as text. */
export function readBody(req: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Failure scenarios every TTS fake can be switched to, for the next `times` requests. */
export type FakeScenario = 'rate_limited' | 'server_error' | 'hang' | 'malformed' | 'refused' | 'invalid';
