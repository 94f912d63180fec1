/**
 * What every stage receives: the resolved brief, the providers and media tools behind their ports,
 * the cache, a progress callback, the cost ledger and an abort signal. Wired by main/container.ts.
 */
import type { ResolvedBrief } from '../contract/resolve.js';
import type { Storyboard } from '../contract/storyboard.js';
import type { DesignRecord } from '../design/record.js';
import type { MediaBinaries } from '../media/binaries.js';
import type { MediaCapabilities } from '../media/capabilities.js';
import type { RunOptions, RunResult } from '../media/ffmpeg.js';
import type { ProbeResult } from '../media/probe.js';
import type { Fallback } from '../providers/chain.js';
import type { MusicComposer, MusicResult } from '../providers/music/music.port.js';
import type { Usage } from '../providers/provider.js';
import type { RenderProviders, RenderSelection } from '../providers/registry.js';
import type { PlacedEffect, SoundEffectsLibrary } from '../providers/sfx/sfx.port.js';
import type { ScriptWriter } from '../providers/script/script.port.js';
import type { SpeechSynthesizer, Voice, WordTiming } from '../providers/tts/tts.port.js';
import type { Attribution, VisualProvider } from '../providers/visuals/visual.port.js';
import type { StageCache } from './cache.js';
import type { CaptionCue } from './captions.js';
import type { QaReport } from './qa/checks.js';
import type { Timeline } from './timeline.js';

export type StageName = 'plan' | 'narrate' | 'score' | 'foley' | 'visualize' | 'mix' | 'compose' | 'qa';

/** The offline providers: the zero-key default of each stage and the last fallback of every chain. */
export interface Providers {
  script: ScriptWriter;
  tts: SpeechSynthesizer;
  music: MusicComposer;
  sfx: SoundEffectsLibrary;
  visuals: VisualProvider;
}

/** Where a render gets its provider chains: the registry (per tenant and brief), or a fixed set in tests. */
export interface ProviderSource {
  forRender(selection?: RenderSelection): RenderProviders;
}

/** FFmpeg behind one object: stages build argument arrays and hand them here. */
export interface MediaTools {
  bins: MediaBinaries;
  caps: MediaCapabilities;
  ffmpeg(args: readonly string[], options?: RunOptions): Promise<RunResult>;
  probe(path: string, signal?: AbortSignal): Promise<ProbeResult>;
  /** FFmpeg processes a stage may run at once. */
  parallelism: number;
  encode: { preset: string; crf: number; threads: number };
}

export interface PipelineDeps {
  providers: ProviderSource;
  media: MediaTools;
  cache: StageCache;
  /** Scenes whose provider pictures are requested at once (VISUAL_CONCURRENCY; default 4). */
  pictureConcurrency?: number;
}

export type PipelineEvent =
  | { type: 'stage-start'; stage: StageName }
  | { type: 'stage-progress'; stage: StageName; fraction: number; detail?: string }
  | { type: 'stage-end'; stage: StageName; wallSec: number; cachedUnits: number; totalUnits: number; /** Who did the work (the first provider recorded, without its @version), or 'cache' when every unit was re-used. */ provider: string }
  | { type: 'note'; message: string }
  | { type: 'fallback'; fallback: Fallback };

export interface NarratedScene {
  text: string;
  path?: string;
  durationSec: number;
  words: WordTiming[];
  key?: string;
}

/** Everything the stages have produced so far; each stage adds its part. */
export interface ProductionState {
  brief: ResolvedBrief;
  /** Directory that relative asset paths in the brief are resolved against. */
  baseDir: string;
  storyboard?: Storyboard;
  voice?: Voice;
  narration?: Record<string, NarratedScene>;
  timeline?: Timeline;
  captions?: CaptionCue[];
  music?: (MusicResult & { key: string }) | null;
  sfx?: { path: string; key: string; effects: PlacedEffect[] } | null;
  video?: { segments: string[]; keys: string[] };
  /** The cache unit of the thumbnail and the contact sheet (qa makes them, pipeline/stills.ts). */
  stillsKey?: string;
  /** Every element visualize placed on the frame, with its box, time and colours (qa checks it; design.json). */
  design?: DesignRecord;
  /** Provider pictures placed under the scenes (by scene id), with their credits. */
  pictures?: Record<string, { provider: string; kind: 'image' | 'video'; attribution?: Attribution }>;
  /** Credits for stock media and sounds used (Pexels, Freesound …), for cost.json and the storyboard. */
  attributions?: Attribution[];
  mix?: { path: string; aacPath: string; key: string; loudness: {
      inputLufs: number;
      inputTruePeakDb: number;
      mode: 'gain' | 'gain+limiter';
      /** Measured on the encoded AAC, which is what the MP4 carries. */
      encodedLufs: number;
      encodedTruePeakDb: number;
      /** Gain-and-encode rounds the true-peak ceiling took. */
      rounds: number;
    };
  };
  outputs?: { name: string; kind: string; path: string; mime: string }[];
  /** The compose unit the outputs live in (qa removes it from the cache when they fail). */
  outputsKey?: string;
  qa?: QaReport;
}

export interface StageContext {
  deps: PipelineDeps;
  /** This render's provider chains (per tenant, tier and brief). */
  providers: RenderProviders;
  signal?: AbortSignal;
  progress(fraction: number, detail?: string): void;
  /** Counts cache hits for the stage-end event. */
  unit(hit: boolean): void;
  note(message: string): void;
  /**
   * A billing record for this stage; the runner adds CPU and wall time. `usage` is what a vendor
   * billed (priced from the render's price table); `units` is what the stage did.
   */
  record(provider: string, units: Record<string, number>, usage?: Usage): void;
  /** A provider of this stage failed or was skipped and the next one in its chain was used. */
  fallback(fallback: Fallback): void;
}

export interface Stage {
  name: StageName;
  /** Share of the whole render's progress bar. */
  weight: number;
  run(state: Readonly<ProductionState>, ctx: StageContext): Promise<Partial<ProductionState>>;
}
