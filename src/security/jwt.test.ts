import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign, constants, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { AppError } from '../contract/errors.js';
import { firebaseVerifierOptions, JwksVerifier, looksLikeJwt, mapClaims, type JwksVerifierOptions, type JwtClaims } from './jwt.js';

// Keys made here, never fixtures: an RSA, an EC P-256, an Ed25519 and a P-384 pair, a rotated RSA
// key, and an impostor RSA pair that will claim the first one's kid.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaNext = generateKeyPairSync('rsa', { modulusLength: 2048 });
const impostor = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ed = generateKeyPairSync('ed25519');

const jwk = (key: KeyObject, kid: string): Record<string, unknown> => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig' });
const KEYS = [jwk(rsa.publicKey, 'rsa-1'), jwk(ec.publicKey, 'ec-1'), jwk(ed.publicKey, 'ed-1'), jwk(ec384.publicKey, 'ec384-1')];

const ISSUER = 'https://id.example.test';
const AUDIENCE = 'aiprod-api';
const T0 = Date.UTC(2030, 0, 1) / 1000;

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

type Alg = 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';
function signJwt(alg: Alg, key: KeyObject, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64({ alg, typ: 'JWT', ...header })}.${b64(payload)}`;
  const data = Buffer.from(input);
  const signature =
    alg === 'RS256'
      ? sign('sha256', data, key)
      : alg === 'PS256'
        ? sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
        : alg === 'ES256'
          ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })
          : alg === 'ES384'
            ? sign('sha384', data, { key, dsaEncoding: 'ieee-p1363' })
            : sign(null, data, key);
  return `${input}.${signature.toString('base64url')}`;
}

const claims = (now: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'user-1',
  iat: now - 10,
  exp: now + 3600,
  ...extra,
});

/** A JWKS endpoint on 127.0.0.1 that counts its fetches and answers nothing but GET /jwks. */
interface JwksServer {
  url: string;
  fetches: () => number;
  serve: (keys: Record<string, unknown>[], headers?: Record<string, string>) => void;
  stall: () => void;
  close: () => Promise<void>;
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.closeAllConnections();
  for (const server of servers) server.close();
});

async function jwksServer(keys = KEYS): Promise<JwksServer> {
  let served = keys;
  let extraHeaders: Record<string, string> = {};
  let stalled = false;
  let count = 0;
  const unexpected: string[] = [];
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/jwks') {
      unexpected.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
      return;
    }
    count++;
    if (stalled) return; // never answers: the verifier's timeout must end the wait
    res.writeHead(200, { 'content-type': 'application/json', ...extraHeaders }).end(JSON.stringify({ keys: served }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks`,
    fetches: () => {
      assert.deepEqual(unexpected, [], 'unexpected request to the JWKS server');
      return count;
    },
    serve: (next, headers = {}) => {
      served = next;
      extraHeaders = headers;
    },
    stall: () => {
      stalled = true;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A verifier on its own clock (seconds since the epoch, starting at T0). */
function verifierFor(url: string, options: Partial<JwksVerifierOptions> = {}): { verifier: JwksVerifier; clock: { now: number } } {
  const clock = { now: T0 };
  const verifier = new JwksVerifier({ jwksUrl: url, issuer: ISSUER, audience: AUDIENCE, now: () => clock.now * 1000, ...options });
  return { verifier, clock };
}

/** Asserts a 401 naming `reason`, and that no part of the token leaks into the error. */
async function refused(promise: Promise<unknown>, token: string, reason: RegExp, code: 'unauthorized' | 'not_ready' = 'unauthorized'): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.status, code === 'unauthorized' ? 401 : 503);
    assert.match(error.message, reason);
    const shown = JSON.stringify({ message: error.message, details: error.details });
    for (const part of [token, ...token.split('.')].filter((p) => p.length >= 8)) assert.ok(!shown.includes(part), `error quotes the token: ${shown}`);
    return true;
  });
}

