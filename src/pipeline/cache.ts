/**
 * Content-addressed stage outputs, safe to share between renders, worker processes and machines.
 *
 * A unit of work (one scene's narration, one video segment, the music bed …) lives in
 * `<root>/<stage>/<key>/`, where the key hashes its input and provider settings. Such a directory
 * only ever appears whole: a producer works in its own `<root>/.tmp/<stage>-<key>-<pid>-<random>/`,
 * writes `manifest.json` there last (the value, and the size and SHA-256 of every file), and renames
 * the directory into place. A reader therefore never sees half a unit, and a failing or cancelled
 * producer removes only its own temp directory.
 *
 * One producer per unit: callers in this process wait for the one producing it, and processes wait on
 * a lock file (`cache-lock.ts`; a killed holder's lock is taken over). A waiter looks in the cache
 * again once it is its turn, so it normally finds the unit made. Should two producers still race
 * (a lock taken over from a paused holder), the second rename fails on the first one's directory,
 * which wins; the loser discards its own.
 *
 * Paths: `produce` returns absolute paths into the temp directory it was given. The manifest stores
 * each such string relative to the unit (with the places it occurs), and a value is always read back
 * through the manifest, so what a caller gets — on a miss as on a hit, in any process, whatever the
 * cache root is mounted as — points into the final directory. Strings the caller names in `refs`
 * (a downloaded file whose path changes per attempt) are stored by their stable name and given back
 * as this call's string.
 *
 * Integrity: every hit checks each file's size, and its SHA-256 unless this process already hashed
 * the same files (same inode, size and mtime) since. Hashing runs at ≈1.3 GB/s, well under the cost
 * of the work a hit replaces (the smallest being QA's full decode of the video), and it is the only
 * check that catches bytes changed in place. A unit that fails is moved aside, noted and made again;
 * an I/O error reading it is thrown, not taken for damage.
 *
 * Removal never pulls files from under a render reading them: `invalidate` (QA, for the units a
 * failed check implicates) renames only the manifest to `TOMBSTONE`, so lookups miss while the files
 * stay; a replaced unit goes to `<root>/.trash/`; prune deletes both after `tombstoneGraceMs`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, type Stats } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { hashFile } from '../lib/file-hash.js';
import { contentHash } from '../lib/hash.js';
import { AppError } from '../contract/errors.js';
import { FORMAT, MANIFEST, seal, signatureOf, unseal, type Manifest } from './cache-manifest.js';
import { acquireLock, breakLock, cancelled, lockState, readOwner, tryLock, type LockTiming } from './cache-lock.js';

export interface Memoized<T> {
  value: T;
  key: string;
  dir: string;
  hit: boolean;
  /** Which version of the unit this is (the SHA-256 of its manifest): a unit made again is another. */
  version: string;
}

export interface MemoOptions {
  /** Cancels waiting for another producer (and is the caller's to pass to its own work). */
  signal?: AbortSignal;
  /**
   * The render's lifetime signal, under which the version given is remembered for `invalidate`;
   * defaults to `signal` (pass it when `signal` is one derived from it, as for a pool's work).
   */
  render?: AbortSignal;
  /** Told when a damaged unit is made again. */
  note?: (message: string) => void;
  /** Strings stored by a stable name: { name → this call's string } (e.g. a content hash → a download's path). */
  refs?: Record<string, string>;
}

export interface StageCacheOptions {
  /** A lock (or temp directory) not refreshed for this long belongs to a dead producer. Default 60 s. */
  staleLockMs?: number;
  /** How often a producer refreshes its lock. Default 5 s. */
  heartbeatMs?: number;
  /**
   * How long the files of an invalidated or replaced unit stay for renders still reading them
   * before prune deletes them. Default 1 h.
   */
  tombstoneGraceMs?: number;
}

/** What an invalidated unit's manifest is renamed to: lookups miss, the files stay for readers in flight. */
export const TOMBSTONE = 'manifest.invalid.json';

type Loaded = { ok: true; value: unknown; version: string } | { ok: false; reason?: string };

export class StageCache {
  readonly root: string;
  private readonly timing: LockTiming;
  private readonly producing = new Map<string, Promise<unknown>>();
  /** Unit directory → the signature of files this process has hashed and found intact. */
  private readonly verified = new Map<string, string>();
  /** Per render (its lifetime signal): unit directory → the version it was given. */
  private readonly used = new WeakMap<AbortSignal, Map<string, string>>();
  private readonly graceMs: number;
  private counts = { hits: 0, misses: 0, repaired: 0, invalidated: 0 };

