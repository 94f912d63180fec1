/**
 * `aiprod restore FILE` (docs/disaster-recovery.md): an archive of `aiprod backup` into an empty
 * data directory (the embedded database) or an empty PostgreSQL database (pg_restore, in one
 * transaction). It stages everything beside the target, checks every entry's SHA-256 against the
 * manifest, the target's emptiness, the master key and (S3) that the objects the manifest names
 * exist, and only then moves the files into place (write, then rename): a damaged, cut or refused
 * archive leaves the target as it was. The restored database's counts are checked against the
 * header's.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Env } from '../config/env.js';
import { AppError } from '../contract/errors.js';
import { openPglite } from '../db/database.js';
import { parseMasterKey } from '../security/secrets.js';
import { FORMAT_VERSION, HEADER, headerSchema, MANIFEST, manifestSchema, readArchive, verifyDigests, type BackupHeader, type Manifest, type OutputRecord } from './backup-archive.js';
import { describeKey, filesUnder, layoutOf, readFacts, statOutputs, type Facts, type Layout, type Log } from './backup.js';
import { findPgTool, nonEmptyReason, pgRestore, withPgClient } from './backup-postgres.js';

async function readSmall(body: AsyncIterable<Buffer>, name: string, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw new AppError('invalid_request', `${name} in the archive is over ${limit} bytes: it was not written by aiprod backup`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AppError('invalid_request', `${name} in the archive is not JSON: the archive is damaged`);
  }
}

function parseHeader(value: unknown): BackupHeader {
  const version = (value as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && version > FORMAT_VERSION) {
    throw new AppError('invalid_request', `the archive is in backup format ${version}, and this AIPROD reads format ${FORMAT_VERSION}: restore it with the AIPROD version that made it (${String((value as { aiprodVersion?: unknown }).aiprodVersion)}) or newer`);
  }
  const parsed = headerSchema.safeParse(value);
  if (!parsed.success) throw new AppError('invalid_request', `the archive's ${HEADER} is not an AIPROD backup header: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** Migrations this build has (drizzle's journal): data migrated further needs a newer build. */
