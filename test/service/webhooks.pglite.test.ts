/**
 * Webhooks end to end on PGlite against a real receiver: endpoints and their secrets (shown once,
 * stored encrypted), signed deliveries verified with the shipped helper, retries on 500s and
 * timeouts, order within a production, SSRF refusals at creation and at send time, disabling after
 * failures, redelivery, the catch-up, tenant isolation, events from a real render and from the
 * sweeper, and a delivery that survives a restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import * as repo from '../../src/db/productions.repository.js';
import { webhookDeliveries, webhooks } from '../../src/db/schema.js';
import { sweepStalls } from '../../src/jobs/sweeper.js';
import type { WebhookOptions } from '../../src/webhooks/config.js';
import { verifyWebhook } from '../../src/webhooks/verify.js';
import { eventually, Receiver, startRenderWorker, startWebhookService, type Received, type WebhookTestService } from './webhooks.harness.js';

const OPTIONS: WebhookOptions = {
  retryScheduleSec: [0, 0.3, 0.3],
  timeoutMs: 500,
  disableAfterFailures: 2,
  allowHosts: ['receiver.test'],
  catchUpIntervalSec: 3600,
};

let w: WebhookTestService;
let receiver: Receiver;
before(async () => {
  receiver = await Receiver.start();
  w = await startWebhookService({ webhooks: OPTIONS });
});
after(async () => {
  await w?.stop();
  receiver?.close();
});

type Json = Record<string, unknown>;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, key: string, payload?: Json): Promise<{ status: number; body: Json }> {
  const res = await w.svc.app!.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.body ? (res.json() as Json) : {} };
}

const ALL = ['production.succeeded', 'production.failed', 'production.canceled', 'production.awaiting_review'];

async function createWebhook(key: string, path: string, events: string[] = ALL): Promise<{ id: string; secret: string }> {
  const res = await call('POST', '/v1/webhooks', key, { url: receiver.url(path), events });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: (res.body.webhook as Json).id as string, secret: res.body.secret as string };
}

/** A production no worker renders (this service has the API role), canceled: one production.canceled event. */
async function canceledProduction(key: string, extra: Json = {}): Promise<string> {
  const id = await queuedProduction(key, extra);
  const canceled = await call('POST', `/v1/productions/${id}/cancel`, key);
  assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
  return id;
}

async function queuedProduction(key: string, extra: Json = {}): Promise<string> {
  const res = await call('POST', '/v1/productions', key, { prompt: 'a teaser for a webhook test', ...extra });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.id as string;
}

async function tenantKey(id: string): Promise<string> {
  const tenant = await call('POST', '/v1/tenants', w.svc.key, { id, name: id, tier: 'enterprise' });
  assert.ok(tenant.status === 201 || tenant.status === 409, JSON.stringify(tenant.body));
  const key = await call('POST', '/v1/api-keys', w.svc.key, { name: `${id} hooks`, scopes: ['webhooks', 'productions:write', 'productions:read'], tenantId: id });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  return key.body.key as string;
}

async function delivery(id: string): Promise<typeof webhookDeliveries.$inferSelect | undefined> {
  const [row] = await w.svc.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  return row;
}

const deliveriesOf = async (productionId: string) =>
  w.svc.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.productionId, productionId));

