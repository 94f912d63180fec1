/**
 * Aliases for clients of the original AIPROD API (`/pipeline/*`, `/presets`, `/cost-estimate`).
 * Each translates the old request shape into a v1 brief and the v1 result back into the old
 * response shape; the work is done by the same ProductionsService as /v1. Errors use the v1 error
 * shape. New integrations should use /v1 (see /docs).
 *
 * Translation of a `PipelineRequest` ({ content, duration_sec, lang, preset, priority }):
 * - content → `prompt` when it is one paragraph of at most 600 characters, else → `script`;
 * - duration_sec → targetDurationSec; lang → language;
 * - preset: the old names map to the nearest v1 preset (quick_social → social_vertical,
 *   brand_campaign and premium_spot → youtube_landscape); v1 preset names pass through;
 * - priority: low 0, normal/medium 5, high 8, urgent 10.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../contract/errors.js';
import { BATCH_MAX, errorBodySchema, isFinal, PRODUCTION_STATUSES, type Production } from '../../contract/production.js';
import { PRESETS } from '../../contract/resolve.js';
import type { ProductionsService } from '../../services/productions.service.js';
import type { QuotaService } from '../../services/quotas.service.js';
import { principal } from '../auth.js';

const LEGACY_PRESETS: Record<string, keyof typeof PRESETS> = {
  quick_social: 'social_vertical',
  brand_campaign: 'youtube_landscape',
  premium_spot: 'youtube_landscape',
};
/** The seed's presets were also spending levels: each maps onto a quality tier (docs/providers.md). */
const LEGACY_QUALITY: Record<string, 'economy' | 'standard' | 'premium'> = {
  quick_social: 'economy',
  brand_campaign: 'standard',
  premium_spot: 'premium',
};
const PRIORITY: Record<string, number> = { low: 0, normal: 5, medium: 5, high: 8, urgent: 10 };

export const legacyRequestSchema = z
  .strictObject({
    content: z.string().trim().min(3).max(60_000).describe('The idea (one short paragraph) or the narration script.'),
    duration_sec: z.number().int().min(3).max(1800).default(30),
    lang: z.string().min(2).max(35).default('en'),
    preset: z.string().max(64).optional().describe(`quick_social, brand_campaign, premium_spot, or a v1 preset (${Object.keys(PRESETS).join(', ')})`),
    priority: z.enum(['low', 'normal', 'medium', 'high', 'urgent']).default('low'),
  })
  .meta({ id: 'LegacyPipelineRequest' });
type LegacyRequest = z.infer<typeof legacyRequestSchema>;

/** The v1 production request for an old PipelineRequest. */
export function toBrief(request: LegacyRequest, path = ''): Record<string, unknown> {
  const preset = request.preset === undefined ? undefined : (LEGACY_PRESETS[request.preset] ?? request.preset);
  if (preset !== undefined && !(preset in PRESETS)) {
    throw new AppError('invalid_brief', `invalid brief: ${path}preset: unknown preset ${request.preset}`, {
      details: [{ path: `${path}preset`, message: `use one of ${[...Object.keys(LEGACY_PRESETS), ...Object.keys(PRESETS)].join(', ')}` }],
    });
  }
  const content = request.content;
  const isPrompt = content.length <= 600 && !/\n\s*\n/.test(content);
  return {
    ...(isPrompt ? { prompt: content } : { script: content }),
    targetDurationSec: request.duration_sec,
    language: request.lang,
    ...(preset ? { preset } : {}),
    ...(request.preset && LEGACY_QUALITY[request.preset] ? { quality: LEGACY_QUALITY[request.preset] } : {}),
    priority: PRIORITY[request.priority] ?? 0,
  };
}

function preview(brief: Record<string, unknown>, length: number): string {
  const scenes = brief.scenes as { narration?: string }[] | undefined;
  const text = String(brief.prompt ?? brief.script ?? scenes?.map((s) => s.narration ?? '').join(' ') ?? '');
  return text.length > length ? `${text.slice(0, length)}...` : text;
}

/** The old job-status shape for a production. */
export function toLegacyJob(production: Production, brief: Record<string, unknown>): Record<string, unknown> {
  const job: Record<string, unknown> = {
    job_id: production.id,
    status: production.status,
    progress: production.progress,
    current_stage: production.stage,
    created_at: production.createdAt,
    updated_at: production.updatedAt,
    preset: brief.preset ?? null,
    content_preview: preview(brief, 100),
    links: production.links,
  };
  if (isFinal(production.status)) {
    job.result = {
      success: production.status === 'succeeded',
      output: { outputs: production.outputs, qa: production.qa, cost: production.cost, duration_sec: production.durationSec },
      completed_at: production.finishedAt,
      error_message: production.error?.message ?? null,
      execution_time_ms:
        production.startedAt && production.finishedAt ? Date.parse(production.finishedAt) - Date.parse(production.startedAt) : null,
    };
  }
  if (production.attempts > 1) job.retry_count = production.attempts - 1;
  return job;
}

const legacyJobSchema = z.record(z.string(), z.unknown()).meta({ id: 'LegacyJob' });
const errors = { 400: errorBodySchema, 401: errorBodySchema, 404: errorBodySchema, 422: errorBodySchema };