function knownMigrations(): number {
  const journal = JSON.parse(readFileSync(new URL('../db/migrations/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

/** Everything that makes the target unfit for this archive, checked before anything is written. */
async function checkTarget(env: Env, where: Layout, header: BackupHeader): Promise<void> {
  if (header.database.migrations > knownMigrations()) {
    throw new AppError('invalid_request', `the backup's database has ${header.database.migrations} migrations applied and this AIPROD knows ${knownMigrations()}: restore it with AIPROD ${header.aiprodVersion} or newer`);
  }
  if (header.database.kind === 'pglite' && env.DATABASE_URL) {
    throw new AppError('invalid_request', 'this backup holds the embedded database: unset DATABASE_URL to restore it into AIPROD_DATA_DIR');
  }
  if (header.database.kind === 'postgres' && !env.DATABASE_URL) {
    throw new AppError('invalid_request', 'this backup holds a PostgreSQL database: set DATABASE_URL to the empty database to restore it into (createdb NAME)');
  }
  if (header.storage.filesIncluded && !where.localRoot) {
    throw new AppError('invalid_request', 'this backup carries the outputs\' files (local storage): unset STORAGE_URL, or set it to a file:// directory, to restore them');
  }
  if (!header.storage.filesIncluded && where.localRoot) {
    throw new AppError('invalid_request', `this backup's outputs live in object storage (${header.storage.location}): set STORAGE_URL and the S3_ variables to that bucket`);
  }
  const notEmpty = (what: string, fix: string): AppError => new AppError('conflict', `${what} is not empty: ${fix} (a restore never overwrites data)`);
  if (header.database.kind === 'pglite' && (await readdir(where.pgliteDir).catch(() => [])).length > 0) {
    throw notEmpty(where.pgliteDir, 'restore into a new AIPROD_DATA_DIR');
  }
  if (header.database.kind === 'postgres') {
    const reason = await nonEmptyReason(env.DATABASE_URL!);
    if (reason) throw notEmpty(`the database of DATABASE_URL (${reason})`, 'create an empty one (createdb NAME) and point DATABASE_URL at it');
  }
  if (where.localRoot && (await filesUnder(where.localRoot)).length > 0) throw notEmpty(`the output storage ${where.localRoot}`, 'restore into a new AIPROD_DATA_DIR or an empty STORAGE_URL directory');
  if (header.counts.assets > 0 && (await filesUnder(where.assetsDir)).length > 0) throw notEmpty(where.assetsDir, 'restore into a new AIPROD_DATA_DIR');
  if (header.masterKey.included && existsSync(where.masterKeyFile)) throw notEmpty(`${where.dataDir} (it has a master.key)`, 'restore into a new AIPROD_DATA_DIR');

  // The secrets in the database are wrapped with these master keys: the restored service needs one.
  const configured = [env.AIPROD_MASTER_KEY, env.AIPROD_MASTER_KEY_PREVIOUS].flatMap((k, i) => (k ? [parseMasterKey(k, i ? 'AIPROD_MASTER_KEY_PREVIOUS' : 'AIPROD_MASTER_KEY').id] : []));
  const lacking = header.masterKey.ids.filter((id) => !configured.includes(id));
  if (lacking.length === 0) return;
  if (header.masterKey.included && !env.AIPROD_MASTER_KEY) return; // the restored master.key is the key
  throw new AppError(
    'invalid_request',
    header.masterKey.included
      ? `AIPROD_MASTER_KEY (${configured.join(', ')}) is not the key the backup's secrets are wrapped with (${lacking.join(', ')}): unset it to use the master.key restored from the backup`
      : `the backup's secrets are wrapped with master key ${lacking.join(', ')}, which backups do not carry: set AIPROD_MASTER_KEY to it${configured.length ? ` (the configured key is ${configured.join(', ')})` : ''}`,
  );
}

export interface RestoreSummary {
  file: string;
  header: BackupHeader;
  /** Entries whose SHA-256 matched the manifest. */
  checked: number;
  /** Outputs named by the manifest that the object store does not have (S3). */
  missing: OutputRecord[];
}

/** Moves a staged directory to `to`, which may exist but holds no files. */
async function moveInto(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await mkdir(dirname(to), { recursive: true });
  await rename(from, to);
}

function sameCounts(actual: Facts['counts'], header: BackupHeader): void {
  const expected = header.counts;
  const wrong = (['tenants', 'productions', 'outputs'] as const).filter((k) => actual[k] !== expected[k]);
  if (wrong.length > 0) {
    throw new AppError('internal', `the restored database has ${wrong.map((k) => `${actual[k]} ${k}`).join(', ')}; the backup recorded ${wrong.map((k) => expected[k]).join(', ')}`);
  }
}

/** Restores `options.file` into the empty installation `env` describes. */
export async function restoreBackup(env: Env, options: { file: string; allowMissingObjects?: boolean; log?: Log }): Promise<RestoreSummary> {
  const log = options.log ?? (() => undefined);
  const file = resolve(options.file);
  if (!existsSync(file)) throw new AppError('not_found', `${file} does not exist`);
  const where = layoutOf(env);
  const token = randomBytes(4).toString('hex');
  const stage = join(where.dataDir, `.restore-${token}`);
  const outputsStage = where.localRoot ? join(dirname(where.localRoot), `.${basename(where.localRoot)}.restore-${token}`) : undefined;
  let header: BackupHeader | undefined;
  let manifest: Manifest | undefined;

  /** Where an entry is staged; anything else in the archive is refused. */
  const staged = (name: string, h: BackupHeader): string | undefined => {
    if (name === 'master.key' && h.masterKey.included) return join(stage, 'master.key');
    if (name === 'database/postgres.dump' && h.database.kind === 'postgres') return join(stage, 'postgres.dump');
    if (name.startsWith('database/pglite/') && h.database.kind === 'pglite') return join(stage, 'pglite', name.slice('database/pglite/'.length));
    if (name.startsWith('assets/')) return join(stage, name);
    if (name.startsWith('outputs/') && outputsStage) return join(outputsStage, name.slice('outputs/'.length));
    return undefined;
  };

  try {
    const digests = await readArchive(file, async (entry) => {
      if (!header) {
        if (entry.name !== HEADER) throw new AppError('invalid_request', `${file} does not start with ${HEADER}: it is not an AIPROD backup`);
        header = parseHeader(await readSmall(entry.body, HEADER, 1 << 20));
        await checkTarget(env, where, header);
        await mkdir(stage, { recursive: true });
        log(`restoring a ${header.database.kind} backup made ${header.createdAt} by AIPROD ${header.aiprodVersion}…`);
        return;
      }
      if (manifest) throw new AppError('invalid_request', `the archive has ${entry.name} after its manifest: it was not written by aiprod backup`);
      if (entry.name === MANIFEST) {
        const parsed = manifestSchema.safeParse(await readSmall(entry.body, MANIFEST, 1 << 30));
        if (!parsed.success) throw new AppError('invalid_request', `the archive's ${MANIFEST} is damaged: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
        manifest = parsed.data;
        return;
      }
      const to = staged(entry.name, header);
      if (!to) throw new AppError('invalid_request', `the archive has an entry this backup cannot hold (${entry.name}): it was not written by aiprod backup`);
      await mkdir(dirname(to), { recursive: true });
      await pipeline(Readable.from(entry.body), createWriteStream(to, { flags: 'wx', mode: (entry.mode & 0o777) | 0o600 }));
    }, async (name) => {
      // Only the embedded database has directories of its own (empty ones PostgreSQL needs).
      const to = header?.database.kind === 'pglite' && name.startsWith('database/pglite/') ? staged(name, header) : undefined;
      if (!to) throw new AppError('invalid_request', `the archive has a directory this backup cannot hold (${name}): it was not written by aiprod backup`);
      await mkdir(to, { recursive: true, mode: 0o700 });
    });
    if (!header || !manifest) throw new AppError('invalid_request', `${file} ends before its manifest: it is cut short (the backup did not finish, or the copy was interrupted); nothing was restored`);
    const problems = verifyDigests(digests, manifest);
    if (problems.length > 0) {
      throw new AppError('invalid_request', `${file} is damaged: ${problems.length} entr${problems.length === 1 ? 'y does' : 'ies do'} not match its manifest; nothing was restored`, {
        details: problems.map((message) => ({ message })),
      });
    }
    const restored: BackupHeader = header;

    const missing = restored.storage.filesIncluded ? [] : (await statOutputs(where.storage, manifest.outputs.filter((o) => !o.missing))).filter((o) => o.missing);
    if (missing.length > 0 && !options.allowMissingObjects) {
      throw new AppError('conflict', `${missing.length} of the ${manifest.outputs.length} outputs the backup names are not in ${env.STORAGE_URL}: bring them back from the bucket's versions (docs/disaster-recovery.md), or restore anyway with --allow-missing-objects; nothing was restored`, {
        details: missing.slice(0, 20).map((o) => ({ path: o.storageKey, message: `${o.productionId} ${o.name}` })),
      });
    }

    if (restored.database.kind === 'postgres') {
      const url = env.DATABASE_URL!;
      // pg_restore reads archives of its own major version and older ones: it must be as new as the pg_dump that wrote it.
      const tool = await findPgTool('pg_restore', env.PATH, Number(/\(PostgreSQL\) (\d+)/.exec(restored.database.dumpTool ?? '')?.[1] ?? 0));
      log(`pg_restore (${tool.path})…`);
      await pgRestore(tool, url, join(stage, 'postgres.dump'));
      sameCounts((await withPgClient(url, async (client) => readFacts(async (text) => (await client.query(text)).rows as Record<string, unknown>[]))).counts, restored);
    } else {
      // Open the copy where it is staged: it must start, and hold what the header says.
      const db = await openPglite(join(stage, 'pglite'));
      try {
        sameCounts((await readFacts(async (text) => (await db.executeSql(text)).rows as Record<string, unknown>[])).counts, restored);
      } finally {
        await db.close();
      }
      await moveInto(join(stage, 'pglite'), where.pgliteDir);
    }
    if (restored.masterKey.included) {
      await rename(join(stage, 'master.key'), where.masterKeyFile);
      await chmod(where.masterKeyFile, 0o600);
    }
    if (restored.counts.assets > 0) await moveInto(join(stage, 'assets'), where.assetsDir);
    if (outputsStage && existsSync(outputsStage)) await moveInto(outputsStage, where.localRoot!);
    return { file, header: restored, checked: digests.size, missing };
  } finally {
    await rm(stage, { recursive: true, force: true });
    if (outputsStage) await rm(outputsStage, { recursive: true, force: true });
  }
}

/** The lines `aiprod restore` prints. */
export function formatRestore(summary: RestoreSummary, env: Env): string {
  const { header } = summary;
  const lines = [
    `restored ${summary.file} (made ${header.createdAt} by AIPROD ${header.aiprodVersion})`,
    `  database: ${header.database.kind} → ${header.database.kind === 'postgres' ? 'DATABASE_URL' : join(resolve(env.AIPROD_DATA_DIR), 'pglite')}; ${header.counts.tenants} tenants, ${header.counts.productions} productions`,
    `  checked: ${summary.checked} archive entries against the manifest's SHA-256`,
    header.storage.filesIncluded
      ? `  outputs: ${header.counts.outputFiles} files restored to the output storage`
      : `  outputs: ${header.counts.outputs - summary.missing.length} of ${header.counts.outputs} objects present in ${env.STORAGE_URL}`,
    `  ${describeKey(header)}`,
  ];
  for (const o of summary.missing.slice(0, 10)) lines.push(`! missing object: ${o.storageKey}`);
  lines.push('next: start the service (aiprod serve); productions that were rendering are taken over after STALL_TIMEOUT_SEC');
  return lines.join('\n');
}
