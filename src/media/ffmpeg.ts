/**
 * The one place AIPROD starts a process. Argument arrays come from the pure builders in
 * media/args/; this module spawns, parses progress, enforces a timeout and an abort signal, and
 * puts the tail of stderr into the error so a failed render says why.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { AppError } from '../contract/errors.js';

export interface RunOptions {
  /** Called with seconds of output written so far (from `-progress pipe:1`). */
  onProgress?: (outTimeSec: number) => void;
  signal?: AbortSignal;
  timeoutSec?: number;
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
 * Runs a binary with an argument array (never a shell string).
 * @example
 * await runProcess(bins.ffmpeg, ['-y', '-i', 'in.wav', 'out.mp3'], { signal, timeoutSec: 60 });
 */
export function runProcess(binary: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { signal, onProgress, timeoutSec = 3600, captureStdout = false } = options;
  if (signal?.aborted) return Promise.reject(abortError(binary));

  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const cpuBefore = reapedChildrenCpuSec();
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let progressLine = '';
    let settled = false;
    let killedFor: 'timeout' | 'abort' | undefined;

    const kill = (why: 'timeout' | 'abort'): void => {
      killedFor = why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('timeout'), timeoutSec * 1000);
    const onAbort = (): void => kill('abort');
    signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (captureStdout) stdout += chunk;
      if (!onProgress) return;
      progressLine += chunk;
      const lines = progressLine.split('\n');
      progressLine = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^out_time_(?:us|ms)=(\d+)/.exec(line);
        if (match?.[1]) onProgress(Number(match[1]) / 1e6);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });

    const finish = (error: AppError | undefined, code?: number | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) return reject(error);
      const wallSec = Number(process.hrtime.bigint() - started) / 1e9;
      if (killedFor === 'abort') return reject(abortError(binary));
      if (killedFor === 'timeout') {
        return reject(new AppError('ffmpeg_timeout', `${name(binary)} ran longer than ${timeoutSec} s and was stopped`));
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
      finish(
        new AppError(missing ? 'ffmpeg_missing' : 'ffmpeg_failed', `cannot start ${binary}: ${err.message}`, {
          cause: err,
          details: missing ? [{ message: 'install ffmpeg (apt-get install ffmpeg) or set FFMPEG_PATH / FFPROBE_PATH' }] : [],
        }),
      );
    });
    child.on('close', (code) => finish(undefined, code));
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
