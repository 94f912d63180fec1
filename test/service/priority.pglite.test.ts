/**
 * Priority is capped by the tenant's tier (free 0, pro 5, enterprise 10): a free tenant asking for
 * priority 10 gets 0, stored and queued, so it does not jump earlier enterprise jobs. The cap
 * applies to single creates, batches and the legacy API alike.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inArray } from 'drizzle-orm';
import { productions } from '../../src/db/schema.js';
import { QuotaService } from '../../src/services/quotas.service.js';
import { createTenant } from '../../src/services/tenants.service.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
let quotas: QuotaService;

before(async () => {
  svc = await startTestService({ role: 'api' });
  await createTenant(svc.database.db, { id: 'freeco', name: 'Free Co', tier: 'free' });
  await createTenant(svc.database.db, { id: 'proco', name: 'Pro Co', tier: 'pro' });
  await createTenant(svc.database.db, { id: 'bigco', name: 'Big Co', tier: 'enterprise' });
  quotas = new QuotaService(svc.database.db, svc.productions);
});
after(async () => {
  await svc?.stop();
});

const brief = (n: number, priority?: number): Record<string, unknown> => ({
  scenes: [{ narration: `Job ${n}.`, durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } }],
  resolution: '480p',
  ...(priority === undefined ? {} : { priority }),
});

/** The order pg-boss takes waiting render jobs in: priority first, then age. */
async function queueOrder(ids: string[]): Promise<{ id: string; priority: number }[]> {
  const { rows } = await svc.database.executeSql(
    `select data->>'productionId' as id, priority from pgboss.job where name = 'aiprod.render' and state = 'created'
      and data->>'productionId' = any(string_to_array($1, ',')) order by priority desc, created_on, id`,
    [ids.join(',')],
  );
  return rows as { id: string; priority: number }[];
}

test("a free tenant's priority 10 is stored and queued as 0: it does not jump earlier enterprise jobs", async () => {
  const earlier: string[] = [];
  for (let i = 0; i < 4; i++) earlier.push((await quotas.create('bigco', brief(i))).id);
  const free = await quotas.create('freeco', brief(9, 10));
  const [row] = await svc.database.db.select().from(productions).where(inArray(productions.id, [free.id]));
  assert.equal(row?.priority, 0);
  assert.equal((await svc.productions.get('freeco', free.id)).priority, 0, 'the production shows the priority it got');
  const order = await queueOrder([...earlier, free.id]);
  assert.deepEqual(order.map((j) => j.id), [...earlier, free.id], 'the enterprise jobs run first');
  assert.equal(order.at(-1)?.priority, 0);
});

test('pro is capped at 5, enterprise keeps the full range; batches are capped too', async () => {
  const pro = await quotas.create('proco', brief(20, 9));
  const big = await quotas.create('bigco', brief(21, 10));
  assert.equal((await svc.productions.get('proco', pro.id)).priority, 5);
  assert.equal((await svc.productions.get('bigco', big.id)).priority, 10);
  const batch = await quotas.createBatch('freeco', [brief(22, 10), brief(23, 3)]);
  const rows = await svc.database.db.select().from(productions).where(inArray(productions.id, batch.ids));
  assert.deepEqual(rows.map((r) => r.priority), [0, 0]);
  assert.deepEqual((await queueOrder(batch.ids)).map((j) => j.priority), [0, 0]);
});
