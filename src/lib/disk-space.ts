/**
 * Free space of the directories a render writes to (the data directory: database, outputs,
 * temporary render directories; the stage cache). While one is below the threshold, new work is
 * refused with 503 `insufficient_storage` and /ready reports it, instead of accepting productions
 * that would fail on a full disk. Checked with statfs, remembered for a couple of seconds so a
 * burst of creates costs one call.
 */
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../contract/errors.js';

export interface WatchedDir {
  /** The setting that names it (AIPROD_DATA_DIR …): what messages show, never the path. */
  name: string;
  path: string;
}

export interface DiskSpaceReport {
  ok: boolean;
  dirs: { name: string; freeBytes: number }[];
}

export class DiskSpaceGuard {
  private last: { at: number; report: DiskSpaceReport } | undefined;

  /** `minFreeBytes` 0 turns the guard off. */
  constructor(
    private readonly dirs: WatchedDir[],
    private readonly minFreeBytes: number,
    private readonly ttlMs = 2000,
  ) {}

  async check(): Promise<DiskSpaceReport> {
    if (this.minFreeBytes <= 0) return { ok: true, dirs: [] };
    if (this.last && Date.now() - this.last.at < this.ttlMs) return this.last.report;
    const dirs = await Promise.all(
      this.dirs.map(async (dir) => {
        const stats = await statfs(existingAncestor(dir.path));
        return { name: dir.name, freeBytes: stats.bavail * stats.bsize };
      }),
    );
    const report = { ok: dirs.every((d) => d.freeBytes >= this.minFreeBytes), dirs };
    this.last = { at: Date.now(), report };
    return report;
  }

  /** Throws 503 insufficient_storage naming the short directory's setting and the threshold. */
  async assertRoom(): Promise<void> {
    const report = await this.check();
    const short = report.dirs.find((d) => d.freeBytes < this.minFreeBytes);
    if (!short) return;
    throw new AppError(
      'insufficient_storage',
      `the server is short of disk space: ${short.name} has ${mib(short.freeBytes)} free, under DISK_MIN_FREE_BYTES (${mib(this.minFreeBytes)}); new work is refused until space is freed`,
      { details: [{ message: 'retry later; the operator must free disk space (or lower DISK_MIN_FREE_BYTES)' }] },
    );
  }
}

const mib = (bytes: number): string => `${Math.floor(bytes / 1024 ** 2)} MiB`;

/** A directory made only at first use (the cache) is measured on the file system that will hold it. */
export function existingAncestor(path: string): string {
  let at = path;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  return at;
}
