/**
 * The one place AIPROD starts a process. Argument arrays come from the pure builders in
 * media/args/; this module spawns, parses progress, enforces a timeout, an abort signal and a
 * progress watchdog, and puts the tail of stderr into the error so a failed render says why.
 *
 * A child never outlives its owner:
 * - **Abort.** Every run takes the render's AbortSignal; an abort SIGKILLs the child.
 * - **Watchdog.** A run that makes no progress for `stallSec` is SIGKILLed and fails with
 *   `ffmpeg_stalled`. Progress is an advancing position (`frame=`, `out_time_us=`, `total_size=`)
 *   once the run prints `-progress` blocks — a wedged FFmpeg keeps printing the same block twice a
 *   second — and, before them, any output; CPU use (at least 3 % of a core, read from /proc)
 *   counts always, so a quiet but busy analysis pass or a `+faststart` rewrite after the last
 *   block is left alone while a process asleep on a pipe is not. Where /proc cannot be read,
 *   silence proves nothing: only output that does not advance counts against a run there, and a
 *   silent one is capped by its timeout alone.
 * - **The parent's death.** On Linux each child is started through util-linux's
 *   `setpriv --pdeathsig KILL`, which sets PR_SET_PDEATHSIG and execs the binary in the same
 *   process: the kernel SIGKILLs the child when the Node process dies, however it dies (SIGKILL
 *   included). Closing the child's stdin would not do: FFmpeg ignores end-of-file on stdin (it
 *   reads it only for the interactive `q` key), and it ignores SIGPIPE, so it outlives closed
 *   stdout and stderr pipes as well. The death signal follows the thread that spawned the child,
 *   so the wrapper is used on the main thread only. Without setpriv (other systems), live
 *   children are tracked and SIGKILLed on the process's `exit` event, which covers
 *   `process.exit()`, signal handlers that exit, and uncaught exceptions — but not SIGKILL.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { AppError } from '../contract/errors.js';

export interface RunOptions {
  /** Called with seconds of output written so far (from `-progress pipe:1`). */
  onProgress?: (outTimeSec: number) => void;
  signal?: AbortSignal;
  timeoutSec?: number;
  /** Seconds without progress after which the child is killed (`ffmpeg_stalled`); 0 turns the watchdog off. */
  stallSec?: number;
  /** Keep all of stdout (for ffprobe JSON and analysis filters that print there). */
  captureStdout?: boolean;
}

export interface RunResult {
  stdout: string;
  /** Last ~64 KiB of stderr: analysis filters (loudnorm, ebur128, blackdetect) report here. */
  stderr: string;
  cpuSec: number;
  wallSec: number;
}

const STDERR_KEEP = 64 * 1024;

/**
 * glibc's allocator settings for the children (GLIBC_TUNABLES; other C libraries ignore it). A
 * scene's filter graph makes a writable copy of its 1080p picture for every frame (the looped
 * background is shared, and overlay and drawtext draw in place), and those 3 MiB buffers are
 * above glibc's default mmap threshold: each one was mapped, faulted in page by page and unmapped
 * again, 48,000 page faults for a 6 s segment. With a 64 MiB threshold, trim threshold and top pad
 * the buffers are re-used from the heap: the segment's faults halve and its wall time drops by a
 * fifth (2.2 s → 1.7 s alone, measured; docs/benchmarks.md). A bare encode is unaffected. Settings
 * the operator's own GLIBC_TUNABLES names are left as given.
 */
const MALLOC_TUNABLES: Record<string, string> = {
  'glibc.malloc.mmap_threshold': String(64 * 1024 * 1024),
  'glibc.malloc.trim_threshold': String(256 * 1024 * 1024),
  'glibc.malloc.top_pad': String(64 * 1024 * 1024),
};

/** The environment a child starts with: this process's, plus MALLOC_TUNABLES where it does not set them. */
export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const own = (env.GLIBC_TUNABLES ?? '').split(':').filter((t) => t.includes('='));
  const named = new Set(own.map((t) => t.slice(0, t.indexOf('='))));
  const added = Object.entries(MALLOC_TUNABLES).filter(([k]) => !named.has(k)).map(([k, v]) => `${k}=${v}`);
  return { ...env, GLIBC_TUNABLES: [...own, ...added].join(':') };
}
/** Default of FFMPEG_STALL_SEC (config/env.ts). */
export const DEFAULT_STALL_SEC = 120;
/** Share of one core a silent run must use to count as working (a wedged FFmpeg polling its graph used 0.8 %). */
const BUSY_SHARE = 0.03;
const TICKS_PER_SEC = 100;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** SIGKILLs every child still running; called on the process's `exit` and usable by shutdown paths. */
export function killAllChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}

