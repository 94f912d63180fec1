/**
 * What the picture adapters share: the generation prompt, the vendor's nearest frame shape and
 * clip length, and turning a vendor's file (a URL downloaded through `context.download`, or bytes)
 * into a port result checked with ffprobe.
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../contract/errors.js';
import type { AspectRatio } from '../../contract/brief.js';
import { providerErrorFromSdk } from '../http.js';
import { ProviderError, providerErrorFromNetwork } from '../provider-error.js';
import type { DownloadKind, ProviderContext } from '../provider.js';
import type { VisualRequest } from './visual.port.js';

/** What a generator is asked for: the scene, then the look every scene shares. */
export function generationPrompt(request: Pick<VisualRequest, 'prompt' | 'style'>): string {
  const style = request.style.trim();
  return style ? `${request.prompt.trim()}, ${style}` : request.prompt.trim();
}

const RATIO_VALUE: Record<AspectRatio, number> = { '16:9': 16 / 9, '9:16': 9 / 16, '1:1': 1, '4:5': 4 / 5 };

/**
 * The vendor option whose shape is nearest the frame's (compared on a log scale, so 4:5 is as far
 * from 1:1 as 5:4 is). `shapeOf` gives an option's width/height ratio.
 */
export function closestShape<T>(aspect: AspectRatio, options: readonly T[], shapeOf: (option: T) => number): T {
  const target = Math.log(RATIO_VALUE[aspect]);
  let best = options[0];
  let bestDistance = Infinity;
  for (const option of options) {
    const distance = Math.abs(Math.log(shapeOf(option)) - target);
    if (distance < bestDistance) {
      best = option;
      bestDistance = distance;
    }
  }
  if (best === undefined) throw new AppError('internal', 'closestShape: no options');
  return best;
}

/** `'1280:720'` or `'1536x1024'` or `'16:9'` as width/height. */
export const ratioOf = (text: string): number => {
  const [w, h] = text.split(/[:x]/).map(Number);
  return (w ?? 1) / (h || 1);
};

/** The shortest clip length the vendor offers that is at least the scene's (capped at its longest). */
export function clipSeconds(choices: readonly number[], wantedSec: number): number {
  const sorted = [...choices].sort((a, b) => a - b);
  const longest = sorted[sorted.length - 1] ?? 0;
  const wanted = Math.min(wantedSec, longest);
  return sorted.find((c) => c >= wanted) ?? longest;
}

export interface VisualFile {
  path: string;
  width: number;
  height: number;
  durationSec?: number;
}

/**
 * Downloads a vendor's media URL into `dir` through the SSRF-safe downloader, then reads it with
 * ffprobe: a file that is not the kind claimed, or has no picture, is `provider_bad_response`.
 */
export async function downloadVisual(
  provider: string,
  context: ProviderContext,
  url: string,
  kind: 'image' | 'video',
  dir: string,
  signal: AbortSignal,
): Promise<VisualFile> {
  let path: string;
  try {
    const kinds: DownloadKind[] = [kind];
    ({ path } = await context.download(url, { dir, kinds, signal }));
  } catch (error) {
    throw downloadError(provider, error, signal);
  }
  return describeVisual(provider, context, path, kind, signal);
}

/** Writes bytes a vendor returned inline (base64 images) into `dir` and reads them back with ffprobe. */
export async function saveVisual(
  provider: string,
  context: ProviderContext,
  bytes: Buffer,
  fileName: string,
  dir: string,
  signal: AbortSignal,
): Promise<VisualFile> {
  const path = join(dir, fileName);
  // Written aside, then renamed: a reader never sees half a picture.
  await writeFile(`${path}.part`, bytes);
  await rename(`${path}.part`, path);
  return describeVisual(provider, context, path, 'image', signal);
}

async function describeVisual(provider: string, context: ProviderContext, path: string, kind: 'image' | 'video', signal: AbortSignal): Promise<VisualFile> {
  let probe;
  try {
    probe = await context.media.probe(path, signal);
  } catch (error) {
    if (signal.aborted) throw stoppedError(provider, signal, error);
    throw new ProviderError('provider_bad_response', provider, `the ${kind} it returned cannot be read`, { cause: error });
  }
  const width = probe.video?.width ?? 0;
  const height = probe.video?.height ?? 0;
  if (width <= 0 || height <= 0) throw new ProviderError('provider_bad_response', provider, `the ${kind} it returned has no picture`);
  if (kind === 'image') return { path, width, height };
  if (!(probe.durationSec > 0)) throw new ProviderError('provider_bad_response', provider, 'the clip it returned has no duration');
  return { path, width, height, durationSec: probe.durationSec };
}

/**
 * The error for work stopped by its signal: `aborted` when the render was cancelled,
 * `provider_timeout` when the guard's per-attempt timeout ended it.
 */
export function stoppedError(provider: string, signal: AbortSignal, cause: unknown): AppError {
  return providerErrorFromNetwork(provider, cause instanceof AppError ? new Error(cause.message, { cause }) : cause, signal);
}

/** A failed download in the project's terms (the downloader's messages never show a URL's query, so no key). */
function downloadError(provider: string, error: unknown, signal: AbortSignal): AppError {
  if (signal.aborted) return stoppedError(provider, signal, error);
  if (error instanceof AppError) {
    if (error.code === 'aborted') return error;
    if (error.code === 'media_fetch_failed') {
      return new ProviderError(error.retryable ? 'provider_unavailable' : 'provider_failed', provider, `the media download failed: ${error.message}`, { cause: error });
    }
    if (error.code === 'media_type_refused') return new ProviderError('provider_bad_response', provider, `the media is not the kind asked for: ${error.message}`, { cause: error });
    return new ProviderError('provider_failed', provider, `the media download was refused: ${error.message}`, { cause: error });
  }
  return new ProviderError('provider_unavailable', provider, `the media download failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/** An SDK's failure as a ProviderError; an answer that is not JSON is the vendor's bad response, not a network fault. */
export function sdkError(provider: string, error: unknown, signal: AbortSignal): AppError {
  if (error instanceof SyntaxError) return new ProviderError('provider_bad_response', provider, `the answer is not JSON: ${error.message}`, { cause: error });
  return providerErrorFromSdk(provider, error, signal);
}
