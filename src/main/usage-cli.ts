/**
 * `aiprod usage [--from] [--to] [--group-by] [--tenant] [--format table|json|csv] [--refresh]`:
 * the figures of GET /v1/usage, read from the service's database (DATABASE_URL, or the embedded
 * one in AIPROD_DATA_DIR) as an operator: every tenant unless --tenant names one. With the
 * embedded database, stop `aiprod serve` first (one process at a time may open it). docs/usage.md.
 *
 * Only commander's types are imported at the top: every `aiprod` start registers this command,
 * and the database modules load only when it runs.
 */
import type { Command } from 'commander';
import { AppError } from '../contract/errors.js';
import type { UsageReport } from '../services/usage.service.js';

interface Flags {
  from?: string;
  to?: string;
  groupBy: string;
  tenant?: string;
  format: string;
  refresh?: boolean;
}

const FORMATS = ['table', 'json', 'csv'] as const;

const money = (n: number): string => n.toFixed(2);

/** A fixed-width table: one line per group, then the totals. */
export function formatUsageTable(report: UsageReport): string {
  const head = [report.groupBy, 'productions', 'succeeded', 'failed', 'canceled', 'active', 'video min', 'render s', 'provider $', 'cost $', 'revenue $', 'margin $', 'estimated $', 'actual $'];
  const line = (key: string, r: UsageReport['rows'][number] | NonNullable<UsageReport['totals']>): string[] => {
    const active = r.productions - r.outcomes.succeeded - r.outcomes.failed - r.outcomes.canceled;
    return [key, String(r.productions), String(r.outcomes.succeeded), String(r.outcomes.failed), String(r.outcomes.canceled), String(active), r.videoMinutes.toFixed(1), r.renderSec.toFixed(0),
      money(r.providerSpendUsd), money(r.processingCostUsd), money(r.revenueUsd), money(r.marginUsd), money(r.estimate.estimatedUsd), money(r.estimate.actualUsd)];
  };
  const body = [head, ...report.rows.map((r) => line(r.key, r)), ...(report.totals ? [line('total', report.totals)] : [])];
  const widths = head.map((_, i) => Math.max(...body.map((cells) => cells[i]!.length)));
  const rows = body.map((cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  const scope = report.tenantId ? `tenant ${report.tenantId}` : 'all tenants';
  const title = `Usage of ${scope}, ${report.from} to ${report.to}, by ${report.groupBy}`;
  return [title, '', ...(report.rows.length === 0 ? ['(no productions in this period)'] : rows)].join('\n');
}

async function usageCommand(flags: Flags): Promise<void> {
  if (!(FORMATS as readonly string[]).includes(flags.format)) throw new AppError('invalid_request', `--format ${flags.format}: use one of ${FORMATS.join(', ')}`);
  const [{ join, resolve }, { pipeline }, { loadEnv }, { openDatabase }, usageModule] = await Promise.all([
    import('node:path'),
    import('node:stream/promises'),
    import('../config/env.js'),
    import('../db/database.js'),
    import('../services/usage.service.js'),
  ]);
  const { USAGE_GROUPS, UsageService, usageCsvStream, usageRange } = usageModule;
  if (!(USAGE_GROUPS as readonly string[]).includes(flags.groupBy)) throw new AppError('invalid_request', `--group-by ${flags.groupBy}: use one of ${USAGE_GROUPS.join(', ')}`);
  const range = usageRange(flags.from, flags.to, { from: '--from', to: '--to' });
  const env = loadEnv();
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: join(resolve(env.AIPROD_DATA_DIR), 'pglite') });
  try {
    await database.migrate();
    const usage = new UsageService(database);
    if (flags.refresh) {
      const refreshed = await usage.refresh();
      process.stderr.write(`rolled up ${refreshed.days} day(s) through ${refreshed.rolledThrough} in ${refreshed.seconds} s\n`);
    }
    const report = await usage.report({ ...range, groupBy: flags.groupBy as (typeof USAGE_GROUPS)[number], tenantId: flags.tenant });
    if (flags.format === 'csv') await pipeline(usageCsvStream(report), process.stdout, { end: false });
    else process.stdout.write(flags.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : `${formatUsageTable(report)}\n`);
  } finally {
    await database.close();
  }
}

export function registerUsageCommand(program: Command): void {
  program
    .command('usage')
    .description('usage and cost of a period from the service database: productions by outcome, video minutes, render time, provider spend, revenue, estimate vs actual')
    .option('--from <date>', 'start, inclusive: 2026-12-01 (midnight UTC) or a date-time with its zone (default: the 1st of the month)')
    .option('--to <date>', 'end, exclusive (default: now)')
    .option('--group-by <key>', 'day, week, month, tier, tenant, template, provider or aspect_ratio', 'day')
    .option('--tenant <id>', 'only this tenant (default: every tenant)')
    .option('--format <format>', 'table, json or csv', 'table')
    .option('--refresh', 'refresh the daily rollups first (the worker does it every USAGE_ROLLUP_INTERVAL_MIN)')
    .action(async (flags: Flags) => usageCommand(flags));
}
