/**
 * `aiprod serve` as an operator runs it: a child process on an empty data directory (PGlite),
 * driven over real HTTP — the admin key it prints once, /ready, a brief, its Server-Sent Events
 * until it finishes, the MP4 downloaded and checked with ffprobe — then SIGTERM, and a restart on
 * the same directory that keeps the key and the production.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { productionEventSchema, type Production, type ProductionEvent } from '../../src/contract/production.js';
import { killAll, probeMedia, readSse, startCli, tempDir, type CliProcess } from './processes.js';

const PIPELINE_ORDER = ['queued', 'planning', 'rendering', 'mixing', 'composing', 'checking', 'succeeded'];
const KEY_LINE = /^ {2}(aiprod_[a-z0-9]{12}_[A-Za-z0-9_-]{32,})$/m;
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+) \(docs: .*database: pglite\)/;

// 3 scenes × 2.5 s at 480p24: about 3 s of rendering.
const brief = {
  scenes: [
    { narration: 'Served over HTTP.', title: 'End to end', durationSec: 2.5, visual: { type: 'color', color: '#1e3a8a' } },
    { narration: 'Followed live.', durationSec: 2.5, visual: { type: 'gradient', colors: ['#0ea5e9', '#22c55e'] } },
    { narration: 'Then downloaded.', title: 'Done', durationSec: 2.5, visual: { type: 'color', color: '#7c2d12' } },
  ],
  resolution: '480p',
  fps: 24,
};
const PLANNED_SEC = 7.5;

let dataDir: string;
let env: Record<string, string>;
let server: CliProcess | undefined;

before(() => {
  dataDir = tempDir('serve-e2e');
  env = {
    AIPROD_DATA_DIR: dataDir,
    AIPROD_CACHE_DIR: join(dataDir, 'cache'),
    DATABASE_URL: '',
    STORAGE_URL: '',
    ADMIN_API_KEY: '',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: '1',
  };
});
after(async () => {
  await killAll();
  rmSync(dataDir, { recursive: true, force: true });
});

async function startServer(): Promise<{ base: string; printedKey: string | undefined }> {
  server = startCli(['serve', '--port', '0'], env);
  const [, base] = await server.waitForStdout(LISTENING, 60_000);
  return { base: base as string, printedKey: KEY_LINE.exec(server.stdout())?.[1] };
}

let key = '';
let productionId = '';

test('serve: first start prints the key once, renders a brief followed over SSE, serves the MP4, and exits 0 on SIGTERM', async () => {
  const { base, printedKey } = await startServer();
  assert.ok(printedKey, `the admin key is printed on first start\n${server?.output()}`);
  key = printedKey;
  const auth = { authorization: `Bearer ${key}` };

  const ready = await fetch(`${base}/ready`);
  const readyBody = (await ready.json()) as { ok: boolean; checks: Record<string, { ok: boolean }> };
  assert.equal(ready.status, 200, JSON.stringify(readyBody));
  assert.deepEqual(Object.keys(readyBody.checks).sort(), ['database', 'disk', 'ffmpeg', 'listener', 'queue', 'storage']);

  const unauthorized = await fetch(`${base}/v1/productions`);
  assert.equal(unauthorized.status, 401);

  const created = await fetch(`${base}/v1/productions`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(brief),
  });
  const accepted = (await created.json()) as { id: string; status: string; links: Production['links'] };
  assert.equal(created.status, 202, JSON.stringify(accepted));
  assert.equal(accepted.status, 'queued');
  productionId = accepted.id;

  // Follow the events over real HTTP; the server ends the stream after the final status.
  const started = performance.now();
  const stream = await readSse(`${base}${accepted.links.events}`, auth, 90_000);
  const renderSec = (performance.now() - started) / 1000;
  const events: ProductionEvent[] = stream.map((e) => {
    assert.equal(e.event, 'production');
    return productionEventSchema.parse(JSON.parse(e.data));
  });
  const trail = JSON.stringify(events.map((e) => [e.status, e.stage, e.progress]));
  assert.ok(events.every((e) => e.id === accepted.id), trail);
  const last = events.at(-1);
  assert.equal(last?.status, 'succeeded', trail);
  assert.equal(last?.progress, 100, trail);
  assert.equal(last?.error, null);
  assert.equal(events.filter((e) => e.status === 'succeeded').length, 1, `one final event, then the stream ends: ${trail}`);
  for (let i = 1; i < events.length; i++) {
    const [prev, cur] = [events[i - 1] as ProductionEvent, events[i] as ProductionEvent];
    assert.ok(cur.progress >= prev.progress, `progress went back at event ${i}: ${trail}`);
    assert.ok(PIPELINE_ORDER.indexOf(cur.status) >= PIPELINE_ORDER.indexOf(prev.status), `status went back at event ${i}: ${trail}`);
    assert.ok(Date.parse(cur.at) >= Date.parse(prev.at), `events out of time order: ${trail}`);
  }
  // Live progress, not just the end: the render was seen part-way, in at least three running states.
  assert.ok(events.some((e) => e.progress > 0 && e.progress < 100), `an intermediate progress: ${trail}`);
  const runningStatuses = new Set(events.map((e) => e.status).filter((s) => !['queued', 'succeeded'].includes(s)));
  assert.ok(runningStatuses.size >= 3 && runningStatuses.has('rendering'), `running states seen: ${trail}`);

  const production = (await (await fetch(`${base}/v1/productions/${accepted.id}`, { headers: auth })).json()) as Production;
  assert.equal(production.status, 'succeeded');
  assert.equal(production.attempts, 1);
  assert.ok(production.durationSec !== null && Math.abs(production.durationSec - PLANNED_SEC) < 0.25, `planned ${PLANNED_SEC} s, timeline ${production.durationSec}`);
  const mp4 = production.outputs.find((o) => o.name === 'video.mp4');
  assert.ok(mp4, JSON.stringify(production.outputs));

  const download = await fetch(new URL(mp4.url, base), { headers: auth });
  assert.equal(download.status, 200);
  assert.equal(download.headers.get('content-type'), 'video/mp4');
  const bytes = Buffer.from(await download.arrayBuffer());
  assert.equal(bytes.length, mp4.bytes);
  const file = join(dataDir, 'downloaded.mp4');
  writeFileSync(file, bytes);
  const facts = await probeMedia(file);
  assert.equal(facts.video?.codec, 'h264');
  assert.equal(facts.video?.pixFmt, 'yuv420p');
  assert.deepEqual([facts.video?.width, facts.video?.height], [854, 480]);
  assert.equal(facts.audio?.codec, 'aac');
  assert.ok(Math.abs(facts.durationSec - (production.durationSec ?? 0)) < 0.1, `file ${facts.durationSec} s, timeline ${production.durationSec} s`);

  const sigterm = performance.now();
  server?.child.kill('SIGTERM');
  const exit = await server?.exitWithin(10_000);
  assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM\n${server?.output()}`);
  const stopSec = (performance.now() - sigterm) / 1000;
  process.stdout.write(`# render followed over SSE in ${renderSec.toFixed(1)} s (${events.length} events); SIGTERM to exit ${stopSec.toFixed(2)} s\n`);
});

test('serve: a restart on the same data directory prints no key, and the key and the production are still there', async (t) => {
  if (!productionId) return t.skip('the first test did not create a production');
  const { base, printedKey } = await startServer();
  assert.equal(printedKey, undefined, `no key on a second start\n${server?.output()}`);
  assert.doesNotMatch(server?.stdout() ?? '', /First start/);
  const res = await fetch(`${base}/v1/productions/${productionId}`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200);
  const production = (await res.json()) as Production;
  assert.equal(production.status, 'succeeded');
  assert.ok(production.outputs.some((o) => o.name === 'video.mp4'));
  server?.child.kill('SIGTERM');
  assert.deepEqual(await server?.exitWithin(10_000), { code: 0, signal: null }, server?.output());
});
