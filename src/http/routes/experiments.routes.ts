/**
 * GET /v1/experiments and GET /v1/experiments/{flag}: the A/B experiments productions were put
 * in, and per variant how they did, with the counts behind every rate. A tenant sees its own
 * productions; an operator every tenant's, or one named with `tenantId`. docs/experiments.md.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBodySchema } from '../../contract/production.js';
import type { ExperimentsService } from '../../experiments/experiments.service.js';
import { FLAG_KEY } from '../../experiments/flags-file.js';
import { actingTenant, isOperator, principal } from '../auth.js';
import type { FastifyRequest } from 'fastify';

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema };
const rate = z.number().min(0).max(1).nullable();
const count = z.number().int();

const variantSchema = z.object({
  variant: z.string(),
  value: z.string().describe('What the variant sets, e.g. the caption style "word".'),
  productions: count.describe('Productions assigned this variant and rendered with it: the n of the counts below.'),
  notApplied: count.describe('Assigned it, but their brief made the choice itself (the brief wins): left out of everything else.'),
  succeeded: count,
  failed: count,
  canceled: count,
  unfinished: count.describe('Queued, awaiting review or rendering now.'),
  successRate: rate.describe('succeeded / (succeeded + failed); null with neither.'),
  successRatePValue: rate.describe('Two-sided two-proportion z-test of successRate against the control\'s; null for the control, or when an expected count is under 5 (the test does not hold: read the counts).'),
  medianRenderSec: z.number().nullable().describe('Median wall time from the first claim to the finish, over succeeded productions.'),
  renderTimed: count.describe('The n of medianRenderSec.'),
  costPerVideoMinuteUsd: z.number().nullable().describe('Real cost (providers and compute) per minute of video delivered, over succeeded productions.'),
  costed: count.describe('The n of costPerVideoMinuteUsd.'),
  approvalRate: rate.describe('approved / reviewed.'),
  approved: count.describe('Review productions whose storyboard was approved.'),
  reviewed: count.describe('Review productions whose review ended: approved, or canceled while awaiting review.'),
});

const reportSchema = z
  .object({
    flag: z.string(),
    description: z.string().nullable().describe('What the flag changes; null for a flag AIPROD does not act on.'),
    control: z.string().nullable().describe('The variant the p-values compare with: the one named "control", else the most assigned.'),
    variants: z.array(variantSchema).describe('Most productions first. A variant nobody was assigned does not appear.'),
  })
  .meta({ id: 'ExperimentReport' });

const tenantQuery = z.strictObject({
  tenantId: z.string().min(1).max(100).optional().describe('Operators: only this tenant. Others may leave it out or give their own.'),
});

/** A tenant sees its own; an operator everything unless it names a tenant. */
function scope(request: FastifyRequest, named: string | undefined): string | undefined {
  if (named !== undefined) return actingTenant(request, named);
  const who = principal(request);
  return isOperator(who) ? undefined : who.tenantId;
}

export const experimentRoutes = (deps: { experiments: ExperimentsService }): FastifyPluginAsyncZod => async (app) => {
  app.get('/v1/experiments', {
    schema: {
      tags: ['experiments'],
      summary: 'The experiments productions were put in, with how many each',
      querystring: tenantQuery,
      response: {
        200: z.object({
          data: z.array(z.object({ flag: z.string(), description: z.string().nullable(), productions: count.describe('Productions assigned a variant of it (applied or not).') })),
        }),
        ...errors,
      },
    },
  }, async (request) => ({ data: await deps.experiments.list(scope(request, request.query.tenantId)) }));

  app.get('/v1/experiments/:flag', {
    schema: {
      tags: ['experiments'],
      summary: 'How each variant of an experiment did: productions, success rate, median render time, cost per minute, approval rate',
      description:
        'Every rate comes with its counts, so a reader can judge whether a difference means anything; successRatePValue is a two-proportion z-test against the control. ' +
        'Productions whose brief made the choice itself are counted in notApplied only. A flag no production was assigned answers with no variants.',
      params: z.object({ flag: z.string().regex(FLAG_KEY, 'a flag key is lower-case letters, digits and "-", e.g. caption-style') }),
      querystring: tenantQuery,
      response: { 200: reportSchema, ...errors },
    },
  }, async (request) => deps.experiments.report(request.params.flag, scope(request, request.query.tenantId)));
};