export const legacyRoutes = (deps: { productions: ProductionsService; quotas: QuotaService }): FastifyPluginAsyncZod => async (app) => {
  const { productions } = deps;
  const tags = ['legacy'];

  app.post('/pipeline/run', {
    config: { invalidBodyCode: 'invalid_brief' },
    schema: {
      tags,
      summary: 'Alias of POST /v1/productions for the original API',
      body: legacyRequestSchema,
      response: {
        202: z.object({ status: z.literal('queued'), job_id: z.string(), message: z.string(), cost_estimate: z.record(z.string(), z.unknown()), check_status_at: z.string() }),
        ...errors,
      },
    },
  }, async (request, reply) => {
    const tenantId = principal(request).tenantId;
    const brief = toBrief(request.body);
    const estimate = await productions.estimate(brief, '', tenantId);
    const accepted = await deps.quotas.create(tenantId, brief, request.headers['idempotency-key'] as string | undefined);
    return reply.status(202).send({
      status: 'queued' as const,
      job_id: accepted.id,
      message: 'Job submitted for processing',
      cost_estimate: { aiprod_optimized: estimate.cost.totalUsd, currency: 'USD', duration_sec: estimate.durationSec, render_sec: estimate.renderSec },
      check_status_at: `/pipeline/job/${accepted.id}`,
    });
  });

  app.get('/pipeline/job/:id', {
    schema: { tags, summary: 'Alias of GET /v1/productions/:id in the original job shape', params: z.object({ id: z.string().min(1).max(100) }), response: { 200: legacyJobSchema, ...errors } },
  }, async (request) => {
    const { production, brief } = await productions.getWithBrief(principal(request).tenantId, request.params.id);
    return toLegacyJob(production, brief);
  });

  app.get('/pipeline/jobs', {
    schema: {
      tags,
      summary: 'Alias of GET /v1/productions, paged by offset',
      querystring: z.strictObject({
        status: z
          .string()
          .transform((s) => s.toLowerCase())
          .pipe(z.enum(PRODUCTION_STATUSES))
          .optional(),
        limit: z.coerce.number().int().min(1).max(100).default(20),
        offset: z.coerce.number().int().min(0).max(100_000).default(0),
      }),
      response: { 200: z.object({ jobs: z.array(legacyJobSchema), limit: z.number(), offset: z.number(), count: z.number() }), ...errors },
    },
  }, async (request) => {
    const { status, limit, offset } = request.query;
    const page = await productions.listWithBriefs(principal(request).tenantId, { status, limit }, offset);
    const jobs = page.map(({ production, brief }) => ({
      job_id: production.id,
      status: production.status,
      preset: brief.preset ?? null,
      content_preview: preview(brief, 50),
      created_at: production.createdAt,
    }));
    return { jobs, limit, offset, count: jobs.length };
  });

  app.post('/pipeline/batch', {
    config: { invalidBodyCode: 'invalid_batch' },
    schema: {
      tags,
      summary: `Alias of POST /v1/productions/batch: up to ${BATCH_MAX} pipeline requests, all or nothing`,
      body: z.strictObject({ jobs: z.array(z.unknown()).min(1).max(BATCH_MAX) }),
      response: { 202: z.object({ status: z.literal('queued'), job_ids: z.array(z.string()), count: z.number() }), ...errors },
    },
  }, async (request, reply) => {
    const details: { path: string; message: string }[] = [];
    const briefs = request.body.jobs.map((item, i) => {
      const parsed = legacyRequestSchema.safeParse(item);
      if (!parsed.success) {
        details.push(...parsed.error.issues.map((issue) => ({ path: `jobs.${i}.${issue.path.map(String).join('.')}`, message: issue.message })));
        return undefined;
      }
      try {
        return toBrief(parsed.data, `jobs.${i}.`);
      } catch (error) {
        if (error instanceof AppError) details.push(...error.details.map((d) => ({ path: d.path ?? `jobs.${i}`, message: d.message })));
        return undefined;
      }
    });
    if (details.length > 0) {
      throw new AppError('invalid_batch', `${details.length} problem(s) in the batch; nothing was created. First: ${details[0]?.path}: ${details[0]?.message}`, { details });
    }
    const result = await deps.quotas.createBatch(principal(request).tenantId, briefs, request.headers['idempotency-key'] as string | undefined);
    return reply.status(202).send({ status: 'queued' as const, job_ids: result.ids, count: result.ids.length });
  });

  app.get('/presets', {
    schema: { tags, summary: 'Alias of GET /v1/presets in the original shape', security: [], response: { 200: z.object({ presets: z.record(z.string(), z.unknown()), usage: z.string() }) } },
  }, async () => ({
    presets: { ...PRESETS, ...Object.fromEntries(Object.entries(LEGACY_PRESETS).map(([old, v1]) => [old, { ...PRESETS[v1], name: old, alias_of: v1 }])) },
    usage: "Add \"preset\": \"social_vertical\" to a POST /v1/productions brief (or \"preset\" to a /pipeline/run request).",
  }));

  app.post('/cost-estimate', {
    config: { invalidBodyCode: 'invalid_brief' },
    schema: {
      tags,
      summary: 'Alias of POST /v1/estimate for an original pipeline request',
      body: legacyRequestSchema.partial({ priority: true }).extend({ complexity: z.enum(['simple', 'standard', 'complex']).optional() }),
      response: { 200: z.record(z.string(), z.unknown()), ...errors },
    },
  }, async (request) => {
    const { complexity: _complexity, ...rest } = request.body;
    const estimate = await productions.estimate(toBrief({ ...rest, priority: rest.priority ?? 'low' }), '', principal(request).tenantId);
    return {
      aiprod_optimized: estimate.cost.totalUsd,
      currency: 'USD',
      duration_sec: estimate.durationSec,
      render_sec: estimate.renderSec,
      scenes: estimate.scenes,
      backend_selected: [...new Set(estimate.cost.items.map((i) => i.provider))].join(', '),
      breakdown: Object.fromEntries(estimate.cost.items.map((i) => [i.stage, i.usd])),
    };
  });
};
