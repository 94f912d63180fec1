/**
 * Content-addressed stage outputs. A unit of work (one scene's narration, one video segment, the
 * music bed …) lives in `<root>/<stage>/<key>/`, where the key hashes its input and provider
 * settings. `manifest.json` is written last, atomically: a directory without it is an interrupted
 * attempt and is cleared and redone, so a crashed render resumes from the last finished unit.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

  stats(): { hits: number; misses: number } {
    return { hits: this.hits, misses: this.misses };
  }
}
