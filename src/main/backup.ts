/**
 * `aiprod backup --out FILE` (docs/disaster-recovery.md): one archive (main/backup-archive.ts)
 * with a consistent snapshot of the database, the manifest of the stored outputs, their files when
 * storage is local, the assets briefs name, and the embedded installation's master key.
 * `aiprod restore` is main/restore.ts.
 *
 * - PostgreSQL: pg_dump on an exported snapshot while the service runs (main/backup-postgres.ts);
 *   the outputs manifest is read in the same snapshot.
 * - The embedded database: PGlite allows one process per data directory and keeps no lock, so the
 *   service must be stopped (an open database has a postmaster.pid); the backup opens it, takes a
 *   checkpoint, closes it cleanly and copies its files.
 * - S3: the archive carries the manifest only (the bucket keeps the bytes, with versioning), with
 *   each object's presence checked.
 */
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Env } from '../config/env.js';
import { AppError } from '../contract/errors.js';
import { openPglite } from '../db/database.js';
import { createStorage } from '../storage/create.js';
import { LocalStorage } from '../storage/local.adapter.js';
import type { Storage } from '../storage/storage.port.js';
import { ArchiveWriter, FORMAT_VERSION, HEADER, outputEntry, type BackupHeader, type OutputRecord } from './backup-archive.js';
import { findPgTool, PgSnapshot } from './backup-postgres.js';

export type Log = (line: string) => void;
type Query = (text: string) => Promise<Record<string, unknown>[]>;

/** Where an installation keeps what a backup holds, from its configuration. */
export interface Layout {
  dataDir: string;
  pgliteDir: string;
  masterKeyFile: string;
  assetsDir: string;
  storage: Storage;
  /** The local storage root, when storage is local. */
  localRoot?: string;
}

export function layoutOf(env: Env): Layout {
  const dataDir = resolve(env.AIPROD_DATA_DIR);
  const storage = createStorage(env);
  return {
    dataDir, storage,
    pgliteDir: join(dataDir, 'pglite'),
    masterKeyFile: join(dataDir, 'master.key'),
    assetsDir: join(dataDir, 'assets'),
    localRoot: storage instanceof LocalStorage ? storage.root : undefined,
  };
}

export interface Facts {
  counts: { tenants: number; productions: number; outputs: number; outputBytes: number };
  migrations: number;
  masterKeyIds: string[];
  outputs: { productionId: string; name: string; storageKey: string; bytes: number }[];
}

/** What the backup records of the database, read in the snapshot the dump is taken from. */
export async function readFacts(query: Query): Promise<Facts> {
  const [c] = await query(
    'select (select count(*) from tenants)::int as tenants, (select count(*) from productions)::int as productions, (select count(*) from outputs)::int as outputs, (select coalesce(sum(bytes), 0) from outputs)::float8 as output_bytes, (select count(*) from drizzle.__drizzle_migrations)::int as migrations',
  );
  const outputs = await query('select production_id, name, storage_key, bytes::float8 as bytes from outputs order by production_id, name');
  const keys = await query('select distinct master_key_id from data_keys order by 1');
  return {
    counts: { tenants: Number(c?.tenants), productions: Number(c?.productions), outputs: Number(c?.outputs), outputBytes: Number(c?.output_bytes) },
    migrations: Number(c?.migrations),
    masterKeyIds: keys.map((k) => String(k.master_key_id)),
    outputs: outputs.map((o) => ({ productionId: String(o.production_id), name: String(o.name), storageKey: String(o.storage_key), bytes: Number(o.bytes) })),
  };
}

