/**
 * What the exports hold (docs/exports.md): a production as a JSON document, its cost lines and the
 * one-row summary as CSV, and the entries of its zip. Pure builders over database rows; the
 * exports service reads the rows and the stored files and decides where the bytes go.
 */
import { createHash } from 'node:crypto';
import type { Production } from '../contract/production.js';
import type { OutputRow, ProductionRow } from '../db/productions.repository.js';
import { csvLine } from '../lib/csv.js';
import type { ZipEntry } from '../lib/zip-stream.js';
import type { CostReport } from '../pipeline/cost.js';
import { RENDER_PRICE_ID } from '../pipeline/estimate.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
/** Money to the micro-dollar, as the render handler rounds it: no 0.30000000000000004 in a ledger. */
const usd = (n: number): number => Math.round(n * 1e6) / 1e6;
const pretty = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

const costOf = (row: ProductionRow): CostReport | null => (row.cost as CostReport | null) ?? null;

/** What providers billed for the production (every cost line but the operator's own charge). */
function vendorUsd(cost: CostReport | null): number | null {
  return cost ? usd(cost.stages.filter((r) => r.provider !== RENDER_PRICE_ID).reduce((sum, r) => sum + r.usd, 0)) : null;
}

/** What the tenant was charged: the stored revenue, or the operator's render line of the cost report. */
function chargedUsd(row: ProductionRow): number | null {
  if (row.revenueUsd !== null) return row.revenueUsd;
  const cost = costOf(row);
  return cost ? usd(cost.stages.filter((r) => r.provider === RENDER_PRICE_ID).reduce((sum, r) => sum + r.usd, 0)) : null;
}

const titleOf = (row: ProductionRow): string | null =>
  (row.storyboard as { title?: string } | null)?.title ?? (row.brief as { title?: string }).title ?? null;

/** The bulk CSV: one row per production, what an accountant reconciles a period with. */
export const PRODUCTION_COLUMNS = [
  'production_id',
  'tenant_id',
  'tier',
  'status',
  'created_at',
  'started_at',
  'finished_at',
  'title',
  'aspect_ratio',
  'video_minutes',
  'render_sec',
  'attempts',
  'estimated_usd',
  'vendor_cost_usd',
  'processing_cost_usd',
  'charged_usd',
  'margin_usd',
  'error_code',
  'metadata',
] as const;

export function productionRow(row: ProductionRow): unknown[] {
  const cost = costOf(row);
  const charged = chargedUsd(row);
  const renderSec = row.startedAt && row.finishedAt ? Math.round((row.finishedAt.getTime() - row.startedAt.getTime()) / 100) / 10 : null;
  return [
    row.id,
    row.tenantId,
    row.tier,
    row.status,
    iso(row.createdAt),
    iso(row.startedAt),
    iso(row.finishedAt),
    titleOf(row),
    row.aspectRatio,
    row.durationSec === null ? null : Math.round((row.durationSec / 60) * 1e4) / 1e4,
    renderSec,
    row.attempts,
    row.estimatedUsd ?? cost?.estimate?.totalUsd ?? null,
    vendorUsd(cost),
    row.processingCostUsd,
    charged,
    charged !== null && row.processingCostUsd !== null ? usd(charged - row.processingCostUsd) : null,
    row.error?.code ?? null,
    Object.keys(row.metadata).length > 0 ? row.metadata : null,
  ];
}

/**
 * The cost-lines CSV: one row per line of the cost report. `kind` is `vendor` (what a provider
 * billed, offline ones at 0), `charge` (what the operator charged the tenant: revenue, not cost)
 * or `compute` (the production's CPU time at COMPUTE_USD_PER_CPU_HOUR, one line, when priced).
 */
export const COST_LINE_COLUMNS = [
  'production_id',
  'tenant_id',
  'finished_at',
  'kind',
  'stage',
  'provider',
  'usage',
  'unit_price_usd',
  'amount_usd',
  'estimated_usd',
  'cached_units',
  'cpu_sec',
  'wall_sec',
] as const;

export function costLines(row: ProductionRow): unknown[][] {
  const cost = costOf(row);
  if (!cost) return [];
  const head = [row.id, row.tenantId, iso(row.finishedAt)];
  const estimated = (stage: string, provider: string): number | null => {
    const lines = cost.estimate?.lines.filter((l) => l.stage === stage && l.provider === provider) ?? [];
    return lines.length > 0 ? usd(lines.reduce((sum, l) => sum + l.usd, 0)) : null;
  };
  const lines: unknown[][] = cost.stages.map((r) => [
    ...head,
    r.provider === RENDER_PRICE_ID ? 'charge' : 'vendor',
    r.stage,
    r.provider,
    // The operator's charge bills what it counts (video minutes), recorded as its units.
    Object.entries(r.provider === RENDER_PRICE_ID ? r.units : r.usage).map(([unit, n]) => `${unit}=${n}`).join(' ') || null,
    r.unitPriceUsd,
    usd(r.usd),
    estimated(r.stage, r.provider),
    r.cachedUnits,
    r.cpuSec,
    r.wallSec,
  ]);
  const vendors = vendorUsd(cost) ?? 0;
  if (row.processingCostUsd !== null) lines.push([...head, 'compute', null, null, null, null, usd(row.processingCostUsd - vendors), null, null, cost.totalCpuSec, null]);
  return lines;
}

