/**
 * The backup archive: one uncompressed tar (tar-stream), written and read as a stream, so outputs
 * of any size pass through without being held in memory (MP4s and pg_dump's custom format are
 * compressed already). `tar -tvf` lists it. In order:
 *
 *   aiprod-backup.json      the header: format version, AIPROD version, when, database kind, counts
 *   master.key              the embedded installation's master key (when it lives in the data dir)
 *   database/postgres.dump  pg_dump --format=custom, or
 *   database/pglite/…       every file of the embedded database's directory, closed cleanly
 *   assets/…                AIPROD_DATA_DIR/assets, the files briefs name
 *   outputs/<storage key>   every stored output the outputs table names (local storage only)
 *   manifest.json           last: size and SHA-256 of every entry before it, and the outputs
 *
 * The manifest comes last because its digests are taken while the entries stream past; a restore
 * stages everything, then checks every entry against it before it touches the target.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract, pack, type Pack } from 'tar-stream';
import { z } from 'zod';
import { AppError } from '../contract/errors.js';

export const HEADER = 'aiprod-backup.json';
export const MANIFEST = 'manifest.json';
export const FORMAT_VERSION = 1;

const count = z.number().int().min(0);

export const headerSchema = z.object({
  format: z.literal('aiprod-backup'),
  formatVersion: z.number().int(),
  aiprodVersion: z.string(),
  createdAt: z.string(),
  database: z.object({
    kind: z.enum(['pglite', 'postgres']),
    /** `select version()` of the database backed up. */
    serverVersion: z.string(),
    serverMajor: count,
    /** pg_dump's `--version`, for PostgreSQL. */
    dumpTool: z.string().optional(),
    /** Migrations applied (drizzle's journal): a build that knows fewer cannot run on this data. */
    migrations: count,
  }),
  storage: z.object({
    kind: z.enum(['local', 's3']),
    /** The local root or s3://bucket/prefix, as configured when the backup was made. */
    location: z.string(),
    /** Whether the outputs' bytes are in the archive (local storage) or only their manifest (S3). */
    filesIncluded: z.boolean(),
  }),
  masterKey: z.object({
    /** master.key is in the archive (the embedded installation's key file was in use). */
    included: z.boolean(),
    /** Fingerprints of the master keys the data keys are wrapped with (`SecretBox`): the key a restore needs. */
    ids: z.array(z.string()),
  }),
  counts: z.object({ tenants: count, productions: count, outputs: count, outputBytes: count, outputFiles: count, assets: count }),
});
export type BackupHeader = z.infer<typeof headerSchema>;