/** Every file (or directory) under `dir` as relative '/'-separated paths, sorted; none when it does not exist. */
export async function filesUnder(dir: string, kind: 'files' | 'directories' = 'files'): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => (kind === 'files' ? e.isFile() : e.isDirectory()))
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/** PGlite writes postmaster.pid while a process has the database open and removes it on a clean close. */
function assertPgliteClosed(dir: string, when: string): void {
  if (!existsSync(join(dir, 'postmaster.pid'))) return;
  throw new AppError(
    'conflict',
    `the embedded database in ${dir} is open ${when}: PGlite allows one process per data directory, and \`aiprod serve\` or \`aiprod worker\` holds it while it runs`,
    {
      details: [
        { message: 'stop the service, run the backup, start the service again (for backups while it runs, use PostgreSQL: DATABASE_URL)' },
        { message: 'if no service runs, the last one did not stop cleanly: run `aiprod migrate` once (it opens and closes the database) and back up again' },
      ],
    },
  );
}

const majorOf = (version: string): number => Number(/PostgreSQL (\d+)/.exec(version)?.[1] ?? 0);

async function addFile(writer: ArchiveWriter, name: string, path: string, mode?: number): Promise<void> {
  const info = await stat(path);
  await writer.add(name, info.size, createReadStream(path), mode ?? info.mode & 0o777, info.mtime);
}

/** Runs `work` over `items`, `width` at a time (object-store round trips). */
async function eachLimited<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/** Which outputs the store has (size as stored), and which it lacks. */
export async function statOutputs(storage: Storage, outputs: Facts['outputs']): Promise<OutputRecord[]> {
  const records: OutputRecord[] = outputs.map((o) => ({ ...o }));
  await eachLimited(records, 8, async (record) => {
    const stored = await storage.stat(record.storageKey);
    if (stored) record.bytes = stored.bytes;
    else record.missing = true;
  });
  return records;
}

export interface BackupSummary {
  file: string;
  bytes: number;
  header: BackupHeader;
  /** Outputs the database names that the store did not have. */
  missing: OutputRecord[];
}

