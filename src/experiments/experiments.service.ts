/**
 * A/B experiments: which variants a new production gets (through the OpenFeature client, so any
 * provider — the flags file, flagd, a vendor — decides), and the report of how each variant did.
 *
 * Assignment runs on every create, inside the API's latency budget: the flags are evaluated in
 * memory by the provider, and the result rides on the production's own insert (no query of its
 * own). The report reads the productions table.
 */
import { ErrorCode, ProviderEvents, type Client } from '@openfeature/server-sdk';
import { sql, type SQL } from 'drizzle-orm';
import type { Brief } from '../contract/brief.js';
import type { ExperimentAssignments } from '../contract/production.js';
import type { AppDb } from '../db/database.js';
import { allows, CHOICES } from './choices.js';
import { twoProportionPValue } from './stats.js';

export interface ExperimentSubject {
  /** The production id: OpenFeature's targetingKey, hashed for percentage rollouts. */
  productionId: string;
  tenantId: string;
  /** The tenant's tier, when the caller knows it (rules that name tiers need it). */
  tier?: string;
}

export interface VariantReport {
  variant: string;
  value: string;
  /** Productions assigned the variant and rendered with it. */
  productions: number;
  /** Assigned, but the brief made the choice itself: not rendered with it, not counted below. */
  notApplied: number;
  succeeded: number;
  failed: number;
  canceled: number;
  /** Still queued, awaiting review or rendering. */
  unfinished: number;
  /** succeeded / (succeeded + failed); null with neither. */
  successRate: number | null;
  /** Two-proportion z-test of successRate against the control's (two-sided); null for the control or too few. */
  successRatePValue: number | null;
  medianRenderSec: number | null;
  /** Succeeded productions with both a start and a finish: the n of the median. */
  renderTimed: number;
  /** Real cost (providers + compute) per minute of video, over succeeded productions with a cost and a length. */
  costPerVideoMinuteUsd: number | null;
  costed: number;
  /** Review productions whose storyboard was approved / whose review ended (approved, or canceled in review). */
  approvalRate: number | null;
  approved: number;
  reviewed: number;
}

export interface ExperimentReport {
  flag: string;
  description: string | null;
  /** The variant the others are compared with: the one named "control", else the most assigned. */
  control: string | null;
  variants: VariantReport[];
}

/** Rows of the report query. */
interface Row {
  variant: string;
  value: string;
  applied: boolean;
  n: number;
  succeeded: number;
  failed: number;
  canceled: number;
  median_sec: number | null;
  timed: number;
  cost_usd: number | null;
  video_sec: number | null;
  costed: number;
  approved: number;
  reviewed: number;
}

const num = (v: unknown): number => Number(v ?? 0);
const orNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const round = (v: number, places: number): number => Math.round(v * 10 ** places) / 10 ** places;

export class ExperimentsService {
  /**
   * Flags the provider said it does not have. An evaluation through the SDK costs tens of
   * microseconds (hook contexts, an error object for a missing flag), and most servers run with
   * few or no flags: a missing flag is not asked for again until the provider reports a change.
   */
  private readonly missing = new Set<string>();

  constructor(
    private readonly deps: {
      db: AppDb;
      /** An OpenFeature client; its provider is the operator's choice (main/ wires the flags file). */
      flags: Client;
      log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
    },
  ) {
    const forget = (): void => this.missing.clear();
    deps.flags.addHandler(ProviderEvents.ConfigurationChanged, forget);
    deps.flags.addHandler(ProviderEvents.Ready, forget);
  }

  /**
   * The variants of every known choice (choices.ts) for a new production. A flag the provider does
   * not have, or that places the production in no variant, leaves it out; a variant whose value the
   * choice cannot take is logged and left out. `brief`: the brief as sent, to see which choices it
   * makes itself (those variants are stored as not applied).
   */
  async assign(subject: ExperimentSubject, brief: Brief): Promise<ExperimentAssignments> {
    const context = { targetingKey: subject.productionId, tenantId: subject.tenantId, ...(subject.tier ? { tier: subject.tier } : {}) };
    const out: ExperimentAssignments = {};
    const asked = CHOICES.filter((choice) => !this.missing.has(choice.key));
    const details = await Promise.all(asked.map((choice) => this.deps.flags.getStringDetails(choice.key, '', context)));
    asked.forEach((choice, i) => {
      const d = details[i];
      if (d?.errorCode === ErrorCode.FLAG_NOT_FOUND) this.missing.add(choice.key);
      if (!d || d.errorCode || d.variant === undefined) return;
      if (!allows(choice, d.value)) {
        this.deps.log?.('warn', `flag ${choice.key}: variant ${d.variant} is "${d.value}", which it cannot be; left out`, { flag: choice.key, variant: d.variant });
        return;
      }
      out[choice.key] = { variant: d.variant, value: d.value, applied: !choice.explicit(brief) };
    });
    return out;
  }

