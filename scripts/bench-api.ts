/**
 * `npm run bench:api [-- --requests N --connections N --api-processes N --renders N --no-render --record]`:
 * the HTTP API under load (one API process as the baseline, then N — default one per core — under
 * `aiprod serve --api-processes N`), the same loads with a render in progress, and render throughput
 * with one and with two worker processes.
 *
 * The service runs in child processes (`aiprod serve --role api`, `aiprod worker`, from the build in
 * dist/), so autocannon
 * does not take the server's CPU, each time on a fresh PostgreSQL database made for the run on the
 * server of BENCH_DATABASE_URL or TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 * BENCH_NODE_ARGS adds node flags to the service processes (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 *   A. N × POST /v1/productions (distinct prompts and Idempotency-Keys), no worker, so jobs stay queued;
 *   B. N × GET /v1/productions/:id over the ids A got back;
 *   A′, B′. the same through the original API's routes (POST /pipeline/run with preset quick_social,
 *      GET /pipeline/job/:id), side by side with A and B on the same server: what the translation costs;
 *      then every 202 (and every /pipeline/run 200) must have its production row and its pg-boss render job;
 *   (A and B run first with one API process, the baseline, when N > 1.)
 *   D. N × POST and N × GET while a 60 s 1080p render runs under the same `aiprod serve --role all`;
 *   C. (not with --no-render) productions per minute for 10 s 720p prompt briefs, cold cache, with one
 *      and then two `aiprod worker` processes (WORKER_CONCURRENCY=1 each), from first submit to last done.
 * Prints a Markdown summary for docs/benchmarks.md (written there with --record). Exits 1 when a
 * production was lost or a request failed. Children are stopped and databases dropped on every exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, constants, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { JOBS } from '../src/queue/catalog.js';
import { builtCli } from './bench/cli.js';
import { recordBenchmark } from './bench/record.js';

/** The part of autocannon 9's programmatic API used here (the package ships no types). */
interface CannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: CannonRequest) => CannonRequest;
  onResponse?: (status: number, body: string, context: object, headers: Record<string, string | string[]>) => void;
}
interface CannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  latency: { p50: number; p99: number; max: number };
  requests: { total: number };
  statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (options: { url: string; connections: number; amount: number; headers: Record<string, string>; requests: CannonRequest[] }) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '6000' },
    connections: { type: 'string', default: '100' },
    renders: { type: 'string', default: '6' },
    'api-processes': { type: 'string', default: String(availableParallelism()) },
    'no-render': { type: 'boolean', default: false },
    record: { type: 'boolean', default: false },
  },
});
function positive(name: string, text: string): number {
  const n = Number(text);
  if (Number.isInteger(n) && n > 0) return n;
  console.error(`--${name} must be a positive integer, not ${text}`);
  process.exit(2);
}
const requests = positive('requests', flags.requests);
const connections = positive('connections', flags.connections);
const renders = positive('renders', flags.renders);
const apiProcesses = positive('api-processes', flags['api-processes']);
if (connections > requests) {
  console.error(`--connections (${connections}) cannot exceed --requests (${requests})`);
  process.exit(2);
}

