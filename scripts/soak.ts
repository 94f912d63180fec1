/**
 * `npm run soak -- [--minutes 10] [--seed 1] [--record] [--keep]`: the service under faults, the way an unlucky
 * operator meets them. On a fresh PostgreSQL database (SOAK_DATABASE_URL or TEST_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres) it runs `aiprod serve --role api` and two `aiprod worker`
 * processes (WORKER_CONCURRENCY=2 each) sharing one data directory and one stage cache, and for the
 * given minutes keeps productions coming (briefs that share narration lines, so units are shared)
 * while, at random times:
 *   - a queued or running production is cancelled;
 *   - a worker is killed with SIGKILL (the worker alone, not its process group: its FFmpeg children
 *     must die with it) and started again a few seconds later;
 *   - every backend of the database is terminated (pg_terminate_backend), as a restart or failover does.
 * Then it stops creating, waits for every production to finish, stops the processes with SIGTERM and
 * checks: every production is final and consistent (succeeded ones have every output, downloadable
 * at its recorded size; canceled ones have none; failed ones say why), the API never died, no FFmpeg
 * run by the soak is left, no render temp directory is left, and every cache unit verifies.
 * Prints a Markdown summary (written to docs/benchmarks.md with --record); exits 1 on any violation.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { StageCache } from '../src/pipeline/cache.js';
import { freshPostgres } from '../test/service/harness.js';
import { killAll, pollUntil, processes, startCli, tempDir, type CliProcess } from '../test/service/processes.js';
import { recordBenchmark } from './bench/record.js';

const { values: flags } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    record: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const minutes = Number(flags.minutes);
if (!(minutes > 0 && minutes <= 600)) {
  console.error(`--minutes must be a number of minutes between 0 and 600, not ${flags.minutes}`);
  process.exit(2);
}

/** A small deterministic generator (mulberry32), so a run can be repeated with its --seed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = generator(Number(flags.seed));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const between = (lo: number, hi: number): number => lo + random() * (hi - lo);
const log = (message: string): void => console.log(`${new Date().toISOString().slice(11, 19)} ${message}`);

// Narration lines shared between briefs: two productions that share a line share its speech unit.
const LINES = [
  'Morning light spills over the harbour.',
  'The ferry leaves at seven, every day of the year.',
  'Inside the workshop, the lathe is already turning.',
  'Every part is checked twice before it ships.',
  'By noon the market is full of voices.',
];
const COLORS = ['#1e3a8a', '#0f766e', '#7c2d12', '#4c1d95'];

function makeBrief(i: number): Record<string, unknown> {
  // Narration lines repeat (shared speech units); seeds vary, so pictures and music are often new work.
  const base = { resolution: '480p', fps: 24, seed: 1 + Math.floor(random() * 40), metadata: { soak: String(i) } };
  const n = 2 + Math.floor(random() * 2);
  const lines = Array.from({ length: n }, () => pick(LINES));
  if (random() < 0.5) {
    // An explicit storyboard: colour and gradient scenes (a colour scene before another scene once hung a render).
    return {
      ...base,
      scenes: lines.map((narration, k) =>
        k % 2 === 0 ? { narration, visual: { type: 'color', color: pick(COLORS) } } : { narration, visual: { type: 'gradient', colors: [pick(COLORS), pick(COLORS)] } },
      ),
      music: random() < 0.7 ? { mood: pick(['calm', 'uplifting', 'corporate'] as const) } : false,
    };
  }
  return { ...base, script: lines.join(' '), captions: random() < 0.5 ? { style: 'boxed' } : false };
}

interface Counts {
  created: number;
  cancels: number;
  workerKills: number;
  dbTerminations: number;
  backendsTerminated: number;
  apiDeaths: number;
  workerDeaths: number;
  requestErrors: number;
}
const counts: Counts = { created: 0, cancels: 0, workerKills: 0, dbTerminations: 0, backendsTerminated: 0, apiDeaths: 0, workerDeaths: 0, requestErrors: 0 };
const violations: string[] = [];

const serverUrl = process.env.SOAK_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dataDir = tempDir('soak');
const cacheDir = join(dataDir, 'cache');
const port = 20_000 + Math.floor(random() * 20_000);
const adminKey = `aiprod_${'s'.repeat(12)}_${randomBytes(24).toString('base64url')}`;
const db = await freshPostgres(serverUrl);
const dbName = new URL(db.url).pathname.slice(1);
const env: Record<string, string> = {
  DATABASE_URL: db.url,
  AIPROD_DATA_DIR: dataDir,
  AIPROD_CACHE_DIR: cacheDir,
  ADMIN_API_KEY: adminKey,
  AIPROD_MASTER_KEY: randomBytes(32).toString('base64'),
  LOG_LEVEL: 'warn',
  WORKER_CONCURRENCY: '2',
  HEARTBEAT_SEC: '2',
  STALL_TIMEOUT_SEC: '15',
  SHUTDOWN_GRACE_SEC: '5',
};
const auth = { authorization: `Bearer ${adminKey}` };
const api = `http://127.0.0.1:${port}`;
const admin = new pg.Pool({ connectionString: serverUrl, max: 1 });
admin.on('error', () => undefined);

let apiProcess: CliProcess | undefined;
const workers: (CliProcess | undefined)[] = [undefined, undefined];
let stopping = false;

async function startApi(): Promise<void> {
  apiProcess = startCli(['serve', '--role', 'api', '--port', String(port)], env);
  await apiProcess.waitForStdout(/listening on/, 60_000);
  const me = apiProcess;
  void me.exited.then((exit) => {
    if (stopping || me !== apiProcess) return;
    counts.apiDeaths++;
    violations.push(`the API process died (${JSON.stringify(exit)}): ${me.output().slice(-1500)}`);
    log('API died; starting it again');
    void startApi();
  });
}
async function startWorker(slot: number): Promise<void> {
  const worker = startCli(['worker', '--no-migrate'], env);
  workers[slot] = worker;
  await worker.waitForStdout(/worker started/, 60_000);
  void worker.exited.then((exit) => {
    // A worker the soak killed has left its slot already; any other exit is a crash.
    if (stopping || workers[slot] !== worker) return;
    counts.workerDeaths++;
    violations.push(`worker ${slot} died (${JSON.stringify(exit)}): ${worker.output().slice(-1500)}`);
    log(`worker ${slot} died; starting it again`);
    void startWorker(slot);
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read loosely by a test driver
type Json = any;
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  try {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  } catch (error) {
    counts.requestErrors++;
    return { status: 0, json: { error: String(error) } };
  }
}

interface Row {
  id: string;
  status: string;
  error: unknown;
  outputs: { name: string; bytes: number; url: string }[];
}
async function listAll(): Promise<Row[]> {
  const rows: Row[] = [];
  let cursor: string | null = null;
  do {
    const page = await call('GET', `/v1/productions?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    if (page.status !== 200) throw new Error(`list: ${page.status} ${JSON.stringify(page.json)}`);
    rows.push(...(page.json.data as Row[]));
    cursor = page.json.nextCursor as string | null;
  } while (cursor);
  return rows;
}

const FINAL = new Set(['succeeded', 'failed', 'canceled']);

async function createOne(): Promise<void> {
  const i = counts.created;
  const res = await call('POST', '/v1/productions', makeBrief(i));
  if (res.status === 202) counts.created++;
  else if (res.status === 503) log(`create answered 503 (${res.json?.error?.code}) — refused while the database is away`);
  else if (res.status !== 0) violations.push(`create answered ${res.status}: ${JSON.stringify(res.json)}`);
}

async function cancelOne(): Promise<void> {
  const open = (await listAll().catch(() => [])).filter((p) => !FINAL.has(p.status) && p.status !== 'awaiting_review');
  if (open.length === 0) return;
  const victim = pick(open);
  const res = await call('POST', `/v1/productions/${victim.id}/cancel`);
  if (res.status === 200) {
    counts.cancels++;
    log(`canceled ${victim.id.slice(0, 8)} (was ${victim.status})`);
  }
}

async function killWorker(): Promise<void> {
  const slot = random() < 0.5 ? 0 : 1;
  const worker = workers[slot];
  if (!worker) return;
  workers[slot] = undefined;
  process.kill(worker.pid, 'SIGKILL'); // the worker alone: its FFmpeg children must not outlive it
  counts.workerKills++;
  log(`SIGKILL worker ${slot} (pid ${worker.pid})`);
  await worker.exited;
  await new Promise((r) => setTimeout(r, between(1_000, 5_000)));
  if (!stopping) await startWorker(slot);
}

async function terminateBackends(): Promise<void> {
  const result = await admin.query<{ n: string }>(
    'SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [dbName],
  );
  counts.dbTerminations++;
  counts.backendsTerminated += Number(result.rows[0]?.n ?? 0);
  log(`terminated ${result.rows[0]?.n} database backends`);
}

/** Fires `action` at random intervals between lo and hi seconds until the soak stops creating. */
function every(lo: number, hi: number, action: () => Promise<void>, until: () => boolean): Promise<void> {
  return (async () => {
    for (;;) {
      await new Promise((r) => setTimeout(r, between(lo, hi) * 1000));
      if (until()) return;
      await action().catch((error: unknown) => violations.push(`fault injection failed: ${String(error)}`));
    }
  })();
}