  constructor(root: string, options: StageCacheOptions = {}) {
    this.root = resolve(root);
    this.timing = { staleMs: options.staleLockMs ?? 60_000, heartbeatMs: options.heartbeatMs ?? 5_000 };
    this.graceMs = options.tombstoneGraceMs ?? 3600_000;
  }

  /**
   * Returns the stored value for (stage, keyParts), or runs `produce` in a fresh directory and stores it.
   * Paths in the value must be whole strings (`join(dir, 'x.wav')`), as they are relocated one by one.
   *
   * @example
   *   const unit = await cache.memo('score', { provider, mood, seed }, (dir) => composer.compose(request, join(dir, 'music.wav'), signal), { signal });
   *   unit.value.path; // <root>/score/<key>/music.wav, on a miss as on a hit
   */
  async memo<T>(stage: string, keyParts: unknown, produce: (dir: string, key: string) => Promise<T>, options: MemoOptions = {}): Promise<Memoized<T>> {
    const key = contentHash(stage, keyParts);
    const dir = join(this.root, stage, key);
    const found = await this.load(dir, options.refs);
    const served = found.ok ? this.hit(dir, key, found.value as T, found.version, options.render ?? options.signal) : undefined;
    if (served) return served;
    const id = `${stage}/${key}`;
    for (let busy = this.producing.get(id); busy; busy = this.producing.get(id)) await settled(busy, options.signal);
    const work = this.produceLocked(stage, key, dir, produce, options);
    this.producing.set(id, work);
    try {
      return await work;
    } finally {
      if (this.producing.get(id) === work) this.producing.delete(id);
    }
  }

  /**
   * Marks a unit invalid: its manifest is renamed to `TOMBSTONE`, so later lookups miss and make it
   * again, while its files stay for renders reading them right now (prune deletes them after
   * `tombstoneGraceMs`). With the `signal` of the render that used the unit, only the version that
   * render was given is invalidated: a unit made again since is left alone. True if one was marked.
   */
  async invalidate(stage: string, key: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const dir = join(this.root, stage, key);
    const manifestPath = join(dir, MANIFEST);
    const used = options.signal ? this.used.get(options.signal)?.get(dir) : undefined;
    let text: string;
    try {
      text = readFileSync(manifestPath, 'utf8');
    } catch (error) {
      if (isMissing(error)) return false;
      throw ioError(error, `reading the ${stage} unit ${key.slice(0, 12)}`);
    }
    if (used !== undefined && versionOf(text) !== used) return false;
    this.verified.delete(dir);
    const tombstone = join(dir, TOMBSTONE);
    try {
      renameSync(manifestPath, tombstone);
    } catch (error) {
      if (isMissing(error)) return false;
      throw ioError(error, `invalidating the ${stage} unit ${key.slice(0, 12)}`);
    }
    const now = new Date();
    try {
      utimesSync(tombstone, now, now); // the grace counts from now
    } catch {
      // prune then counts from its last use, which is older: at worst it goes sooner
    }
    this.counts.invalidated++;
    return true;
  }

