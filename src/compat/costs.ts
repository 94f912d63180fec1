/**
 * The original API's cost views — the preset list (GET /presets), a preset's costs
 * (GET /presets/{name}), the cost estimate with its comparisons (POST /cost-estimate) and a
 * finished job's costs (GET /job/{id}/costs) — computed from AIPROD's own estimate of the brief
 * and from the price table, never from fixed figures.
 *
 * How the original's fields map onto an estimate (pipeline/estimate.ts):
 *
 * | field         | from                                                                              |
 * |---------------|-----------------------------------------------------------------------------------|
 * | gemini_api    | the generative APIs other than pictures: plan, narrate, score and foley stages    |
 * | runway_api    | the picture provider (visualize stage)                                            |
 * | gcs_storage   | 0: storage is not charged per render                                              |
 * | cloud_run     | the operator's render charge (RENDER_PRICE_ID per minute) and any other local     |
 * |               | stage's charge                                                                    |
 * | runway_alone  | the same length made entirely of Runway Gen-4 Turbo clips, at the table's price   |
 * | competitors   | the `reference:` entries of the price table, per second of video                  |
 *
 * Money is rounded to 4 decimals; `savings` is `round(runway_alone − aiprod_optimized, 2)` of the
 * returned figures, and the breakdown sums to `aiprod_optimized`.
 */
import { z } from 'zod';
import { PRESET_NAMES, type PresetName } from '../contract/brief.js';
import { AppError } from '../contract/errors.js';
import { isFinal, type Production } from '../contract/production.js';
import { PRESETS } from '../contract/resolve.js';
import type { Estimate } from '../pipeline/estimate.js';
import { costOf, type PriceTable } from '../providers/pricing.js';
import { providerId } from '../providers/provider.js';
import { runwayDescriptor, VIDEO_SECONDS as RUNWAY_CLIP_SECONDS } from '../providers/visuals/runway.adapter.js';
import { clipSeconds } from '../providers/visuals/visual-media.js';
import { COMPAT_PRESET_NAMES, COMPAT_PRESETS, COMPLEXITY_QUALITY, COMPLEXITY_QUALITY_THRESHOLD, complexityOf, isCompatPreset, type Complexity } from './presets.js';
import { toProductionRequest } from './request.js';
import { pipelineStatus } from './vocabulary.js';

/** Estimates a v1 production request (ProductionsService.estimate, with the caller's tenant). */
export type Estimator = (body: Record<string, unknown>) => Promise<Estimate>;

/** Every preset GET /presets lists: the original's three, then the v1 presets. */
export const PRESET_KEYS: readonly string[] = [...COMPAT_PRESET_NAMES, ...PRESET_NAMES];
export const isPresetKey = (name: string | null | undefined): name is string => typeof name === 'string' && PRESET_KEYS.includes(name);
const isV1Preset = (name: string): name is PresetName => (PRESET_NAMES as readonly string[]).includes(name);

/** The durations GET /presets/{name} prices. */
export const DETAIL_DURATIONS = [10, 30, 60] as const;

/** The Runway model that makes video (its premium model), priced for `runway_alone`. */
const RUNWAY_VIDEO_ID = providerId(runwayDescriptor.name, runwayDescriptor.models.premium ?? 'gen4_turbo');
/** The price-table entries of the services the original compared with. */
export const REFERENCE_PRICE_IDS = { synthesia: 'reference:synthesia', pictory: 'reference:pictory', heygen: 'reference:heygen' } as const;

/** The content a preset's own estimates are made for (no client content is involved). */
export const sampleContent = (seconds: number): string => `A ${seconds}-second video presenting a product`;

const presetFields = {
  name: z.string(),
  description: z.string(),
  pipeline_mode: z.enum(['fast', 'full']),
  quality_threshold: z.number().min(0).max(1),
  max_duration_sec: z.number().int().positive(),
  max_cost_per_minute: z.number().positive(),
  allow_icc: z.boolean(),
  consistency_cache: z.boolean(),
  multi_review: z.boolean(),
  priority: z.string(),
};

