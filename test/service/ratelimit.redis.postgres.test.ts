/**
 * Two API instances on one PostgreSQL database share their rate limits through the machine's real
 * Redis (REDIS_URL): a tenant limited to 10 creations a minute gets 10 across both, not 10 on each.
 * Skipped, with the reason, without TEST_DATABASE_URL or a reachable Redis.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { freshPostgres, startTestService, type TestService } from './harness.js';
import { postgresOrSkip, requireService } from '../support/services.js';

const { base, skip: noPostgres } = postgresOrSkip();
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let skip: string | false = noPostgres;
let one: TestService;
let two: TestService;
let drop: (() => Promise<void>) | undefined;

before(async () => {
  if (skip) return;
  const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  try {
    await probe.connect();
    await probe.ping();
  } catch {
    skip = requireService(`Redis is not reachable at ${redisUrl}`);
    return;
  } finally {
    probe.disconnect();
  }
  const db = await freshPostgres(base as string);
  drop = db.drop;
  // Pro tenants get 10 creations a minute here (and pro quotas leave room for 12 unfinished productions).
  const env = { REDIS_URL: redisUrl, RATE_LIMIT_PRO_PER_MIN: '10', ADMIN_API_KEY: `aiprod_${'r'.repeat(12)}_${randomBytes(24).toString('base64url')}`, AIPROD_MASTER_KEY: randomBytes(32).toString('base64') };
  one = await startTestService({ databaseUrl: db.url, role: 'api', env });
  two = await startTestService({ databaseUrl: db.url, role: 'api', env });
  one.key = env.ADMIN_API_KEY;
});
after(async () => {
  await two?.stop();
  await one?.stop();
  await drop?.();
});

test('two API processes share one tenant limit through Redis', async (t) => {
  if (skip) return t.skip(skip);
  const admin = { authorization: `Bearer ${one.key}` };
  // A tenant id of its own, so a limit left in Redis by an earlier run cannot interfere.
  const tenant = `rl-${randomBytes(4).toString('hex')}`;
  assert.equal((await one.app!.inject({ method: 'POST', url: '/v1/tenants', headers: admin, payload: { id: tenant, name: 'Limited', tier: 'pro' } })).statusCode, 201);
  const created = await one.app!.inject({ method: 'POST', url: '/v1/api-keys', headers: admin, payload: { name: 'w', scopes: ['productions:write'], tenantId: tenant } });
  const key = { authorization: `Bearer ${created.json().key}` };
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    const app = i % 2 === 0 ? one.app! : two.app!;
    statuses.push((await app.inject({ method: 'POST', url: '/v1/productions', headers: key, payload: { prompt: `shared limit idea ${i}` } })).statusCode);
  }
  assert.deepEqual(statuses, [...Array(10).fill(202), 429, 429]);
});
