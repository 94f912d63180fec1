import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadEnv } from '../config/env.js';
import type { QualityTier } from '../contract/brief.js';
import { AppError } from '../contract/errors.js';
import { productionSchema, type Production } from '../contract/production.js';
import { parseBrief, resolveBrief } from '../contract/resolve.js';
import { createProviderRegistry, createProviders, lazyMediaTools } from '../main/container.js';
import { estimateBrief, RENDER_PRICE_ID, type Estimate, type EstimateItem } from '../pipeline/estimate.js';
import { DEFAULT_PRICES, type PriceTable } from '../providers/pricing.js';
import { backendOf, breakdownOf, costEstimate, jobCosts, PRESET_KEYS, presetDetail, presetEntry, presetEntrySchema, runwayAlone, type CostEstimate, type Estimator } from './costs.js';

/** Real estimates (pipeline/estimate.ts) with paid providers configured at unreachable addresses: priced, nothing called. */
function realEstimator(options: { keys?: boolean; renderPerMinute?: number } = {}): { estimator: Estimator; bodies: Record<string, unknown>[] } {
  const vars = options.keys === false ? {} : {
    OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    ELEVENLABS_API_KEY: 'el-x', ELEVENLABS_BASE_URL: 'http://127.0.0.1:9',
    RUNWAYML_API_SECRET: 'rw-x', RUNWAY_BASE_URL: 'http://127.0.0.1:9',
  };
  const env = loadEnv(vars);
  const registry = createProviderRegistry(env, lazyMediaTools(env), createProviders());
  const bodies: Record<string, unknown>[] = [];
  const estimator: Estimator = async (body) => {
    bodies.push(body);
    const { priority: _p, review: _r, autoApproveAfterSec: _a, metadata: _m, ...brief } = body;
    const resolved = resolveBrief(parseBrief(brief));
    return estimateBrief(resolved, registry.forRender({ quality: resolved.quality }), options.renderPerMinute ? { [RENDER_PRICE_ID]: options.renderPerMinute } : {});
  };
  return { estimator, bodies };
}

/** An estimate made of the given items (the rest of the fields do not matter here). */
function fakeEstimate(items: Partial<EstimateItem>[], quality: QualityTier = 'standard'): Estimate {
  const full = items.map((i) => ({ stage: 'plan', provider: 'x', units: {}, unitPriceUsd: 0, usd: 0, ...i }));
  return {
    title: 't', scenes: 3, durationSec: 30, width: 1920, height: 1080, outputs: ['mp4'], quality, renderSec: 10,
    cost: { currency: 'USD', totalUsd: full.reduce((s, i) => s + i.usd, 0), minimumUsd: 0, items: full },
    notes: [],
  };
}

function assertInvariants(e: CostEstimate, what: string): void {
  const sum = e.breakdown.gemini_api + e.breakdown.runway_api + e.breakdown.gcs_storage + e.breakdown.cloud_run;
  assert.ok(Math.abs(sum - e.aiprod_optimized) < 1e-9, `${what}: breakdown ${JSON.stringify(e.breakdown)} sums to ${sum}, not ${e.aiprod_optimized}`);
  assert.equal(e.savings, Math.round((e.runway_alone - e.aiprod_optimized) * 100) / 100, `${what}: savings`);
  assert.equal(e.competitors.runway_direct, e.runway_alone, what);
  assert.ok(e.quality_guarantee >= 0 && e.quality_guarantee <= 1, what);
  assert.equal(e.breakdown.gcs_storage, 0);
}

