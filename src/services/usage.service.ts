/**
 * Usage and cost analytics (GET /v1/usage, `aiprod usage`): per day, week, month, tier, tenant,
 * template, provider or aspect ratio — productions by outcome, video minutes, render time,
 * provider spend, processing cost, revenue, and the estimate against the actual cost.
 *
 * Scale comes from daily rollups (usage_daily, usage_daily_providers), refreshed by a periodic
 * job (`refresh`). Answers stay exact: a query sums the rollups of the whole UTC days they cover
 * and reads from productions (a) what is not rolled up yet — the days from rolled_through on and
 * the partial days at the edges of the range — and (b) every rolled-up day holding a production
 * that changed since the refresh (a failure retried into a success, a render finishing), found
 * through productions.updated_at. The refresh re-rolls those days. docs/usage.md.
 */
import { Readable } from 'node:stream';
import { AppError } from '../contract/errors.js';
import { PRODUCTION_STATUSES, type ProductionStatus } from '../contract/production.js';
import { executorFor, type Database, type SqlExecutor } from '../db/database.js';
import { csvLine } from '../lib/csv.js';
import { DAY, DIMENSION_COLUMNS, MEASURE_COLUMNS, productionFacts, SUM_MEASURES } from './usage.sql.js';

export const USAGE_GROUPS = ['day', 'week', 'month', 'tier', 'tenant', 'template', 'provider', 'aspect_ratio'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

/**
 * A change is seen through updated_at, which is the writing transaction's start time: a write that
 * commits after a refresh may carry a time before it. Changes this much older than the refresh
 * still count as changed after it — longer than any transaction that writes productions runs.
 */
export const IN_FLIGHT_MARGIN_SEC = 300;

/**
 * Besides one row per day and every dimension, the rollups hold coarser sums marked with `*` (no
 * tenant id, tier, template or frame shape can be `*`): each day summed over all tenants (tenant_id
 * `*`), which an operator's query over every tenant reads; and in usage_daily each day per tenant
 * and status only (tier, template and aspect_ratio `*`), which grouping by tenant, or by period for
 * one tenant, reads. Each query reads the fewest rows that answer it.
 */
export const ANY = '*';

/** Which rollup rows answer a query (see ANY). */
function rolledRows(groupBy: UsageGroup, tenantFilter: string | undefined): string {
  const perTenant = groupBy === 'tenant' || (tenantFilter !== undefined && (groupBy === 'day' || groupBy === 'week' || groupBy === 'month'));
  if (perTenant) return `u.tier = '${ANY}'${tenantFilter ? ` and ${tenantFilter}` : ''}`;
  if (tenantFilter) return `${tenantFilter} and u.tier <> '${ANY}'`;
  return `u.tenant_id = '${ANY}'`;
}

const DAY_MS = 86_400_000;
/** The longest range one query may cover (ten years). */
export const MAX_RANGE_DAYS = 3660;

export interface UsageQuery {
  from: Date;
  to: Date;
  groupBy: UsageGroup;
  /** Only this tenant's productions; undefined: every tenant's (operators only: the caller decides). */
  tenantId?: string;
}

export interface UsageMeasures {
  /** Productions created in the range (for groupBy=provider: those whose cost report names the provider). */
  productions: number;
  outcomes: Record<ProductionStatus, number>;
  /** Minutes of video delivered (succeeded productions). */
  videoMinutes: number;
  /** Wall seconds of rendering (the stages of each production's last attempt). */
  renderSec: number;
  /** What the providers billed (groupBy=provider: that provider's lines only). */
  providerSpendUsd: number;
  /** Providers plus CPU time at COMPUTE_USD_PER_CPU_HOUR. */
  processingCostUsd: number;
  /** What tenants were charged. */
  revenueUsd: number;
  /** revenueUsd − processingCostUsd. */
  marginUsd: number;
  /** Productions with both an estimate at creation and a cost report, and the two totals over them. */
  estimate: { productions: number; estimatedUsd: number; actualUsd: number; varianceUsd: number };
}

export interface UsageRow extends UsageMeasures {
  key: string;
}

export interface UsageReport {
  from: string;
  to: string;
  groupBy: UsageGroup;
  tenantId: string | null;
  rows: UsageRow[];
  /** Sums over the rows; null for groupBy=provider, whose rows overlap (a production uses several providers). */
  totals: UsageMeasures | null;
  /** Days before rolledThrough come from the rollups as of refreshedAt (null: never refreshed). */
  rollup: { rolledThrough: string | null; refreshedAt: string | null };
}

export interface RefreshResult {
  /** Days (re)computed: new complete days and days whose productions changed. */
  days: number;
  rolledThrough: string;
  seconds: number;
}

const KEYS: Record<UsageGroup, string> = {
  day: `to_char(day, 'YYYY-MM-DD')`,
  week: `to_char(date_trunc('week', day), 'YYYY-MM-DD')`,
  month: `to_char(day, 'YYYY-MM')`,
  tier: 'tier',
  tenant: 'tenant_id',
  template: 'template',
  provider: 'provider',
  aspect_ratio: 'aspect_ratio',
};

const startOfDay = (at: Date): Date => new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
const round = (n: number, digits = 6): number => Math.round(n * 10 ** digits) / 10 ** digits;
const iso = (value: unknown): string | null => (value === null || value === undefined ? null : value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString());

/** Checks a range: from before to, at most MAX_RANGE_DAYS; the error names the field to fix. */
export function checkRange(from: Date, to: Date, names = { from: 'from', to: 'to' }): void {
  if (!(from.getTime() < to.getTime())) throw new AppError('invalid_request', `${names.from} (${from.toISOString()}) must be before ${names.to} (${to.toISOString()})`, { details: [{ path: names.to, message: `give a ${names.to} after ${names.from} (${names.to} is exclusive)` }] });
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) throw new AppError('invalid_request', `the range is longer than ${MAX_RANGE_DAYS} days`, { details: [{ path: names.from, message: `ask for at most ${MAX_RANGE_DAYS} days at a time` }] });
}