const ROOT = join(import.meta.dirname, '..');
const BASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const LOG_LEVEL = process.env.LOG_LEVEL ?? 'info';
/** pg-boss's schema: the service starts its queue without one, so PgBossQueue's default. */
const QUEUE_SCHEMA = 'pgboss';
const work = mkdtempSync(join(tmpdir(), 'aiprod-bench-api-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The service as users run it: the build in dist/ (made now if src/ changed). */
const cli = builtCli();

// ── clean-up: every child and database registers its undo; signals run them too ────────────────
const cleanups: (() => Promise<void>)[] = [async () => rmSync(work, { recursive: true, force: true })];
const undoing = new Set<Promise<void>>();
let stopping = false;
async function unwindTo(mark: number): Promise<void> {
  while (cleanups.length > mark) {
    const undo = (cleanups.pop() as () => Promise<void>)().catch((error: unknown) => console.error(`clean-up: ${(error as Error).message}`));
    undoing.add(undo);
    await undo;
    undoing.delete(undo);
  }
}
/** Runs `body`, then undoes whatever it started (children, databases), also when it throws. */
async function scoped<T>(body: () => Promise<T>): Promise<T> {
  const mark = cleanups.length;
  try {
    return await body();
  } finally {
    await unwindTo(mark);
  }
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  // Children run in their own process groups and miss the terminal's signal: stop them before leaving.
  process.on(signal, () => {
    if (stopping) return void console.error('still stopping the service…');
    stopping = true;
    console.error(`\n${signal}: stopping the service and dropping the databases…`);
    void unwindTo(0)
      .then(() => Promise.all(undoing)) // clean-ups the interrupted run had already begun
      .finally(() => process.exit(128 + constants.signals[signal]));
  });
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: BASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function freshDatabase(): Promise<string> {
  const name = `aiprod_bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  cleanups.push(() => adminQuery(`drop database if exists ${name} with (force)`));
  const url = new URL(BASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

// ── child processes: each in its own process group, so FFmpeg grandchildren go with it ──────────
interface Child {
  name: string;
  process: ChildProcess;
  log: string;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    signalGroup(child, 'SIGTERM');
    const force = setTimeout(() => signalGroup(child, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(force);
  }
  signalGroup(child, 'SIGKILL'); // whatever a stopped worker left behind
}

function startChild(name: string, args: string[], env: Record<string, string>): Child {
  if (stopping) throw new Error('interrupted');
  const log = join(work, `${name}.log`);
  const fd = openSync(log, 'a');
  // BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the service processes.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, ...cli, ...args], {
    cwd: ROOT, env: { ...process.env, LOG_LEVEL, ...env }, stdio: ['ignore', fd, fd], detached: true,
  });
  closeSync(fd);
  cleanups.push(() => stopChild(child));
  return { name, process: child, log };
}

const tail = (child: Child): string => readFileSync(child.log, 'utf8').split('\n').slice(-15).join('\n');

/** Waits for `pattern` in the child's output (read from its log file, so the bench parses nothing under load). */
async function waitForLog(child: Child, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(readFileSync(child.log, 'utf8'));
    if (match) return match;
    if (child.process.exitCode !== null || child.process.signalCode !== null) throw new Error(`${child.name} exited before it was ready:\n${tail(child)}`);
    if (Date.now() > deadline) throw new Error(`${child.name} not ready after ${timeoutMs / 1000} s:\n${tail(child)}`);
    await sleep(100);
  }
}

interface Api {
  url: string;
  pid: number;
  headers: Record<string, string>;
  env: Record<string, string>;
}

/**
 * `aiprod serve --role api --api-processes N` on a fresh database and data directory, ready; no
 * worker yet (with `role: 'all'`, a render worker process under the same primary).
 */
async function startApi(name: string, options: { processes?: number; role?: 'api' | 'all' } = {}): Promise<Api> {
  const databaseUrl = await freshDatabase();
  const dataDir = join(work, name);
  mkdirSync(dataDir);
  const key = `aiprod_${randomBytes(6).toString('hex')}_${randomBytes(24).toString('base64url')}`;
  const env = {
    DATABASE_URL: databaseUrl, ADMIN_API_KEY: key, AIPROD_DATA_DIR: dataDir, AIPROD_CACHE_DIR: join(dataDir, 'cache'),
    // Secrets at rest need a master key with PostgreSQL; the load itself must not meet the per-tenant
    // limit of ordinary requests (the operator's tenant is enterprise, so creations are unlimited).
    AIPROD_MASTER_KEY: randomBytes(32).toString('base64'), RATE_LIMIT_GENERAL_PER_MIN: '0',
    STORAGE_URL: '', HOST: '127.0.0.1', WORKER_CONCURRENCY: '1', SHUTDOWN_GRACE_SEC: '0',
  };
  const child = startChild(`${name}-api`, ['serve', '--role', options.role ?? 'api', '--port', '0', '--api-processes', String(options.processes ?? 1)], env);
  // Several processes each loading the code take a while on a busy machine.
  const url = (await waitForLog(child, /listening on (http:\/\/\S+)/, 180_000))[1] as string;
  for (const deadline = Date.now() + 60_000; ; await sleep(200)) {
    const ready = await fetch(`${url}/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`${url}/ready did not answer 200 within 60 s:\n${tail(child)}`);
  }
  return { url, pid: child.process.pid as number, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, env };
}

/** A small valid brief; `tag` keeps prompts (and so plans and renders) distinct. */
const shortBrief = (tag: string, seed: number): Record<string, unknown> => ({
  prompt: `A 10-second teaser for Lumen ${tag}, a desk lamp that follows the sun`,
  resolution: '720p',
  targetDurationSec: 10,
  seed,
});

async function submit(api: Api, brief: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${api.url}/v1/productions`, { method: 'POST', headers: api.headers, body: JSON.stringify(brief) });
  if (res.status !== 202) throw new Error(`POST /v1/productions answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

// ── A and B: load on the API ─────────────────────────────────────────────────────────────────────
interface Load {
  label: string;
  result: CannonResult;
  /** From the start to the last response: autocannon's own duration with `amount` runs to its next 1 s tick. */
  seconds: number;
  /** CPU seconds the API process used meanwhile. */
  apiCpuSec: number;
  firstError?: string;
}

const ms = (v: number): string => `${v.toFixed(0)} ms`;

/** A process's parent and CPU seconds (user + system) so far, from /proc (Linux; undefined elsewhere). */
function procStat(pid: number | string): { ppid: number; cpuSec: number } | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return { ppid: Number(fields[1]), cpuSec: (Number(fields[11]) + Number(fields[12])) / 100 }; // utime, stime in ticks of 1/100 s
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds the API has used so far: the process and, in a cluster, its API children (a render
 * worker child, in `--role all`, is left out: its CPU is the render's, not the API's).
 */
function cpuSeconds(pid: number): number {
  let total = procStat(pid)?.cpuSec ?? 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat?.ppid !== pid) continue;
    const environ = (() => {
      try {
        return readFileSync(`/proc/${entry}/environ`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (!environ.includes('AIPROD_CLUSTER_ROLE=worker')) total += stat.cpuSec;
  }
  return total;
}
const busy = (load: Load): string => `${((100 * load.apiCpuSec) / load.seconds).toFixed(0)} %`;
const rate = (load: Load): string => (load.result.requests.total / load.seconds).toFixed(0);
function report(load: Load): void {
  const r = load.result;
  const codes = Object.entries(r.statusCodeStats).map(([code, s]) => `${code} × ${s.count}`).join(', ');
  console.log(
    `${load.label}: ${r.requests.total} responses in ${load.seconds.toFixed(2)} s — ${rate(load)} req/s, ` +
      `p50 ${ms(r.latency.p50)}, p99 ${ms(r.latency.p99)}, max ${ms(r.latency.max)}, non-2xx ${r.non2xx}, errors ${r.errors} (timeouts ${r.timeouts}); ${codes}; ` +
      `API process CPU ${load.apiCpuSec.toFixed(1)} s (${busy(load)} of one core)`,
  );
  if (load.firstError) console.log(`  first non-2xx: ${load.firstError}`);
}

/** One POST and one GET before measuring: one-time start-up work (JIT, pool connections, voice list) is not load. */
async function warmUp(api: Api): Promise<{ id: string; postMs: number; getMs: number }> {
  const started = performance.now();
  const id = await submit(api, shortBrief('warm-up', 0));
  const posted = performance.now();
  const res = await fetch(`${api.url}/v1/productions/${id}`, { headers: api.headers });
  if (!res.ok) throw new Error(`GET /v1/productions/${id} answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  return { id, postMs: posted - started, getMs: performance.now() - posted };
}

/** The two APIs a load can go through: v1, or the original API's routes over it. */
type Flavour = 'v1' | 'original';

/** The original API's request for the same brief: a prompt of one paragraph, 10 s, the quick_social preset. */
const originalRequest = (tag: string): Record<string, unknown> => ({
  content: `A 10-second teaser for Lumen ${tag}, a desk lamp that follows the sun`,
  duration_sec: 10,
  preset: 'quick_social',
  lang: 'en',
  priority: 'low',
  mood: 'calm',
  brand_id: 'bench',
});

async function createLoad(api: Api, flavour: Flavour = 'v1'): Promise<Load & { ids: string[]; replayed: number }> {
  const run = randomBytes(3).toString('hex');
  const ids: string[] = [];
  let next = 0;
  let replayed = 0;
  let firstError: string | undefined;
  const cpu = cpuSeconds(api.pid);
  const started = performance.now();
  let last = started;
  const result = await autocannon({
    url: api.url, connections, amount: requests, headers: api.headers,
    requests: [{
      method: 'POST',
      path: flavour === 'v1' ? '/v1/productions' : '/pipeline/run',
      setupRequest: (request) => {
        const i = next++;
        const body = flavour === 'v1' ? shortBrief(`${run}-${i}`, i) : originalRequest(`${run}-${i}`);
        return { ...request, headers: { ...request.headers, 'idempotency-key': `bench-${run}-${i}` }, body: JSON.stringify(body) };
      },
      onResponse: (status, body, _context, headers) => {
        last = performance.now();
        if (flavour === 'v1' && status === 202) ids.push((JSON.parse(body) as { id: string }).id);
        else if (flavour === 'original' && status === 200) ids.push((JSON.parse(body) as { job_id: string }).job_id);
        else firstError ??= `${status} ${body.slice(0, 300)}`;
        if (headers['idempotent-replayed']) replayed++;
      },
    }],
  });
  return { label: flavour === 'v1' ? 'POST /v1/productions' : 'POST /pipeline/run', result, seconds: (last - started) / 1000, apiCpuSec: cpuSeconds(api.pid) - cpu, firstError, ids, replayed };
}

async function readLoad(api: Api, ids: string[], flavour: Flavour = 'v1'): Promise<Load> {
  let next = 0;
  let firstError: string | undefined;
  const cpu = cpuSeconds(api.pid);
  const started = performance.now();
  let last = started;
  const result = await autocannon({
    url: api.url, connections, amount: requests, headers: api.headers,
    requests: [{
      method: 'GET',
      setupRequest: (request) => ({ ...request, path: `${flavour === 'v1' ? '/v1/productions' : '/pipeline/job'}/${ids[next++ % ids.length]}` }),
      onResponse: (status, body) => {
        last = performance.now();
        if (status !== 200) firstError ??= `${status} ${body.slice(0, 300)}`;
      },
    }],
  });
  return { label: flavour === 'v1' ? 'GET /v1/productions/:id' : 'GET /pipeline/job/:id', result, seconds: (last - started) / 1000, apiCpuSec: cpuSeconds(api.pid) - cpu, firstError };
}

/** Accepted ids without their production row or without exactly one render job, and rows nobody was told about. */
async function verify(databaseUrl: string, ids: string[]): Promise<{ noRow: string[]; noJob: string[]; extraJobs: string[]; unanswered: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const rows = await client.query<{ id: string }>('select id from productions');
    const jobs = await client.query<{ id: string; n: number }>(
      `select data->>'productionId' as id, count(*)::int as n from ${QUEUE_SCHEMA}.job where name = $1 group by 1`,
      [JOBS.render.queue],
    );
    const haveRow = new Set(rows.rows.map((r) => r.id));
    const jobCount = new Map(jobs.rows.map((r) => [r.id, r.n]));
    const accepted = new Set(ids);
    return {
      noRow: ids.filter((id) => !haveRow.has(id)),
      noJob: ids.filter((id) => !jobCount.has(id)),
      extraJobs: ids.filter((id) => (jobCount.get(id) ?? 0) > 1),
      unanswered: rows.rows.filter((r) => !accepted.has(r.id)).length,
    };
  } finally {
    await client.end();
  }
}

// ── C: render throughput ─────────────────────────────────────────────────────────────────────────
interface Throughput {
  workers: number;
  seconds: number;
  perMinute: number;
  medianRenderSec: number;
}

interface ProductionView {
  status: string;
  error: { code: string; message: string } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

async function renderThroughput(workers: number): Promise<Throughput> {
  const api = await startApi(`render-${workers}w`);
  for (let w = 1; w <= workers; w++) {
    // The API applied the migrations; workers that also did would race each other.
    await waitForLog(startChild(`render-${workers}w-worker${w}`, ['worker', '--no-migrate'], api.env), /worker started/);
  }
  const tag = randomBytes(3).toString('hex');
  const ids = await Promise.all(Array.from({ length: renders }, (_, i) => submit(api, shortBrief(`${tag}-${i}`, i + 1))));
  const done = new Map<string, ProductionView>();
  const deadline = Date.now() + renders * 300_000;
  while (done.size < ids.length) {
    for (const id of ids.filter((i) => !done.has(i))) {
      const p = (await (await fetch(`${api.url}/v1/productions/${id}`, { headers: api.headers })).json()) as ProductionView;
      if (p.status === 'succeeded') done.set(id, p);
      else if (p.status === 'failed' || p.status === 'canceled') throw new Error(`production ${id} ${p.status}: ${p.error?.code}: ${p.error?.message}`);
    }
    if (Date.now() > deadline) throw new Error(`${ids.length - done.size} of ${ids.length} productions not done after ${renders * 5} minutes`);
    if (done.size < ids.length) await sleep(500);
  }
  // The server's own timestamps: first accepted → last finished, free of this loop's polling interval.
  const views = [...done.values()];
  const seconds = (Math.max(...views.map((p) => Date.parse(p.finishedAt ?? ''))) - Math.min(...views.map((p) => Date.parse(p.createdAt)))) / 1000;
  const each = views.map((p) => (Date.parse(p.finishedAt ?? '') - Date.parse(p.startedAt ?? '')) / 1000).sort((a, b) => a - b);
  const medianRenderSec = each.length % 2 ? (each[(each.length - 1) / 2] ?? 0) : ((each[each.length / 2 - 1] ?? 0) + (each[each.length / 2] ?? 0)) / 2;
  return { workers, seconds, perMinute: (renders * 60) / seconds, medianRenderSec };
}

// ── the run ──────────────────────────────────────────────────────────────────────────────────────
const failures: string[] = [];
try {
  const pgVersion = await (async () => {
    const client = new pg.Client({ connectionString: BASE_URL });
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('show server_version');
    await client.end();
    return rows[0]?.server_version ?? '?';
  })();
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}; Node ${process.version}; PostgreSQL ${pgVersion}`;
  console.log(`Machine: ${machine}\nWork directory (logs): ${work}\n`);

  // A and B with one API process (the baseline), then A, B, A′ and B′ with N processes sharing the port.
  const baseline = apiProcesses > 1 ? await scoped(async () => {
    const server = await startApi('load-1', { processes: 1 });
    await warmUp(server);
    console.log(`A (baseline). ${requests} × POST /v1/productions, one API process…`);
    const create = await createLoad(server);
    report(create);
    console.log(`B (baseline). ${requests} × GET /v1/productions/:id, one API process…`);
    const read = create.ids.length > 0 ? await readLoad(server, create.ids) : undefined;
    if (read) report(read);
    const check = await verify(server.env.DATABASE_URL as string, create.ids);
    return { create, read, lost: new Set([...check.noRow, ...check.noJob]).size };
  }) : undefined;

  const { create, read, original, originalRead, check } = await scoped(async () => {
    const server = await startApi('load', { processes: apiProcesses });
    const warm = await warmUp(server);
    console.log(`Warm-up, not counted: the first POST took ${ms(warm.postMs)}, the first GET ${ms(warm.getMs)}.`);
    console.log(`A. ${requests} × POST /v1/productions at ${connections} connections against ${server.url} (${apiProcesses} API process(es), no worker)…`);
    const create = await createLoad(server);
    report(create);
    console.log(`B. ${requests} × GET /v1/productions/:id over ${create.ids.length} ids at ${connections} connections…`);
    const read = create.ids.length > 0 ? await readLoad(server, create.ids) : undefined;
    if (read) report(read);
    console.log(`A′. ${requests} × POST /pipeline/run (the original API, quick_social) at ${connections} connections…`);
    const original = await createLoad(server, 'original');
    report(original);
    console.log(`B′. ${requests} × GET /pipeline/job/:id over ${original.ids.length} ids…`);
    const originalRead = original.ids.length > 0 ? await readLoad(server, original.ids, 'original') : undefined;
    if (originalRead) report(originalRead);
    const check = await verify(server.env.DATABASE_URL as string, [warm.id, ...create.ids, ...original.ids]);
    return { create, read, original, originalRead, check };
  });

  // D. The same loads while a render runs under the same `aiprod serve --role all`.
  const duringRender = await scoped(async () => {
    const server = await startApi('render-load', { processes: apiProcesses, role: 'all' });
    await warmUp(server);
    const long = await submit(server, { prompt: 'A one-minute tour of a solar-powered night market, stall by stall', resolution: '1080p', targetDurationSec: 60, seed: 7 });
    const status = async (): Promise<string> => ((await (await fetch(`${server.url}/v1/productions/${long}`, { headers: server.headers })).json()) as ProductionView).status;
    for (const deadline = Date.now() + 120_000; ; await sleep(200)) {
      const now = await status();
      if (['rendering', 'mixing', 'composing'].includes(now)) break;
      if (now === 'succeeded' || now === 'failed' || Date.now() > deadline) throw new Error(`the render for phase D did not reach rendering (status ${now})`);
    }
    console.log(`\nD. ${requests} × POST and ${requests} × GET with a 60 s 1080p render in progress (aiprod serve --role all, ${apiProcesses} API process(es) and a worker)…`);
    const create = await createLoad(server);
    create.label = 'POST /v1/productions (render in progress)';
    report(create);
    const read = await readLoad(server, create.ids);
    read.label = 'GET /v1/productions/:id (render in progress)';
    report(read);
    const after = await status();
    console.log(`  the render was ${after === 'succeeded' ? 'done before the loads ended' : `still ${after} when they ended`}`);
    return { create, read, overlapped: after !== 'succeeded' && after !== 'failed', renderStatus: after };
  });
  const lost = new Set([...check.noRow, ...check.noJob]);
  const p99 = create.result.latency.p99;
  const getP99 = read?.result.latency.p99 ?? Infinity;
  const renderP99 = Math.max(duringRender.create.result.latency.p99, duringRender.read.result.latency.p99);
  console.log(`\nVerified ${create.ids.length + original.ids.length + 1} accepted productions (with the warm-up's; ${create.replayed + original.replayed} idempotent replays): lost = ${lost.size}` +
    (lost.size ? ` — without row: ${check.noRow.join(', ') || 'none'}; without render job: ${check.noJob.join(', ') || 'none'}` : ''));
  if (check.extraJobs.length) console.log(`  more than one render job: ${check.extraJobs.join(', ')}`);
  if (check.unanswered) console.log(`  ${check.unanswered} production rows exist whose 202 never reached the client`);
  console.log(`POST p99 ${ms(p99)}: target < 100 ms ${p99 < 100 ? 'MET' : 'MISSED'}; GET p99 ${ms(getP99)}: target < 100 ms ${getP99 < 100 ? 'MET' : 'MISSED'}; ` +
    `p99 with a render in progress ${ms(renderP99)}: target < 150 ms ${renderP99 < 150 ? 'MET' : 'MISSED'}`);
  if (lost.size) failures.push(`${lost.size} accepted productions lost`);
  if (baseline?.lost) failures.push(`${baseline.lost} accepted productions lost (one-process baseline)`);
  if (new Set(create.ids).size !== create.ids.length - create.replayed) failures.push('duplicate ids among the 202 answers');
  for (const load of [create, read, original, originalRead, baseline?.create, baseline?.read, duringRender.create, duringRender.read]) {
    if (!load) continue;
    if (load.result.non2xx || load.result.errors) failures.push(`${load.label}: ${load.result.non2xx} non-2xx, ${load.result.errors} errors`);
  }
  if (!read) failures.push('no production was created, so GET was not measured');

  const throughput: Throughput[] = [];
  if (!flags['no-render']) {
    for (const workers of [1, 2]) {
      console.log(`\nC. ${renders} × 10 s 720p productions with ${workers} worker process${workers > 1 ? 'es' : ''} (WORKER_CONCURRENCY=1, cold cache)…`);
      try {
        const t = await scoped(() => renderThroughput(workers));
        console.log(`  ${t.seconds.toFixed(1)} s from first submit to last succeeded: ${t.perMinute.toFixed(2)} productions/minute (median render ${t.medianRenderSec.toFixed(1)} s)`);
        throughput.push(t);
      } catch (error) {
        if (stopping) throw error;
        failures.push(`render throughput with ${workers} worker(s): ${(error as Error).message}`); // keep A and B's summary
        break;
      }
    }
  }

  const row = (load: Load, what: string): string => {
    const r = load.result;
    return `| ${what} | ${r.requests.total} | ${rate(load)} | ${ms(r.latency.p50)} | ${ms(r.latency.p99)} | ${r.non2xx} | ${r.errors} | ${busy(load)} |`;
  };
  const n = `${apiProcesses} API process${apiProcesses > 1 ? 'es' : ''}`;
  const lines = [
    `Machine: ${machine}. The API is \`aiprod serve --role api --api-processes N\` (LOG_LEVEL=${LOG_LEVEL}) with no worker, so every job stays queued; all security layers and tier quotas on; autocannon runs in another process, ${connections} connections. CPU is the API processes' together (the primary's included).`,
    '',
    '| what | requests | req/s | p50 | p99 | non-2xx | errors | API processes CPU (one core = 100 %) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...(baseline ? [row(baseline.create, '`POST /v1/productions`, 1 API process (baseline)')] : []),
    ...(baseline?.read ? [row(baseline.read, '`GET /v1/productions/:id`, 1 API process (baseline)')] : []),
    row(create, `\`POST /v1/productions\` (distinct prompts and Idempotency-Keys), ${n}`),
    ...(read ? [row(read, `\`GET /v1/productions/:id\` (the ids just created), ${n}`)] : []),
    row(original, `\`POST /pipeline/run\` (the original API: the same briefs as \`content\`, preset quick_social, mood and brand_id extras), ${n}`),
    ...(originalRead ? [row(originalRead, `\`GET /pipeline/job/:id\` (the ids just created), ${n}`)] : []),
    row(duringRender.create, `\`POST /v1/productions\` with a 60 s 1080p render in progress (\`--role all\`, ${n} and a worker)`),
    row(duringRender.read, `\`GET /v1/productions/:id\` with the render in progress`),
    '',
    `Targets: POST p99 < 100 ms **${p99 < 100 ? 'met' : 'missed'}** (${ms(p99)}); ≥ 2,500 req/s **${create.result.requests.total / create.seconds >= 2500 ? 'met' : 'missed'}** (${rate(create)}); ` +
      `GET p99 < 100 ms **${getP99 < 100 ? 'met' : 'missed'}** (${ms(getP99)}); p99 < 150 ms with a render in progress **${renderP99 < 150 ? 'met' : 'missed'}** (${ms(renderP99)}; the render was ${duringRender.overlapped ? 'in progress throughout' : `${duringRender.renderStatus} before the loads ended`}). ` +
      `Lost productions (an accepted create without its row or its render job): **${lost.size}** of ${create.ids.length + original.ids.length}.`,
  ];
  if (throughput.length) {
    const one = throughput[0]?.perMinute ?? 0;
    lines.push(
      '',
      `| render throughput: ${renders} × 10 s 720p prompt briefs, offline providers, cold cache | first submit → last succeeded | productions/minute | median render |`,
      '| --- | --- | --- | --- |',
      ...throughput.map((t) => `| ${t.workers} worker process${t.workers > 1 ? 'es' : ''} (WORKER_CONCURRENCY=1${t.workers > 1 ? ' each' : ''}) | ${t.seconds.toFixed(1)} s | ${t.perMinute.toFixed(2)}${t.workers > 1 ? ` (${(t.perMinute / one).toFixed(2)}×)` : ''} | ${t.medianRenderSec.toFixed(1)} s |`),
    );
  }
  console.log(`\n${lines.join('\n')}`);
  if (flags.record) recordBenchmark('api', `npm run bench:api${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`, lines.join('\n'));
} catch (error) {
  failures.push((error as Error).message);
} finally {
  await unwindTo(0);
}
if (failures.length && !stopping) {
  console.error(`\nbench:api FAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  process.exitCode = 1;
}
