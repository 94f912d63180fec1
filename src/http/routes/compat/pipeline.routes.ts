/**
 * The original API's job routes: POST /pipeline/run (and /pipeline/batch), GET /pipeline/job/{id},
 * GET /pipeline/jobs, GET /pipeline/status and GET /icc/data (/icc/stats). Each translates the
 * request into a v1 production (compat/request.ts) and the production back into the original's
 * shapes (compat/job.ts); the work is done by the same services as /v1.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../../contract/errors.js';
import { BATCH_MAX } from '../../../contract/production.js';
import { costEstimateSchema } from '../../../compat/costs.js';
import { toPipelineJob, toPipelineListItem } from '../../../compat/job.js';
import { pipelineRequestSchema, toProductionRequest, type PipelineRequest, type Translation } from '../../../compat/request.js';
import { ICC_STATES, iccState, PIPELINE_STATUSES, statusesFor } from '../../../compat/vocabulary.js';
import { principal } from '../../auth.js';
import { baseUrl, COMPAT_TAG, type CompatDeps } from './deps.js';

const jobIdParams = z.object({ id: z.string().min(1).max(100) });
const json = z.record(z.string(), z.unknown());
const config = { compat: true };
const tags = [COMPAT_TAG];

/**
 * The v1 request for an original one, with the first voice a speech provider of the tenant has
 * (as sent, or as a Google voice name); a voice none has is left out and reported in `ignored`.
 */
export async function resolveRequest(deps: Pick<CompatDeps, 'productions' | 'quotas' | 'autoApproveSec'>, tenantId: string, request: PipelineRequest, prefix = ''): Promise<Translation> {
  const { productions } = deps;
  const translation = toProductionRequest(request, { autoApproveSec: deps.autoApproveSec, limits: await deps.quotas.limits(tenantId) });
  for (const voice of translation.voices) {
    const body = { ...translation.body, voice };
    const usable = await productions.validate(body, prefix, tenantId).then(
      () => true,
      (error: unknown) => {
        // Only a refused voice moves on to the next candidate; anything else is the request's own problem.
        if (error instanceof AppError && error.details.some((d) => d.path === `${prefix}voice`)) return false;
        throw error;
      },
    );
    if (usable) return { ...translation, body };
  }
  if (translation.voices.length > 0) translation.ignored.voice = 'no configured speech provider has this voice; the language\'s default voice speaks';
  return translation;
}

/** What is stored with the production as its `origin`: the request as sent, and what was not used. */
export function originOf(request: PipelineRequest, translation: Translation, costEstimate?: object): Record<string, unknown> {
  return {
    content: request.content,
    preset: request.preset ?? null,
    lang: request.lang,
    priority: request.priority,
    duration_sec: request.duration_sec,
    extra: translation.extra,
    ignored: translation.ignored,
    ...(typeof translation.body.voice === 'string' ? { voice_used: translation.body.voice } : {}),
    ...(costEstimate ? { cost_estimate: costEstimate } : {}),
  };
}

