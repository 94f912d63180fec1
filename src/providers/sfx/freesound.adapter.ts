/**
 * Freesound (APIv2) as a sound-effect library: per effect kind, a text search restricted to short
 * sounds under licences a video may use without asking (CC0, CC BY), one of the top results chosen
 * deterministically from the stem's seed, and its high-quality MP3 preview downloaded through the
 * context's safe downloader (previews come from Freesound's CDN and need no OAuth, unlike originals).
 * Placement on the stem is stem.ts's. Each sound used is credited (CC BY requires it).
 *
 * Freesound is free: `usage` counts the API requests (searches), which its rate limits count.
 */
import { z } from 'zod';
import type { SfxKind } from '../../contract/brief.js';
import { deriveSeed } from '../../lib/random.js';
import { requestJson } from '../http.js';
import { ProviderError } from '../provider-error.js';
import { providerId, type ProviderContext, type ProviderDescriptor, type ProviderMedia } from '../provider.js';
import { downloadAudio } from '../music/fit.js';
import type { SoundEffectsLibrary } from './sfx.port.js';
import { type FetchedEffect, VendorSfxLibrary } from './stem.js';

const NAME = 'freesound';
const TIMEOUT_MS = 60_000;
/** Results the seed chooses among (the best-scored ones). */
const TOP = 10;

/** Search words per kind. */
export const FREESOUND_QUERIES: Record<SfxKind, string> = {
  whoosh: 'whoosh',
  riser: 'riser',
  impact: 'impact hit',
  click: 'click',
  pop: 'pop',
  chime: 'chime',
  ambience: 'ambience',
  swell: 'swell',
};

/** Short sounds, under licences that allow any use with (CC BY) or without (CC0) credit. */
export const FREESOUND_FILTER = 'duration:[0.2 TO 6] license:("Creative Commons 0" OR "Attribution")';
const FIELDS = 'id,name,username,license,duration,previews,url';

const soundSchema = z.object({
  id: z.number(),
  name: z.string(),
  username: z.string(),
  license: z.string(),
  duration: z.number().optional(),
  url: z.string(),
  previews: z.object({ 'preview-hq-mp3': z.string().url() }).loose(),
});
const searchSchema = z.object({ count: z.number(), results: z.array(soundSchema) });
type Sound = z.infer<typeof soundSchema>;

/** Freesound gives a licence as its deed's URL; credits name it. Undefined: not one we use. */
export function licenceName(url: string): string | undefined {
  const m = /creativecommons\.org\/(publicdomain\/zero|licenses\/by)\/(\d\.\d)/.exec(url);
  if (!m) return undefined;
  return m[1] === 'publicdomain/zero' ? `CC0 ${m[2]}` : `CC BY ${m[2]}`;
}

export class FreesoundLibrary extends VendorSfxLibrary {
  readonly id: string;
  protected readonly provider = NAME;
  protected readonly media: ProviderMedia;
  protected readonly timeoutMs = TIMEOUT_MS;

  constructor(private readonly context: ProviderContext) {
    super();
    this.id = providerId(NAME, context.model);
    this.media = context.media;
  }

  protected async fetchEffect(kind: SfxKind, seed: number, dir: string, signal: AbortSignal): Promise<FetchedEffect> {
    const { data } = await requestJson(NAME, {
      url: `${this.context.credentials.baseUrl}/search/text/`,
      query: { query: FREESOUND_QUERIES[kind], filter: FREESOUND_FILTER, fields: FIELDS, sort: 'score', page_size: 15 },
      headers: { authorization: `Token ${this.context.credentials.apiKey}` },
      signal,
    }, searchSchema);
    // Defence in depth: only licences this project credits correctly, whatever the filter returned.
    const usable = data.results.filter((s) => licenceName(s.license) !== undefined).slice(0, TOP);
    if (usable.length === 0) throw new ProviderError('provider_failed', NAME, `no CC0 or CC BY sound found for "${FREESOUND_QUERIES[kind]}"`);
    const sound = usable[deriveSeed(seed, NAME, kind) % usable.length] as Sound;
    const path = await downloadAudio(this.context, NAME, sound.previews['preview-hq-mp3'], dir, signal);
    return {
      path,
      usage: { requests: 1 },
      attribution: { source: 'Freesound', author: sound.username, url: sound.url, licence: licenceName(sound.license) as string },
    };
  }
}

export const freesoundDescriptor: ProviderDescriptor<SoundEffectsLibrary> = {
  name: NAME,
  stage: 'foley',
  vendor: 'Freesound (Music Technology Group, Universitat Pompeu Fabra)',
  keyEnv: 'FREESOUND_API_KEY',
  tenantKey: 'freesound',
  baseUrlEnv: 'FREESOUND_BASE_URL',
  defaultBaseUrl: 'https://freesound.org/apiv2',
  models: { economy: 'apiv2', standard: 'apiv2', premium: 'apiv2' },
  timeoutMs: TIMEOUT_MS,
  sends: 'search words for each effect kind (e.g. "whoosh"); nothing from the brief',
  create: (context) => new FreesoundLibrary(context),
  // GET /me/ needs OAuth2; a one-result search proves the key as well.
  async probe(context, signal) {
    const { data } = await requestJson(NAME, {
      url: `${context.credentials.baseUrl}/search/text/`,
      query: { query: 'whoosh', fields: 'id', page_size: 1 },
      headers: { authorization: `Token ${context.credentials.apiKey}` },
      signal,
    }, z.object({ count: z.number() }).loose());
    return `key accepted (${data.count} sounds match "whoosh")`;
  },
};