test('a webhook is created with a secret shown once and stored encrypted; changes are audited', async () => {
  const key = await tenantKey('hooks-crud');
  const created = await call('POST', '/v1/webhooks', key, { url: receiver.url('/crud'), events: ['production.succeeded', 'production.failed'] });
  assert.equal(created.status, 201);
  const secret = created.body.secret as string;
  assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
  const hook = created.body.webhook as Json;
  assert.deepEqual({ enabled: hook.enabled, consecutiveFailures: hook.consecutiveFailures, events: hook.events }, { enabled: true, consecutiveFailures: 0, events: ['production.succeeded', 'production.failed'] });
  const id = hook.id as string;

  const [row] = await w.svc.database.db.select().from(webhooks).where(eq(webhooks.id, id));
  assert.match(row?.secret ?? '', /^enc:v1:/);
  assert.ok(!row?.secret.includes(secret) && !row?.secret.includes(secret.slice(6)) && !row?.secret.includes(Buffer.from(secret).toString('base64')), 'no plaintext at rest');
  const read = await call('GET', `/v1/webhooks/${id}`, key);
  assert.equal(read.status, 200);
  assert.ok(!JSON.stringify(read.body).includes(secret) && !('secret' in read.body), 'never shown again');
  assert.deepEqual(((await call('GET', '/v1/webhooks', key)).body.data as Json[]).map((h) => h.id), [id]);

  const patched = await call('PATCH', `/v1/webhooks/${id}`, key, { events: ['production.canceled'], enabled: false });
  assert.equal(patched.status, 200);
  assert.deepEqual(patched.body.events, ['production.canceled']);
  assert.equal(patched.body.enabled, false);
  assert.match(patched.body.disabledReason as string, /^disabled by key:/);
  assert.equal((await call('PATCH', `/v1/webhooks/${id}`, key, { enabled: true })).body.disabledReason, null);

  const rotated = await call('POST', `/v1/webhooks/${id}/rotate-secret`, key);
  assert.equal(rotated.status, 200);
  assert.notEqual(rotated.body.secret, secret);
  const [after] = await w.svc.database.db.select().from(webhooks).where(eq(webhooks.id, id));
  assert.notEqual(after?.secret, row?.secret);
  assert.equal(w.svc.secrets.open(after?.secret ?? '', `webhook:${id}`), rotated.body.secret);

  for (const [body, field] of [[{ url: receiver.url('/x'), events: [] }, 'events'], [{ url: receiver.url('/x'), events: ['production.started'] }, 'events.0'], [{ url: 'ftp://example.com/x', events: ALL }, 'url']] as const) {
    const bad = await call('POST', '/v1/webhooks', key, body as unknown as Json);
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.equal(((bad.body.error as Json).details as Json[])[0]?.path, field);
  }
  const reader = await call('POST', '/v1/api-keys', w.svc.key, { name: 'reader', scopes: ['productions:read'], tenantId: 'hooks-crud' });
  assert.equal((await call('GET', '/v1/webhooks', reader.body.key as string)).status, 403, 'the webhooks scope is needed');

  assert.equal((await call('DELETE', `/v1/webhooks/${id}`, key)).status, 204);
  assert.equal((await call('GET', `/v1/webhooks/${id}`, key)).status, 404);
  const audit = await call('GET', '/v1/audit?tenantId=hooks-crud&limit=50', w.svc.key);
  const actions = (audit.body.data as Json[]).filter((e) => e.target === id).map((e) => e.action);
  assert.deepEqual(actions.sort(), ['webhook.created', 'webhook.deleted', 'webhook.secret_rotated', 'webhook.updated', 'webhook.updated'].sort());
});

test('URLs that reach inside the network are refused with 422 unsafe_url, for webhooks and briefs', async () => {
  const key = await tenantKey('hooks-ssrf');
  for (const url of ['http://10.0.0.1/x', `http://127.0.0.1:${receiver.port}/`, 'http://169.254.169.254/latest/meta-data', 'http://localhost:8080/hook', 'http://[::1]/hook', 'http://user:pw@example.com/hook']) {
    const res = await call('POST', '/v1/webhooks', key, { url, events: ALL });
    assert.equal(res.status, 422, `${url}: ${JSON.stringify(res.body)}`);
    assert.equal((res.body.error as Json).code, 'unsafe_url');
    assert.equal(((res.body.error as Json).details as Json[])[0]?.path, 'url');
  }
  const { id } = await createWebhook(key, '/ssrf');
  assert.equal((await call('PATCH', `/v1/webhooks/${id}`, key, { url: 'http://192.168.1.10/hook' })).status, 422);
  const brief = await call('POST', '/v1/productions', key, { prompt: 'an idea', webhookUrl: 'http://10.1.2.3/hook' });
  assert.equal(brief.status, 422, JSON.stringify(brief.body));
  assert.equal((brief.body.error as Json).code, 'unsafe_url');
  assert.equal(((brief.body.error as Json).details as Json[])[0]?.path, 'webhookUrl');
});

