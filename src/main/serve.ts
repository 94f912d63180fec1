/**
 * `aiprod serve` and `aiprod worker`: start the service, print where it listens (and the admin key
 * on first start), log as JSON lines, and shut down cleanly on SIGTERM/SIGINT — running renders get
 * SHUTDOWN_GRACE_SEC to finish and are then handed back to the queue.
 */
import { createServer } from 'node:http';
import pino from 'pino';
import type { Env } from '../config/env.js';
import { availableParallelism } from 'node:os';
import { isDatabaseUnavailable } from '../contract/errors.js';
import { ClusterRateLimitStore } from '../security/rate-limit.cluster.js';
import { announceReady, apiProcessCount, clusterChild, clusterMetrics, runCluster } from './cluster.js';
import { startService, type Role } from './service.js';

export async function runService(options: { env: Env; role: Role; port: number; migrate: boolean; version: string; apiProcesses?: number }): Promise<void> {
  const { env } = options;
  // One of a cluster's children (main/cluster.ts), or a process that may start a cluster.
  const child = clusterChild();
  if (!child && options.role !== 'worker') {
    const apiProcesses = apiProcessCount(env, options.apiProcesses, availableParallelism());
    if (apiProcesses > 1) return runCluster({ env, role: options.role, migrate: options.migrate, version: options.version, apiProcesses });
  }
  const role: Role = child?.role ?? options.role;
  const logger = pino({ level: env.LOG_LEVEL, base: child ? { role, process: child.index } : { role } });
  // A database that went away must not end the process (it recovers when the database is back);
  // pg-boss settles some statements without awaiting them. Anything else still ends it, as before.
  process.on('unhandledRejection', (reason) => {
    if (!isDatabaseUnavailable(reason)) throw reason;
    logger.warn({ message: reason instanceof Error ? reason.message : String(reason) }, 'database unavailable (background statement)');
  });
  // A cluster's children: the primary migrated; rate limits (without Redis) and /metrics go through
  // it; the database metrics are read by API process 0 alone.
  const clusterStore = child && role === 'api' && !env.REDIS_URL ? new ClusterRateLimitStore(process as never) : undefined;
  let exposeMetrics: (() => Promise<string>) | undefined;
  const service = await startService({
    env,
    role,
    version: options.version,
    noMigrate: child ? true : !options.migrate,
    log: (level, message, fields) => logger[level](fields ?? {}, message),
    ...(child ? { rateLimitStore: clusterStore, databaseMetrics: role === 'api' && child.index === 0, exposeMetrics: () => (exposeMetrics ?? (() => Promise.resolve('')))() } : {}),
  });
  if (child) exposeMetrics = clusterMetrics(service.metrics.registry);
  if (service.createdAdminKey) {
    process.stdout.write(
      `\nFirst start: created an admin API key. It is shown this once — keep it:\n\n  ${service.createdAdminKey}\n\n` +
        `Use it as: curl -H "Authorization: Bearer ${service.createdAdminKey}" …\n\n`,
    );
  }
  // A port that cannot be had ends the process (exit 1) instead of leaving it running without one:
  // a supervisor or an orchestrator then sees the failure and restarts or reports it.
  const listenOrExit = async <T>(what: string, listen: () => Promise<T>): Promise<T> => {
    try {
      return await listen();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'EADDRINUSE' ? 'it is in use by another process' : code === 'EACCES' ? 'this user may not bind it' : error instanceof Error ? error.message : String(error);
      logger.error({ code }, `cannot listen on ${what}`);
      process.stderr.write(`error: cannot listen on ${what}: ${reason}\n`);
      await service.stop().catch(() => undefined);
      process.exit(1);
    }
  };
  if (service.app) {
    const app = service.app;
    const address = await listenOrExit(`${env.HOST}:${options.port} (set PORT or --port)`, () => app.listen({ port: options.port, host: env.HOST }));
    if (child) announceReady(address);
    else process.stdout.write(`AIPROD ${options.version} listening on ${address} (docs: ${address}/docs, database: ${service.database.kind})\n`);
  } else if (child) {
    announceReady();
  } else {
    process.stdout.write(`AIPROD ${options.version} worker started (database: ${service.database.kind})\n`);
    if (env.WORKER_METRICS_PORT) {
      // A worker has no HTTP API; its metrics (stage durations, render slots) get a port of their own.
      const server = createServer((request, response) => {
        if (request.url !== '/metrics') {
          response.writeHead(404).end();
          return;
        }
        service.metrics
          .expose()
          .then((text) => response.writeHead(200, { 'content-type': service.metrics.registry.contentType }).end(text))
          .catch(() => response.writeHead(500).end());
      });
      const port = env.WORKER_METRICS_PORT;
      await listenOrExit(`${env.HOST}:${port} for metrics (set WORKER_METRICS_PORT or --metrics-port)`, () =>
        new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, env.HOST, () => resolve());
        }),
      );
      server.unref();
      process.stdout.write(`worker metrics on http://${env.HOST}:${env.WORKER_METRICS_PORT}/metrics\n`);
    }
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    service
      .stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // A child whose primary is gone (killed) has no one to serve for: it stops as on SIGTERM.
  if (child) process.once('disconnect', () => stop('primary gone'));
}
