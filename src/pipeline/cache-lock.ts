/**
 * The stage cache's lock between processes: one file per unit under `<cache>/.locks/`, which may be
 * shared by workers on several machines. The file appears atomically with its whole content (written
 * aside, then hard-linked into place, which fails if it exists) and names its holder: pid, host, a
 * random token and the temp directory it produces into, with the PID namespace, boot id and start
 * time that say where that pid means something (lib/process-identity.ts). The holder refreshes the
 * file's mtime every `heartbeatMs`; a lock is stale when its holder is known dead or when nobody
 * refreshed it for `staleMs`. Known dead needs the same host name, PID namespace and boot (then:
 * the pid is gone or is another process, or it is our own pid with a token we do not hold, i.e. a
 * restarted container); a holder anywhere else — another container with the same host name sharing
 * the cache — is judged by staleness only, as its pid means nothing here.
 *
 * The lock saves duplicate work; it is not what keeps units whole. Producers write into their own
 * temp directories and publish by rename, so the rare double producer (a lock taken over from a
 * holder that was only paused) costs time, never a unit.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../contract/errors.js';
import { isAlive, sameMachine, thisProcess, type ProcessIdentity } from '../lib/process-identity.js';

export interface LockTiming {
  /** A lock not refreshed for this long is taken over. */
  staleMs: number;
  /** How often a holder refreshes its lock (and its temp directory). */
  heartbeatMs: number;
}

export interface LockOwner extends ProcessIdentity {
  token: string;
  /** Epoch ms when the lock was taken. */
  since: number;
  /** The temp directory the holder produces into, removed with the lock when the holder is dead. */
  tmp?: string;
}

/** Tokens of the locks this process holds: a lock file with our pid and another token is a leftover. */
const held = new Set<string>();

export function readOwner(path: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return typeof owner.token === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the holder is certainly gone (its temp directory can go with the lock). */
function knownDead(owner: LockOwner): boolean {
  // Elsewhere (another host, container or boot) its pid means nothing here: only staleness can tell.
  if (!sameMachine(owner)) return false;
  if (owner.pid === process.pid) return !held.has(owner.token);
  return !isAlive(owner);
}

/** 'dead', 'stale' (not refreshed in time), or undefined for a live lock; 'gone' if it vanished. */
export function lockState(path: string, timing: LockTiming, now = Date.now()): 'dead' | 'stale' | 'gone' | undefined {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return 'gone';
  }
  const owner = readOwner(path);
  if (owner && knownDead(owner)) return 'dead';
  return now - mtimeMs > timing.staleMs ? 'stale' : undefined;
}

/** Removes a stale lock if it is still the one judged stale (and a dead holder's temp directory). */
export function breakLock(path: string, timing: LockTiming, tmpRoot: string): boolean {
  const before = readOwner(path);
  const state = lockState(path, timing);
  if (state === undefined || state === 'gone') return false;
  const now = readOwner(path);
  if (before?.token !== now?.token) return false;
  try {
    unlinkSync(path);
  } catch {
    return false;
  }
  if (state === 'dead' && now?.tmp) rmSync(join(tmpRoot, now.tmp), { recursive: true, force: true });
  return true;
}

export class HeldLock {
  private timer?: NodeJS.Timeout;
  private readonly refreshed = new Set<string>();

  constructor(
    readonly path: string,
    readonly owner: LockOwner,
    timing: LockTiming,
  ) {
    held.add(owner.token);
    this.timer = setInterval(() => this.beat(), timing.heartbeatMs);
    this.timer.unref();
  }

  /** Also keeps `path` (the temp directory) fresh while the lock is held. */
  refresh(path: string): void {
    this.refreshed.add(path);
  }

  private beat(): void {
    const now = new Date();
    if (readOwner(this.path)?.token === this.owner.token) touch(this.path, now);
    for (const path of this.refreshed) touch(path, now);
  }

  release(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    held.delete(this.owner.token);
    if (readOwner(this.path)?.token !== this.owner.token) return;
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

function touch(path: string, now: Date): void {
  try {
    utimesSync(path, now, now);
  } catch {
    // gone: nothing to keep fresh
  }
}

/** One attempt: the lock, or undefined when another holder has it. */
export function tryLock(path: string, timing: LockTiming, tmp?: string): HeldLock | undefined {
  const owner: LockOwner = { ...thisProcess(), token: randomBytes(12).toString('hex'), since: Date.now(), tmp };
  mkdirSync(dirname(path), { recursive: true });
  const draft = `${path}.${owner.token}`;
  writeFileSync(draft, JSON.stringify(owner));
  try {
    linkSync(draft, path);
    return new HeldLock(path, owner, timing);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return undefined;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw error;
    // A filesystem without hard links: an exclusive create, whose content follows a moment later
    // (a reader that finds it empty treats it as live until it goes stale).
    return exclusiveCreate(path, owner, timing);
  } finally {
    rmSync(draft, { force: true });
  }
}

function exclusiveCreate(path: string, owner: LockOwner, timing: LockTiming): HeldLock | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
  return new HeldLock(path, owner, timing);
}

/**
 * Waits for the lock at `path`, taking over a stale one. Rejects with `aborted` when `signal`
 * fires while waiting.
 */
export async function acquireLock(path: string, timing: LockTiming, tmpRoot: string, tmp: string, signal?: AbortSignal): Promise<HeldLock> {
  let pause = 20;
  for (;;) {
    if (signal?.aborted) throw cancelled();
    // Only a lock that looks free or stale is worth an attempt; a live one is waited for.
    const state = lockState(path, timing);
    if (state === 'gone') {
      const lock = tryLock(path, timing, tmp);
      if (lock) return lock;
      continue;
    }
    if (state !== undefined && breakLock(path, timing, tmpRoot)) continue;
    try {
      await sleep(pause, undefined, { signal });
    } catch {
      throw cancelled();
    }
    pause = Math.min(pause * 2, 250);
  }
}

export function cancelled(): AppError {
  return new AppError('aborted', 'the render was cancelled while it waited for a cached unit');
}
