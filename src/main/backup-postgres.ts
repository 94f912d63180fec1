/**
 * PostgreSQL's side of `aiprod backup` and `aiprod restore`: pg_dump and pg_restore from Debian's
 * postgresql-client, chosen for the server's major version, run on one exported snapshot so the
 * dump and the outputs manifest read from it describe the same instant while the service runs.
 *
 * The tools get the connection as a libpq URI whose password sits in a passfile of this process's
 * (mode 0600, removed after), never on their command line, where `ps` would show it to every user.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { AppError } from '../contract/errors.js';
import { runProcess } from '../media/ffmpeg.js';

export type PgToolName = 'pg_dump' | 'pg_restore';

export interface PgTool {
  path: string;
  major: number;
  /** The tool's own `--version` line, e.g. `pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)`. */
  version: string;
}

/** A week: a dump of a large database may take hours; the watchdog stays off (a dump waiting on a lock is quiet). */
const TOOL_TIMEOUT_SEC = 7 * 86_400;

/** Where Debian installs every postgresql-client-<major> side by side. */
const DEBIAN_LIB = '/usr/lib/postgresql';

function candidates(name: PgToolName, pathEnv: string | undefined): string[] {
  const found = (pathEnv ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  if (existsSync(DEBIAN_LIB)) for (const major of readdirSync(DEBIAN_LIB)) found.push(join(DEBIAN_LIB, major, 'bin', name));
  return [...new Set(found)].filter((path) => existsSync(path));
}

/**
 * The newest `name` on this machine (PATH and /usr/lib/postgresql/<major>/bin), which must be at
 * least `atLeast` (pg_dump refuses a server newer than itself; pg_restore an archive from a newer pg_dump).
 */
export async function findPgTool(name: PgToolName, pathEnv: string | undefined, atLeast = 0): Promise<PgTool> {
  const tools: PgTool[] = [];
  for (const path of candidates(name, pathEnv)) {
    const { stdout } = await runProcess(path, ['--version'], { captureStdout: true, timeoutSec: 30, stallSec: 0 }).catch(() => ({ stdout: '' }));
    const major = /\(PostgreSQL\) (\d+)/.exec(stdout)?.[1];
    if (major) tools.push({ path, major: Number(major), version: stdout.trim() });
  }
  tools.sort((a, b) => b.major - a.major);
  const best = tools[0];
  if (!best) {
    throw new AppError('invalid_request', `${name} was not found (PATH, ${DEBIAN_LIB}/*/bin): install the Debian package postgresql-client (apt-get install postgresql-client)`);
  }
  if (best.major < atLeast) {
    throw new AppError(
      'invalid_request',
      `${name} ${best.major} (${best.path}) ${name === 'pg_dump' ? `cannot dump a PostgreSQL ${atLeast} server` : `cannot read an archive written by pg_dump ${atLeast}`}: install postgresql-client-${atLeast} (apt-get install postgresql-client-${atLeast}, from the PostgreSQL apt repository when Debian's own has only ${best.major}); it is found in ${DEBIAN_LIB}/${atLeast}/bin`,
    );
  }
  return best;
}

/** A libpq connection URI for a child tool, its password moved into a passfile; `close` removes the file. */
async function childConnection(url: string): Promise<{ uri: string; close: () => Promise<void> }> {
  const parsed = new URL(url);
  if (!parsed.password) return { uri: url, close: async () => undefined };
  const dir = await mkdtemp(join(tmpdir(), 'aiprod-pgpass-'));
  const file = join(dir, 'pgpass');
  // .pgpass format: host:port:database:user:password, with ':' and '\' escaped by a backslash.
  const password = decodeURIComponent(parsed.password).replace(/[\\:]/g, (c) => `\\${c}`);
  await writeFile(file, `*:*:*:*:${password}\n`, { mode: 0o600 });
  parsed.password = '';
  // libpq decodes %XX in query values but not '+': encode the path by hand.
  const uri = `${parsed.toString()}${parsed.search ? '&' : '?'}passfile=${encodeURIComponent(file)}`;
  return { uri, close: () => rm(dir, { recursive: true, force: true }) };
}

async function runTool(tool: PgTool, args: (uri: string) => string[], url: string): Promise<void> {
  const connection = await childConnection(url);
  try {
    await runProcess(tool.path, args(connection.uri), { timeoutSec: TOOL_TIMEOUT_SEC, stallSec: 0 });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new AppError('internal', `${tool.version}: ${message.replace(/^\S+ exited with code/, 'exited with code')}`);
  } finally {
    await connection.close();
  }
}

/**
 * A read-only REPEATABLE READ transaction whose snapshot is exported: pg_dump `--snapshot` and the
 * queries run here see the same committed state, whatever the service commits meanwhile.
 */
export class PgSnapshot {
  private constructor(
    private readonly client: pg.Client,
    readonly id: string,
    readonly serverVersion: string,
    readonly serverMajor: number,
  ) {}

  static async open(url: string): Promise<PgSnapshot> {
    const client = new pg.Client({ connectionString: url });
    await client.connect().catch((error: Error) => {
      throw new AppError('database_unavailable', `cannot connect to DATABASE_URL: ${error.message}`);
    });
    try {
      await client.query('begin isolation level repeatable read read only');
      const { rows } = await client.query<{ id: string; version: string; num: string }>(
        "select pg_export_snapshot() as id, version() as version, current_setting('server_version_num') as num",
      );
      const row = rows[0]!;
      return new PgSnapshot(client, row.id, row.version, Math.floor(Number(row.num) / 10_000));
    } catch (error) {
      await client.end();
      throw error;
    }
  }

  async query(text: string): Promise<Record<string, unknown>[]> {
    return (await this.client.query(text)).rows as Record<string, unknown>[];
  }

  /** Dumps the snapshot's database with `tool` into `file` (custom format: compressed, read by pg_restore). */
  async dump(tool: PgTool, url: string, file: string): Promise<void> {
    await runTool(tool, (uri) => ['--format=custom', '--no-password', `--snapshot=${this.id}`, `--file=${file}`, `--dbname=${uri}`], url);
  }

  async close(): Promise<void> {
    await this.client.query('commit').catch(() => undefined);
    await this.client.end();
  }
}

/** Runs `query` on a short connection to `url`. */
export async function withPgClient<T>(url: string, query: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect().catch((error: Error) => {
    throw new AppError('database_unavailable', `cannot connect to DATABASE_URL: ${error.message}`);
  });
  try {
    return await query(client);
  } finally {
    await client.end();
  }
}

/** Why the database at `url` is not empty (its schemas and how many relations each holds), or undefined when it is. */
export async function nonEmptyReason(url: string): Promise<string | undefined> {
  const rows = await withPgClient(url, async (client) =>
    (
      await client.query<{ schema: string; relations: number }>(
        `select n.nspname as schema, count(c.oid)::int as relations
           from pg_namespace n left join pg_class c on c.relnamespace = n.oid
          where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
          group by n.nspname order by n.nspname`,
      )
    ).rows,
  );
  const used = rows.filter((r) => r.schema !== 'public' || r.relations > 0);
  return used.length > 0 ? used.map((r) => `${r.schema} (${r.relations} relations)`).join(', ') : undefined;
}

/**
 * Restores a custom-format dump into the (empty) database at `url` in one transaction: a failure
 * leaves it as empty as it was. Objects are owned by the restoring role (`--no-owner`), which is
 * the service's own: the source's role names need not exist here.
 */
export async function pgRestore(tool: PgTool, url: string, file: string): Promise<void> {
  await runTool(tool, (uri) => ['--no-password', '--single-transaction', '--exit-on-error', '--no-owner', `--dbname=${uri}`, file], url);
}