test('a delivery is signed: the shipped helper verifies it; a brief’s webhookUrl uses the tenant secret', async () => {
  const key = await tenantKey('hooks-signed');
  const hook = await createWebhook(key, '/signed');
  const tenantSecret = (await call('POST', '/v1/webhooks/default-secret', key)).body.secret as string;
  assert.match(tenantSecret, /^whsec_/);
  const production = await canceledProduction(key, { webhookUrl: receiver.url('/brief') });
  await receiver.waitFor(() => receiver.at('/signed').length === 1 && receiver.at('/brief').length === 1);
  const [signed] = receiver.at('/signed') as [Received];
  const [brief] = receiver.at('/brief') as [Received];

  const event = verifyWebhook<{ production: Json }>(signed.body, signed.headers['aiprod-signature'], hook.secret);
  assert.equal(event.type, 'production.canceled');
  assert.equal(event.data.production.id, production);
  assert.equal(event.data.production.status, 'canceled');
  assert.deepEqual(event.data.production.links, { self: `/v1/productions/${production}`, events: `/v1/productions/${production}/events`, storyboard: `/v1/productions/${production}/storyboard` });
  assert.ok(Math.abs(Date.parse(event.time) - Date.now()) < 60_000);
  assert.equal(signed.headers['aiprod-event-id'], event.id);
  assert.equal(signed.headers['aiprod-event-type'], 'production.canceled');
  assert.equal(signed.headers['aiprod-attempt'], '1');
  assert.equal(signed.headers['content-type'], 'application/json');
  assert.match(signed.headers['aiprod-signature'] as string, /^t=\d{10},v1=[0-9a-f]{64}$/);
  assert.throws(() => verifyWebhook(signed.body, signed.headers['aiprod-signature'], tenantSecret), /no signature matches/);

  assert.equal(verifyWebhook(brief.body, brief.headers['aiprod-signature'], tenantSecret).id, event.id, 'one event, two endpoints');

  // The receiver has answered; the attempt is recorded just after.
  const [listed] = await eventually(async () => {
    const data = (await call('GET', `/v1/webhooks/${hook.id}/deliveries`, key)).body.data as Json[];
    return data[0]?.status === 'delivered' && data;
  }, 'the delivery recorded');
  assert.deepEqual({ status: listed?.status, attemptCount: listed?.attemptCount, lastStatusCode: listed?.lastStatusCode, eventId: listed?.eventId }, { status: 'delivered', attemptCount: 1, lastStatusCode: 200, eventId: event.id });
  assert.equal(listed?.id, signed.headers['aiprod-delivery-id']);
  const detail = await call('GET', `/v1/webhooks/deliveries/${listed?.id as string}`, key);
  const [attempt] = detail.body.attempts as Json[];
  assert.equal(attempt?.statusCode, 200);
  assert.equal(attempt?.responseStart, 'ok');
  assert.equal(typeof attempt?.latencyMs, 'number');
  assert.equal((detail.body.payload as Json).id, event.id);
  const byProduction = await call('GET', `/v1/webhooks/deliveries?productionId=${production}`, key);
  assert.deepEqual((byProduction.body.data as Json[]).map((d) => d.webhookId).sort(), [hook.id, null].sort());
});