export const pipelineRoutes = (deps: CompatDeps): FastifyPluginAsyncZod => async (app) => {
  const { productions } = deps;

  app.post('/pipeline/run', {
    config,
    schema: {
      tags,
      summary: 'Submit a job (the original API): a production created from a PipelineRequest',
      description:
        'Answers 200 with the job id and its cost estimate. Extra fields are accepted; voice, mood, emotion, music_style, sfx_intensity and brand_id are used (docs/migrating-from-v33.md). Jobs of brand_campaign and premium_spot wait in waiting_approval (GET /job/{id}) until approved, or until COMPAT_AUTO_APPROVE_SEC passes.',
      body: pipelineRequestSchema,
      response: {
        200: z.object({ status: z.literal('queued'), job_id: z.string(), message: z.string(), cost_estimate: costEstimateSchema, check_status_at: z.string() }),
      },
    },
  }, async (request) => {
    const tenantId = principal(request).tenantId;
    const translation = await resolveRequest(deps, tenantId, request.body);
    const costEstimate = await deps.costEstimate(request.body, tenantId);
    const accepted = await deps.quotas.create(tenantId, translation.body, request.headers['idempotency-key'] as string | undefined, {
      origin: originOf(request.body, translation, costEstimate),
    });
    return { status: 'queued' as const, job_id: accepted.id, message: 'Job submitted for processing', cost_estimate: costEstimate, check_status_at: `/pipeline/job/${accepted.id}` };
  });

  app.post('/pipeline/batch', {
    config,
    schema: {
      tags,
      summary: `Submit up to ${BATCH_MAX} jobs at once, all or nothing`,
      body: z.looseObject({ jobs: z.array(z.unknown()).min(1).max(BATCH_MAX) }),
      response: { 200: z.object({ status: z.literal('queued'), job_ids: z.array(z.string()), count: z.number() }) },
    },
  }, async (request) => {
    const tenantId = principal(request).tenantId;
    const details: { path: string; message: string }[] = [];
    const parsed: { request: PipelineRequest; translation: Translation }[] = [];
    for (const [i, item] of request.body.jobs.entries()) {
      const result = pipelineRequestSchema.safeParse(item);
      if (!result.success) {
        details.push(...result.error.issues.map((issue) => ({ path: `jobs.${i}.${issue.path.map(String).join('.')}`, message: issue.message })));
        continue;
      }
      try {
        parsed.push({ request: result.data, translation: await resolveRequest(deps, tenantId, result.data, `jobs.${i}.`) });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        details.push(...(error.details.length > 0 ? error.details.map((d) => ({ path: d.path ?? `jobs.${i}`, message: d.message })) : [{ path: `jobs.${i}`, message: error.message }]));
      }
    }
    if (details.length > 0) {
      throw new AppError('invalid_batch', `${details.length} problem(s) in the batch; nothing was created. First: ${details[0]?.path}: ${details[0]?.message}`, { status: 422, details });
    }
    const result = await deps.quotas.createBatch(tenantId, parsed.map((p) => p.translation.body), request.headers['idempotency-key'] as string | undefined, {
      origins: parsed.map((p) => originOf(p.request, p.translation)),
    }).catch((error: unknown) => {
      // The quotas name items as v1 does (productions.<i>.…); this request calls them jobs.
      if (!(error instanceof AppError)) throw error;
      const rename = (text: string): string => text.replace(/\bproductions\.(\d+)\./g, 'jobs.$1.');
      throw new AppError(error.code, rename(error.message), { status: error.status, details: error.details.map((d) => ({ ...d, ...(d.path ? { path: rename(d.path) } : {}) })) });
    });
    return { status: 'queued' as const, job_ids: result.ids, count: result.ids.length };
  });

  app.get('/pipeline/job/:id', {
    config,
    schema: { tags, summary: 'A job\'s status, state history and result (the original API)', params: jobIdParams, response: { 200: json } },
  }, async (request) => toPipelineJob(await productions.detail(principal(request).tenantId, request.params.id), baseUrl(deps, request)));

  app.get('/pipeline/jobs', {
    config,
    schema: {
      tags,
      summary: 'The caller\'s jobs, newest first, paged by offset',
      querystring: z.object({
        status: z
          .string()
          .refine((s) => statusesFor(s) !== undefined, `use one of ${PIPELINE_STATUSES.join(', ')} (any case)`)
          .optional(),
        limit: z.coerce.number().int().min(1).max(100).default(20),
        offset: z.coerce.number().int().min(0).max(100_000).default(0),
      }),
      response: { 200: z.object({ jobs: z.array(json), limit: z.number(), offset: z.number(), count: z.number() }) },
    },
  }, async (request) => {
    const { status, limit, offset } = request.query;
    const statuses = status ? statusesFor(status) : undefined;
    const page = await productions.listDetails(principal(request).tenantId, { ...(statuses ? { status: statuses.join(',') } : {}), limit }, offset);
    const jobs = page.map(toPipelineListItem);
    return { jobs, limit, offset, count: jobs.length };
  });

  app.get('/pipeline/status', {
    config,
    schema: { tags, summary: 'What the caller\'s jobs are doing: a state word and counts', response: { 200: z.object({ state: z.string(), pending: z.number(), processing: z.number() }).loose() } },
  }, async (request) => {
    const tenantId = principal(request).tenantId;
    const [pending, processing] = await Promise.all([
      productions.count(tenantId, statusesFor('pending')),
      productions.count(tenantId, statusesFor('processing')),
    ]);
    return { state: processing > 0 ? 'PROCESSING' : pending > 0 ? 'PENDING' : 'IDLE', pending, processing };
  });

  const iccStats = async (tenantId: string): Promise<Record<string, unknown>> => {
    const byState: Record<string, number> = Object.fromEntries(ICC_STATES.map((s) => [s, 0]));
    let total = 0;
    let approved = 0;
    let reviewed = 0;
    for (const group of await productions.reviewCounts(tenantId)) {
      const state = iccState({ status: group.status, approvedAt: group.approved ? 'yes' : null });
      byState[state] = (byState[state] ?? 0) + group.n;
      total += group.n;
      if (group.approved) approved += group.n;
      if (group.review) reviewed += group.n;
    }
    return { total_jobs: total, jobs_by_state: byState, approved_count: approved, approval_rate: reviewed > 0 ? Math.round((approved / reviewed) * 1000) / 1000 : 0 };
  };
  for (const url of ['/icc/data', '/icc/stats']) {
    app.get(url, {
      config,
      schema: { tags, summary: 'ICC summary of the caller\'s jobs: totals by state and approvals', response: { 200: json } },
    }, async (request) => iccStats(principal(request).tenantId));
  }
};
