/**
 * Estimates a brief without rendering it and without calling a vendor: the offline writer sizes the
 * plan, narration is sized from its length, the timeline is built as the narrate stage would, and
 * each provider stage is priced in its vendor's units with the render's preferred providers.
 *
 * The figures are estimates: narration length is taken at ESTIMATED_CHARS_PER_SEC (espeak-ng at
 * rate 1 spoke the four examples/ briefs at 16.0–18.1 characters per second), and render time from the measured
 * throughput in docs/benchmarks.md on a 2-core machine.
 *
 * @example
 *   const e = await estimateBrief(resolveBrief(parseBrief({ prompt: 'a 30 s ad' })), registry.forRender());
 *   e.durationSec; // ≈ 30
 */
import { AppError } from '../contract/errors.js';
import type { ResolvedBrief } from '../contract/resolve.js';
import type { Storyboard } from '../contract/storyboard.js';
import { costOf, pricesFor } from '../providers/pricing.js';
import type { ProviderStage, Usage } from '../providers/provider.js';
import type { RenderProviders } from '../providers/registry.js';
import type { EstimateLine } from './cost.js';
import { placeEffects } from './stages/foley.stage.js';
import { buildTimeline, type Timeline } from './timeline.js';

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
  /** What the provider would bill (tokens, characters, seconds, images …), or what an offline stage would do. */
  units: Record<string, number>;
  /** USD per unit of the first unit listed. */
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
  /** The quality tier the estimate priced. */
  quality: string;
  /** Wall time of a render on one worker slot of a 2-core machine, from measured throughput. */
  renderSec: number;
  cost: {
    currency: 'USD';
    totalUsd: number;
    /** The least the render can cost: every stage offline (the operator's own charge only). A budget between the two steps the render down a tier. */
    minimumUsd: number;
    items: EstimateItem[];
  };
  notes: string[];
}

/** The price-list entry for the operator's own charge per minute of video. */
export const RENDER_PRICE_ID = 'aiprod-render';

/** The operator's own charges (PRICE_PER_VIDEO_MINUTE_USD under RENDER_PRICE_ID). */
export type PriceList = Readonly<Record<string, number>>;

/** Characters of the planner's instructions and schema (what every plan request sends besides the brief). */
const PLAN_PROMPT_CHARS = 3000;
/** Characters of JSON the planner writes per scene besides the narration (title, prompt, keywords, cues). */
const PLAN_SCENE_CHARS = 450;
/** Tokens per character of English text, as OpenAI and Google tokenizers average. */
const TOKENS_PER_CHAR = 0.25;
/** Length of an effect a generator is asked for. */
const EFFECT_SEC = 2;

/**
 * What each provider stage of a render would bill, from the storyboard and timeline, priced with
 * the chain's preferred provider. Units follow the provider's price entry (a provider bills only
 * the units its entry lists); offline providers bill nothing.
 */
export function estimateProviderCosts(
  storyboard: Storyboard,
  timeline: Timeline,
  brief: ResolvedBrief,
  providers: RenderProviders,
  options: { planned?: boolean } = {},
): EstimateLine[] {
  const lines: EstimateLine[] = [];
  const narrationChars = storyboard.scenes.reduce((sum, scene) => sum + scene.narration.trim().length, 0);
  // `work` is what an offline provider would do, shown so a paid one can be priced from the same numbers.
  const add = (stage: ProviderStage, candidate: Usage, work: Usage): void => {
    const member = providers[stage].current;
    const listed = member.offline ? undefined : pricesFor(providers.prices, member.provider.id);
    const usage: Usage = {};
    for (const [unit, amount] of Object.entries(candidate) as [keyof Usage, number][]) {
      if (listed && unit in listed && amount > 0) usage[unit] = Math.round(amount * 1000) / 1000;
    }
    const shown = Object.keys(usage).length > 0 || listed ? usage : work;
    lines.push({ stage, provider: member.provider.id, usage: shown, usd: costOf(providers.prices, member.provider.id, usage) });
  };
  if (!options.planned) {
    const briefChars = JSON.stringify(brief.source).length;
    add('plan', {
      inputTokens: Math.ceil((PLAN_PROMPT_CHARS + briefChars) * TOKENS_PER_CHAR),
      outputTokens: Math.ceil((narrationChars + storyboard.scenes.length * PLAN_SCENE_CHARS) * TOKENS_PER_CHAR),
      requests: 1,
    }, {});
  }
  if (narrationChars > 0) add('narrate', { characters: narrationChars, requests: storyboard.scenes.length }, { characters: narrationChars });
  if (brief.music !== false) add('score', { secondsOfAudio: timeline.totalSec, generations: 1, requests: 1 }, { secondsOfAudio: Math.round(timeline.totalSec * 1000) / 1000 });
  const effects = brief.sfx === false ? [] : placeEffects(storyboard, timeline);
  const kinds = new Set(effects.map((e) => e.kind)).size;
  if (kinds > 0) add('foley', { secondsOfAudio: kinds * EFFECT_SEC, generations: kinds, requests: kinds }, { generations: effects.length });
  const pictured = storyboard.scenes.filter((scene) => wantsPicture(scene));
  if (pictured.length > 0) {
    const visuals = providers.visualize.current.provider;
    const billed = (sec: number): number => visuals.clipSeconds?.(sec) ?? clipLength(sec);
    const clipSec = pictured.reduce((sum, scene) => sum + billed(timeline.scenes.find((s) => s.id === scene.id)?.durationSec ?? 5), 0);
    const prefer = pictureKind(providers.quality);
    add('visualize', {
      images: pictured.length,
      ...(prefer === 'video' ? { secondsOfVideo: clipSec } : {}),
      requests: pictured.length,
    }, {});
  }
  return lines;
}

