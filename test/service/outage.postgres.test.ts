/**
 * The service when PostgreSQL drops its connections, on the real PostgreSQL: every backend of the
 * service terminated (`pg_terminate_backend`, what a restart, a failover or a proxy's idle timeout
 * does), and a full outage (a TCP proxy in front of the server cuts every connection and refuses
 * new ones). The process survives, answers 503 `database_unavailable` while the database is away,
 * recovers by itself, its listener comes back (live events, /ready), pg-boss keeps taking jobs, and
 * a render in flight still ends `succeeded`. Skipped, with the reason, when TEST_DATABASE_URL is unset.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { isFinal, productionEventSchema, type Production } from '../../src/contract/production.js';
import { isDatabaseUnavailable } from '../../src/contract/errors.js';
import { openPostgres } from '../../src/db/database.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { freshPostgres, startTestService, TEST_MASTER_KEY, type TestService } from './harness.js';
import { killAll, pollUntil, readSse, startCli, tempDir } from './processes.js';

const base = process.env.TEST_DATABASE_URL;
const skip = base ? false : 'TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)';

// Gradients only, 480p24: a few seconds of rendering per brief.
const brief = (scenes: number, label: string): Record<string, unknown> => ({
  scenes: Array.from({ length: scenes }, (_, i) => ({
    narration: `${label}: scene ${i + 1} of ${scenes}.`,
    durationSec: 2.5,
    visual: { type: 'gradient', colors: [i % 2 ? '#1e3a8a' : '#7c2d12', '#111827'] },
  })),
  resolution: '480p',
  fps: 24,
});

const drops: (() => Promise<void>)[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  await killAll();
  for (const cleanup of cleanups.reverse()) await cleanup();
  for (const drop of drops) await drop();
});

async function database(): Promise<{ url: string; name: string }> {
  const db = await freshPostgres(base as string);
  drops.push(db.drop);
  return { url: db.url, name: new URL(db.url).pathname.slice(1) };
}

/** Terminates every backend connected to `name` (but the one asking); returns how many. */
async function terminateBackends(name: string): Promise<number> {
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ ok: boolean }>(
      'select pg_terminate_backend(pid) as ok from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );
    return rows.filter((r) => r.ok).length;
  } finally {
    await admin.end();
  }
}

/** service.waitFor, read again when a read of its own meets the outage (a dying pooled connection). */
async function waitThrough(service: TestService, id: string, done: (p: Production) => boolean, timeoutMs = 120_000): Promise<Production> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await service.waitFor(id, done, Math.max(1000, deadline - Date.now()));
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

interface ErrorBody {
  error: { code: string; message: string };
}

