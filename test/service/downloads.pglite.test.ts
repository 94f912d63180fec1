/**
 * Output downloads when the stored object no longer matches its database row (role api, PGlite,
 * local storage): a deleted object is a 404 in the API's error shape, a truncated one is served
 * with its real length, and a download never promises more bytes than it sends.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { outputs } from '../../src/db/schema.js';
import { exactly } from '../../src/http/routes/productions.routes.js';
import { LocalStorage } from '../../src/storage/local.adapter.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
before(async () => {
  svc = await startTestService({ role: 'api' });
});
after(async () => {
  await svc?.stop();
});

const prompt = { prompt: 'a 20 second explainer about how bees make honey', targetDurationSec: 20, resolution: '720p' };
const SIZE = 4096;

/** A production with one stored output of SIZE bytes, as a render would leave it. */
async function withOutput(name: string): Promise<{ id: string; file: string }> {
  const created = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: prompt });
  assert.equal(created.statusCode, 202, created.body);
  const { id } = created.json() as { id: string };
  const source = join(mkdtempSync(join(tmpdir(), 'aiprod-dl-')), name);
  writeFileSync(source, Buffer.alloc(SIZE, 7));
  const key = `productions/${id}/${name}`;
  await svc.storage.put(key, source, 'video/mp4');
  await svc.database.db.insert(outputs).values({ productionId: id, name, kind: 'video', mime: 'video/mp4', bytes: SIZE, storageKey: key, createdAt: new Date(), durationSec: 1 });
  assert.ok(svc.storage instanceof LocalStorage);
  return { id, file: join(svc.storage.root, key) };
}

test('an output whose stored object is gone answers 404 output_missing in the API error shape', async () => {
  const { id, file } = await withOutput('video.mp4');
  const ok = await svc.app!.inject({ url: `/v1/productions/${id}/outputs/video.mp4`, headers: svc.auth });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.rawPayload.length, SIZE);
  rmSync(file);
  for (const range of [undefined, 'bytes=0-99']) {
    const res = await svc.app!.inject({ url: `/v1/productions/${id}/outputs/video.mp4`, headers: { ...svc.auth, ...(range ? { range } : {}) } });
    assert.equal(res.statusCode, 404, res.body);
    const { error } = res.json();
    assert.equal(error.code, 'output_missing');
    assert.match(error.message, /video\.mp4/);
    assert.ok(error.details?.length > 0, 'says what to do');
    assert.ok(res.headers['x-request-id']);
    assert.notEqual(res.headers['content-type'], 'video/mp4');
  }
});

test('a truncated output is served with its real length, and Range works on the real size', async () => {
  const { id, file } = await withOutput('clip.mp4');
  truncateSync(file, 1000);
  const whole = await svc.app!.inject({ url: `/v1/productions/${id}/outputs/clip.mp4`, headers: svc.auth });
  assert.equal(whole.statusCode, 200);
  assert.equal(whole.headers['content-length'], '1000');
  assert.equal(whole.rawPayload.length, 1000);

  const head = await svc.app!.inject({ method: 'HEAD', url: `/v1/productions/${id}/outputs/clip.mp4`, headers: svc.auth });
  assert.equal(head.statusCode, 200);
  assert.equal(head.headers['content-length'], '1000');

  const tail = await svc.app!.inject({ url: `/v1/productions/${id}/outputs/clip.mp4`, headers: { ...svc.auth, range: 'bytes=900-' } });
  assert.equal(tail.statusCode, 206);
  assert.equal(tail.headers['content-range'], 'bytes 900-999/1000');
  assert.equal(tail.rawPayload.length, 100);

  const beyond = await svc.app!.inject({ url: `/v1/productions/${id}/outputs/clip.mp4`, headers: { ...svc.auth, range: 'bytes=2000-2999' } });
  assert.equal(beyond.statusCode, 416);
  assert.equal(beyond.headers['content-range'], 'bytes */1000');
  assert.equal(beyond.json().error.code, 'invalid_request');
});

test('over a real connection a truncated output ends the response instead of hanging', async () => {
  const { id, file } = await withOutput('real.mp4');
  truncateSync(file, 1500);
  const address = await svc.app!.listen({ port: 0, host: '127.0.0.1' });
  const res = await fetch(`${address}/v1/productions/${id}/outputs/real.mp4`, { headers: svc.auth });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), '1500');
  assert.equal((await res.arrayBuffer()).byteLength, 1500);
});

test('a stored object that shrinks while it is sent fails the stream rather than ending it short', async () => {
  const short = exactly(Readable.from([Buffer.alloc(10)]), 20);
  await assert.rejects(async () => {
    for await (const chunk of short) void chunk;
  }, /ended after 10 of 20 bytes/);
  const whole: Buffer[] = [];
  for await (const chunk of exactly(Readable.from([Buffer.alloc(10), Buffer.alloc(10)]), 20)) whole.push(chunk as Buffer);
  assert.equal(Buffer.concat(whole).length, 20);
});

test('a stored object that grew while it is sent is capped at the promised length and fails the stream', async () => {
  const sent: Buffer[] = [];
  await assert.rejects(async () => {
    for await (const chunk of exactly(Readable.from([Buffer.alloc(10, 1), Buffer.alloc(15, 2), Buffer.alloc(5, 3)]), 20)) sent.push(chunk as Buffer);
  }, /more than 20 bytes/);
  const total = Buffer.concat(sent).length;
  assert.ok(total <= 20, `${total} bytes sent against a Content-Length of 20`);
});

test('an output URL is a signed link: it downloads without a key, only that file, only until it expires', async () => {
  const { id } = await withOutput('video.mp4');
  const other = await withOutput('video.mp4');
  const production = (await svc.app!.inject({ url: `/v1/productions/${id}`, headers: svc.auth })).json() as { outputs: { name: string; url: string }[] };
  const url = production.outputs.find((o) => o.name === 'video.mp4')?.url ?? '';
  assert.match(url, /^\/v1\/productions\/[^/]+\/outputs\/video\.mp4\?token=\d+\.[\w-]+\.[\w-]+$/);
  const anonymous = await svc.app!.inject({ url, headers: { range: 'bytes=0-99' } });
  assert.equal(anonymous.statusCode, 206, anonymous.body);
  assert.equal(anonymous.rawPayload.length, 100);
  const token = new URL(url, 'http://x').searchParams.get('token') ?? '';
  // The same token on another production's output, or altered, or with no token at all: refused.
  const refusals = [
    `/v1/productions/${other.id}/outputs/video.mp4?token=${token}`,
    `/v1/productions/${id}/outputs/video.mp4?token=${token.slice(0, -2)}xx`,
    `/v1/productions/${id}/outputs/video.mp4?token=${token.replace(/^\d+/, '99')}`,
    `/v1/productions/${id}/outputs/video.mp4`,
  ];
  for (const refused of refusals) {
    const res = await svc.app!.inject({ url: refused });
    assert.equal(res.statusCode, 401, `${refused}: ${res.body}`);
  }
  // A key still works, with or without the token.
  assert.equal((await svc.app!.inject({ url, headers: svc.auth })).statusCode, 200);
});
