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
 * check that catches bytes changed in place. A unit that fails is moved aside, noted and made again.
 * `invalidate` removes a unit the same way (rename aside, then delete): QA uses it for the units a
 * failed check implicates.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { hashFile } from '../lib/file-hash.js';
import { contentHash } from '../lib/hash.js';
import { FORMAT, MANIFEST, seal, signatureOf, unseal, type Manifest } from './cache-manifest.js';
import { acquireLock, breakLock, cancelled, lockState, readOwner, tryLock, type LockTiming } from './cache-lock.js';

export interface Memoized<T> {
  value: T;
  key: string;
  dir: string;
  hit: boolean;
}

export interface MemoOptions {
  /** Cancels waiting for another producer (and is the caller's to pass to its own work). */
  signal?: AbortSignal;
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
}

type Loaded = { ok: true; value: unknown } | { ok: false; reason?: string };

export class StageCache {
  readonly root: string;
  private readonly timing: LockTiming;
  private readonly producing = new Map<string, Promise<unknown>>();
  /** Unit directory → the signature of files this process has hashed and found intact. */
  private readonly verified = new Map<string, string>();
  private counts = { hits: 0, misses: 0, repaired: 0, invalidated: 0 };

  constructor(root: string, options: StageCacheOptions = {}) {
    this.root = resolve(root);
    this.timing = { staleMs: options.staleLockMs ?? 60_000, heartbeatMs: options.heartbeatMs ?? 5_000 };
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
    if (found.ok) return this.hit(dir, key, found.value as T);
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

  /** Removes a unit (renamed aside, then deleted); true if there was one. */
  async invalidate(stage: string, key: string): Promise<boolean> {
    const dir = join(this.root, stage, key);
    this.verified.delete(dir);
    const removed = this.moveAside(dir);
    if (removed) this.counts.invalidated++;
    return removed;
  }

  /**
   * Deletes units not used since `olderThan` (by their manifest's mtime, which a hit renews), skipping
   * any whose lock is held; clears temp directories and locks of dead producers. Returns what went.
   */
  prune(olderThan: Date): { units: number; bytes: number; tmpDirs: number; locks: number } {
    const result = { units: 0, bytes: 0, tmpDirs: 0, locks: 0 };
    const cutoff = olderThan.getTime();
    for (const stage of safeReaddir(this.root)) {
      if (stage.startsWith('.')) continue;
      for (const key of safeReaddir(join(this.root, stage))) {
        const dir = join(this.root, stage, key);
        const stamp = statOrUndefined(join(dir, MANIFEST)) ?? statOrUndefined(dir);
        if (!stamp || stamp.mtimeMs >= cutoff) continue;
        const lock = tryLock(this.lockPath(stage, key), this.timing);
        if (!lock) continue; // being produced or repaired right now
        try {
          const again = statOrUndefined(join(dir, MANIFEST)) ?? statOrUndefined(dir);
          if (!again || again.mtimeMs >= cutoff) continue;
          const bytes = directoryBytes(dir);
          if (this.moveAside(dir)) {
            result.units++;
            result.bytes += bytes;
          }
        } finally {
          lock.release();
        }
      }
    }
    const locks = join(this.root, '.locks');
    const staleBefore = Date.now() - this.timing.staleMs;
    for (const name of safeReaddir(locks)) {
      const path = join(locks, name);
      if (name.endsWith('.lock')) {
        if (breakLock(path, this.timing, this.tmpRoot)) result.locks++;
      } else if ((statOrUndefined(path)?.mtimeMs ?? Infinity) < staleBefore) {
        rmSync(path, { force: true }); // a lock's draft, left by a process that died while taking it
      }
    }
    // A temp directory is live while a live lock names it or its producer keeps refreshing it.
    const live = new Set<string>();
    for (const name of safeReaddir(locks)) {
      const owner = readOwner(join(locks, name));
      if (owner?.tmp && lockState(join(locks, name), this.timing) === undefined) live.add(owner.tmp);
    }
    for (const name of safeReaddir(this.tmpRoot)) {
      const stamp = statOrUndefined(join(this.tmpRoot, name));
      if (live.has(name) || !stamp || stamp.mtimeMs >= staleBefore) continue;
      rmSync(join(this.tmpRoot, name), { recursive: true, force: true });
      result.tmpDirs++;
    }
    // Whatever is in the trash was on its way out when its process died.
    for (const name of safeReaddir(this.trashRoot)) rmSync(join(this.trashRoot, name), { recursive: true, force: true });
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
        const checked = await this.check(join(this.root, stage, key), true);
        if (!checked.ok && !existsSync(join(this.root, stage, key))) continue; // removed meanwhile
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

  private hit<T>(dir: string, key: string, value: T): Memoized<T> {
    // The manifest's mtime is the unit's last use: retention removes units unused for long.
    const now = new Date();
    try {
      utimesSync(join(dir, MANIFEST), now, now);
    } catch {
      // a read-only cache still serves hits
    }
    this.counts.hits++;
    return { value, key, dir, hit: true };
  }

  private async produceLocked<T>(stage: string, key: string, dir: string, produce: (dir: string, key: string) => Promise<T>, options: MemoOptions): Promise<Memoized<T>> {
    const tmpName = `${stage}-${key}-${process.pid}-${randomBytes(6).toString('hex')}`;
    const tmp = join(this.tmpRoot, tmpName);
    const lock = await acquireLock(this.lockPath(stage, key), this.timing, this.tmpRoot, tmpName, options.signal);
    try {
      // Our turn: whoever held the lock before may have made the unit.
      const found = await this.load(dir, options.refs);
      if (found.ok) return this.hit(dir, key, found.value as T);
      if (found.reason) {
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
        if (theirs) return { value: theirs.value as T, key, dir, hit: false };
        // Just hashed: this process's next hit needs only the sizes (a rename keeps inodes and mtimes).
        const signature = signatureOf(dir, text, manifest.files);
        if (signature) this.remember(dir, signature);
        this.counts.misses++;
        return { value: unseal(manifest, dir, options.refs ?? {}) as T, key, dir, hit: false };
      } catch (error) {
        rmSync(tmp, { recursive: true, force: true });
        throw error;
      }
    } finally {
      lock.release();
    }
  }

  /** Renames a finished temp directory into place; if another producer's unit is there, uses that. */
  private async publish(tmp: string, dir: string, refs?: Record<string, string>): Promise<{ value: unknown } | undefined> {
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
        return { value: found.value };
      }
      this.moveAside(dir);
    }
  }

