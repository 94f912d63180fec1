/**
 * The cost report: one record per stage and provider with its units, unit price and USD. Offline
 * providers cost nothing but still record what they did (characters, seconds, CPU), so a switch to
 * a paid provider can be estimated from the same numbers.
 */

export interface CostRecord {
  stage: string;
  provider: string;
  /** e.g. { characters: 812 } or { secondsRendered: 30 }. */
  units: Record<string, number>;
  /** USD per unit of the record's billing unit (the first key of `units`). */
  unitPriceUsd: number;
  usd: number;
  cpuSec: number;
  wallSec: number;
  /** Units re-used from the cache instead of produced. */
  cachedUnits: number;
}

export class CostLedger {
  private readonly records: CostRecord[] = [];

  add(record: Omit<CostRecord, 'usd'>): void {
    const billed = Object.values(record.units)[0] ?? 0;
    this.records.push({ ...record, usd: round6(billed * record.unitPriceUsd) });
  }

  all(): readonly CostRecord[] {
    return this.records;
  }

  report(): { currency: 'USD'; totalUsd: number; totalCpuSec: number; stages: CostRecord[] } {
    return {
      currency: 'USD',
      totalUsd: round6(this.records.reduce((s, r) => s + r.usd, 0)),
      totalCpuSec: Math.round(this.records.reduce((s, r) => s + r.cpuSec, 0) * 100) / 100,
      stages: [...this.records],
    };
  }
}

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;