function emptyMeasures(): UsageMeasures {
  return {
    productions: 0,
    outcomes: Object.fromEntries(PRODUCTION_STATUSES.map((s) => [s, 0])) as Record<ProductionStatus, number>,
    videoMinutes: 0, renderSec: 0, providerSpendUsd: 0, processingCostUsd: 0, revenueUsd: 0, marginUsd: 0,
    estimate: { productions: 0, estimatedUsd: 0, actualUsd: 0, varianceUsd: 0 },
  };
}

type SumRow = Record<(typeof MEASURE_COLUMNS)[number], number> & { key: string; status: string };

function add(into: UsageMeasures, r: SumRow): void {
  into.productions += Number(r.productions);
  if ((PRODUCTION_STATUSES as readonly string[]).includes(r.status)) into.outcomes[r.status as ProductionStatus] += Number(r.productions);
  into.videoMinutes += Number(r.video_sec) / 60;
  into.renderSec += Number(r.render_sec);
  into.providerSpendUsd += Number(r.provider_usd);
  into.processingCostUsd += Number(r.processing_usd);
  into.revenueUsd += Number(r.revenue_usd);
  into.estimate.productions += Number(r.compared);
  into.estimate.estimatedUsd += Number(r.estimated_usd);
  into.estimate.actualUsd += Number(r.actual_usd);
}

function finish<T extends UsageMeasures>(m: T): T {
  const estimatedUsd = round(m.estimate.estimatedUsd);
  const actualUsd = round(m.estimate.actualUsd);
  return {
    ...m,
    videoMinutes: round(m.videoMinutes, 4),
    renderSec: round(m.renderSec, 3),
    providerSpendUsd: round(m.providerSpendUsd),
    processingCostUsd: round(m.processingCostUsd),
    revenueUsd: round(m.revenueUsd),
    marginUsd: round(m.revenueUsd - m.processingCostUsd),
    estimate: { productions: m.estimate.productions, estimatedUsd, actualUsd, varianceUsd: round(actualUsd - estimatedUsd) },
  };
}

