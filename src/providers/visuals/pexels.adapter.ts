/**
 * Pexels stock footage and photos (api.pexels.com) through a thin typed client: the scene's
 * keywords are searched, one result is picked deterministically by the scene's seed, and its file
 * nearest the frame is downloaded. Clips are searched first when the tier prefers video; photos
 * when it prefers stills or no clip fits. Free: usage is `{ requests: 1 }` per search.
 *
 * Pexels asks for its key as a bare `Authorization: <key>` header (no "Bearer"), answers 429 when
 * the hourly or monthly quota is spent, and reports the quota left in X-Ratelimit-Remaining.
 * Attribution follows the Pexels API guidelines: the photographer or videographer and a link back
 * to the page on Pexels.
 */
import { z } from 'zod';
import type { AspectRatio } from '../../contract/brief.js';
import { requestJson } from '../http.js';
import { ProviderError } from '../provider-error.js';
import { providerId, type ProviderContext, type ProviderDescriptor } from '../provider.js';
import type { Attribution, VisualProvider, VisualRequest, VisualResult } from './visual.port.js';
import { downloadVisual } from './visual-media.js';

const NAME = 'pexels';
const PER_PAGE = 15;
const LICENCE = 'Pexels License';

const videoSearchSchema = z.object({
  total_results: z.number().optional(),
  videos: z.array(
    z.object({
      id: z.number(),
      url: z.string(),
      width: z.number().nullish(),
      height: z.number().nullish(),
      duration: z.number().nullish(),
      user: z.object({ name: z.string().nullish(), url: z.string().nullish() }).nullish(),
      video_files: z.array(
        z.object({
          link: z.string(),
          file_type: z.string().nullish(),
          quality: z.string().nullish(),
          width: z.number().nullish(),
          height: z.number().nullish(),
        }),
      ),
    }),
  ),
});

const photoSearchSchema = z.object({
  total_results: z.number().optional(),
  photos: z.array(
    z.object({
      id: z.number(),
      url: z.string(),
      width: z.number().nullish(),
      height: z.number().nullish(),
      photographer: z.string().nullish(),
      src: z.object({ original: z.string(), large2x: z.string().nullish() }),
    }),
  ),
});

type Video = z.infer<typeof videoSearchSchema>['videos'][number];

/** Pexels' orientation filter for a frame shape. */
const ORIENTATION: Record<AspectRatio, 'landscape' | 'portrait' | 'square'> = { '16:9': 'landscape', '9:16': 'portrait', '1:1': 'square', '4:5': 'portrait' };

export class PexelsVisuals implements VisualProvider {
  readonly id: string;

  constructor(private readonly context: ProviderContext) {
    this.id = providerId(NAME, context.model);
  }

  async generate(request: VisualRequest, dir: string, signal: AbortSignal = new AbortController().signal): Promise<VisualResult> {
    const query = searchWords(request);
    let requests = 0;
    if (request.prefer === 'video') {
      requests += 1;
      const picked = await this.findVideo(query, request, signal);
      if (picked) {
        const file = await downloadVisual(NAME, this.context, picked.link, 'video', dir, signal);
        return { kind: 'video', ...file, attribution: picked.attribution, usage: { requests } };
      }
    }
    requests += 1;
    const photo = await this.findPhoto(query, request, signal);
    if (!photo) throw new ProviderError('provider_failed', NAME, `no ${request.prefer === 'video' ? 'clip or photo' : 'photo'} found for "${query}"`);
    const file = await downloadVisual(NAME, this.context, photo.link, 'image', dir, signal);
    return { kind: 'image', ...file, attribution: photo.attribution, usage: { requests } };
  }