describe('JwksVerifier: signatures and algorithms', () => {
  test('accepts RS256, PS256, ES256, ES384 and EdDSA tokens signed by a published key', async () => {
    const jwks = await jwksServer();
    const { verifier } = verifierFor(jwks.url);
    const cases: [Alg, KeyObject, string][] = [
      ['RS256', rsa.privateKey, 'rsa-1'],
      ['PS256', rsa.privateKey, 'rsa-1'],
      ['ES256', ec.privateKey, 'ec-1'],
      ['ES384', ec384.privateKey, 'ec384-1'],
      ['EdDSA', ed.privateKey, 'ed-1'],
    ];
    for (const [alg, key, kid] of cases) {
      const verified = await verifier.verify(signJwt(alg, key, { kid }, claims(T0, { alg_case: alg })));
      assert.equal(verified.sub, 'user-1');
      assert.equal(verified.alg_case, alg);
    }
    assert.equal(jwks.fetches(), 1, 'one fetch serves every token while the cache is fresh');
  });

  test('a tampered payload and a signature by another key under the same kid are bad signatures', async () => {
    const jwks = await jwksServer();
    const { verifier } = verifierFor(jwks.url);
    const good = signJwt('RS256', rsa.privateKey, { kid: 'rsa-1' }, claims(T0));
    const [h, , s] = good.split('.');
    const tampered = `${h}.${b64(claims(T0, { sub: 'admin' }))}.${s}`;
    await refused(verifier.verify(tampered), tampered, /bad signature/);
    const forged = signJwt('RS256', impostor.privateKey, { kid: 'rsa-1' }, claims(T0));
    await refused(verifier.verify(forged), forged, /bad signature/);
  });

  test('alg none and an HMAC keyed with the RSA public key (algorithm confusion) are refused', async () => {
    const jwks = await jwksServer();
    const { verifier } = verifierFor(jwks.url);
    const none = `${b64({ alg: 'none', kid: 'rsa-1' })}.${b64(claims(T0))}.`;
    await refused(verifier.verify(none), none, /malformed/); // an empty signature part is not even a JWS
    const noneSigned = `${b64({ alg: 'none', kid: 'rsa-1' })}.${b64(claims(T0))}.${b64('x')}`;
    await refused(verifier.verify(noneSigned), noneSigned, /algorithm none not allowed/);
    for (const secret of [rsa.publicKey.export({ format: 'pem', type: 'spki' }), JSON.stringify(KEYS[0])]) {
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' })}.${b64(claims(T0))}`;
      const hs = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      await refused(verifier.verify(hs), hs, /algorithm HS256 not allowed/);
    }
  });

  test('an alg outside the allow-list, or of another family than the key, is refused', async () => {
    const jwks = await jwksServer();
    const { verifier } = verifierFor(jwks.url, { algorithms: ['RS256'] });
    const es = signJwt('ES256', ec.privateKey, { kid: 'ec-1' }, claims(T0));
    await refused(verifier.verify(es), es, /algorithm ES256 not allowed/);
    const open = verifierFor(jwks.url).verifier;
    // An EC signature presented under the RSA key's kid.
    const crossed = signJwt('ES256', ec.privateKey, { kid: 'rsa-1' }, claims(T0));
    await refused(open.verify(crossed), crossed, /ES256 does not match the signing key/);
    assert.throws(() => verifierFor(jwks.url, { algorithms: ['HS256' as 'RS256'] }), /must be among/);
  });

  test('malformed tokens: two parts, four parts, bad base64url, header not JSON, payload not JSON, critical header', async () => {
    const jwks = await jwksServer();
    const { verifier } = verifierFor(jwks.url);
    const good = signJwt('RS256', rsa.privateKey, { kid: 'rsa-1' }, claims(T0));
    const [h, p, s] = good.split('.') as [string, string, string];
    const malformed = [
      `${h}.${p}`,
      `${good}.${s}`,
      `${h}.${p}.${s.slice(0, -4)}+/==`,
      `${h}=.${p}.${s}`,
      `${h}.${p}.${s.slice(0, -1)}${s.endsWith('B') ? 'C' : 'B'}`, // non-canonical: bits a re-encoding would drop
      `${b64('not json at all')}.${p}.${s}`,
      `${b64([1, 2])}.${p}.${s}`,
      '',
    ];
    for (const token of malformed) await refused(verifier.verify(token), token, /malformed/);
    const critical = signJwt('RS256', rsa.privateKey, { kid: 'rsa-1', crit: ['exp'] }, claims(T0));
    await refused(verifier.verify(critical), critical, /unsupported critical header/);
    const notJson = `${b64({ alg: 'RS256', kid: 'rsa-1' })}.${b64('nope')}`;
    const signedText = `${notJson}.${sign('sha256', Buffer.from(notJson), rsa.privateKey).toString('base64url')}`;
    await refused(verifier.verify(signedText), signedText, /payload is not a JSON object/);
  });
});

