/**
 * `aiprod usage` as an operator runs it (child processes on one embedded database, seeded by a
 * test service that is stopped first): the table with a refresh of the rollups, JSON and CSV for
 * one tenant, and refused flags naming the flag.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as repo from '../../src/db/productions.repository.js';
import { tenants } from '../../src/db/schema.js';
import type { UsageReport } from '../../src/services/usage.service.js';
import { startTestService } from './harness.js';
import { killAll, startCli, tempDir } from './processes.js';

after(async () => {
  await killAll();
});

async function aiprod(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; stdout: string }> {
  const child = startCli(args, env);
  const exit = await child.exitWithin(90_000);
  return { code: exit?.code ?? null, out: child.output(), stdout: child.stdout() };
}

const DAY_MS = 86_400_000;

test('aiprod usage: table, json and csv from the service database; bad flags are named', async () => {
  const dataDir = tempDir('usage-cli');
  const svc = await startTestService({ role: 'api', env: { AIPROD_DATA_DIR: dataDir } });
  const yesterday = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS / 2);
  await svc.database.db.insert(tenants).values({ id: 'acme', name: 'Acme', tier: 'pro' });
  await repo.insertProductions(svc.database.db, [
    { id: 'c1', tenantId: 'acme', status: 'succeeded', brief: {}, createdAt: yesterday, updatedAt: yesterday, durationSec: 120, revenueUsd: 2, processingCostUsd: 0.5, tier: 'pro', aspectRatio: '1:1' },
    { id: 'c2', tenantId: 'default', status: 'failed', brief: {}, createdAt: yesterday, updatedAt: yesterday },
  ]);
  await svc.stop();
  const env = { AIPROD_DATA_DIR: dataDir, DATABASE_URL: '' };
  const from = new Date(yesterday.getTime() - 2 * DAY_MS).toISOString().slice(0, 10);
  const to = new Date(yesterday.getTime() + 2 * DAY_MS).toISOString().slice(0, 10);

  const table = await aiprod(['usage', '--from', from, '--to', to, '--group-by', 'tenant', '--refresh'], env);
  assert.equal(table.code, 0, table.out);
  assert.match(table.out, /rolled up \d+ day\(s\) through/);
  assert.match(table.stdout, /Usage of all tenants/);
  assert.match(table.stdout, /^acme\s+1\s+1\s+0\s+0\s+0\s+2\.0\s+/m);
  assert.match(table.stdout, /^default\s+1\s+0\s+1\s+0\s+0\s+/m);
  assert.match(table.stdout, /^total\s+2\s+1\s+1\s+/m);

  const json = await aiprod(['usage', '--from', from, '--to', to, '--group-by', 'aspect_ratio', '--tenant', 'acme', '--format', 'json'], env);
  assert.equal(json.code, 0, json.out);
  const report = JSON.parse(json.stdout) as UsageReport;
  assert.equal(report.tenantId, 'acme');
  assert.deepEqual(report.rows.map((r) => [r.key, r.productions, r.revenueUsd, r.marginUsd]), [['1:1', 1, 2, 1.5]]);
  assert.ok(report.rollup.rolledThrough, 'the refresh above rolled the days up');

  const csv = await aiprod(['usage', '--from', from, '--to', to, '--group-by', 'tier', '--format', 'csv'], env);
  assert.equal(csv.code, 0, csv.out);
  const lines = csv.stdout.split('\r\n');
  assert.match(lines[0]!, /^tier,productions,/);
  assert.deepEqual(lines.slice(1, -1).map((l) => l.split(',')[0]), ['enterprise', 'pro'], 'the operator tenant is enterprise');

  for (const [args, pattern] of [
    [['--group-by', 'hour'], /error \[invalid_request\]: --group-by hour: use one of day, week/],
    [['--from', '2026-13-01'], /error \[invalid_request\]: --from is not a date/],
    [['--from', '2026-12-02', '--to', '2026-12-01'], /--from .* must be before --to/],
    [['--format', 'xml'], /--format xml: use one of table, json, csv/],
  ] as const) {
    const bad = await aiprod(['usage', ...args], env);
    assert.equal(bad.code, 1, bad.out);
    assert.match(bad.out, pattern);
  }
});
