/**
 * The same service on the machine's real PostgreSQL (TEST_DATABASE_URL, set by .ci/run), on a
 * database made for this file: a render end to end, a batch of 150 in one transaction, and
 * all-or-nothing batch validation. Skipped, with the reason, when TEST_DATABASE_URL is unset.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isFinal } from '../../src/contract/production.js';
import { freshPostgres, startTestService, type TestService } from './harness.js';
import { postgresOrSkip } from '../support/services.js';

const { base, skip } = postgresOrSkip();
let svc: TestService;
let api: TestService;
let drop: (() => Promise<void>) | undefined;

before(async () => {
  if (!base) return;
  const db = await freshPostgres(base);
  drop = db.drop;
  svc = await startTestService({ databaseUrl: db.url });
  // A second process-like instance with the API role only, on the same database: it sees the same productions.
  api = await startTestService({ databaseUrl: db.url, role: 'api' });
});
after(async () => {
  await api?.stop();
  await svc?.stop();
  await drop?.();
});

const small = (i: number) => ({ script: `Item number ${i}.`, resolution: '480p', fps: 24, metadata: { batch: 'b1' } });

test('on PostgreSQL a production renders to succeeded, seen from a second API instance', { skip }, async () => {
  const res = await api.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: { ...small(0), metadata: { one: 'yes' } } });
  assert.equal(res.statusCode, 202, res.body);
  const done = await svc.waitFor(res.json().id, (p) => isFinal(p.status));
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  const seen = await api.app!.inject({ url: `/v1/productions/${done.id}`, headers: svc.auth });
  assert.equal(seen.json().status, 'succeeded');
});

test('a batch of 150 is validated and inserted in one transaction with its jobs', { skip }, async () => {
  await svc.queue.stopWorking(); // keep the 150 waiting so their jobs can be counted
  const res = await api.app!.inject({ method: 'POST', url: '/v1/productions/batch', headers: svc.auth, payload: { productions: Array.from({ length: 150 }, (_, i) => small(i)) } });
  assert.equal(res.statusCode, 202, res.body);
  assert.equal(res.json().count, 150);
  const ids = new Set(res.json().ids as string[]);
  const pending = await svc.queue.pendingProductionIds([...ids]);
  assert.ok([...ids].every((id) => pending.has(id)), 'every production has its queue job');
  let seen = 0;
  let cursor: string | null = null;
  do {
    const page: { data: { id: string }[]; nextCursor: string | null } = (
      await api.app!.inject({ url: `/v1/productions?metadata=batch=b1&limit=100${cursor ? `&cursor=${cursor}` : ''}`, headers: svc.auth })
    ).json();
    seen += page.data.filter((p) => ids.has(p.id)).length;
    cursor = page.nextCursor;
  } while (cursor);
  assert.equal(seen, 150, 'cursor pagination returns each production once');
});

test('one bad item refuses the whole batch with a path per problem, and creates nothing', { skip }, async () => {
  const items: unknown[] = [small(1), { ...small(2), language: 'xx' }, small(3), { script: 'x', fps: 60 }];
  const res = await api.app!.inject({ method: 'POST', url: '/v1/productions/batch', headers: svc.auth, payload: { productions: items } });
  assert.equal(res.statusCode, 400);
  const { error } = res.json();
  assert.equal(error.code, 'invalid_batch');
  assert.deepEqual(error.details.map((d: { path: string }) => d.path), ['productions.1.language', 'productions.3.fps']);
  const tooMany = await api.app!.inject({ method: 'POST', url: '/v1/productions/batch', headers: svc.auth, payload: { productions: Array.from({ length: 501 }, (_, i) => small(i)) } });
  assert.equal(tooMany.statusCode, 400);
});