export const presetEntrySchema = z
  .object({ ...presetFields, estimated_cost: z.number().describe('Estimated USD of a 30 s video with this preset, from the configured providers and prices.') })
  .meta({ id: 'PresetConfig', description: 'A preset as the original API listed it.' });
export type PresetEntry = z.infer<typeof presetEntrySchema>;

export const durationEstimateSchema = z.object({
  preset: z.string(),
  duration_sec: z.number().int(),
  aiprod_optimized: z.number(),
  runway_alone: z.number(),
  savings: z.number(),
  savings_percent: z.number(),
  quality_guarantee: z.number(),
  backend_selected: z.string(),
});
export type DurationEstimate = z.infer<typeof durationEstimateSchema>;

export const presetDetailSchema = z
  .object({
    ...presetFields,
    estimated_cost_30s: z.number(),
    cost_estimate_for_durations: z.object({ '10s': durationEstimateSchema, '30s': durationEstimateSchema, '60s': durationEstimateSchema }),
  })
  .meta({ id: 'PresetDetail', description: 'A preset with its estimated costs for 10, 30 and 60 s.' });
export type PresetDetail = z.infer<typeof presetDetailSchema>;

export const costEstimateSchema = z
  .object({
    aiprod_optimized: z.number().describe('Estimated USD of the video here, from the configured providers and prices.'),
    breakdown: z.object({
      gemini_api: z.number().describe('Planner, voice, music and effects providers.'),
      runway_api: z.number().describe('The picture provider.'),
      gcs_storage: z.number().describe('Always 0: storage is not charged per render.'),
      cloud_run: z.number().describe('The operator\'s render charge (PRICE_PER_VIDEO_MINUTE_USD).'),
    }),
    runway_alone: z.number().describe('The same length made entirely of Runway Gen-4 Turbo clips.'),
    competitors: z.object({ runway_direct: z.number(), synthesia: z.number(), pictory: z.number(), heygen: z.number() }),
    savings: z.number().describe('round(runway_alone − aiprod_optimized, 2).'),
    savings_percent: z.number(),
    quality_guarantee: z.number().min(0).max(1),
    backend_selected: z.string().describe('The picture provider the estimate used.'),
    preset: z.string().nullable(),
    duration_sec: z.number().int(),
    complexity: z.string().describe('The complexity priced: the preset\'s own, else the request\'s (an unknown word is standard).'),
    value_proposition: z.string(),
  })
  .meta({ id: 'CostEstimate', description: 'The original API\'s cost estimate, with its comparisons.' });
export type CostEstimate = z.infer<typeof costEstimateSchema>;

export const jobCostsSchema = z
  .object({
    estimated: z.number(),
    actual: z.number(),
    variance: z.number(),
    variance_percent: z.number(),
    breakdown: z.object({ gemini: z.number(), runway: z.number(), storage: z.number(), compute: z.number() }),
    within_budget: z.boolean().describe('|variance_percent| ≤ 20.'),
  })
  .meta({ id: 'JobCosts', description: 'What a finished job cost against its estimate.' });
export type JobCosts = z.infer<typeof jobCostsSchema>;

export interface CostEstimateInput {
  content: string;
  duration_sec: number;
  preset?: string | null;
  complexity?: unknown;
}

const round = (n: number, decimals: number): number => Math.round(n * 10 ** decimals) / 10 ** decimals;
const money = (n: number): number => round(n, 4);

/** Stages whose providers are the generative APIs other than pictures. */
const API_STAGES = new Set(['plan', 'narrate', 'score', 'foley']);
const PICTURE_STAGE = 'visualize';
/** The local motion render of the visualize stage (not a picture provider). */
const isLocalMotion = (provider: string): boolean => provider.startsWith('ffmpeg-');

