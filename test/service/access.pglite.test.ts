/**
 * Tenants, API keys and the audit log over HTTP (role api, PGlite): operators manage tenants,
 * tenant admins their own keys; rotation with a grace period, revocation, expiry; and isolation —
 * a key of tenant A never sees, lists, cancels or downloads tenant B's productions.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { apiKeys } from '../../src/db/schema.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
before(async () => {
  // Operators may charge per minute of video; budgets count it.
  svc = await startTestService({ role: 'api', env: { PRICE_PER_VIDEO_MINUTE_USD: '0.1' } });
});
after(async () => {
  await svc?.stop();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
type Json = Record<string, unknown>;

async function call(method: 'GET' | 'POST' | 'PATCH', url: string, key: string, payload?: Json): Promise<{ status: number; body: Json }> {
  const res = await svc.app!.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as Json };
}

async function tenantWithAdmin(id: string, tier: string): Promise<string> {
  assert.equal((await call('POST', '/v1/tenants', svc.key, { id, name: id.toUpperCase(), tier })).status, 201);
  const created = await call('POST', '/v1/api-keys', svc.key, { name: `${id} admin`, scopes: ['admin'], tenantId: id });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.key as string;
}

test('operators manage tenants; tenant admins manage only their own keys', async () => {
  const adminA = await tenantWithAdmin('acme', 'free');
  await tenantWithAdmin('globex', 'pro');
  const list = await call('GET', '/v1/tenants', svc.key);
  assert.deepEqual((list.body.data as Json[]).map((t) => t.id).sort(), ['acme', 'default', 'globex']);
  assert.equal((await call('GET', '/v1/tenants', adminA)).status, 403, 'a tenant admin is not an operator');
  assert.equal((await call('POST', '/v1/tenants', adminA, { name: 'sneaky' })).status, 403);
  assert.equal((await call('GET', '/v1/tenants/acme', adminA)).status, 200, 'an admin reads its own tenant');
  assert.equal((await call('GET', '/v1/tenants/globex', adminA)).status, 403);

  const patched = await call('PATCH', '/v1/tenants/acme', svc.key, { tier: 'pro', monthlyBudgetUsd: 50, branding: { colors: { primary: '#ff6600' } } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal(patched.body.tier, 'pro');
  assert.equal(patched.body.monthlyBudgetUsd, 50);
  // A patch that leaves the tier out keeps it (it once reset it to free).
  const budgetOnly = await call('PATCH', '/v1/tenants/acme', svc.key, { monthlyBudgetUsd: 60 });
  assert.equal(budgetOnly.status, 200, JSON.stringify(budgetOnly.body));
  assert.equal(budgetOnly.body.tier, 'pro');
  assert.equal(budgetOnly.body.monthlyBudgetUsd, 60);
  const bad = await call('PATCH', '/v1/tenants/acme', svc.key, { tier: 'platinum' });
  assert.equal(bad.status, 400);
  assert.equal((bad.body.error as Json).code, 'invalid_request');

  const member = await call('POST', '/v1/api-keys', adminA, { name: 'ci', scopes: ['productions:read', 'productions:write'] });
  assert.equal(member.status, 201);
  assert.equal((member.body.apiKey as Json).tenantId, 'acme');
  assert.match(member.body.key as string, /^aiprod_[a-z0-9]{12}_[A-Za-z0-9_-]{32,}$/);
  const memberKey = member.body.key as string;
  assert.equal((await call('GET', '/v1/api-keys', memberKey)).status, 403, 'managing keys needs the admin scope');
  assert.equal((await call('POST', '/v1/api-keys', adminA, { name: 'x', scopes: ['admin'], tenantId: 'globex' })).status, 403, 'not for another tenant');
  const mine = await call('GET', '/v1/api-keys', adminA);
  assert.ok((mine.body.data as Json[]).every((k) => k.tenantId === 'acme'));
  // The secret is everything after `aiprod_<12-char id>_` (it may itself contain "_").
  const secret = memberKey.slice('aiprod_'.length + 13);
  assert.ok(secret.length >= 32);
  assert.ok(!JSON.stringify(mine.body).includes(secret.slice(0, 16)), 'secrets are never listed');
  // Only a hash is stored.
  const [row] = await svc.database.db.select().from(apiKeys).where(eq(apiKeys.id, (member.body.apiKey as Json).id as string));
  assert.notEqual(row?.secretHash, secret);
  assert.match(row?.secretHash ?? '', /^[0-9a-f]{64}$/);
});

test('rotation keeps the old secret for the grace period; revocation and expiry answer 401 with their codes', async () => {
  const admin = (await call('POST', '/v1/api-keys', svc.key, { name: 'rot admin', scopes: ['admin'], tenantId: 'acme' })).body.key as string;
  const created = await call('POST', '/v1/api-keys', admin, { name: 'rotating', scopes: ['productions:read'] });
  const oldKey = created.body.key as string;
  const id = (created.body.apiKey as Json).id as string;
  assert.equal((await call('GET', '/v1/productions', oldKey)).status, 200);

  const rotated = await call('POST', `/v1/api-keys/${id}/rotate`, admin, { graceSec: 3600 });
  assert.equal(rotated.status, 200);
  const newKey = rotated.body.key as string;
  assert.notEqual(newKey, oldKey);
  assert.ok((rotated.body.apiKey as Json).previousValidUntil);
  assert.equal((await call('GET', '/v1/productions', newKey)).status, 200);
  assert.equal((await call('GET', '/v1/productions', oldKey)).status, 200, 'the old secret works during the grace period');

  const again = await call('POST', `/v1/api-keys/${id}/rotate`, admin, { graceSec: 0 });
  const newest = again.body.key as string;
  const refused = await call('GET', '/v1/productions', newKey);
  assert.equal(refused.status, 401, 'no grace: the previous secret stops at once');
  assert.equal((await call('GET', '/v1/productions', newest)).status, 200);

  const revoked = await call('POST', `/v1/api-keys/${id}/revoke`, admin);
  assert.equal(revoked.status, 200);
  const afterRevoke = await call('GET', '/v1/productions', newest);
  assert.equal(afterRevoke.status, 401, 'revocation reaches the key cache at once');
  assert.equal((afterRevoke.body.error as Json).code, 'key_revoked');

  const expiring = await call('POST', '/v1/api-keys', admin, { name: 'short', scopes: ['productions:read'], expiresAt: new Date(Date.now() + 60_000).toISOString() });
  await svc.database.db.update(apiKeys).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiKeys.id, (expiring.body.apiKey as Json).id as string));
  const expired = await call('GET', '/v1/productions', expiring.body.key as string);
  assert.equal(expired.status, 401);
  assert.equal((expired.body.error as Json).code, 'key_expired');

  const all = await call('POST', '/v1/api-keys/revoke-all', admin, { keepCurrent: true });
  assert.equal(all.status, 200);
  assert.ok((all.body.revoked as string[]).length >= 1);
  assert.equal((await call('GET', '/v1/api-keys', admin)).status, 200, 'the caller kept its own key');
  assert.equal((await call('GET', '/v1/productions', oldKey)).status, 401);
});

test("isolation: another tenant's production answers 404 on every route", async () => {
  const a = (await call('POST', '/v1/api-keys', svc.key, { name: 'iso a', scopes: ['admin'], tenantId: 'acme' })).body.key as string;
  const b = (await call('POST', '/v1/api-keys', svc.key, { name: 'iso b', scopes: ['admin'], tenantId: 'globex' })).body.key as string;
  const created = await call('POST', '/v1/productions', a, { prompt: 'a private idea of tenant acme', review: true });
  assert.equal(created.status, 202);
  const id = created.body.id as string;
  for (const [method, url] of [
    ['GET', `/v1/productions/${id}`],
    ['GET', `/v1/productions/${id}/storyboard`],
    ['GET', `/v1/productions/${id}/outputs/video.mp4`],
    ['GET', `/v1/productions/${id}/events`],
    ['POST', `/v1/productions/${id}/cancel`],
    ['POST', `/v1/productions/${id}/retry`],
    ['POST', `/v1/productions/${id}/approve`],
    ['GET', `/pipeline/job/${id}`],
  ] as const) {
    const res = await call(method, url, b);
    assert.equal(res.status, 404, `${method} ${url} as the other tenant: ${JSON.stringify(res.body)}`);
    assert.equal((res.body.error as Json).code, 'not_found');
  }
  const patch = await svc.app!.inject({ method: 'PATCH', url: `/v1/productions/${id}/storyboard`, headers: bearer(b), payload: { title: 'x', language: 'en', mood: 'calm', sfxCues: [], scenes: [{ id: 's1', narration: 'x', visual: { type: 'color', color: '#000000' }, keywords: [], sfx: [] }], notes: [] } });
  assert.equal(patch.statusCode, 404);
  await assert.rejects(svc.app!.injectWS(`/v1/productions/${id}/ws`, { headers: bearer(b) }));
  const listed = await call('GET', '/v1/productions?limit=100', b);
  assert.ok(!(listed.body.data as Json[]).some((p) => p.id === id));
  const legacy = await call('GET', '/pipeline/jobs?limit=100', b);
  assert.ok(!(legacy.body.jobs as Json[]).some((j) => j.job_id === id));
  // The owner still sees it, and it was not canceled by the other tenant.
  const own = await call('GET', `/v1/productions/${id}`, a);
  assert.equal(own.status, 200);
  assert.notEqual(own.body.status, 'canceled');
});

test('the audit log records key and tenant changes with actor and IP; admins see only their tenant', async () => {
  const operatorView = await call('GET', '/v1/audit?limit=500', svc.key);
  assert.equal(operatorView.status, 200);
  const entries = operatorView.body.data as Json[];
  const actions = new Set(entries.map((e) => e.action));
  for (const action of ['tenant.created', 'tenant.updated', 'api_key.created', 'api_key.rotated', 'api_key.revoked', 'api_key.revoked_all']) {
    assert.ok(actions.has(action), `${action} is recorded`);
  }
  const update = entries.find((e) => e.action === 'tenant.updated' && (e.details as Json).tier);
  assert.deepEqual((update?.details as Json).tier, { from: 'free', to: 'pro' });
  assert.match(String(update?.actor), /^key:/);
  assert.equal(update?.ip, '127.0.0.1');

  const admin = (await call('POST', '/v1/api-keys', svc.key, { name: 'audit reader', scopes: ['admin'], tenantId: 'globex' })).body.key as string;
  const own = await call('GET', '/v1/audit?limit=500', admin);
  assert.ok((own.body.data as Json[]).length > 0);
  assert.ok((own.body.data as Json[]).every((e) => e.tenantId === 'globex'));
  assert.equal((await call('GET', '/v1/audit?tenantId=acme', admin)).status, 403);
  const filtered = await call('GET', '/v1/audit?action=api_key.rotated', svc.key);
  assert.ok((filtered.body.data as Json[]).every((e) => e.action === 'api_key.rotated'));

  // A burst of failed authentication from one address is recorded once.
  for (let i = 0; i < 25; i++) await svc.app!.inject({ url: '/v1/productions', headers: bearer(`aiprod_${'x'.repeat(12)}_${'y'.repeat(32)}`) });
  const bursts = await call('GET', '/v1/audit?action=auth.failed_burst', svc.key);
  assert.equal((bursts.body.data as Json[]).length, 1);
  assert.equal((bursts.body.data as Json[])[0]?.ip, '127.0.0.1');
});

test('a free tenant may create 10 productions a minute: the 11th is a 429 with RateLimit headers', async () => {
  await tenantWithAdmin('tiny', 'free');
  const key = (await call('POST', '/v1/api-keys', svc.key, { name: 'tiny writer', scopes: ['productions:write', 'productions:read'], tenantId: 'tiny' })).body.key as string;
  for (let i = 0; i < 10; i++) {
    const res = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: bearer(key), payload: { prompt: `free tier idea ${i}`, resolution: '720p' } });
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.headers['ratelimit-limit'], '10');
    assert.equal(res.headers['ratelimit-remaining'], String(9 - i));
    // Canceled at once, so the free tier's 3 unfinished productions are never the limit here.
    assert.equal((await svc.app!.inject({ method: 'POST', url: `/v1/productions/${res.json().id}/cancel`, headers: bearer(key) })).statusCode, 200);
  }
  const refused = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: bearer(key), payload: { prompt: 'one too many', resolution: '720p' } });
  assert.equal(refused.statusCode, 429);
  assert.equal(refused.json().error.code, 'rate_limited');
  const retryAfter = Number(refused.headers['retry-after']);
  assert.ok(retryAfter >= 1 && retryAfter <= 6, `Retry-After ${retryAfter}`);
  assert.equal(refused.headers['ratelimit-remaining'], '0');
  // A batch counts its items, and reads are not creations.
  assert.equal((await svc.app!.inject({ url: '/v1/productions', headers: bearer(key) })).statusCode, 200);
  // The operator's enterprise tenant is not limited.
  for (let i = 0; i < 12; i++) {
    assert.equal((await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: { prompt: `enterprise idea ${i}` } })).statusCode, 202);
  }
});

test('failed authentications from one address are limited like anonymous traffic', async () => {
  const wrong = bearer(`aiprod_${'z'.repeat(12)}_${'q'.repeat(32)}`);
  const attacker = '203.0.113.77';
  const codes: number[] = [];
  for (let i = 0; i < 70; i++) codes.push((await svc.app!.inject({ url: '/v1/productions', headers: wrong, remoteAddress: attacker })).statusCode);
  assert.ok(codes.slice(0, 30).every((c) => c === 401));
  assert.equal(codes.at(-1), 429, 'guessing keys ends in 429s');
  // Only failures are limited: a valid key from the same address still works.
  const right = await svc.app!.inject({ url: '/v1/productions', headers: svc.auth, remoteAddress: attacker });
  assert.equal(right.statusCode, 200);
  // Other addresses are not affected.
  assert.equal((await svc.app!.inject({ url: '/v1/productions', headers: svc.auth })).statusCode, 200);
});

test('tier quotas: resolution, length and unfinished productions (403), and the monthly budget (402 with the numbers)', async () => {
  await tenantWithAdmin('small', 'free');
  const key = (await call('POST', '/v1/api-keys', svc.key, { name: 'small writer', scopes: ['productions:write', 'productions:read'], tenantId: 'small' })).body.key as string;
  const hd = await call('POST', '/v1/productions', key, { prompt: 'a full hd idea' });
  assert.equal(hd.status, 403);
  assert.equal((hd.body.error as Json).code, 'quota_exceeded');
  assert.equal(((hd.body.error as Json).details as Json[])[0]?.path, 'resolution');
  const long = await call('POST', '/v1/productions', key, { script: 'A sentence that takes a while to say out loud. '.repeat(60), resolution: '480p' });
  assert.equal(long.status, 403);
  assert.equal(((long.body.error as Json).details as Json[])[0]?.path, 'targetDurationSec');
  for (let i = 0; i < 3; i++) assert.equal((await call('POST', '/v1/productions', key, { prompt: `small idea ${i}`, resolution: '480p' })).status, 202);
  const fourth = await call('POST', '/v1/productions', key, { prompt: 'one unfinished too many', resolution: '480p' });
  assert.equal(fourth.status, 403);
  assert.match(String((fourth.body.error as Json).message), /3 unfinished productions at once/);

  // A pro tenant with a $0.15 budget and a price of $0.10 per video minute: one 60 s video fits, two do not.
  await call('POST', '/v1/tenants', svc.key, { id: 'budgeted', name: 'Budgeted', tier: 'pro', monthlyBudgetUsd: 0.15 });
  const pro = (await call('POST', '/v1/api-keys', svc.key, { name: 'b', scopes: ['productions:write', 'productions:read'], tenantId: 'budgeted' })).body.key as string;
  const minute = { prompt: 'a one minute explainer about budgets', targetDurationSec: 60, resolution: '480p' };
  const estimate = await call('POST', '/v1/estimate', pro, minute);
  assert.equal((estimate.body.cost as Json).totalUsd, 0.1);
  assert.equal((await call('POST', '/v1/productions', pro, minute)).status, 202);
  const over = await call('POST', '/v1/productions', pro, minute);
  assert.equal(over.status, 402);
  const error = over.body.error as Json;
  assert.equal(error.code, 'budget_exceeded');
  const numbers = Object.fromEntries((error.details as Json[]).map((d) => [d.path, Number(d.message)]));
  assert.deepEqual(numbers, { monthlyBudgetUsd: 0.15, spentUsd: 0.1, estimateUsd: 0.1, remainingUsd: 0.05 });
});

test('an edited storyboard is held to the same rules as a brief: media paths and the tier length', async () => {
  await tenantWithAdmin('editor', 'free');
  const key = (await call('POST', '/v1/api-keys', svc.key, { name: 'ed', scopes: ['productions:write', 'productions:read'], tenantId: 'editor' })).body.key as string;
  const created = await call('POST', '/v1/productions', key, { prompt: 'a reviewed idea', resolution: '480p', review: true });
  assert.equal(created.status, 202);
  const id = created.body.id as string;
  // No worker here: put the production where a worker would, awaiting review with a plan.
  const scene = (i: number, extra: Record<string, unknown> = {}) => ({ id: `s${i}`, narration: 'A line.', visual: { type: 'color', color: '#111827' }, keywords: [], sfx: [], ...extra });
  const plan = { title: 'x', language: 'en', mood: 'calm', sfxCues: [], scenes: [scene(1)], notes: [] };
  await svc.database.executeSql(`update productions set status = 'awaiting_review', storyboard = $1 where id = $2`, [JSON.stringify(plan), id]);

  for (const src of ['/etc/passwd', '../../master.key', 'http://169.254.169.254/latest']) {
    const res = await call('PATCH', `/v1/productions/${id}/storyboard`, key, { ...plan, scenes: [scene(1, { visual: { type: 'image', src } })] });
    assert.equal(res.status, 422, `${src}: ${JSON.stringify(res.body)}`);
    assert.equal(((res.body.error as Json).details as Json[])[0]?.path, 'scenes.0.visual.src');
  }
  const long = await call('PATCH', `/v1/productions/${id}/storyboard`, key, { ...plan, scenes: Array.from({ length: 10 }, (_, i) => scene(i, { durationSec: 600 })) });
  assert.equal(long.status, 403);
  assert.equal((long.body.error as Json).code, 'quota_exceeded');
  const fine = await call('PATCH', `/v1/productions/${id}/storyboard`, key, { ...plan, scenes: [scene(1, { durationSec: 8 })] });
  assert.equal(fine.status, 200, JSON.stringify(fine.body));
});

test('concurrent creates cannot overrun a tier quota', async () => {
  await tenantWithAdmin('racer', 'pro');
  const key = (await call('POST', '/v1/api-keys', svc.key, { name: 'r', scopes: ['productions:write'], tenantId: 'racer' })).body.key as string;
  const results = await Promise.all(
    Array.from({ length: 30 }, (_, i) => svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: bearer(key), payload: { prompt: `racing idea ${i}`, resolution: '480p' } })),
  );
  const codes = results.map((r) => r.statusCode);
  assert.equal(codes.filter((c) => c === 202).length, 25, codes.join(','));
  assert.equal(codes.filter((c) => c === 403).length, 5);
});

test("a tenant's own provider keys are stored encrypted, listed by name only, and audited without values", async () => {
  const secret = 'sk-elevenlabs-0123456789abcdef';
  const patched = await call('PATCH', '/v1/tenants/acme', svc.key, { providerKeys: { elevenlabs: secret, openai: 'sk-openai-abcdefghijkl' } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.deepEqual(patched.body.providerKeys, ['elevenlabs', 'openai']);
  assert.ok(!JSON.stringify(patched.body).includes(secret));
  const { rows } = await svc.database.executeSql(`select provider_keys from tenants where id = 'acme'`);
  const stored = (rows[0] as { provider_keys: string }).provider_keys;
  assert.match(stored, /^enc:v1:/);
  assert.ok(!stored.includes(secret) && !stored.includes('elevenlabs'), 'neither the key nor the provider name is in the stored bytes');
  assert.equal((await svc.access.providerKeys('acme')).elevenlabs, secret, 'the service can read them back');
  const audit = await call('GET', '/v1/audit?action=tenant.updated&limit=500', svc.key);
  assert.ok(!JSON.stringify(audit.body).includes(secret));
  const unknown = await call('PATCH', '/v1/tenants/acme', svc.key, { providerKeys: { midjourney: 'x'.repeat(20) } });
  assert.equal(unknown.status, 400);
  const cleared = await call('PATCH', '/v1/tenants/acme', svc.key, { providerKeys: null });
  assert.deepEqual(cleared.body.providerKeys, []);
});
