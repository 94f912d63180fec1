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
import { pgliteStartError } from './pglite-errors.js';
import { schema } from './schema.js';

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
  /** Calls `onMessage` for every NOTIFY on `channel`; returns the unsubscribe. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

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
    async notify(channel, payload) {
      await client.query('select pg_notify($1, $2)', [channel, payload]);
    },
    close: () => client.close(),
  };
}

export async function openPostgres(url: string, options: { max?: number } = {}): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db = drizzlePg({ client: pool, schema }) as unknown as AppDb;
  const listeners: pg.PoolClient[] = [];
  return {
    kind: 'postgres',
    db,
    async executeSql(text, values = []) {
      const result = await pool.query(text, values as unknown[]);
      return { rows: result.rows };
    },
    migrate: () => migratePg(db as never, { migrationsFolder: MIGRATIONS }),
    async listen(channel, onMessage) {
      const client = await pool.connect();
      listeners.push(client);
      const handler = (message: pg.Notification): void => {
        if (message.channel === channel) onMessage(message.payload ?? '');
      };
      client.on('notification', handler);
      await client.query(`listen ${pg.escapeIdentifier(channel)}`);
      return async () => {
        // Idempotent, and harmless after close() (which released every listening client already).
        const at = listeners.indexOf(client);
        if (at < 0) return;
        listeners.splice(at, 1);
        client.off('notification', handler);
        await client.query(`unlisten ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
        client.release();
      };
    },
    async notify(channel, payload) {
      await pool.query('select pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      for (const client of listeners.splice(0)) client.release();
      await pool.end();
    },
  };
}

export function openDatabase(options: { url?: string; dataDir: string; poolSize?: number }): Promise<Database> {
  return options.url ? openPostgres(options.url, { max: options.poolSize }) : openPglite(options.dataDir);
}
