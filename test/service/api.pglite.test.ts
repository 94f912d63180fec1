/**
 * The API without a worker (role api, PGlite): estimates, the WebSocket events stream, the
 * legacy /pipeline aliases, the body limit, and retention. Jobs stay queued, so nothing renders.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import type WebSocket from 'ws';
import { outputs, productions, idempotencyKeys, webhookDeliveries } from '../../src/db/schema.js';
import { expireLocal, expireStored } from '../../src/jobs/retention.js';
import { StageCache } from '../../src/pipeline/cache.js';
import { createApiKey } from '../../src/services/keys.service.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
before(async () => {
  svc = await startTestService({ role: 'api' });
});
after(async () => {
  await svc?.stop();
});

const prompt = { prompt: 'a 20 second explainer about how bees make honey', targetDurationSec: 20, resolution: '720p' };

test('POST /v1/estimate plans the brief and prices each stage without storing anything', async () => {
  const res = await svc.app!.inject({ method: 'POST', url: '/v1/estimate', headers: svc.auth, payload: prompt });
  assert.equal(res.statusCode, 200, res.body);
  const e = res.json();
  assert.ok(e.scenes >= 2, `scenes ${e.scenes}`);
  assert.ok(Math.abs(e.durationSec - 20) <= 4, `duration ${e.durationSec}`);
  assert.deepEqual([e.width, e.height], [1280, 720]);
  assert.equal(e.cost.currency, 'USD');
  assert.equal(e.cost.totalUsd, 0, 'the offline providers cost nothing');
  const narrate = e.cost.items.find((i: { stage: string }) => i.stage === 'narrate');
  assert.ok(narrate.units.characters > 50, JSON.stringify(narrate));
  assert.ok(e.renderSec > 0);
  // Nothing was created.
  assert.equal((await svc.app!.inject({ url: '/v1/productions', headers: svc.auth })).json().data.length, 0);
  const bad = await svc.app!.inject({ method: 'POST', url: '/v1/estimate', headers: svc.auth, payload: { prompt: 'x', resolution: '4k' } });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'invalid_brief');
  assert.ok(bad.json().error.details.some((d: { path: string }) => d.path === 'resolution'));
});

/** Opens the WebSocket and collects its messages until it closes. */
async function follow(url: string, headers: Record<string, string>): Promise<{ ws: WebSocket; messages: { status: string }[]; closed: Promise<number> }> {
  const messages: { status: string }[] = [];
  let resolveClosed: (code: number) => void = () => undefined;
  const closed = new Promise<number>((resolve) => (resolveClosed = resolve));
  const ws = await svc.app!.injectWS(url, { headers }, {
    onInit: (socket) => {
      socket.on('message', (data) => messages.push(JSON.parse(String(data)) as { status: string }));
      socket.on('close', (code) => resolveClosed(code));
    },
  });
  return { ws, messages, closed };
}

test('the WebSocket streams the current state, then changes, and closes after a final status', async () => {
  const created = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: prompt });
  assert.equal(created.statusCode, 202);
  const { id } = created.json();
  const stream = await follow(`/v1/productions/${id}/ws`, svc.auth);
  await waitUntil(() => stream.messages.length >= 1);
  assert.equal(stream.messages[0]?.status, 'queued');
  const canceled = await svc.app!.inject({ method: 'POST', url: `/v1/productions/${id}/cancel`, headers: svc.auth });
  assert.equal(canceled.statusCode, 200);
  assert.equal(await stream.closed, 1000);
  assert.deepEqual(stream.messages.map((m) => m.status), ['queued', 'canceled']);

  // The key may come as ?access_token= on the two streams (browsers cannot set headers there) …
  const viaQuery = await follow(`/v1/productions/${id}/ws?access_token=${svc.key}`, {});
  assert.equal(await viaQuery.closed, 1000);
  assert.equal(viaQuery.messages[0]?.status, 'canceled');
  // … but nowhere else.
  const list = await svc.app!.inject({ url: `/v1/productions?access_token=${svc.key}` });
  assert.equal(list.statusCode, 401);
  // An unknown production is refused before the upgrade.
  await assert.rejects(svc.app!.injectWS('/v1/productions/nope/ws', { headers: svc.auth }));
  await assert.rejects(svc.app!.injectWS(`/v1/productions/${id}/ws`, { headers: {} }));
});