export class UsageService {
  constructor(private readonly database: Database) {}

  private async q<T>(text: string, values: unknown[] = [], executor: SqlExecutor = this.database): Promise<T[]> {
    return (await executor.executeSql(text, values)).rows as T[];
  }

  /** The usage of [from, to) grouped by `groupBy`: rollups for the settled days, productions for the rest. */
  async report(query: UsageQuery): Promise<UsageReport> {
    checkRange(query.from, query.to);
    return this.answer(query, 'rollup');
  }

  /** The same answer computed from productions alone (the benchmark's baseline, and tests' reference). */
  async reportFromProductions(query: UsageQuery): Promise<UsageReport> {
    checkRange(query.from, query.to);
    return this.answer(query, 'productions');
  }

  private async answer(query: UsageQuery, source: 'rollup' | 'productions'): Promise<UsageReport> {
    const byProvider = query.groupBy === 'provider';
    const [state] = await this.q<{ rt: string; ra: Date | string }>(`select rolled_through::text as rt, refreshed_at as ra from usage_rollup_state where id = 1`);
    // Never refreshed (or the baseline): nothing is rolled up, everything is read live.
    const rolled = source === 'rollup' && state ? { through: new Date(`${state.rt}T00:00:00Z`), at: new Date(state.ra) } : { through: new Date(0), at: new Date(0) };
    // The whole UTC days inside [from, to); none when the range lies within one day.
    let fullFrom = new Date(startOfDay(new Date(query.from.getTime() + DAY_MS - 1)));
    let fullTo = startOfDay(query.to);
    if (fullFrom >= fullTo) fullFrom = fullTo = query.from;
    const values: unknown[] = [query.from.toISOString(), query.to.toISOString(), fullFrom.toISOString(), fullTo.toISOString(), rolled.through.toISOString(), rolled.at.toISOString(), IN_FLIGHT_MARGIN_SEC];
    let tenant = (_alias: string): string => 'true';
    if (query.tenantId !== undefined) {
      values.push(query.tenantId);
      tenant = (alias) => `${alias}.tenant_id = $${values.length}`;
    }
    const rolledTenant = rolledRows(query.groupBy, query.tenantId === undefined ? undefined : tenant('u'));
    const table = byProvider ? 'usage_daily_providers' : 'usage_daily';
    const columns = [...DIMENSION_COLUMNS, ...(byProvider ? ['provider'] : []), ...MEASURE_COLUMNS].join(', ');
    // $1 from, $2 to, $3/$4 the whole days, $5 rolled_through, $6 refreshed_at, $7 the margin.
    const sql = `
      with dirty as (
        select distinct ${DAY} as day from productions p
         where p.updated_at > $6::timestamptz - make_interval(secs => $7::int)
           and p.created_at >= $3::timestamptz and p.created_at < least($4::timestamptz, $5::timestamptz) and ${tenant('p')}
      ),
      facts as (
        select ${columns} from ${table} u
         where u.day >= ($3::timestamptz at time zone 'utc')::date and u.day < ($4::timestamptz at time zone 'utc')::date
           and u.day < ($5::timestamptz at time zone 'utc')::date and u.day not in (select day from dirty) and ${rolledTenant}
        union all
        ${productionFacts(byProvider, 'productions p', `p.created_at >= greatest($1::timestamptz, $5::timestamptz) and p.created_at < $2::timestamptz and ${tenant('p')}`)}
        union all
        ${productionFacts(byProvider, 'productions p', `p.created_at >= $1::timestamptz and p.created_at < least($3::timestamptz, $5::timestamptz) and ${tenant('p')}`)}
        union all
        ${productionFacts(byProvider, 'productions p', `p.created_at >= greatest($4::timestamptz, $1::timestamptz) and p.created_at < least($2::timestamptz, $5::timestamptz) and ${tenant('p')}`)}
        union all
        ${productionFacts(byProvider, `dirty d join productions p on p.created_at >= (d.day::timestamp at time zone 'utc') and p.created_at < ((d.day + 1)::timestamp at time zone 'utc')`, tenant('p'))}
      )
      select ${KEYS[query.groupBy]} as key, status, ${SUM_MEASURES} from facts group by 1, 2 order by 1, 2`;
    const sums = await this.database.db.transaction(async (tx) => {
      const exec = executorFor(tx);
      // The planner cannot know how few productions the changed days hold and guesses millions, so
      // PostgreSQL would compile the statement with LLVM first: 2 s of JIT for 20 ms of work.
      await exec.executeSql('set local jit = off');
      return this.q<SumRow>(sql, values, exec);
    });
    const rows = new Map<string, UsageRow>();
    const totals = emptyMeasures();
    for (const r of sums) {
      const key = String(r.key);
      const row = rows.get(key) ?? { key, ...emptyMeasures() };
      rows.set(key, row);
      add(row, r);
      add(totals, r);
    }
    return {
      from: query.from.toISOString(),
      to: query.to.toISOString(),
      groupBy: query.groupBy,
      tenantId: query.tenantId ?? null,
      rows: [...rows.values()].map(finish),
      totals: byProvider ? null : finish(totals),
      rollup: { rolledThrough: state?.rt ?? null, refreshedAt: iso(state?.ra) },
    };
  }

