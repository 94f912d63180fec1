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
    scene.images?.forEach((image, k) => {
      if (isMediaUrl(image.src)) found.push({ field: `scenes.${i}.images.${k}.src`, url: image.src.trim(), kinds: ['image'] });
    });
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

/** The parts of a brief or a storyboard that can link media. */
interface WithMedia {
  scenes?: { visual?: { type: string; src?: string }; images?: { src: string }[] }[];
  brand?: { logo?: string };
}

/**
 * Downloads the media URLs of a brief or storyboard into `dir` and returns a copy pointing at the
 * local files, with `originals` mapping each local path back to its URL (see `restoreMediaUrls`).
 */
export async function localizeMedia<T extends WithMedia>(doc: T, dir: string, config: MediaFetchConfig, signal?: AbortSignal): Promise<T> {
  return (await localizeMediaWithOriginals(doc, dir, config, signal)).doc;
}

export async function localizeMediaWithOriginals<T extends WithMedia>(
  doc: T,
  dir: string,
  config: MediaFetchConfig,
  signal?: AbortSignal,
): Promise<{ doc: T; originals: Map<string, string> }> {
  const originals = new Map<string, string>();
  const items = mediaUrls(doc as Pick<Brief, 'scenes' | 'brand'>);
  if (items.length === 0) return { doc, originals };
  const copy = structuredClone(doc);
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
      originals.set(path, item.url);
    }
    const layered = /^scenes\.(\d+)\.images\.(\d+)\.src$/.exec(item.field);
    if (item.field === 'brand.logo') {
      if (copy.brand) copy.brand.logo = path;
    } else if (layered) {
      const image = copy.scenes?.[Number(layered[1])]?.images?.[Number(layered[2])];
      if (image) image.src = path;
    } else {
      const visual = copy.scenes?.[Number(item.field.split('.')[1])]?.visual;
      if (visual && (visual.type === 'image' || visual.type === 'video')) visual.src = path;
    }
  }
  return { doc: copy, originals };
}

/**
 * Puts the URLs back where `localizeMediaWithOriginals` put local files: a storyboard that is
 * stored (for review, or with the result) names what the user linked, not a temporary path.
 */
export function restoreMediaUrls<T extends WithMedia>(doc: T, originals: ReadonlyMap<string, string>): T {
  if (originals.size === 0) return doc;
  const copy = structuredClone(doc);
  for (const scene of copy.scenes ?? []) {
    const visual = scene.visual;
    if (visual?.src && originals.has(visual.src)) visual.src = originals.get(visual.src);
    for (const image of scene.images ?? []) if (originals.has(image.src)) image.src = originals.get(image.src)!;
  }
  if (copy.brand?.logo && originals.has(copy.brand.logo)) copy.brand.logo = originals.get(copy.brand.logo);
  return copy;
}

/** The brief's media URL problems as one 422 (for the CLI, which has no request to validate). */
export async function assertMediaUrls(brief: Brief, config: MediaFetchConfig): Promise<void> {
  const problems = await checkMediaUrls(brief, config);
  if (problems[0]) throw new AppError('unsafe_url', `${problems[0].path}: ${problems[0].message}`, { details: problems });
}
