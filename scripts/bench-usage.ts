/**
 * `npm run bench:usage [-- --productions N --tenants N --days N --runs N --record]`: usage
 * analytics at scale on PostgreSQL. Seeds N productions (default 1,000,000; generate_series in SQL)
 * over the last `days` days into a fresh database on the server of BENCH_DATABASE_URL or
 * TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), rolls them up, then
 * times the same usage queries (several groupBy values, every tenant and one tenant) answered
 * from the rollups plus the live window, and side by side straight from productions (the
 * baseline). Every answer is checked against the baseline's: a difference fails the run (exit 1).
 * Then failed productions on rolled-up days (up to 50 a day on 20 picked days) are retried into
 * successes and a query runs again, those days now read live, before the next refresh re-rolls them.
 * Prints a Markdown table; --record writes it into docs/benchmarks.md (bench:usage markers).
 * The database is dropped on every exit (unless --keep).
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase, type Database } from '../src/db/database.js';
import { UsageService, type UsageGroup, type UsageQuery, type UsageReport } from '../src/services/usage.service.js';
import { recordBenchmark } from './bench/record.js';

const { values: flags } = parseArgs({
  options: {
    productions: { type: 'string', default: '1000000' },
    tenants: { type: 'string', default: '200' },
    days: { type: 'string', default: '365' },
    runs: { type: 'string', default: '3' },
    record: { type: 'boolean', default: false },
    /** Leave the database in place (its name is printed), to look at plans with EXPLAIN. */
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(flags.productions);
const TENANTS = Number(flags.tenants);
const DAYS = Number(flags.days);
const RUNS = Number(flags.runs);
const BASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DAY_MS = 86_400_000;

const log = (message: string): void => void process.stderr.write(`${message}\n`);
const seconds = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

/**
 * Productions shaped like the ones workers leave: a brief with a template and a frame shape, a
 * cost report with five provider lines and the render charge (the real CostRecord fields), stage
 * timings, revenue, processing cost and the estimate. Spread evenly over the last DAYS days up to
 * now, so today's share is the live window; 88 % succeeded, 8 % failed, 3 % canceled, 1 % queued.
 * Each tenant has a usual template and frame shape and uses others a fifth of the time each.
 */
function seedSql(from: number, to: number): string {
  return `
  insert into productions (id, tenant_id, status, brief, metadata, tier, aspect_ratio, duration_sec, timings, cost,
                           revenue_usd, processing_cost_usd, estimated_usd, attempts, created_at, updated_at, started_at, finished_at)
  select 'bench_' || i, 't' || (i % ${TENANTS}), s.status,
         jsonb_build_object('prompt', 'A product launch video, take ' || i, 'template', (array['promo','explainer','social','minimal','news','none'])[1 + case when (i / ${TENANTS}) % 5 = 0 then (i / 1000) % 6 else (i % ${TENANTS}) % 6 end],
                            'aspectRatio', a.ratio, 'resolution', '1080p'),
         '{}'::jsonb,
         case when s.final then (array['free','pro','enterprise'])[1 + (i % ${TENANTS}) % 3] end,
         case when s.final then a.ratio end,
         case when s.status = 'succeeded' then 20 + i % 100 end,
         case when s.status in ('succeeded', 'failed') then jsonb_build_object('plan', 0.4, 'narrate', 2.1 + (i % 10) / 10.0, 'score', 0.8, 'foley', 0.3, 'visualize', 6.5, 'mix', 0.9, 'compose', 0.6, 'qa', 1.2) else '{}'::jsonb end,
         case when s.status in ('succeeded', 'failed') then jsonb_build_object('currency', 'USD', 'totalUsd', 0.5 + (i % 50) / 100.0, 'totalCpuSec', 30,
           'stages', jsonb_build_array(
             jsonb_build_object('stage', 'plan', 'provider', (array['openai:gpt-4o-mini','offline'])[1 + i % 2], 'units', jsonb_build_object('scenes', 5), 'usage', jsonb_build_object('inputTokens', 900), 'unitPriceUsd', 0.00000015, 'usd', 0.002, 'cpuSec', 0.1, 'wallSec', 0.4, 'cachedUnits', 0),
             jsonb_build_object('stage', 'narrate', 'provider', (array['elevenlabs:eleven_multilingual_v2','google-tts:neural2','offline'])[1 + i % 3], 'units', jsonb_build_object('characters', 800), 'usage', jsonb_build_object('characters', 800), 'unitPriceUsd', 0.0001, 'usd', 0.08, 'cpuSec', 1, 'wallSec', 2.1, 'cachedUnits', 0),
             jsonb_build_object('stage', 'score', 'provider', (array['suno:v4','offline'])[1 + i % 2], 'units', jsonb_build_object('seconds', 60), 'usage', '{}'::jsonb, 'unitPriceUsd', 0, 'usd', 0.05, 'cpuSec', 0.5, 'wallSec', 0.8, 'cachedUnits', 0),
             jsonb_build_object('stage', 'foley', 'provider', 'offline', 'units', jsonb_build_object('effects', 6), 'usage', '{}'::jsonb, 'unitPriceUsd', 0, 'usd', 0, 'cpuSec', 0.2, 'wallSec', 0.3, 'cachedUnits', 0),
             jsonb_build_object('stage', 'visualize', 'provider', (array['runway:gen4_turbo','offline','offline'])[1 + i % 3], 'units', jsonb_build_object('clips', 5), 'usage', jsonb_build_object('seconds', 25), 'unitPriceUsd', 0.05, 'usd', 0.25, 'cpuSec', 20, 'wallSec', 6.5, 'cachedUnits', 0),
             jsonb_build_object('stage', 'deliver', 'provider', 'aiprod-render', 'units', jsonb_build_object('videoMinutes', 1), 'usage', '{}'::jsonb, 'unitPriceUsd', 1, 'usd', 1, 'cpuSec', 0, 'wallSec', 0, 'cachedUnits', 0)),
           'estimate', jsonb_build_object('totalUsd', 0.5), 'byStage', '[]'::jsonb, 'varianceUsd', 0, 'fallbacks', '[]'::jsonb, 'attributions', '[]'::jsonb) end,
         case when s.status = 'succeeded' then 1 + (i % 5) / 4.0 end,
         case when s.status in ('succeeded', 'failed') then 0.3 + (i % 40) / 100.0 end,
         0.4 + (i % 60) / 100.0,
         1, t.at, t.at + interval '5 minutes', t.at + interval '10 seconds', case when s.final then t.at + interval '5 minutes' end
    from generate_series(${from}, ${to - 1}) as i
    cross join lateral (select now() - make_interval(secs => (${N} - i)::float8 * ${(DAYS * 86_400) / N}) as at) t
    cross join lateral (select (array['16:9','9:16','1:1'])[1 + case when (i / ${TENANTS}) % 5 = 1 then (i / 1000) % 3 else ((i % ${TENANTS}) / 6) % 3 end] as ratio) a
    cross join lateral (select case when (i / ${TENANTS}) % 100 < 88 then 'succeeded' when (i / ${TENANTS}) % 100 < 96 then 'failed' when (i / ${TENANTS}) % 100 < 99 then 'canceled' else 'queued' end as status) s0
    cross join lateral (select s0.status, s0.status <> 'queued' as final) s`;
}

