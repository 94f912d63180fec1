/**
 * The original API's presets and costs: GET /presets, GET /presets/{preset_name},
 * POST /cost-estimate and GET /job/{job_id}/costs. Every figure is computed (compat/costs.ts) from
 * AIPROD's estimate of the brief with the caller's provider chains — its own provider keys count —
 * and from the price table. GET /presets is public: its estimates use the operator's chains and
 * are kept for a minute, since they do not depend on the request.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { costEstimateSchema, jobCosts, jobCostsSchema, PRESET_KEYS, presetDetail, presetDetailSchema, presetEntry, presetEntrySchema, type Estimator, type PresetEntry } from '../../../compat/costs.js';
import { COMPAT_PRESET_NAMES, COMPLEXITIES } from '../../../compat/presets.js';
import { errorBodySchema } from '../../../contract/production.js';
import type { ProductionsService } from '../../../services/productions.service.js';
import { principal } from '../../auth.js';
import { COMPAT_TAG, type CompatDeps } from './deps.js';

/** How long the public preset list's estimates are kept. */
const PRESETS_CACHE_MS = 60_000;

/** Our error body with FastAPI's `detail` beside it (http/errors.ts adds it on compat routes). */
const compatErrorSchema = errorBodySchema.extend({
  detail: z.union([z.string(), z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() }))]),
});
const errors = { 401: compatErrorSchema, 404: compatErrorSchema, 422: compatErrorSchema };

/** Whole numbers, also when sent as text ("30"), as pydantic accepted them. */
const wholeNumber = z.preprocess((v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v), z.number().int());

export const costEstimateRequestSchema = z
  .looseObject({
    content: z.string().trim().min(3, 'write at least 3 characters').max(60_000, 'at most 60000 characters').describe('The idea (one short paragraph) or the narration script.'),
    duration_sec: wholeNumber.pipe(z.number().min(3, 'at least 3 seconds').max(1800, 'at most 1800 seconds')).default(30),
    preset: z.string().nullable().optional().describe(`${PRESET_KEYS.join(', ')}; it sets the complexity of the original three. Another name is echoed and ignored.`),
    complexity: z.string().default('standard').describe(`${COMPLEXITIES.join(', ')}: the quality tier priced (economy, standard, premium). Any other word is standard.`),
  })
  .meta({ id: 'CostEstimateRequest', description: 'The original API\'s cost request; other fields are ignored.' });

const USAGE = `Send "preset": "<name>" with POST /pipeline/run (or POST /cost-estimate to price it first); GET /presets/<name> gives its costs for 10, 30 and 60 s. The original presets are ${COMPAT_PRESET_NAMES.join(', ')}.`;

function estimatorFor(productions: ProductionsService, tenantId: string | undefined): Estimator {
  return (body) => productions.estimate(body, '', tenantId);
}

export const presetsRoutes = (deps: CompatDeps): FastifyPluginAsyncZod => async (app) => {
  const { productions } = deps;
  const tags = [COMPAT_TAG];
  let cached: { at: number; presets: Promise<Record<string, PresetEntry>> } | undefined;

  /** Every preset with its estimated cost, at the operator's chains (no tenant), kept a minute. */
  const allPresets = (): Promise<Record<string, PresetEntry>> => {
    if (cached && Date.now() - cached.at < PRESETS_CACHE_MS) return cached.presets;
    const estimator = estimatorFor(productions, undefined);
    const presets = Promise.all(PRESET_KEYS.map(async (key) => [key, await presetEntry(key, estimator)] as const)).then((entries) => Object.fromEntries(entries));
    const entry = { at: Date.now(), presets };
    cached = entry;
    // A failed estimate is not kept: the next request tries again.
    presets.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return presets;
  };

  app.get('/presets', {
    config: { compat: true },
    schema: {
      tags,
      summary: 'The presets, each with its estimated cost for 30 s (original API)',
      description: 'The original three (quick_social, brand_campaign, premium_spot) and the v1 presets, each with the eleven fields of the original. estimated_cost is the estimate of a 30 s video with the configured providers and prices. Public.',
      security: [],
      response: { 200: z.object({ presets: z.record(z.string(), presetEntrySchema), usage: z.string() }), ...errors },
    },
  }, async () => ({ presets: await allPresets(), usage: USAGE }));

  app.get('/presets/:preset_name', {
    config: { compat: true },
    schema: {
      tags,
      summary: 'A preset with its estimated costs for 10, 30 and 60 s (original API)',
      description: 'The preset\'s fields, estimated_cost_30s, and cost_estimate_for_durations {"10s","30s","60s"}, estimated with the caller\'s providers. An unknown name is a 404.',
      params: z.object({ preset_name: z.string().min(1).max(100) }),
      response: { 200: presetDetailSchema, ...errors },
    },
  }, async (request) => {
    const tenantId = principal(request).tenantId;
    return presetDetail(request.params.preset_name, estimatorFor(productions, tenantId), productions.priceTable());
  });

  app.post('/cost-estimate', {
    config: { compat: true },
    schema: {
      tags,
      summary: 'Estimate a video\'s cost and compare it with Runway and other services (original API)',
      description: 'Estimates the content with the caller\'s providers (no vendor is called, nothing is stored). complexity low|standard|high prices the economy|standard|premium tier; quick_social, brand_campaign and premium_spot set their own. runway_alone and competitors come from the price table (AIPROD_PRICES overrides it).',
      body: costEstimateRequestSchema,
      response: { 200: costEstimateSchema, ...errors },
    },
  }, async (request) => {
    const { content, duration_sec, preset, complexity } = request.body;
    // The same estimate /pipeline/run answers with (CompatDeps.costEstimate).
    return deps.costEstimate({ content, duration_sec, preset, complexity }, principal(request).tenantId);
  });

  app.get('/job/:id/costs', {
    config: { compat: true },
    schema: {
      tags,
      summary: 'What a finished job cost against its estimate (original API)',
      description: 'estimated (the estimate stored with the job), actual, variance, the breakdown, and within_budget (|variance_percent| ≤ 20). A job of another tenant, or one not finished, is a 404.',
      params: z.object({ id: z.string().min(1).max(100) }),
      response: { 200: jobCostsSchema, ...errors },
    },
  }, async (request) => jobCosts(await productions.get(principal(request).tenantId, request.params.id)));
};