test('the invariants hold on real estimates for several lengths, tiers and presets, with and without an operator charge', async () => {
  const priced = realEstimator({ renderPerMinute: 0.3 });
  const offline = realEstimator({ keys: false });
  const cases = [
    { content: 'A short ad for a solar backpack that charges a phone on the trail.', duration_sec: 30, complexity: 'low' },
    { content: 'A short ad for a solar backpack that charges a phone on the trail.', duration_sec: 30, complexity: 'high' },
    { content: 'An explainer about how bees make honey, for children.', duration_sec: 47, complexity: 'standard' },
    { content: 'A spot for a new coffee brand, warm and cinematic.', duration_sec: 60, preset: 'premium_spot' },
    { content: 'A quick vertical teaser for a concert.', duration_sec: 12, preset: 'quick_social' },
    { content: 'A landscape video about a city marathon.', duration_sec: 90, preset: 'youtube_landscape', complexity: 'high' },
  ];
  for (const [name, { estimator }] of [['priced', priced], ['offline', offline]] as const) {
    for (const input of cases) {
      const e = await costEstimate(input, estimator, DEFAULT_PRICES);
      assertInvariants(e, `${name} ${JSON.stringify(input)}`);
      assert.equal(e.duration_sec, input.duration_sec);
      assert.equal(e.preset, input.preset ?? null);
      if (name === 'offline') {
        assert.equal(e.aiprod_optimized, 0, 'offline providers cost nothing');
        assert.equal(e.backend_selected, 'procedural-visuals');
      } else {
        assert.ok(e.aiprod_optimized > 0);
        assert.ok(e.breakdown.cloud_run > 0, 'the operator charge is cloud_run');
        // Runway has no model at the economy tier (low complexity, quick_social): the pictures are the storyboard's own.
        assert.equal(e.backend_selected, e.complexity === 'low' ? 'procedural-visuals' : 'runway', JSON.stringify(input));
      }
    }
  }
});

test('the breakdown maps stages onto the original\'s four parts and sums to the total', () => {
  const estimate = fakeEstimate([
    { stage: 'plan', provider: 'openai:gpt-4o-mini', usd: 0.00123 },
    { stage: 'narrate', provider: 'elevenlabs:eleven_multilingual_v2', usd: 0.04567 },
    { stage: 'score', provider: 'elevenlabs-music:music_v1', usd: 0.4 },
    { stage: 'foley', provider: 'elevenlabs-sfx:eleven_text_to_sound_v2', usd: 0.02 },
    { stage: 'visualize', provider: 'runway:gen4_turbo', usd: 1.74 },
    { stage: 'visualize', provider: 'ffmpeg-motion@1', usd: 0 },
    { stage: 'mix', provider: 'ffmpeg-mix@1', usd: 0 },
    { stage: 'render', provider: RENDER_PRICE_ID, usd: 0.25 },
  ]);
  const b = breakdownOf(estimate);
  assert.deepEqual(b, { gemini_api: 0.4669, runway_api: 1.74, gcs_storage: 0, cloud_run: 0.25, total: 2.4569 });
  assert.equal(backendOf(estimate), 'runway');
  assert.equal(backendOf(fakeEstimate([{ stage: 'visualize', provider: 'ffmpeg-motion@1' }, { stage: 'visualize', provider: 'openai-images:gpt-image-1', usd: 0.2 }])), 'openai-images');
  assert.equal(backendOf(fakeEstimate([{ stage: 'visualize', provider: 'procedural-visuals@1' }, { stage: 'visualize', provider: 'ffmpeg-motion@1' }])), 'procedural-visuals');
});

