/**
 * The original API's exports end to end (PGlite, local storage, a real worker): a rendered job
 * exported as json, csv and a zip whose output_file.mp4 is the stored video byte for byte; the
 * caller's jobs exported in bulk; and the refusals (unknown format, another tenant's job, a
 * tenant with no jobs, a missing stored video, an archive over the size limit).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { strFromU8, unzipSync } from 'fflate';
import { eq } from 'drizzle-orm';
import { outputs, productions } from '../../src/db/schema.js';
import { EXPORT_MAX_BYTES } from '../../src/http/routes/compat/export.routes.js';
import { createApiKey } from '../../src/services/keys.service.js';
import { createTenant } from '../../src/services/tenants.service.js';
import { LocalStorage } from '../../src/storage/local.adapter.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
let other: { authorization: string };
let empty: { authorization: string };
let jobId: string;

/** The request a client of the original API sent, as POST /pipeline/run keeps it with the job. */
const ORIGIN = { content: 'Bees turn nectar into honey.', preset: 'quick_social', lang: 'en', priority: 'low', duration_sec: 4, mood: 'calm', brand_id: 'acme' };
const brief = {
  scenes: [
    { narration: 'Bees turn nectar into honey.', durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } },
    { narration: 'Then they store it.', durationSec: 2, visual: { type: 'gradient', colors: ['#0ea5e9', '#22c55e'] } },
  ],
  resolution: '480p',
  fps: 24,
  metadata: { brand_id: 'acme' },
};

before(async () => {
  svc = await startTestService();
  for (const id of ['othercorp', 'emptycorp']) await createTenant(svc.database.db, { id, name: id, tier: 'pro' });
  other = { authorization: `Bearer ${(await createApiKey(svc.database.db, { tenantId: 'othercorp', name: 'other', scopes: ['productions:read', 'productions:write'] })).key}` };
  empty = { authorization: `Bearer ${(await createApiKey(svc.database.db, { tenantId: 'emptycorp', name: 'empty', scopes: ['productions:read'] })).key}` };
  jobId = (await svc.productions.create('default', brief, undefined, undefined, { origin: ORIGIN })).id;
  const done = await svc.waitFor(jobId, (p) => p.status === 'succeeded' || p.status === 'failed' || p.status === 'canceled', 180_000);
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
});
after(async () => {
  await svc?.stop();
});

const get = (url: string, headers: Record<string, string> = svc.auth) => svc.app!.inject({ method: 'GET', url, headers });

test('GET /export/formats describes json, csv and zip, without credentials', async () => {
  const res = await svc.app!.inject({ url: '/export/formats' });
  assert.equal(res.statusCode, 200, res.body);
  const { formats } = res.json() as { formats: Record<string, { mime_type: string; extension: string; name: string; description: string; best_for: string }> };
  assert.deepEqual(Object.fromEntries(Object.entries(formats).map(([k, f]) => [k, f.mime_type])), { json: 'application/json', csv: 'text/csv', zip: 'application/zip' });
  assert.ok(formats.zip?.description && formats.zip.best_for && formats.zip.extension === '.zip');
});

test('GET /pipeline/{id}/export?format=json: an attachment with the whole job', async () => {
  const res = await get(`/pipeline/${jobId}/export?format=json`);
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.equal(res.headers['content-disposition'], `attachment; filename=job-${jobId}.json`);
  const { metadata, job } = res.json() as { metadata: Record<string, string>; job: Record<string, unknown> };
  assert.equal(metadata.export_format, 'json');
  assert.equal(metadata.version, '1.0');
  assert.equal(job.id, jobId);
  assert.equal(job.state, 'delivered');
  assert.equal(job.status, 'completed');
  assert.equal(job.preset, 'quick_social');
  assert.equal(job.content, ORIGIN.content);
  assert.deepEqual(job.metadata, { brand_id: 'acme', duration_sec: 4, mood: 'calm' });
  const result = job.result as { success: boolean; output: { video_url: string } };
  assert.equal(result.success, true);
  assert.match(result.output.video_url, new RegExp(`^http://localhost(:\\d+)?/v1/productions/${jobId}/outputs/video\\.mp4\\?token=[\\w.-]+$`), 'a signed link');
  // The default format is json.
  const plain = await get(`/pipeline/${jobId}/export`);
  assert.equal(plain.statusCode, 200);
  assert.equal((plain.json() as { job: { id: string } }).job.id, jobId);
});

