/**
 * Where a process id means something: the host name, the PID namespace (/proc/self/ns/pid) and
 * the kernel's boot id. Two containers with the same host name (host networking, compose replicas)
 * share a directory but not their pids; a pid from another boot names nothing now. Records that
 * outlive a process (a cache lock, a render's temp directory) store these with the pid and its
 * start time, and a pid is checked for liveness only when all of them match this process's.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  host: string;
  pid: number;
  /** /proc/<pid>/stat's start time (clock ticks since boot): a reused pid is not the owner. Absent where /proc is not. */
  start?: string;
  /** The PID namespace (/proc/self/ns/pid); absent where /proc is not. */
  ns?: string;
  /** The kernel's boot id; absent where /proc is not. */
  boot?: string;
}

let machine: { ns?: string; boot?: string } | undefined;

/** This process's PID namespace and boot (read once: they do not change while it runs). */
export function thisMachine(): { ns?: string; boot?: string } {
  machine ??= { ns: readOr(() => readlinkSync('/proc/self/ns/pid')), boot: readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()) };
  return { ...machine };
}

/** This process, as a record's owner. */
export function thisProcess(): ProcessIdentity {
  return { host: hostname(), ...thisMachine(), pid: process.pid, start: processStart(process.pid) };
}

/**
 * Whether `owner`'s pid means something here: same host name, PID namespace and boot. An owner
 * recorded without them (an older version) matches only where this process cannot read them either.
 */
export function sameMachine(owner: Pick<ProcessIdentity, 'host' | 'ns' | 'boot'>): boolean {
  const here = thisMachine();
  return owner.host === hostname() && owner.ns === here.ns && owner.boot === here.boot;
}

/** Whether the process is still running (and is the one recorded, when its start time was); only meaningful when `sameMachine`. */
export function isAlive(owner: Pick<ProcessIdentity, 'pid' | 'start'>): boolean {
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
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function readOr(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
