/**
 * Exports with STORAGE_URL=s3://… against the local fake S3 that checks every signature: a
 * production's zip reads its stored output through the S3 adapter byte for byte, and a period
 * export is built into the bucket, downloads through a presigned URL, and is deleted on expiry.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { unzipSync } from 'fflate';
import { eq } from 'drizzle-orm';
import type { ExportView } from '../../src/contract/export.js';
import { dataExports, outputs } from '../../src/db/schema.js';
import { expireStored } from '../../src/jobs/retention.js';
import { ExportsService } from '../../src/services/exports.service.js';
import { FakeS3 } from '../support/fake-s3.js';
import { startTestService, type TestService } from './harness.js';

const credentials = { accessKeyId: 'AKIDEXPORTS', secretAccessKey: 'exports-secret' };
let fake: FakeS3;
let svc: TestService;
let id: string;
let scratch: string;
const video = randomBytes(300_000);

before(async () => {
  fake = await FakeS3.start({ bucket: 'media', ...credentials });
  svc = await startTestService({
    env: {
      STORAGE_URL: 's3://media/aiprod/test',
      S3_ENDPOINT: fake.url,
      S3_ACCESS_KEY_ID: credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      SIGNED_URL_TTL_SEC: '600',
      // Every period export goes through the job.
      EXPORT_INLINE_ROWS: '0',
    },
  });
  // A finished production with a stored output, without rendering one: planned, canceled, and given a video.
  id = (await svc.productions.create('default', { scenes: [{ narration: 'Stored in a bucket.', durationSec: 2 }], review: true })).id;
  await svc.waitFor(id, (p) => p.status === 'awaiting_review');
  await svc.productions.cancel('default', id);
  scratch = mkdtempSync(join(tmpdir(), 'aiprod-exports-s3-'));
  writeFileSync(join(scratch, 'video.mp4'), video);
  const key = `productions/${id}/a1/video.mp4`;
  await svc.storage.put(key, join(scratch, 'video.mp4'), 'video/mp4');
  await svc.database.db.insert(outputs).values({ productionId: id, name: 'video.mp4', kind: 'video', mime: 'video/mp4', bytes: video.length, storageKey: key, durationSec: 2 });
});
after(async () => {
  await svc?.stop();
  await fake?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('a production\'s zip streams its stored output from S3', async () => {
  const res = await svc.app!.inject({ url: `/v1/productions/${id}/export?format=zip`, headers: svc.auth });
  assert.equal(res.statusCode, 200, res.body);
  const files = unzipSync(res.rawPayload);
  assert.ok(Buffer.from(files['outputs/video.mp4'] as Uint8Array).equals(video), 'the archived video is the stored one');
});

test('a period export is stored in the bucket, downloads by a presigned URL, and expires', async () => {
  const from = new Date(Date.now() - 3600_000).toISOString();
  const to = new Date(Date.now() + 3600_000).toISOString();
  const res = await svc.app!.inject({ method: 'POST', url: '/v1/exports', headers: svc.auth, payload: { from, to, format: 'csv' } });
  assert.equal(res.statusCode, 202, res.body);
  const exportId = (res.json() as ExportView).id;
  let view: ExportView;
  const deadline = Date.now() + 60_000;
  do {
    await new Promise((r) => setTimeout(r, 100));
    view = (await svc.app!.inject({ url: `/v1/exports/${exportId}`, headers: svc.auth })).json() as ExportView;
  } while (view.status !== 'ready' && view.status !== 'failed' && Date.now() < deadline);
  assert.equal(view.status, 'ready', JSON.stringify(view.error));
  const key = `aiprod/test/exports/${exportId}/export-${exportId}.csv`;
  assert.ok(fake.objects.has(key), [...fake.objects.keys()].join(', '));
  const signed = new URL(view.links.download as string);
  assert.equal(signed.origin, fake.url);
  assert.equal(signed.searchParams.get('X-Amz-Expires'), '600');
  const download = await fetch(signed);
  assert.equal(download.status, 200);
  const lines = (await download.text()).split('\r\n').filter(Boolean);
  assert.equal(lines.length, 2);
  assert.ok(lines[1]?.startsWith(`${id},default,`), lines[1]);
  // With a key, the download route redirects to a presigned URL as the outputs' does.
  const redirect = await svc.app!.inject({ url: `/v1/exports/${exportId}/download`, headers: svc.auth });
  assert.equal(redirect.statusCode, 302);
  assert.equal(new URL(String(redirect.headers.location)).origin, fake.url);
  // Expired: the object leaves the bucket.
  await svc.database.db.update(dataExports).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(dataExports.id, exportId));
  const exports = new ExportsService({ database: svc.database, queue: svc.queue, storage: svc.storage, productions: svc.productions, signedUrlTtlSec: 600, retentionDays: 7, inlineMaxRows: 0 });
  const result = await expireStored(svc.database, svc.storage, 30, new Date(), exports);
  assert.equal(result.exports, 1);
  assert.equal(fake.objects.has(key), false);
});
