/** Database rows → the API's Production shape (contract/production.ts). */
import type { Production } from '../contract/production.js';
import type { OutputRow, ProductionRow, StageRunRow } from '../db/productions.repository.js';

interface QaStored {
  passed: boolean;
  checks: { name: string; hard: boolean; passed: boolean }[];
  measurements: Record<string, unknown>;
}
interface CostStored {
  totalUsd: number;
  quality?: string;
  stages: Record<string, unknown>[];
  estimate?: { totalUsd: number } | null;
  varianceUsd?: number;
  byStage?: Production['cost'] extends infer C ? (C extends { byStage: infer B } ? B : never) : never;
  attributions?: { source: string; author?: string; url?: string; licence: string }[];
}

export function links(id: string): Production['links'] {
  const self = `/v1/productions/${id}`;
  return { self, events: `${self}/events`, storyboard: `${self}/storyboard` };
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toProduction(row: ProductionRow, stages: StageRunRow[], outputs: (OutputRow & { url: string })[]): Production {
  const qa = row.qa as QaStored | null;
  const cost = row.cost as CostStored | null;
  const brief = row.brief as { title?: string };
  const storyboard = row.storyboard as { title?: string } | null;
  return {
    id: row.id,
    status: row.status,
    stage: row.stage,
    progress: Math.round(row.progress * 10) / 10,
    attempts: row.attempts,
    title: storyboard?.title ?? brief.title ?? null,
    review: row.review,
    approvedAt: iso(row.approvedAt),
    cancelReason: row.cancelReason,
    metadata: row.metadata,
    priority: row.priority,
    webhookUrl: row.webhookUrl,
    error: row.error ? { code: row.error.code, message: row.error.message } : null,
    stages: stages.map((s) => ({
      stage: s.stage,
      attempt: s.attempt,
      status: s.status,
      startedAt: s.startedAt.toISOString(),
      finishedAt: iso(s.finishedAt),
      wallSec: s.wallSec,
      cachedUnits: s.cachedUnits,
      totalUnits: s.totalUnits,
    })),
    outputs: outputs.map((o) => ({ name: o.name, kind: o.kind, mime: o.mime, bytes: o.bytes, durationSec: o.durationSec, url: o.url })),
    qa: qa ? { passed: qa.passed, failed: qa.checks.filter((c) => c.hard && !c.passed).map((c) => c.name), measurements: qa.measurements } : null,
    cost: cost
      ? {
          totalUsd: cost.totalUsd,
          estimatedUsd: cost.estimate?.totalUsd ?? null,
          varianceUsd: cost.varianceUsd ?? 0,
          ...(cost.quality ? { quality: cost.quality } : {}),
          stages: cost.stages,
          byStage: cost.byStage ?? [],
          attributions: cost.attributions ?? [],
        }
      : null,
    fallbacks: row.fallbacks ?? [],
    experiments: row.experiments ?? {},
    durationSec: row.durationSec,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    links: links(row.id),
  };
}
