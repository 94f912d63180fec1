/**
 * /metrics through a real render (API + worker, PGlite, a fake OpenAI planner so provider calls are
 * counted): every name of docs/metrics.md is exported, the business KPIs carry the right labels and
 * values, the database metrics survive a restart, and `aiprod worker --metrics-port` serves its own.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { FakeOpenAI } from '../support/fake-openai.js';
import { startTestService, type TestService } from './harness.js';
import { startCli, tempDir } from './processes.js';

const KEY = 'sk-operator-metrics-0001';
let openai: FakeOpenAI;
let svc: TestService;
let dataDir: string;

const ENV = (url: string): Record<string, string> => ({
  OPENAI_API_KEY: KEY,
  OPENAI_BASE_URL: `${url}/v1`,
  AIPROD_PLAN_PROVIDERS: 'openai',
  AIPROD_TTS_PROVIDERS: 'offline',
  AIPROD_VISUAL_PROVIDERS: 'offline',
  PROVIDER_MAX_ATTEMPTS: '1',
  AIPROD_PRICES: '{"openai:gpt-4o-mini":{"inputTokens":0.0001,"outputTokens":0.0001}}',
  TIER_PRICES_PER_MINUTE_USD: 'pro=3',
  COMPUTE_USD_PER_CPU_HOUR: '0.5',
  METRICS_DB_TTL_SEC: '0',
  RATE_LIMIT_ANONYMOUS_PER_MIN: '2',
});

before(async () => {
  openai = await FakeOpenAI.start({ apiKeys: [KEY] });
  dataDir = tempDir('aiprod-metrics-');
  svc = await startTestService({ env: { ...ENV(openai.url), AIPROD_DATA_DIR: dataDir } });
});
after(async () => {
  await svc?.stop();
  await openai?.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format: `# TYPE name type` lines and `name{a="b"} value` samples. */
function parse(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) continue;
    const labels: Record<string, string> = {};
    for (const m of (sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1] as string] = m[2] as string;
    samples.push({ name: sample[1] as string, labels, value: Number(sample[3]) });
  }
  return { types, samples };
}

async function scrape(service: TestService = svc): Promise<ReturnType<typeof parse>> {
  const res = await service.app!.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  return parse(res.body);
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

const one = (samples: Sample[], name: string, labels: Record<string, string> = {}): number => {
  const found = find(samples, name, labels);
  assert.equal(found.length, 1, `${name}${JSON.stringify(labels)}: ${found.length} series (${JSON.stringify(samples.filter((s) => s.name === name))})`);
  return (found[0] as Sample).value;
};

/** Every metric name in docs/metrics.md's tables. */
const documented = (): string[] => [...readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8').matchAll(/^\| `(aiprod_\w+)` \|/gm)].map((m) => m[1] as string);

type Json = Record<string, unknown>;
async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, key: string, payload?: Json): Promise<{ status: number; body: Json }> {
  const res = await svc.app!.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as Json };
}

let finishedSec = 0;