/** The v1 production request an estimate is made of: the original's translation, at the complexity's tier unless an original preset sets it. */
export function estimateBody(content: string, durationSec: number, preset: string | undefined, complexity: Complexity): Record<string, unknown> {
  const { body } = toProductionRequest({ content, duration_sec: durationSec, lang: 'en', priority: 'low', ...(preset ? { preset } : {}) }, { autoApproveSec: 0 });
  if (!isCompatPreset(preset)) body.quality = COMPLEXITY_QUALITY[complexity];
  return body;
}

/** An estimate's cost in the original's four parts, each rounded, and their sum. */
export function breakdownOf(estimate: Estimate): { gemini_api: number; runway_api: number; gcs_storage: number; cloud_run: number; total: number } {
  let apis = 0;
  let pictures = 0;
  let render = 0;
  for (const item of estimate.cost.items) {
    if (API_STAGES.has(item.stage)) apis += item.usd;
    else if (item.stage === PICTURE_STAGE) pictures += item.usd;
    // The operator's charge per minute of video (the RENDER_PRICE_ID item), and any local stage's charge.
    else render += item.usd;
  }
  const parts = {
    gemini_api: money(apis),
    runway_api: money(pictures),
    // No storage charge per render: the operator's storage is not billed to a video.
    gcs_storage: 0,
    cloud_run: money(render),
  };
  return { ...parts, total: money(parts.gemini_api + parts.runway_api + parts.gcs_storage + parts.cloud_run) };
}

/** The picture provider an estimate used, by name (`runway`, `openai-images`, `procedural-visuals` offline …). */
export function backendOf(estimate: Estimate): string {
  const pictures = estimate.cost.items.filter((i) => i.stage === PICTURE_STAGE);
  const provider = pictures.find((i) => !isLocalMotion(i.provider))?.provider ?? pictures[0]?.provider ?? 'procedural-visuals';
  return provider.split(/[:@]/)[0] ?? provider;
}

/**
 * What `durationSec` of video costs made entirely with Runway: Gen-4 Turbo clips of its lengths
 * (the longest, then one for what is left), each animated from a Gen-4 still, as the Runway
 * adapter bills them, at the table's `runway:gen4_turbo` prices.
 */
export function runwayAlone(durationSec: number, prices: PriceTable): number {
  const longest = Math.max(...RUNWAY_CLIP_SECONDS);
  const whole = Math.floor(durationSec / longest);
  const rest = durationSec - whole * longest;
  const clips = whole + (rest > 0 ? 1 : 0);
  const seconds = whole * longest + (rest > 0 ? clipSeconds(RUNWAY_CLIP_SECONDS, Math.ceil(rest)) : 0);
  return money(costOf(prices, RUNWAY_VIDEO_ID, { images: clips, secondsOfVideo: seconds }));
}

/** Runway and the reference services' prices for `durationSec` of video. */
export function competitorsFor(durationSec: number, prices: PriceTable): CostEstimate['competitors'] {
  const reference = (id: string): number => money(costOf(prices, id, { secondsOfVideo: durationSec }));
  return {
    runway_direct: runwayAlone(durationSec, prices),
    synthesia: reference(REFERENCE_PRICE_IDS.synthesia),
    pictory: reference(REFERENCE_PRICE_IDS.pictory),
    heygen: reference(REFERENCE_PRICE_IDS.heygen),
  };
}

/** The complexity a request is priced at: its preset's, else its own word (anything unknown is standard). */
export function complexityFor(preset: string | null | undefined, complexity: unknown): Complexity {
  return isCompatPreset(preset ?? undefined) ? COMPAT_PRESETS[preset as keyof typeof COMPAT_PRESETS].complexity : complexityOf(complexity);
}

