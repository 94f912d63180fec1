/**
 * Wires AIPROD by hand: configuration → FFmpeg → providers → cache. The only place that decides
 * which adapter implements which port; everything else receives what it needs.
 */
import { availableParallelism } from 'node:os';
import type { Env } from '../config/env.js';
import { resolveBinaries } from '../media/binaries.js';
import { detectCapabilities } from '../media/capabilities.js';
import { runProcess } from '../media/ffmpeg.js';
import { probe } from '../media/probe.js';
import { StageCache } from '../pipeline/cache.js';
import type { MediaFetchConfig } from '../pipeline/media-urls.js';
import type { MediaTools, PipelineDeps, ProviderSource, Providers } from '../pipeline/context.js';
import { providerDownload } from '../pipeline/provider-download.js';
import { CATALOG } from '../providers/catalog.js';
import { ProceduralComposer } from '../providers/music/procedural.adapter.js';
import { CHAIN_ENV, OFFLINE, ProviderRegistry, type Catalog, type RenderProviders } from '../providers/registry.js';
import { ProviderChain } from '../providers/chain.js';
import { PROVIDER_STAGES } from '../providers/provider.js';
import { sharedGuard } from '../providers/resilience.js';
import { ProceduralVisuals } from '../providers/visuals/procedural.adapter.js';
import { RuleBasedWriter } from '../providers/script/rule-based.adapter.js';
import { ProceduralSfxLibrary } from '../providers/sfx/procedural.adapter.js';
import { SynthPool } from '../providers/synth/synth-pool.js';
import { EspeakSynthesizer } from '../providers/tts/espeak.adapter.js';

export interface ContainerOptions {
  cacheDir?: string;
}

export async function createMediaTools(env: Env): Promise<MediaTools> {
  const bins = resolveBinaries(env, env.PATH);
  const caps = await detectCapabilities(bins);
  return {
    bins,
    caps,
    ffmpeg: (args, options) => runProcess(bins.ffmpeg, args, { timeoutSec: env.FFMPEG_TIMEOUT_SEC, stallSec: env.FFMPEG_STALL_SEC, ...options }),
    probe: (path, signal) => probe(bins.ffprobe, path, signal),
    // Two segments at a time where there are two cores: FFmpeg runs a segment's filter graph (the
    // background, images, titles, captions) on one thread beside x264's, and a second encode keeps
    // the cores busy while it does. Measured on the benchmark's five 1080p segments, two cores:
    // 12.3 s one after the other, 9.6 s two at a time. (With the plain gradients of earlier
    // versions the graph was light, and two at a time was 18 % slower.)
    parallelism: availableParallelism() > 1 ? 2 : 1,
    encode: { preset: env.AIPROD_X264_PRESET, crf: 20, threads: env.FFMPEG_THREADS },
  };
}

/** FFmpeg tools found on first use: an API process builds providers for estimates and never runs FFmpeg. */
export function lazyMediaTools(env: Env): MediaTools {
  let tools: Promise<MediaTools> | undefined;
  const get = (): Promise<MediaTools> => (tools ??= createMediaTools(env));
  const unready = (): never => {
    throw new Error('lazyMediaTools: bins, caps and encode are known only after a first ffmpeg or probe call');
  };
  return {
    get bins() { return unready(); },
    get caps() { return unready(); },
    get encode() { return unready(); },
    parallelism: 1,
    ffmpeg: async (args, options) => (await get()).ffmpeg(args, options),
    probe: async (path, signal) => (await get()).probe(path, signal),
  };
}

/** One pool of synthesis threads per process, shared by every provider set built here; idle threads end on their own. */
const synthPools = new Map<number, SynthPool>();

/** The synthesis pool SYNTH_THREADS asks for; undefined (synthesis on the event loop) for 0. */
export function synthPool(env: Pick<Env, 'SYNTH_THREADS'>): SynthPool | undefined {
  const threads = env.SYNTH_THREADS ?? Math.min(2, availableParallelism());
  if (threads === 0) return undefined;
  let pool = synthPools.get(threads);
  if (!pool) synthPools.set(threads, (pool = new SynthPool({ threads })));
  return pool;
}

