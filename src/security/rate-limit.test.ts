import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { sendError } from '../http/errors.js';
import { MemoryRateLimitStore, rateLimitHeaders, rateLimitRules, registerRateLimits, type RateLimitPrincipal, type RateLimitStore, clientKey } from './rate-limit.js';
import { RedisRateLimitStore } from './rate-limit.redis.js';
import { redisOrSkip } from '../../test/support/services.js';

/** A minute boundary, where a naive fixed window would reset. */
const T0 = 1_700_000_040_000;
assert.equal(T0 % 60_000, 0);

const redis = await redisOrSkip();

interface Harness {
  store: RateLimitStore;
  /** Keys the store holds now. */
  keyCount(): Promise<number>;
  close(): Promise<void>;
}

async function redisKeys(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of client.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) keys.push(...batch);
  return keys;
}

const adapters: { name: string; skip: string | false; make(): Promise<Harness> }[] = [
  {
    name: 'memory',
    skip: false,
    async make() {
      const store = new MemoryRateLimitStore();
      return { store, keyCount: async () => store.size, close: async () => undefined };
    },
  },
  {
    name: 'redis',
    skip: typeof redis === 'string' ? redis : false,
    async make() {
      const client = redis as Redis;
      const prefix = `test:ratelimit:${randomUUID()}:`;
      return {
        store: new RedisRateLimitStore(client, { prefix, failMode: 'closed' }),
        keyCount: async () => (await redisKeys(client, prefix)).length,
        close: async () => {
          const keys = await redisKeys(client, prefix);
          if (keys.length > 0) await client.del(...keys);
        },
      };
    },
  },
];