/** POST /cost-estimate. A preset that names none is echoed and otherwise ignored, as the original did. */
export async function costEstimate(input: CostEstimateInput, estimator: Estimator, prices: PriceTable): Promise<CostEstimate> {
  const preset = input.preset ?? null;
  const known = isPresetKey(preset) ? preset : undefined;
  const complexity = complexityFor(known, input.complexity);
  const estimate = await estimator(estimateBody(input.content, input.duration_sec, known, complexity));
  const { total, ...breakdown } = breakdownOf(estimate);
  const competitors = competitorsFor(input.duration_sec, prices);
  const runway = competitors.runway_direct;
  const savingsPercent = runway > 0 ? round(((runway - total) / runway) * 100, 1) : 0;
  const quality = isCompatPreset(known) ? COMPAT_PRESETS[known].quality_threshold : COMPLEXITY_QUALITY_THRESHOLD[complexity];
  return {
    aiprod_optimized: total,
    breakdown,
    runway_alone: runway,
    competitors,
    savings: round(runway - total, 2),
    savings_percent: savingsPercent,
    quality_guarantee: quality,
    backend_selected: backendOf(estimate),
    preset,
    duration_sec: input.duration_sec,
    complexity,
    value_proposition: valueProposition(total, runway, savingsPercent, quality, input.duration_sec),
  };
}

function valueProposition(total: number, runway: number, percent: number, quality: number, seconds: number): string {
  const usd = (n: number): string => `$${n.toFixed(n > 0 && n < 0.01 ? 4 : 2)}`;
  const versus = `${usd(total)} here against ${usd(runway)} for ${seconds} s of Runway video`;
  if (runway <= 0) return `${versus}, quality threshold ${quality}`;
  return percent >= 0
    ? `Save ${Math.round(percent)}% vs Runway direct: ${versus}, quality threshold ${quality}`
    : `${Math.round(-percent)}% more than Runway direct: ${versus}, quality threshold ${quality}`;
}

type Policy = Omit<PresetEntry, 'estimated_cost' | 'max_cost_per_minute'> & { max_cost_per_minute?: number; complexity: Complexity };

/**
 * A preset's policy figures: the original's for its three; for a v1 preset, the standard tier's
 * (full pipeline, quality 0.8, up to 30 min, no approval, medium priority). A v1 preset's cost cap
 * comes from its own estimate (presetFieldsWith).
 */
function presetPolicy(key: string): Policy {
  if (isCompatPreset(key)) {
    const p = COMPAT_PRESETS[key];
    return {
      name: p.name,
      description: p.description,
      pipeline_mode: p.pipeline_mode,
      quality_threshold: p.quality_threshold,
      max_duration_sec: p.max_duration_sec,
      max_cost_per_minute: p.max_cost_per_minute,
      allow_icc: p.allow_icc,
      consistency_cache: p.consistency_cache,
      multi_review: p.multi_review,
      priority: p.priority,
      complexity: p.complexity,
    };
  }
  if (!isV1Preset(key)) throw unknownPreset(key);
  return {
    name: PRESETS[key].name,
    description: PRESETS[key].description,
    pipeline_mode: 'full',
    quality_threshold: COMPLEXITY_QUALITY_THRESHOLD.standard,
    max_duration_sec: 1800,
    allow_icc: false,
    consistency_cache: true,
    multi_review: false,
    priority: 'medium',
    complexity: 'standard',
  };
}

/**
 * The preset's fields but its cost. A v1 preset's `max_cost_per_minute` is its estimated price per
 * minute at the standard tier, and never below brand_campaign's cap (the original's figure for that
 * tier): the contract wants it positive, and offline providers cost nothing.
 */
function presetFieldsWith(key: string, cost30s: number): Omit<PresetEntry, 'estimated_cost'> {
  const { complexity: _c, max_cost_per_minute: cap, ...policy } = presetPolicy(key);
  const perMinute = cap ?? Math.max(COMPAT_PRESETS.brand_campaign.max_cost_per_minute, money(cost30s * 2));
  return { ...policy, max_cost_per_minute: perMinute };
}

function unknownPreset(name: string): AppError {
  return new AppError('not_found', `Preset '${name}' non trouvé. Disponibles: ${PRESET_KEYS.join(', ')}`, {
    details: [{ path: 'preset_name', message: `use one of ${PRESET_KEYS.join(', ')}` }],
  });
}