test('a render makes every KPI appear on /metrics with its labels and values', async () => {
  assert.equal((await call('POST', '/v1/tenants', svc.key, { id: 'acme', name: 'Acme', tier: 'pro' })).status, 201);
  assert.equal((await call('PATCH', '/v1/tenants/acme', svc.key, { monthlyBudgetUsd: 100 })).status, 200);
  const created = await call('POST', '/v1/api-keys', svc.key, { name: 'acme', scopes: ['admin'], tenantId: 'acme' });
  const acme = created.body.key as string;

  const brief = { prompt: 'a six second teaser about metrics that matter', targetDurationSec: 6, resolution: '480p', aspectRatio: '9:16', music: false };
  const made = await call('POST', '/v1/productions', acme, brief);
  assert.equal(made.status, 202, JSON.stringify(made.body));
  // A second one waits for review and is canceled: another outcome of the same tier.
  const held = await call('POST', '/v1/productions', acme, { ...brief, review: true });
  assert.equal(held.status, 202, JSON.stringify(held.body));
  const done = await svc.waitFor(made.body.id as string, (p) => p.status === 'succeeded' || p.status === 'failed', 180_000, 'acme');
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  await svc.waitFor(held.body.id as string, (p) => p.status === 'awaiting_review', 120_000, 'acme');
  assert.equal((await call('POST', `/v1/productions/${held.body.id as string}/cancel`, acme)).status, 200);
  // Anonymous requests over RATE_LIMIT_ANONYMOUS_PER_MIN (2) are refused.
  for (let i = 0; i < 3; i++) await svc.app!.inject({ method: 'GET', url: '/presets' });
  finishedSec = done.durationSec as number;

  const { types, samples } = await scrape();
  for (const name of documented()) assert.ok(types.has(name), `${name} is in docs/metrics.md but not exported`);
  for (const name of types.keys()) {
    if (name.startsWith('aiprod_') && !/^aiprod_(process|nodejs)_/.test(name)) assert.ok(documented().includes(name), `${name} is exported but not in docs/metrics.md`);
  }

  // Revenue: 3 USD per minute for the pro tier, by tier and aspect ratio.
  const revenue = one(samples, 'aiprod_jobs_revenue_usd_total', { tier: 'pro', aspect_ratio: '9:16' });
  assert.ok(Math.abs(revenue - (finishedSec / 60) * 3) < 0.01, `revenue ${revenue} for ${finishedSec} s at $3/min`);
  // Cost: one finished production with a cost (the canceled review spent nothing), under the $12.50 ceiling.
  assert.equal(one(samples, 'aiprod_job_processing_cost_usd_count'), 1);
  assert.equal(one(samples, 'aiprod_job_processing_cost_usd_bucket', { le: '12.5' }), 1);
  const cost = one(samples, 'aiprod_job_processing_cost_usd_sum');
  const planned = (done.cost?.stages as Json[]).filter((s) => s.stage === 'plan').reduce((sum, s) => sum + (s.usd as number), 0);
  assert.ok(planned > 0 && cost > planned, `processing cost ${cost} covers the planner's ${planned} and compute`);
  assert.equal(one(samples, 'aiprod_productions_total', { outcome: 'succeeded', tier: 'pro' }), 1);
  assert.equal(one(samples, 'aiprod_productions_total', { outcome: 'canceled', tier: 'pro' }), 1);
  // The same cost by tier and aspect ratio (margins by tier), and the turnaround of the one render that did not wait for a review.
  assert.ok(Math.abs(one(samples, 'aiprod_jobs_processing_cost_usd_total', { tier: 'pro', aspect_ratio: '9:16' }) - cost) < 1e-6);
  const turnaround = (Date.parse(String(done.finishedAt)) - Date.parse(String(done.createdAt))) / 1000;
  assert.equal(one(samples, 'aiprod_production_turnaround_seconds_count', { tier: 'pro' }), 1);
  assert.ok(Math.abs(one(samples, 'aiprod_production_turnaround_seconds_sum', { tier: 'pro' }) - turnaround) < 1, `turnaround ${turnaround} s`);
  assert.equal(one(samples, 'aiprod_production_turnaround_seconds_bucket', { tier: 'pro', le: '+Inf' }), 1);
  assert.ok(Math.abs(one(samples, 'aiprod_provider_cost_usd_total', { provider: 'openai:gpt-4o-mini' }) - planned) < 1e-6);
  assert.equal(one(samples, 'aiprod_tenant_budget_usd', { tenant: 'acme' }), 100);
  assert.ok(one(samples, 'aiprod_tenant_spend_usd', { tenant: 'acme' }) >= revenue);
  assert.equal(one(samples, 'aiprod_productions', { status: 'succeeded' }), 1);
  assert.equal(one(samples, 'aiprod_productions', { status: 'canceled' }), 1);

  // Pipeline and workers.
  assert.equal(one(samples, 'aiprod_workers_alive'), 1);
  assert.ok(one(samples, 'aiprod_worker_slots') >= 1);
  assert.equal(one(samples, 'aiprod_queue_waiting_jobs'), 0);
  assert.equal(one(samples, 'aiprod_renders_stalled'), 0);
  assert.equal(one(samples, 'aiprod_render_stalls_total'), 0);
  assert.equal(one(samples, 'aiprod_render_retries_total'), 0);
  assert.equal(one(samples, 'aiprod_webhook_endpoints_disabled'), 0);
  assert.equal(one(samples, 'aiprod_render_duration_seconds_count', { outcome: 'succeeded' }), 1);
  for (const stage of ['plan', 'narrate', 'foley', 'visualize', 'mix', 'compose', 'qa']) {
    assert.ok(find(samples, 'aiprod_stage_duration_seconds_count', { stage }).length >= 1, `no stage duration for ${stage}`);
  }
  // The render's plan called the planner; the review's, of the same brief, came from the cache.
  assert.equal(one(samples, 'aiprod_stage_duration_seconds_count', { stage: 'plan', provider: 'openai:gpt-4o-mini' }), 1);
  assert.equal(one(samples, 'aiprod_stage_duration_seconds_count', { stage: 'plan', provider: 'cache' }), 1);
  assert.ok(one(samples, 'aiprod_stage_cache_units_total', { stage: 'narrate', result: 'miss' }) >= 1);

  // Providers: the planner's calls, by outcome, with their latency.
  const calls = find(samples, 'aiprod_provider_calls_total', { outcome: 'ok' });
  assert.deepEqual(calls.map((c) => c.labels.provider), ['openai'], JSON.stringify(calls));
  assert.equal(calls[0]?.value, openai.chats.length, 'one call counted per request the planner received');
  assert.ok(find(samples, 'aiprod_provider_call_duration_seconds_count').length >= 1);

  // HTTP, rate limits, readiness, disk, build.
  assert.ok(one(samples, 'aiprod_http_request_duration_seconds_count', { method: 'POST', route: '/v1/productions', status: '202' }) >= 2);
  assert.ok(one(samples, 'aiprod_rate_limited_total', { rule: 'anonymous' }) >= 1);
  assert.equal(one(samples, 'aiprod_ready', { check: 'database' }), 1);
  const disk = one(samples, 'aiprod_data_dir_disk_used_ratio', { dir: 'data' });
  assert.ok(disk > 0 && disk < 1, String(disk));
  assert.equal(one(samples, 'aiprod_build_info', { version: 'test', role: 'all' }), 1);
  assert.ok(one(samples, 'aiprod_process_resident_memory_bytes') > 0);
});