describe('JwksVerifier: claims', () => {
  test('exp, nbf and iat against the clock, with 60 s tolerance', async () => {
    const jwks = await jwksServer();
    const { verifier } = verifierFor(jwks.url);
    const token = (extra: Record<string, unknown>): string => signJwt('ES256', ec.privateKey, { kid: 'ec-1' }, claims(T0, extra));
    const expired = token({ exp: T0 - 61 });
    await refused(verifier.verify(expired), expired, /expired/);
    await verifier.verify(token({ exp: T0 - 30 })); // within tolerance
    const noExp = token({ exp: undefined });
    await refused(verifier.verify(noExp), noExp, /no expiry/);
    const early = token({ nbf: T0 + 120 });
    await refused(verifier.verify(early), early, /not yet valid/);
    await verifier.verify(token({ nbf: T0 + 30 }));
    const future = token({ iat: T0 + 120 });
    await refused(verifier.verify(future), future, /issued in the future/);
    const noSub = token({ sub: '' });
    await refused(verifier.verify(noSub), noSub, /no subject/);
  });

  test('issuer must match exactly; audience as a string or in an array', async () => {
    const jwks = await jwksServer();
    const { verifier } = verifierFor(jwks.url);
    const token = (extra: Record<string, unknown>): string => signJwt('EdDSA', ed.privateKey, { kid: 'ed-1' }, claims(T0, extra));
    const wrongIss = token({ iss: `${ISSUER}/` });
    await refused(verifier.verify(wrongIss), wrongIss, /wrong issuer/);
    const wrongAud = token({ aud: 'someone-else' });
    await refused(verifier.verify(wrongAud), wrongAud, /wrong audience/);
    const noAud = token({ aud: ['a', 'b'] });
    await refused(verifier.verify(noAud), noAud, /wrong audience/);
    const verified = await verifier.verify(token({ aud: ['other', AUDIENCE] }));
    assert.deepEqual(verified.aud, ['other', AUDIENCE]);
  });
});