// One conformance suite: every RateLimitStore adapter must pass all of it.
for (const adapter of adapters) {
  describe(`RateLimitStore conformance: ${adapter.name}`, { skip: adapter.skip }, () => {
    const withStore = (fn: (h: Harness) => Promise<void>) => async () => {
      const h = await adapter.make();
      try {
        await fn(h);
      } finally {
        await h.close();
      }
    };

    test('a burst of exactly the limit, counting down remaining and up reset; then one per window/limit', withStore(async ({ store }) => {
      const seen = [];
      for (let i = 0; i < 5; i++) seen.push(await store.hit('k', 5, 60, T0));
      assert.deepEqual(seen.map((r) => [r.allowed, r.remaining, r.resetSec, r.retryAfterSec]), [
        [true, 4, 12, 0], [true, 3, 24, 0], [true, 2, 36, 0], [true, 1, 48, 0], [true, 0, 60, 0],
      ]);
      assert.deepEqual(await store.hit('k', 5, 60, T0), { allowed: false, limit: 5, remaining: 0, resetSec: 60, retryAfterSec: 12 });
      assert.equal((await store.hit('k', 5, 60, T0 + 11_999)).retryAfterSec, 1, 'a refusal never says retry after 0');
      assert.deepEqual(await store.hit('k', 5, 60, T0 + 12_000), { allowed: true, limit: 5, remaining: 0, resetSec: 60, retryAfterSec: 0 });
      // Half a window later 2.5 units have come back: one used, one left.
      assert.deepEqual(await store.hit('k', 5, 60, T0 + 42_000), { allowed: true, limit: 5, remaining: 1, resetSec: 42, retryAfterSec: 0 });
    }));

    test('no 2× burst at a window boundary', withStore(async ({ store }) => {
      const burst = async (at: number): Promise<number> => {
        let allowed = 0;
        for (let i = 0; i < 10; i++) if ((await store.hit('k', 10, 60, at)).allowed) allowed++;
        return allowed;
      };
      // A fixed window would admit 10 just before the minute and 10 more just after it.
      assert.equal(await burst(T0 + 59_900), 10);
      assert.equal(await burst(T0 + 60_100), 0);
      // Afterwards: one every 6 s, never a refill at the boundary.
      assert.equal(await burst(T0 + 59_900 + 6_000), 1);
      assert.equal(await burst(T0 + 59_900 + 30_000), 4);
    }));

    test('a limit that does not divide the window still admits exactly the limit', withStore(async ({ store }) => {
      const results = [];
      for (let i = 0; i < 8; i++) results.push(await store.hit('k', 7, 60, T0));
      assert.deepEqual(results.map((r) => r.allowed), [true, true, true, true, true, true, true, false]);
      assert.equal(results[6]?.remaining, 0);
    }));

    test('a cost takes that many units, all or nothing', withStore(async ({ store }) => {
      assert.deepEqual(await store.hit('k', 10, 60, T0, 7), { allowed: true, limit: 10, remaining: 3, resetSec: 42, retryAfterSec: 0 });
      assert.deepEqual(await store.hit('k', 10, 60, T0, 4), { allowed: false, limit: 10, remaining: 3, resetSec: 42, retryAfterSec: 6 });
      assert.deepEqual(await store.hit('k', 10, 60, T0, 3), { allowed: true, limit: 10, remaining: 0, resetSec: 60, retryAfterSec: 0 });
    }));

    test('Infinity is unlimited and never touches the store', withStore(async ({ store, keyCount }) => {
      for (let i = 0; i < 50; i++) assert.deepEqual(await store.hit('k', Infinity, 60, T0, 3), { allowed: true, limit: Infinity, remaining: Infinity, resetSec: 0, retryAfterSec: 0 });
      assert.equal(await keyCount(), 0);
    }));

    test('keys are independent', withStore(async ({ store }) => {
      assert.equal((await store.hit('a', 1, 60, T0)).allowed, true);
      assert.equal((await store.hit('a', 1, 60, T0)).allowed, false);
      assert.equal((await store.hit('b', 1, 60, T0)).allowed, true);
    }));

    test('200 concurrent hits on a limit of 50 admit exactly 50', withStore(async ({ store }) => {
      // The store's own clock: a one-hour window, so nothing refills while the hits run.
      const results = await Promise.all(Array.from({ length: 200 }, () => store.hit('k', 50, 3600)));
      assert.equal(results.filter((r) => r.allowed).length, 50);
      assert.deepEqual(results.filter((r) => r.allowed).map((r) => r.remaining).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
    }));

    test('a bad limit, window or cost is a RangeError', withStore(async ({ store }) => {
      for (const [limit, window, cost] of [[0, 60, 1], [1.5, 60, 1], [-1, 60, 1], [5, 0, 1], [5, Number.NaN, 1], [5, 60, 0], [5, 60, 1.5]] as const) {
        await assert.rejects(store.hit('k', limit, window, T0, cost), RangeError, `${limit}/${window}/${cost}`);
      }
    }));
  });
}

test.after(async () => {
  if (typeof redis !== 'string') await redis.quit();
});

describe('MemoryRateLimitStore memory', () => {
  test('keys whose bucket is full again are swept', async () => {
    const store = new MemoryRateLimitStore({ sweepEveryMs: 1_000 });
    for (const key of ['a', 'b', 'c']) await store.hit(key, 10, 1, T0);
    assert.equal(store.size, 3);
    await store.hit('d', 10, 60, T0 + 5_000);
    assert.equal(store.size, 1);
  });

  test('past maxKeys the least recently hit key is forgotten', async () => {
    const store = new MemoryRateLimitStore({ maxKeys: 3 });
    for (const key of ['a', 'b', 'c']) await store.hit(key, 2, 60, T0);
    await store.hit('a', 2, 60, T0); // a is now the most recent; b the least
    await store.hit('d', 2, 60, T0);
    assert.equal(store.size, 3);
    assert.equal((await store.hit('a', 2, 60, T0)).allowed, false, 'a kept its count');
    assert.equal((await store.hit('b', 2, 60, T0)).remaining, 1, 'b was forgotten and starts afresh');
  });

  test('stays bounded under a flood of distinct keys', async () => {
    const store = new MemoryRateLimitStore({ maxKeys: 1_000 });
    for (let i = 0; i < 20_000; i++) await store.hit(`ip:${i}`, 60, 60, T0);
    assert.ok(store.size <= 1_000, `${store.size} keys`);
  });
});

test('rateLimitHeaders: the draft headers, Retry-After only when refused, none when unlimited', () => {
  assert.deepEqual(rateLimitHeaders({ allowed: true, limit: 10, remaining: 3, resetSec: 42, retryAfterSec: 0 }), { 'RateLimit-Limit': '10', 'RateLimit-Remaining': '3', 'RateLimit-Reset': '42' });
  assert.deepEqual(rateLimitHeaders({ allowed: false, limit: 10, remaining: 0, resetSec: 60, retryAfterSec: 6 }), { 'RateLimit-Limit': '10', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '60', 'Retry-After': '6' });
  assert.deepEqual(rateLimitHeaders({ allowed: true, limit: Infinity, remaining: Infinity, resetSec: 0, retryAfterSec: 0 }), {});
});

// ---------------------------------------------------------------------------------------------
// The fastify hooks, on a small app shaped like the API: the real error handler, and an auth
// stand-in that sets request.principal from x-tenant / x-tier.

async function buildTestApp(store: RateLimitStore = new MemoryRateLimitStore(), general = 200): Promise<FastifyInstance> {
  const app = Fastify();
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.addHook('onRequest', async (request) => {
    const tenantId = request.headers['x-tenant'];
    if (typeof tenantId !== 'string') return;
    const tier = request.headers['x-tier'];
    (request as unknown as { principal?: RateLimitPrincipal }).principal = { tenantId, tier: typeof tier === 'string' ? tier : undefined };
  });
  registerRateLimits(app, { store, rules: rateLimitRules({ anonymous: 3, general }) });
  const created = async (_: unknown, reply: { status(n: number): { send(b: unknown): unknown } }) => reply.status(202).send({ ok: true });
  const items = (field: string) => ({ schema: { body: { type: 'object', required: [field], properties: { [field]: { type: 'array', maxItems: 100 } } } } });
  app.post('/v1/productions', created);
  app.post('/v1/productions/batch', items('productions'), created);
  app.post('/pipeline/run', created);
  app.post('/pipeline/batch', items('jobs'), created);
  app.get('/v1/productions', async () => ({ items: [] }));
  for (const path of ['/health', '/ready', '/metrics']) app.get(path, async () => ({ ok: true }));
  await app.ready();
  return app;
}

const as = (tenant: string, tier?: string): Record<string, string> => (tier ? { 'x-tenant': tenant, 'x-tier': tier } : { 'x-tenant': tenant });

describe('registerRateLimits', () => {
  test('a refusal is a 429 in the API error shape, with RateLimit-* and Retry-After; allowed responses carry the headers too', async () => {
    const app = await buildTestApp();
    for (let i = 0; i < 10; i++) {
      const res = await app.inject({ method: 'POST', url: '/v1/productions', headers: as('t1', 'free') });
      assert.equal(res.statusCode, 202);
      assert.equal(res.headers['ratelimit-limit'], '10');
      assert.equal(res.headers['ratelimit-remaining'], String(9 - i));
      assert.equal(res.headers['retry-after'], undefined);
    }
    const refused = await app.inject({ method: 'POST', url: '/v1/productions', headers: as('t1', 'free') });
    assert.equal(refused.statusCode, 429);
    assert.deepEqual(refused.json(), { error: { code: 'rate_limited', message: 'rate limit exceeded: at most 10 productions (free tier) per 60 s', details: [{ message: 'retry after 6 s' }] } });
    assert.equal(refused.headers['retry-after'], '6', 'the precise wait, not the error handler\'s generic one');
    assert.equal(refused.headers['ratelimit-limit'], '10');
    assert.equal(refused.headers['ratelimit-remaining'], '0');
    assert.equal(refused.headers['ratelimit-reset'], '60');
    await app.close();
  });

  test('tiers: free 10, pro 100, enterprise unlimited (only the general limit applies); an unknown or missing tier is free', async () => {
    const app = await buildTestApp(new MemoryRateLimitStore(), 1000);
    const admitted = async (tenant: string, tier: string | undefined, tries: number): Promise<number> => {
      let n = 0;
      for (let i = 0; i < tries; i++) if ((await app.inject({ method: 'POST', url: '/v1/productions', headers: as(tenant, tier) })).statusCode === 202) n++;
      return n;
    };
    assert.equal(await admitted('free-co', 'free', 15), 10);
    assert.equal(await admitted('pro-co', 'pro', 110), 100);
    assert.equal(await admitted('ent-co', 'enterprise', 300), 300);
    assert.equal(await admitted('odd-co', 'platinum', 15), 10);
    assert.equal(await admitted('proto-co', 'constructor', 15), 10);
    assert.equal(await admitted('no-tier-co', undefined, 15), 10);
    const ent = await app.inject({ method: 'POST', url: '/v1/productions', headers: as('ent-co', 'enterprise') });
    assert.equal(ent.headers['ratelimit-limit'], '1000', 'the general limit, not a creation quota');
    await app.close();
  });

  test('a batch counts its items, on /v1 and the legacy aliases alike, against one quota per tenant', async () => {
    const app = await buildTestApp();
    const batch = (url: string, field: string, n: number) => app.inject({ method: 'POST', url, headers: as('t1', 'free'), payload: { [field]: Array.from({ length: n }, () => ({ prompt: 'x' })) } });
    const first = await batch('/v1/productions/batch', 'productions', 4);
    assert.equal(first.statusCode, 202);
    assert.equal(first.headers['ratelimit-remaining'], '6');
    const tooMany = await batch('/pipeline/batch', 'jobs', 7);
    assert.equal(tooMany.statusCode, 429, 'all or nothing: 7 do not fit in 6');
    assert.equal(tooMany.headers['ratelimit-remaining'], '6');
    assert.equal((await batch('/pipeline/batch', 'jobs', 5)).headers['ratelimit-remaining'], '1');
    assert.equal((await app.inject({ method: 'POST', url: '/pipeline/run', headers: as('t1', 'free') })).statusCode, 202);
    assert.equal((await app.inject({ method: 'POST', url: '/pipeline/run', headers: as('t1', 'free') })).statusCode, 429);

    const neverFits = await app.inject({ method: 'POST', url: '/v1/productions/batch', headers: as('t2', 'free'), payload: { productions: Array.from({ length: 11 }, () => ({})) } });
    assert.equal(neverFits.statusCode, 400, 'a batch larger than the whole limit is not worth retrying');
    assert.deepEqual(neverFits.json().error.details, [{ path: 'productions', message: 'send at most 10 items per batch, or upgrade the tier' }]);
    assert.equal((await batch('/v1/productions/batch', 'productions', 1)).statusCode, 429, 't1 is still limited');
    await app.close();
  });

  test('unauthenticated requests are limited per client IP', async () => {
    const app = await buildTestApp();
    const from = (remoteAddress: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: '/v1/productions', remoteAddress, headers });
    for (let i = 0; i < 3; i++) assert.equal((await from('203.0.113.1')).statusCode, 200);
    const refused = await from('203.0.113.1');
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.json().error.message, 'rate limit exceeded: at most 3 unauthenticated requests per client address per 60 s');
    assert.equal(refused.headers['retry-after'], '20');
    assert.equal((await from('203.0.113.2')).statusCode, 200, 'another address has its own count');
    assert.equal((await from('203.0.113.1', as('t1'))).statusCode, 200, 'a principal from the same address is counted per tenant');
    await app.close();
  });

  test('every request is limited per tenant, creations included (they have their own quota on top)', async () => {
    const app = await buildTestApp(new MemoryRateLimitStore(), 5);
    for (let i = 0; i < 5; i++) assert.equal((await app.inject({ method: 'GET', url: '/v1/productions', headers: as('t1', 'pro') })).statusCode, 200);
    const refused = await app.inject({ method: 'GET', url: '/v1/productions', headers: as('t1', 'pro') });
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.headers['ratelimit-limit'], '5');
    assert.equal((await app.inject({ method: 'GET', url: '/v1/productions', headers: as('t2', 'pro') })).statusCode, 200);
    assert.equal((await app.inject({ method: 'POST', url: '/v1/productions', headers: as('t1', 'pro') })).statusCode, 429, 'a tenant over its general limit cannot create either');
    assert.equal((await app.inject({ method: 'POST', url: '/v1/productions', headers: as('t2', 'pro') })).statusCode, 202);
    await app.close();
  });

  test('/health, /ready and /metrics are never limited and carry no headers', async () => {
    const app = await buildTestApp();
    for (const url of ['/health', '/ready', '/metrics', '/health?probe=1']) {
      for (let i = 0; i < 20; i++) {
        const res = await app.inject({ method: 'GET', url, remoteAddress: '198.51.100.7' });
        assert.equal(res.statusCode, 200, url);
        assert.equal(res.headers['ratelimit-limit'], undefined);
      }
    }
    await app.close();
  });

  test('rules are checked when registered', () => {
    const rules = rateLimitRules();
    assert.throws(() => registerRateLimits(Fastify(), { store: new MemoryRateLimitStore(), rules: { ...rules, general: { limit: -1, windowSec: 60 } } }), RangeError);
    assert.throws(() => registerRateLimits(Fastify(), { store: new MemoryRateLimitStore(), rules: rateLimitRules({ tiers: { pro: 100 } }) }), /default tier "free"/);
    assert.equal(rateLimitRules({ tiers: { free: 0 } }).creations.perTier.free, Infinity, '0 means unlimited in configuration');
  });
});

test('per-address limits count an IPv6 /64 as one client, IPv4 and IPv4-mapped addresses as themselves', () => {
  assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
  assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8:1:2::5'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:0db8:0001:0002:ffff::1'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
});
