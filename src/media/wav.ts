/**
 * 16-bit PCM WAV files, written in blocks so long stems (a 10-minute music bed) never sit whole in
 * memory. Synthesisers produce Float32 samples in [-1, 1]; conversion clips and rounds (no random
 * dither) so the same samples always give the same bytes.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

export const SAMPLE_RATE = 48_000;

export interface WavFormat {
  sampleRate: number;
  channels: number;
}

const HEADER_BYTES = 44;

function header(format: WavFormat, dataBytes: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  const blockAlign = format.channels * 2;
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(format.channels, 22);
  b.writeUInt32LE(format.sampleRate, 24);
  b.writeUInt32LE(format.sampleRate * blockAlign, 28);
  b.writeUInt16LE(blockAlign, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(dataBytes, 40);
  return b;
}

function toPcm16(interleaved: Float32Array): Buffer {
  const out = Buffer.alloc(interleaved.length * 2);
  for (let i = 0; i < interleaved.length; i++) {
    const s = Math.max(-1, Math.min(1, interleaved[i] ?? 0));
    out.writeInt16LE(Math.round(s * 32767), i * 2);
  }
  return out;
}

/**
 * Streams interleaved Float32 blocks into a WAV file.
 * @example
 * const w = new WavWriter('bed.wav', { sampleRate: 48000, channels: 2 });
 * w.write(block); // interleaved L R L R …
 * w.close();
 */
export class WavWriter {
  private readonly fd: number;
  private dataBytes = 0;
  private closed = false;

  constructor(
    readonly path: string,
    readonly format: WavFormat,
  ) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, header(format, 0));
  }

  /** Appends interleaved samples; the block length must be a multiple of the channel count. */
  write(interleaved: Float32Array): void {
    if (this.closed) throw new Error(`WavWriter(${this.path}) is closed`);
    if (interleaved.length % this.format.channels !== 0) {
      throw new Error(`block of ${interleaved.length} samples is not a multiple of ${this.format.channels} channels`);
    }
    const pcm = toPcm16(interleaved);
    writeSync(this.fd, pcm);
    this.dataBytes += pcm.length;
  }

  get framesWritten(): number {
    return this.dataBytes / (2 * this.format.channels);
  }

  close(): void {
    if (this.closed) return;
    writeSync(this.fd, header(this.format, this.dataBytes), 0, HEADER_BYTES, 0);
    closeSync(this.fd);
    this.closed = true;
  }
}

/** Writes a whole (short) interleaved buffer at once. */
export function writeWav(path: string, interleaved: Float32Array, format: WavFormat): void {
  const w = new WavWriter(path, format);
  try {
    w.write(interleaved);
  } finally {
    w.close();
  }
}

export interface DecodedWav extends WavFormat {
  /** Interleaved samples in [-1, 1]. */
  samples: Float32Array;
}

/** Reads a 16-bit PCM WAV written by this module or by FFmpeg's pcm_s16le (small files, tests). */
export function readWav(path: string): DecodedWav {
  const buf = readFileSync(path);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${path} is not a WAV file`);
  }
  let offset = 12;
  let format: WavFormat | undefined;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (buf.readUInt16LE(body + 14) !== 16) throw new Error(`${path}: only 16-bit PCM is supported`);
      format = { channels: buf.readUInt16LE(body + 2), sampleRate: buf.readUInt32LE(body + 4) };
    } else if (id === 'data') {
      if (!format) throw new Error(`${path}: data chunk before fmt chunk`);
      const end = Math.min(buf.length, body + size);
      const samples = new Float32Array((end - body) >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(body + i * 2) / 32768;
      return { ...format, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

/** Writes 16-bit samples as they are (speech engines produce Int16 directly). */
export function writePcm16Wav(path: string, chunks: readonly Int16Array[], format: WavFormat): void {
  const fd = openSync(path, 'w');
  try {
    const dataBytes = chunks.reduce((sum, c) => sum + c.byteLength, 0);
    writeSync(fd, header(format, dataBytes));
    for (const chunk of chunks) writeSync(fd, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  } finally {
    closeSync(fd);
  }
}
