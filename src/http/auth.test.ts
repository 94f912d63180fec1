import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import type { Database } from '../db/database.js';
import { registerAuth } from './auth.js';
import { sendError } from './errors.js';

/** Only the parts of the database that auth touches before a credential is looked up. */
const database = { listen: async () => async () => undefined, db: {} } as unknown as Database;

async function appWith(routes: string[]) {
  const app = Fastify();
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  await registerAuth(app, { database });
  for (const url of routes) app.get(url, async () => ({ ok: true }));
  return app;
}

test('a route outside the public list needs credentials wherever it is mounted', async () => {
  const app = await appWith(['/internal/debug', '/admin', '/v2/things', '/health', '/v1/presets']);
  for (const url of ['/internal/debug', '/admin', '/v2/things', '/v1/presets']) {
    const res = await app.inject({ url });
    assert.equal(res.statusCode, 401, `${url}: ${res.body}`);
    assert.equal(res.json().error.code, 'unauthorized');
  }
  // Unknown paths too: nothing answers without credentials unless it is listed.
  assert.equal((await app.inject({ url: '/nowhere' })).statusCode, 401);
  assert.equal((await app.inject({ url: '/health' })).statusCode, 200);
});

test('exactly the routes public before stay public', async () => {
  const open = ['/health', '/ready', '/metrics', '/openapi.json', '/presets', '/docs', '/docs/', '/docs/json', '/docs/static/*'];
  const closed = ['/pipeline/jobs', '/cost-estimate', '/v1/productions', '/v1/voices', '/metrics/extra', '/docsx', '/healthz'];
  const app = await appWith([...open, ...closed]);
  for (const url of open) assert.equal((await app.inject({ url: url.replace('*', 'x.js') })).statusCode, 200, url);
  for (const url of closed) assert.equal((await app.inject({ url })).statusCode, 401, url);
});
