/**
 * The database port: drizzle over PGlite (embedded, a data directory — the laptop default) or
 * PostgreSQL (`DATABASE_URL`, for API and workers on many machines). Everything above this file
 * sees one `Database`: drizzle for queries, `executeSql` for pg-boss, LISTEN/NOTIFY for events.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql, type SQL } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzleLite } from 'drizzle-orm/pglite';
import { migrate as migrateLite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { AppError, isDatabaseUnavailable } from '../contract/errors.js';
import { PgListener, type ListenerState } from './listener.js';
import { pgliteStartError } from './pglite-errors.js';
import { schema } from './schema.js';

export type { ListenerState } from './listener.js';

export type AppDb = PgDatabase<PgQueryResultHKT, typeof schema>;

/** pg-boss's database interface: one method. */
export interface SqlExecutor {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface Database extends SqlExecutor {
  kind: 'pglite' | 'postgres';
  db: AppDb;
  /** Applies the migrations in src/db/migrations (idempotent). */
  migrate(): Promise<void>;
  /**
   * Calls `onMessage` for every NOTIFY on `channel`; returns the unsubscribe. `onReconnect` runs
   * after the listening connection came back from a drop: notifications in between were lost.
   */
  listen(channel: string, onMessage: (payload: string) => void, options?: { onReconnect?: () => void }): Promise<() => Promise<void>>;
  /** 'ok', or 'reconnecting' while the LISTEN connection is down (it comes back by itself). */
  listenerState(): ListenerState;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export type DatabaseLog = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

const MIGRATIONS = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Turns `$1 … $n` placeholder SQL into a drizzle SQL object, so pg-boss can run its statements
 * inside a drizzle transaction (a production and its queue job commit together).
 */
export function toDrizzleSql(text: string, values: readonly unknown[] = []): SQL {
  const chunks: SQL[] = [];
  let last = 0;
  for (const match of text.matchAll(/\$(\d+)/g)) {
    chunks.push(sql.raw(text.slice(last, match.index)));
    chunks.push(sql`${values[Number(match[1]) - 1] ?? null}`);
    last = match.index + match[0].length;
  }
  chunks.push(sql.raw(text.slice(last)));
  return sql.join(chunks);
}

/** An executor over a drizzle transaction (or the database itself). */
export function executorFor(db: AppDb): SqlExecutor {
  // The driver client under the drizzle session (a pg PoolClient or PGlite transaction): pg-boss's
  // SQL goes to it verbatim, so a parameter used twice ($5 in two places) stays one parameter with
  // one type. Through drizzle's sql template each use would become a parameter of its own.
  const client = (db as unknown as { session?: { client?: { query?: (text: string, values?: unknown[]) => Promise<{ rows: unknown[] }> } } }).session?.client;
  return {
    async executeSql(text, values = []) {
      if (client?.query) return { rows: (await client.query(text, values as unknown[])).rows };
      const result = (await db.execute(toDrizzleSql(text, values))) as unknown as { rows: unknown[] };
      return { rows: result.rows };
    },
  };
}

export async function openPglite(dataDir?: string): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = dataDir ? new PGlite(dataDir) : new PGlite();
  // Its file system throws non-Error objects ("[object Object]"): name the errno and the directory.
  await client.waitReady.catch((error: unknown) => {
    throw pgliteStartError(error, dataDir);
  });
  const db = drizzleLite({ client, schema }) as unknown as AppDb;
  return {
    kind: 'pglite',
    db,
    async executeSql(text, values = []) {
      // PGlite's extended protocol takes one statement; pg-boss's parameterless scripts may hold several.
      if (values.length === 0 && text.includes(';')) {
        const results = await client.exec(text);
        return { rows: results[results.length - 1]?.rows ?? [] };
      }
      const result = await client.query(text, values as unknown[]);
      return { rows: result.rows };
    },
    migrate: () =>
      migrateLite(db as never, { migrationsFolder: MIGRATIONS }).catch((error: unknown) => {
        throw error instanceof Error ? error : pgliteStartError(error, dataDir);
      }),
    async listen(channel, onMessage) {
      const unsubscribe = await client.listen(channel, onMessage);
      return async () => unsubscribe();
    },
    listenerState: () => 'ok',
    async notify(channel, payload) {
      await client.query('select pg_notify($1, $2)', [channel, payload]);
    },
    close: () => client.close(),
  };
}

export interface PostgresOptions {
  max?: number;
  /**
   * How long a query waits for a connection (a free slot of the pool, or a new connection) before
   * failing with database_unavailable (default 10 s: under the request timeout, far over a busy
   * pool's usual wait).
   */
  connectTimeoutMs?: number;
  log?: DatabaseLog;
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Database> {
  const log = options.log ?? (() => undefined);
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000, keepAlive: true });
  // A connection that drops (restart, failover, pg_terminate_backend) must never end the process:
  // an idle one is reported here and replaced by the pool; one checked out fails the query it
  // runs (the caller sees database_unavailable) and is discarded when released.
  pool.on('error', (error) => log('warn', 'database connection lost (idle)', { message: error.message }));
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  // Failures to connect at all (refused, timed out) carry no SQLSTATE: name them here, where it is
  // certain they came from the database, so they map to 503 database_unavailable.
  const connect = pool.connect.bind(pool) as (cb: (err: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void) => void;
  const unavailable = (error: Error | undefined): Error | undefined =>
    error && !isDatabaseUnavailable(error) ? new AppError('database_unavailable', 'the database is unavailable; retry shortly', { cause: error }) : error;
  (pool as { connect: unknown }).connect = (callback?: (err: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void) => {
    if (callback) return connect((err, client, done) => callback(unavailable(err), client, done));
    return new Promise<pg.PoolClient>((resolve, reject) => connect((err, client) => (err ? reject(unavailable(err)) : resolve(releasedWhenDead(client as pg.PoolClient)))));
  };
  const db = drizzlePg({ client: pool, schema }) as unknown as AppDb;
  const listener = new PgListener({ connectionString: url, connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000 }, { log });
  return {
    kind: 'postgres',
    db,
    async executeSql(text, values = []) {
      const result = await pool.query(text, values as unknown[]);
      return { rows: result.rows };
    },
    migrate: () => migratePg(db as never, { migrationsFolder: MIGRATIONS }),
    listen: (channel, onMessage, listenOptions) => listener.listen(channel, { onMessage, onReconnect: listenOptions?.onReconnect }),
    listenerState: () => listener.state,
    async notify(channel, payload) {
      await pool.query('select pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      await listener.close();
      await pool.end();
    },
  };
}

/**
 * A checked-out client (a transaction's) goes back to the pool, as broken, once its connection
 * ends. drizzle sends BEGIN before its try/finally, so a connection that dies under the BEGIN would
 * otherwise never be released: the pool loses the slot for good, and close() waits for it forever.
 * release() becomes idempotent, so the holder's own later release is harmless.
 */
function releasedWhenDead(client: pg.PoolClient): pg.PoolClient {
  const release = client.release.bind(client);
  let released = false;
  const onEnd = (): void => finish(new Error('Connection terminated'));
  const finish = (error?: Error | boolean): void => {
    if (released) return;
    released = true;
    client.off('end', onEnd);
    release(error);
  };
  client.once('end', onEnd);
  client.release = finish;
  return client;
}

export function openDatabase(options: { url?: string; dataDir: string; poolSize?: number; log?: DatabaseLog }): Promise<Database> {
  return options.url ? openPostgres(options.url, { max: options.poolSize, log: options.log }) : openPglite(options.dataDir);
}