  /** Rows of a query, on PGlite and PostgreSQL alike (both drivers answer with `rows`). */
  private async query<T>(query: SQL): Promise<T[]> {
    return ((await this.deps.db.execute(query)) as unknown as { rows: T[] }).rows;
  }

  /** Every flag productions were assigned (of `tenantId`, or all for an operator), with how many. */
  async list(tenantId: string | undefined): Promise<{ flag: string; description: string | null; productions: number }[]> {
    const rows = await this.query<{ flag: string; n: number }>(sql`
      select e.key as flag, count(*)::int as n
      from productions p, jsonb_object_keys(p.experiments) as e(key)
      where p.experiments <> '{}'::jsonb ${tenantId ? sql`and p.tenant_id = ${tenantId}` : sql``}
      group by e.key order by e.key`);
    return rows.map((r) => ({ flag: r.flag, description: describe(r.flag), productions: num(r.n) }));
  }

  /** How each variant of `flag` did, over the productions of `tenantId` (all for an operator). */
  async report(flag: string, tenantId: string | undefined): Promise<ExperimentReport> {
    const e = sql`p.experiments -> ${flag}`;
    const succeededTimed = sql`p.status = 'succeeded' and p.started_at is not null and p.finished_at is not null`;
    const costed = sql`p.status = 'succeeded' and p.processing_cost_usd is not null and p.duration_sec > 0`;
    const reviewEnded = sql`p.review and (p.approved or (p.status = 'canceled' and p.storyboard is not null))`;
    const rows = await this.query<Row>(sql`
      select ${e} ->> 'variant' as variant, ${e} ->> 'value' as value, (${e} ->> 'applied')::boolean as applied,
        count(*)::int as n,
        count(*) filter (where p.status = 'succeeded')::int as succeeded,
        count(*) filter (where p.status = 'failed')::int as failed,
        count(*) filter (where p.status = 'canceled')::int as canceled,
        percentile_cont(0.5) within group (order by extract(epoch from p.finished_at - p.started_at)) filter (where ${succeededTimed}) as median_sec,
        count(*) filter (where ${succeededTimed})::int as timed,
        sum(p.processing_cost_usd) filter (where ${costed}) as cost_usd,
        sum(p.duration_sec) filter (where ${costed}) as video_sec,
        count(*) filter (where ${costed})::int as costed,
        count(*) filter (where ${reviewEnded} and p.approved)::int as approved,
        count(*) filter (where ${reviewEnded})::int as reviewed
      from productions p
      where p.experiments ? ${flag} ${tenantId ? sql`and p.tenant_id = ${tenantId}` : sql``}
      group by 1, 2, 3`);
    const byVariant = new Map<string, VariantReport>();
    for (const r of rows) {
      const v = byVariant.get(r.variant) ?? emptyVariant(r.variant, r.value);
      byVariant.set(r.variant, v);
      if (!r.applied) {
        v.notApplied += num(r.n);
        continue;
      }
      const medianSec = orNull(r.median_sec);
      v.productions = num(r.n);
      v.succeeded = num(r.succeeded);
      v.failed = num(r.failed);
      v.canceled = num(r.canceled);
      v.unfinished = v.productions - v.succeeded - v.failed - v.canceled;
      v.successRate = v.succeeded + v.failed > 0 ? round(v.succeeded / (v.succeeded + v.failed), 4) : null;
      v.medianRenderSec = medianSec === null ? null : round(medianSec, 2);
      v.renderTimed = num(r.timed);
      const videoSec = num(r.video_sec);
      v.costPerVideoMinuteUsd = videoSec > 0 ? round(num(r.cost_usd) / (videoSec / 60), 4) : null;
      v.costed = num(r.costed);
      v.approved = num(r.approved);
      v.reviewed = num(r.reviewed);
      v.approvalRate = v.reviewed > 0 ? round(v.approved / v.reviewed, 4) : null;
    }
    const variants = [...byVariant.values()].sort((a, b) => b.productions - a.productions || a.variant.localeCompare(b.variant));
    const control = variants.find((v) => v.variant === 'control') ?? variants[0];
    if (control) {
      for (const v of variants) {
        if (v === control) continue;
        const p = twoProportionPValue(control.succeeded, control.succeeded + control.failed, v.succeeded, v.succeeded + v.failed);
        v.successRatePValue = p === null ? null : round(p, 4);
      }
    }
    return { flag, description: describe(flag), control: control?.variant ?? null, variants };
  }
}

function describe(flag: string): string | null {
  return CHOICES.find((c) => c.key === flag)?.description ?? null;
}

function emptyVariant(variant: string, value: string): VariantReport {
  return {
    variant, value, productions: 0, notApplied: 0, succeeded: 0, failed: 0, canceled: 0, unfinished: 0,
    successRate: null, successRatePValue: null, medianRenderSec: null, renderTimed: 0,
    costPerVideoMinuteUsd: null, costed: 0, approvalRate: null, approved: 0, reviewed: 0,
  };
}
