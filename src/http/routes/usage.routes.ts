/**
 * GET /v1/usage: usage and cost analytics of a period, grouped by day, week, month, tier, tenant,
 * template, provider or aspect ratio; JSON, or CSV with `?format=csv` or `Accept: text/csv`.
 * A tenant sees its own productions; an operator sees every tenant's, or one named with
 * `tenantId`. docs/usage.md.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBodySchema, PRODUCTION_STATUSES } from '../../contract/production.js';
import { USAGE_GROUPS, usageCsvHeader, usageCsvStream, usageRange, type UsageService } from '../../services/usage.service.js';
import { actingTenant, isOperator, principal } from '../auth.js';

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema };

const money = z.number().describe('USD');
const measuresShape = {
  productions: z.number().int().describe('Productions created in the period (groupBy=provider: those whose cost report names the provider).'),
  outcomes: z.object(Object.fromEntries(PRODUCTION_STATUSES.map((s) => [s, z.number().int()])) as Record<(typeof PRODUCTION_STATUSES)[number], z.ZodNumber>).describe('Productions by their status now.'),
  videoMinutes: z.number().describe('Minutes of video delivered (succeeded productions).'),
  renderSec: z.number().describe("Wall seconds of rendering (the stages of each production's last attempt)."),
  providerSpendUsd: money.describe("What the providers billed (groupBy=provider: that provider's share)."),
  processingCostUsd: money.describe('Provider bills plus CPU time at the operator\'s compute price.'),
  revenueUsd: money.describe('What tenants were charged.'),
  marginUsd: money.describe('revenueUsd − processingCostUsd.'),
  estimate: z
    .object({ productions: z.number().int(), estimatedUsd: money, actualUsd: money, varianceUsd: money.describe('actualUsd − estimatedUsd.') })
    .describe('Productions with both an estimate at creation and a cost report, and the two totals over them.'),
};
const measuresSchema = z.object(measuresShape).meta({ id: 'UsageMeasures' });
const usageReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    groupBy: z.enum(USAGE_GROUPS),
    tenantId: z.string().nullable().describe('The tenant reported on; null: every tenant (operators).'),
    rows: z.array(z.object({ key: z.string().describe('The group: a day (YYYY-MM-DD), the Monday of a week, a month (YYYY-MM), or a tier, tenant, template, provider or aspect ratio.'), ...measuresShape })),
    totals: measuresSchema.nullable().describe('Sums over the rows; null for groupBy=provider, whose rows overlap.'),
    rollup: z
      .object({ rolledThrough: z.string().nullable(), refreshedAt: z.string().nullable() })
      .describe('Whole days before rolledThrough are answered from the daily rollups; the rest, and days changed since refreshedAt, from the productions themselves.'),
  })
  .meta({ id: 'UsageReport' });

const instant = (field: string, example: string) =>
  z.string().max(40).optional().describe(`${field}: a date (midnight UTC) or a date-time with its zone, e.g. ${example}.`);

export const usageRoutes = (deps: { usage: UsageService }): FastifyPluginAsyncZod => async (app) => {
  app.get('/v1/usage', {
    schema: {
      tags: ['usage'],
      summary: 'Usage and cost of a period, grouped (JSON, or CSV with ?format=csv or Accept: text/csv)',
      description:
        'Counts by outcome, video minutes, render time, provider spend, processing cost, revenue and estimate vs actual, per group. Productions count in the period they were created in (UTC). ' +
        `CSV columns: ${usageCsvHeader('day').join(', ').replace(/^day/, '<groupBy>')}. A tenant sees its own productions; an operator every tenant's, or one named with tenantId.`,
      querystring: z.strictObject({
        from: instant('Start, inclusive (default: the 1st of the month of "to")', '2026-12-01'),
        to: instant('End, exclusive (default: now)', '2027-01-01'),
        groupBy: z.enum(USAGE_GROUPS, { error: `groupBy must be one of ${USAGE_GROUPS.join(', ')}` }).default('day'),
        tenantId: z.string().min(1).max(100).optional().describe("Operators: only this tenant. Others may leave it out or give their own."),
        format: z.enum(['json', 'csv'], { error: 'format must be json or csv' }).optional().describe('csv streams text/csv (default: json, or csv when Accept asks for text/csv).'),
      }),
      response: {
        200: {
          description: 'The usage report.',
          content: {
            'application/json': { schema: usageReportSchema },
            'text/csv': { schema: z.string().describe('A header line, then one line per group (RFC 4180, CRLF).') },
          },
        },
        ...errors,
      },
    },
  }, async (request, reply) => {
    const { from, to, groupBy, format } = request.query;
    const range = usageRange(from, to);
    const who = principal(request);
    // A tenant always sees its own; an operator everything unless it names a tenant.
    const tenantId = request.query.tenantId !== undefined ? actingTenant(request, request.query.tenantId) : isOperator(who) ? undefined : who.tenantId;
    const report = await deps.usage.report({ ...range, groupBy, tenantId });
    const csv = format === 'csv' || (format === undefined && /\btext\/csv\b/.test(request.headers.accept ?? ''));
    if (!csv) return reply.type('application/json').send(report);
    // Piped as it is produced; the type provider only knows the schema's string for text/csv.
    const name = `usage-${groupBy}-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}.csv`;
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(usageCsvStream(report) as unknown as string);
  });
};