test('aiprod serve on PostgreSQL survives the termination of all its backends, answers the next request, and renders a new brief followed over SSE', { skip, timeout: 240_000 }, async () => {
  const { url, name } = await database();
  const dataDir = tempDir('outage-serve');
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = startCli(['serve', '--port', '0'], {
    DATABASE_URL: url,
    AIPROD_DATA_DIR: dataDir,
    AIPROD_CACHE_DIR: join(dataDir, 'cache'),
    STORAGE_URL: '',
    ADMIN_API_KEY: '',
    AIPROD_MASTER_KEY: TEST_MASTER_KEY,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: '1',
  });
  const [, address] = await server.waitForStdout(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 90_000);
  const key = /^ {2}(aiprod_\S+)$/m.exec(server.stdout())?.[1];
  assert.ok(key, server.output());
  const auth = { authorization: `Bearer ${key}` };
  assert.equal((await fetch(`${address}/v1/productions`, { headers: auth })).status, 200);

  assert.ok((await terminateBackends(name)) > 0, 'the service had backends to terminate');

  // The next request is answered in the API's shape (the database is back at once here, so a 200,
  // or a 503 database_unavailable from a connection that was dying under it) — never a dead socket.
  const next = await fetch(`${address}/v1/productions`, { headers: auth });
  assert.ok(next.status === 200 || next.status === 503, `${next.status} ${await next.clone().text()}\n${server.output()}`);
  if (next.status === 503) assert.equal(((await next.json()) as ErrorBody).error.code, 'database_unavailable');
  await pollUntil('a 200 after the termination', async () => (await fetch(`${address}/v1/productions`, { headers: auth })).status === 200, 30_000, 200);
  // The listener is back on its own, and /ready says so.
  await pollUntil('/ready with the listener ok', async () => {
    const ready = await fetch(`${address}/ready`);
    const body = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
    return ready.status === 200 && body.checks.listener?.ok === true;
  }, 30_000, 200);

  // A new production: pg-boss takes it, and its events (NOTIFY through the re-established
  // listener) are followed to the final status.
  const created = await fetch(`${address}/v1/productions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(brief(2, 'after')) });
  const accepted = (await created.json()) as { id: string; links: Production['links'] };
  assert.equal(created.status, 202, JSON.stringify(accepted));
  const events = (await readSse(`${address}${accepted.links.events}`, auth, 120_000)).map((e) => productionEventSchema.parse(JSON.parse(e.data)));
  const trail = JSON.stringify(events.map((e) => [e.status, e.progress]));
  assert.equal(events.at(-1)?.status, 'succeeded', trail);
  assert.ok(events.some((e) => e.progress > 0 && e.progress < 100), `live progress after the drop: ${trail}`);
  assert.equal(await server.exitWithin(0), undefined, `the process is still running\n${server.output()}`);
  server.killGroup('SIGTERM');
  assert.equal((await server.exited).code, 0, server.output());
});

test('a full outage: requests answer 503 database_unavailable with the request id, /ready says so, and the service recovers when the database is back', { skip, timeout: 180_000 }, async () => {
  const { url } = await database();
  const target = new URL(url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  cleanups.push(() => proxy.close());
  const viaProxy = new URL(url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const api = await startTestService({ databaseUrl: viaProxy.toString(), role: 'api' });
  cleanups.push(() => api.stop());
  const app = api.app;
  assert.ok(app);
  assert.equal((await app.inject({ method: 'GET', url: '/v1/productions', headers: api.auth })).statusCode, 200);

  proxy.cut();
  const during = await app.inject({ method: 'GET', url: '/v1/productions', headers: { ...api.auth, 'x-request-id': 'outage-probe-1' } });
  assert.equal(during.statusCode, 503, during.body);
  assert.equal(during.headers['x-request-id'], 'outage-probe-1');
  assert.ok(during.headers['retry-after'], 'a Retry-After tells clients when to come back');
  const body = during.json<ErrorBody>();
  assert.equal(body.error.code, 'database_unavailable', during.body);
  assert.match(body.error.message, /outage-probe-1/, 'the message quotes the request id');
  assert.doesNotMatch(during.body, /127\.0\.0\.1|ECONN|terminat|select /i, 'no driver or SQL text leaks');
  const create = await app.inject({ method: 'POST', url: '/v1/productions', headers: api.auth, payload: brief(1, 'during') });
  assert.equal(create.statusCode, 503, create.body);
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  assert.equal(ready.statusCode, 503, ready.body);
  const readyBody = ready.json<{ checks: Record<string, { ok: boolean }> }>();
  assert.equal(readyBody.checks.database?.ok, false, ready.body);
  assert.equal(readyBody.checks.listener?.ok, false, ready.body);

  proxy.restore();
  await pollUntil('a 200 once the database is back', async () => (await app.inject({ method: 'GET', url: '/v1/productions', headers: api.auth })).statusCode === 200, 30_000, 200);
  await pollUntil('/ready 200 with the listener back', async () => {
    const r = await app.inject({ method: 'GET', url: '/ready' });
    return r.statusCode === 200 && r.json<{ checks: Record<string, { ok: boolean }> }>().checks.listener?.ok === true;
  }, 30_000, 200);
  const accepted = await app.inject({ method: 'POST', url: '/v1/productions', headers: api.auth, payload: brief(1, 'after') });
  assert.equal(accepted.statusCode, 202, accepted.body);
});

test('a worker mid-render whose backends are terminated, and whose database then goes away for a while, still ends the production succeeded', { skip, timeout: 300_000 }, async () => {
  const { url, name } = await database();
  const target = new URL(url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  cleanups.push(() => proxy.close());
  const viaProxy = new URL(url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const service: TestService = await startTestService({ databaseUrl: viaProxy.toString(), role: 'all', env: { STALL_TIMEOUT_SEC: '5', HEARTBEAT_SEC: '1' } });
  cleanups.push(() => service.stop());
  const { id } = await service.productions.create('default', brief(6, 'mid-render'));
  await waitThrough(service, id, (p) => p.status === 'rendering');
  assert.ok((await terminateBackends(name)) > 0);
  await waitThrough(service, id, (p) => p.stages.some((s) => s.stage === 'narrate' && s.status === 'succeeded') || isFinal(p.status));
  assert.ok((await terminateBackends(name)) > 0);
  // Then a real outage of a few seconds: progress writes, heartbeats and pg-boss polling all fail.
  proxy.cut();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  proxy.restore();
  const done = await waitThrough(service, id, (p) => isFinal(p.status), 240_000);
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  // pg-boss keeps working after all this: a second production renders too.
  const second = await service.productions.create('default', brief(1, 'second'));
  const finished = await waitThrough(service, second.id, (p) => isFinal(p.status), 120_000);
  assert.equal(finished.status, 'succeeded', JSON.stringify(finished.error));
});

test('the listener: after its backend is terminated it reports reconnecting, comes back, LISTENs every channel again and says so', { skip, timeout: 120_000 }, async () => {
  const { url, name } = await database();
  const database_ = await openPostgres(url, { max: 2 });
  cleanups.push(() => database_.close());
  const got: string[] = [];
  let reconnects = 0;
  await database_.listen('outage_a', (payload) => got.push(`a:${payload}`), { onReconnect: () => reconnects++ });
  await database_.listen('outage_b', (payload) => got.push(`b:${payload}`));
  await database_.notify('outage_a', 'before');
  await pollUntil('the first notification', () => got.includes('a:before'), 10_000);
  assert.equal(database_.listenerState(), 'ok');

  assert.ok((await terminateBackends(name)) > 0);
  await pollUntil('the listener to notice the drop', () => database_.listenerState() === 'reconnecting' || reconnects > 0, 10_000);
  await pollUntil('the listener back', () => database_.listenerState() === 'ok' && reconnects === 1, 30_000);
  await database_.notify('outage_a', 'after');
  await database_.notify('outage_b', 'after');
  await pollUntil('notifications on both channels after the reconnect', () => got.includes('a:after') && got.includes('b:after'), 10_000);
  // A channel first subscribed after the reconnect works too.
  await database_.listen('outage_c', (payload) => got.push(`c:${payload}`));
  await database_.notify('outage_c', 'new');
  await pollUntil('the new channel', () => got.includes('c:new'), 10_000);
});

test('a transaction whose connection dies under its BEGIN gives its pool slot back (the pool can still serve, and close)', { skip, timeout: 60_000 }, async () => {
  const { url } = await database();
  const target = new URL(url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  cleanups.push(() => proxy.close());
  const viaProxy = new URL(url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  // One connection in all: a slot lost to a dead client would starve every later query.
  const db = await openPostgres(viaProxy.toString(), { max: 1, connectTimeoutMs: 3000 });
  await db.executeSql('select 1');
  // The idle connection dies, and before the pool has noticed, a transaction takes it.
  proxy.cut();
  proxy.restore();
  await assert.rejects(db.db.transaction(async (tx) => tx.execute(sql`select 1`)));
  assert.deepEqual((await db.executeSql('select 1 as one')).rows, [{ one: 1 }]);
  let closed = false;
  await Promise.race([db.close().then(() => (closed = true)), new Promise((resolve) => setTimeout(resolve, 20_000))]);
  assert.ok(closed, 'close() waited for a client nobody would release');
});