  /**
   * Rolls up every complete UTC day not rolled up yet, and rolls up again each day holding a
   * production changed since the last refresh. One transaction: a query sees the old rollups or
   * the new ones, never half. Safe to run from several processes (the state row is locked).
   */
  async refresh(): Promise<RefreshResult> {
    const started = performance.now();
    return this.database.db.transaction(async (tx) => {
      const exec = executorFor(tx);
      // The first refresh starts at the oldest production's day.
      await this.q(
        `insert into usage_rollup_state (id, rolled_through, refreshed_at)
         select 1, coalesce((select (min(created_at) at time zone 'utc')::date from productions), (now() at time zone 'utc')::date), 'epoch'::timestamptz
         on conflict (id) do nothing`, [], exec);
      const [state] = await this.q<{ rt: string; ra: Date | string; today: string }>(
        `select rolled_through::text as rt, refreshed_at as ra, (now() at time zone 'utc')::date::text as today from usage_rollup_state where id = 1 for update`, [], exec);
      if (!state) throw new AppError('internal', 'usage_rollup_state has no row after inserting it');
      const changed = await this.q<{ day: string }>(
        `select distinct ${DAY}::text as day from productions p
          where p.updated_at > $1::timestamptz - make_interval(secs => $2::int) and p.created_at < ($3::date::timestamp at time zone 'utc')`,
        [new Date(state.ra).toISOString(), IN_FLIGHT_MARGIN_SEC, state.rt], exec);
      const through = state.today > state.rt ? state.today : state.rt;
      const ranges = [...changed.map((c) => ({ s: c.day, e: nextDay(c.day) })), ...(through > state.rt ? [{ s: state.rt, e: through }] : [])];
      const days = changed.length + Math.round((Date.parse(`${through}T00:00:00Z`) - Date.parse(`${state.rt}T00:00:00Z`)) / DAY_MS);
      if (ranges.length > 0) {
        const json = JSON.stringify(ranges);
        const within = `jsonb_to_recordset($1::jsonb) as rg(s date, e date) join productions p on p.created_at >= (rg.s::timestamp at time zone 'utc') and p.created_at < (rg.e::timestamp at time zone 'utc')`;
        for (const [table, byProvider] of [['usage_daily', false], ['usage_daily_providers', true]] as const) {
          const dimList = [...DIMENSION_COLUMNS, ...(byProvider ? ['provider'] : [])];
          const dims = dimList.join(', ');
          await this.q(`delete from ${table} u using jsonb_to_recordset($1::jsonb) as r(s date, e date) where u.day >= r.s and u.day < r.e`, [json], exec);
          // Every dimension, all tenants (tenant_id ANY) and, in usage_daily, per tenant and status
          // (ANY for the rest), in one pass. The coarse rows are written after the detailed ones, in
          // day order, so they sit together in the table: a query reads a few pages of them.
          const sets = [`(${dims})`, `(${dimList.filter((d) => d !== 'tenant_id').join(', ')})`, ...(byProvider ? [] : ['(day, tenant_id, status)'])];
          await this.q(
            `insert into ${table} (${dims}, ${MEASURE_COLUMNS.join(', ')})
             select ${dimList.map((d) => (d === 'day' || d === 'status' || d === 'provider' ? d : `coalesce(${d}, '${ANY}') as ${d}`)).join(', ')}, ${SUM_MEASURES}
               from (${productionFacts(byProvider, within, 'true')}) f
              group by grouping sets (${sets.join(', ')})
              order by grouping(tenant_id, tier), day`,
            [json], exec);
        }
      }
      await this.q(`update usage_rollup_state set rolled_through = $1::date, refreshed_at = now() where id = 1`, [through], exec);
      return { days, rolledThrough: through, seconds: round((performance.now() - started) / 1000, 3) };
    });
  }
}

