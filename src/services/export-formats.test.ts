import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { strFromU8, unzipSync } from 'fflate';
import type { Production } from '../contract/production.js';
import type { ProductionRow } from '../db/productions.repository.js';
import { csvLine } from '../lib/csv.js';
import { zipStream } from '../lib/zip-stream.js';
import type { CostReport } from '../pipeline/cost.js';
import { COST_LINE_COLUMNS, costLines, csvFile, PRODUCTION_COLUMNS, productionRow, productionZipEntries } from './export-formats.js';

const cost: CostReport = {
  currency: 'USD',
  totalUsd: 1.75,
  totalCpuSec: 36,
  stages: [
    { stage: 'narrate', provider: 'elevenlabs', units: { characters: 800 }, usage: { characters: 800 }, unitPriceUsd: 0.0003, usd: 0.24, cpuSec: 1, wallSec: 4, cachedUnits: 0 },
    { stage: 'score', provider: 'procedural', units: { seconds: 30 }, usage: {}, unitPriceUsd: 0, usd: 0, cpuSec: 5, wallSec: 2, cachedUnits: 1 },
    { stage: 'render', provider: 'aiprod-render', units: { videoMinutes: 0.5 }, usage: {}, unitPriceUsd: 3, usd: 1.5, cpuSec: 0, wallSec: 0, cachedUnits: 0 },
  ],
  estimate: { totalUsd: 1.8, lines: [{ stage: 'narrate', provider: 'elevenlabs', usage: { characters: 900 }, usd: 0.27 }, { stage: 'render', provider: 'aiprod-render', usage: {}, usd: 1.5 }] },
  byStage: [],
  varianceUsd: -0.03,
  fallbacks: [],
  attributions: [],
};

function row(over: Partial<ProductionRow> = {}): ProductionRow {
  return {
    id: 'p1', tenantId: 'acme', status: 'succeeded', stage: 'qa', progress: 100, brief: { title: '+SUM(A1:A9)' }, storyboard: { title: 'Bees', scenes: [] }, review: false,
    approved: true, approvedAt: null, autoApproveSec: null, cancelReason: null, origin: null, webhookUrl: null, metadata: { campaign: 'spring' }, priority: 0, attempts: 2,
    uncountedAttempts: 0, error: null, qa: { passed: true, checks: [], measurements: {} }, cost, estimatedUsd: 1.8, timings: {}, durationSec: 30, fallbacks: [],
    workerId: null, heartbeatAt: null, cancelRequested: false, requeues: 0, stalls: 0, tier: 'pro', aspectRatio: '16:9', revenueUsd: 1.5, processingCostUsd: 0.2404,
    createdAt: new Date('2026-11-03T09:00:00Z'), updatedAt: new Date('2026-11-03T09:01:00Z'), startedAt: new Date('2026-11-03T09:00:01Z'), finishedAt: new Date('2026-11-03T09:00:43.5Z'),
    ...over,
  } as ProductionRow;
}

test('cost lines: vendors, the charge (revenue) and one compute line, with the estimate beside each', () => {
  const lines = costLines(row());
  const byColumn = lines.map((l) => Object.fromEntries(COST_LINE_COLUMNS.map((c, i) => [c, l[i]])));
  assert.deepEqual(byColumn.map((l) => [l.kind, l.stage, l.provider, l.amount_usd, l.estimated_usd]), [
    ['vendor', 'narrate', 'elevenlabs', 0.24, 0.27],
    ['vendor', 'score', 'procedural', 0, null],
    ['charge', 'render', 'aiprod-render', 1.5, 1.5],
    // processing 0.2404 = vendors 0.24 + 36 CPU seconds at the operator's compute price.
    ['compute', null, null, 0.0004, null],
  ]);
  assert.equal(byColumn[0]?.usage, 'characters=800');
  assert.equal(byColumn[1]?.usage, null, 'an offline provider bills nothing');
  assert.equal(byColumn[2]?.usage, 'videoMinutes=0.5', 'the charge shows what it counts');
  assert.equal(byColumn[3]?.cpu_sec, 36);
  // No cost report (a production canceled before rendering): no lines; no processing cost: no compute line.
  assert.deepEqual(costLines(row({ cost: null })), []);
  assert.equal(costLines(row({ processingCostUsd: null })).length, 3);
});

test('the production row: money reconciled (vendor, processing, charged, margin) and a formula defused', () => {
  const values = Object.fromEntries(PRODUCTION_COLUMNS.map((c, i) => [c, productionRow(row())[i]]));
  assert.equal(values.title, 'Bees', 'the storyboard\'s title wins over the brief\'s');
  assert.equal(values.video_minutes, 0.5);
  assert.equal(values.render_sec, 42.5);
  assert.equal(values.vendor_cost_usd, 0.24);
  assert.equal(values.processing_cost_usd, 0.2404);
  assert.equal(values.charged_usd, 1.5);
  assert.equal(values.margin_usd, 1.2596);
  assert.deepEqual(values.metadata, { campaign: 'spring' });
  const canceled = Object.fromEntries(PRODUCTION_COLUMNS.map((c, i) => [c, productionRow(row({ status: 'canceled', storyboard: null, cost: null, revenueUsd: null, processingCostUsd: null, startedAt: null, durationSec: null, tier: null }))[i]]));
  assert.equal(canceled.charged_usd, null);
  assert.equal(canceled.margin_usd, null);
  assert.equal(canceled.render_sec, null);
  assert.equal(csvLine([canceled.title]), `'+SUM(A1:A9)\r\n`, 'a spreadsheet shows the brief\'s title as text');
  assert.equal(csvFile(['a', 'b'], [[1, 'x,y']]), 'a,b\r\n1,"x,y"\r\n');
});

test('a production\'s zip: the documents, its outputs under outputs/, and a manifest of sizes and SHA-256', async () => {
  const video = Buffer.alloc(200_000, 7);
  const view = { id: 'p1', status: 'succeeded' } as Production;
  const files = [{ name: 'video.mp4', bytes: video.length, open: async () => (async function* () { yield video.subarray(0, 1000); yield video.subarray(1000); })() }];
  const chunks: Buffer[] = [];
  for await (const chunk of zipStream(productionZipEntries(row(), view, files, new Date('2026-11-04T00:00:00Z')))) chunks.push(chunk as Buffer);
  const zip = unzipSync(Buffer.concat(chunks));
  assert.deepEqual(Object.keys(zip), ['production.json', 'storyboard.json', 'qa.json', 'cost.json', 'cost-lines.csv', 'outputs/video.mp4', 'manifest.json']);
  assert.ok(Buffer.from(zip['outputs/video.mp4'] as Uint8Array).equals(video));
  const manifest = JSON.parse(strFromU8(zip['manifest.json'] as Uint8Array)) as { files: { name: string; bytes: number; sha256: string }[] };
  for (const f of manifest.files) assert.equal(f.sha256, createHash('sha256').update(zip[f.name] as Uint8Array).digest('hex'), f.name);
  assert.equal(manifest.files.find((f) => f.name === 'outputs/video.mp4')?.bytes, video.length);
});

test('a stored output that is shorter than measured fails the archive instead of truncating it', async () => {
  const files = [{ name: 'video.mp4', bytes: 5000, open: async () => (async function* () { yield Buffer.alloc(3000); })() }];
  const stream = zipStream(productionZipEntries(row(), { id: 'p1' } as Production, files, new Date()));
  await assert.rejects(async () => {
    for await (const _ of stream) void _;
  }, /ended after 3000 of 5000 bytes/);
});