test('the database metrics survive a restart; the process metrics start again', async () => {
  const beforeRestart = await scrape();
  await svc.stop();
  svc = await startTestService({ env: { ...ENV(openai.url), AIPROD_DATA_DIR: dataDir } });
  const { samples } = await scrape();
  for (const [name, labels] of [
    ['aiprod_jobs_revenue_usd_total', { tier: 'pro', aspect_ratio: '9:16' }],
    ['aiprod_job_processing_cost_usd_sum', {}],
    ['aiprod_productions_total', { outcome: 'succeeded', tier: 'pro' }],
    ['aiprod_provider_cost_usd_total', { provider: 'openai:gpt-4o-mini' }],
  ] as const) {
    assert.equal(one(samples, name, labels), one(beforeRestart.samples, name, labels), name);
  }
  assert.equal(find(samples, 'aiprod_render_duration_seconds_count').length, 0);
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('aiprod worker --metrics-port serves the worker\'s metrics, and a bad port is refused by name', async () => {
  const dir = tempDir('aiprod-worker-metrics-');
  const bad = startCli(['worker', '--metrics-port', 'ninety'], { AIPROD_DATA_DIR: dir });
  const exit = await bad.exited;
  assert.notEqual(exit.code, 0);
  assert.match(bad.output(), /--metrics-port must be a port number/);

  const port = await freePort();
  const worker = startCli(['worker', '--metrics-port', String(port)], { AIPROD_DATA_DIR: dir, HOST: '127.0.0.1', WORKER_CONCURRENCY: '1', ADMIN_API_KEY: '' });
  try {
    await worker.waitForStdout(/worker metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/, 90_000);
    const { samples } = parse(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    assert.equal(one(samples, 'aiprod_build_info', { role: 'worker' }), 1);
    assert.equal(one(samples, 'aiprod_workers_alive'), 1);
    assert.equal(one(samples, 'aiprod_worker_slots_idle'), 1);
  } finally {
    worker.killGroup('SIGTERM');
    await worker.exited;
  }
});
