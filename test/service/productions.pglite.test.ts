/**
 * The service end to end on the embedded database (PGlite): create over HTTP (fastify.inject),
 * a real worker renders, outputs download with Range; errors, idempotency, batch, cancel.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isFinal } from '../../src/contract/production.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
before(async () => {
  svc = await startTestService();
});
after(async () => {
  await svc?.stop();
});

const brief = (line: string) => ({
  scenes: [
    { narration: line, title: 'Service', durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } },
    { narration: 'And it is done.', durationSec: 2, visual: { type: 'gradient', colors: ['#0ea5e9', '#22c55e'] } },
  ],
  resolution: '480p',
  fps: 24,
  metadata: { campaign: 'spring' },
});

test('without a key every /v1 route is 401 with a code; health needs none', async () => {
  const res = await svc.app!.inject({ method: 'POST', url: '/v1/productions', payload: brief('x') });
  assert.equal(res.statusCode, 401);
  assert.equal(res.json().error.code, 'unauthorized');
  assert.ok(res.headers['x-request-id']);
  const bad = await svc.app!.inject({ method: 'GET', url: '/v1/productions', headers: { authorization: 'Bearer aiprod_000000000000_wrongwrongwrongwrongwrongwrongwrong' } });
  assert.equal(bad.statusCode, 401);
  assert.equal((await svc.app!.inject({ url: '/health' })).statusCode, 200);
});

test('a bad brief is a 400 naming the field, and nothing is stored', async () => {
  const res = await svc.app!.inject({
    method: 'POST', url: '/v1/productions', headers: svc.auth,
    payload: { scenes: [{ narration: 'x', visual: { type: 'color', color: 'blue' } }] },
  });
  assert.equal(res.statusCode, 400);
  const { error } = res.json();
  assert.equal(error.code, 'invalid_brief');
  assert.equal(error.details[0].path, 'scenes.0.visual.color');
  const lang = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: { script: 'Hello.', language: 'xx' } });
  assert.equal(lang.statusCode, 400);
  assert.equal(lang.json().error.code, 'unsupported_language');
  const traversal = await svc.app!.inject({
    method: 'POST', url: '/v1/productions', headers: svc.auth,
    payload: { scenes: [{ narration: 'x', visual: { type: 'image', src: '../../etc/passwd' } }] },
  });
  assert.equal(traversal.statusCode, 422);
  assert.equal(traversal.json().error.details[0].path, 'scenes.0.visual.src');
  const list = await svc.app!.inject({ url: '/v1/productions', headers: svc.auth });
  assert.equal(list.json().data.length, 0);
});

test('a production renders: 202, progress to succeeded, outputs with Range, qa and cost', async () => {
  const res = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: brief('The service renders this.') });
  assert.equal(res.statusCode, 202, res.body);
  const { id, status, links } = res.json();
  assert.equal(status, 'queued');
  assert.equal(links.self, `/v1/productions/${id}`);
  const done = await svc.waitFor(id, (p) => isFinal(p.status));
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  assert.equal(done.progress, 100);
  assert.equal(done.qa?.passed, true);
  assert.ok(done.cost && done.cost.stages.length >= 8);
  assert.deepEqual(new Set(done.stages.map((s) => s.stage)), new Set(['plan', 'narrate', 'visualize', 'score', 'foley', 'mix', 'compose', 'qa']));
  assert.ok(done.stages.every((s) => s.status === 'succeeded'));
  const mp4 = done.outputs.find((o) => o.name === 'video.mp4');
  assert.ok(mp4 && mp4.bytes > 10_000 && mp4.mime === 'video/mp4');
  const whole = await svc.app!.inject({ url: mp4.url, headers: svc.auth });
  assert.equal(whole.statusCode, 200);
  assert.equal(whole.rawPayload.length, mp4.bytes);
  assert.equal(whole.headers['content-type'], 'video/mp4');
  const part = await svc.app!.inject({ url: mp4.url, headers: { ...svc.auth, range: 'bytes=4-11' } });
  assert.equal(part.statusCode, 206);
  assert.equal(part.headers['content-range'], `bytes 4-11/${mp4.bytes}`);
  assert.equal(part.rawPayload.toString('latin1'), 'ftypisom');
  const beyond = await svc.app!.inject({ url: mp4.url, headers: { ...svc.auth, range: `bytes=${mp4.bytes}-` } });
  assert.equal(beyond.statusCode, 416);
  const listed = await svc.app!.inject({ url: '/v1/productions?status=succeeded&metadata=campaign=spring', headers: svc.auth });
  assert.deepEqual(listed.json().data.map((p: { id: string }) => p.id), [id]);
});

test('Idempotency-Key: the same body gives the same production, another body a 409', async () => {
  const headers = { ...svc.auth, 'idempotency-key': 'order-42' };
  const first = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers, payload: { ...brief('Once.'), review: true } });
  const again = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers, payload: { review: true, ...brief('Once.') } });
  assert.equal(first.statusCode, 202);
  assert.equal(again.statusCode, 202);
  assert.equal(again.json().id, first.json().id);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  const other = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers, payload: brief('Twice.') });
  assert.equal(other.statusCode, 409);
  assert.equal(other.json().error.code, 'idempotency_conflict');
  // review: true stops after planning; the storyboard can be read, edited and approved.
  const id = first.json().id as string;
  const waiting = await svc.waitFor(id, (p) => p.status === 'awaiting_review' || isFinal(p.status));
  assert.equal(waiting.status, 'awaiting_review');
  const board = (await svc.app!.inject({ url: `/v1/productions/${id}/storyboard`, headers: svc.auth })).json().storyboard;
  board.scenes[0].narration = 'Edited before rendering.';
  const patched = await svc.app!.inject({ method: 'PATCH', url: `/v1/productions/${id}/storyboard`, headers: svc.auth, payload: board });
  assert.equal(patched.statusCode, 200, patched.body);
  const badPatch = await svc.app!.inject({ method: 'PATCH', url: `/v1/productions/${id}/storyboard`, headers: svc.auth, payload: { ...board, scenes: [] } });
  assert.equal(badPatch.statusCode, 400);
  assert.equal((await svc.app!.inject({ method: 'POST', url: `/v1/productions/${id}/approve`, headers: svc.auth })).statusCode, 200);
  const done = await svc.waitFor(id, (p) => isFinal(p.status));
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  const srt = await svc.app!.inject({ url: `/v1/productions/${id}/outputs/captions.srt`, headers: svc.auth });
  assert.match(srt.body, /Edited before rendering/);
});

test('cancel: a queued production is canceled; a finished one cannot be', async () => {
  const created = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: brief('Cancel me.') });
  const id = created.json().id as string;
  const canceled = await svc.app!.inject({ method: 'POST', url: `/v1/productions/${id}/cancel`, headers: svc.auth });
  assert.equal(canceled.statusCode, 200);
  assert.equal(canceled.json().status, 'canceled');
  const again = await svc.app!.inject({ method: 'POST', url: `/v1/productions/${id}/cancel`, headers: svc.auth });
  assert.equal(again.statusCode, 409);
  const missing = await svc.app!.inject({ url: '/v1/productions/nope', headers: svc.auth });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error.code, 'not_found');
});
