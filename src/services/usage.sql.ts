/**
 * The SQL of usage analytics (usage.service.ts), kept apart so the rollup and the live read share
 * one definition of every measure: a production's facts are computed by the same expressions
 * whether they go into usage_daily or are summed straight from productions.
 */
import { RENDER_PRICE_ID } from '../pipeline/estimate.js';

/** A production's UTC day: the unit of the rollups. */
export const DAY = `(p.created_at at time zone 'utc')::date`;

/**
 * The dimensions of one production. Tier and aspect ratio are recorded when it finishes; before
 * that, the tenant's tier and the brief's frame shape (default 16:9) stand in. The template is the
 * brief's own (it writes the scenes) or its design's (the look only).
 */
const DIMENSIONS = `${DAY} as day, p.tenant_id, coalesce(p.tier, t.tier, 'unknown') as tier,
  coalesce(p.brief->>'template', p.brief->'design'->>'template', 'none') as template,
  coalesce(p.aspect_ratio, p.brief->>'aspectRatio', '16:9') as aspect_ratio, p.status`;

/** Cost report lines from providers (the operator's own render charge is revenue, not spend). */
const PROVIDER_LINES = `jsonb_array_elements(case when jsonb_typeof(p.cost->'stages') = 'array' then p.cost->'stages' else '[]'::jsonb end) r
  where r->>'provider' <> '${RENDER_PRICE_ID}'`;

/** Whether the production has both an estimate and a cost report to compare it with. */
const COMPARED = `coalesce(p.estimated_usd is not null and jsonb_typeof(p.cost->'totalUsd') = 'number', false)`;

/** The measures of one production, before any sum; `providerUsd` is what the provider column holds. */
const measures = (providerUsd: string): string => `1 as productions,
  case when p.status = 'succeeded' then coalesce(p.duration_sec, 0)::float8 else 0 end as video_sec,
  coalesce((select sum(e.value::float8) from jsonb_each_text(case when jsonb_typeof(p.timings) = 'object' then p.timings else '{}'::jsonb end) e), 0) as render_sec,
  ${providerUsd} as provider_usd,
  coalesce(p.processing_cost_usd, 0)::float8 as processing_usd,
  coalesce(p.revenue_usd, 0)::float8 as revenue_usd,
  ${COMPARED}::int as compared,
  case when ${COMPARED} then p.estimated_usd::float8 else 0 end as estimated_usd,
  case when ${COMPARED} then (p.cost->>'totalUsd')::float8 else 0 end as actual_usd`;

export const MEASURE_COLUMNS = ['productions', 'video_sec', 'render_sec', 'provider_usd', 'processing_usd', 'revenue_usd', 'compared', 'estimated_usd', 'actual_usd'] as const;
export const DIMENSION_COLUMNS = ['day', 'tenant_id', 'tier', 'template', 'aspect_ratio', 'status'] as const;

/**
 * One row per production (or, `byProvider`, per production and provider in its cost report) with
 * its dimensions and measures, from `from` (which names productions `p`) restricted by `where`.
 */
export function productionFacts(byProvider: boolean, from: string, where: string): string {
  if (!byProvider) {
    const spend = `coalesce((select sum((r->>'usd')::float8) from ${PROVIDER_LINES}), 0)`;
    return `select ${DIMENSIONS}, ${measures(spend)}
      from ${from} left join tenants t on t.id = p.tenant_id
     where ${where}`;
  }
  return `select ${DIMENSIONS}, pr.provider, ${measures('pr.usd')}
      from ${from} left join tenants t on t.id = p.tenant_id
      cross join lateral (select r->>'provider' as provider, coalesce(sum((r->>'usd')::float8), 0) as usd from ${PROVIDER_LINES} group by 1) pr
     where ${where}`;
}

/** `sum(x) as x` for every measure (productions and compared as integers). */
export const SUM_MEASURES = MEASURE_COLUMNS.map((c) => (c === 'productions' || c === 'compared' ? `sum(${c})::int as ${c}` : `sum(${c})::float8 as ${c}`)).join(', ');