test('the original API: /pipeline/run, batch and jobs translate its shapes onto /v1 productions', async () => {
  assert.equal((await svc.app!.inject({ url: '/pipeline/jobs' })).statusCode, 401);
  const run = await svc.app!.inject({
    method: 'POST', url: '/pipeline/run', headers: svc.auth,
    payload: { content: 'a product teaser for a solar backpack', duration_sec: 15, preset: 'quick_social', priority: 'high', lang: 'en' },
  });
  assert.equal(run.statusCode, 200, run.body);
  const body = run.json();
  assert.equal(body.status, 'queued');
  assert.equal(body.check_status_at, `/pipeline/job/${body.job_id}`);

  const v1 = (await svc.app!.inject({ url: `/v1/productions/${body.job_id}`, headers: svc.auth })).json();
  assert.equal(v1.priority, 8);
  const job = (await svc.app!.inject({ url: body.check_status_at, headers: svc.auth })).json();
  assert.equal(job.job_id, body.job_id);
  assert.ok(['pending', 'processing'].includes(job.status), job.status);
  assert.equal(job.preset, 'quick_social');
  assert.equal(job.content_preview, 'a product teaser for a solar backpack');

  const batch = await svc.app!.inject({
    method: 'POST', url: '/pipeline/batch', headers: svc.auth,
    payload: { jobs: [{ content: 'one fine idea here' }, { content: 'x' }, { content: 'third idea', preset: 'nope' }] },
  });
  assert.equal(batch.statusCode, 422, batch.body);
  assert.equal(batch.json().error.code, 'invalid_batch');
  assert.match(batch.json().detail, /jobs\.1\.content/);
  const paths = batch.json().error.details.map((d: { path: string }) => d.path);
  assert.deepEqual(paths, ['jobs.1.content', 'jobs.2.preset']);
  const good = await svc.app!.inject({ method: 'POST', url: '/pipeline/batch', headers: svc.auth, payload: { jobs: [{ content: 'one fine idea here', mood: 'calm' }, { content: 'another fine idea' }] } });
  assert.equal(good.statusCode, 200, good.body);
  assert.equal(good.json().count, 2);
  const first = await svc.productions.detail('default', good.json().job_ids[0]);
  assert.deepEqual(first.brief.music, { mood: 'calm' }, 'a batch item\'s extras are used too');
  assert.equal(first.origin?.content, 'one fine idea here');

  // Three jobs were just queued and one worker slot renders: at least two are still pending.
  const jobs = (await svc.app!.inject({ url: '/pipeline/jobs?status=PENDING&limit=1&offset=1', headers: svc.auth })).json();
  assert.equal(jobs.count, 1);
  assert.equal(jobs.offset, 1);
  assert.ok(jobs.jobs.every((j: { status: string }) => j.status === 'pending'));
});

test('a JSON body over the limit is a 413 with a code, and nothing is stored', async () => {
  const before = (await svc.app!.inject({ url: '/v1/productions?limit=100', headers: svc.auth })).json().data.length;
  const res = await svc.app!.inject({
    method: 'POST', url: '/v1/productions', headers: { ...svc.auth, 'content-type': 'application/json' },
    payload: JSON.stringify({ script: 'word '.repeat(300_000) }),
  });
  assert.equal(res.statusCode, 413);
  assert.equal(res.json().error.code, 'payload_too_large');
  assert.equal((await svc.app!.inject({ url: '/v1/productions?limit=100', headers: svc.auth })).json().data.length, before);
});

