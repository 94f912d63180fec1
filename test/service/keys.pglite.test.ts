/**
 * API keys at the edges of their lifetime (role api, PGlite): a key stops working the moment it
 * expires or its rotation grace ends, even while it sits in the per-process key cache; a key cannot
 * be created already expired; failed guesses from an address never lock out a valid key there.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
before(async () => {
  svc = await startTestService({ role: 'api', env: { RATE_LIMIT_ANONYMOUS_PER_MIN: '5' } });
});
after(async () => {
  await svc?.stop();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
type Json = Record<string, unknown>;

async function call(method: 'GET' | 'POST', url: string, key: string, payload?: Json, remoteAddress?: string): Promise<{ status: number; body: Json }> {
  const res = await svc.app!.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}), ...(remoteAddress ? { remoteAddress } : {}) });
  return { status: res.statusCode, body: res.json() as Json };
}

/** Resolves once the wall clock has passed `at` (the state change under test is the key's expiry). */
async function until(at: Date): Promise<void> {
  while (Date.now() <= at.getTime() + 50) await new Promise((resolve) => setTimeout(resolve, 100));
}

test('a key that expires while cached stops working at its expiry, with key_expired', async () => {
  const expiresAt = new Date(Date.now() + 2500);
  const created = await call('POST', '/v1/api-keys', svc.key, { name: 'short-lived', scopes: ['productions:read'], expiresAt: expiresAt.toISOString() });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const key = created.body.key as string;
  assert.equal((await call('GET', '/v1/productions', key)).status, 200, 'works before its expiry (and is now cached)');
  await until(expiresAt);
  const refused = await call('GET', '/v1/productions', key);
  assert.equal(refused.status, 401, 'the cache must not outlive the key');
  assert.equal((refused.body.error as Json).code, 'key_expired');
});

test("a rotated key's previous secret stops at the end of the grace period, even from the cache", async () => {
  const created = await call('POST', '/v1/api-keys', svc.key, { name: 'rotating', scopes: ['productions:read'] });
  const id = (created.body.apiKey as Json).id as string;
  const old = created.body.key as string;
  const rotated = await call('POST', `/v1/api-keys/${id}/rotate`, svc.key, { graceSec: 2 });
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  const graceEnds = new Date((rotated.body.apiKey as Json).previousValidUntil as string);
  assert.equal((await call('GET', '/v1/productions', old)).status, 200, 'the old secret works during the grace (and is now cached)');
  await until(graceEnds);
  assert.equal((await call('GET', '/v1/productions', old)).status, 401);
  assert.equal((await call('GET', '/v1/productions', rotated.body.key as string)).status, 200);
});

test('a key cannot be created already expired: 400 naming expiresAt', async () => {
  const past = await call('POST', '/v1/api-keys', svc.key, { name: 'stillborn', scopes: ['productions:read'], expiresAt: new Date(Date.now() - 60_000).toISOString() });
  assert.equal(past.status, 400, JSON.stringify(past.body));
  const error = past.body.error as { code: string; details: { path: string }[] };
  assert.equal(error.code, 'invalid_request');
  assert.equal(error.details[0]?.path, 'expiresAt');
  const now = await call('POST', '/v1/api-keys', svc.key, { name: 'stillborn', scopes: ['productions:read'], expiresAt: new Date().toISOString() });
  assert.equal(now.status, 400);
});

test('an address over its failed-authentication limit still authenticates a valid key', async () => {
  const address = '198.51.100.23';
  const wrong = `aiprod_${'w'.repeat(12)}_${'q'.repeat(32)}`;
  const codes: number[] = [];
  for (let i = 0; i < 8; i++) codes.push((await call('GET', '/v1/productions', wrong, undefined, address)).status);
  assert.deepEqual(codes.slice(0, 5), [401, 401, 401, 401, 401]);
  assert.equal(codes.at(-1), 429, 'guessing is limited');
  // A fresh key (never cached in this process) from the same address is looked up and accepted.
  const created = await call('POST', '/v1/api-keys', svc.key, { name: 'same office', scopes: ['productions:read'] });
  assert.equal((await call('GET', '/v1/productions', created.body.key as string, undefined, address)).status, 200);
  assert.equal((await call('GET', '/v1/productions', svc.key, undefined, address)).status, 200);
  // Guessing from there is still refused.
  assert.equal((await call('GET', '/v1/productions', wrong, undefined, address)).status, 429);
});