interface Case {
  name: string;
  query: UsageQuery;
}

function cases(now: Date): Case[] {
  const year: Pick<UsageQuery, 'from' | 'to'> = { from: new Date(now.getTime() - DAYS * DAY_MS - DAY_MS), to: new Date(now.getTime() + 60_000) };
  const month = { from: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, now.getUTCDate())), to: year.to };
  const all = (groupBy: UsageGroup): Case => ({ name: `${groupBy}, ${DAYS} days, all tenants`, query: { ...year, groupBy } });
  return [
    all('day'), all('month'), all('tier'), all('tenant'), all('template'), all('provider'),
    { name: `day, ${DAYS} days, one tenant`, query: { ...year, groupBy: 'day', tenantId: 't7' } },
    { name: 'tenant, last month (mid-day edges), all tenants', query: { ...month, from: new Date(month.from.getTime() + 13 * 3600_000), groupBy: 'tenant' } },
  ];
}

/**
 * The same rows, counts equal and sums equal to 1e-9 of their size: floating-point sums of a
 * million values in another order differ in their last digits.
 */
function assertSame(name: string, a: UsageReport, b: UsageReport): void {
  const same = (x: unknown, y: unknown): boolean => {
    if (typeof x === 'number' && typeof y === 'number') return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y)) + 1e-6;
    if (x && y && typeof x === 'object' && typeof y === 'object') {
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      return [...keys].every((k) => same((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]));
    }
    return x === y;
  };
  if (a.rows.length !== b.rows.length || !a.rows.every((row, i) => same(row, b.rows[i]))) {
    const i = a.rows.findIndex((row, k) => !same(row, b.rows[k]));
    throw new Error(`${name}: the rollup answer differs from the baseline's, first at ${JSON.stringify(a.rows[i])} vs ${JSON.stringify(b.rows[i])}`);
  }
}

async function measure(usage: UsageService, list: Case[], withBaseline: boolean): Promise<{ name: string; groups: number; rollupMs: number; baselineMs?: number }[]> {
  const results = [];
  for (const c of list) {
    await usage.report(c.query); // warm-up
    const times: number[] = [];
    let report: UsageReport | undefined;
    for (let i = 0; i < RUNS; i++) {
      const run = await timed(() => usage.report(c.query));
      times.push(run.ms);
      report = run.value;
    }
    let baselineMs: number | undefined;
    if (withBaseline) {
      const base = await timed(() => usage.reportFromProductions(c.query));
      baselineMs = base.ms;
      assertSame(c.name, report!, base.value);
    }
    results.push({ name: c.name, groups: report!.rows.length, rollupMs: median(times), baselineMs });
    log(`  ${c.name}: ${seconds(median(times))}${baselineMs === undefined ? '' : ` (baseline ${seconds(baselineMs)})`}`);
  }
  return results;
}

