/**
 * `aiprod serve --api-processes N`: N HTTP API processes on one port (node:cluster), plus, for
 * `--role all`, one render-worker process, under a primary that does only three things:
 *
 *  - prepares the database once (migrations, operator tenant, the first admin key) before any child
 *    starts, so N processes never race to migrate or to mint N admin keys;
 *  - keeps the machine's rate-limit store when there is no Redis (security/rate-limit.cluster.ts),
 *    so N processes admit each limit once, not N times;
 *  - answers /metrics with one view of every process (prom-client's AggregatorRegistry): counters and
 *    histograms add up, gauges follow their `aggregator`, and the database-derived metrics are
 *    registered in one process only (API process 0) so they are not counted N times.
 *
 * It also supervises: a child that dies after start is started again (at most RESTART_LIMIT times in
 * RESTART_WINDOW_MS per slot, then the whole service stops with exit 1 — a crash loop is a failure an
 * orchestrator should see); a child that fails while starting (a port in use, a bad database URL)
 * ends the service with exit 1; SIGTERM/SIGINT are passed on, and the primary exits when every
 * child has shut down (renders get SHUTDOWN_GRACE_SEC, as in one process).
 *
 * The render worker runs in a process of its own so that a render's CPU-bound work never holds an
 * API process's event loop.
 */
import cluster, { type Worker } from 'node:cluster';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Env } from '../config/env.js';
import { AppError } from '../contract/errors.js';
import { openDatabase } from '../db/database.js';
import { loadMasterKeys } from '../security/config.js';
import { answerRateLimitHit } from '../security/rate-limit.cluster.js';
import { MemoryRateLimitStore } from '../security/rate-limit.js';
import { prepareDatabase } from './service.js';

export type ChildRole = 'api' | 'worker';

const ROLE_VAR = 'AIPROD_CLUSTER_ROLE';
const INDEX_VAR = 'AIPROD_CLUSTER_INDEX';
const READY = 'aiprod:child-ready';
const METRICS_REQUEST = 'aiprod:metrics-request';
const METRICS_RESULT = 'aiprod:metrics-result';
const RESTART_LIMIT = 5;
const RESTART_WINDOW_MS = 60_000;

/** This process's place in a cluster, when it is one of its children. */
export function clusterChild(): { role: ChildRole; index: number } | undefined {
  if (!cluster.isWorker) return undefined;
  const role = process.env[ROLE_VAR];
  if (role !== 'api' && role !== 'worker') return undefined;
  return { role, index: Number(process.env[INDEX_VAR] ?? 0) };
}

/** A child tells the primary it has started (an API process with the address it listens on). */
export function announceReady(address?: string): void {
  process.send?.({ type: READY, address });
}

/**
 * In a child: answers the primary's metric requests with `registry` (prom-client's protocol), and
 * returns what the child's /metrics serves — the primary's aggregate of every process.
 */