/** A preset's estimated cost for a video of `seconds` (sample content, at the preset's tier). */
async function presetCost(key: string, seconds: number, estimator: Estimator): Promise<number> {
  const estimate = await estimator(estimateBody(sampleContent(seconds), seconds, key, presetPolicy(key).complexity));
  return breakdownOf(estimate).total;
}

/** A GET /presets entry: the policy figures and the estimated cost of 30 s. */
export async function presetEntry(key: string, estimator: Estimator): Promise<PresetEntry> {
  if (!isPresetKey(key)) throw unknownPreset(key);
  const cost = await presetCost(key, 30, estimator);
  return { ...presetFieldsWith(key, cost), estimated_cost: cost };
}

/** GET /presets/{name}: the preset and its estimates for 10, 30 and 60 s. */
export async function presetDetail(key: string, estimator: Estimator, prices: PriceTable): Promise<PresetDetail> {
  if (!isPresetKey(key)) throw unknownPreset(key);
  const estimates = await Promise.all(DETAIL_DURATIONS.map((seconds) => costEstimate({ content: sampleContent(seconds), duration_sec: seconds, preset: key }, estimator, prices)));
  const byDuration = Object.fromEntries(
    estimates.map((e) => [
      `${e.duration_sec}s`,
      {
        preset: key,
        duration_sec: e.duration_sec,
        aiprod_optimized: e.aiprod_optimized,
        runway_alone: e.runway_alone,
        savings: e.savings,
        savings_percent: e.savings_percent,
        quality_guarantee: e.quality_guarantee,
        backend_selected: e.backend_selected,
      } satisfies DurationEstimate,
    ]),
  ) as PresetDetail['cost_estimate_for_durations'];
  const cost30s = byDuration['30s'].aiprod_optimized;
  return { ...presetFieldsWith(key, cost30s), estimated_cost_30s: cost30s, cost_estimate_for_durations: byDuration };
}

/** GET /job/{id}/costs: what a finished job cost against the estimate stored with it. */
export function jobCosts(production: Production): JobCosts {
  const cost = production.cost;
  if (!isFinal(production.status) || !cost) {
    const status = pipelineStatus(production.status);
    throw new AppError('not_found', `job ${production.id} has no costs yet: it is ${status}${isFinal(production.status) ? ' and nothing was billed' : ''}`, {
      details: [{ path: 'job_id', message: isFinal(production.status) ? 'the job ended before any stage was billed' : 'ask again once GET /pipeline/job/{id} says completed' }],
    });
  }
  // Per stage, what was billed: the stage summary when the render was estimated, else its records.
  const billed: { stage: string; usd: number }[] = cost.byStage.length > 0
    ? cost.byStage.map((s) => ({ stage: s.stage, usd: s.actualUsd }))
    : cost.stages.map((s) => ({ stage: String(s.stage), usd: typeof s.usd === 'number' ? s.usd : 0 }));
  const sum = (keep: (stage: string) => boolean): number => money(billed.filter((b) => keep(b.stage)).reduce((s, b) => s + b.usd, 0));
  const breakdown = {
    gemini: sum((stage) => API_STAGES.has(stage)),
    runway: sum((stage) => stage === PICTURE_STAGE),
    // No storage charge per render (see the file's head).
    storage: 0,
    compute: sum((stage) => !API_STAGES.has(stage) && stage !== PICTURE_STAGE),
  };
  const actual = money(cost.totalUsd);
  // A render with no stored estimate is its own estimate, as the original took it.
  const estimated = money(cost.estimatedUsd ?? cost.totalUsd);
  const variance = money(actual - estimated);
  const variancePercent = estimated > 0 ? round((variance / estimated) * 100, 1) : 0;
  return { estimated, actual, variance, variance_percent: variancePercent, breakdown, within_budget: Math.abs(variancePercent) <= 20 };
}