/** A scene a picture provider may fill: one the planner gave a prompt and the user gave no media. */
export function wantsPicture(scene: Storyboard['scenes'][number]): boolean {
  return Boolean(scene.prompt) && (scene.visual.type === 'gradient' || scene.visual.type === 'color');
}

/** What the tier asks picture providers for: clips at premium, stills below. */
export function pictureKind(quality: ResolvedBrief['quality']): 'image' | 'video' {
  return quality === 'premium' ? 'video' : 'image';
}

/** Seconds of generated video a scene is billed for, when its provider does not say: 5 or 10 s clips (longer scenes loop). */
export function clipLength(sceneSec: number): number {
  return sceneSec <= 5 ? 5 : 10;
}

/**
 * Estimates a brief without a vendor call: the offline writer sizes the plan (a cloud planner
 * writes to the same targets), narration is sized from its length, and each provider stage is
 * priced with the render's chains.
 */
export async function estimateBrief(brief: ResolvedBrief, providers: RenderProviders, prices: PriceList = {}, signal?: AbortSignal): Promise<Estimate> {
  const offline = providers.plan.members[providers.plan.members.length - 1]?.provider;
  if (!offline) throw new AppError('internal', 'the plan chain has no offline writer');
  const { storyboard } = await offline.plan(brief, signal);
  return estimateStoryboard(storyboard, brief, providers, prices);
}

/**
 * Estimates a storyboard as `estimateBrief` estimates the one it plans: an edited storyboard is
 * priced on the same basis as the brief it was admitted with (the plan included), so a budget
 * compares like with like.
 */
export function estimateStoryboard(storyboard: Storyboard, brief: ResolvedBrief, providers: RenderProviders, prices: PriceList = {}): Estimate {
  const speech = new Map(
    storyboard.scenes.map((scene) => [scene.id, scene.narration.trim().length / (ESTIMATED_CHARS_PER_SEC * brief.speechRate)] as const),
  );
  const timeline = buildTimeline(storyboard, speech, { fps: brief.fps, targetDurationSec: brief.targetDurationSec });
  const total = timeline.totalSec;

  const items: EstimateItem[] = estimateProviderCosts(storyboard, timeline, brief, providers).map((line) => {
    const first = Object.keys(line.usage)[0] as keyof Usage | undefined;
    return { stage: line.stage, provider: line.provider, units: line.usage as Record<string, number>, unitPriceUsd: first ? (pricesFor(providers.prices, line.provider)?.[first] ?? 0) : 0, usd: line.usd };
  });
  const local = (stage: string, provider: string, units: Record<string, number>): void => {
    items.push({ stage, provider, units, unitPriceUsd: 0, usd: 0 });
  };
  local('visualize', 'ffmpeg-motion@1', { secondsRendered: total });
  local('mix', 'ffmpeg-mix@1', { secondsMixed: total });
  local('compose', 'ffmpeg-compose@1', { outputs: brief.outputs.length });
  local('qa', 'ffprobe-qa@1', { secondsAnalysed: total });
  // What the operator charges per minute of finished video (PRICE_PER_VIDEO_MINUTE_USD; 0 by default).
  const perMinute = prices[RENDER_PRICE_ID];
  if (perMinute) {
    const videoMinutes = Math.round((total / 60) * 1000) / 1000;
    items.push({ stage: 'render', provider: RENDER_PRICE_ID, units: { videoMinutes }, unitPriceUsd: perMinute, usd: round6(videoMinutes * perMinute) });
  }

  const renderSec = expectedRenderSec(total, brief);

  return {
    title: storyboard.title,
    scenes: storyboard.scenes.length,
    durationSec: Math.round(total * 10) / 10,
    width: brief.width,
    height: brief.height,
    outputs: [...brief.outputs],
    quality: providers.quality,
    renderSec: Math.round(renderSec),
    cost: {
      currency: 'USD',
      totalUsd: round6(items.reduce((s, i) => s + i.usd, 0)),
      minimumUsd: round6(items.filter((i) => i.provider === RENDER_PRICE_ID).reduce((s, i) => s + i.usd, 0)),
      items,
    },
    notes: [...providers.notes, ...storyboard.notes, ...timeline.notes],
  };
}

/** The length a storyboard would render to, with narration sized like `estimateBrief` does. */
/**
 * Wall seconds one worker slot of a 2-core machine takes to render `videoSec` of the brief's frame
 * size, rate and outputs, from measured throughput (the estimate's renderSec; the self-healing
 * job's stuck detection scales it).
 */
export function expectedRenderSec(videoSec: number, brief: Pick<ResolvedBrief, 'width' | 'height' | 'fps' | 'outputs'>): number {
  const pixelShare = (brief.width * brief.height) / (1920 * 1080);
  const fpsShare = brief.fps / 30;
  // Extra encodes (webm, gif) cost roughly another pass each over the video.
  const passes = 1 + brief.outputs.filter((o) => o === 'webm' || o === 'gif').length * 0.8;
  return RENDER_OVERHEAD_SEC + (videoSec * pixelShare * fpsShare * passes) / RENDER_REALTIME_1080P;
}

export function estimateStoryboardSec(storyboard: Storyboard, speechRate = 1, targetDurationSec?: number): number {
  const speech = new Map(storyboard.scenes.map((scene) => [scene.id, scene.narration.trim().length / (ESTIMATED_CHARS_PER_SEC * speechRate)] as const));
  return buildTimeline(storyboard, speech, { fps: 30, targetDurationSec }).totalSec;
}

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;
