import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { strFromU8, unzipSync } from 'fflate';
import type { Production } from '../contract/production.js';
import type { ProductionDetail, StoryboardEdit } from '../services/productions.service.js';
import { EXPORT_FORMATS, flatten, jobDocument, jobListRow, jobLogs, jobsZip, jobZipEntries, toCsv, zipStream } from './export.js';

const ID = '0d9c6a52-3f0e-4a57-9a63-3c1f2b6f8f10';
const BASE = 'https://aiprod.example.com';

function production(over: Partial<Production> = {}): Production {
  return {
    id: ID,
    status: 'succeeded',
    stage: 'qa',
    progress: 100,
    attempts: 1,
    title: 'Bees',
    review: true,
    approvedAt: '2026-11-25T10:00:05.000Z',
    cancelReason: null,
    metadata: { brand_id: 'acme', campaign: 'spring' },
    priority: 8,
    webhookUrl: null,
    error: null,
    stages: [
      { stage: 'plan', attempt: 1, status: 'succeeded', startedAt: '2026-11-25T10:00:01.200Z', finishedAt: '2026-11-25T10:00:01.260Z', wallSec: 0.06, cachedUnits: 0, totalUnits: 1 },
      { stage: 'visualize', attempt: 1, status: 'succeeded', startedAt: '2026-11-25T10:00:02.900Z', finishedAt: '2026-11-25T10:00:09.400Z', wallSec: 6.5, cachedUnits: 0, totalUnits: 3 },
    ],
    outputs: [{ name: 'video.mp4', kind: 'video', mime: 'video/mp4', bytes: 1000, durationSec: 4, url: `/v1/productions/${ID}/outputs/video.mp4` }],
    qa: { passed: true, failed: [], measurements: {} },
    cost: { totalUsd: 0.25, estimatedUsd: 0.3, varianceUsd: -0.05, stages: [], byStage: [], attributions: [] },
    fallbacks: [{ stage: 'narrate', from: 'elevenlabs:v2', to: 'piper:en', code: 'provider_unavailable', reason: 'HTTP 503' }],
    durationSec: 4,
    createdAt: '2026-11-25T10:00:00.950Z',
    updatedAt: '2026-11-25T10:00:14.020Z',
    startedAt: '2026-11-25T10:00:01.100Z',
    finishedAt: '2026-11-25T10:00:14.020Z',
    links: { self: `/v1/productions/${ID}`, events: `/v1/productions/${ID}/events`, storyboard: `/v1/productions/${ID}/storyboard` },
    ...over,
  };
}

function detail(over: Partial<Production> = {}, origin: Record<string, unknown> | null = null): ProductionDetail {
  return {
    production: production(over),
    brief: { prompt: 'how bees make honey', language: 'fr' },
    origin: origin ?? { content: 'How bees make honey, in four seconds.', preset: 'brand_campaign', lang: 'en', priority: 'high', duration_sec: 4, brand_id: 42, mood: 'joyful', cost_estimate: { total: 1.2 } },
    storyboard: null,
  };
}

const EDITS: StoryboardEdit[] = [{ id: 1, at: '2026-11-25T10:00:04.000Z', actor: 'key:abc', changes: { 'scenes.0.narration': { old: 'Bees.', new: 'Busy bees.' } } }];

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

test('the formats list names json, csv and zip with their mime types', () => {
  assert.deepEqual(Object.keys(EXPORT_FORMATS), ['json', 'csv', 'zip']);
  assert.deepEqual([EXPORT_FORMATS.json.mime_type, EXPORT_FORMATS.csv.mime_type, EXPORT_FORMATS.zip.mime_type], ['application/json', 'text/csv', 'application/zip']);
  for (const f of Object.values(EXPORT_FORMATS)) for (const key of ['name', 'description', 'mime_type', 'extension', 'best_for'] as const) assert.ok(f[key], key);
});

test('the JSON document: both vocabularies, the whole content, the request fields as metadata, result, cost and edits', () => {
  const at = new Date('2026-11-26T00:00:00.000Z');
  const doc = jobDocument(detail(), EDITS, BASE, at);
  assert.deepEqual(doc.metadata, { exported_at: '2026-11-26T00:00:00.000Z', export_format: 'json', version: '1.0' });
  const { job } = doc;
  assert.equal(job.id, ID);
  assert.equal(job.state, 'delivered');
  assert.equal(job.status, 'completed');
  assert.equal(job.preset, 'brand_campaign');
  assert.equal(job.content, 'How bees make honey, in four seconds.');
  assert.equal(job.lang, 'en');
  assert.equal(job.priority, 'high');
  assert.equal(job.completed_at, '2026-11-25T10:00:14.020Z');
  // The request's other fields win over the production's labels of the same name.
  assert.deepEqual(job.metadata, { brand_id: 42, campaign: 'spring', duration_sec: 4, mood: 'joyful', cost_estimate: { total: 1.2 } });
  assert.deepEqual((job.state_history as { state: string }[]).map((h) => h.state), ['pending', 'processing', 'completed']);
  const result = job.result as { success: boolean; output: { video_url: string } };
  assert.equal(result.success, true);
  assert.equal(result.output.video_url, `${BASE}/v1/productions/${ID}/outputs/video.mp4`);
  assert.equal((job.cost as { totalUsd: number }).totalUsd, 0.25);
  assert.deepEqual(job.edits_history, [{ timestamp: '2026-11-25T10:00:04.000Z', changes: EDITS[0]?.changes }]);
});

