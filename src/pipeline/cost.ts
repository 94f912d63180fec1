/**
 * The cost report (cost.json): one record per stage and provider with what it did (`units`), what
 * the vendor billed (`usage`, priced from the render's price table into `usd`), CPU and wall time;
 * the estimate made once the plan was known, per stage and provider, and the variance between
 * them; the fallbacks the chains took; and the credits owed for stock media and sounds.
 *
 * Offline providers cost nothing but still record what they did (characters, seconds, CPU), so a
 * switch to a paid provider can be estimated from the same numbers. Cached units are free: a
 * re-render never pays twice for the same narration, clip or track.
 */
import type { QualityTier } from '../contract/brief.js';
import type { Fallback } from '../providers/chain.js';
import { costOf, pricesFor, type PriceTable } from '../providers/pricing.js';
import type { Usage } from '../providers/provider.js';
import type { Attribution } from '../providers/visuals/visual.port.js';

export interface CostRecord {
  stage: string;
  provider: string;
  /** What the stage did, e.g. { characters: 812 } or { secondsRendered: 30 }. */
  units: Record<string, number>;
  /** What the vendor billed, in its units (empty for offline providers and cache hits). */
  usage: Usage;
  /** USD per unit of the first billed unit (0 when nothing is billed). */
  unitPriceUsd: number;
  usd: number;
  cpuSec: number;
  wallSec: number;
  /** Units re-used from the cache instead of produced. */
  cachedUnits: number;
}

export interface EstimateLine {
  stage: string;
  provider: string;
  usage: Usage;
  usd: number;
}

export interface StageVariance {
  stage: string;
  /** Providers estimated and used, in that order, when they differ (a fallback). */
  providers: string[];
  estimatedUsd: number;
  actualUsd: number;
  /** actual − estimated. */
  varianceUsd: number;
}

export interface CostReport {
  currency: 'USD';
  quality?: QualityTier;
  totalUsd: number;
  totalCpuSec: number;
  stages: CostRecord[];
  /** Estimated once the plan was known, with the render's chains (null when no estimate was made). */
  estimate: { totalUsd: number; lines: EstimateLine[] } | null;
  byStage: StageVariance[];
  varianceUsd: number;
  fallbacks: Fallback[];
  attributions: Attribution[];
}

export class CostLedger {
  private readonly records: CostRecord[] = [];
  private readonly fallbacks: Fallback[] = [];
  private readonly attributions: Attribution[] = [];
  private estimate: EstimateLine[] | undefined;

  constructor(
    private readonly prices: PriceTable = {},
    private readonly quality?: QualityTier,
  ) {}

  add(record: Omit<CostRecord, 'usd' | 'unitPriceUsd' | 'usage'> & { usage?: Usage }): void {
    const usage = record.usage ?? {};
    const first = Object.keys(usage)[0] as keyof Usage | undefined;
    const unitPriceUsd = first ? (pricesFor(this.prices, record.provider)?.[first] ?? 0) : 0;
    this.records.push({ ...record, usage, unitPriceUsd, usd: costOf(this.prices, record.provider, usage) });
  }

  /** A charge in USD rather than in a vendor's units (the operator's own price per minute of video). */
  addCharge(stage: string, provider: string, units: Record<string, number>, unitPriceUsd: number): void {
    const billed = Object.values(units)[0] ?? 0;
    this.records.push({ stage, provider, units, usage: {}, unitPriceUsd, usd: Math.round(billed * unitPriceUsd * 1e6) / 1e6, cpuSec: 0, wallSec: 0, cachedUnits: 0 });
  }

  addFallback(fallback: Fallback): void {
    this.fallbacks.push(fallback);
  }

  addAttributions(list: readonly Attribution[]): void {
    for (const a of list) if (!this.attributions.some((b) => b.url === a.url && b.source === a.source && b.author === a.author)) this.attributions.push(a);
  }

  setEstimate(lines: EstimateLine[]): void {
    this.estimate = lines;
  }

  all(): readonly CostRecord[] {
    return this.records;
  }

  report(): CostReport {
    const totalUsd = round6(this.records.reduce((s, r) => s + r.usd, 0));
    const stages = [...new Set([...this.records.map((r) => r.stage), ...(this.estimate ?? []).map((l) => l.stage)])];
    const byStage = this.estimate
      ? stages.map((stage) => {
          const estimated = (this.estimate ?? []).filter((l) => l.stage === stage);
          const actual = this.records.filter((r) => r.stage === stage);
          const estimatedUsd = round6(estimated.reduce((s, l) => s + l.usd, 0));
          const actualUsd = round6(actual.reduce((s, r) => s + r.usd, 0));
          const providers = [...new Set([...estimated.map((l) => l.provider), ...actual.map((r) => r.provider)])];
          return { stage, providers, estimatedUsd, actualUsd, varianceUsd: round6(actualUsd - estimatedUsd) };
        })
      : [];
    const estimateTotal = this.estimate ? round6(this.estimate.reduce((s, l) => s + l.usd, 0)) : undefined;
    return {
      currency: 'USD',
      ...(this.quality ? { quality: this.quality } : {}),
      totalUsd,
      totalCpuSec: Math.round(this.records.reduce((s, r) => s + r.cpuSec, 0) * 100) / 100,
      stages: [...this.records],
      estimate: this.estimate && estimateTotal !== undefined ? { totalUsd: estimateTotal, lines: [...this.estimate] } : null,
      byStage,
      varianceUsd: estimateTotal === undefined ? 0 : round6(totalUsd - estimateTotal),
      fallbacks: [...this.fallbacks],
      attributions: [...this.attributions],
    };
  }
}

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;
