// What only the Redis adapter does: shared counts across processes, the server's clock, key
// prefixes and TTLs, NOSCRIPT recovery and Redis failures. The behaviour every store shares is the
// conformance suite in rate-limit.test.ts, which runs against this adapter too.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { AppError } from '../contract/errors.js';
import { sendError } from '../http/errors.js';
import { rateLimitRules, registerRateLimits } from './rate-limit.js';
import { RedisRateLimitStore, type RedisRateLimitStoreOptions, type RedisScriptClient } from './rate-limit.redis.js';
import { REDIS_URL } from '../../test/support/redis.js';
import { redisOrSkip } from '../../test/support/services.js';

const redis = await redisOrSkip();
const skip = typeof redis === 'string' ? redis : false;

/** A port nothing listens on: where a Redis outage is simulated. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const opened: RedisRateLimitStore[] = [];
const prefixes: string[] = [];

/** A store on its own connection (as another API process would have), with a fresh key prefix. */
async function processStore(prefix: string, options: RedisRateLimitStoreOptions = {}): Promise<RedisRateLimitStore> {
  const store = await RedisRateLimitStore.connect(REDIS_URL, { prefix, ...options });
  opened.push(store);
  return store;
}
function freshPrefix(): string {
  const prefix = `test:ratelimit:${randomUUID()}:`;
  prefixes.push(prefix);
  return prefix;
}
async function keysUnder(prefix: string): Promise<string[]> {
  const client = redis as Redis;
  const keys: string[] = [];
  for await (const batch of client.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) keys.push(...batch);
  return keys;
}

after(async () => {
  await Promise.all(opened.map((s) => s.close()));
  if (typeof redis === 'string') return;
  for (const prefix of prefixes) {
    const keys = await keysUnder(prefix);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

describe('RedisRateLimitStore', { skip }, () => {
  test('two API processes share one limit: 200 concurrent hits through two connections admit exactly 50', async () => {
    const prefix = freshPrefix();
    const [a, b] = [await processStore(prefix), await processStore(prefix)];
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).hit('tenant:t1', 50, 3600)));
    assert.equal(results.filter((r) => r.allowed).length, 50);
  });

  test('decisions use the Redis clock, so a process whose clock is an hour fast still sees the others\' counts', async () => {
    const prefix = freshPrefix();
    const [a, b] = [await processStore(prefix), await processStore(prefix)];
    for (let i = 0; i < 5; i++) assert.equal((await a.hit('k', 5, 60)).allowed, true);
    const realNow = Date.now;
    Date.now = () => realNow() + 3_600_000;
    try {
      // Had B used its own clock, an hour later every bucket would be full again.
      const r = await b.hit('k', 5, 60);
      assert.equal(r.allowed, false);
      assert.ok(r.retryAfterSec >= 11 && r.retryAfterSec <= 12, `retry after ${r.retryAfterSec}`);
    } finally {
      Date.now = realNow;
    }
  });

  test('keys carry the prefix and expire when their bucket is full again', async () => {
    const prefix = freshPrefix();
    const store = await processStore(prefix);
    await store.hit('tenant:t1', 10, 60, undefined, 3);
    assert.deepEqual(await keysUnder(prefix), [`${prefix}tenant:t1`]);
    const ttl = await (redis as Redis).pttl(`${prefix}tenant:t1`);
    assert.ok(ttl > 17_000 && ttl <= 18_000, `PTTL ${ttl}: 3 of 10 per minute take 18 s to come back`);
    await store.hit('unlimited', Infinity, 60);
    assert.equal((await keysUnder(prefix)).length, 1);
  });

  test('the stored TAT keeps microsecond precision (no float formatting in Lua)', async () => {
    const prefix = freshPrefix();
    const store = await processStore(prefix);
    await store.hit('k', 7, 60, 1_700_000_000_123.457);
    // 1 700 000 000 123 457 µs + ceil(60e6 / 7) µs
    assert.equal(await (redis as Redis).get(`${prefix}k`), String(1_700_000_000_123_457 + 8_571_429));
  });

  test('EVALSHA first; after NOSCRIPT (a restarted Redis) one EVAL reloads the script', async () => {
    const calls: string[] = [];
    let forgetScripts = true;
    const client = redis as Redis;
    const spy: RedisScriptClient = {
      async evalsha(sha, numKeys, ...args) {
        calls.push('evalsha');
        // What Redis answers after a restart or SCRIPT FLUSH (not flushed for real: the server is shared).
        if (forgetScripts) throw new Error('NOSCRIPT No matching script. Please use EVAL.');
        return client.evalsha(sha, numKeys, ...args);
      },
      async eval(script, numKeys, ...args) {
        calls.push('eval');
        forgetScripts = false;
        return client.eval(script, numKeys, ...args);
      },
    };
    const store = new RedisRateLimitStore(spy, { prefix: freshPrefix(), failMode: 'closed' });
    assert.equal((await store.hit('k', 2, 60)).remaining, 1);
    assert.equal((await store.hit('k', 2, 60)).remaining, 0);
    assert.deepEqual(calls, ['evalsha', 'eval', 'evalsha']);
  });
});