  /**
   * Deletes units not used since `olderThan` (by their manifest's mtime, which a hit renews) and
   * invalidated or replaced units older than `tombstoneGraceMs`, skipping any whose lock is held;
   * clears temp directories and locks of dead producers. Returns what went.
   *
   * Asynchronous and yielding after every unit: a large cache must not stop this process's event
   * loop (its lock heartbeats would stop, and other processes would take its live locks). A unit is
   * renamed aside before it is deleted and its manifest's mtime read again there, so a hit that
   * renewed it meanwhile puts it back. `beforeRemove` is a seam for tests.
   */
  async prune(olderThan: Date, hooks: { beforeRemove?: (dir: string) => void } = {}): Promise<{ units: number; bytes: number; tmpDirs: number; locks: number }> {
    const result = { units: 0, bytes: 0, tmpDirs: 0, locks: 0 };
    const cutoff = olderThan.getTime();
    const expired = async (dir: string): Promise<'unused' | 'invalid' | undefined> => {
      const manifest = await statAsync(join(dir, MANIFEST));
      if (manifest) return manifest.mtimeMs < cutoff ? 'unused' : undefined;
      const tombstone = await statAsync(join(dir, TOMBSTONE));
      if (tombstone) return tombstone.mtimeMs < Date.now() - this.graceMs ? 'invalid' : undefined;
      const stamp = await statAsync(dir);
      return stamp && stamp.mtimeMs < cutoff ? 'unused' : undefined;
    };
    for (const stage of await readdirAsync(this.root)) {
      if (stage.startsWith('.')) continue;
      for (const key of await readdirAsync(join(this.root, stage))) {
        await yieldToLoop();
        const dir = join(this.root, stage, key);
        if (!(await expired(dir))) continue;
        const lock = tryLock(this.lockPath(stage, key), this.timing);
        if (!lock) continue; // being produced or repaired right now
        try {
          if (!(await expired(dir))) continue;
          hooks.beforeRemove?.(dir);
          const bytes = await directoryBytes(dir);
          const aside = await this.renameAside(dir);
          if (!aside) continue;
          // A hit may have renewed the unit between the check and the rename: then it goes back.
          const manifest = await statAsync(join(aside, MANIFEST));
          if (manifest && manifest.mtimeMs >= cutoff) {
            await rename(aside, dir).catch(() => undefined); // if that fails, it waits in the trash for the grace
            continue;
          }
          await rm(aside, { recursive: true, force: true }).catch(() => undefined); // the trash's next sweep retries
          result.units++;
          result.bytes += bytes;
        } finally {
          lock.release();
        }
      }
    }
    const locks = join(this.root, '.locks');
    const staleBefore = Date.now() - this.timing.staleMs;
    for (const name of await readdirAsync(locks)) {
      await yieldToLoop();
      const path = join(locks, name);
      if (name.endsWith('.lock')) {
        if (breakLock(path, this.timing, this.tmpRoot)) result.locks++;
      } else if (((await statAsync(path))?.mtimeMs ?? Infinity) < staleBefore) {
        await rm(path, { force: true }); // a lock's draft, left by a process that died while taking it
      }
    }
    // A temp directory is live while a live lock names it or its producer keeps refreshing it.
    const live = new Set<string>();
    for (const name of await readdirAsync(locks)) {
      const owner = readOwner(join(locks, name));
      if (owner?.tmp && lockState(join(locks, name), this.timing) === undefined) live.add(owner.tmp);
    }
    for (const name of await readdirAsync(this.tmpRoot)) {
      await yieldToLoop();
      const stamp = await statAsync(join(this.tmpRoot, name));
      if (live.has(name) || !stamp || stamp.mtimeMs >= staleBefore) continue;
      await rm(join(this.tmpRoot, name), { recursive: true, force: true }).catch(() => undefined);
      result.tmpDirs++;
    }
    // The trash holds units on their way out, kept for the grace (readers may still be in them).
    const graceBefore = Date.now() - this.graceMs;
    for (const name of await readdirAsync(this.trashRoot)) {
      await yieldToLoop();
      const since = Number(name.split('-')[0]);
      if (Number.isFinite(since) && since >= graceBefore) continue;
      await rm(join(this.trashRoot, name), { recursive: true, force: true }).catch(() => undefined);
    }
    return result;
  }

  /**
   * Reads every unit and re-hashes its files (an operator's or a soak test's check that the cache is
   * intact); damaged units are reported, not touched. Units of an older format count as damaged.
   */
  async verify(): Promise<{ units: number; damaged: { stage: string; key: string; reason: string }[] }> {
    let units = 0;
    const damaged: { stage: string; key: string; reason: string }[] = [];
    for (const stage of safeReaddir(this.root)) {
      if (stage.startsWith('.')) continue;
      for (const key of safeReaddir(join(this.root, stage))) {
        const dir = join(this.root, stage, key);
        if (!existsSync(join(dir, MANIFEST)) && existsSync(join(dir, TOMBSTONE))) continue; // invalidated, on its way out
        const checked = await this.check(dir, true);
        if (!checked.ok && !existsSync(dir)) continue; // removed meanwhile
        units++;
        if (!checked.ok) damaged.push({ stage, key, reason: checked.reason ?? 'a manifest of an older format' });
      }
    }
    return { units, damaged };
  }

  stats(): { hits: number; misses: number; repaired: number; invalidated: number } {
    return { ...this.counts };
  }

  private get tmpRoot(): string {
    return join(this.root, '.tmp');
  }

  private get trashRoot(): string {
    return join(this.root, '.trash');
  }

