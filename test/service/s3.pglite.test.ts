/**
 * The service with STORAGE_URL=s3://… against a local fake S3 that checks every signature: a
 * render's outputs are uploaded under the prefix, the production lists signed, expiring URLs, the
 * download route redirects to one, and /ready proves the bucket is writable.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeS3 } from '../support/fake-s3.js';
import { startTestService, type TestService } from './harness.js';

const credentials = { accessKeyId: 'AKIDSERVICE', secretAccessKey: 'service-secret' };
let fake: FakeS3;
let svc: TestService;
before(async () => {
  fake = await FakeS3.start({ bucket: 'media', ...credentials });
  svc = await startTestService({
    env: {
      STORAGE_URL: 's3://media/aiprod/test',
      S3_ENDPOINT: fake.url,
      S3_ACCESS_KEY_ID: credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      SIGNED_URL_TTL_SEC: '600',
      S3_MAX_ATTEMPTS: '2',
    },
  });
});
after(async () => {
  await svc?.stop();
  await fake?.close();
});

test('outputs go to S3 and download through signed, expiring URLs', async () => {
  const ready = await svc.app!.inject({ url: '/ready' });
  assert.equal(ready.statusCode, 200, ready.body);
  assert.equal(ready.json().checks.storage.ok, true);

  const created = await svc.app!.inject({
    method: 'POST', url: '/v1/productions', headers: svc.auth,
    payload: {
      scenes: [
        { narration: 'Stored in a bucket.', durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } },
        { narration: 'Signed for you.', durationSec: 2, visual: { type: 'gradient', colors: ['#0ea5e9', '#22c55e'] } },
      ],
      resolution: '480p',
      fps: 24,
    },
  });
  assert.equal(created.statusCode, 202, created.body);
  const { id } = created.json();
  const done = await svc.waitFor(id, (p) => p.status === 'succeeded' || p.status === 'failed');
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));

  const video = done.outputs.find((o) => o.name === 'video.mp4');
  assert.ok(video);
  assert.ok(fake.objects.has(`aiprod/test/productions/${id}/a1/video.mp4`), [...fake.objects.keys()].join(', '));
  const signed = new URL(video.url);
  assert.equal(signed.origin, fake.url);
  assert.equal(signed.searchParams.get('X-Amz-Expires'), '600');
  const download = await fetch(signed);
  assert.equal(download.status, 200);
  assert.equal(download.headers.get('content-type'), 'video/mp4');
  const bytes = Buffer.from(await download.arrayBuffer());
  assert.equal(bytes.length, video.bytes);
  assert.equal(bytes.subarray(4, 8).toString('latin1'), 'ftyp');

  // The API's own download route hands out a fresh signed URL instead of proxying the bytes.
  const redirect = await svc.app!.inject({ url: `/v1/productions/${id}/outputs/video.mp4`, headers: svc.auth });
  assert.equal(redirect.statusCode, 302);
  const location = new URL(redirect.headers.location as string);
  assert.equal((await fetch(location, { headers: { range: 'bytes=0-99' } })).status, 206);

  // Once expired, the URL is refused by the store.
  fake.now = () => new Date(Date.now() + 601_000);
  assert.equal((await fetch(signed)).status, 403);
  fake.now = () => new Date();
  assert.deepEqual(fake.unexpected, []);
});

const tiny = (line: string) => ({
  scenes: [{ narration: line, durationSec: 2, visual: { type: 'color', color: '#334155' } }],
  resolution: '480p',
  fps: 24,
});
/** The upload of qa.json meets SlowDown on both attempts the SDK makes (S3_MAX_ATTEMPTS=2): the render attempt fails. */
const failUpload = (): void => {
  fake.failNext = { match: /^PUT \/media\/aiprod\/test\/productions\/[^/]+\/a\d+\/qa\.json/, status: 503, code: 'SlowDown', message: 'Please reduce your request rate.', times: 2 };
};

test("one SlowDown is absorbed by the SDK's retry: the render succeeds at its first attempt", async () => {
  fake.failNext = { match: /^PUT \/media\/aiprod\/test\/productions\/[^/]+\/a\d+\/video\.mp4/, status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' };
  const { id } = await svc.productions.create('default', tiny('Once is not a failure.'));
  const done = await svc.waitFor(id, (p) => p.status === 'succeeded' || p.status === 'failed');
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  assert.equal(done.attempts, 1);
  assert.equal(fake.failNext, undefined);
  assert.equal(fake.requests.filter((r) => r.startsWith(`PUT /media/aiprod/test/productions/${id}/a1/video.mp4`)).length, 2);
});

test('a retryable error the SDK cannot get past (the store keeps saying SlowDown) retries the render with backoff and resumes from the cache', async () => {
  failUpload();
  const { id } = await svc.productions.create('default', tiny('Try again, please.'));
  const retrying = await svc.waitFor(id, (p) => p.status === 'queued' && p.attempts === 1 && p.error !== null);
  assert.equal(retrying.error?.code, 'internal');
  assert.match(retrying.error?.message ?? '', /SlowDown/);
  const done = await svc.waitFor(id, (p) => p.status === 'succeeded' || p.status === 'failed');
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  assert.equal(done.attempts, 2);
  assert.equal(done.error, null);
  // The second attempt re-used every unit the first one made.
  const second = done.stages.filter((s) => s.attempt === 2 && s.stage === 'visualize');
  assert.equal(second[0]?.cachedUnits, second[0]?.totalUnits);
  // pg-boss waited before retrying (retryDelay 2 s with backoff).
  const failedAt = Date.parse(done.stages.find((s) => s.attempt === 1 && s.stage === 'qa')?.finishedAt ?? '');
  const retriedAt = Date.parse(done.stages.find((s) => s.attempt === 2 && s.stage === 'plan')?.startedAt ?? '');
  assert.ok(retriedAt - failedAt >= 1500, `retried ${retriedAt - failedAt} ms after the failure`);
});

test('after the last attempt the production fails with its error recorded', async () => {
  failUpload();
  const { id } = await svc.productions.create('default', tiny('This store never recovers.'));
  // Every attempt meets a failing upload of its last file, qa.json, after the video and the rest went up (RENDER_ATTEMPTS is 3 by default).
  const stop = await svc.database.listen('aiprod_production', () => {
    if (!fake.failNext) failUpload();
  });
  try {
    const done = await svc.waitFor(id, (p) => p.status === 'succeeded' || p.status === 'failed', 90_000);
    assert.equal(done.status, 'failed');
    assert.equal(done.attempts, 3);
    assert.match(done.error?.message ?? '', /SlowDown/);
    assert.equal(done.outputs.length, 0);
    const left = [...fake.objects.keys()].filter((key) => key.includes(id));
    assert.deepEqual(left, [], 'nothing of a failed delivery stays in the store');
  } finally {
    await stop();
    fake.failNext = undefined;
  }
});