test('retention deletes expired outputs and idempotency keys, and stale cache units and temp dirs', async () => {
  const db = svc.database.db;
  const created = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: { ...svc.auth, 'idempotency-key': 'retention-1' }, payload: prompt });
  const { id } = created.json();
  const file = join(mkdtempSync(join(tmpdir(), 'aiprod-ret-')), 'video.mp4');
  writeFileSync(file, Buffer.alloc(4096, 1));
  const key = `productions/${id}/video.mp4`;
  await svc.storage.put(key, file, 'video/mp4');
  const old = new Date(Date.now() - 40 * 86_400_000);
  await db.insert(outputs).values({ productionId: id, name: 'video.mp4', kind: 'video', mime: 'video/mp4', bytes: 4096, storageKey: key, createdAt: old, durationSec: 1 });
  await db.update(idempotencyKeys).set({ createdAt: old });
  // A fresh output of the same production stays.
  const freshKey = `productions/${id}/captions.srt`;
  await svc.storage.put(freshKey, file, 'text/plain');
  await db.insert(outputs).values({ productionId: id, name: 'captions.srt', kind: 'captions', mime: 'text/plain', bytes: 4096, storageKey: freshKey, createdAt: new Date(), durationSec: null });

  const delivery = { tenantId: 'default', eventType: 'production.succeeded', url: 'https://example.com/hook', payload: {}, createdAt: old };
  await db.insert(webhookDeliveries).values([
    { ...delivery, id: 'dlv_old_done', eventId: 'evt_1', status: 'delivered' },
    { ...delivery, id: 'dlv_old_pending', eventId: 'evt_2', status: 'pending' },
  ]);

  const kept = await expireStored(svc.database, svc.storage, 0);
  assert.equal(kept.outputs, 0, 'RETENTION_DAYS=0 keeps everything');
  const result = await expireStored(svc.database, svc.storage, 30);
  assert.deepEqual(result, { outputs: 1, bytes: 4096, idempotencyKeys: 1, webhookDeliveries: 1, failedDeletions: 0, failures: [], exports: 0 });
  assert.deepEqual((await db.select().from(webhookDeliveries)).map((d) => d.id), ['dlv_old_pending'], 'a pending delivery is never dropped');
  assert.equal(await svc.storage.stat(key), undefined);
  assert.ok(await svc.storage.stat(freshKey));
  const left = await db.select().from(outputs).where(eq(outputs.productionId, id));
  assert.deepEqual(left.map((o) => o.name), ['captions.srt']);
  assert.equal((await db.select().from(productions).where(eq(productions.id, id))).length, 1, 'the production itself stays');

  const root = mkdtempSync(join(tmpdir(), 'aiprod-cache-'));
  const cache = new StageCache(join(root, 'cache'));
  const stale = await cache.memo('narrate', { text: 'old' }, async (dir) => {
    writeFileSync(join(dir, 'speech.wav'), Buffer.alloc(1000));
    return { path: join(dir, 'speech.wav') };
  });
  const used = await cache.memo('narrate', { text: 'recent' }, async () => ({ ok: true }));
  const oldSec = old.getTime() / 1000;
  utimesSync(join(stale.dir, 'manifest.json'), oldSec, oldSec);
  utimesSync(join(used.dir, 'manifest.json'), oldSec, oldSec);
  assert.equal((await cache.memo('narrate', { text: 'recent' }, async () => ({ ok: false }))).hit, true, 'a hit renews the unit');
  const tmp = join(root, 'tmp');
  mkdirSync(join(tmp, 'render-dead'), { recursive: true });
  mkdirSync(join(tmp, 'render-live'), { recursive: true });
  utimesSync(join(tmp, 'render-dead'), oldSec, oldSec);
  const local = await expireLocal(cache, tmp, 30);
  assert.equal(local.cacheUnits, 1);
  assert.ok(local.cacheBytes >= 1000);
  assert.equal(local.tmpDirs, 1);
  assert.equal((await cache.memo('narrate', { text: 'old' }, async () => ({ path: 'redone' }))).hit, false);
  assert.equal((await cache.memo('narrate', { text: 'recent' }, async () => ({ ok: false }))).hit, true);
});

