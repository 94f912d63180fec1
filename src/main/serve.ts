/**
 * `aiprod serve` and `aiprod worker`: start the service, print where it listens (and the admin key
 * on first start), log as JSON lines, and shut down cleanly on SIGTERM/SIGINT — running renders get
 * SHUTDOWN_GRACE_SEC to finish and are then handed back to the queue.
 */
import { createServer } from 'node:http';
import pino from 'pino';
import type { Env } from '../config/env.js';
import { isDatabaseUnavailable } from '../contract/errors.js';
import { startService, type Role } from './service.js';

export async function runService(options: { env: Env; role: Role; port: number; migrate: boolean; version: string }): Promise<void> {
  const { env } = options;
  const logger = pino({ level: env.LOG_LEVEL, base: { role: options.role } });
  // A database that went away must not end the process (it recovers when the database is back);
  // pg-boss settles some statements without awaiting them. Anything else still ends it, as before.
  process.on('unhandledRejection', (reason) => {
    if (!isDatabaseUnavailable(reason)) throw reason;
    logger.warn({ message: reason instanceof Error ? reason.message : String(reason) }, 'database unavailable (background statement)');
  });
  const service = await startService({
    env,
    role: options.role,
    version: options.version,
    noMigrate: !options.migrate,
    log: (level, message, fields) => logger[level](fields ?? {}, message),
  });
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
    process.stdout.write(`AIPROD ${options.version} listening on ${address} (docs: ${address}/docs, database: ${service.database.kind})\n`);
  } else {
    process.stdout.write(`AIPROD ${options.version} worker started (database: ${service.database.kind})\n`);
    if (env.WORKER_METRICS_PORT) {
      // A worker has no HTTP API; its metrics (stage durations, render slots) get a port of their own.
      const server = createServer((request, response) => {
        if (request.url !== '/metrics') {
          response.writeHead(404).end();
          return;
        }
        service.metrics.registry
          .metrics()
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
}