async function main(): Promise<void> {
  const name = `aiprod_bench_usage_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: BASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(BASE_URL);
  url.pathname = `/${name}`;
  let database: Database | undefined;
  try {
    database = await openDatabase({ url: url.toString(), dataDir: '' });
    await database.migrate();
    const db = database;
    const [{ version }] = (await db.executeSql(`select current_setting('server_version') as version`)).rows as { version: string }[];
    await db.executeSql(`insert into tenants (id, name, tier) select 't' || i, 'Tenant ' || i, (array['free','pro','enterprise'])[1 + i % 3] from generate_series(0, ${TENANTS - 1}) i`);
    log(`seeding ${N.toLocaleString('en')} productions over ${DAYS} days, ${TENANTS} tenants…`);
    const seed = await timed(async () => {
      const batch = 100_000;
      for (let from = 0; from < N; from += batch) await db.executeSql(seedSql(from, Math.min(N, from + batch)));
      await db.executeSql('analyze productions');
    });
    const [{ size }] = (await db.executeSql(`select pg_size_pretty(pg_total_relation_size('productions')) as size`)).rows as { size: string }[];
    log(`  seeded in ${seconds(seed.ms)} (${size} with indexes)`);
    const usage = new UsageService(db);
    const first = await timed(() => usage.refresh());
    await db.executeSql('analyze usage_daily; analyze usage_daily_providers');
    const count = async (table: string): Promise<number> => Number(((await db.executeSql(`select count(*)::int as n from ${table}`)).rows[0] as { n: number }).n);
    const rollupRows = await count('usage_daily');
    const providerRows = await count('usage_daily_providers');
    log(`  first rollup: ${first.value.days} days in ${seconds(first.ms)} (${rollupRows.toLocaleString('en')} + ${providerRows.toLocaleString('en')} rollup rows)`);

    const list = cases(new Date());
    log('queries (rollups + live window) and baseline (productions only):');
    const settled = await measure(usage, list, true);

    // Failures on rolled-up days retried into successes (up to 50 a day on 20 picked days), as after an outage.
    const changed = (await db.executeSql(`
      with changed as (update productions set status = 'succeeded', duration_sec = 45, revenue_usd = 1, updated_at = now()
       where id in (select id from (select id, row_number() over (partition by (created_at at time zone 'utc')::date order by id) as n from productions
                                     where status = 'failed' and (created_at at time zone 'utc')::date in (select (now() at time zone 'utc')::date - 3 - 17 * g from generate_series(0, 19) g)) x
                     where n <= 50) returning created_at)
      select count(*)::int as n, count(distinct (created_at at time zone 'utc')::date)::int as days from changed`)).rows[0] as { n: number; days: number };
    log(`after ${changed.n} productions on ${changed.days} rolled-up days changed (those days read live):`);
    const dirty = await measure(usage, list.slice(0, 1), true);
    const again = await timed(() => usage.refresh());
    log(`  incremental refresh: ${again.value.days} day(s) in ${seconds(again.ms)}`);

    const cpu = cpus();
    const lines = [
      `Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}; PostgreSQL ${version} (default settings). ${N.toLocaleString('en')} productions over ${DAYS} days, ${TENANTS} tenants`,
      `(${size} with indexes; seeded in ${seconds(seed.ms)}). First rollup of every day: ${seconds(first.ms)}, ${rollupRows.toLocaleString('en')} usage_daily and ${providerRows.toLocaleString('en')} usage_daily_providers rows.`,
      `Each query: median of ${RUNS} runs after a warm-up, through \`UsageService.report\` (what GET /v1/usage runs), today's productions read live;`,
      'the baseline is the same query over productions alone (one run), and every answer equals the baseline\'s.',
      '',
      '| query | groups | rollups + live | productions only | speed-up |',
      '| --- | --- | --- | --- | --- |',
      ...settled.map((r) => `| ${r.name} | ${r.groups} | ${seconds(r.rollupMs)} | ${seconds(r.baselineMs!)} | ${(r.baselineMs! / r.rollupMs).toFixed(0)}× |`),
      ...dirty.map((r) => `| ${r.name}, ${changed.days} days changed since the rollup | ${r.groups} | ${seconds(r.rollupMs)} | ${seconds(r.baselineMs!)} | ${(r.baselineMs! / r.rollupMs).toFixed(0)}× |`),
      '',
      `The changes: ${changed.n} failed productions on ${changed.days} rolled-up days retried into successes; those days were read live, and the refresh after the changes re-rolled ${again.value.days} day(s) in ${seconds(again.ms)}.`,
    ];
    const body = lines.join('\n');
    process.stdout.write(`${body}\n`);
    if (flags.record) recordBenchmark('usage', 'npm run bench:usage -- --record', body);
    const slowest = Math.max(...settled.map((r) => r.rollupMs), ...dirty.map((r) => r.rollupMs));
    if (slowest >= 1000) log(`note: the slowest query took ${seconds(slowest)} (target < 1 s)`);
  } finally {
    await database?.close();
    if (flags.keep) log(`kept database ${name}`);
    else await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
