/**
 * A render's temporary directory (<AIPROD_DATA_DIR>/tmp/render-<production>-…) and the sweep that
 * removes the ones a killed worker left. Each directory records its owner (host, PID namespace,
 * boot, pid and the process's start time, so a reused pid is not mistaken for the owner), and a
 * running render touches it at every heartbeat. A directory is removed when its owner here is
 * gone, or when nobody has touched it for `staleMs` (an owner on another host — or in another
 * container with the same host name, whose pids mean nothing here — or a directory without an
 * owner file) — never while its render runs.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, sameMachine, thisProcess, type ProcessIdentity } from '../lib/process-identity.js';

export { thisMachine } from '../lib/process-identity.js';

const OWNER_FILE = '.owner.json';

type Owner = ProcessIdentity;

/** Makes the working directory of one render, owned by this process. */
export function makeRenderDir(tmpDir: string, productionId: string): string {
  const dir = mkdtempSync(join(tmpDir, `render-${productionId}-`));
  try {
    const owner: Owner = thisProcess();
    writeFileSync(join(dir, OWNER_FILE), JSON.stringify(owner));
  } catch (error) {
    // A directory without its owner would wait an hour for the sweep; it is nobody's now.
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
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
      const stale = now - statSync(path).mtimeMs > options.staleMs;
      // Where its pid means something here, the owner's liveness decides; elsewhere (or unknown) only the age can.
      const dead = owner && sameMachine(owner) ? !isAlive(owner) : stale;
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
    return typeof parsed.host === 'string' && typeof parsed.pid === 'number' ? { host: parsed.host, pid: parsed.pid, start: parsed.start, ns: parsed.ns, boot: parsed.boot } : undefined;
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