/**
 * The provider behind each port (the offline ones until cloud adapters are configured). Given the
 * environment, the local synthesizers run in worker threads (SYNTH_THREADS); without it, in the
 * caller's thread, which suits the API's uses (its voice list, loaded once at start).
 */
export function createProviders(env?: Pick<Env, 'SYNTH_THREADS'>): Providers {
  const pool = env ? synthPool(env) : undefined;
  return {
    script: new RuleBasedWriter(),
    tts: new EspeakSynthesizer({ pool }),
    music: new ProceduralComposer({ pool }),
    sfx: new ProceduralSfxLibrary({ pool }),
    visuals: new ProceduralVisuals(),
  };
}

/**
 * The provider registry: the catalog, the operator's keys and chains from the environment, and the
 * offline providers that end every chain. A chain naming an unknown provider stops the start.
 */
export function createProviderRegistry(env: Env, media: MediaTools, offline: Providers = createProviders(env), catalog: Catalog = CATALOG): ProviderRegistry {
  for (const stage of PROVIDER_STAGES) {
    const listed = env[CHAIN_ENV[stage] as keyof Env] as string | undefined;
    const known = [...catalog[stage].map((d) => d.name), OFFLINE];
    for (const name of listed?.split(',').map((n) => n.trim()).filter(Boolean) ?? []) {
      if (!known.includes(name)) throw new Error(`invalid configuration: ${CHAIN_ENV[stage]}: "${name}" is not a ${stage} provider; use ${known.join(', ')}`);
    }
  }
  return new ProviderRegistry({
    catalog,
    offline: { plan: offline.script, narrate: offline.tts, score: offline.music, foley: offline.sfx, visualize: offline.visuals },
    env: env as unknown as Record<string, string | undefined>,
    media,
    download: providerDownload(mediaFetchConfig(env)),
    guard: sharedGuard,
    resilience: {
      maxAttempts: env.PROVIDER_MAX_ATTEMPTS,
      breakerThreshold: env.PROVIDER_BREAKER_THRESHOLD,
      halfOpenAfterMs: env.PROVIDER_BREAKER_OPEN_SEC * 1000,
      maxRetryAfterMs: env.PROVIDER_MAX_RETRY_AFTER_SEC * 1000,
    },
  });
}

/** Always the same providers, whatever the render: the offline ones, or a test's own. */
export function fixedProviders(providers: Providers): ProviderSource {
  const chain = <P extends { readonly id: string }>(stage: (typeof PROVIDER_STAGES)[number], provider: P): ProviderChain<P> =>
    new ProviderChain(stage, [{ name: OFFLINE, provider, offline: true }], sharedGuard);
  return {
    forRender: (selection): RenderProviders => ({
      quality: selection?.quality ?? 'standard',
      prices: {},
      notes: [],
      plan: chain('plan', providers.script),
      narrate: chain('narrate', providers.tts),
      score: chain('score', providers.music),
      foley: chain('foley', providers.sfx),
      visualize: chain('visualize', providers.visuals),
    }),
  };
}

export async function createPipelineDeps(env: Env, options: ContainerOptions = {}): Promise<PipelineDeps> {
  const media = await createMediaTools(env);
  return {
    media,
    providers: createProviderRegistry(env, media),
    cache: new StageCache(options.cacheDir ?? env.AIPROD_CACHE_DIR),
    pictureConcurrency: env.VISUAL_CONCURRENCY,
  };
}

/** Limits and allow-lists for media briefs link to by URL (MEDIA_FETCH_*). */
export function mediaFetchConfig(env: Env): MediaFetchConfig {
  return { maxBytes: env.MEDIA_FETCH_MAX_BYTES, timeoutMs: env.MEDIA_FETCH_TIMEOUT_SEC * 1000, allowHosts: env.MEDIA_FETCH_ALLOW_HOSTS, allowCidrs: env.MEDIA_FETCH_ALLOW_CIDRS };
}
