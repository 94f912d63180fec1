/**
 * The quota check inside a create's transaction reads the tenant through that transaction. On
 * PGlite every query waits on one lock, so a read through the outer database inside the
 * transaction would wait for it forever and freeze the process; on PostgreSQL it would take a
 * second pool connection per create. The tenant cache is turned off here so every check reads.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { QuotaService } from '../../src/services/quotas.service.js';
import { createTenant } from '../../src/services/tenants.service.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
let quotas: QuotaService;

before(async () => {
  svc = await startTestService({ role: 'api' });
  await createTenant(svc.database.db, { id: 'freeco', name: 'Free Co', tier: 'free' });
  await createTenant(svc.database.db, { id: 'proco', name: 'Pro Co', tier: 'pro', monthlyBudgetUsd: 100 });
  quotas = new QuotaService(svc.database.db, svc.productions, undefined, { tenantCacheMs: 0 });
});
after(async () => {
  await svc?.stop();
});

const brief = (n: number): Record<string, unknown> => ({
  scenes: [{ narration: `Job ${n}.`, durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } }],
  resolution: '480p',
});

/** The create, or a rejection once a generous deadline passes (a frozen process never answers). */
async function settles<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the create never finished: the quota check waits on the database lock')), 30_000);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

test("a limited tenant's create completes when the tenant cache has expired (free and pro with a budget, single and batch)", async () => {
  const one = await settles(quotas.create('freeco', brief(1)));
  assert.equal((await svc.productions.get('freeco', one.id)).status, 'queued');
  const two = await settles(quotas.create('proco', brief(2)));
  assert.equal((await svc.productions.get('proco', two.id)).status, 'queued');
  const batch = await settles(quotas.createBatch('proco', [brief(3), brief(4)]));
  assert.equal(batch.ids.length, 2);
});