const nextDay = (day: string): string => new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);

/** The CSV columns, in order (docs/usage.md lists them). */
export function usageCsvHeader(groupBy: UsageGroup): string[] {
  return [
    groupBy, 'productions', ...PRODUCTION_STATUSES, 'video_minutes', 'render_sec', 'provider_spend_usd', 'processing_cost_usd', 'revenue_usd', 'margin_usd',
    'estimate_productions', 'estimated_usd', 'actual_usd', 'variance_usd',
  ];
}

function* csvLines(report: UsageReport): Generator<string> {
  yield csvLine(usageCsvHeader(report.groupBy));
  for (const r of report.rows) {
    yield csvLine([
      r.key, r.productions, ...PRODUCTION_STATUSES.map((s) => r.outcomes[s]), r.videoMinutes, r.renderSec, r.providerSpendUsd, r.processingCostUsd, r.revenueUsd, r.marginUsd,
      r.estimate.productions, r.estimate.estimatedUsd, r.estimate.actualUsd, r.estimate.varianceUsd,
    ]);
  }
}

/** The report as CSV, one line at a time (a stream, never one string of the whole table). */
export const usageCsvStream = (report: UsageReport): Readable => Readable.from(csvLines(report), { objectMode: false });

/**
 * A query's from or to: a date (midnight UTC) or a date-time with a zone. `field` names the
 * parameter (or CLI flag) in the error.
 */
export function parseInstant(text: string, field: string): Date {
  const ok = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(text);
  const at = new Date(/T/.test(text) ? text : `${text}T00:00:00Z`);
  if (!ok || Number.isNaN(at.getTime()) || (!/T/.test(text) && at.toISOString().slice(0, 10) !== text)) {
    throw new AppError('invalid_request', `${field} is not a date: ${JSON.stringify(text)}`, { details: [{ path: field, message: 'write a date like 2026-12-01 (midnight UTC) or a date-time with its zone like 2026-12-01T12:00:00Z' }] });
  }
  return at;
}

/** from/to as given, or this UTC month so far: from the 1st of the month (of `to`) to now. */
export function usageRange(from: string | undefined, to: string | undefined, names = { from: 'from', to: 'to' }, now = new Date()): { from: Date; to: Date } {
  const end = to === undefined ? now : parseInstant(to, names.to);
  const last = new Date(end.getTime() - 1);
  const start = from === undefined ? new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth(), 1)) : parseInstant(from, names.from);
  checkRange(start, end, names);
  return { from: start, to: end };
}