test('a 500 and a timeout are retried on the schedule, every attempt logged', async () => {
  const key = await tenantKey('hooks-retry');
  receiver.on('/flaky', (_r, n) => (n === 1 ? { status: 500, body: 'boom' } : n === 2 ? { status: 200, delayMs: 1500 } : {}));
  const hook = await createWebhook(key, '/flaky', ['production.canceled']);
  await canceledProduction(key);
  const received = await receiver.waitFor(() => receiver.at('/flaky').length === 3);
  const hits = received.filter((r) => r.path === '/flaky');
  assert.deepEqual(hits.map((r) => r.headers['aiprod-attempt']), ['1', '2', '3']);
  assert.equal(new Set(hits.map((r) => r.headers['aiprod-event-id'])).size, 1, 'the same event each time');
  for (const r of hits) assert.equal(verifyWebhook(r.body, r.headers['aiprod-signature'], hook.secret).type, 'production.canceled');
  assert.ok((hits[1]?.at ?? 0) - (hits[0]?.at ?? 0) >= 250, 'waited for the schedule');
  const id = hits[0]?.headers['aiprod-delivery-id'] as string;
  const done = await eventually(async () => (await delivery(id))?.status === 'delivered' && delivery(id), 'delivered');
  assert.equal(done?.attempts, 3);
  const attempts = (await call('GET', `/v1/webhooks/deliveries/${id}`, key)).body.attempts as Json[];
  assert.deepEqual(attempts.map((a) => a.statusCode), [500, null, 200]);
  assert.equal(attempts[0]?.responseStart, 'boom');
  assert.match(attempts[1]?.error as string, /timeout: no answer within 500 ms/);
  const metric = await w.registry.getSingleMetric('aiprod_webhook_attempts_total')?.get();
  assert.ok((metric?.values.find((v) => v.labels.outcome === 'retrying')?.value ?? 0) >= 2);
});

test('events of one production reach an endpoint in order: a later one waits for the earlier', async () => {
  const key = await tenantKey('hooks-order');
  receiver.on('/order', (r, n) => (r.event.type === 'production.progress' && n <= 2 ? { status: 503 } : {}));
  await createWebhook(key, '/order', ['production.progress', 'production.canceled']);
  const production = await queuedProduction(key);
  // A render would emit this; here it comes straight from the emitter, then the cancel follows at once.
  await w.svc.database.db.transaction((tx) => w.webhooks.emitter.emit(tx, production, 'production.progress'));
  await call('POST', `/v1/productions/${production}/cancel`, key);
  await receiver.waitFor(() => receiver.at('/order').some((r) => r.event.type === 'production.canceled'));
  assert.deepEqual(receiver.at('/order').map((r) => [r.event.type, r.status]), [
    ['production.progress', 503], ['production.progress', 503], ['production.progress', 200], ['production.canceled', 200],
  ]);
});

