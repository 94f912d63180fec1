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
import type { MediaTools, PipelineDeps, Providers } from '../pipeline/context.js';
import { ProceduralComposer } from '../providers/music/procedural.adapter.js';
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
    // One encode at a time: x264 threads across the cores, and measured, two concurrent encodes
    // of the same work took 18 % longer than the same encodes one after the other.
    parallelism: 1,
    encode: { preset: env.AIPROD_X264_PRESET, crf: 20, threads: env.FFMPEG_THREADS },
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
  };
}

export async function createPipelineDeps(env: Env, options: ContainerOptions = {}): Promise<PipelineDeps> {
  return {
    media: await createMediaTools(env),
    providers: createProviders(env),
    cache: new StageCache(options.cacheDir ?? env.AIPROD_CACHE_DIR),
  };
}

/** Limits and allow-lists for media briefs link to by URL (MEDIA_FETCH_*). */
export function mediaFetchConfig(env: Env): MediaFetchConfig {
  return { maxBytes: env.MEDIA_FETCH_MAX_BYTES, timeoutMs: env.MEDIA_FETCH_TIMEOUT_SEC * 1000, allowHosts: env.MEDIA_FETCH_ALLOW_HOSTS, allowCidrs: env.MEDIA_FETCH_ALLOW_CIDRS };
}