describe('JwksVerifier: the key set', () => {
  test('an unknown kid refetches once (key rotation); another unknown kid within 30 s does not fetch again', async () => {
    const jwks = await jwksServer([jwk(rsa.publicKey, 'rsa-1')]);
    const { verifier, clock } = verifierFor(jwks.url);
    await verifier.verify(signJwt('RS256', rsa.privateKey, { kid: 'rsa-1' }, claims(clock.now)));
    assert.equal(jwks.fetches(), 1);
    jwks.serve([jwk(rsa.publicKey, 'rsa-1'), jwk(rsaNext.publicKey, 'rsa-2')]);
    clock.now += 31;
    await verifier.verify(signJwt('RS256', rsaNext.privateKey, { kid: 'rsa-2' }, claims(clock.now)));
    assert.equal(jwks.fetches(), 2);
    clock.now += 5;
    const unknown = signJwt('RS256', rsaNext.privateKey, { kid: 'rsa-3' }, claims(clock.now));
    await refused(verifier.verify(unknown), unknown, /unknown signing key/);
    assert.equal(jwks.fetches(), 2, 'no second refetch inside the window');
    clock.now += 30;
    await refused(verifier.verify(unknown), unknown, /unknown signing key/);
    assert.equal(jwks.fetches(), 3, 'the window has passed: one more try');
  });

  test('cached for cacheTtlSec, or for Cache-Control max-age when the provider sends it', async () => {
    const jwks = await jwksServer();
    const { verifier, clock } = verifierFor(jwks.url);
    const verifyNow = (): Promise<JwtClaims> => verifier.verify(signJwt('ES256', ec.privateKey, { kid: 'ec-1' }, claims(clock.now)));
    await verifyNow();
    clock.now += 599;
    await verifyNow();
    assert.equal(jwks.fetches(), 1);
    jwks.serve(KEYS, { 'cache-control': 'public, max-age=3000, must-revalidate' });
    clock.now += 2;
    await verifyNow();
    assert.equal(jwks.fetches(), 2, 'stale after the default 600 s');
    clock.now += 2999;
    await verifyNow();
    assert.equal(jwks.fetches(), 2, 'max-age=3000 honoured');
    clock.now += 2;
    await verifyNow();
    assert.equal(jwks.fetches(), 3);
  });

  test('concurrent verifications on a cold cache share one fetch', async () => {
    const jwks = await jwksServer();
    const { verifier } = verifierFor(jwks.url);
    const tokens = [1, 2, 3, 4, 5, 6].map((n) => signJwt('EdDSA', ed.privateKey, { kid: 'ed-1' }, claims(T0, { sub: `user-${n}` })));
    const verified = await Promise.all(tokens.map((t) => verifier.verify(t)));
    assert.deepEqual(verified.map((c) => c.sub), ['user-1', 'user-2', 'user-3', 'user-4', 'user-5', 'user-6']);
    assert.equal(jwks.fetches(), 1);
  });

  test('JWKS server down with a warm cache: the cached keys keep verifying, one retry per window', async () => {
    const jwks = await jwksServer();
    let attempts = 0;
    const counting: typeof fetch = (input, init) => {
      attempts++;
      return fetch(input, init);
    };
    const { verifier, clock } = verifierFor(jwks.url, { fetch: counting });
    await verifier.verify(signJwt('RS256', rsa.privateKey, { kid: 'rsa-1' }, claims(clock.now)));
    await jwks.close();
    clock.now += 601; // the cached set is stale: the verifier tries, fails, and keeps it
    await verifier.verify(signJwt('RS256', rsa.privateKey, { kid: 'rsa-1' }, claims(clock.now)));
    assert.equal(attempts, 2);
    await verifier.verify(signJwt('ES256', ec.privateKey, { kid: 'ec-1' }, claims(clock.now)));
    assert.equal(attempts, 2, 'no retry inside the window');
  });

  test('no cached keys and the provider unreachable or silent: 503 not_ready, not a 401', async () => {
    const down = await jwksServer();
    await down.close();
    const token = signJwt('RS256', rsa.privateKey, { kid: 'rsa-1' }, claims(T0));
    await refused(verifierFor(down.url).verifier.verify(token), token, /signing keys unavailable/, 'not_ready');
    const silent = await jwksServer();
    silent.stall();
    // Without the fetch timeout this would wait on the silent provider until the test's own timeout.
    await refused(verifierFor(silent.url, { fetchTimeoutMs: 200 }).verifier.verify(token), token, /signing keys unavailable/, 'not_ready');
  });

  test('keys that cannot sign JWS are skipped: encryption keys, RSA under 2048 bits, symmetric keys', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwks = await jwksServer([
      { ...jwk(rsa.publicKey, 'enc'), use: 'enc' },
      jwk(small.publicKey, 'small'),
      { kty: 'oct', k: b64('secret'), kid: 'oct' },
      jwk(ec.publicKey, 'ec-1'),
    ]);
    const { verifier } = verifierFor(jwks.url);
    const enc = signJwt('RS256', rsa.privateKey, { kid: 'enc' }, claims(T0));
    await refused(verifier.verify(enc), enc, /unknown signing key/);
    const weak = signJwt('RS256', small.privateKey, { kid: 'small' }, claims(T0));
    await refused(verifier.verify(weak), weak, /unknown signing key/);
    await verifier.verify(signJwt('ES256', ec.privateKey, { kid: 'ec-1' }, claims(T0)));
  });
});

