/** Storage in a local directory (the default: AIPROD_DATA_DIR/artifacts, or STORAGE_URL=file:///path). */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { Storage, StoredObject } from './storage.port.js';

export class LocalStorage implements Storage {
  readonly kind = 'local' as const;
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Keys are relative paths below the root; anything that would climb out of it is refused. */
  private path(key: string): string {
    const full = resolve(this.root, key);
    if (full !== this.root && !full.startsWith(this.root + sep)) throw new Error(`storage key outside the root: ${key}`);
    return full;
  }

  async put(key: string, fromPath: string): Promise<{ bytes: number }> {
    const to = this.path(key);
    await mkdir(dirname(to), { recursive: true });
    // Copy beside the target, then rename: a reader never sees half a file.
    const tmp = `${to}.${process.pid}.partial`;
    await copyFile(fromPath, tmp);
    await rename(tmp, to);
    return { bytes: (await stat(to)).size };
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? { key, bytes: s.size, modifiedAt: s.mtime } : undefined;
    } catch {
      return undefined;
    }
  }

  async read(key: string, range?: { start: number; end: number }): Promise<Readable> {
    return createReadStream(this.path(key), range);
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const base = this.path(prefix);
    let entries;
    try {
      entries = await readdir(base, { recursive: true, withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const full = join(entry.parentPath, entry.name);
      const s = await stat(full).catch(() => undefined);
      if (s) yield { key: relative(this.root, full).split(sep).join('/'), bytes: s.size, modifiedAt: s.mtime };
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true, recursive: true });
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const probe = join(this.root, `.ready-${process.pid}`);
    await writeFile(probe, 'ok');
    await rm(probe, { force: true });
  }
}
