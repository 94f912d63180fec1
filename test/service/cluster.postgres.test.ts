/**
 * `aiprod serve --api-processes N` on the real PostgreSQL: N API processes and a render worker under
 * one primary (main/cluster.ts). What must hold: the processes share one port, one set of rate
 * limits (without Redis) and one /metrics view; a render goes through the worker process; a child
 * that is killed is started again while the others keep answering; SIGTERM stops them all (exit 0);
 * a port in use or PGlite with N > 1 ends the start with exit 1 and a message naming the cause.
 * Skipped, with the reason, when TEST_DATABASE_URL is unset (CI sets it).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Production } from '../../src/contract/production.js';
import { freshPostgres, TEST_MASTER_KEY } from './harness.js';
import { killAll, pollUntil, processes, startCli, tempDir, type CliProcess } from './processes.js';

const base = process.env.TEST_DATABASE_URL;
const skip = base ? false : 'TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  await killAll();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function serviceEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const db = await freshPostgres(base as string);
  cleanups.push(db.drop);
  const dataDir = tempDir('cluster');
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  return {
    DATABASE_URL: db.url,
    AIPROD_DATA_DIR: dataDir,
    AIPROD_CACHE_DIR: join(dataDir, 'cache'),
    STORAGE_URL: '',
    ADMIN_API_KEY: '',
    REDIS_URL: '',
    API_PROCESSES: '',
    AIPROD_MASTER_KEY: TEST_MASTER_KEY,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: '1',
    ...extra,
  };
}

const childrenOf = (server: CliProcess): number[] => processes().filter((p) => p.ppid === server.pid && p.cmdline.includes('cli.ts')).map((p) => p.pid);

/** The sum of a counter's series matching `labels` in a Prometheus text exposition. */
function counter(text: string, name: string, labels: string): number {
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && line.includes(labels)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

test('serve --api-processes 2: one port, shared rate limits and metrics, a render, a restarted child, and a clean stop', { skip, timeout: 300_000 }, async () => {
  // General limit 8 a minute per key: across both processes together, not 8 each.
  const server = startCli(['serve', '--port', '0', '--api-processes', '2'], await serviceEnv({ RATE_LIMIT_GENERAL_PER_MIN: '8' }));
  const [, address] = await server.waitForStdout(/listening on (http:\/\/127\.0\.0\.1:\d+) \(docs: .*database: postgres\)/, 120_000);
  await server.waitForStdout(/2 API processes and 1 render worker process/, 5000);
  const key = /^ {2}(aiprod_\S+)$/m.exec(server.stdout())?.[1];
  assert.ok(key, server.output());
  assert.equal((server.stdout().match(/created an admin API key/g) ?? []).length, 1, 'one admin key, made by the primary');
  const children = childrenOf(server);
  assert.equal(children.length, 3, `two API processes and a worker under the primary: ${JSON.stringify(processes().filter((p) => p.ppid === server.pid))}`);
  const auth = { authorization: `Bearer ${key}` };

  // Twelve requests on fresh connections (the primary hands connections round-robin): exactly the
  // limit's eight pass, the rest are refused with the GCRA's Retry-After.
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await fetch(`${address}/v1/productions`, { headers: { ...auth, connection: 'close' } })).status);
  assert.deepEqual(statuses.filter((s) => s === 200).length, 8, `statuses: ${statuses.join(' ')}`);
  assert.deepEqual(statuses.slice(8), [429, 429, 429, 429]);

  // Any process answering /metrics shows every process's requests: two scrapes on fresh connections
  // (two processes) agree on all twelve.
  for (let i = 0; i < 2; i++) {
    const text = await (await fetch(`${address}/metrics`, { headers: { connection: 'close' } })).text();
    assert.equal(counter(text, 'aiprod_http_requests_total', 'route="/v1/productions"'), 12, text.slice(0, 2000));
    assert.equal(counter(text, 'aiprod_rate_limited_total', 'rule="general"'), 4);
    // Database metrics come from one process, not one copy each.
    assert.match(text, /^aiprod_workers_alive 1$/m);
    assert.match(text, /^aiprod_build_info\{version="[^"]+",role="api"\} 1$/m);
    assert.match(text, /^aiprod_build_info\{version="[^"]+",role="worker"\} 1$/m);
  }

  // A render goes through the worker process. Fresh key: the first one's limit is spent.
  await new Promise((resolve) => setTimeout(resolve, 8000)); // GCRA: one request back every 7.5 s
  const brief = { scenes: [{ narration: 'One process each.', durationSec: 2, visual: { type: 'gradient', colors: ['#1e3a8a', '#111827'] } }], resolution: '480p', fps: 24 };
  const created = await fetch(`${address}/v1/productions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify(brief) });
  assert.equal(created.status, 202, await created.clone().text());
  const { id } = (await created.json()) as { id: string };

  // Meanwhile an API process is killed: the primary starts another, and requests keep being answered.
  const apiChild = children[0]!;
  process.kill(apiChild, 'SIGKILL');
  await pollUntil('a new child in place of the killed one', () => {
    const now = childrenOf(server);
    return now.length === 3 && !now.includes(apiChild);
  }, 60_000, 100);

  const done = await pollUntil('the production to finish', async () => {
    const response = await fetch(`${address}/v1/productions/${id}`, { headers: { ...auth, connection: 'close' } });
    if (response.status === 429) return undefined;
    const production = (await response.json()) as Production;
    return production.status === 'succeeded' || production.status === 'failed' ? production : undefined;
  }, 180_000, 1000);
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));

  // SIGTERM to the primary: every child shuts down, the primary exits 0.
  const before = childrenOf(server);
  server.child.kill('SIGTERM');
  const exit = await server.exitWithin(60_000);
  assert.deepEqual(exit, { code: 0, signal: null }, server.output());
  for (const pid of before) assert.ok(!processes().some((p) => p.pid === pid), `child ${pid} is gone`);
});

test('serve --api-processes 2 on a port in use exits 1 and names the port', { skip, timeout: 120_000 }, async () => {
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const port = (blocker.address() as { port: number }).port;
  const server = startCli(['serve', '--port', String(port), '--api-processes', '2', '--role', 'api'], await serviceEnv());
  const exit = await server.exitWithin(90_000);
  assert.deepEqual(exit, { code: 1, signal: null }, server.output());
  assert.match(server.output(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
  assert.doesNotMatch(server.stdout(), /listening on/);
});

test('serve --api-processes 2 with PGlite is refused with the fix', { timeout: 60_000 }, async () => {
  const dataDir = tempDir('cluster-pglite');
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = startCli(['serve', '--port', '0', '--api-processes', '2'], { DATABASE_URL: '', AIPROD_DATA_DIR: dataDir, API_PROCESSES: '' });
  const exit = await server.exitWithin(45_000);
  assert.deepEqual(exit, { code: 1, signal: null }, server.output());
  assert.match(server.output(), /--api-processes 2 needs PostgreSQL \(set DATABASE_URL\)/);
  const bad = startCli(['serve', '--api-processes', 'many'], { DATABASE_URL: '', AIPROD_DATA_DIR: dataDir });
  assert.deepEqual(await bad.exitWithin(45_000), { code: 1, signal: null });
  assert.match(bad.output(), /--api-processes must be a whole number from 1 to 64, not many/);
});