test('a v1 production (no original request) and an unfinished one', () => {
  const queued = jobDocument({ ...detail({ status: 'queued', startedAt: null, finishedAt: null, cost: null, priority: 0, approvedAt: null }), origin: null }, [], BASE).job;
  assert.equal(queued.state, 'created');
  assert.equal(queued.status, 'pending');
  assert.equal(queued.preset, 'quick_social');
  assert.equal(queued.content, 'how bees make honey');
  assert.equal(queued.lang, 'fr');
  assert.equal(queued.priority, 'low');
  assert.equal(queued.completed_at, null);
  assert.equal(queued.result, null);
  assert.deepEqual(queued.metadata, { brand_id: 'acme', campaign: 'spring' });
});

test('flatten joins nested keys with _ and keeps arrays as JSON', () => {
  assert.deepEqual(flatten({ a: 1, b: { c: 'x', d: { e: null } }, f: [1, { g: 2 }], h: {} }), { a: 1, b_c: 'x', b_d_e: null, f: '[1,{"g":2}]' });
});

test('CSV: a header of every column in first-seen order, RFC 4180 quoting, CRLF line ends', () => {
  const csv = toCsv([
    { id: 'a', note: 'plain', nested: { x: 1 } },
    { id: 'b', note: 'has "quotes", a comma\nand a line', extra: true, nested: { x: 2, y: [1, 2] } },
  ]);
  assert.equal(
    csv,
    'id,note,nested_x,extra,nested_y\r\n' +
      'a,plain,1,,\r\n' +
      'b,"has ""quotes"", a comma\nand a line",2,true,"[1,2]"\r\n',
  );
  assert.equal(toCsv([]), '');
});

test('CSV: text that a spreadsheet would run as a formula gets a leading apostrophe; numbers do not', () => {
  const csv = toCsv([{ a: '=HYPERLINK("http://x","y")', b: '+1', c: '-2+3', d: '@SUM(A1)', e: '\tx', f: -5, g: 'safe = text', h: { i: '=1+1' } }]);
  const [, row] = csv.split('\r\n');
  assert.equal(row, `"'=HYPERLINK(""http://x"",""y"")",'+1,'-2+3,'@SUM(A1),'\tx,-5,safe = text,'=1+1`);
});

test('a job as CSV has a header and one row holding its id', () => {
  const csv = toCsv([jobDocument(detail(), EDITS, BASE).job]);
  const [header, row, end] = csv.split('\r\n');
  assert.equal(end, '');
  assert.ok(header?.startsWith('id,state,status,preset,'), header);
  assert.ok(header?.includes('result_output_video_url'), header);
  assert.ok(header?.includes('metadata_cost_estimate_total'), header);
  assert.ok(row?.startsWith(`${ID},delivered,completed,brand_campaign,`), row);
});

test('the list row: /pipeline/jobs fields, the ICC state and the cost', () => {
  assert.deepEqual(jobListRow(detail()), {
    job_id: ID,
    status: 'completed',
    preset: 'brand_campaign',
    content_preview: 'How bees make honey, in four seconds.',
    created_at: '2026-11-25T10:00:00.950Z',
    state: 'delivered',
    completed_at: '2026-11-25T10:00:14.020Z',
    cost_usd: 0.25,
    estimated_cost_usd: 0.3,
  });
});

test('logs.txt: one line per stage run, the fallbacks and the error', () => {
  const logs = jobLogs(production({ status: 'failed', error: { code: 'ffmpeg_failed', message: 'exit 1' } }));
  const lines = logs.trimEnd().split('\n');
  assert.equal(lines.length, 5);
  assert.match(lines[1] ?? '', /^stage=plan attempt=1 status=succeeded started=2026-11-25T10:00:01.200Z finished=2026-11-25T10:00:01.260Z wall=0.06s$/);
  assert.match(lines[2] ?? '', /^stage=visualize .* wall=6.5s$/);
  assert.equal(lines[3], 'fallback stage=narrate from=elevenlabs:v2 to=piper:en code=provider_unavailable reason="HTTP 503"');
  assert.equal(lines[4], 'error code=ffmpeg_failed message="exit 1"');
});