async function waitUntil(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('/metrics reports requests by route and status, latency buckets, productions by status and the queue', async () => {
  const queued = (await svc.app!.inject({ url: '/v1/productions?status=queued&limit=100', headers: svc.auth })).json().data.length;
  assert.ok(queued > 0);
  const res = await svc.app!.inject({ url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^text\/plain/);
  const text = res.body;
  assert.match(text, /aiprod_http_requests_total\{method="POST",route="\/v1\/productions",status="202"\} \d+/);
  assert.match(text, /aiprod_http_requests_total\{method="POST",route="\/v1\/productions",status="413"\} 1/);
  assert.match(text, /aiprod_http_request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/v1\/productions\/:id",status="200"\} \d+/);
  assert.match(text, new RegExp(`aiprod_productions\\{status="queued"\\} ${queued}\\b`));
  const waiting = /aiprod_queue_waiting_jobs (\d+)/.exec(text);
  assert.equal(Number(waiting?.[1]), queued, 'every queued production has a waiting job');
  assert.match(text, /aiprod_queue_oldest_waiting_seconds \d/);
});

test('/ready is cheap and discreet: storage is checked at start and on a recheck, not per probe; only operators see messages', async () => {
  const storage = svc.storage as unknown as { root: string; check: () => Promise<void> };
  const realCheck = storage.check.bind(storage);
  let storageChecks = 0;
  storage.check = async () => {
    storageChecks++;
    await realCheck();
  };
  try {
    const ok = await svc.app!.inject({ url: '/ready' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(Object.keys(ok.json().checks).sort(), ['database', 'disk', 'ffmpeg', 'listener', 'queue', 'storage']);
    assert.deepEqual(ok.json().checks.ffmpeg, { ok: true, reason: 'not_in_this_process' });
    for (let i = 0; i < 5; i++) assert.equal((await svc.app!.inject({ url: '/ready' })).statusCode, 200);
    assert.equal(storageChecks, 0, 'probes do not write to storage');

    // Break local storage: its root becomes a file, so nothing can be written under it.
    rmSync(storage.root, { recursive: true, force: true });
    writeFileSync(storage.root, 'not a directory');
    try {
      assert.equal((await svc.app!.inject({ url: '/ready' })).statusCode, 200, 'the cached result stands until the next check');
      const reader = await createApiKey(svc.database.db, { tenantId: 'default', name: 'reader', scopes: ['productions:read'] });
      const refused = await svc.app!.inject({ url: '/v1/system/ready', headers: { authorization: `Bearer ${reader.key}` } });
      assert.equal(refused.statusCode, 403, refused.body);
      assert.equal((await svc.app!.inject({ url: '/v1/system/ready' })).statusCode, 401);

      const detailed = await svc.app!.inject({ url: '/v1/system/ready?recheck=true', headers: svc.auth });
      assert.equal(detailed.statusCode, 503, detailed.body);
      assert.equal(storageChecks, 1);
      assert.equal(detailed.json().checks.storage.ok, false);
      assert.ok(detailed.json().checks.storage.message, 'operators see what failed');
      assert.ok(detailed.json().checks.storage.checkedAt);
      assert.equal(detailed.json().checks.database.ok, true);

      const down = await svc.app!.inject({ url: '/ready' });
      assert.equal(down.statusCode, 503);
      assert.equal(down.json().ok, false);
      assert.deepEqual(down.json().checks.storage, { ok: false, reason: 'failed' });
      assert.ok(!down.body.includes(storage.root), 'no path, bucket or message in the public answer');
      assert.doesNotMatch(down.body, /message|error/);
    } finally {
      rmSync(storage.root, { force: true });
    }
    assert.equal((await svc.app!.inject({ url: '/v1/system/ready?recheck=true', headers: svc.auth })).statusCode, 200);
    assert.equal((await svc.app!.inject({ url: '/ready' })).statusCode, 200);
  } finally {
    storage.check = realCheck;
  }
});

test('concurrent creates share transactions without losing or duplicating anything', async () => {
  const before = await svc.queue.depth('render');
  const distinct = Array.from({ length: 40 }, (_, i) =>
    svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: { prompt: `concurrent idea number ${i}` } }),
  );
  const sameKey = Array.from({ length: 10 }, () =>
    svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: { ...svc.auth, 'idempotency-key': 'burst-1' }, payload: { prompt: 'one idea sent ten times' } }),
  );
  const otherBody = svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: { ...svc.auth, 'idempotency-key': 'burst-1' }, payload: { prompt: 'a different idea' } });
  const results = await Promise.all([...distinct, ...sameKey, otherBody]);
  const ids = results.slice(0, 40).map((r) => {
    assert.equal(r.statusCode, 202, r.body);
    return r.json().id as string;
  });
  assert.equal(new Set(ids).size, 40);
  const replays = results.slice(40, 50).map((r) => {
    assert.equal(r.statusCode, 202, r.body);
    return r.json().id as string;
  });
  assert.equal(new Set(replays).size, 1, 'one production for one key');
  assert.equal(results.slice(40, 50).filter((r) => r.headers['idempotent-replayed'] === 'true').length, 9);
  // The different body is a 409 if the first of the ten committed before it, else it won the key and the ten are 409s.
  const conflict = results[50]!;
  assert.ok(conflict.statusCode === 409 || conflict.statusCode === 202);
  const after = await svc.queue.depth('render');
  const created = 40 + (conflict.statusCode === 202 ? 1 : 0) + (replays[0] ? 1 : 0);
  assert.equal(after.waiting - before.waiting, created, 'one render job per production');
});

test('an unexpected failure is a 500 quoting the request id, without internals', async () => {
  const original = svc.productions.get.bind(svc.productions);
  svc.productions.get = async () => {
    throw new TypeError("Cannot read properties of undefined (reading 'secret_column')");
  };
  try {
    const res = await svc.app!.inject({ url: '/v1/productions/anything', headers: svc.auth });
    assert.equal(res.statusCode, 500);
    const { error } = res.json();
    assert.equal(error.code, 'internal');
    const requestId = res.headers['x-request-id'] as string;
    assert.ok(requestId);
    assert.ok(error.message.includes(requestId), error.message);
    assert.doesNotMatch(res.body, /secret_column|TypeError|at .*\.ts/);
  } finally {
    svc.productions.get = original;
  }
  assert.equal((await svc.app!.inject({ url: '/health' })).statusCode, 200, 'the server stays up');
});
