/**
 * Media a brief links to by http(s) URL — a scene's image or video, the brand's logo — downloaded
 * before rendering through the SSRF-safe fetcher (net/safe-fetch.ts), and replaced in the brief by
 * the local files. The API checks the URLs when a brief is submitted (422 unsafe_url for
 * literal private addresses and other refused forms); names are resolved, pinned and checked again
 * at download time, after every redirect.
 *
 * @example
 *   const local = await localizeMedia(brief, join(workDir, 'media'), config, signal);
 */
import { AppError, type ErrorDetail } from '../contract/errors.js';
import type { Brief } from '../contract/brief.js';
import { MediaFetchError } from '../net/media-fetch-error.js';
import { fetchMedia, type MediaKind } from '../net/safe-fetch.js';
import { compileAllowList, displayUrl, parseMediaUrl, resolveTarget, type AllowList, type LookupAll } from '../net/url-policy.js';

export interface MediaFetchConfig {
  maxBytes: number;
  timeoutMs: number;
  allowHosts: string[];
  allowCidrs: string[];
  /** For tests: resolve names here instead of the system's DNS. */
  lookup?: LookupAll;
}

export const isMediaUrl = (src: string): boolean => /^https?:\/\//i.test(src.trim());

/** Every media reference of the brief that is a URL, with its field and the kind it must be. */
export function mediaUrls(brief: Pick<Brief, 'scenes' | 'brand'>): { field: string; url: string; kinds: MediaKind[] }[] {
  const found: { field: string; url: string; kinds: MediaKind[] }[] = [];
  brief.scenes?.forEach((scene, i) => {
    const v = scene.visual;
    if ((v?.type === 'image' || v?.type === 'video') && isMediaUrl(v.src)) found.push({ field: `scenes.${i}.visual.src`, url: v.src.trim(), kinds: [v.type] });
  });
  if (brief.brand?.logo && isMediaUrl(brief.brand.logo)) found.push({ field: 'brand.logo', url: brief.brand.logo.trim(), kinds: ['image'] });
  return found;
}

const noLookup: LookupAll = async () => [];
const REMEDY = 'use a public http(s) URL; an operator can allow internal hosts with MEDIA_FETCH_ALLOW_HOSTS or MEDIA_FETCH_ALLOW_CIDRS';

/**
 * Checks a brief's media URLs without downloading (and without DNS: only what the URL itself says).
 * Returns one problem per refused URL; fonts cannot be linked by URL.
 */
export async function checkMediaUrls(brief: Pick<Brief, 'scenes' | 'brand'>, config: MediaFetchConfig, prefix = ''): Promise<ErrorDetail[]> {
  const allow: AllowList = compileAllowList(config.allowHosts, config.allowCidrs);
  const problems: ErrorDetail[] = [];
  if (brief.brand?.font && isMediaUrl(brief.brand.font)) problems.push({ path: `${prefix}brand.font`, message: "fonts are not fetched by URL: put the file in the server's assets directory" });
  for (const item of mediaUrls(brief)) {
    const ctx = { field: `${prefix}${item.field}`, subject: displayUrl(item.url) };
    try {
      await resolveTarget(parseMediaUrl(item.url, ctx), allow, ctx, noLookup);
    } catch (error) {
      if (error instanceof MediaFetchError && error.kind === 'unsafe_url') problems.push({ path: ctx.field, message: `${error.message}; ${REMEDY}` });
      else if (!(error instanceof MediaFetchError)) throw error;
    }
  }
  return problems;
}

/** Downloads the brief's media URLs into `dir` and returns the brief pointing at the local files. */
export async function localizeMedia(brief: Brief, dir: string, config: MediaFetchConfig, signal?: AbortSignal): Promise<Brief> {
  const items = mediaUrls(brief);
  if (items.length === 0) return brief;
  const copy = structuredClone(brief);
  const fetched = new Map<string, string>();
  for (const item of items) {
    const key = `${item.kinds.join(',')} ${item.url}`;
    let path = fetched.get(key);
    if (!path) {
      const media = await fetchMedia(item.url, {
        dir,
        allowedKinds: item.kinds,
        maxBytes: config.maxBytes,
        timeoutMs: config.timeoutMs,
        allowHosts: config.allowHosts,
        allowCidrs: config.allowCidrs,
        lookup: config.lookup,
        field: item.field,
        signal,
      });
      path = media.path;
      fetched.set(key, path);
    }
    if (item.field === 'brand.logo') {
      if (copy.brand) copy.brand.logo = path;
    } else {
      const index = Number(item.field.split('.')[1]);
      const visual = copy.scenes?.[index]?.visual;
      if (visual && (visual.type === 'image' || visual.type === 'video')) visual.src = path;
    }
  }
  return copy;
}

/** The brief's media URL problems as one 422 (for the CLI, which has no request to validate). */
export async function assertMediaUrls(brief: Brief, config: MediaFetchConfig): Promise<void> {
  const problems = await checkMediaUrls(brief, config);
  if (problems[0]) throw new AppError('unsafe_url', `${problems[0].path}: ${problems[0].message}`, { details: problems });
}