/** A CSV file of `columns` and `rows` (CRLF line ends, formula-safe cells). */
export const csvFile = (columns: readonly string[], rows: unknown[][]): string => csvLine(columns) + rows.map(csvLine).join('');

/** GET /v1/productions/{id}/export?format=json: the production as the API shows it, with everything it was made from and measured by. */
export function productionDocument(row: ProductionRow, view: Production, exportedAt: Date): Record<string, unknown> {
  return { exportedAt: exportedAt.toISOString(), production: view, brief: row.brief, storyboard: row.storyboard ?? null, qa: row.qa ?? null, cost: row.cost ?? null };
}

/** One production in a bulk JSON export (and a line of a bulk zip's productions.jsonl): the CSV's facts plus its documents and outputs. */
export function productionRecord(row: ProductionRow, outputs: OutputRow[]): Record<string, unknown> {
  return {
    id: row.id,
    tenantId: row.tenantId,
    tier: row.tier,
    status: row.status,
    title: titleOf(row),
    createdAt: iso(row.createdAt),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    durationSec: row.durationSec,
    aspectRatio: row.aspectRatio,
    attempts: row.attempts,
    metadata: row.metadata,
    error: row.error ? { code: row.error.code, message: row.error.message } : null,
    estimatedUsd: row.estimatedUsd,
    processingCostUsd: row.processingCostUsd,
    chargedUsd: chargedUsd(row),
    outputs: outputs.map((o) => ({ name: o.name, kind: o.kind, mime: o.mime, bytes: o.bytes, durationSec: o.durationSec })),
    brief: row.brief,
    storyboard: row.storyboard ?? null,
    qa: row.qa ?? null,
    cost: row.cost ?? null,
  };
}

/** A stored output as a zip entry reads it: its size now in storage, and how to open it. */
export interface StoredFile {
  name: string;
  bytes: number;
  open: () => Promise<AsyncIterable<Uint8Array>>;
}

export interface ManifestFile {
  name: string;
  bytes: number;
  sha256: string;
}

/**
 * Passes a stored file through, hashing it, and fails when it ends short of or runs past `bytes`
 * (the object changed after it was measured): an archive must not hold half a video silently.
 */
async function* hashed(source: AsyncIterable<Uint8Array>, file: StoredFile, done: (entry: ManifestFile) => void): AsyncGenerator<Uint8Array> {
  const hash = createHash('sha256');
  let seen = 0;
  for await (const chunk of source) {
    seen += chunk.length;
    if (seen > file.bytes) throw new Error(`stored output ${file.name} has more than the ${file.bytes} bytes measured`);
    hash.update(chunk);
    yield chunk;
  }
  if (seen !== file.bytes) throw new Error(`stored output ${file.name} ended after ${seen} of ${file.bytes} bytes`);
  done({ name: file.name, bytes: seen, sha256: hash.digest('hex') });
}

/**
 * The entries of one production's zip: production.json, storyboard.json, qa.json, cost.json,
 * cost-lines.csv, every stored output under outputs/, and manifest.json last, with the size and
 * SHA-256 of each file (hashed as it went into the archive, so nothing is read twice).
 */
export async function* productionZipEntries(row: ProductionRow, view: Production, files: StoredFile[], exportedAt: Date): AsyncGenerator<ZipEntry> {
  const manifest: ManifestFile[] = [];
  const text = (name: string, body: string): ZipEntry => {
    manifest.push({ name, bytes: Buffer.byteLength(body), sha256: createHash('sha256').update(body).digest('hex') });
    return { name, text: body };
  };
  yield text('production.json', pretty(productionDocument(row, view, exportedAt)));
  yield text('storyboard.json', pretty(row.storyboard ?? null));
  yield text('qa.json', pretty(row.qa ?? null));
  yield text('cost.json', pretty(row.cost ?? null));
  yield text('cost-lines.csv', csvFile(COST_LINE_COLUMNS, costLines(row)));
  for (const file of files) {
    const name = `outputs/${file.name}`;
    yield { name, bytes: file.bytes, open: async () => hashed(await file.open(), { ...file, name }, (entry) => manifest.push(entry)) };
  }
  yield { name: 'manifest.json', text: pretty({ productionId: row.id, tenantId: row.tenantId, exportedAt: exportedAt.toISOString(), files: manifest }) };
}