test('GET /pipeline/{id}/export?format=csv: a header and one row holding the id', async () => {
  const res = await get(`/pipeline/${jobId}/export?format=CSV`);
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers['content-type']), /^text\/csv/);
  assert.equal(res.headers['content-disposition'], `attachment; filename=job-${jobId}.csv`);
  const [header, row, ...rest] = res.body.split('\r\n');
  assert.deepEqual(rest, ['']);
  assert.ok(header?.split(',').includes('result_output_video_url'), header);
  assert.ok(row?.startsWith(`${jobId},delivered,completed,quick_social,`), row);
});

test('GET /pipeline/{id}/export?format=zip: metadata.json, result.json, logs.txt and the stored video byte for byte', async () => {
  const res = await get(`/pipeline/${jobId}/export?format=zip`);
  assert.equal(res.statusCode, 200, res.body.slice(0, 500));
  assert.equal(res.headers['content-type'], 'application/zip');
  assert.equal(res.headers['content-disposition'], `attachment; filename=job-${jobId}.zip`);
  const files = unzipSync(res.rawPayload);
  assert.deepEqual(Object.keys(files).sort(), ['logs.txt', 'metadata.json', 'output_file.mp4', 'result.json']);
  const metadata = JSON.parse(strFromU8(files['metadata.json']!)) as Record<string, unknown>;
  assert.equal(metadata.job_id, jobId);
  assert.equal(metadata.user_id, 'default');
  assert.equal(metadata.state, 'delivered');
  const result = JSON.parse(strFromU8(files['result.json']!)) as { content: string; state_history: { state: string }[] };
  assert.equal(result.content, ORIGIN.content);
  assert.ok(result.state_history.some((h) => h.state === 'completed'));
  assert.match(strFromU8(files['logs.txt']!), /^stage=compose attempt=1 status=succeeded /m);

  const output = await svc.productions.output('default', jobId, 'video.mp4');
  const chunks: Buffer[] = [];
  for await (const chunk of await svc.storage.read(output.storageKey)) chunks.push(chunk as Buffer);
  const stored = Buffer.concat(chunks);
  assert.ok(stored.length > 1000, `stored video of ${stored.length} bytes`);
  assert.ok(Buffer.from(files['output_file.mp4']!).equals(stored), 'output_file.mp4 is the stored video');
});

test('an unknown format is a 400 naming the formats; another tenant cannot export the job', async () => {
  const xml = await get(`/pipeline/${jobId}/export?format=xml`);
  assert.equal(xml.statusCode, 400, xml.body);
  const body = xml.json() as { detail: string; error: { code: string } };
  assert.match(body.detail, /json, csv, zip/);
  assert.equal(body.error.code, 'invalid_request');

  const theirs = await get(`/pipeline/${jobId}/export?format=json`, other);
  assert.equal(theirs.statusCode, 404, theirs.body);
  assert.equal(typeof (theirs.json() as { detail: string }).detail, 'string');
  assert.equal((await svc.app!.inject({ url: `/pipeline/${jobId}/export` })).statusCode, 401);
});

test("GET /jobs/export: the caller's jobs as csv and as a zip; xml is a 400", async () => {
  const csv = await get('/jobs/export?format=csv&limit=100');
  assert.equal(csv.statusCode, 200, csv.body);
  assert.match(String(csv.headers['content-type']), /^text\/csv/);
  assert.match(String(csv.headers['content-disposition']), /^attachment; filename=jobs-export-.*\.csv$/);
  const lines = csv.body.trimEnd().split('\r\n');
  assert.ok(lines[0]?.startsWith('job_id,status,preset,content_preview,created_at,state,'), lines[0]);
  assert.ok(lines.slice(1).some((line) => line.startsWith(`${jobId},completed,quick_social,`)), csv.body);

  const zip = await get('/jobs/export?format=zip');
  assert.equal(zip.statusCode, 200, zip.body.slice(0, 500));
  assert.equal(zip.headers['content-type'], 'application/zip');
  const files = unzipSync(zip.rawPayload);
  assert.ok(strFromU8(files['jobs_summary.csv']!).includes(jobId));
  const job = JSON.parse(strFromU8(files[`jobs/${jobId}.json`]!)) as { id: string; state: string };
  assert.deepEqual([job.id, job.state], [jobId, 'delivered']);

  const xml = await get('/jobs/export?format=json');
  assert.equal(xml.statusCode, 400);
  assert.match((xml.json() as { detail: string }).detail, /csv, zip/);
});

