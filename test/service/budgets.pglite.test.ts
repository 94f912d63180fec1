/**
 * Budgets on PGlite through the HTTP API: alert thresholds set and validated on tenants (a PATCH of
 * one field leaves the others), a threshold crossed by concurrent creates announced exactly once
 * (a signed budget.threshold webhook, an audit entry, the counter) even with two evaluators at once,
 * the operator-wide budget (its crossings to the default tenant's webhooks, creates past it refused
 * with 503 operator_budget_exhausted), and storyboards re-priced against the budget when edited in
 * review and when approved.
 *
 * Prices: PRICE_PER_VIDEO_MINUTE_USD makes every production cost its minutes, and the offline
 * providers nothing — so an estimate's floor is the estimate, and a budget refuses what exceeds it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { auditLog, budgetAlerts, productions, webhookDeliveries } from '../../src/db/schema.js';
import { BudgetAlerts } from '../../src/services/budgets.service.js';
import { verifyWebhook } from '../../src/webhooks/verify.js';
import { Receiver, startWebhookService, type WebhookTestService } from './webhooks.harness.js';

type Json = Record<string, unknown>;

const OPERATOR_BUDGET_USD = 40;
let w: WebhookTestService;
let receiver: Receiver;
before(async () => {
  receiver = await Receiver.start();
  w = await startWebhookService({
    webhooks: { retryScheduleSec: [0, 0.3], timeoutMs: 1000, allowHosts: ['receiver.test'], catchUpIntervalSec: 3600 },
    env: {
      PRICE_PER_VIDEO_MINUTE_USD: '1',
      OPERATOR_MONTHLY_BUDGET_USD: String(OPERATOR_BUDGET_USD),
      OPERATOR_BUDGET_THRESHOLDS: '1,0.5,0.5',
      OPERATOR_BUDGET_REFRESH_SEC: '0',
      RATE_LIMIT_ENTERPRISE_PER_MIN: '0',
    },
  });
});
after(async () => {
  await w?.stop();
  receiver?.close();
});

async function call(method: 'GET' | 'POST' | 'PATCH', url: string, key: string, payload?: unknown): Promise<{ status: number; body: Json }> {
  const res = await w.svc.app!.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload !== undefined ? { payload: payload as Json } : {}) });
  return { status: res.statusCode, body: res.body ? (res.json() as Json) : {} };
}

/** A tenant with a key that may create productions and webhooks. */
async function tenant(id: string, fields: Json): Promise<string> {
  const created = await call('POST', '/v1/tenants', w.svc.key, { id, name: id, tier: 'enterprise', ...fields });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const key = await call('POST', '/v1/api-keys', w.svc.key, { name: `${id} key`, scopes: ['webhooks', 'productions:write', 'productions:read'], tenantId: id });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  return key.body.key as string;
}

async function budgetHook(key: string, path: string): Promise<string> {
  const res = await call('POST', '/v1/webhooks', key, { url: receiver.url(path), events: ['budget.threshold'] });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.secret as string;
}

/** A one-minute video: 1 USD at PRICE_PER_VIDEO_MINUTE_USD=1 (the test reads the exact estimate). */
const minute = (n: number, extra: Json = {}): Json => ({
  scenes: [{ narration: `Budget test ${n}.`, durationSec: 60, visual: { type: 'color', color: '#1e3a8a' } }],
  resolution: '480p',
  ...extra,
});

const storyboard = (scenes: number): Json => ({
  title: 'Budget review',
  language: 'en',
  mood: 'calm',
  sfxCues: [],
  notes: [],
  scenes: Array.from({ length: scenes }, (_, i) => ({ id: `s${i + 1}`, narration: `Scene ${i + 1}.`, durationSec: 60, keywords: [], sfx: [], visual: { type: 'color', color: '#1e3a8a' } })),
});

async function estimateOf(id: string): Promise<number> {
  const [row] = await w.svc.database.db.select({ usd: productions.estimatedUsd }).from(productions).where(eq(productions.id, id));
  return Number(row?.usd ?? 0);
}