describe('Firebase ID tokens and claim mapping', () => {
  const PROJECT = 'aiprod-test';
  const firebaseToken = (now: number, extra: Record<string, unknown> = {}): string =>
    signJwt('RS256', rsa.privateKey, { kid: 'rsa-1' }, {
      iss: `https://securetoken.google.com/${PROJECT}`,
      aud: PROJECT,
      auth_time: now - 300,
      user_id: 'Uf1rebase0uid',
      sub: 'Uf1rebase0uid',
      iat: now - 60,
      exp: now + 3540,
      email: 'ada@example.test',
      email_verified: true,
      firebase: { identities: { email: ['ada@example.test'] }, sign_in_provider: 'password' },
      tenant: 'acme',
      role: 'admin',
      ...extra,
    });

  test('a Firebase-shaped token verifies and maps to its tenant and role', async () => {
    const jwks = await jwksServer();
    const options = firebaseVerifierOptions(PROJECT);
    assert.equal(options.jwksUrl, 'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com');
    const { verifier } = verifierFor(jwks.url, { ...options, jwksUrl: jwks.url });
    const verified = await verifier.verify(firebaseToken(T0));
    assert.deepEqual(mapClaims(verified), { tenantId: 'acme', role: 'admin', subject: 'Uf1rebase0uid' });
    const member = await verifier.verify(firebaseToken(T0, { role: 'editor' }));
    assert.deepEqual(mapClaims(member), { tenantId: 'acme', role: 'member', subject: 'Uf1rebase0uid' });
    const future = firebaseToken(T0, { auth_time: T0 + 600 });
    await refused(verifier.verify(future), future, /auth_time/);
    const without = firebaseToken(T0, { auth_time: undefined });
    await refused(verifier.verify(without), without, /auth_time/);
    const es = signJwt('ES256', ec.privateKey, { kid: 'ec-1' }, { iss: `https://securetoken.google.com/${PROJECT}`, aud: PROJECT, sub: 'u', exp: T0 + 60, auth_time: T0 });
    await refused(verifier.verify(es), es, /algorithm ES256 not allowed/);
  });

  const base: JwtClaims = { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', exp: T0 + 60 };

  test('tenant and role from namespaced or nested claims', () => {
    const namespaced = { ...base, 'https://aiprod.dev/tenant': 'globex', 'https://aiprod.dev/role': 'admin' };
    assert.deepEqual(mapClaims(namespaced, { tenantClaim: 'https://aiprod.dev/tenant', roleClaim: 'https://aiprod.dev/role' }), {
      tenantId: 'globex',
      role: 'admin',
      subject: 'user-1',
    });
    const nested = { ...base, app_metadata: { tenant: 'initech', roles: ['viewer', 'admin'] } };
    assert.deepEqual(mapClaims(nested, { tenantClaim: 'app_metadata.tenant', roleClaim: 'app_metadata.roles' }), { tenantId: 'initech', role: 'admin', subject: 'user-1' });
    assert.equal(mapClaims({ ...base, tenant: 'acme' }).role, 'member', 'no role claim: member');
  });

  test('missing tenant claim: the fallback tenant, or 403 without one', () => {
    assert.deepEqual(mapClaims(base, { defaultTenant: 'default' }), { tenantId: 'default', role: 'member', subject: 'user-1' });
    assert.throws(
      () => mapClaims(base),
      (error: unknown) => error instanceof AppError && error.code === 'forbidden' && error.status === 403 && error.message === 'token has no tenant claim',
    );
    assert.throws(() => mapClaims({ ...base, tenant: 42 }, { defaultTenant: 'default' }), /not a tenant id/);
  });
});

describe('looksLikeJwt', () => {
  test('tells JWTs from aiprod API keys', () => {
    assert.equal(looksLikeJwt(signJwt('EdDSA', ed.privateKey, { kid: 'ed-1' }, claims(T0))), true);
    assert.equal(looksLikeJwt('aiprod_abcdefghij12_0123456789abcdefghijABCDEFGHIJ_-xyz'), false);
    assert.equal(looksLikeJwt('a.b.c'), false);
    assert.equal(looksLikeJwt(`${b64({ typ: 'JWT' })}.${b64({})}.abc`), false);
    assert.equal(looksLikeJwt(`${b64({ alg: 'RS256' })}.${b64({})}`), false);
  });
});
