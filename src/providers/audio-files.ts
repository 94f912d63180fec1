/**
 * Vendor audio (MP3, Opus, raw PCM, WAV at any rate) into the WAV the ports promise, with FFmpeg.
 *
 * @example
 *   await toWav(media, 'speech.mp3', 'speech.wav', { channels: 1, sampleRate: 44_100 }, signal);
 *   await toWav(media, 'track.mp3', 'music.wav', { channels: 2, sampleRate: 48_000, exactSec: 30 }, signal);
 */
import type { ProviderMedia } from './provider.js';

export interface WavFormat {
  channels: 1 | 2;
  sampleRate: number;
  /** Pad with silence or cut to exactly round(exactSec * sampleRate) frames. */
  exactSec?: number;
  /** Input is headerless PCM: its format (e.g. { format: 's16le', sampleRate: 24000, channels: 1 }). */
  rawInput?: { format: 's16le'; sampleRate: number; channels: number };
}

export function wavArgs(input: string, output: string, format: WavFormat): string[] {
  const raw = format.rawInput ? ['-f', format.rawInput.format, '-ar', String(format.rawInput.sampleRate), '-ac', String(format.rawInput.channels)] : [];
  const filters: string[] = [];
  if (format.exactSec !== undefined) {
    // Resampled first: the trim counts frames at the rate it sees, and -ar applies after the filters.
    const frames = Math.round(format.exactSec * format.sampleRate);
    filters.push(`aresample=${format.sampleRate}`, `apad=whole_len=${frames}`, `atrim=end_sample=${frames}`);
  }
  return [
    '-hide_banner', '-nostdin', '-y',
    ...raw, '-i', input,
    '-vn', '-ac', String(format.channels), '-ar', String(format.sampleRate),
    ...(filters.length > 0 ? ['-af', filters.join(',')] : []),
    '-c:a', 'pcm_s16le', '-f', 'wav', output,
  ];
}

export async function toWav(media: ProviderMedia, input: string, output: string, format: WavFormat, signal?: AbortSignal): Promise<{ path: string; durationSec: number }> {
  await media.ffmpeg(wavArgs(input, output, format), { signal, timeoutSec: 300 });
  const probed = await media.probe(output, signal);
  return { path: output, durationSec: probed.durationSec };
}