  private lockPath(stage: string, key: string): string {
    return join(this.root, '.locks', `${stage}-${key}.lock`);
  }

  /** A hit, its use noted; undefined if prune took the unit meanwhile (then it is a miss). */
  private hit<T>(dir: string, key: string, value: T, version: string, signal?: AbortSignal): Memoized<T> | undefined {
    // The manifest's mtime is the unit's last use: retention removes units unused for long.
    const now = new Date();
    try {
      utimesSync(join(dir, MANIFEST), now, now);
    } catch (error) {
      if (isMissing(error)) return undefined;
      // a read-only cache still serves hits
    }
    this.counts.hits++;
    this.noteUse(signal, dir, version);
    return { value, key, dir, hit: true, version };
  }

  /** Remembers which version of a unit a render was given, so its QA invalidates only that one. */
  private noteUse(signal: AbortSignal | undefined, dir: string, version: string): void {
    if (!signal) return;
    let units = this.used.get(signal);
    if (!units) this.used.set(signal, (units = new Map()));
    units.set(dir, version);
  }

  private async produceLocked<T>(stage: string, key: string, dir: string, produce: (dir: string, key: string) => Promise<T>, options: MemoOptions): Promise<Memoized<T>> {
    const tmpName = `${stage}-${key}-${process.pid}-${randomBytes(6).toString('hex')}`;
    const tmp = join(this.tmpRoot, tmpName);
    const lock = await acquireLock(this.lockPath(stage, key), this.timing, this.tmpRoot, tmpName, options.signal);
    try {
      // Our turn: whoever held the lock before may have made the unit.
      const found = await this.load(dir, options.refs);
      const served = found.ok ? this.hit(dir, key, found.value as T, found.version, options.render ?? options.signal) : undefined;
      if (served) return served;
      if (!found.ok && found.reason) {
        this.counts.repaired++;
        options.note?.(`the cached ${stage} unit ${key.slice(0, 12)} was damaged (${found.reason}); it is made again`);
      }
      this.moveAside(dir);
      mkdirSync(tmp, { recursive: true });
      lock.refresh(tmp);
      try {
        const value = await produce(tmp, key);
        const manifest = await seal(tmp, stage, key, value, options.refs ?? {});
        const text = JSON.stringify(manifest, null, 2);
        writeFileSync(join(tmp, MANIFEST), text);
        const theirs = await this.publish(tmp, dir, options.refs);
        if (theirs) {
          this.noteUse(options.render ?? options.signal, dir, theirs.version);
          return { value: theirs.value as T, key, dir, hit: false, version: theirs.version };
        }
        // Just hashed: this process's next hit needs only the sizes (a rename keeps inodes and mtimes).
        const signature = signatureOf(dir, text, manifest.files);
        if (signature) this.remember(dir, signature);
        this.counts.misses++;
        const version = versionOf(text);
        this.noteUse(options.render ?? options.signal, dir, version);
        return { value: unseal(manifest, dir, options.refs ?? {}) as T, key, dir, hit: false, version };
      } catch (error) {
        rmSync(tmp, { recursive: true, force: true });
        throw error;
      }
    } finally {
      lock.release();
    }
  }

