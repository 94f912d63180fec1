/**
 * ID tokens from an OpenID provider as Bearer credentials, through the API: a local JWKS server
 * with an RSA key made here, tokens signed here. The tenant claim picks the tenant, role "admin"
 * gives the admin scope, and a bad token is a 401 that does not echo it.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startTestService, type TestService } from './harness.js';

const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ISSUER = 'https://securetoken.google.com/aiprod-test';
const AUDIENCE = 'aiprod-test';
let jwks: Server;
let svc: TestService;
let jwksUrl = '';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
function token(claims: Record<string, unknown>, signer: KeyObject = key.privateKey): string {
  const now = Math.floor(Date.now() / 1000);
  const data = `${b64({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: now - 10, exp: now + 3600, auth_time: now - 20, ...claims })}`;
  return `${data}.${sign('sha256', Buffer.from(data), signer).toString('base64url')}`;
}

before(async () => {
  const jwk = { ...key.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  jwksUrl = url;
  svc = await startTestService({ role: 'api', env: { JWT_JWKS_URL: url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE } });
  await svc.access.createTenant({ actor: 'test' }, { id: 'acme', name: 'Acme', tier: 'pro' });
});
after(async () => {
  await svc?.stop();
  jwks?.close();
});

const as = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

test('a member token of tenant acme creates and reads acme productions, and cannot manage keys', async () => {
  const member = token({ tenant: 'acme', role: 'editor' });
  const created = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: as(member), payload: { prompt: 'an idea from a signed-in user', resolution: '480p' } });
  assert.equal(created.statusCode, 202, created.body);
  const read = await svc.app!.inject({ url: `/v1/productions/${created.json().id}`, headers: as(member) });
  assert.equal(read.statusCode, 200);
  // It is acme's: the operator key of the default tenant does not see it in its own list.
  const operatorList = (await svc.app!.inject({ url: '/v1/productions?limit=100', headers: svc.auth })).json().data as { id: string }[];
  assert.ok(!operatorList.some((p) => p.id === created.json().id));
  assert.equal((await svc.app!.inject({ url: '/v1/api-keys', headers: as(member) })).statusCode, 403);
  // A client of the original API signs in the same way (it sent Firebase ID tokens): its job is acme's too.
  const job = await svc.app!.inject({ method: 'POST', url: '/pipeline/run', headers: as(member), payload: { content: 'an idea from a signed-in client of the original API' } });
  assert.equal(job.statusCode, 200, job.body);
  const polled = await svc.app!.inject({ url: `/pipeline/job/${job.json().job_id}`, headers: as(member) });
  assert.equal(polled.statusCode, 200, polled.body);
  assert.equal((await svc.app!.inject({ url: `/pipeline/job/${job.json().job_id}`, headers: svc.auth })).statusCode, 404, 'not the operator tenant\'s job');
  const expired = await svc.app!.inject({ url: `/pipeline/job/${job.json().job_id}`, headers: as(token({ tenant: 'acme', exp: Math.floor(Date.now() / 1000) - 3600 })) });
  assert.equal(expired.statusCode, 401);
  assert.match(expired.json().detail, /invalid bearer token/);
  const admin = token({ tenant: 'acme', role: 'admin', sub: 'boss' });
  const keys = await svc.app!.inject({ url: '/v1/api-keys', headers: as(admin) });
  assert.equal(keys.statusCode, 200, keys.body);
  assert.ok((keys.json().data as { tenantId: string }[]).every((k) => k.tenantId === 'acme'));
});

test('bad tokens are refused without echoing them; an unknown tenant is 403', async () => {
  const cases = [
    token({ tenant: 'acme', exp: Math.floor(Date.now() / 1000) - 3600 }),
    token({ tenant: 'acme', iss: 'https://evil.example' }),
    token({ tenant: 'acme', aud: 'someone-else' }),
    token({ tenant: 'acme' }, other.privateKey),
  ];
  for (const bad of cases) {
    const res = await svc.app!.inject({ url: '/v1/productions', headers: as(bad) });
    assert.equal(res.statusCode, 401, res.body);
    assert.equal(res.json().error.code, 'unauthorized');
    assert.ok(!res.body.includes(bad.split('.')[1] as string), 'the token is not echoed');
  }
  const ghost = await svc.app!.inject({ url: '/v1/productions', headers: as(token({ tenant: 'ghost' })) });
  assert.equal(ghost.statusCode, 403);
  const none = await svc.app!.inject({ url: '/v1/productions', headers: as(token({})) });
  assert.equal(none.statusCode, 403, 'no tenant claim and no JWT_DEFAULT_TENANT');
});

test('an admin token of the operator tenant is no operator unless JWT_ALLOW_OPERATOR=true', async () => {
  const boss = token({ tenant: 'default', role: 'admin', sub: 'default-boss' });
  // Not over other tenants …
  assert.equal((await svc.app!.inject({ url: '/v1/tenants', headers: as(boss) })).statusCode, 403);
  assert.equal((await svc.app!.inject({ url: '/v1/api-keys?tenantId=acme', headers: as(boss) })).statusCode, 403);
  const made = await svc.app!.inject({ method: 'POST', url: '/v1/api-keys', headers: as(boss), payload: { name: 'sneaky', scopes: ['admin'], tenantId: 'acme' } });
  assert.equal(made.statusCode, 403, made.body);
  // … but still a member of its own tenant.
  assert.equal((await svc.app!.inject({ url: '/v1/productions', headers: as(boss) })).statusCode, 200);

  const allowed = await startTestService({ role: 'api', env: { JWT_JWKS_URL: jwksUrl, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_ALLOW_OPERATOR: 'true' } });
  try {
    assert.equal((await allowed.app!.inject({ url: '/v1/tenants', headers: as(boss) })).statusCode, 200);
  } finally {
    await allowed.stop();
  }
});