test('an endpoint failing delivery after delivery is disabled (audited, counted); enabled again, a delivery is redelivered', async () => {
  const key = await tenantKey('hooks-down');
  let up = false;
  receiver.on('/down', () => (up ? {} : { status: 503, body: 'down for maintenance' }));
  const hook = await createWebhook(key, '/down', ['production.canceled']);
  await canceledProduction(key);
  await canceledProduction(key);
  const disabled = await eventually(async () => {
    const res = await call('GET', `/v1/webhooks/${hook.id}`, key);
    return res.body.enabled === false && res.body;
  }, 'the webhook disabled');
  assert.equal(disabled.consecutiveFailures, 2);
  assert.match(disabled.disabledReason as string, /2 deliveries in a row failed after 3 attempts each; last: HTTP 503/);
  assert.equal(receiver.at('/down').length, 6);
  const audit = await call('GET', '/v1/audit?action=webhook.disabled&tenantId=hooks-down', w.svc.key);
  assert.deepEqual((audit.body.data as Json[]).map((e) => [e.actor, e.target]), [['system', hook.id]]);
  assert.equal((await w.registry.getSingleMetric('aiprod_webhook_endpoints_disabled_total')?.get())?.values[0]?.value, 1);

  await canceledProduction(key);
  const log = (await call('GET', `/v1/webhooks/${hook.id}/deliveries`, key)).body.data as Json[];
  assert.equal(log.length, 2, 'a disabled endpoint gets no new deliveries');
  assert.ok(log.every((d) => d.status === 'failed' && d.attemptCount === 3));

  up = true;
  const failed = log[0]?.id as string;
  assert.equal((await call('POST', `/v1/webhooks/deliveries/${failed}/redeliver`, key)).status, 409, 'enable it first');
  const enabled = await call('PATCH', `/v1/webhooks/${hook.id}`, key, { enabled: true });
  assert.deepEqual([enabled.body.enabled, enabled.body.consecutiveFailures, enabled.body.disabledReason], [true, 0, null]);
  const again = await call('POST', `/v1/webhooks/deliveries/${failed}/redeliver`, key);
  assert.equal(again.status, 202, JSON.stringify(again.body));
  assert.notEqual(again.body.id, failed);
  assert.equal(again.body.eventId, log[0]?.eventId);
  const [hit] = await receiver.waitFor(() => receiver.at('/down').some((r) => r.status === 200)).then(() => receiver.at('/down').filter((r) => r.status === 200));
  assert.equal(hit?.headers['aiprod-event-id'], log[0]?.eventId);
  assert.equal(hit?.headers['aiprod-delivery-id'], again.body.id);
  assert.equal(verifyWebhook(hit?.body ?? '', hit?.headers['aiprod-signature'], hook.secret).id, log[0]?.eventId);
});

test('at send time a name that now resolves to a private address is refused (DNS rebinding)', async () => {
  const key = await tenantKey('hooks-rebind');
  w.names.set('rebind.test', '93.184.216.34');
  const created = await call('POST', '/v1/webhooks', key, { url: receiver.url('/rebind', 'rebind.test'), events: ['production.canceled'] });
  assert.equal(created.status, 201, 'a public address when created');
  w.names.set('rebind.test', '127.0.0.1');
  const production = await canceledProduction(key);
  const [row] = await eventually(async () => {
    const rows = await deliveriesOf(production);
    return rows[0]?.status === 'failed' && rows;
  }, 'the delivery given up');
  const attempts = (await call('GET', `/v1/webhooks/deliveries/${row?.id as string}`, key)).body.attempts as Json[];
  assert.equal(attempts.length, 3);
  for (const a of attempts) {
    assert.equal(a.statusCode, null);
    assert.match(a.error as string, /^unsafe_url: url: http:\/\/rebind\.test:\d+\/rebind resolves to a loopback address 127\.0\.0\.1/);
  }
  assert.equal(receiver.at('/rebind').length, 0);
});

test("isolation: a tenant never sees another's webhooks or deliveries, nor events of its productions", async () => {
  const a = await tenantKey('hooks-a');
  const b = await tenantKey('hooks-b');
  const hookA = await createWebhook(a, '/tenant-a', ['production.canceled']);
  await createWebhook(b, '/tenant-b', ['production.canceled']);
  const pa = await canceledProduction(a);
  const pb = await canceledProduction(b);
  await receiver.waitFor(() => receiver.at('/tenant-a').length === 1 && receiver.at('/tenant-b').length === 1);
  assert.equal(receiver.at('/tenant-a')[0]?.event.data.production.id, pa);
  assert.equal(receiver.at('/tenant-b')[0]?.event.data.production.id, pb);
  const deliveryA = receiver.at('/tenant-a')[0]?.headers['aiprod-delivery-id'] as string;
  for (const [method, url, body] of [
    ['GET', `/v1/webhooks/${hookA.id}`],
    ['PATCH', `/v1/webhooks/${hookA.id}`, { enabled: false }],
    ['DELETE', `/v1/webhooks/${hookA.id}`],
    ['POST', `/v1/webhooks/${hookA.id}/rotate-secret`],
    ['GET', `/v1/webhooks/${hookA.id}/deliveries`],
    ['GET', `/v1/webhooks/deliveries/${deliveryA}`],
    ['POST', `/v1/webhooks/deliveries/${deliveryA}/redeliver`],
  ] as const) {
    const res = await call(method, url, b, body as Json | undefined);
    assert.equal(res.status, 404, `${method} ${url} as the other tenant: ${JSON.stringify(res.body)}`);
  }
  assert.ok(!((await call('GET', '/v1/webhooks', b)).body.data as Json[]).some((h) => h.id === hookA.id));
  assert.equal(((await call('GET', `/v1/webhooks/deliveries?productionId=${pa}`, b)).body.data as Json[]).length, 0);
  assert.equal((await call('GET', `/v1/webhooks/${hookA.id}`, a)).body.enabled, true, 'untouched');
});

