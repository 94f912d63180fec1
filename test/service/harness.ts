/**
 * Starts the service in-process on its own data directory (PGlite by default, or the real
 * PostgreSQL in TEST_DATABASE_URL on a database made for the test), and waits for productions'
 * state changes through the same NOTIFY channel the API uses.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadEnv } from '../../src/config/env.js';
import type { Production } from '../../src/contract/production.js';
import { startService, type Role, type Service } from '../../src/main/service.js';
import { EVENTS_CHANNEL } from '../../src/db/channels.js';

/** The master key of every test service on PostgreSQL (and of worker processes started beside one). */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

/**
 * The environment of an `aiprod worker` child process on the same database, data directory and
 * cache as a test service (local storage, the test master key, one render slot), plus `extra`.
 */
export function childWorkerEnv(databaseUrl: string, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    AIPROD_DATA_DIR: dataDir,
    AIPROD_CACHE_DIR: join(dataDir, 'cache'),
    STORAGE_URL: '',
    ADMIN_API_KEY: '',
    AIPROD_MASTER_KEY: TEST_MASTER_KEY,
    WORKER_CONCURRENCY: '1',
    LOG_LEVEL: 'info',
    // The heal job would re-queue a transient failure a test expects to stay failed (self-healing tests drive it directly).
    AUTO_RETRY_ENABLED: 'false',
    ...extra,
  };
}

export interface TestService extends Service {
  dataDir: string;
  key: string;
  auth: { authorization: string };
  /** Resolves with the production (of `tenantId`, default the default tenant) once `done(p)` holds (checked at every change notification). */
  waitFor(id: string, done: (p: Production) => boolean, timeoutMs?: number, tenantId?: string): Promise<Production>;
}

/** A fresh PostgreSQL database on the server of TEST_DATABASE_URL, dropped by the returned cleanup. */
export async function freshPostgres(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `aiprod_test_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function startTestService(options: { role?: Role; databaseUrl?: string; env?: Record<string, string> } = {}): Promise<TestService> {
  const given = options.env?.AIPROD_DATA_DIR;
  const dataDir = given ?? mkdtempSync(join(tmpdir(), 'aiprod-svc-'));
  const env = loadEnv({
    ...process.env,
    AIPROD_DATA_DIR: dataDir,
    AIPROD_CACHE_DIR: join(dataDir, 'cache'),
    DATABASE_URL: options.databaseUrl ?? '',
    STORAGE_URL: '',
    LOG_LEVEL: 'error',
    WORKER_CONCURRENCY: '1',
    ADMIN_API_KEY: '',
    // The heal job would re-queue a transient failure a test expects to stay failed (self-healing tests drive it directly).
    AUTO_RETRY_ENABLED: 'false',
    // Secrets at rest need a master key with PostgreSQL (PGlite makes one in its data dir).
    AIPROD_MASTER_KEY: options.databaseUrl ? TEST_MASTER_KEY : '',
    ...options.env,
  });
  const service = await startService({ env, role: options.role ?? 'all', version: 'test', queueSchema: 'pgboss' });
  const key = service.createdAdminKey ?? '';
  return {
    ...service,
    dataDir,
    async stop() {
      await service.stop();
      // A directory the harness made is the harness's to remove; one the test passed is the test's.
      if (!given) rmSync(dataDir, { recursive: true, force: true });
    },
    key,
    auth: { authorization: `Bearer ${key}` },
    async waitFor(id, done, timeoutMs = 120_000, tenantId = 'default') {
      const read = async (): Promise<Production> => service.productions.get(tenantId, id);
      return new Promise((resolve, reject) => {
        let stop: (() => Promise<void>) | undefined;
        const finish = (error?: Error, value?: Production): void => {
          clearTimeout(timer);
          void stop?.();
          if (error) reject(error);
          else resolve(value as Production);
        };
        const timer = setTimeout(() => {
          void read().then((p) => finish(new Error(`timed out waiting on ${id}: ${p.status} ${JSON.stringify(p.error)}`)));
        }, timeoutMs);
        const check = (): void => {
          void read()
            .then((p) => {
              if (done(p)) finish(undefined, p);
            })
            .catch((error: Error) => finish(error));
        };
        void service.database
          .listen(EVENTS_CHANNEL, (payload) => {
            if (payload.includes(id)) check();
          })
          .then((unsubscribe) => {
            stop = unsubscribe;
            check();
          });
      });
    },
  };
}
