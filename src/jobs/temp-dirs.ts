/**
 * A render's temporary directory (<AIPROD_DATA_DIR>/tmp/render-<production>-…) and the sweep that
 * removes the ones a killed worker left. Each directory records its owner (host, pid and the
 * process's start time, so a reused pid is not mistaken for the owner), and a running render
 * touches it at every heartbeat. A directory is removed when its owner on this host is gone, or
 * when nobody has touched it for `staleMs` (an owner on another host sharing the directory, or a
 * directory without an owner file) — never while its render runs.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

const OWNER_FILE = '.owner.json';

interface Owner {
  host: string;
  pid: number;
  /** /proc/<pid>/stat's start time (clock ticks since boot); absent where /proc is not. */
  start?: string;
}

/** Makes the working directory of one render, owned by this process. */
export function makeRenderDir(tmpDir: string, productionId: string): string {
  const dir = mkdtempSync(join(tmpDir, `render-${productionId}-`));
  const owner: Owner = { host: hostname(), pid: process.pid, start: processStart(process.pid) };
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify(owner));
  return dir;
}

/** Marks the directory as in use (called at each heartbeat of its render). */
export function touchRenderDir(dir: string): void {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    // removed meanwhile: the render is ending
  }
}

export interface SweepOptions {
  /** A directory nobody touched for this long belongs to no live render. */
  staleMs: number;
  now?: number;
}

/** Removes the render directories left by dead processes; returns their names. */
export function sweepRenderDirs(tmpDir: string, options: SweepOptions): string[] {
  const now = options.now ?? Date.now();
  const removed: string[] = [];
  for (const name of safeReaddir(tmpDir)) {
    if (!name.startsWith('render-')) continue;
    const path = join(tmpDir, name);
    try {
      const owner = readOwner(path);
      const ownerHere = owner?.host === hostname();
      const stale = now - statSync(path).mtimeMs > options.staleMs;
      // On this host the owner's liveness decides; elsewhere (or unknown) only the age can.
      const dead = ownerHere ? !isAlive(owner) : stale;
      if (!dead) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}

function readOwner(dir: string): Owner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as Partial<Owner>;
    return typeof parsed.host === 'string' && typeof parsed.pid === 'number' ? { host: parsed.host, pid: parsed.pid, start: parsed.start } : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(owner: Owner): boolean {
  const start = processStart(owner.pid);
  if (start !== undefined || owner.start !== undefined) return start !== undefined && start === owner.start;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The start time of a process from /proc (Linux); undefined when it is gone or /proc is missing. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
