/**
 * Estimates a brief without rendering it: plans the storyboard (the plan stage's own writer, which
 * is cheap and offline by default), sizes the narration from its length, builds the timeline the
 * narrate stage would, and prices the same units the stages record in the cost report.
 *
 * The figures are estimates: narration length is taken at ESTIMATED_CHARS_PER_SEC (espeak-ng at
 * rate 1 spoke the four examples/ briefs at 16.0–18.1 characters per second), and render time from the measured
 * throughput in docs/benchmarks.md on a 2-core machine.
 *
 * @example
 *   const e = await estimateBrief(resolveBrief(parseBrief({ prompt: 'a 30 s ad' })), providers);
 *   e.durationSec; // ≈ 30
 */
import type { ResolvedBrief } from '../contract/resolve.js';
import type { Storyboard } from '../contract/storyboard.js';
import type { Providers } from './context.js';
import { placeEffects } from './stages/foley.stage.js';
import { buildTimeline } from './timeline.js';

/** Characters of narration per second at speechRate 1 (measured with espeak-ng on examples/). */
export const ESTIMATED_CHARS_PER_SEC = 17;
/**
 * Seconds of 1080p video the pipeline renders per second of wall time on 2 cores
 * (docs/benchmarks.md: a 60 s 1080p brief renders at 2.33× real time).
 */
const RENDER_REALTIME_1080P = 2.33;
/** Fixed per-render overhead: probing, planning, QA set-up. */
const RENDER_OVERHEAD_SEC = 3;

export interface EstimateItem {
  stage: string;
  provider: string;
  units: Record<string, number>;
  unitPriceUsd: number;
  usd: number;
}

export interface Estimate {
  title: string;
  scenes: number;
  durationSec: number;
  width: number;
  height: number;
  outputs: string[];
  /** Wall time of a render on one worker slot of a 2-core machine, from measured throughput. */
  renderSec: number;
  cost: { currency: 'USD'; totalUsd: number; items: EstimateItem[] };
  notes: string[];
}

/** The price-list entry for the operator's own charge per minute of video. */
export const RENDER_PRICE_ID = 'aiprod-render';

/** USD per billing unit (the first key of `units`) by provider id; providers not listed cost nothing (the offline ones). */
export type PriceList = Readonly<Record<string, number>>;

export async function estimateBrief(brief: ResolvedBrief, providers: Providers, prices: PriceList = {}, signal?: AbortSignal): Promise<Estimate> {
  const { storyboard } = await providers.script.plan(brief, signal);
  const speech = new Map(
    storyboard.scenes.map((scene) => [scene.id, scene.narration.trim().length / (ESTIMATED_CHARS_PER_SEC * brief.speechRate)] as const),
  );
  const timeline = buildTimeline(storyboard, speech, { fps: brief.fps, targetDurationSec: brief.targetDurationSec });
  const characters = storyboard.scenes.reduce((sum, scene) => sum + scene.narration.trim().length, 0);
  const effects = brief.sfx === false ? 0 : placeEffects(storyboard, timeline).length;
  const total = timeline.totalSec;

  const items: EstimateItem[] = [];
  const add = (stage: string, provider: string, units: Record<string, number>): void => {
    const unitPriceUsd = prices[provider] ?? 0;
    const billed = Object.values(units)[0] ?? 0;
    items.push({ stage, provider, units, unitPriceUsd, usd: round6(billed * unitPriceUsd) });
  };
  add('plan', providers.script.id, { scenes: storyboard.scenes.length });
  if (characters > 0) add('narrate', providers.tts.id, { characters });
  add('visualize', 'ffmpeg-motion@1', { secondsRendered: total });
  if (brief.music !== false) add('score', providers.music.id, { secondsOfMusic: total });
  if (effects > 0) add('foley', providers.sfx.id, { effects });
  add('mix', 'ffmpeg-mix@1', { secondsMixed: total });
  add('compose', 'ffmpeg-compose@1', { outputs: brief.outputs.length });
  add('qa', 'ffprobe-qa@1', { secondsAnalysed: total });
  // What the operator charges per minute of finished video (PRICE_PER_VIDEO_MINUTE_USD; 0 by default).
  if (prices[RENDER_PRICE_ID]) add('render', RENDER_PRICE_ID, { videoMinutes: Math.round((total / 60) * 1000) / 1000 });

  const pixelShare = (brief.width * brief.height) / (1920 * 1080);
  const fpsShare = brief.fps / 30;
  // Extra encodes (webm, gif) cost roughly another pass each over the video.
  const passes = 1 + brief.outputs.filter((o) => o === 'webm' || o === 'gif').length * 0.8;
  const renderSec = RENDER_OVERHEAD_SEC + (total * pixelShare * fpsShare * passes) / RENDER_REALTIME_1080P;

  return {
    title: storyboard.title,
    scenes: storyboard.scenes.length,
    durationSec: Math.round(total * 10) / 10,
    width: brief.width,
    height: brief.height,
    outputs: [...brief.outputs],
    renderSec: Math.round(renderSec),
    cost: { currency: 'USD', totalUsd: round6(items.reduce((s, i) => s + i.usd, 0)), items },
    notes: [...storyboard.notes, ...timeline.notes],
  };
}

/** The length a storyboard would render to, with narration sized like `estimateBrief` does. */
export function estimateStoryboardSec(storyboard: Storyboard, speechRate = 1, targetDurationSec?: number): number {
  const speech = new Map(storyboard.scenes.map((scene) => [scene.id, scene.narration.trim().length / (ESTIMATED_CHARS_PER_SEC * speechRate)] as const));
  return buildTimeline(storyboard, speech, { fps: 30, targetDurationSec }).totalSec;
}

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;