test('a pending delivery whose job was lost is given a new one by the catch-up', async () => {
  const key = await tenantKey('hooks-catchup');
  await createWebhook(key, '/catchup', ['production.progress']);
  const production = await queuedProduction(key);
  await w.svc.database.db.transaction(async (tx) => {
    await w.webhooks.emitter.emit(tx, production, 'production.progress');
    // Lost before any worker saw it, and long overdue.
    await tx.execute(sql`delete from pgboss.job where name = 'aiprod.webhook' and data->>'deliveryId' in (select id from webhook_deliveries where production_id = ${production})`);
    await tx.update(webhookDeliveries).set({ nextAttemptAt: new Date(Date.now() - 3600_000) }).where(eq(webhookDeliveries.productionId, production));
  });
  const [pending] = await deliveriesOf(production);
  assert.equal(pending?.status, 'pending');
  assert.deepEqual(await w.webhooks.catchUp(), [pending?.id]);
  await receiver.waitFor(() => receiver.at('/catchup').length === 1);
  await eventually(async () => (await delivery(pending?.id ?? ''))?.status === 'delivered', 'delivered');
});

test('the sweeper fails a production whose worker is lost, and production.failed is delivered', async () => {
  const key = await tenantKey('hooks-lost');
  await createWebhook(key, '/lost', ['production.failed']);
  const production = await queuedProduction(key);
  await repo.updateProduction(w.svc.database.db, production, { status: 'rendering', attempts: 3, workerId: 'dead', heartbeatAt: new Date(Date.now() - 3600_000) });
  const swept = await sweepStalls(w.svc.database, w.svc.queue, { stallTimeoutSec: 5, maxAttempts: 3, queuedGraceSec: 3600, events: w.webhooks.emitter });
  assert.deepEqual(swept.failed, [production]);
  const [hit] = await receiver.waitFor(() => receiver.at('/lost').length === 1).then(() => receiver.at('/lost'));
  assert.equal(hit?.event.type, 'production.failed');
  assert.equal((hit?.event.data.production.error as Json | null)?.code, 'worker_lost');
});

test('a render emits awaiting_review, progress once per 10 % and succeeded with its outputs, in order', async () => {
  const key = await tenantKey('hooks-render');
  const hook = await createWebhook(key, '/render', [...ALL, 'production.progress']);
  await startRenderWorker(w.svc, w.webhooks.emitter);
  const res = await call('POST', '/v1/productions', key, {
    scenes: [{ narration: 'Webhooks tell you when it is done.', durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } }],
    resolution: '480p', fps: 24, review: true,
  });
  const id = res.body.id as string;
  await receiver.waitFor(() => receiver.at('/render').some((r) => r.event.type === 'production.awaiting_review'), 120_000);
  assert.equal((await call('POST', `/v1/productions/${id}/approve`, key)).status, 200);
  await receiver.waitFor(() => receiver.at('/render').some((r) => r.event.type === 'production.succeeded'), 120_000);
  const hits = receiver.at('/render');
  for (const r of hits) verifyWebhook(r.body, r.headers['aiprod-signature'], hook.secret);
  const types = hits.map((r) => r.event.type);
  assert.equal(types[0], 'production.awaiting_review');
  assert.equal(types.at(-1), 'production.succeeded');
  const progress = hits.filter((r) => r.event.type === 'production.progress').map((r) => r.event.data.production.progress);
  assert.ok(progress.length >= 3 && progress.length <= 10, `progress events: ${progress.join(', ')}`);
  assert.deepEqual([...progress].sort((x, y) => x - y), progress, 'increasing');
  const done = hits.at(-1)?.event.data.production;
  assert.equal(done?.status, 'succeeded');
  assert.ok(done?.outputs.some((o) => o.name === 'video.mp4' && o.url === `/v1/productions/${id}/outputs/video.mp4` && o.bytes > 1000));
});

