/**
 * What every stage receives: the resolved brief, the providers and media tools behind their ports,
 * the cache, a progress callback, the cost ledger and an abort signal. Wired by main/container.ts.
 */
import type { ResolvedBrief } from '../contract/resolve.js';
import type { Storyboard } from '../contract/storyboard.js';
import type { MediaBinaries } from '../media/binaries.js';
import type { MediaCapabilities } from '../media/capabilities.js';
import type { RunOptions, RunResult } from '../media/ffmpeg.js';
import type { ProbeResult } from '../media/probe.js';
import type { MusicComposer, MusicResult } from '../providers/music/music.port.js';
import type { PlacedEffect, SoundEffectsLibrary } from '../providers/sfx/sfx.port.js';
import type { ScriptWriter } from '../providers/script/script.port.js';
import type { SpeechSynthesizer, Voice, WordTiming } from '../providers/tts/tts.port.js';
import type { StageCache } from './cache.js';
import type { CaptionCue } from './captions.js';
import type { QaReport } from './qa/checks.js';
import type { Timeline } from './timeline.js';

export type StageName = 'plan' | 'narrate' | 'score' | 'foley' | 'visualize' | 'mix' | 'compose' | 'qa';

export interface Providers {
  script: ScriptWriter;
  tts: SpeechSynthesizer;
  music: MusicComposer;
  sfx: SoundEffectsLibrary;
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
  providers: Providers;
  media: MediaTools;
  cache: StageCache;
}

export type PipelineEvent =
  | { type: 'stage-start'; stage: StageName }
  | { type: 'stage-progress'; stage: StageName; fraction: number; detail?: string }
  | { type: 'stage-end'; stage: StageName; wallSec: number; cachedUnits: number; totalUnits: number }
  | { type: 'note'; message: string };

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
  signal?: AbortSignal;
  progress(fraction: number, detail?: string): void;
  /** Counts cache hits for the stage-end event. */
  unit(hit: boolean): void;
  note(message: string): void;
  /** A billing record for this stage; the runner adds CPU and wall time. */
  record(provider: string, units: Record<string, number>, unitPriceUsd?: number): void;
}

export interface Stage {
  name: StageName;
  /** Share of the whole render's progress bar. */
  weight: number;
  run(state: Readonly<ProductionState>, ctx: StageContext): Promise<Partial<ProductionState>>;
}