test("GET /jobs/export lists only the caller's jobs, newest first, and a caller with none gets 404", async () => {
  const none = await get('/jobs/export?format=csv', empty);
  assert.equal(none.statusCode, 404, none.body);
  assert.equal(typeof (none.json() as { detail: string }).detail, 'string');

  const older = (await svc.productions.create('othercorp', brief)).id;
  await svc.productions.cancel('othercorp', older);
  const newer = (await svc.productions.create('othercorp', brief)).id;
  await svc.productions.cancel('othercorp', newer);
  // Two creates may share a millisecond: make the order certain.
  await svc.database.db.update(productions).set({ createdAt: new Date(Date.now() - 60_000) }).where(eq(productions.id, older));
  const res = await get('/jobs/export?format=csv&limit=1', other);
  assert.equal(res.statusCode, 200, res.body);
  const rows = res.body.trimEnd().split('\r\n').slice(1);
  assert.deepEqual(rows.map((r) => r.split(',')[0]), [newer]);
  const both = await get('/jobs/export?format=csv', other);
  assert.deepEqual(both.body.trimEnd().split('\r\n').slice(1).map((r) => r.split(',')[0]), [newer, older]);
  assert.ok(!res.body.includes(jobId), "another tenant's job is not listed");
  assert.equal((await get('/jobs/export?format=csv&limit=0', other)).statusCode, 422);
});

/** A canceled production of `othercorp` with a stored video.mp4 of `bytes` (a sparse file: no disk used). */
async function withVideo(bytes: number): Promise<{ id: string; file: string }> {
  const id = (await svc.productions.create('othercorp', brief)).id;
  await svc.productions.cancel('othercorp', id);
  const dir = mkdtempSync(join(tmpdir(), 'aiprod-export-'));
  const source = join(dir, 'video.mp4');
  writeFileSync(source, Buffer.alloc(16, 1));
  const key = `productions/${id}/video.mp4`;
  await svc.storage.put(key, source, 'video/mp4');
  rmSync(dir, { recursive: true, force: true });
  assert.ok(svc.storage instanceof LocalStorage);
  const file = join(svc.storage.root, key);
  truncateSync(file, bytes);
  await svc.database.db.insert(outputs).values({ productionId: id, name: 'video.mp4', kind: 'video', mime: 'video/mp4', bytes, storageKey: key, createdAt: new Date(), durationSec: 1 });
  return { id, file };
}

test('a zip over EXPORT_MAX_BYTES is a 413; a video whose stored file is gone is a 404 output_missing', async () => {
  const big = await withVideo(EXPORT_MAX_BYTES + 1);
  try {
    const res = await get(`/pipeline/${big.id}/export?format=zip`, other);
    assert.equal(res.statusCode, 413, res.body);
    assert.equal(res.headers['content-disposition'], undefined, 'an error is not an attachment');
    assert.match((res.json() as { detail: string }).detail, /over the/);
    // The documents alone are still there.
    assert.equal((await get(`/pipeline/${big.id}/export?format=json`, other)).statusCode, 200);
  } finally {
    rmSync(big.file, { force: true });
  }
  const gone = await withVideo(1000);
  rmSync(gone.file);
  const res = await get(`/pipeline/${gone.id}/export?format=zip`, other);
  assert.equal(res.statusCode, 404, res.body);
  assert.equal((res.json() as { error: { code: string } }).error.code, 'output_missing');
});
