/**
 * Exports end to end (PGlite, local storage, a real worker): a rendered production exported as
 * json, csv (cost lines) and a zip whose outputs are the stored files byte for byte; a period
 * exported at once and through the export job, downloaded by its signed link; tenant isolation,
 * the refusals, expiry by retention, and the build's retries and recovery from a lost worker.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { strFromU8, unzipSync } from 'fflate';
import { eq } from 'drizzle-orm';
import type { ExportView } from '../../src/contract/export.js';
import * as exportsRepo from '../../src/db/exports.repository.js';
import { dataExports } from '../../src/db/schema.js';
import { EXPORT_ATTEMPTS, handleExport } from '../../src/jobs/export.handler.js';
import { expireStored } from '../../src/jobs/retention.js';
import { OutputLinks } from '../../src/security/output-links.js';
import { COST_LINE_COLUMNS, PRODUCTION_COLUMNS } from '../../src/services/export-formats.js';
import { ExportsService } from '../../src/services/exports.service.js';
import { createApiKey } from '../../src/services/keys.service.js';
import { createTenant } from '../../src/services/tenants.service.js';
import type { Storage } from '../../src/storage/storage.port.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
let other: { authorization: string };
let rendered: string;
let reviewing: string;
let otherCanceled: string;
const from = new Date(Date.now() - 60_000).toISOString();
const to = new Date(Date.now() + 3600_000).toISOString();

const brief = {
  title: '=HYPERLINK("http://evil")',
  scenes: [
    { narration: 'Bees turn nectar into honey.', durationSec: 1.5, visual: { type: 'color', color: '#1e3a8a' } },
    { narration: 'Then they store it.', durationSec: 1.5, visual: { type: 'gradient', colors: ['#0ea5e9', '#22c55e'] } },
  ],
  resolution: '480p',
  fps: 24,
  metadata: { campaign: 'spring' },
};

before(async () => {
  // A csv or json period of one production answers at once; two or more go through the job.
  svc = await startTestService({ env: { EXPORT_INLINE_ROWS: '1', HEARTBEAT_SEC: '1', STALL_TIMEOUT_SEC: '5' } });
  await createTenant(svc.database.db, { id: 'othercorp', name: 'Other', tier: 'pro' });
  other = { authorization: `Bearer ${(await createApiKey(svc.database.db, { tenantId: 'othercorp', name: 'other', scopes: ['productions:read', 'productions:write'] })).key}` };
  rendered = (await svc.productions.create('default', brief)).id;
  reviewing = (await svc.productions.create('default', { ...brief, review: true })).id;
  otherCanceled = (await svc.productions.create('othercorp', { ...brief, review: true })).id;
  await svc.waitFor(otherCanceled, (p) => p.status === 'awaiting_review', 120_000, 'othercorp');
  await svc.productions.cancel('othercorp', otherCanceled, 'not needed');
  await svc.waitFor(reviewing, (p) => p.status === 'awaiting_review');
  const done = await svc.waitFor(rendered, (p) => ['succeeded', 'failed', 'canceled'].includes(p.status), 180_000);
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
});
after(async () => {
  await svc?.stop();
});

const get = (url: string, headers: Record<string, string> = svc.auth) => svc.app!.inject({ method: 'GET', url, headers });
const post = (body: unknown, headers: Record<string, string> = svc.auth) => svc.app!.inject({ method: 'POST', url: '/v1/exports', headers, payload: body as object });
const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');
const csvRows = (text: string): string[] => text.split('\r\n').filter(Boolean);

/** Polls the export (it announces nothing) until `done` holds. */
async function waitForExport(id: string, done: (e: ExportView) => boolean, headers = svc.auth, timeoutMs = 60_000): Promise<ExportView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = (await get(`/v1/exports/${id}`, headers)).json() as ExportView;
    if (done(view)) return view;
    if (Date.now() > deadline) throw new Error(`export ${id} stayed ${view.status}: ${JSON.stringify(view.error)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('json: the production as the API shows it, with brief, storyboard, qa and cost', async () => {
  const res = await get(`/v1/productions/${rendered}/export?format=json`);
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.equal(res.headers['content-disposition'], `attachment; filename="production-${rendered}.json"`);
  const doc = res.json() as { production: { id: string; status: string; outputs: { name: string }[] }; brief: { title: string }; storyboard: { scenes: unknown[] }; qa: { passed: boolean }; cost: { totalUsd: number } };
  assert.equal(doc.production.id, rendered);
  assert.equal(doc.production.status, 'succeeded');
  assert.ok(doc.production.outputs.some((o) => o.name === 'video.mp4'));
  assert.equal(doc.brief.title, brief.title);
  assert.equal(doc.storyboard.scenes.length, 2);
  assert.equal(doc.qa.passed, true);
  assert.equal(typeof doc.cost.totalUsd, 'number');
  // json is the default.
  assert.equal((await get(`/v1/productions/${rendered}/export`)).statusCode, 200);
});

test('csv: the cost lines, one per line of the cost report plus compute', async () => {
  const res = await get(`/v1/productions/${rendered}/export?format=csv`);
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers['content-type']), /^text\/csv/);
  const [header, ...lines] = csvRows(res.body);
  assert.equal(header, COST_LINE_COLUMNS.join(','));
  const json = (await get(`/v1/productions/${rendered}/export?format=json`)).json() as { cost: { stages: { stage: string; provider: string }[] } };
  // Every cost record is a line (vendor or charge); the compute line is there when CPU is priced (it is, at 0).
  assert.ok(lines.length >= json.cost.stages.length && lines.length <= json.cost.stages.length + 1, res.body);
  for (const line of lines) assert.ok(line.startsWith(`${rendered},default,`), line);
  const kinds = new Set(lines.map((l) => l.split(',')[3]));
  assert.ok(kinds.has('vendor'), res.body);
  for (const kind of kinds) assert.ok(['vendor', 'charge', 'compute'].includes(kind as string), kind);
});

test('zip: documents, every stored output byte for byte, and a manifest of sizes and hashes', async () => {
  const res = await get(`/v1/productions/${rendered}/export?format=zip`);
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'application/zip');
  const files = unzipSync(res.rawPayload);
  for (const name of ['production.json', 'storyboard.json', 'qa.json', 'cost.json', 'cost-lines.csv', 'manifest.json', 'outputs/video.mp4']) assert.ok(files[name], `${name} in ${Object.keys(files).join(', ')}`);
  const video = await get(`/v1/productions/${rendered}/outputs/video.mp4`);
  assert.equal(video.statusCode, 200);
  assert.ok(video.rawPayload.length > 1000);
  assert.ok(Buffer.from(files['outputs/video.mp4'] as Uint8Array).equals(video.rawPayload), 'the archived video is the stored one');
  const production = JSON.parse(strFromU8(files['production.json'] as Uint8Array)) as { production: { outputs: { name: string }[] } };
  for (const output of production.production.outputs) assert.ok(files[`outputs/${output.name}`], `outputs/${output.name}`);
  const manifest = JSON.parse(strFromU8(files['manifest.json'] as Uint8Array)) as { productionId: string; files: { name: string; bytes: number; sha256: string }[] };
  assert.equal(manifest.productionId, rendered);
  assert.deepEqual(manifest.files.map((f) => f.name).sort(), Object.keys(files).filter((n) => n !== 'manifest.json').sort());
  for (const f of manifest.files) {
    const bytes = files[f.name] as Uint8Array;
    assert.equal(f.bytes, bytes.length, f.name);
    assert.equal(f.sha256, sha256(bytes), f.name);
  }
});

test('refusals: unknown production 404, another tenant\'s 404, unfinished 409, unknown format 400', async () => {
  const unknown = await get('/v1/productions/nope/export');
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().error.code, 'not_found');
  const foreign = await get(`/v1/productions/${rendered}/export?format=zip`, other);
  assert.equal(foreign.statusCode, 404, 'another tenant\'s production is not visible');
  const unfinished = await get(`/v1/productions/${reviewing}/export`);
  assert.equal(unfinished.statusCode, 409);
  assert.equal(unfinished.json().error.code, 'conflict');
  assert.match(unfinished.json().error.message, /awaiting_review/);
  const format = await get(`/v1/productions/${rendered}/export?format=pdf`);
  assert.equal(format.statusCode, 400);
  assert.equal(format.json().error.details[0].path, 'querystring.format');
});

test('an operator exports any tenant\'s production; the tenant itself too', async () => {
  const byOperator = await get(`/v1/productions/${otherCanceled}/export?format=json`);
  assert.equal(byOperator.statusCode, 200, byOperator.body);
  assert.equal(byOperator.json().production.status, 'canceled');
  const byOwner = await get(`/v1/productions/${otherCanceled}/export?format=zip`, other);
  assert.equal(byOwner.statusCode, 200, byOwner.body);
  const files = unzipSync(byOwner.rawPayload);
  assert.deepEqual(Object.keys(files).filter((n) => n.startsWith('outputs/')), [], 'a canceled production has no outputs');
});

test('a small period answers at once, with the tenant\'s own productions only', async () => {
  const res = await post({ from, to, format: 'csv' }, other);
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['x-export-rows'], '1');
  assert.match(String(res.headers['content-disposition']), /^attachment; filename="productions-.*\.csv"$/);
  const [header, ...rows] = csvRows(res.body);
  assert.equal(header, PRODUCTION_COLUMNS.join(','));
  assert.equal(rows.length, 1);
  // The tier is recorded when a render finishes; a production canceled before rendering has none.
  assert.ok(rows[0]?.startsWith(`${otherCanceled},othercorp,,canceled,`), rows[0]);
  // A formula in a title is text in a spreadsheet.
  assert.match(rows[0] as string, /,"'=HYPERLINK\(""http:\/\/evil""\)",/);
  // An operator names the tenant; a status filter narrows the period.
  const named = await post({ from, to, format: 'json', tenantId: 'othercorp' });
  assert.equal(named.statusCode, 200, named.body);
  const doc = named.json() as { export: { tenantId: string }; productions: { id: string; brief: unknown; outputs: unknown[] }[] };
  assert.equal(doc.export.tenantId, 'othercorp');
  assert.deepEqual(doc.productions.map((p) => p.id), [otherCanceled]);
  const succeeded = await post({ from, to, format: 'csv', status: 'succeeded' });
  assert.equal(succeeded.statusCode, 200, succeeded.body);
  assert.equal(csvRows(succeeded.body)[1]?.split(',')[0], rendered);
});

test('a read-only key may export a period', async () => {
  const reader = { authorization: `Bearer ${(await createApiKey(svc.database.db, { tenantId: 'othercorp', name: 'accountant', scopes: ['productions:read'] })).key}` };
  const res = await post({ from, to, format: 'csv' }, reader);
  assert.equal(res.statusCode, 200, res.body);
});

test('bulk export refusals: a period backwards, an unknown format, another tenant, an unknown tenant', async () => {
  const backwards = await post({ from: to, to: from, format: 'csv' });
  assert.equal(backwards.statusCode, 400);
  assert.equal(backwards.json().error.details[0].path, 'to');
  const format = await post({ from, to, format: 'xlsx' });
  assert.equal(format.statusCode, 400);
  assert.equal(format.json().error.details[0].path, 'format');
  const badDate = await post({ from: 'yesterday', to, format: 'csv' });
  assert.equal(badDate.statusCode, 400);
  assert.equal(badDate.json().error.details[0].path, 'from');
  const foreign = await post({ from, to, format: 'csv', tenantId: 'default' }, other);
  assert.equal(foreign.statusCode, 403);
  assert.equal(foreign.json().error.details[0].path, 'tenantId');
  const unknown = await post({ from, to, format: 'csv', tenantId: 'nosuch' });
  assert.equal(unknown.statusCode, 404);
});

test('a zip of a period is built by the job and downloads through its signed link, without a key', async () => {
  const res = await post({ from, to, format: 'zip' });
  assert.equal(res.statusCode, 202, res.body);
  const queued = res.json() as ExportView;
  assert.equal(res.headers.location, `/v1/exports/${queued.id}`);
  assert.equal(queued.tenantId, null, 'an operator\'s export covers every tenant');
  assert.equal(queued.links.download, null);
  // Not ready yet (or just built): the download is refused until it is.
  const ready = await waitForExport(queued.id, (e) => e.status === 'ready' || e.status === 'failed');
  assert.equal(ready.status, 'ready', JSON.stringify(ready.error));
  assert.equal(ready.rows, 3);
  assert.ok(ready.bytes && ready.bytes > 0);
  assert.ok(ready.expiresAt && Date.parse(ready.expiresAt) > Date.now() + 6 * 86_400_000, 'kept EXPORT_RETENTION_DAYS (7)');
  assert.match(ready.links.download ?? '', new RegExp(`^/v1/exports/${queued.id}/download\\?token=[\\w.-]+$`));
  const download = await svc.app!.inject({ method: 'GET', url: ready.links.download as string });
  assert.equal(download.statusCode, 200, download.body);
  assert.equal(Number(download.headers['content-length']), ready.bytes);
  const files = unzipSync(download.rawPayload);
  assert.deepEqual(Object.keys(files).sort(), ['cost-lines.csv', 'manifest.json', 'productions.csv', 'productions.jsonl']);
  const rows = csvRows(strFromU8(files['productions.csv'] as Uint8Array)).slice(1);
  assert.deepEqual(new Set(rows.map((r) => r.split(',')[0])), new Set([rendered, reviewing, otherCanceled]));
  const records = strFromU8(files['productions.jsonl'] as Uint8Array).trim().split('\n').map((l) => JSON.parse(l) as { id: string });
  assert.deepEqual(records.map((r) => r.id).sort(), [rendered, reviewing, otherCanceled].sort());
  assert.equal((JSON.parse(strFromU8(files['manifest.json'] as Uint8Array)) as { rows: number }).rows, 3);
  // With a key as well; a tampered link is refused; another tenant sees no such export.
  assert.equal((await get(`/v1/exports/${queued.id}/download`)).statusCode, 200);
  const tampered = await svc.app!.inject({ method: 'GET', url: `${ready.links.download as string}x` });
  assert.equal(tampered.statusCode, 401);
  assert.equal((await get(`/v1/exports/${queued.id}`, other)).statusCode, 404);
  assert.equal((await get(`/v1/exports/${queued.id}/download`, other)).statusCode, 404);
  // Taking every tenant's data out is on the audit log.
  const audit = (await get('/v1/audit?action=export.requested')).json() as { data: { target: string | null; actor: string; details: { format: string; tenantId: string | null } }[] };
  assert.ok(audit.data.some((e) => e.target === `export:${queued.id}` && e.details.format === 'zip' && e.details.tenantId === null && e.actor.startsWith('key:')), JSON.stringify(audit.data));
  const list = (await get('/v1/exports')).json() as { data: ExportView[] };
  assert.ok(list.data.some((e) => e.id === queued.id));
  assert.equal(((await get('/v1/exports', other)).json() as { data: ExportView[] }).data.length, 0);
});

test('a csv period over EXPORT_INLINE_ROWS goes through the job; retention deletes it when it expires', async () => {
  const res = await post({ from, to, format: 'csv' });
  assert.equal(res.statusCode, 202, res.body);
  const id = (res.json() as ExportView).id;
  const notYet = await get(`/v1/exports/${id}/download`);
  assert.ok(notYet.statusCode === 409 || notYet.statusCode === 200, notYet.body);
  const ready = await waitForExport(id, (e) => e.status === 'ready' || e.status === 'failed');
  assert.equal(ready.status, 'ready', JSON.stringify(ready.error));
  const download = await get(`/v1/exports/${id}/download`);
  assert.equal(csvRows(download.body).length, 4, download.body);
  const [row] = await svc.database.db.select().from(dataExports).where(eq(dataExports.id, id));
  assert.ok(row?.storageKey && (await svc.storage.stat(row.storageKey)));
  // Its time comes: retention deletes the file (whatever RETENTION_DAYS says) and the export says expired.
  await svc.database.db.update(dataExports).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(dataExports.id, id));
  assert.equal((await get(`/v1/exports/${id}/download`)).statusCode, 410);
  const result = await expireStored(svc.database, svc.storage, 0, new Date(), exportsOn(svc.storage));
  assert.equal(result.exports, 1);
  assert.equal(await svc.storage.stat(row.storageKey), undefined);
  const expired = (await get(`/v1/exports/${id}`)).json() as ExportView;
  assert.equal(expired.status, 'expired');
  assert.equal(expired.links.download, null);
  assert.equal((await get(`/v1/exports/${id}/download`)).statusCode, 410);
});

/** An exports service of its own over the test service's database and queue (for the handler and retention). */
function exportsOn(storage: Storage): ExportsService {
  return new ExportsService({
    database: svc.database, queue: svc.queue, storage, productions: svc.productions,
    outputLinks: new OutputLinks(Buffer.alloc(32, 1), 3600), signedUrlTtlSec: 3600, retentionDays: 7, inlineMaxRows: 0,
  });
}

/** An export row with no queue job: only the test's direct handler calls build it. */
async function jobless(status: 'queued' | 'running' = 'queued', extra: Partial<exportsRepo.NewExport> = {}): Promise<string> {
  const row = await exportsRepo.insertExport(svc.database.db, {
    id: `test-${Math.random().toString(36).slice(2)}`, ownerTenantId: 'default', tenantId: null, format: 'csv', status, fromAt: new Date(from), toAt: new Date(to), ...extra,
  });
  return row.id;
}

test('a failed build is retried by the queue, and marked failed on its last attempt', async () => {
  let failures = 1;
  const flaky: Storage = Object.assign(Object.create(svc.storage) as Storage, {
    put: async (key: string, path: string, type: string) => {
      if (failures-- > 0) throw new Error('the store is throttling (503 SlowDown)');
      return svc.storage.put(key, path, type);
    },
  });
  const service = exportsOn(flaky);
  const deps = { exports: service, workerId: 'test-worker', tmpDir: svc.dataDir, stallTimeoutSec: 60, heartbeatSec: 1 };
  const id = await jobless();
  const job = (retryCount: number) => ({ id: `job-${retryCount}`, name: 'export' as const, data: { exportId: id }, retryCount });
  // First attempt: the store fails; the export waits queued, the error shown, and the job fails so pg-boss retries it.
  await assert.rejects(handleExport(job(0), deps), /throttling/);
  let row = await exportsRepo.findExport(svc.database.db, id);
  assert.equal(row?.status, 'queued');
  assert.match(row?.error?.message ?? '', /throttling/);
  await handleExport(job(1), deps);
  row = await exportsRepo.findExport(svc.database.db, id);
  assert.equal(row?.status, 'ready');
  assert.equal(row?.attempts, 2);
  assert.equal(row?.error, null);
  // A retry of a job whose export is built has nothing to do.
  await handleExport(job(2), deps);
  assert.equal((await exportsRepo.findExport(svc.database.db, id))?.attempts, 2);
  // The last attempt failing ends the export as failed, and the job completes (nothing left to retry).
  failures = 1;
  const last = await jobless();
  await handleExport({ id: 'job-last', name: 'export', data: { exportId: last }, retryCount: EXPORT_ATTEMPTS - 1 }, deps);
  const failed = (await get(`/v1/exports/${last}`)).json() as ExportView;
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error?.code, 'internal');
  const download = await get(`/v1/exports/${last}/download`);
  assert.equal(download.statusCode, 409);
  assert.match(download.json().error.message, /failed/);
});

test('an export whose worker died mid-build is queued again and built by a live worker', async () => {
  const id = await jobless('running', { workerId: 'dead-worker', heartbeatAt: new Date(Date.now() - 3600_000), attempts: 1 });
  // A live worker's claim refuses it while the dead one's heartbeat is fresh, and takes it once it is stale.
  assert.equal(await exportsRepo.claimExport(svc.database.db, id, 'other', 7200), undefined);
  const requeued = await exportsOn(svc.storage).requeueStalled(5);
  assert.deepEqual(requeued, [id]);
  const ready = await waitForExport(id, (e) => e.status === 'ready' || e.status === 'failed');
  assert.equal(ready.status, 'ready', JSON.stringify(ready.error));
  assert.equal(ready.attempts, 2);
  assert.equal(ready.rows, 3);
});