test('complexity low|standard|high prices economy|standard|premium; an unknown word is standard, never an error', async () => {
  const { estimator, bodies } = realEstimator();
  const content = 'A short ad for a solar backpack that charges a phone on the trail.';
  const seen: Record<string, { quality: unknown; complexity: string; guarantee: number; usd: number }> = {};
  for (const complexity of ['low', 'standard', 'high', 'extreme', 'HIGH']) {
    const e = await costEstimate({ content, duration_sec: 30, complexity }, estimator, DEFAULT_PRICES);
    seen[complexity] = { quality: bodies.at(-1)?.quality, complexity: e.complexity, guarantee: e.quality_guarantee, usd: e.aiprod_optimized };
  }
  assert.deepEqual(seen.low && [seen.low.quality, seen.low.complexity, seen.low.guarantee], ['economy', 'low', 0.6]);
  assert.deepEqual(seen.standard && [seen.standard.quality, seen.standard.complexity, seen.standard.guarantee], ['standard', 'standard', 0.8]);
  assert.deepEqual(seen.high && [seen.high.quality, seen.high.complexity, seen.high.guarantee], ['premium', 'high', 0.9]);
  assert.deepEqual(seen.extreme && [seen.extreme.quality, seen.extreme.complexity], ['standard', 'standard']);
  assert.equal(seen.HIGH?.complexity, 'high');
  // The tiers are priced, not labelled: premium (video clips) costs more than economy.
  assert.ok((seen.high?.usd ?? 0) > (seen.low?.usd ?? 0), JSON.stringify(seen));
  const none = await costEstimate({ content, duration_sec: 30 }, estimator, DEFAULT_PRICES);
  assert.equal(none.complexity, 'standard');
});

test('the original presets force their complexity and tier; a v1 preset keeps the request\'s; an unknown name is echoed and ignored', async () => {
  const { estimator, bodies } = realEstimator();
  const content = 'A spot for a new coffee brand, warm and cinematic.';
  const quick = await costEstimate({ content, duration_sec: 15, preset: 'quick_social', complexity: 'high' }, estimator, DEFAULT_PRICES);
  assert.deepEqual([quick.complexity, quick.quality_guarantee, quick.preset], ['low', 0.6, 'quick_social']);
  assert.deepEqual([bodies.at(-1)?.quality, bodies.at(-1)?.preset], ['economy', 'social_vertical']);
  const brand = await costEstimate({ content, duration_sec: 30, preset: 'brand_campaign', complexity: 'low' }, estimator, DEFAULT_PRICES);
  assert.deepEqual([brand.complexity, brand.quality_guarantee, bodies.at(-1)?.quality, bodies.at(-1)?.preset], ['standard', 0.8, 'standard', 'youtube_landscape']);
  const premium = await costEstimate({ content, duration_sec: 60, preset: 'premium_spot' }, estimator, DEFAULT_PRICES);
  assert.deepEqual([premium.complexity, premium.quality_guarantee, premium.duration_sec, bodies.at(-1)?.quality], ['high', 0.9, 60, 'premium']);
  const v1 = await costEstimate({ content, duration_sec: 30, preset: 'square_post', complexity: 'low' }, estimator, DEFAULT_PRICES);
  assert.deepEqual([v1.complexity, bodies.at(-1)?.quality, bodies.at(-1)?.preset], ['low', 'economy', 'square_post']);
  const unknown = await costEstimate({ content, duration_sec: 30, preset: 'no_such_preset' }, estimator, DEFAULT_PRICES);
  assert.equal(unknown.preset, 'no_such_preset');
  assert.equal(bodies.at(-1)?.preset, undefined);
  assert.equal(unknown.complexity, 'standard');
});