  private async findVideo(query: string, request: VisualRequest, signal: AbortSignal): Promise<{ link: string; attribution: Attribution } | undefined> {
    const { data } = await requestJson(
      NAME,
      { url: `${this.context.credentials.baseUrl}/videos/search`, query: this.searchQuery(query, request), headers: this.auth(), signal },
      videoSearchSchema,
    );
    const usable = data.videos.filter((v) => v.video_files.some(isMp4));
    // Clips at least as long as the scene need no looping; take them when there are any.
    const longEnough = usable.filter((v) => (v.duration ?? 0) >= request.durationSec);
    const video = pick(longEnough.length > 0 ? longEnough : usable, request.seed);
    if (!video) return undefined;
    const file = nearest(video.video_files.filter(isMp4), request.width, request.height);
    return { link: file.link, attribution: { source: 'Pexels', author: video.user?.name ?? undefined, url: video.url, licence: LICENCE } };
  }

  private async findPhoto(query: string, request: VisualRequest, signal: AbortSignal): Promise<{ link: string; attribution: Attribution } | undefined> {
    const { data } = await requestJson(NAME, { url: `${this.context.credentials.baseUrl}/v1/search`, query: this.searchQuery(query, request), headers: this.auth(), signal }, photoSearchSchema);
    const photo = pick(data.photos, request.seed);
    if (!photo) return undefined;
    // large2x fits 1880×1300; a larger frame takes the original.
    const link = request.width <= 1880 && request.height <= 1300 && photo.src.large2x ? photo.src.large2x : photo.src.original;
    return { link, attribution: { source: 'Pexels', author: photo.photographer ?? undefined, url: photo.url, licence: LICENCE } };
  }

  private searchQuery(query: string, request: VisualRequest): Record<string, string | number> {
    // Pexels' size filter: small ≥ HD, medium ≥ Full HD.
    const size = Math.max(request.width, request.height) >= 1920 ? 'medium' : 'small';
    return { query, orientation: ORIENTATION[request.aspectRatio], size, per_page: PER_PAGE };
  }

  private auth(): Record<string, string> {
    return { authorization: this.context.credentials.apiKey };
  }
}

function searchWords(request: VisualRequest): string {
  const words = request.keywords.map((k) => k.trim()).filter(Boolean).join(' ');
  return (words || request.prompt).slice(0, 200);
}

const isMp4 = (f: Video['video_files'][number]): boolean => f.file_type === 'video/mp4' && (f.width ?? 0) > 0 && (f.height ?? 0) > 0;

/** The same result for the same seed and results. */
function pick<T>(items: readonly T[], seed: number): T | undefined {
  return items.length === 0 ? undefined : items[Math.abs(Math.trunc(seed)) % items.length];
}

/** The file whose size is nearest the frame's (by area, then by shape). */
function nearest<T extends { width?: number | null; height?: number | null }>(files: readonly T[], width: number, height: number): T {
  const score = (f: T): number => Math.abs(Math.log(((f.width ?? 1) * (f.height ?? 1)) / (width * height))) + Math.abs(Math.log((f.width ?? 1) / (f.height ?? 1) / (width / height)));
  return [...files].sort((a, b) => score(a) - score(b))[0] as T;
}

export const pexelsDescriptor: ProviderDescriptor<VisualProvider> = {
  name: NAME,
  stage: 'visualize',
  vendor: 'Pexels',
  keyEnv: 'PEXELS_API_KEY',
  tenantKey: 'pexels',
  baseUrlEnv: 'PEXELS_BASE_URL',
  defaultBaseUrl: 'https://api.pexels.com',
  models: { economy: 'stock', standard: 'stock', premium: 'stock' },
  timeoutMs: 60_000,
  sends: "each scene's search keywords (or its picture prompt when it has none), the frame's orientation and size class",
  create: (context) => new PexelsVisuals(context),
  async probe(context, signal) {
    const { data, headers } = await requestJson(
      NAME,
      { url: `${context.credentials.baseUrl}/v1/search`, query: { query: 'nature', per_page: 1 }, headers: { authorization: context.credentials.apiKey }, signal },
      photoSearchSchema,
    );
    const remaining = headers.get('x-ratelimit-remaining');
    return `search works (${data.total_results ?? data.photos.length} results)${remaining ? `, ${remaining} requests left this period` : ''}`;
  },
};
