/**
 * What the FFmpeg build at hand can do, detected once at start. Builds differ: Debian's 5.1 has
 * `xfade` and `gradients`; the static npm build (2018) has neither, so the visual builders fall
 * back (dip-to-black transitions, pre-rendered gradient images).
 */
import { runProcess } from './ffmpeg.js';
import type { MediaBinaries } from './binaries.js';

export const WANTED_FILTERS = [
  'xfade',
  'gradients',
  'drawtext',
  'zoompan',
  'loudnorm',
  'ebur128',
  'sidechaincompress',
  'blackdetect',
  'silencedetect',
  'amix',
  'palettegen',
  'paletteuse',
] as const;
export const WANTED_ENCODERS = ['libx264', 'aac', 'libvpx-vp9', 'libopus', 'gif', 'mjpeg', 'pcm_s16le'] as const;

export type FilterName = (typeof WANTED_FILTERS)[number];
export type EncoderName = (typeof WANTED_ENCODERS)[number];

export interface MediaCapabilities {
  ffmpegVersion: string;
  ffprobeVersion: string;
  filters: Record<FilterName, boolean>;
  encoders: Record<EncoderName, boolean>;
  /** The transitions this build's `xfade` draws (empty without xfade); a named transition it lacks cross-fades. */
  xfadeTransitions: string[];
}

/** What happens when a filter is missing; shown by `aiprod doctor`. */
export const FALLBACKS: Partial<Record<FilterName | EncoderName, string>> = {
  xfade: 'scene transitions dip through black (fade out/in) instead of cross-fading',
  gradients: 'gradient backgrounds are drawn once as an image and panned',
  sidechaincompress: 'music is ducked with a volume envelope computed from the narration timeline',
  'libvpx-vp9': 'the webm output is unavailable',
  libopus: 'the webm output is unavailable',
  palettegen: 'the GIF preview uses FFmpeg\'s default palette',
};

export function parseNames(listing: string): Set<string> {
  const names = new Set<string>();
  for (const line of listing.split('\n')) {
    // " T.C drawtext  V->V  Draw text…" or " V..... libx264  libx264 H.264…"
    const match = /^\s*[A-Z.|]{3,6}\s+(\S+)\s/.exec(line);
    if (match?.[1]) names.add(match[1]);
  }
  return names;
}

/** The values of xfade's `transition` option, from `ffmpeg -h filter=xfade`. */
export function parseXfadeTransitions(help: string): string[] {
  const names: string[] = [];
  let inside = false;
  for (const line of help.split('\n')) {
    if (/^\s{3}transition\s/.test(line)) {
      inside = true;
      continue;
    }
    // The option's values are indented deeper than the options themselves.
    const value = /^\s{5}([a-z]+)\s+-?\d+\s/.exec(line);
    if (inside && value?.[1]) {
      if (value[1] !== 'custom') names.push(value[1]);
    } else if (inside) {
      break;
    }
  }
  return names;
}

export function parseVersion(output: string): string {
  return /version\s+(\S+)/.exec(output)?.[1] ?? 'unknown';
}

const cache = new Map<string, Promise<MediaCapabilities>>();

/** Detects (and memoises per binary pair) the capabilities of an FFmpeg build. */
export function detectCapabilities(bins: MediaBinaries): Promise<MediaCapabilities> {
  const key = `${bins.ffmpeg}\u0000${bins.ffprobe}`;
  let found = cache.get(key);
  if (!found) {
    found = probeBuild(bins);
    cache.set(key, found);
    found.catch(() => cache.delete(key));
  }
  return found;
}

async function probeBuild(bins: MediaBinaries): Promise<MediaCapabilities> {
  const run = (binary: string, args: string[]): Promise<string> =>
    runProcess(binary, args, { captureStdout: true, timeoutSec: 30 }).then((r) => r.stdout);
  const [version, probeVersion, filters, encoders] = await Promise.all([
    run(bins.ffmpeg, ['-hide_banner', '-version']),
    run(bins.ffprobe, ['-hide_banner', '-version']),
    run(bins.ffmpeg, ['-hide_banner', '-filters']),
    run(bins.ffmpeg, ['-hide_banner', '-encoders']),
  ]);
  const filterNames = parseNames(filters);
  const encoderNames = parseNames(encoders);
  const xfadeHelp = filterNames.has('xfade') ? await run(bins.ffmpeg, ['-hide_banner', '-h', 'filter=xfade']) : '';
  return {
    xfadeTransitions: parseXfadeTransitions(xfadeHelp),
    ffmpegVersion: parseVersion(version),
    ffprobeVersion: parseVersion(probeVersion),
    filters: Object.fromEntries(WANTED_FILTERS.map((f) => [f, filterNames.has(f)])) as Record<FilterName, boolean>,
    encoders: Object.fromEntries(WANTED_ENCODERS.map((e) => [e, encoderNames.has(e)])) as Record<EncoderName, boolean>,
  };
}
