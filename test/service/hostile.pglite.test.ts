/**
 * Over a hundred malformed or hostile requests — wrong types, huge strings, deep JSON, unicode edge
 * cases, negative and NaN numbers, path traversal, header tricks, SQL-like strings, oversized
 * batches: each gets a 4xx with an error code, none a 500, the server stays up, and nothing changes
 * in the data. Then the hardening itself: IP lists, CORS, security headers, request ids.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
before(async () => {
  svc = await startTestService({
    role: 'api',
    env: { IP_DENY: '198.51.100.0/24', CORS_ORIGINS: 'https://app.example.com', RATE_LIMIT_ANONYMOUS_PER_MIN: '0' },
  });
});
after(async () => {
  await svc?.stop();
});

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
interface Case {
  name: string;
  method?: Method;
  url?: string;
  /** An object is sent as JSON; a string is sent as is (with `type`). */
  body?: unknown;
  type?: string;
  headers?: Record<string, string>;
  /** Without the admin key. */
  anonymous?: boolean;
}

const P = '/v1/productions';
const ok = { prompt: 'a short idea about bridges', resolution: '480p' };
const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepObject = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));

const CASES: Case[] = [
  // wrong types
  ...(
    [
      { prompt: 123 }, { prompt: [] }, { prompt: {} }, { prompt: null }, { prompt: true }, { script: 1 }, { scenes: 'x' }, { scenes: [1] }, { scenes: [{ durationSec: 0 }] },
      { ...ok, resolution: 720 }, { ...ok, resolution: '4k' }, { ...ok, fps: '30' }, { ...ok, fps: 31 }, { ...ok, fps: -1 }, { ...ok, targetDurationSec: -5 },
      { ...ok, targetDurationSec: 0 }, { ...ok, targetDurationSec: 1e308 }, { ...ok, targetDurationSec: '10' }, { ...ok, priority: 11 }, { ...ok, priority: -1 },
      { ...ok, priority: 1.5 }, { ...ok, metadata: [] }, { ...ok, metadata: { 'a b': 'x' } }, { ...ok, metadata: many(33) }, { ...ok, metadata: { k: 'v'.repeat(600) } },
      { ...ok, webhookUrl: 'ftp://example.com/x' }, { ...ok, webhookUrl: 'javascript:alert(1)' }, { ...ok, webhookUrl: 'not a url' }, { ...ok, review: 'yes' },
      { ...ok, outputs: ['exe'] }, { ...ok, outputs: 'mp4' }, { ...ok, aspectRatio: '21:9' }, { ...ok, language: 42 }, { ...ok, voice: {} }, { ...ok, music: 'loud' },
      { ...ok, sfx: 'yes' }, { ...ok, captions: 1 }, { ...ok, foo: 'bar' }, { prompt: 'two sources at once', script: 'and a script' }, { resolution: '480p' }, {},
    ] as Record<string, unknown>[]
  ).map((body, i): Case => ({ name: `wrong type or value #${i}: ${JSON.stringify(body).slice(0, 60)}`, method: 'POST', url: P, body })),
  { name: 'body is an array', method: 'POST', url: P, body: [] },
  { name: 'body is a string', method: 'POST', url: P, body: '"just a string"', type: 'application/json' },
  { name: 'body is null', method: 'POST', url: P, body: 'null', type: 'application/json' },
  { name: 'NaN is not JSON', method: 'POST', url: P, body: '{"prompt":"an idea","fps":NaN}', type: 'application/json' },
  { name: 'Infinity is not JSON', method: 'POST', url: P, body: '{"prompt":"an idea","fps":Infinity}', type: 'application/json' },
  { name: 'a number too large becomes Infinity', method: 'POST', url: P, body: '{"prompt":"an idea","targetDurationSec":1e400}', type: 'application/json' },
  { name: 'invalid JSON', method: 'POST', url: P, body: '{"prompt":', type: 'application/json' },
  { name: 'trailing garbage', method: 'POST', url: P, body: '{"prompt":"an idea"}x', type: 'application/json' },
  { name: 'plain text body', method: 'POST', url: P, body: 'prompt=an idea', type: 'text/plain' },
  { name: 'XML body', method: 'POST', url: P, body: '<brief><prompt>x</prompt></brief>', type: 'application/xml' },
  { name: 'form body', method: 'POST', url: P, body: 'prompt=an+idea', type: 'application/x-www-form-urlencoded' },
  // huge strings
  { name: 'prompt over 4000 characters', method: 'POST', url: P, body: { prompt: 'x'.repeat(4001) } },
  { name: 'script over 60000 characters', method: 'POST', url: P, body: { script: 'word '.repeat(12_001) } },
  { name: 'metadata key of 100 characters', method: 'POST', url: P, body: { ...ok, metadata: { ['k'.repeat(100)]: 'v' } } },
  { name: 'body over 1 MiB', method: 'POST', url: P, body: { prompt: 'x', padding: 'y'.repeat(1_100_000) } },
  { name: 'Idempotency-Key of 300 characters', method: 'POST', url: P, body: ok, headers: { 'idempotency-key': 'k'.repeat(300) } },
  // deep JSON
  { name: 'arrays nested 1000 deep', method: 'POST', url: P, body: nested(1000), type: 'application/json' },
  { name: 'objects nested 100 deep', method: 'POST', url: P, body: deepObject(100), type: 'application/json' },
  { name: 'objects nested 33 deep', method: 'POST', url: P, body: deepObject(33), type: 'application/json' },
  { name: '__proto__ key', method: 'POST', url: P, body: '{"prompt":"an idea","__proto__":{"admin":true}}', type: 'application/json' },
  { name: 'constructor.prototype key', method: 'POST', url: P, body: '{"prompt":"an idea","metadata":{"constructor":{"prototype":{"x":1}}}}', type: 'application/json' },
  // unicode edge cases
  { name: 'NUL in the prompt', method: 'POST', url: P, body: '{"prompt":"an idea\\u0000 with a NUL"}', type: 'application/json' },
  { name: 'NUL in a metadata key', method: 'POST', url: P, body: '{"prompt":"an idea","metadata":{"a\\u0000b":"v"}}', type: 'application/json' },
  { name: 'unpaired high surrogate', method: 'POST', url: P, body: '{"prompt":"an idea \\ud800 here"}', type: 'application/json' },
  { name: 'unpaired low surrogate', method: 'POST', url: P, body: '{"prompt":"an idea \\udc00 here"}', type: 'application/json' },
  { name: 'only zero-width characters', method: 'POST', url: P, body: { prompt: '\u200b\u200b\u200b\u200b' } },
  { name: 'only whitespace', method: 'POST', url: P, body: { prompt: '   \n\t  ' } },
  { name: 'metadata key with RTL override', method: 'POST', url: P, body: { ...ok, metadata: { 'a\u202eb': 'v' } } },
  { name: 'metadata key with emoji', method: 'POST', url: P, body: { ...ok, metadata: { '🎬': 'v' } } },
  { name: 'invalid UTF-8 bytes', method: 'POST', url: P, body: Buffer.from([0x7b, 0x22, 0x70, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]).toString('latin1'), type: 'application/json; charset=latin1' },
  { name: 'language code of emoji', method: 'POST', url: P, body: { ...ok, language: '🇫🇷' } },
  // path traversal and odd ids
  { name: 'id with ../', method: 'GET', url: `${P}/..%2F..%2Fetc%2Fpasswd` },
  { name: 'output name with ../', method: 'GET', url: `${P}/00000000-0000-0000-0000-000000000000/outputs/..%2F..%2Fmaster.key` },
  { name: 'preset name with ../', method: 'GET', url: '/v1/presets/..%2F..%2Fpackage.json' },
  { name: 'image src ../../etc/passwd', method: 'POST', url: P, body: { scenes: [{ narration: 'x', visual: { type: 'image', src: '../../etc/passwd' } }] } },
  { name: 'image src /etc/passwd', method: 'POST', url: P, body: { scenes: [{ narration: 'x', visual: { type: 'image', src: '/etc/passwd' } }] } },
  { name: 'video src file://', method: 'POST', url: P, body: { scenes: [{ narration: 'x', visual: { type: 'video', src: 'file:///etc/passwd' } }] } },
  { name: 'brand font outside assets', method: 'POST', url: P, body: { ...ok, brand: { font: '/etc/shadow' } } },
  { name: 'brand logo with backslashes', method: 'POST', url: P, body: { ...ok, brand: { logo: '..\\..\\windows\\win.ini' } } },
  { name: 'unknown production id', method: 'GET', url: `${P}/00000000-0000-0000-0000-000000000000` },
  { name: 'events of an unknown production', method: 'GET', url: `${P}/nope/events` },
  { name: 'id of 200 characters', method: 'GET', url: `${P}/${'a'.repeat(200)}` },
  // headers
  { name: 'no Authorization', method: 'GET', url: P, anonymous: true },
  { name: 'Basic auth', method: 'GET', url: P, anonymous: true, headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } },
  { name: 'Bearer without a token', method: 'GET', url: P, anonymous: true, headers: { authorization: 'Bearer' } },
  { name: 'Bearer with a 10 KB token', method: 'GET', url: P, anonymous: true, headers: { authorization: `Bearer aiprod_${'a'.repeat(10_000)}` } },
  { name: 'Bearer with a JWT-shaped token', method: 'GET', url: P, anonymous: true, headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' } },
  { name: 'Bearer with SQL', method: 'GET', url: P, anonymous: true, headers: { authorization: "Bearer aiprod_' OR '1'='1" } },
  { name: 'a key in the query string of a plain route', method: 'GET', url: `${P}?access_token=whatever`, anonymous: true },
  { name: 'content-type json, empty body', method: 'POST', url: P, body: '', type: 'application/json' },
  { name: 'percent-encoded /v1/estimate without credentials', method: 'POST', url: '/v1/estimat%65', body: ok, anonymous: true },
  { name: 'percent-encoded /v1/voices without credentials', method: 'GET', url: '/v1/voice%73', anonymous: true },
  { name: 'percent-encoded /cost-estimate without credentials', method: 'POST', url: '/cost%2Destimate', body: { content: 'an idea' }, anonymous: true },
  // SQL-like strings where they must be refused
  { name: "status filter with SQL", method: 'GET', url: `${P}?status=${encodeURIComponent("queued'; drop table productions; --")}` },
  { name: 'cursor with SQL', method: 'GET', url: `${P}?cursor=${encodeURIComponent("' OR 1=1 --")}` },
  { name: 'createdFrom with SQL', method: 'GET', url: `${P}?createdFrom=${encodeURIComponent("2020-01-01'; --")}` },
  { name: 'limit with SQL', method: 'GET', url: `${P}?limit=${encodeURIComponent('1;DROP TABLE x')}` },
  { name: 'limit of 100000', method: 'GET', url: `${P}?limit=100000` },
  { name: 'limit of -1', method: 'GET', url: `${P}?limit=-1` },
  { name: 'unknown query parameter', method: 'GET', url: `${P}?admin=true` },
  { name: 'metadata filter without =', method: 'GET', url: `${P}?metadata=justakey` },
  { name: 'original API status with SQL', method: 'GET', url: `/pipeline/jobs?status=${encodeURIComponent("x' or '1'='1")}` },
  { name: 'original API negative offset', method: 'GET', url: '/pipeline/jobs?offset=-1' },
  // batches
  { name: 'batch of 501', method: 'POST', url: `${P}/batch`, body: { productions: Array.from({ length: 501 }, () => ok) } },
  { name: 'empty batch', method: 'POST', url: `${P}/batch`, body: { productions: [] } },
  { name: 'batch that is not an array', method: 'POST', url: `${P}/batch`, body: { productions: ok } },
  { name: 'batch with one bad item', method: 'POST', url: `${P}/batch`, body: { productions: [ok, { prompt: 1 }] } },
  { name: 'batch with an extra field', method: 'POST', url: `${P}/batch`, body: { productions: [ok], dryRun: true } },
  { name: 'original API batch of 501', method: 'POST', url: '/pipeline/batch', body: { jobs: Array.from({ length: 501 }, () => ({ content: 'an idea' })) } },
  // other endpoints
  { name: 'original API run with 1 character', method: 'POST', url: '/pipeline/run', body: { content: 'x' } },
  { name: 'original API run with priority max', method: 'POST', url: '/pipeline/run', body: { content: 'an idea', priority: 'max' } },
  { name: 'original API run with negative duration', method: 'POST', url: '/pipeline/run', body: { content: 'an idea', duration_sec: -1 } },
  // Unknown fields are accepted by the original API (extra="allow"); the short content is what is refused.
  { name: 'original run with 7 characters and an unknown field', method: 'POST', url: '/pipeline/run', body: { content: 'an idea', gpu: 'a100' } },
  { name: 'cost estimate without content', method: 'POST', url: '/cost-estimate', body: { complexity: 'high' } },
  { name: 'manifest edit of an unknown job', method: 'PATCH', url: '/job/no-such-job/manifest', body: { duration: 12 } },
  { name: 'export in an unknown format', method: 'GET', url: '/jobs/export?format=xml' },
  { name: 'estimate of an invalid brief', method: 'POST', url: '/v1/estimate', body: { prompt: 'an idea', fps: 1000 } },
  { name: 'storyboard patch of an unknown production', method: 'PATCH', url: `${P}/nope/storyboard`, body: { title: 'x' } },
  { name: 'approve an unknown production', method: 'POST', url: `${P}/nope/approve` },
  { name: 'cancel an unknown production', method: 'POST', url: `${P}/nope/cancel` },
  { name: 'retry an unknown production', method: 'POST', url: `${P}/nope/retry` },
  { name: 'key with unknown scope', method: 'POST', url: '/v1/api-keys', body: { name: 'x', scopes: ['root'] } },
  { name: 'key with no scopes', method: 'POST', url: '/v1/api-keys', body: { name: 'x', scopes: [] } },
  { name: 'key expiring "tomorrow"', method: 'POST', url: '/v1/api-keys', body: { name: 'x', scopes: ['productions:read'], expiresAt: 'tomorrow' } },
  { name: 'key for a tenant that does not exist', method: 'POST', url: '/v1/api-keys', body: { name: 'x', scopes: ['productions:read'], tenantId: 'ghost' } },
  { name: 'rotate an unknown key', method: 'POST', url: '/v1/api-keys/nope/rotate', body: {} },
  { name: 'rotate with a negative grace', method: 'POST', url: '/v1/api-keys/nope/rotate', body: { graceSec: -5 } },
  { name: 'tenant id with ../', method: 'POST', url: '/v1/tenants', body: { id: '../x', name: 'x' } },
  { name: 'tenant tier god', method: 'POST', url: '/v1/tenants', body: { name: 'x', tier: 'god' } },
  { name: 'tenant negative budget', method: 'POST', url: '/v1/tenants', body: { name: 'x', monthlyBudgetUsd: -1 } },
  { name: 'tenant colour red', method: 'POST', url: '/v1/tenants', body: { name: 'x', branding: { colors: { primary: 'red' } } } },
  { name: 'tenant with an empty name', method: 'POST', url: '/v1/tenants', body: { name: '   ' } },
  { name: 'patch an unknown tenant', method: 'PATCH', url: '/v1/tenants/ghost', body: { tier: 'pro' } },
  { name: 'audit limit of 100000', method: 'GET', url: '/v1/audit?limit=100000' },
  { name: 'audit before -1', method: 'GET', url: '/v1/audit?before=-1' },
  // methods and routes
  { name: 'DELETE the collection', method: 'DELETE', url: P },
  { name: 'PUT a production', method: 'PUT', url: `${P}/x`, body: ok },
  { name: 'GET a POST-only route', method: 'GET', url: `${P}/x/cancel` },
  { name: 'an unknown route', method: 'GET', url: '/v1/admin/shell' },
  { name: 'a dot-dot route', method: 'GET', url: '/v1/../../etc/passwd' },
];

