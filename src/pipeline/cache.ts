/**
 * Content-addressed stage outputs. A unit of work (one scene's narration, one video segment, the
 * music bed …) lives in `<root>/<stage>/<key>/`, where the key hashes its input and provider
 * settings. `manifest.json` is written last, atomically: a directory without it is an interrupted
 * attempt and is cleared and redone, so a crashed render resumes from the last finished unit.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { contentHash } from '../lib/hash.js';

export interface Memoized<T> {
  value: T;
  key: string;
  dir: string;
  hit: boolean;
}

export class StageCache {
  readonly root: string;
  private hits = 0;
  private misses = 0;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Returns the stored value for (stage, keyParts), or runs `produce` in the unit's directory. */
  async memo<T>(stage: string, keyParts: unknown, produce: (dir: string, key: string) => Promise<T>): Promise<Memoized<T>> {
    const key = contentHash(stage, keyParts);
    const dir = join(this.root, stage, key);
    const manifest = join(dir, 'manifest.json');
    if (existsSync(manifest)) {
      try {
        const value = JSON.parse(readFileSync(manifest, 'utf8')) as T;
        // The manifest's mtime is the unit's last use: retention removes units unused for long.
        const now = new Date();
        try {
          utimesSync(manifest, now, now);
        } catch {
          // a read-only cache still serves hits
        }
        this.hits++;
        return { value, key, dir, hit: true };
      } catch {
        // A manifest that does not parse is treated like a missing one.
      }
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    let value: T;
    try {
      value = await produce(dir, key);
    } catch (error) {
      // A failed or cancelled unit leaves nothing behind: no half-written media in the cache.
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const tmp = `${manifest}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(value, null, 2));
    renameSync(tmp, manifest);
    this.misses++;
    return { value, key, dir, hit: false };
  }

  /**
   * Deletes units not used since `olderThan` (by their manifest's mtime; a unit without a manifest
   * is a leftover of a killed render and goes by its directory's mtime). Returns units and bytes removed.
   */
  prune(olderThan: Date): { units: number; bytes: number } {
    let units = 0;
    let bytes = 0;
    const cutoff = olderThan.getTime();
    for (const stage of safeReaddir(this.root)) {
      for (const key of safeReaddir(join(this.root, stage))) {
        const dir = join(this.root, stage, key);
        const stamp = statOrUndefined(join(dir, 'manifest.json')) ?? statOrUndefined(dir);
        if (!stamp || stamp.mtimeMs >= cutoff) continue;
        bytes += directoryBytes(dir);
        rmSync(dir, { recursive: true, force: true });
        units++;
      }
    }
    return { units, bytes };
  }

  stats(): { hits: number; misses: number } {
    return { hits: this.hits, misses: this.misses };
  }
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