/**
 * Whether children die with this process however it dies (`deathSignal`: setpriv sets a
 * parent-death signal), or only on a clean exit; `warning` says what an operator should know
 * (main/service.ts logs it at start). Probes once.
 */
export function childGuard(): { deathSignal: boolean; warning?: string } {
  if (deathSignalWrapper()) return { deathSignal: true };
  return {
    deathSignal: false,
    warning:
      'setpriv (util-linux) was not found: FFmpeg children are killed when this process exits or stops, but not if it is killed with SIGKILL; install util-linux to have the kernel kill them then too',
  };
}

/** Children started by runProcess that have not exited yet. */
export function liveChildCount(): number {
  return live.size;
}

let pdeathsig: string | null | undefined;
/** The setpriv that sets a parent-death signal, when this system has one (probed once). */
function deathSignalWrapper(): string | null {
  if (pdeathsig !== undefined) return pdeathsig;
  pdeathsig = null;
  if (process.platform !== 'linux') return pdeathsig;
  for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
    const probe = spawnSync(candidate, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 5000 });
    if (probe.status === 0) {
      pdeathsig = candidate;
      break;
    }
  }
  return pdeathsig;
}

/** CPU ticks (user + system) a running child has used, from /proc; undefined where it cannot be read. */
function childCpuTicks(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Where the watchdog reads a child's CPU use (replaceable, so tests can play a system without /proc). */
export const procReader = { childCpuTicks };

/**
 * Runs a binary with an argument array (never a shell string).
 * @example
 * await runProcess(bins.ffmpeg, ['-y', '-i', 'in.wav', 'out.mp3'], { signal, timeoutSec: 60, stallSec: 120 });
 */
export function runProcess(binary: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { signal, onProgress, timeoutSec = 3600, stallSec = DEFAULT_STALL_SEC, captureStdout = false } = options;
  if (signal?.aborted) return Promise.reject(abortError(binary));

  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const cpuBefore = reapedChildrenCpuSec();
    const wrapper = isMainThread ? deathSignalWrapper() : null;
    const child = wrapper
      ? spawn(wrapper, ['--pdeathsig', 'KILL', '--', binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() })
      : spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
    live.add(child);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', killAllChildren);
    }
    let stdout = '';
    let stderr = '';
    let progressLine = '';
    let settled = false;
    let killedFor: 'timeout' | 'abort' | 'stall' | undefined;

    // The watchdog's view: when the child last showed progress, and its position in -progress blocks.
    let lastProgress = Date.now();
    let reportsProgress = false;
    const position = { frame: -1, outTimeUs: -1, totalSize: -1 };
    let cpuTicks: number | undefined;
    let outputSinceCheck = false;

    const kill = (why: 'timeout' | 'abort' | 'stall'): void => {
      killedFor ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('timeout'), timeoutSec * 1000);
    const stallMs = stallSec * 1000;
    const checkEveryMs = Math.min(5000, Math.max(100, stallMs / 4));
    const watchdog =
      stallSec > 0
        ? setInterval(() => {
            const now = Date.now();
            // CPU use counts with or without -progress blocks: after its last block FFmpeg may
            // work silently for long (the +faststart rewrite of the moov atom prints nothing).
            const ticks = procReader.childCpuTicks(child.pid);
            if (ticks !== undefined && cpuTicks !== undefined && ticks - cpuTicks >= Math.max(2, (checkEveryMs / 1000) * TICKS_PER_SEC * BUSY_SHARE)) {
              lastProgress = now;
            }
            // Without /proc, silence proves nothing (it may be busy): only output that does not
            // advance (the same block again) counts against the run; the timeout still caps it.
            if (ticks === undefined && !outputSinceCheck) lastProgress = now;
            outputSinceCheck = false;
            cpuTicks = ticks;
            if (now - lastProgress >= stallMs) kill('stall');
          }, checkEveryMs)
        : undefined;
    const onAbort = (): void => kill('abort');
    signal?.addEventListener('abort', onAbort, { once: true });

    const progressed = (key: keyof typeof position, value: number): void => {
      if (value > position[key]) {
        position[key] = value;
        lastProgress = Date.now();
      }
    };
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (captureStdout) stdout += chunk;
      outputSinceCheck = true;
      if (!reportsProgress) lastProgress = Date.now();
      progressLine += chunk;
      const lines = progressLine.split('\n');
      progressLine = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^(frame|out_time_us|out_time_ms|total_size|progress)=\s*(\S+)/.exec(line);
        if (!match) continue;
        const [, key, value] = match;
        if (key === 'progress') reportsProgress = true;
        else if (key === 'frame') progressed('frame', Number(value));
        else if (key === 'total_size') progressed('totalSize', Number(value));
        else {
          const us = Number(value);
          if (!Number.isFinite(us) || us < 0) continue; // N/A, or a negative time before the first packet
          progressed('outTimeUs', us);
          onProgress?.(us / 1e6);
        }
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      outputSinceCheck = true;
      if (!reportsProgress) lastProgress = Date.now();
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });

    const finish = (error: AppError | undefined, code?: number | null): void => {
      if (settled) return;
      settled = true;
      live.delete(child);
      clearTimeout(timer);
      clearInterval(watchdog);
      signal?.removeEventListener('abort', onAbort);
      if (error) return reject(error);
      const wallSec = Number(process.hrtime.bigint() - started) / 1e9;
      if (killedFor === 'abort') return reject(abortError(binary));
      if (killedFor === 'timeout') {
        return reject(new AppError('ffmpeg_timeout', `${name(binary)} ran longer than ${timeoutSec} s and was stopped`));
      }
      if (killedFor === 'stall') {
        return reject(
          new AppError('ffmpeg_stalled', `${name(binary)} made no progress for ${stallSec} s and was stopped: ${tail(stderr) || 'no output'}`, {
            details: [{ message: `args: ${args.join(' ')}` }],
          }),
        );
      }
      // setpriv could not exec the binary (127: not found, 126: not executable).
      if (wrapper && (code === 127 || code === 126) && stderr.includes('setpriv: failed to execute')) {
        return reject(missingError(binary, tail(stderr)));
      }
      if (code !== 0) {
        return reject(
          new AppError('ffmpeg_failed', `${name(binary)} exited with code ${code}: ${tail(stderr)}`, {
            details: [{ message: `args: ${args.join(' ')}` }],
          }),
        );
      }
      resolve({ stdout, stderr, cpuSec: Math.max(0, reapedChildrenCpuSec() - cpuBefore), wallSec });
    };

    child.on('error', (err: NodeJS.ErrnoException) => {
      const missing = err.code === 'ENOENT' || err.code === 'EACCES';
      finish(missing ? missingError(binary, err.message, err) : new AppError('ffmpeg_failed', `cannot start ${binary}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code) => finish(undefined, code));
  });
}

function missingError(binary: string, message: string, cause?: unknown): AppError {
  return new AppError('ffmpeg_missing', `cannot start ${binary}: ${message}`, {
    cause,
    details: [{ message: 'install ffmpeg (apt-get install ffmpeg) or set FFMPEG_PATH / FFPROBE_PATH' }],
  });
}

function abortError(binary: string): AppError {
  return new AppError('aborted', `${name(binary)} was stopped because the render was cancelled`);
}

function name(binary: string): string {
  return binary.split('/').pop() ?? binary;
}

/** The last meaningful stderr lines, without FFmpeg's progress chatter. */
export function tail(stderr: string, lines = 6): string {
  return stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('frame=') && !l.startsWith('size='))
    .slice(-lines)
    .join(' | ');
}

/**
 * CPU seconds (user + system) of all children this process has reaped, from /proc/self/stat
 * (cutime + cstime). The delta around one run is that run's CPU time; with several FFmpeg
 * processes in flight it is shared between them, but the total over a render stays exact.
 * Returns 0 where /proc is not available.
 */
export function reapedChildrenCpuSec(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may contain spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticksPerSec = 100;
    return (Number(fields[13]) + Number(fields[14])) / ticksPerSec;
  } catch {
    return 0;
  }
}