async function tableCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ['productions', 'tenants', 'api_keys', 'idempotency_keys', 'webhooks']) {
    const { rows } = await svc.database.executeSql(`select count(*)::int as n from ${table}`);
    counts[table] = (rows[0] as { n: number }).n;
  }
  const jobs = await svc.database.db.execute(sql`select count(*)::int as n from pgboss.job`);
  counts.jobs = Number((jobs as unknown as { rows: { n: number }[] }).rows[0]?.n ?? 0);
  return counts;
}

test(`${CASES.length} malformed or hostile requests: each a 4xx with a code, none a 500, nothing changed`, async () => {
  assert.ok(CASES.length >= 100, `${CASES.length} cases`);
  const before = await tableCounts();
  const failures: string[] = [];
  for (const c of CASES) {
    const headers: Record<string, string> = { ...(c.anonymous ? {} : svc.auth), ...c.headers };
    let payload: string | undefined;
    if (typeof c.body === 'string') {
      payload = c.body;
      headers['content-type'] = c.type ?? 'application/json';
    } else if (c.body !== undefined) {
      payload = JSON.stringify(c.body);
      headers['content-type'] = 'application/json';
    }
    const res = await svc.app!.inject({ method: c.method ?? 'GET', url: c.url ?? P, headers, payload });
    let code: unknown;
    try {
      code = (res.json() as { error?: { code?: unknown } }).error?.code;
    } catch {
      code = undefined;
    }
    if (res.statusCode < 400 || res.statusCode >= 500 || typeof code !== 'string') {
      failures.push(`${c.name}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
  }
  assert.deepEqual(failures, [], `requests that did not get a 4xx with a code:\n${failures.join('\n')}`);
  assert.deepEqual(await tableCounts(), before, 'no data changed');
  assert.equal((await svc.app!.inject({ url: '/health' })).statusCode, 200, 'the server is still up');
  assert.equal((await svc.app!.inject({ method: 'POST', url: P, headers: svc.auth, payload: ok })).statusCode, 202, 'and still works');
});

test('IP deny list, CORS allow-list, security headers and request ids', async () => {
  const denied = await svc.app!.inject({ url: '/health', remoteAddress: '198.51.100.7' });
  assert.equal(denied.statusCode, 403);
  assert.equal(denied.json().error.code, 'ip_denied');
  assert.equal((await svc.app!.inject({ url: '/health', remoteAddress: '203.0.113.9' })).statusCode, 200);

  const preflight = await svc.app!.inject({ method: 'OPTIONS', url: P, headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
  assert.equal(preflight.statusCode, 204);
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
  const other = await svc.app!.inject({ method: 'OPTIONS', url: P, headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  assert.equal(other.headers['access-control-allow-origin'], undefined, 'an origin off the list gets no CORS headers');
  const get = await svc.app!.inject({ url: P, headers: { ...svc.auth, origin: 'https://app.example.com' } });
  assert.equal(get.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.match(String(get.headers['access-control-expose-headers']), /x-request-id/);

  assert.equal(get.headers['x-content-type-options'], 'nosniff');
  assert.equal(get.headers['x-frame-options'], 'DENY');
  assert.equal(get.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
  assert.ok(get.headers['strict-transport-security']);
  const docs = await svc.app!.inject({ url: '/docs/' });
  assert.match(String(docs.headers['content-security-policy']), /script-src 'self'/);

  const traced = await svc.app!.inject({ url: '/health', headers: { 'x-request-id': 'trace-123.abc' } });
  assert.equal(traced.headers['x-request-id'], 'trace-123.abc');
  const odd = await svc.app!.inject({ url: '/health', headers: { 'x-request-id': `${'x'.repeat(300)}` } });
  assert.match(String(odd.headers['x-request-id']), /^[0-9a-f-]{36}$/, 'an unusable request id is replaced');
});
