/**
 * ffprobe as data: one call returns the streams and format of a file, parsed and narrowed to what
 * AIPROD checks (duration, size, codecs, audio presence).
 */
import { AppError } from '../contract/errors.js';
import { runProcess } from './ffmpeg.js';

export interface ProbedStream {
  index: number;
  codecType: 'video' | 'audio' | 'subtitle' | 'data' | 'attachment';
  codecName: string;
  width?: number;
  height?: number;
  pixFmt?: string;
  frameRate?: number;
  sampleRate?: number;
  channels?: number;
  durationSec?: number;
}

export interface ProbeResult {
  formatName: string;
  durationSec: number;
  sizeBytes: number;
  streams: ProbedStream[];
  video?: ProbedStream;
  audio?: ProbedStream;
}

export function probeArgs(path: string): string[] {
  return ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path];
}

function rate(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const [num, den] = value.split('/').map(Number);
  if (!num || !den) return undefined;
  return num / den;
}

const num = (v: unknown): number | undefined => (v === undefined || v === null || v === 'N/A' ? undefined : Number(v));

export function parseProbe(json: string): ProbeResult {
  const data = JSON.parse(json) as { format?: Record<string, unknown>; streams?: Record<string, unknown>[] };
  const streams: ProbedStream[] = (data.streams ?? []).map((s) => ({
    index: Number(s.index),
    codecType: s.codec_type as ProbedStream['codecType'],
    codecName: String(s.codec_name ?? 'unknown'),
    width: num(s.width),
    height: num(s.height),
    pixFmt: s.pix_fmt as string | undefined,
    frameRate: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate),
    sampleRate: num(s.sample_rate),
    channels: num(s.channels),
    durationSec: num(s.duration),
  }));
  return {
    formatName: String(data.format?.format_name ?? 'unknown'),
    durationSec: num(data.format?.duration) ?? 0,
    sizeBytes: num(data.format?.size) ?? 0,
    streams,
    video: streams.find((s) => s.codecType === 'video'),
    audio: streams.find((s) => s.codecType === 'audio'),
  };
}

/** Probes a file; an unreadable or corrupt file is `asset_unreadable` naming it. */
export async function probe(ffprobe: string, path: string, signal?: AbortSignal): Promise<ProbeResult> {
  try {
    const { stdout } = await runProcess(ffprobe, probeArgs(path), { captureStdout: true, signal, timeoutSec: 60 });
    return parseProbe(stdout);
  } catch (error) {
    if (error instanceof AppError && error.code === 'ffmpeg_failed') {
      throw new AppError('asset_unreadable', `cannot read ${path}: ${error.message.replace(/^.*?: /, '')}`, { cause: error });
    }
    throw error;
  }
}