test('a pending delivery survives a restart: stopped before sending, delivered by the next start', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'aiprod-webhooks-restart-'));
  try {
    const first = await startWebhookService({ dataDir, webhooks: OPTIONS, deliver: false });
    const key = first.svc.key;
    const res = await first.svc.app!.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(key), payload: { url: receiver.url('/restart'), events: ['production.canceled'] } });
    const secret = res.json().secret as string;
    const created = await first.svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: bearer(key), payload: { prompt: 'a restart' } });
    const production = created.json().id as string;
    await first.svc.app!.inject({ method: 'POST', url: `/v1/productions/${production}/cancel`, headers: bearer(key) });
    const [pending] = await first.svc.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.productionId, production));
    assert.equal(pending?.status, 'pending');
    await first.stop();
    assert.equal(receiver.at('/restart').length, 0);

    const second = await startWebhookService({ dataDir, webhooks: OPTIONS });
    try {
      const [hit] = await receiver.waitFor(() => receiver.at('/restart').length === 1).then(() => receiver.at('/restart'));
      assert.equal(verifyWebhook<{ production: { id: string } }>(hit?.body ?? '', hit?.headers['aiprod-signature'], secret).data.production.id, production);
      assert.equal(hit?.headers['aiprod-delivery-id'], pending?.id);
      const recorded = async () => (await second.svc.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, pending?.id ?? '')))[0]?.status === 'delivered';
      await eventually(recorded, 'the delivery recorded');
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a rotated secret signs at once, and the previous one signs alongside it for the grace period', async () => {
  const key = await tenantKey('hooks-rotate');
  const hook = await createWebhook(key, '/rotating');
  const rotated = await call('POST', `/v1/webhooks/${hook.id}/rotate-secret`, key, { graceSec: 3600 });
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  const fresh = rotated.body.secret as string;
  assert.notEqual(fresh, hook.secret);
  await canceledProduction(key);
  await receiver.waitFor(() => receiver.at('/rotating').length === 1);
  const [first] = receiver.at('/rotating') as [Received];
  const header = first.headers['aiprod-signature'] as string;
  assert.match(header, /^t=\d{10},v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/, 'two signatures during the grace period');
  assert.ok(verifyWebhook(first.body, header, fresh).id);
  assert.ok(verifyWebhook(first.body, header, hook.secret).id, 'receivers still on the old secret accept it');

  const cut = await call('POST', `/v1/webhooks/${hook.id}/rotate-secret`, key, { graceSec: 0 });
  const newest = cut.body.secret as string;
  await canceledProduction(key);
  await receiver.waitFor(() => receiver.at('/rotating').length === 2);
  const second = (receiver.at('/rotating') as Received[])[1] as Received;
  assert.match(second.headers['aiprod-signature'] as string, /^t=\d{10},v1=[0-9a-f]{64}$/);
  assert.ok(verifyWebhook(second.body, second.headers['aiprod-signature'], newest).id);
  assert.throws(() => verifyWebhook(second.body, second.headers['aiprod-signature'], fresh), /no signature matches/);
});
