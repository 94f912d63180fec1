/**
 * Wires AIPROD by hand: configuration → FFmpeg → providers → cache. The only place that decides
 * which adapter implements which port; everything else receives what it needs.
 */
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

/** The provider behind each port (the offline ones until cloud adapters are configured). */
export function createProviders(): Providers {
  return {
    script: new RuleBasedWriter(),
    tts: new EspeakSynthesizer(),
    music: new ProceduralComposer(),
    sfx: new ProceduralSfxLibrary(),
  };
}

export async function createPipelineDeps(env: Env, options: ContainerOptions = {}): Promise<PipelineDeps> {
  return {
    media: await createMediaTools(env),
    providers: createProviders(),
    cache: new StageCache(options.cacheDir ?? env.AIPROD_CACHE_DIR),
  };
}

/** Limits and allow-lists for media briefs link to by URL (MEDIA_FETCH_*). */
export function mediaFetchConfig(env: Env): MediaFetchConfig {
  return { maxBytes: env.MEDIA_FETCH_MAX_BYTES, timeoutMs: env.MEDIA_FETCH_TIMEOUT_SEC * 1000, allowHosts: env.MEDIA_FETCH_ALLOW_HOSTS, allowCidrs: env.MEDIA_FETCH_ALLOW_CIDRS };
}