/** Writes a backup of the installation `env` describes to `options.out` (which must not exist). */
export async function createBackup(env: Env, options: { out: string; version: string; log?: Log }): Promise<BackupSummary> {
  const log = options.log ?? (() => undefined);
  const out = resolve(options.out);
  if (existsSync(out)) throw new AppError('conflict', `${out} exists: name a new file (a backup never replaces another)`);
  await mkdir(dirname(out), { recursive: true });
  const where = layoutOf(env);
  const partial = `${out}.partial-${process.pid}`;
  const dumpFile = `${out}.pgdump-${process.pid}`;
  try {
    let facts: Facts;
    let database: BackupHeader['database'];
    let pgliteFiles: string[] = [];
    let pgliteDirs: string[] = [];
    if (env.DATABASE_URL) {
      const snapshot = await PgSnapshot.open(env.DATABASE_URL);
      try {
        const tool = await findPgTool('pg_dump', env.PATH, snapshot.serverMajor);
        facts = await readFacts((text) => snapshot.query(text));
        log(`pg_dump (${tool.path}, snapshot ${snapshot.id})…`);
        await snapshot.dump(tool, env.DATABASE_URL, dumpFile);
        database = { kind: 'postgres', serverVersion: snapshot.serverVersion, serverMajor: snapshot.serverMajor, dumpTool: tool.version, migrations: facts.migrations };
      } finally {
        await snapshot.close();
      }
    } else {
      if (!existsSync(join(where.pgliteDir, 'PG_VERSION'))) {
        throw new AppError('not_found', `no embedded database in ${where.pgliteDir}: set AIPROD_DATA_DIR to the service's data directory (or DATABASE_URL for PostgreSQL)`);
      }
      assertPgliteClosed(where.pgliteDir, 'in another process');
      const db = await openPglite(where.pgliteDir);
      let version: string;
      try {
        facts = await readFacts(async (text) => (await db.executeSql(text)).rows as Record<string, unknown>[]);
        version = String(((await db.executeSql('select version() as v')).rows[0] as { v: string }).v);
        await db.executeSql('checkpoint');
      } finally {
        await db.close();
      }
      assertPgliteClosed(where.pgliteDir, 'in another process');
      pgliteFiles = await filesUnder(where.pgliteDir);
      pgliteDirs = await filesUnder(where.pgliteDir, 'directories');
      database = { kind: 'pglite', serverVersion: version, serverMajor: majorOf(version), migrations: facts.migrations };
    }

    const outputs = await statOutputs(where.storage, facts.outputs);
    const assets = await filesUnder(where.assetsDir);
    const keyIncluded = !env.AIPROD_MASTER_KEY && !env.DATABASE_URL && existsSync(where.masterKeyFile);
    const header: BackupHeader = {
      format: 'aiprod-backup',
      formatVersion: FORMAT_VERSION,
      aiprodVersion: options.version,
      createdAt: new Date().toISOString(),
      database,
      storage: { kind: where.storage.kind, location: where.localRoot ?? env.STORAGE_URL ?? '', filesIncluded: where.localRoot !== undefined },
      masterKey: { included: keyIncluded, ids: facts.masterKeyIds },
      counts: { ...facts.counts, outputFiles: where.localRoot ? outputs.filter((o) => !o.missing).length : 0, assets: assets.length },
    };

    const writer = new ArchiveWriter(partial);
    try {
      await writer.addBuffer(HEADER, Buffer.from(`${JSON.stringify(header, null, 2)}\n`));
      if (keyIncluded) await addFile(writer, 'master.key', where.masterKeyFile, 0o600);
      if (database.kind === 'postgres') await addFile(writer, 'database/postgres.dump', dumpFile, 0o600);
      for (const dir of pgliteDirs) await writer.addDirectory(`database/pglite/${dir}`);
      for (const file of pgliteFiles) await addFile(writer, `database/pglite/${file}`, join(where.pgliteDir, file), 0o600);
      for (const file of assets) await addFile(writer, `assets/${file}`, join(where.assetsDir, file));
      if (where.localRoot) {
        log(`outputs: ${header.counts.outputFiles} files…`);
        for (const output of outputs) {
          if (output.missing) continue;
          const digest = await writer.add(outputEntry(output.storageKey), output.bytes, await where.storage.read(output.storageKey));
          output.sha256 = digest.sha256;
        }
      }
      // A service started meanwhile may have changed what was just copied.
      if (database.kind === 'pglite') assertPgliteClosed(where.pgliteDir, 'again: a service started while the backup copied it, so the copy may be inconsistent');
      await writer.finish(outputs);
    } catch (error) {
      await writer.abort(error as Error);
      throw error;
    }
    await rename(partial, out);
    return { file: out, bytes: (await stat(out)).size, header, missing: outputs.filter((o) => o.missing) };
  } finally {
    await rm(partial, { force: true });
    await rm(dumpFile, { force: true });
  }
}

export const size = (bytes: number): string => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`);

export function describeKey(header: BackupHeader): string {
  const ids = header.masterKey.ids.join(', ') || 'none yet';
  return header.masterKey.included
    ? `master key: master.key is in the archive (${ids}); the archive is as secret as the key`
    : `master key: not in the archive: keep AIPROD_MASTER_KEY (${ids}) apart from backups; a restore needs it`;
}

/** The lines `aiprod backup` prints. */
export function formatBackup(summary: BackupSummary): string {
  const { header } = summary;
  const lines = [
    `backup written: ${summary.file} (${size(summary.bytes)})`,
    `  database: ${header.database.kind}, ${header.database.serverVersion.split(' on ')[0]}; ${header.counts.tenants} tenants, ${header.counts.productions} productions`,
    header.storage.filesIncluded
      ? `  outputs: ${header.counts.outputs} (${size(header.counts.outputBytes)}), ${header.counts.outputFiles} files archived with their SHA-256`
      : `  outputs: ${header.counts.outputs} (${size(header.counts.outputBytes)}), manifest only: ${header.storage.location} keeps the bytes (enable versioning)`,
    `  ${describeKey(header)}`,
  ];
  if (summary.missing.length > 0) {
    lines.push(`! ${summary.missing.length} outputs the database names were not in storage (recorded as missing):`);
    for (const o of summary.missing.slice(0, 10)) lines.push(`  ${o.storageKey}`);
  }
  return lines.join('\n');
}
