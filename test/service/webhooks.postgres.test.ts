/**
 * Webhooks on the machine's real PostgreSQL (TEST_DATABASE_URL), on a database made for this file:
 * two service instances, each with its own delivery worker, compete for the same deliveries — every
 * event is delivered once, and the events of one production in order, through real row locks. An
 * event emitted in a transaction that rolls back does not exist. Skipped when TEST_DATABASE_URL is unset.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { webhookDeliveries } from '../../src/db/schema.js';
import type { WebhookOptions } from '../../src/webhooks/config.js';
import { verifyWebhook } from '../../src/webhooks/verify.js';
import { freshPostgres } from './harness.js';
import { Receiver, startWebhookService, type WebhookTestService } from './webhooks.harness.js';
import { postgresOrSkip } from '../support/services.js';

const { base, skip } = postgresOrSkip();
const OPTIONS: WebhookOptions = { retryScheduleSec: [0, 0.2, 0.2, 0.2], timeoutMs: 1000, allowHosts: ['receiver.test'], catchUpIntervalSec: 3600 };

let a: WebhookTestService;
let b: WebhookTestService;
let receiver: Receiver;
let drop: (() => Promise<void>) | undefined;

before(async () => {
  if (!base) return;
  const db = await freshPostgres(base);
  drop = db.drop;
  receiver = await Receiver.start();
  a = await startWebhookService({ databaseUrl: db.url, webhooks: OPTIONS, concurrency: 2 });
  b = await startWebhookService({ databaseUrl: db.url, webhooks: OPTIONS, concurrency: 2 });
});
after(async () => {
  await b?.stop();
  await a?.stop();
  receiver?.close();
  await drop?.();
});

const auth = () => ({ authorization: `Bearer ${a.svc.key}` });

test('two instances deliver every event once, and each production’s events in order', { skip }, async () => {
  const created = await a.svc.app!.inject({ method: 'POST', url: '/v1/webhooks', headers: auth(), payload: { url: receiver.url('/pg'), events: ['production.progress', 'production.canceled'] } });
  assert.equal(created.statusCode, 201, created.body);
  const secret = created.json().secret as string;
  // The first attempt of every progress event fails: its production's canceled event must wait.
  const tried = new Set<string>();
  receiver.on('/pg', (r) => {
    if (r.event.type !== 'production.progress' || tried.has(r.event.id)) return {};
    tried.add(r.event.id);
    return { status: 500 };
  });
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await a.svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: auth(), payload: { prompt: `webhook order ${i}` } });
    ids.push(res.json().id as string);
  }
  for (const [i, id] of ids.entries()) {
    await a.svc.database.db.transaction((tx) => a.webhooks.emitter.emit(tx, id, 'production.progress'));
    const api = i % 2 === 0 ? a : b;
    assert.equal((await api.svc.app!.inject({ method: 'POST', url: `/v1/productions/${id}/cancel`, headers: auth() })).statusCode, 200);
  }
  await receiver.waitFor((all) => all.filter((r) => r.path === '/pg' && r.event.type === 'production.canceled').length === ids.length, 60_000);
  const hits = receiver.at('/pg');
  for (const id of ids) {
    const mine = hits.filter((r) => r.event.data.production.id === id);
    assert.deepEqual(mine.map((r) => [r.event.type, r.status]), [['production.progress', 500], ['production.progress', 200], ['production.canceled', 200]], `production ${id}`);
    for (const r of mine) verifyWebhook(r.body, r.headers['aiprod-signature'], secret);
  }
  const delivered = hits.filter((r) => r.status === 200).map((r) => r.event.id);
  assert.equal(new Set(delivered).size, delivered.length, 'no event delivered twice');
});

test('an event emitted in a transaction that rolls back does not exist', { skip }, async () => {
  const res = await a.svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: auth(), payload: { prompt: 'a rolled back change' } });
  const id = res.json().id as string;
  await assert.rejects(
    a.svc.database.db.transaction(async (tx) => {
      assert.equal(await a.webhooks.emitter.emit(tx, id, 'production.progress'), 1);
      throw new Error('the status change failed');
    }),
    /the status change failed/,
  );
  assert.deepEqual(await a.svc.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.productionId, id)), []);
  const { rows } = await a.svc.database.executeSql(`select count(*)::int as n from pgboss.job where name = 'aiprod.webhook' and state = 'created'`);
  assert.equal((rows[0] as { n: number }).n, 0, 'no job either');
});