  /** Renames a finished temp directory into place; if another producer's unit is there, uses that. */
  private async publish(tmp: string, dir: string, refs?: Record<string, string>): Promise<{ value: unknown; version: string } | undefined> {
    mkdirSync(join(dir, '..'), { recursive: true });
    for (let attempt = 0; ; attempt++) {
      try {
        renameSync(tmp, dir);
        return undefined;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt >= 3) throw error;
      }
      const found = await this.load(dir, refs);
      if (found.ok) {
        rmSync(tmp, { recursive: true, force: true });
        return { value: found.value, version: found.version };
      }
      this.moveAside(dir);
    }
  }

  /** The unit's value if its manifest is readable and every file it lists is intact. */
  private async load(dir: string, refs: Record<string, string> = {}): Promise<Loaded> {
    const checked = await this.check(dir);
    if (!checked.ok) return checked;
    if (checked.manifest.refs.some((r) => refs[r.name] === undefined)) return { ok: false };
    return { ok: true, value: unseal(checked.manifest, dir, refs), version: checked.version };
  }

  /**
   * The unit's manifest if it is readable and every file it lists is intact; `force` re-hashes.
   * An I/O error (EIO, EMFILE …) is thrown, not taken for damage: the unit is not moved aside.
   */
  private async check(dir: string, force = false): Promise<{ ok: true; manifest: Manifest; version: string } | { ok: false; reason?: string }> {
    let text: string;
    try {
      text = readFileSync(join(dir, MANIFEST), 'utf8');
    } catch (error) {
      if (!isMissing(error)) throw ioError(error, `reading a cache unit's manifest`);
      // An invalidated unit is simply made again; a directory without either was left half.
      return existsSync(dir) && !existsSync(join(dir, TOMBSTONE)) ? { ok: false, reason: 'no manifest' } : { ok: false };
    }
    let manifest: Manifest;
    try {
      manifest = JSON.parse(text) as Manifest;
      // An older format is not damage: the unit is simply made again, the new way.
      if (manifest.format !== FORMAT || !Array.isArray(manifest.files)) return { ok: false };
    } catch {
      return { ok: false, reason: 'an unreadable manifest' };
    }
    for (const file of manifest.files) {
      const stat = statOrUndefined(join(dir, file.path));
      if (!stat) return { ok: false, reason: `${file.path} is missing` };
      if (stat.size !== file.size) return { ok: false, reason: `${file.path} is ${stat.size} bytes, ${file.size} expected` };
    }
    const signature = signatureOf(dir, text, manifest.files);
    if (force || !signature || this.verified.get(dir) !== signature) {
      for (const file of manifest.files) {
        let digest: { sha256: string };
        try {
          digest = await hashFile(join(dir, file.path));
        } catch (error) {
          if (isMissing(error)) return { ok: false, reason: `${file.path} is missing` };
          throw ioError(error, `hashing a cached file`);
        }
        if (digest.sha256 !== file.sha256) return { ok: false, reason: `${file.path} does not match its hash` };
      }
      if (signature) this.remember(dir, signature);
    }
    return { ok: true, manifest, version: versionOf(text) };
  }

  private remember(dir: string, signature: string): void {
    this.verified.delete(dir);
    this.verified.set(dir, signature);
    if (this.verified.size > 10_000) this.verified.delete(this.verified.keys().next().value as string);
  }

  /**
   * Renames a unit directory out of the way, into the trash, where its files stay for readers in
   * flight until prune deletes them after the grace; false if there was none.
   */
  private moveAside(dir: string): boolean {
    const aside = this.trashName();
    mkdirSync(this.trashRoot, { recursive: true });
    try {
      renameSync(dir, aside);
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
    return true;
  }

  /** `moveAside`, for prune: the trash path, or undefined if the unit was gone. */
  private async renameAside(dir: string): Promise<string | undefined> {
    const aside = this.trashName();
    mkdirSync(this.trashRoot, { recursive: true });
    try {
      await rename(dir, aside);
      return aside;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** A trash entry's name starts with when it went there, which the grace counts from. */
  private trashName(): string {
    return join(this.trashRoot, `${Date.now()}-${randomBytes(8).toString('hex')}`);
  }
}

/** Waits for another producer of the same unit in this process to finish, however it ends. */
async function settled(work: Promise<unknown>, signal?: AbortSignal): Promise<void> {
  if (!signal) {
    await work.catch(() => undefined);
    return;
  }
  if (signal.aborted) throw cancelled();
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => resolve(),
      () => resolve(),
    ).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** A directory's bytes; 0 if it went meanwhile (a unit removed by another process is no error). */
async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return 0;
    throw error;
  }
  for (const entry of entries) {
    if (entry.isFile()) total += (await statAsync(join(entry.parentPath, entry.name)))?.size ?? 0;
  }
  return total;
}

async function readdirAsync(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function statAsync(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Errors of a machine out of descriptors, memory or space: the render is retried later. */
const EXHAUSTED = new Set(['EMFILE', 'ENFILE', 'ENOSPC', 'ENOMEM', 'EDQUOT', 'EAGAIN']);

/** An I/O error met reading the cache: retryable when resources ran out, otherwise thrown as it is. */
function ioError(error: unknown, doing: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && EXHAUSTED.has(code)) return new AppError('resource_exhausted', `${doing}: ${code}`, { cause: error });
  return error;
}

/** A unit's version: its manifest's SHA-256 (a unit made again has another createdAt, so another version). */
function versionOf(manifestText: string): string {
  return createHash('sha256').update(manifestText).digest('hex');
}
