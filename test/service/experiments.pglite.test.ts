/**
 * A/B experiments through the API on PGlite: variants assigned at creation from the flags file,
 * stored with the production and shown in its view; a brief's own choice wins; and the report's
 * numbers from seeded productions, per tenant and for operators.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ExperimentAssignments } from '../../src/contract/production.js';
import * as repo from '../../src/db/productions.repository.js';
import { evaluate, parseFlags } from '../../src/experiments/flags-file.js';
import { twoProportionPValue } from '../../src/experiments/stats.js';
import { startTestService, type TestService } from './harness.js';

const FLAGS = {
  flags: {
    'caption-style': {
      variants: { control: 'line', word: 'word' },
      targeting: [{ tenants: ['beta'], variant: 'word' }, { rollout: { control: 50, word: 50 } }],
    },
    'x264-preset': { variants: { control: 'superfast', fast: 'ultrafast' }, targeting: [{ tiers: ['pro'], variant: 'fast' }] },
  },
};
const flags = parseFlags(FLAGS, 'test');

const dir = mkdtempSync(join(tmpdir(), 'aiprod-exp-'));
let svc: TestService;
let betaAuth: { authorization: string };
before(async () => {
  const path = join(dir, 'flags.json');
  writeFileSync(path, JSON.stringify(FLAGS));
  svc = await startTestService({ role: 'api', env: { FLAGS_FILE: path } });
  await svc.access.createTenant({ actor: 'test' }, { id: 'beta', name: 'Beta', tier: 'pro' });
  const { key } = await svc.access.createKey({ actor: 'test' }, { tenantId: 'beta', name: 'w', scopes: ['productions:write', 'productions:read'] });
  betaAuth = { authorization: `Bearer ${key}` };
});
after(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const brief = (extra: Record<string, unknown> = {}) => ({ script: 'One line of narration.', resolution: '480p', ...extra });

async function create(body: Record<string, unknown>, auth = svc.auth): Promise<string> {
  const res = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: auth, payload: body });
  assert.equal(res.statusCode, 202, res.body);
  return res.json().id;
}

async function view(id: string, auth = svc.auth): Promise<ExperimentAssignments> {
  const res = await svc.app!.inject({ url: `/v1/productions/${id}`, headers: auth });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().experiments;
}

test('variants are assigned at creation from the flags, stored, and shown in the view', async () => {
  const split = flags['caption-style']!;
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const id = await create(brief());
    // The default tenant (enterprise) is in neither the tenant rule nor the pro rule: the 50/50 split places it, by its id.
    const expected = evaluate('caption-style', split, { targetingKey: id, tenantId: 'default', tier: 'enterprise' }).variant as string;
    assert.deepEqual(await view(id), { 'caption-style': { variant: expected, value: split.variants[expected], applied: true } });
    seen.add(expected);
    // Stored on the row, where the render reads it.
    assert.deepEqual((await repo.findProduction(svc.database.db, 'default', id))?.experiments, await view(id));
  }
  // Pro tenant beta: the tenant rule and the tier rule.
  const beta = await create(brief(), betaAuth);
  assert.deepEqual(await view(beta, betaAuth), {
    'caption-style': { variant: 'word', value: 'word', applied: true },
    'x264-preset': { variant: 'fast', value: 'ultrafast', applied: true },
  });
  // A batch is assigned per production.
  const batch = await svc.app!.inject({ method: 'POST', url: '/v1/productions/batch', headers: betaAuth, payload: { productions: [brief(), brief()] } });
  assert.equal(batch.statusCode, 202, batch.body);
  for (const id of batch.json().ids as string[]) assert.equal((await view(id, betaAuth))['x264-preset']?.value, 'ultrafast');
  assert.ok(seen.size >= 1);
});

test('a choice the brief makes itself wins: the variant is stored as not applied', async () => {
  const own = await create(brief({ captions: { style: 'boxed' }, preview: true }), betaAuth);
  assert.deepEqual(await view(own, betaAuth), {
    'caption-style': { variant: 'word', value: 'word', applied: false },
    'x264-preset': { variant: 'fast', value: 'ultrafast', applied: false },
  });
  // A preset names a caption style too.
  const preset = await create(brief({ preset: 'square_post' }), betaAuth);
  assert.equal((await view(preset, betaAuth))['caption-style']?.applied, false);
});

test('the report: per variant counts, success rate, median render time, cost per minute, approval rate; tenants see their own', async () => {
  const t0 = new Date('2026-11-20T10:00:00Z');
  const at = (sec: number): Date => new Date(t0.getTime() + sec * 1000);
  const exp = (variant: string, value: string, applied = true): ExperimentAssignments => ({ template: { variant, value, applied } });
  const row = (id: string, tenantId: string, experiments: ExperimentAssignments, extra: Partial<repo.NewProduction>): repo.NewProduction => ({
    id, tenantId, status: 'queued', brief: brief(), experiments, createdAt: t0, updatedAt: t0, ...extra,
  });
  const control = exp('control', 'explainer');
  const b = exp('b', 'top-list');
  await repo.insertProductions(svc.database.db, [
    row('c1', 'default', control, { status: 'succeeded', startedAt: at(0), finishedAt: at(10), durationSec: 60, processingCostUsd: 0.3 }),
    row('c2', 'default', control, { status: 'succeeded', startedAt: at(0), finishedAt: at(20), durationSec: 30, processingCostUsd: 0.15 }),
    row('c3', 'default', control, { status: 'failed', startedAt: at(0), finishedAt: at(5) }),
    row('c4', 'default', control, { status: 'queued' }),
    // Canceled while awaiting review: a review that ended without approval.
    row('c5', 'default', control, { status: 'canceled', review: true, storyboard: { title: 'x', scenes: [] } }),
    row('c6', 'default', control, { status: 'succeeded', review: true, approved: true, startedAt: at(0), finishedAt: at(30), durationSec: 60, processingCostUsd: 0.6 }),
    row('b1', 'default', b, { status: 'succeeded', startedAt: at(0), finishedAt: at(40), durationSec: 120, processingCostUsd: 0.6 }),
    row('b2', 'default', b, { status: 'failed' }),
    row('b3', 'default', b, { status: 'failed' }),
    // The brief chose its own template: counted apart, in nothing else.
    row('b4', 'default', exp('b', 'top-list', false), { status: 'succeeded', startedAt: at(0), finishedAt: at(1), durationSec: 60, processingCostUsd: 99 }),
    row('x1', 'beta', b, { status: 'succeeded', startedAt: at(0), finishedAt: at(50), durationSec: 60, processingCostUsd: 0.5 }),
  ]);
  const get = async (url: string, auth = svc.auth) => {
    const res = await svc.app!.inject({ url, headers: auth });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  };

  const mine = await get('/v1/experiments/template?tenantId=default');
  assert.equal(mine.control, 'control');
  assert.match(mine.description, /look of a template/);
  const [c, v] = mine.variants;
  assert.deepEqual(c, {
    variant: 'control', value: 'explainer', productions: 6, notApplied: 0, succeeded: 3, failed: 1, canceled: 1, unfinished: 1,
    successRate: 0.75, successRatePValue: null, medianRenderSec: 20, renderTimed: 3,
    costPerVideoMinuteUsd: 0.42, costed: 3, approvalRate: 0.5, approved: 1, reviewed: 2,
  });
  assert.deepEqual(v, {
    variant: 'b', value: 'top-list', productions: 3, notApplied: 1, succeeded: 1, failed: 2, canceled: 0, unfinished: 0,
    // 4 successes against 1 expected failure: too few for the z-test, so no p-value, only the counts.
    successRate: 0.3333, successRatePValue: null, medianRenderSec: 40, renderTimed: 1,
    costPerVideoMinuteUsd: 0.3, costed: 1, approvalRate: null, approved: 0, reviewed: 0,
  });

  // An operator sees every tenant's; a tenant its own, and may not name another.
  const all = await get('/v1/experiments/template');
  assert.equal(all.variants.find((x: { variant: string }) => x.variant === 'b').productions, 4);
  const beta = await get('/v1/experiments/template', betaAuth);
  assert.deepEqual(beta.variants.map((x: { variant: string; productions: number; medianRenderSec: number }) => [x.variant, x.productions, x.medianRenderSec]), [['b', 1, 50]]);
  const other = await svc.app!.inject({ url: '/v1/experiments/template?tenantId=default', headers: betaAuth });
  assert.equal(other.statusCode, 403);

  const list = await get('/v1/experiments', betaAuth);
  assert.deepEqual(list.data.map((f: { flag: string }) => f.flag), ['caption-style', 'template', 'x264-preset']);
  const bad = await svc.app!.inject({ url: '/v1/experiments/Not_A_Flag', headers: svc.auth });
  assert.equal(bad.statusCode, 400);
});

test('the success-rate p-value, once the counts allow the z-test', async () => {
  const rows: repo.NewProduction[] = [];
  const add = (variant: string, succeeded: number, failed: number): void => {
    for (let i = 0; i < succeeded + failed; i++) {
      rows.push({ id: `p-${variant}-${i}`, tenantId: 'default', status: i < succeeded ? 'succeeded' : 'failed', brief: brief(), experiments: { planner: { variant, value: variant === 'control' ? 'offline' : 'openai', applied: true } } });
    }
  };
  add('control', 40, 10);
  add('llm', 25, 25);
  await repo.insertProductions(svc.database.db, rows);
  const res = await svc.app!.inject({ url: '/v1/experiments/planner', headers: svc.auth });
  const report = res.json();
  const llm = report.variants.find((x: { variant: string }) => x.variant === 'llm');
  assert.equal(report.control, 'control');
  assert.equal(llm.successRate, 0.5);
  const expected = twoProportionPValue(40, 50, 25, 50) as number;
  assert.equal(llm.successRatePValue, Math.round(expected * 1e4) / 1e4);
  // z ≈ 3.14 for 80 % against 50 % with 50 each: p ≈ 0.0017.
  assert.ok(llm.successRatePValue > 0.001 && llm.successRatePValue < 0.003, String(llm.successRatePValue));
});