  /** The unit's value if its manifest is readable and every file it lists is intact. */
  private async load(dir: string, refs: Record<string, string> = {}): Promise<Loaded> {
    const checked = await this.check(dir);
    if (!checked.ok) return checked;
    if (checked.manifest.refs.some((r) => refs[r.name] === undefined)) return { ok: false };
    return { ok: true, value: unseal(checked.manifest, dir, refs) };
  }

  /** The unit's manifest if it is readable and every file it lists is intact; `force` re-hashes. */
  private async check(dir: string, force = false): Promise<{ ok: true; manifest: Manifest } | { ok: false; reason?: string }> {
    let text: string;
    try {
      text = readFileSync(join(dir, MANIFEST), 'utf8');
    } catch {
      return existsSync(dir) ? { ok: false, reason: 'no manifest' } : { ok: false };
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
        const digest = await hashFile(join(dir, file.path)).catch(() => undefined);
        if (digest?.sha256 !== file.sha256) return { ok: false, reason: `${file.path} does not match its hash` };
      }
      if (signature) this.remember(dir, signature);
    }
    return { ok: true, manifest };
  }

  private remember(dir: string, signature: string): void {
    this.verified.delete(dir);
    this.verified.set(dir, signature);
    if (this.verified.size > 10_000) this.verified.delete(this.verified.keys().next().value as string);
  }

  /** Renames a unit directory out of the way, then deletes it; false if there was none. */
  private moveAside(dir: string): boolean {
    const aside = join(this.trashRoot, `${randomBytes(8).toString('hex')}`);
    mkdirSync(this.trashRoot, { recursive: true });
    try {
      renameSync(dir, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    rmSync(aside, { recursive: true, force: true });
    return true;
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

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += statOrUndefined(join(entry.parentPath, entry.name))?.size ?? 0;
  }
  return total;
}