const digest = z.object({ bytes: count, sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type Digest = z.infer<typeof digest>;

export const outputRecord = z.object({
  productionId: z.string(),
  name: z.string(),
  storageKey: z.string(),
  /** Bytes of the stored object when it was read (the database row's when it was missing). */
  bytes: count,
  /** SHA-256 of the object's bytes, when they were read (local storage). */
  sha256: z.string().optional(),
  /** The row names an object the store did not have when the backup was made. */
  missing: z.boolean().optional(),
});
export type OutputRecord = z.infer<typeof outputRecord>;

export const manifestSchema = z.object({
  header: digest,
  entries: z.array(digest.extend({ path: z.string() })),
  outputs: z.array(outputRecord),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** The archive name of a stored output. */
export const outputEntry = (storageKey: string): string => `outputs/${storageKey}`;

/**
 * Writes the archive to `path` (which must not exist) as entries are added: each entry's bytes are
 * hashed on their way through, and `finish` appends the manifest of them.
 */
export class ArchiveWriter {
  private readonly tar: Pack = pack();
  private readonly written: Promise<void>;
  private readonly entries: (Digest & { path: string })[] = [];
  private headerDigest: Digest | undefined;

  constructor(path: string) {
    this.written = pipeline(this.tar, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
    this.written.catch(() => undefined); // awaited in add() and finish(); never unhandled
  }

  /** Adds a small entry from memory (the header, master.key). */
  async addBuffer(name: string, data: Buffer, mode = 0o644): Promise<Digest> {
    return this.add(name, data.length, [data], mode, new Date());
  }

  /** Adds a file's bytes from a stream of exactly `size` bytes. */
  async add(name: string, size: number, body: AsyncIterable<Buffer> | Iterable<Buffer>, mode = 0o644, mtime = new Date()): Promise<Digest> {
    const hash = createHash('sha256');
    let bytes = 0;
    let settle: (error?: Error | null) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    done.catch(() => undefined);
    const entry = this.tar.entry({ name, size, mode, mtime, type: 'file' }, (error) => settle(error));
    const failed = this.written.then(() => {
      throw new Error('the archive closed early');
    });
    failed.catch(() => undefined);
    try {
      for await (const chunk of body) {
        bytes += chunk.length;
        if (bytes > size) throw new AppError('conflict', `${name} grew while it was being archived (more than ${size} bytes): run the backup again`);
        hash.update(chunk);
        if (!entry.write(chunk)) await Promise.race([once(entry, 'drain'), failed]);
      }
      if (bytes !== size) throw new AppError('conflict', `${name} shrank while it was being archived (${bytes} of ${size} bytes): run the backup again`);
      entry.end(undefined);
      await Promise.race([done, failed]);
    } catch (error) {
      entry.destroy(error as Error);
      throw error;
    }
    const result = { bytes, sha256: hash.digest('hex') };
    if (name === HEADER) this.headerDigest = result;
    else this.entries.push({ path: name, ...result });
    return result;
  }

  /** Adds an empty directory (the embedded database needs its empty ones: pg_wal/archive_status, pg_tblspc …). */
  async addDirectory(name: string, mode = 0o700): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.tar.entry({ name, mode, type: 'directory', mtime: new Date() }, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Appends the manifest and closes the file; resolves once every byte is written. */
  async finish(outputs: OutputRecord[]): Promise<void> {
    if (!this.headerDigest) throw new Error('the header must be the first entry');
    const manifest: Manifest = { header: this.headerDigest, entries: this.entries, outputs };
    await this.addBuffer(MANIFEST, Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`));
    this.tar.finalize();
    await this.written;
  }

  /** Stops writing after a failure (the caller removes the partial file). */
  async abort(error: Error): Promise<void> {
    this.tar.destroy(error);
    await this.written.catch(() => undefined);
  }
}

/** `name` as a relative path that stays inside wherever it is extracted, or an error naming it. */
function safeName(name: string): string {
  const normal = posix.normalize(name);
  if (normal.startsWith('/') || normal === '..' || normal.startsWith('../') || name.includes('\0') || name.includes('\\')) {
    throw new AppError('invalid_request', `the archive has an entry outside its own tree (${JSON.stringify(name)}): it was not written by aiprod backup`);
  }
  return normal;
}

export interface ArchiveEntry {
  name: string;
  size: number;
  mode: number;
  /** The entry's bytes; read it to the end or leave it (the reader drains what is left). */
  body: AsyncIterable<Buffer>;
}

/**
 * Reads the archive entry by entry, calling `onEntry` for every file and `onDirectory` for every
 * directory, and returns the size and SHA-256 of every file, taken from the bytes as they were read.
 */
export async function readArchive(
  path: string,
  onEntry: (entry: ArchiveEntry) => Promise<void>,
  onDirectory: (name: string, mode: number) => Promise<void>,
): Promise<Map<string, Digest>> {
  const digests = new Map<string, Digest>();
  const reader = extract();
  const source = createReadStream(path);
  const piped = pipeline(source, reader);
  piped.catch(() => undefined); // its failure surfaces through the iteration below
  try {
    for await (const entry of reader) {
      const { header } = entry;
      if (header.type === 'directory') {
        entry.resume();
        await onDirectory(safeName(header.name), header.mode ?? 0o700);
        continue;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        throw new AppError('invalid_request', `the archive has a ${header.type ?? 'special'} entry (${header.name}): aiprod backup writes files only`);
      }
      const name = safeName(header.name);
      if (digests.has(name)) throw new AppError('invalid_request', `the archive has ${name} twice: it was not written by aiprod backup`);
      const hash = createHash('sha256');
      let bytes = 0;
      async function* hashed(): AsyncGenerator<Buffer> {
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          hash.update(chunk);
          bytes += chunk.length;
          yield chunk;
        }
      }
      const body = hashed();
      await onEntry({ name, size: header.size ?? 0, mode: header.mode ?? 0o644, body });
      for await (const _rest of body) void _rest; // what the handler did not read still counts
      digests.set(name, { bytes, sha256: hash.digest('hex') });
    }
    await piped;
  } catch (error) {
    source.destroy();
    reader.destroy();
    if (error instanceof AppError) throw error;
    throw new AppError('invalid_request', `${path} is not a readable backup archive: ${(error as Error).message}`, { cause: error });
  }
  return digests;
}

/**
 * Every difference between what was read and what the manifest says: entries damaged, missing or
 * unknown to it. Empty when the archive is whole.
 */
export function verifyDigests(read: Map<string, Digest>, manifest: Manifest): string[] {
  const problems: string[] = [];
  const header = read.get(HEADER);
  if (!header || header.sha256 !== manifest.header.sha256) problems.push(`${HEADER}: its SHA-256 does not match the manifest`);
  const listed = new Set<string>([HEADER, MANIFEST]);
  for (const entry of manifest.entries) {
    listed.add(entry.path);
    const got = read.get(entry.path);
    if (!got) problems.push(`${entry.path}: missing from the archive`);
    else if (got.bytes !== entry.bytes) problems.push(`${entry.path}: ${got.bytes} bytes, the manifest says ${entry.bytes}`);
    else if (got.sha256 !== entry.sha256) problems.push(`${entry.path}: SHA-256 ${got.sha256.slice(0, 12)}…, the manifest says ${entry.sha256.slice(0, 12)}… (damaged)`);
  }
  for (const name of read.keys()) if (!listed.has(name)) problems.push(`${name}: in the archive but not in its manifest`);
  const bySha = new Map(manifest.entries.map((e) => [e.path, e.sha256]));
  for (const output of manifest.outputs) {
    if (output.sha256 === undefined) continue;
    if (bySha.get(outputEntry(output.storageKey)) !== output.sha256) problems.push(`${outputEntry(output.storageKey)}: the output's SHA-256 is not the archived file's`);
  }
  return problems;
}