/** FFmpeg processes started by this soak (their arguments name its data directory). */
const soakFfmpeg = (): number[] => processes().filter((p) => p.comm.startsWith('ffmpeg') && p.cmdline.includes(dataDir)).map((p) => p.pid);

const started = Date.now();
let exitCode: number;
try {
  await startApi();
  await Promise.all([startWorker(0), startWorker(1)]);
  log(`soak for ${minutes} min on database ${dbName}, data in ${dataDir}`);
  const endAt = started + minutes * 60_000;
  const done = (): boolean => Date.now() >= endAt;
  const faults = [every(20, 40, cancelOne, done), every(45, 90, killWorker, done), every(40, 80, terminateBackends, done)];
  while (!done()) {
    const open = (await listAll().catch(() => [])).filter((p) => !FINAL.has(p.status)).length;
    if (open < 4) await createOne();
    await new Promise((r) => setTimeout(r, 1_000));
  }
  await Promise.all(faults);
  for (let slot = 0; slot < workers.length; slot++) if (!workers[slot]) await startWorker(slot);
  log(`created ${counts.created}; waiting for every production to finish`);
  const rows = await pollUntil(
    'every production to be final',
    async () => {
      const all = await listAll().catch(() => undefined);
      const open = all?.filter((p) => !FINAL.has(p.status)) ?? [];
      if (open.length > 0 && Date.now() % 30_000 < 2_000) log(`${open.length} unfinished: ${open.map((p) => `${p.id.slice(0, 8)} ${p.status}`).join(', ')}`);
      return all && open.length === 0 ? all : undefined;
    },
    15 * 60_000,
    2_000,
  ).catch(async (error: unknown) => {
    violations.push(String(error));
    return listAll();
  });

  // Consistency of every production, read through the API as a client would.
  for (const p of rows) {
    if (!FINAL.has(p.status)) violations.push(`${p.id} ended the soak ${p.status}`);
    if (p.status === 'succeeded') {
      if (!p.outputs.some((o) => o.name === 'video.mp4')) violations.push(`${p.id} succeeded without video.mp4`);
      for (const o of p.outputs) {
        const res = await fetch(`${api}${o.url}`, { headers: { ...auth, range: 'bytes=0-0' }, redirect: 'manual' });
        await res.arrayBuffer();
        const total = Number(res.headers.get('content-range')?.split('/')[1]);
        if (res.status !== 206 || total !== o.bytes) violations.push(`${p.id}/${o.name}: ${res.status}, stored ${total} bytes, recorded ${o.bytes}`);
      }
    }
    if (p.status === 'canceled' && p.outputs.length > 0) violations.push(`${p.id} canceled but has ${p.outputs.length} outputs`);
    if (p.status === 'failed' && !p.error) violations.push(`${p.id} failed without an error`);
  }
  const by = (status: string): number => rows.filter((p) => p.status === status).length;
  const failures = rows.filter((p) => p.status === 'failed').map((p) => JSON.stringify(p.error));

  stopping = true;
  for (const child of [apiProcess, ...workers]) child?.child.kill('SIGTERM');
  await Promise.all([apiProcess, ...workers].map((c) => c?.exitWithin(30_000)));
  const leftFfmpeg = await pollUntil('FFmpeg started by the soak to exit', () => (soakFfmpeg().length === 0 ? true : undefined), 10_000, 200).catch(() => soakFfmpeg());
  if (Array.isArray(leftFfmpeg)) violations.push(`FFmpeg processes left: ${leftFfmpeg.join(', ')}`);
  const tmp = join(dataDir, 'tmp');
  const leftTmp = existsSync(tmp) ? readdirSync(tmp).filter((name) => name.startsWith('render-')) : [];
  if (leftTmp.length > 0) violations.push(`render temp directories left: ${leftTmp.join(', ')}`);
  const cache = new StageCache(cacheDir);
  const audit = await cache.verify();
  for (const bad of audit.damaged) violations.push(`cache unit ${bad.stage}/${bad.key}: ${bad.reason}`);
  const cacheLeft = ['.tmp', '.locks'].flatMap((dir) => (existsSync(join(cacheDir, dir)) ? readdirSync(join(cacheDir, dir)) : []));
  if (cacheLeft.length > 0) violations.push(`cache temp directories or locks left: ${cacheLeft.join(', ')}`);

  // Mixes that missed the loudness target (QA fails those productions, as it should): what the mix measured.
  const offTarget = (existsSync(join(cacheDir, 'mix')) ? readdirSync(join(cacheDir, 'mix')) : []).flatMap((key) => {
    try {
      // A failed QA invalidates the mix it used by renaming its manifest aside: read those too.
      const file = ['manifest.json', 'manifest.invalid.json'].map((name) => join(cacheDir, 'mix', key, name)).find((path) => existsSync(path));
      if (!file) return [];
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { value: { loudness: Record<string, number | string> } };
      const l = manifest.value.loudness;
      return Math.abs(Number(l.encodedLufs) - -14) > 1 ? [`${key.slice(0, 8)}${file.endsWith('invalid.json') ? ' (invalidated)' : ''}: ${JSON.stringify(l)}`] : [];
    } catch {
      return [];
    }
  });
  const summary = [
    `Soak, ${minutes} min (seed ${flags.seed}): API + 2 workers (WORKER_CONCURRENCY=2) on PostgreSQL, one shared cache.`,
    '',
    '| | count |',
    '| --- | --- |',
    `| productions created | ${counts.created} |`,
    `| succeeded / failed / canceled | ${by('succeeded')} / ${by('failed')} / ${by('canceled')} |`,
    `| cancels sent | ${counts.cancels} |`,
    `| worker SIGKILLs | ${counts.workerKills} |`,
    `| database terminations (backends) | ${counts.dbTerminations} (${counts.backendsTerminated}) |`,
    `| API / worker crashes | ${counts.apiDeaths} / ${counts.workerDeaths} |`,
    `| client requests that got no answer | ${counts.requestErrors} |`,
    `| cache units verified / damaged | ${audit.units} / ${audit.damaged.length} |`,
    `| FFmpeg left / temp dirs left | ${Array.isArray(leftFfmpeg) ? leftFfmpeg.length : 0} / ${leftTmp.length} |`,
    `| violations | ${violations.length} |`,
    '',
    ...(failures.length > 0 ? ['Failed productions:', ...failures.map((f) => `- ${f}`), ''] : []),
    ...(offTarget.length > 0 ? ['Mixes off the -14 LUFS target by more than 1 LU (the mix unit\'s own measurement):', ...offTarget.map((m) => `- ${m}`), ''] : []),
  ].join('\n');
  console.log(`\n${summary}`);
  for (const v of violations) console.log(`VIOLATION: ${v}`);
  if (flags.record) recordBenchmark('soak', `npm run soak -- --minutes ${minutes} --seed ${flags.seed}`, summary);
  exitCode = violations.length === 0 ? 0 : 1;
} finally {
  stopping = true;
  await killAll();
  await admin.end().catch(() => undefined);
  await db.drop().catch(() => undefined);
  if (flags.keep) console.log(`data directory kept: ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