test("a job's zip: metadata.json, result.json, logs.txt and the video stored as it is", async () => {
  // Incompressible bytes in uneven chunks, as a storage stream would give them.
  const video = Buffer.concat(Array.from({ length: 40 }, (_, i) => createHash('sha512').update(String(i)).digest()));
  const chunks = [video.subarray(0, 1000), video.subarray(1000, 1001), video.subarray(1001)];
  let opened = 0;
  const exportedAt = new Date('2026-11-26T00:00:00.000Z');
  const zip = await collect(zipStream(jobZipEntries({
    detail: detail(), edits: EDITS, base: BASE, tenantId: 'acme-tenant', exportedAt,
    video: { bytes: video.length, open: async () => { opened++; return Readable.from(chunks); } },
  }), exportedAt));
  assert.equal(opened, 1);
  const files = unzipSync(zip);
  assert.deepEqual(Object.keys(files), ['metadata.json', 'result.json', 'logs.txt', 'output_file.mp4']);
  assert.deepEqual(JSON.parse(strFromU8(files['metadata.json']!)), {
    job_id: ID, user_id: 'acme-tenant', preset: 'brand_campaign', state: 'delivered',
    created_at: '2026-11-25T10:00:00.950Z', completed_at: '2026-11-25T10:00:14.020Z', exported_at: '2026-11-26T00:00:00.000Z',
  });
  const result = JSON.parse(strFromU8(files['result.json']!)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(result), ['content', 'metadata', 'state_history', 'result']);
  assert.equal(result.content, 'How bees make honey, in four seconds.');
  assert.match(strFromU8(files['logs.txt']!), /stage=visualize/);
  assert.ok(Buffer.from(files['output_file.mp4']!).equals(video));
  // Stored (method 0), not deflated: the local header of output_file.mp4 says so.
  const at = zip.indexOf(Buffer.from('output_file.mp4')) - 30;
  assert.equal(zip.readUInt32LE(at), 0x04034b50);
  assert.equal(zip.readUInt16LE(at + 8), 0);
});

test('without a video the zip holds the three documents; the entry sizes count the video', () => {
  const entries = jobZipEntries({ detail: detail({ status: 'failed', outputs: [] }), edits: [], base: BASE, tenantId: 't' });
  assert.deepEqual(entries.map((e) => e.name), ['metadata.json', 'result.json', 'logs.txt']);
  const withVideo = jobZipEntries({ detail: detail(), edits: [], base: BASE, tenantId: 't', video: { bytes: 5_000_000_000, open: async () => Readable.from([]) } });
  assert.deepEqual(withVideo.map((e) => e.name), ['metadata.json', 'result.json', 'logs.txt', 'output_file.mp4']);
});

test('the zip is made as it is read: a chunk of the video is taken only when the reader wants more', async () => {
  const chunk = Buffer.alloc(64 * 1024, 1);
  let given = 0;
  const source = Readable.from((function* () {
    for (let i = 0; i < 1000; i++) {
      given++;
      yield chunk;
    }
  })());
  const stream = zipStream([{ name: 'a.txt', text: 'hello' }, { name: 'big.bin', bytes: 1000 * chunk.length, open: async () => source }]);
  let read = 0;
  for await (const piece of stream) {
    read += (piece as Uint8Array).length;
    if (read > 1024 * 1024) break;
  }
  // Some read-ahead is allowed (stream buffers), never the whole 64 MB.
  assert.ok(given < 100, `read ${given} chunks of 1000 ahead of a reader that stopped at 1 MiB`);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(source.destroyed, 'the stored stream is closed when the reader goes away');
});

test('the bulk zip: jobs_summary.csv and jobs/{id}.json per job, edits asked per job', async () => {
  const second = detail({ id: 'second-job', review: false });
  const asked: string[] = [];
  const zip = await collect(jobsZip([detail(), second], async (d) => {
    asked.push(d.production.id);
    return d.production.id === ID ? EDITS : [];
  }, BASE));
  const files = unzipSync(zip);
  assert.deepEqual(Object.keys(files), ['jobs_summary.csv', `jobs/${ID}.json`, 'jobs/second-job.json']);
  const lines = strFromU8(files['jobs_summary.csv']!).trimEnd().split('\r\n');
  assert.equal(lines.length, 3);
  assert.ok(lines[0]?.startsWith('job_id,status,preset,content_preview,created_at,state'), lines[0]);
  assert.ok(lines[1]?.startsWith(ID) && lines[2]?.startsWith('second-job'));
  const job = JSON.parse(strFromU8(files[`jobs/${ID}.json`]!)) as Record<string, unknown>;
  assert.equal(job.id, ID);
  assert.equal((job.edits_history as unknown[]).length, 1);
  assert.deepEqual(asked, [ID, 'second-job']);
});