// These need no Redis at all: they are about its absence.
describe('RedisRateLimitStore when Redis is down', () => {
  test('fail-open (the default): allowed as if the key were new, and onError told', async () => {
    const errors: Error[] = [];
    const store = await RedisRateLimitStore.connect(`redis://127.0.0.1:${await deadPort()}`, { onError: (e) => errors.push(e), connectTimeoutMs: 300 });
    try {
      errors.length = 0; // the connection failures; the hit's own failure is next
      assert.deepEqual(await store.hit('k', 10, 60), { allowed: true, limit: 10, remaining: 9, resetSec: 6, retryAfterSec: 0 });
      assert.equal(errors.length, 1);
      assert.match(errors[0]?.message ?? '', /writeable|closed|connect/i);
    } finally {
      await store.close();
    }
  });

  test('fail-closed: a 503 not_ready (the caller is not over its limit), and onError told', async () => {
    const errors: Error[] = [];
    const store = await RedisRateLimitStore.connect(`redis://127.0.0.1:${await deadPort()}`, { failMode: 'closed', onError: (e) => errors.push(e), connectTimeoutMs: 300 });
    try {
      errors.length = 0;
      await assert.rejects(store.hit('k', 10, 60), (error: unknown) => error instanceof AppError && error.code === 'not_ready' && error.status === 503 && error.retryable);
      assert.equal(errors.length, 1);
    } finally {
      await store.close();
    }
  });

  // A store without the timeout would never answer here, and the test would fail on its own timeout.
  test('a Redis that hangs fails open after timeoutMs', { timeout: 10_000 }, async () => {
    const hanging: RedisScriptClient = { evalsha: () => new Promise(() => undefined), eval: () => new Promise(() => undefined) };
    const errors: Error[] = [];
    const store = new RedisRateLimitStore(hanging, { timeoutMs: 50, onError: (e) => errors.push(e) });
    assert.equal((await store.hit('k', 10, 60)).allowed, true);
    assert.match(errors[0]?.message ?? '', /did not answer within 50 ms/);
  });

  test('the API keeps answering through an outage (fail-open)', async () => {
    const errors: Error[] = [];
    const store = await RedisRateLimitStore.connect(`redis://127.0.0.1:${await deadPort()}`, { onError: (e) => errors.push(e), connectTimeoutMs: 300 });
    const app = Fastify();
    app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
    registerRateLimits(app, { store, rules: rateLimitRules({ anonymous: 2 }) });
    app.get('/v1/productions', async () => ({ items: [] }));
    try {
      for (let i = 0; i < 5; i++) assert.equal((await app.inject({ method: 'GET', url: '/v1/productions' })).statusCode, 200);
      assert.ok(errors.length >= 5);
    } finally {
      await app.close();
      await store.close();
    }
  });
});
