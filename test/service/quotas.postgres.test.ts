/**
 * Tier quotas across API processes on the real PostgreSQL (TEST_DATABASE_URL): two service
 * instances on one database, each with its own pool and its own in-process locks, take a burst of
 * creates for one tenant at its unfinished-productions quota; never more than the quota is
 * accepted. Skipped, with the reason, when TEST_DATABASE_URL is unset.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { productions } from '../../src/db/schema.js';
import { freshPostgres, startTestService, type TestService } from './harness.js';

const base = process.env.TEST_DATABASE_URL;
const skip = base ? false : 'TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)';
let a: TestService;
let b: TestService;
let drop: (() => Promise<void>) | undefined;

before(async () => {
  if (!base) return;
  const db = await freshPostgres(base);
  drop = db.drop;
  // Role api on both: nothing renders, so every accepted production stays unfinished.
  const env = { RATE_LIMIT_PRO_PER_MIN: '0', PRICE_PER_VIDEO_MINUTE_USD: '0.1' };
  a = await startTestService({ databaseUrl: db.url, role: 'api', env });
  b = await startTestService({ databaseUrl: db.url, role: 'api', env });
});
after(async () => {
  await b?.stop();
  await a?.stop();
  await drop?.();
});

async function tenantKey(id: string, tier: string, monthlyBudgetUsd?: number): Promise<Record<string, string>> {
  await a.access.createTenant({ actor: 'test' }, { id, name: id, tier: tier as 'pro', ...(monthlyBudgetUsd !== undefined ? { monthlyBudgetUsd } : {}) });
  const { key } = await a.access.createKey({ actor: 'test' }, { tenantId: id, name: 'w', scopes: ['productions:write', 'productions:read'] });
  return { authorization: `Bearer ${key}` };
}

test('two API instances never accept more than the unfinished-productions quota together', { skip }, async () => {
  // Five tenants at once, each with a burst from both instances: the race has many chances.
  const tenants = await Promise.all(Array.from({ length: 5 }, async (_, t) => ({ id: `racer${t}`, auth: await tenantKey(`racer${t}`, 'pro') }))); // 25 unfinished at once
  const requests = tenants.flatMap(({ auth }) => [
    ...Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).app!.inject({
      method: 'POST', url: '/v1/productions', headers: auth, payload: { prompt: `racing idea ${i}`, resolution: '480p' },
    })),
    // Batches of two from both sides too, in the same burst.
    ...Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? b : a).app!.inject({
      method: 'POST', url: '/v1/productions/batch', headers: auth, payload: { productions: [{ prompt: `batch ${i} one`, resolution: '480p' }, { prompt: `batch ${i} two`, resolution: '480p' }] },
    })),
  ]);
  const results = await Promise.all(requests);
  for (const r of results) assert.ok(r.statusCode === 202 || (r.statusCode === 403 && r.json().error.code === 'quota_exceeded'), `${r.statusCode} ${r.body}`);
  for (const { id } of tenants) {
    const rows = await a.database.db.select({ id: productions.id }).from(productions).where(eq(productions.tenantId, id));
    assert.equal(rows.length, 25, `${id}: accepted ${rows.length} of a quota of 25`);
  }
});

test("each production's estimate is stored with it, and two instances never overrun a monthly budget", { skip }, async () => {
  // 0.1 USD per minute of video; a 60 s brief is about 0.1 USD: a budget of 0.35 fits three.
  const auth = await tenantKey('thrifty', 'enterprise', 0.35);
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).app!.inject({
    method: 'POST', url: '/v1/productions', headers: auth, payload: { prompt: `a one minute idea number ${i}`, targetDurationSec: 60, resolution: '480p' },
  })));
  const accepted = results.filter((r) => r.statusCode === 202).length;
  assert.ok(results.every((r) => r.statusCode === 202 || r.json().error.code === 'budget_exceeded'), results.map((r) => r.body).join('\n'));
  const rows = await a.database.db.select({ usd: productions.estimatedUsd }).from(productions).where(eq(productions.tenantId, 'thrifty'));
  assert.equal(rows.length, accepted);
  assert.ok(rows.every((r) => (r.usd ?? 0) > 0), 'every accepted production carries its estimate');
  const spent = rows.reduce((s, r) => s + (r.usd ?? 0), 0);
  assert.ok(spent <= 0.35 + 1e-9, `estimates of ${spent} USD accepted against a budget of 0.35`);
  assert.ok(accepted >= 1);
});