export function clusterMetrics(registry: Registry): () => Promise<string> {
  // Constructing an AggregatorRegistry in a worker installs prom-client's answering listener.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  let nextId = 0;
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  process.on('message', (message: { type?: string; id?: number; text?: string; error?: string }) => {
    if (message?.type !== METRICS_RESULT || message.id === undefined) return;
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if (message.text !== undefined) waiting.resolve(message.text);
    else waiting.reject(new Error(`metrics from the cluster primary: ${message.error ?? 'no answer'}`));
  });
  return () =>
    new Promise<string>((resolveText, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the cluster primary did not answer a metrics request within 10 s'));
      }, 10_000);
      timer.unref();
      pending.set(id, {
        resolve: (text) => (clearTimeout(timer), resolveText(text)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      process.send?.({ type: METRICS_REQUEST, id });
    });
}

interface Slot {
  role: ChildRole;
  index: number;
  worker?: Worker;
  ready: boolean;
  restarts: number[];
}

export interface ClusterOptions {
  env: Env;
  role: 'all' | 'api';
  migrate: boolean;
  version: string;
  apiProcesses: number;
}

/** Runs the primary: prepares the database, starts the children and watches them until a signal. */
export async function runCluster(options: ClusterOptions): Promise<void> {
  const { env } = options;
  const logger = pino({ level: env.LOG_LEVEL, base: { role: 'primary' } });
  // Configuration every child needs is checked here once, rather than failing N times.
  loadMasterKeys(env, resolve(env.AIPROD_DATA_DIR));
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: join(resolve(env.AIPROD_DATA_DIR), 'pglite'), poolSize: 1 });
  const prepared = await prepareDatabase(database, env, { migrate: options.migrate }).finally(() => database.close());
  if (prepared.createdAdminKey) {
    process.stdout.write(
      `\nFirst start: created an admin API key. It is shown this once — keep it:\n\n  ${prepared.createdAdminKey}\n\n` +
        `Use it as: curl -H "Authorization: Bearer ${prepared.createdAdminKey}" …\n\n`,
    );
  }

  const rateLimits = new MemoryRateLimitStore();
  const aggregator = new AggregatorRegistry();
  const slots: Slot[] = Array.from({ length: options.apiProcesses }, (_, index) => ({ role: 'api' as const, index, ready: false, restarts: [] }));
  if (options.role === 'all') slots.push({ role: 'worker', index: 0, ready: false, restarts: [] });
  const slotOf = (worker: Worker): Slot | undefined => slots.find((s) => s.worker === worker);
  let address: string | undefined;
  let stopping = false;
  let started = false;
  let onStarted: (() => void) | undefined;
  let exitCode = 0;

  const fork = (slot: Slot): void => {
    slot.ready = false;
    slot.worker = cluster.fork({ [ROLE_VAR]: slot.role, [INDEX_VAR]: String(slot.index) });
  };

  cluster.on('message', (worker, message: { type?: string; id?: number; address?: string }) => {
    if (answerRateLimitHit(rateLimits, message, (reply) => worker.send(reply as never))) return;
    if (message?.type === METRICS_REQUEST) {
      aggregator.clusterMetrics().then(
        (text) => worker.isConnected() && worker.send({ type: METRICS_RESULT, id: message.id, text }),
        (error: unknown) => worker.isConnected() && worker.send({ type: METRICS_RESULT, id: message.id, error: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    if (message?.type === READY) {
      const slot = slotOf(worker);
      if (!slot) return;
      slot.ready = true;
      address ??= message.address;
      // The first child made the queue's tables and queues; the others start together now, without
      // racing it through pg-boss's DDL (concurrent first starts deadlock in create_queue).
      if (!started && slot === slots[0]) for (const other of slots.slice(1)) fork(other);
      if (!started && slots.every((s) => s.ready)) {
        started = true;
        onStarted?.();
      } else if (started) {
        logger.info({ role: slot.role, index: slot.index, pid: worker.process.pid }, 'child process started again');
      }
    }
  });

  const stopAll = (signal: NodeJS.Signals): void => {
    for (const slot of slots) if (slot.worker && !slot.worker.isDead()) slot.worker.process.kill(signal);
  };
  const allExited = new Promise<void>((resolveExited) => {
    cluster.on('exit', (worker, code, signal) => {
      const slot = slotOf(worker);
      if (!slot) return;
      slot.worker = undefined;
      if (stopping) {
        if (slots.every((s) => !s.worker)) resolveExited();
        return;
      }
      const what = { role: slot.role, index: slot.index, pid: worker.process.pid, code, signal };
      // Failing before it ever started is a configuration problem (a port in use, a database that
      // refuses): starting it again would fail the same way. Stop, and say so with the exit code.
      const now = Date.now();
      slot.restarts = slot.restarts.filter((t) => now - t < RESTART_WINDOW_MS);
      if (!started || slot.restarts.length >= RESTART_LIMIT) {
        logger.error(what, started ? `a child process failed ${RESTART_LIMIT} times within a minute; stopping` : 'a child process failed while starting; stopping');
        if (started) process.stderr.write(`error: the ${slot.role} process keeps failing (${RESTART_LIMIT} times within a minute); see its log above\n`);
        exitCode = 1;
        stopping = true;
        stopAll('SIGTERM');
        if (slots.every((s) => !s.worker)) resolveExited();
        onStarted?.();
        return;
      }
      logger.warn(what, 'a child process exited; starting it again');
      slot.restarts.push(now);
      fork(slot);
    });
  });

  const startedOrFailed = new Promise<void>((resolveStarted) => (onStarted = resolveStarted));
  fork(slots[0]!);
  await startedOrFailed;
  if (started && !stopping) {
    const workers = options.role === 'all' ? ' and 1 render worker process' : '';
    process.stdout.write(`AIPROD ${options.version} listening on ${address} (docs: ${address}/docs, database: ${database.kind})\n`);
    process.stdout.write(`${options.apiProcesses} API processes${workers} (node:cluster, primary pid ${process.pid})\n`);
  }

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down every child process');
    stopAll('SIGTERM');
    // A child that outlives its grace period (and a margin) is killed: the primary must end.
    setTimeout(() => stopAll('SIGKILL'), (env.SHUTDOWN_GRACE_SEC + 30) * 1000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  await allExited;
  process.exit(exitCode);
}

/** How many API processes `aiprod serve` runs: the flag, API_PROCESSES, or one per core with PostgreSQL. */
export function apiProcessCount(env: Env, flag: number | undefined, cores: number): number {
  const asked = flag ?? env.API_PROCESSES;
  if (asked !== undefined && asked > 1 && !env.DATABASE_URL) {
    const name = flag !== undefined ? '--api-processes' : 'API_PROCESSES';
    throw new AppError('invalid_request', `${name} ${asked} needs PostgreSQL (set DATABASE_URL): PGlite's data directory is opened by one process`, {
      details: [{ path: name, message: 'use 1 with PGlite, or point DATABASE_URL at PostgreSQL' }],
    });
  }
  return asked ?? (env.DATABASE_URL ? cores : 1);
}