async function counter(scope: string, threshold: string): Promise<number> {
  const metric = await w.svc.metrics.registry.getSingleMetric('aiprod_budget_threshold_crossed_total')?.get();
  return metric?.values.find((v) => v.labels.scope === scope && v.labels.threshold === threshold)?.value ?? 0;
}

let unitUsd = 0;

test('thresholds are set per tenant, sorted and deduplicated; a bad one is a 400 naming the field; a PATCH of one field keeps the others', async () => {
  const created = await call('POST', '/v1/tenants', w.svc.key, { id: 'thresholds-co', name: 'T', tier: 'pro', monthlyBudgetUsd: 50, budgetThresholds: [1, 0.5, 0.5, 0.9] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(created.body.budgetThresholds, [0.5, 0.9, 1]);
  for (const bad of [[0], [-0.5], [10.5], [], ['0.8']]) {
    const res = await call('PATCH', '/v1/tenants/thresholds-co', w.svc.key, { budgetThresholds: bad });
    assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${JSON.stringify(res.body)}`);
    const error = res.body.error as { details: { path: string }[] };
    assert.ok(error.details.some((d) => d.path.startsWith('budgetThresholds')), JSON.stringify(res.body));
  }
  const renamed = await call('PATCH', '/v1/tenants/thresholds-co', w.svc.key, { name: 'Renamed' });
  assert.equal(renamed.status, 200);
  assert.deepEqual([renamed.body.name, renamed.body.tier, renamed.body.monthlyBudgetUsd, renamed.body.budgetThresholds], ['Renamed', 'pro', 50, [0.5, 0.9, 1]]);
  const reset = await call('PATCH', '/v1/tenants/thresholds-co', w.svc.key, { budgetThresholds: null });
  assert.deepEqual(reset.body.budgetThresholds, [0.8, 1], 'null restores the default');
  assert.equal(reset.body.monthlyBudgetUsd, 50);
});

test('crossing 80 % and 100 % with concurrent creates: each announced once (signed webhook, audit entry, counter), never again that month', async () => {
  // The price of one production, read from a first one of a tenant without a budget.
  const probeKey = await tenant('probe-co', {});
  const probe = await call('POST', '/v1/productions', probeKey, minute(0));
  assert.equal(probe.status, 202, JSON.stringify(probe.body));
  unitUsd = await estimateOf(probe.body.id as string);
  assert.ok(unitUsd > 0.5 && unitUsd < 2, `a one-minute video at 1 USD a minute costs about 1 USD, not ${unitUsd}`);

  const key = await tenant('acme', { monthlyBudgetUsd: 5 * unitUsd });
  const secret = await budgetHook(key, '/acme');
  const statuses: number[] = [];
  for (let round = 0; round < 3; round++) {
    const pair = await Promise.all([1, 2].map((i) => call('POST', '/v1/productions', key, minute(round * 2 + i))));
    statuses.push(...pair.map((r) => r.status));
  }
  assert.deepEqual(statuses.filter((s) => s === 202).length, 5, `five fit the budget: ${statuses.join(',')}`);
  assert.deepEqual(statuses.filter((s) => s === 402).length, 1);

  const received = await receiver.waitFor((all) => all.filter((r) => r.path === '/acme').length >= 2);
  const events = received.filter((r) => r.path === '/acme').map((r) => verifyWebhook(r.body, r.headers['aiprod-signature'] as string, secret));
  assert.deepEqual(events.map((e) => e.type), ['budget.threshold', 'budget.threshold']);
  const budgets = events.map((e) => (e.data as { budget: Json }).budget).sort((a, b) => (a.threshold as number) - (b.threshold as number));
  assert.deepEqual(budgets.map((b) => [b.scope, b.tenantId, b.threshold]), [['tenant', 'acme', 0.8], ['tenant', 'acme', 1]]);
  assert.ok((budgets[1]?.spentUsd as number) >= 5 * unitUsd - 1e-6 && budgets[1]?.remainingUsd === 0, JSON.stringify(budgets[1]));
  assert.match(String(budgets[0]?.month), /^\d{4}-\d{2}$/);

  const audit = await w.svc.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'budget.threshold_crossed'), eq(auditLog.tenantId, 'acme')));
  assert.deepEqual(audit.map((a) => (a.details as { budget: { threshold: number } }).budget.threshold).sort(), [0.8, 1]);
  assert.equal(await counter('tenant', '0.8'), 1);
  assert.equal(await counter('tenant', '1'), 1);

  // Evaluated again — by this process and by a second one's evaluator at once — nothing new.
  const other = new BudgetAlerts({ db: w.svc.database.db, events: w.svc.webhooks.emitter });
  const again = await Promise.all([w.svc.budgets.evaluate('acme'), other.evaluate('acme')]);
  assert.deepEqual(again.flat().filter((c) => c.scope === 'tenant'), []);
  const rows = await w.svc.database.db.select().from(budgetAlerts).where(eq(budgetAlerts.scope, 'tenant:acme'));
  assert.equal(rows.length, 2);
  const deliveries = await w.svc.database.db.select().from(webhookDeliveries).where(and(eq(webhookDeliveries.tenantId, 'acme'), eq(webhookDeliveries.eventType, 'budget.threshold')));
  assert.equal(deliveries.length, 2);
});

test('two evaluators reaching a threshold at once announce it once', async () => {
  const key = await tenant('race-co', { monthlyBudgetUsd: 1.5 * unitUsd, budgetThresholds: [0.5] });
  // Written past the lock (an operator's edit of the budget, or costs landing): only the evaluators decide.
  const created = await call('POST', '/v1/productions', key, minute(1));
  assert.equal(created.status, 202);
  await w.svc.database.db.delete(budgetAlerts).where(eq(budgetAlerts.scope, 'tenant:race-co'));
  const a = new BudgetAlerts({ db: w.svc.database.db, events: w.svc.webhooks.emitter });
  const b = new BudgetAlerts({ db: w.svc.database.db, events: w.svc.webhooks.emitter });
  const [fromA, fromB] = await Promise.all([a.evaluate('race-co'), b.evaluate('race-co')]);
  const announced = [...fromA, ...fromB].filter((c) => c.scope === 'tenant');
  assert.equal(announced.length, 1, JSON.stringify(announced));
  assert.equal(announced[0]?.threshold, 0.5);
});

test('a storyboard edited in review is re-priced against the budget: over it, 402 with the numbers; within it, the estimate follows the edit; approval re-checks', async () => {
  const key = await tenant('review-co', { monthlyBudgetUsd: 3.5 * unitUsd });
  const created = await call('POST', '/v1/productions', key, minute(1, { review: true }));
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const id = created.body.id as string;
  // This service has no worker: the plan a worker would make is written as it would be.
  await w.svc.database.db.update(productions).set({ status: 'awaiting_review', storyboard: storyboard(1) }).where(eq(productions.id, id));

  const tooBig = await call('PATCH', `/v1/productions/${id}/storyboard`, key, storyboard(5));
  assert.equal(tooBig.status, 402, JSON.stringify(tooBig.body));
  const error = tooBig.body.error as { code: string; details: { path: string; message: string }[] };
  assert.equal(error.code, 'budget_exceeded');
  const detail = (path: string): number => Number(error.details.find((d) => d.path === path)?.message);
  assert.ok(detail('estimateUsd') > 4 * unitUsd && detail('remainingUsd') < detail('estimateUsd'), JSON.stringify(error));
  assert.ok(error.details.some((d) => d.path === 'scenes' && /shorten|raise the budget/.test(d.message)));
  assert.ok(Math.abs((await estimateOf(id)) - unitUsd) < 0.05 * unitUsd, 'a refused edit leaves the estimate');
  assert.equal(((await call('GET', `/v1/productions/${id}/storyboard`, key)).body.storyboard as { scenes: unknown[] }).scenes.length, 1, 'and the storyboard');

  const fits = await call('PATCH', `/v1/productions/${id}/storyboard`, key, storyboard(2));
  assert.equal(fits.status, 200, JSON.stringify(fits.body));
  const twoMinutes = await estimateOf(id);
  assert.ok(twoMinutes > 1.8 * unitUsd && twoMinutes < 2.2 * unitUsd, `the estimate follows the edit: ${twoMinutes}`);

  // Another production takes 1 of the 1.5 left; lowering the budget leaves the edited one unpaid for.
  assert.equal((await call('POST', '/v1/productions', key, minute(2))).status, 202);
  assert.equal((await call('PATCH', '/v1/tenants/review-co', w.svc.key, { monthlyBudgetUsd: 2.5 * unitUsd })).status, 200);
  const refused = await call('POST', `/v1/productions/${id}/approve`, key);
  assert.equal(refused.status, 402, JSON.stringify(refused.body));
  assert.equal((await w.svc.productions.get('review-co', id)).status, 'awaiting_review', 'a refused approval leaves it in review');

  assert.equal((await call('PATCH', '/v1/tenants/review-co', w.svc.key, { monthlyBudgetUsd: 3.5 * unitUsd })).status, 200);
  const approved = await call('POST', `/v1/productions/${id}/approve`, key);
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  assert.equal(approved.body.status, 'queued');
});

test('the operator-wide budget: its thresholds go to the default tenant\'s webhooks once; creates past it are refused with 503 operator_budget_exhausted', async () => {
  const secret = await budgetHook(w.svc.key, '/operator');
  const key = await tenant('big-co', {});
  let refused: { status: number; body: Json } | undefined;
  for (let i = 0; i < OPERATOR_BUDGET_USD / unitUsd + 2 && !refused; i++) {
    const res = await call('POST', '/v1/productions', key, minute(i));
    if (res.status !== 202) refused = res;
  }
  assert.equal(refused?.status, 503, JSON.stringify(refused?.body));
  const error = refused?.body.error as { code: string; message: string; details: { path?: string; message: string }[] };
  assert.equal(error.code, 'operator_budget_exhausted');
  assert.ok(error.details.some((d) => d.path === 'operatorMonthlyBudgetUsd' && d.message === String(OPERATOR_BUDGET_USD)), JSON.stringify(error));
  assert.ok(error.details.some((d) => /OPERATOR_MONTHLY_BUDGET_USD/.test(d.message)));
  const spent = Number(error.details.find((d) => d.path === 'spentUsd')?.message);
  assert.ok(spent + unitUsd > OPERATOR_BUDGET_USD && spent <= OPERATOR_BUDGET_USD + 1e-6, `refused only once the next one would not fit: ${spent}`);

  // Thresholds 1,0.5,0.5 are 0.5 and 1; 1 is reached only when the spend lands on the budget exactly.
  const crossed = [0.5, 1].filter((t) => spent >= t * OPERATOR_BUDGET_USD - 1e-6);
  const received = await receiver.waitFor((all) => all.filter((r) => r.path === '/operator').length >= crossed.length);
  const events = received.filter((r) => r.path === '/operator').map((r) => verifyWebhook(r.body, r.headers['aiprod-signature'] as string, secret));
  const budgets = events.map((e) => (e.data as { budget: Json }).budget);
  assert.deepEqual(budgets.map((b) => b.threshold).sort(), crossed);
  assert.ok(budgets.every((b) => b.scope === 'operator' && b.tenantId === null && b.budgetUsd === OPERATOR_BUDGET_USD), JSON.stringify(budgets));
  const rows = await w.svc.database.db.select().from(budgetAlerts).where(eq(budgetAlerts.scope, 'operator'));
  assert.deepEqual(rows.map((r) => r.threshold).sort(), crossed);
  for (const t of crossed) assert.equal(await counter('operator', String(t)), 1);
  const audit = await w.svc.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'budget.threshold_crossed'), eq(auditLog.target, 'operator')));
  assert.equal(audit.length, crossed.length);
});