test('runway_alone and the competitors come from the price table: Runway clips of its lengths, each from a still', async () => {
  // 30 s: three 10 s Gen-4 Turbo clips, three stills (0.08 each) and 30 s of video (0.05/s).
  assert.equal(runwayAlone(30, DEFAULT_PRICES), 3 * 0.08 + 30 * 0.05);
  // 31 s: three 10 s clips and a 2 s one (the shortest clip Runway makes).
  assert.equal(runwayAlone(31, DEFAULT_PRICES), Math.round((4 * 0.08 + 32 * 0.05) * 1e4) / 1e4);
  const table: PriceTable = {
    ...DEFAULT_PRICES,
    'runway:gen4_turbo': { images: 0.1, secondsOfVideo: 0.2 },
    'reference:synthesia': { secondsOfVideo: 0.5 },
    'reference:heygen': {},
  };
  assert.equal(runwayAlone(30, table), 3 * 0.1 + 30 * 0.2);
  const { estimator } = realEstimator();
  const input = { content: 'A short ad for a solar backpack.', duration_sec: 30, complexity: 'standard' };
  const listed = await costEstimate(input, estimator, DEFAULT_PRICES);
  const changed = await costEstimate(input, estimator, table);
  assert.equal(listed.runway_alone, 1.74);
  assert.equal(changed.runway_alone, 6.3);
  assert.equal(changed.competitors.synthesia, 15);
  assert.equal(changed.competitors.heygen, 0, 'a reference with no price costs nothing');
  assert.equal(listed.competitors.synthesia, Math.round(30 * (29 / 10 / 60) * 1e4) / 1e4);
  assert.ok(listed.competitors.pictory > 0 && listed.competitors.heygen > 0);
  assertInvariants(changed, 'changed table');
  assert.equal(changed.savings_percent, Math.round(((6.3 - changed.aiprod_optimized) / 6.3) * 1000) / 10);
  // No Runway price: nothing to compare with, and no division by zero.
  const free = await costEstimate(input, estimator, { ...DEFAULT_PRICES, 'runway:gen4_turbo': {} });
  assert.deepEqual([free.runway_alone, free.savings_percent], [0, 0]);
  assertInvariants(free, 'no runway price');
  assert.match(listed.value_proposition, /Runway/);
});

test('every preset entry has the eleven fields, and its estimated_cost is the estimate of 30 s', async () => {
  const { estimator, bodies } = realEstimator({ renderPerMinute: 0.3 });
  for (const key of PRESET_KEYS) {
    const entry = await presetEntry(key, estimator);
    assert.ok(presetEntrySchema.safeParse(entry).success, `${key}: ${JSON.stringify(entry)}`);
    assert.equal(Object.keys(entry).length, 11, key);
    assert.equal(bodies.at(-1)?.targetDurationSec, 30);
    const again = breakdownOf(await estimator(bodies.at(-1) as Record<string, unknown>)).total;
    assert.equal(entry.estimated_cost, again, key);
    assert.ok(entry.estimated_cost > 0, `${key}: the operator's charge alone is more than 0`);
    if (key === 'quick_social') assert.deepEqual([entry.pipeline_mode, entry.allow_icc, entry.max_cost_per_minute], ['fast', false, 0.5]);
    if (key === 'brand_campaign' || key === 'premium_spot') assert.deepEqual([entry.pipeline_mode, entry.allow_icc], ['full', true]);
    if (key === 'social_vertical') {
      assert.deepEqual([entry.pipeline_mode, entry.quality_threshold, entry.max_duration_sec, entry.allow_icc, entry.priority], ['full', 0.8, 1800, false, 'medium']);
      assert.ok(entry.max_cost_per_minute >= entry.estimated_cost * 2 - 1e-9 && entry.max_cost_per_minute > 0);
    }
  }
  // Offline, a v1 preset costs nothing but its cap stays positive, as the contract wants.
  const offline = await presetEntry('story_4x5', realEstimator({ keys: false }).estimator);
  assert.equal(offline.estimated_cost, 0);
  assert.ok(offline.max_cost_per_minute > 0);
});

test('a preset\'s detail prices 10, 30 and 60 s; an unknown name is not_found in the original\'s words', async () => {
  const { estimator } = realEstimator();
  for (const key of ['quick_social', 'brand_campaign', 'premium_spot', 'youtube_landscape']) {
    const detail = await presetDetail(key, estimator, DEFAULT_PRICES);
    assert.equal('estimated_cost' in detail, false);
    assert.deepEqual(Object.keys(detail.cost_estimate_for_durations), ['10s', '30s', '60s']);
    for (const [label, seconds] of [['10s', 10], ['30s', 30], ['60s', 60]] as const) {
      const e = detail.cost_estimate_for_durations[label];
      assert.deepEqual([e.preset, e.duration_sec], [key, seconds]);
      assert.equal(e.runway_alone, runwayAlone(seconds, DEFAULT_PRICES));
      assert.equal(e.savings, Math.round((e.runway_alone - e.aiprod_optimized) * 100) / 100);
      assert.equal(e.backend_selected, key === 'quick_social' ? 'procedural-visuals' : 'runway', key);
    }
    assert.equal(detail.estimated_cost_30s, detail.cost_estimate_for_durations['30s'].aiprod_optimized);
    assert.ok(detail.cost_estimate_for_durations['60s'].aiprod_optimized > detail.cost_estimate_for_durations['10s'].aiprod_optimized, key);
  }
  await assert.rejects(presetDetail('no_such_preset', estimator, DEFAULT_PRICES), (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, 'not_found');
    assert.equal(error.status, 404);
    assert.match(error.message, /^Preset 'no_such_preset' non trouvé\. Disponibles: quick_social, brand_campaign, premium_spot/);
    return true;
  });
});

const example = (productionSchema.meta()?.examples as Production[] | undefined)?.[0] as Production;
const finished = (cost: Partial<NonNullable<Production['cost']>>, status: Production['status'] = 'succeeded'): Production => ({
  ...example,
  status,
  cost: { totalUsd: 0, estimatedUsd: 0, varianceUsd: 0, stages: [], byStage: [], attributions: [], ...cost },
});

test('a finished job\'s costs: actual against its estimate, by part, within budget at ±20 %', () => {
  const byStage = (stage: string, estimatedUsd: number, actualUsd: number) => ({ stage, providers: [], estimatedUsd, actualUsd, varianceUsd: actualUsd - estimatedUsd });
  const costs = jobCosts(finished({
    totalUsd: 1.2,
    estimatedUsd: 1,
    byStage: [byStage('plan', 0.01, 0.02), byStage('narrate', 0.05, 0.08), byStage('visualize', 0.8, 1), byStage('render', 0.14, 0.1)],
  }));
  assert.deepEqual(costs, { estimated: 1, actual: 1.2, variance: 0.2, variance_percent: 20, breakdown: { gemini: 0.1, runway: 1, storage: 0, compute: 0.1 }, within_budget: true });
  const over = jobCosts(finished({ totalUsd: 1.25, estimatedUsd: 1 }));
  assert.deepEqual([over.variance_percent, over.within_budget], [25, false]);
  const under = jobCosts(finished({ totalUsd: 0.7, estimatedUsd: 1 }));
  assert.deepEqual([under.variance, under.variance_percent, under.within_budget], [-0.3, -30, false]);
  // No per-stage summary: the billed records are used; no estimate: the render is its own.
  const records = jobCosts(finished({ totalUsd: 0.3, estimatedUsd: null, stages: [{ stage: 'narrate', usd: 0.1 }, { stage: 'visualize', usd: 0.2 }] }));
  assert.deepEqual(records, { estimated: 0.3, actual: 0.3, variance: 0, variance_percent: 0, breakdown: { gemini: 0.1, runway: 0.2, storage: 0, compute: 0 }, within_budget: true });
  // A failed job that was billed has costs too.
  assert.equal(jobCosts(finished({ totalUsd: 0.05, estimatedUsd: 0.05 }, 'failed')).actual, 0.05);
});

test('a job that is not finished, or never billed, has no costs (not_found)', () => {
  for (const production of [{ ...example, status: 'rendering' as const }, { ...example, status: 'awaiting_review' as const, cost: null }, { ...example, status: 'canceled' as const, cost: null }]) {
    assert.throws(() => jobCosts(production), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, 'not_found');
      assert.match(error.message, new RegExp(`job ${example.id} has no costs yet`));
      return true;
    });
  }
});
