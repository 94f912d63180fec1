/**
 * Real processes for the service tests: `aiprod` commands started as child processes (each in a
 * process group of its own, so a kill takes its FFmpeg children with it), the processes /proc
 * shows, ffprobe on downloaded files, and a Server-Sent Events reader over real HTTP.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadEnv } from '../../src/config/env.js';
import { resolveBinaries } from '../../src/media/binaries.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `aiprod-${prefix}-`));
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything printed so far, stdout then stderr, for assertion messages. */
  output(): string;
  stdout(): string;
  /** Resolves with the first match of `pattern` in stdout; rejects when the process exits first or on timeout. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** The exit, or undefined when it is still running after `ms`. */
  exitWithin(ms: number): Promise<Exit | undefined>;
  /** Sends `signal` to the process and every process of its group (its FFmpeg children). */
  killGroup(signal: NodeJS.Signals): void;
}

const running = new Set<CliProcess>();

// A test that dies half-way must not leave servers or FFmpeg behind.
process.on('exit', () => {
  for (const p of running) p.killGroup('SIGKILL');
});

/** Starts `aiprod <args>` (through tsx, from the repository root) with `env` over this process's environment. */
export function startCli(args: string[], env: Record<string, string>): CliProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NODE_TEST_CONTEXT; // otherwise the child node reports to this test runner
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`could not start aiprod ${args.join(' ')}`);
  const pid = child.pid;
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      running.delete(handle);
      resolve(exit);
    });
  });
  const handle: CliProcess = {
    pid,
    child,
    output: () => `--- stdout\n${out}\n--- stderr\n${err.slice(-4000)}`,
    stdout: () => out,
    waitForStdout(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const match = pattern.exec(out);
          if (!match) return false;
          done();
          resolve(match);
          return true;
        };
        const onExit = (): void => {
          if (check()) return;
          done();
          reject(new Error(`aiprod ${args[0]} exited (${JSON.stringify(exit)}) before printing ${pattern}\n${handle.output()}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`aiprod ${args[0]} did not print ${pattern} within ${timeoutMs} ms\n${handle.output()}`));
        }, timeoutMs);
        const onData = (): void => void check();
        const done = (): void => {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.off('exit', onExit);
        };
        child.stdout?.on('data', onData);
        child.on('exit', onExit);
        if (exit) onExit();
        else check();
      });
    },
    exited,
    async exitWithin(ms) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
      const result = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      return result;
    },
    killGroup(signal) {
      try {
        process.kill(-pid, signal);
      } catch {
        // the group is gone already
      }
    },
  };
  running.add(handle);
  return handle;
}

/** Starts `aiprod worker` with `env` and resolves once it says it has started. */
export async function startWorkerProcess(env: Record<string, string>, args: string[] = []): Promise<CliProcess> {
  const worker = startCli(['worker', ...args], env);
  await worker.waitForStdout(/worker started \(database: \w+\)/, 60_000);
  return worker;
}

/** SIGKILLs every process group started here that is still alive, and waits for the leaders to exit. */
export async function killAll(): Promise<void> {
  const left = [...running];
  for (const p of left) p.killGroup('SIGKILL');
  await Promise.all(left.map((p) => p.exited));
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string;
}

/** Every process /proc shows (those that vanish while being read are skipped). */
export function processes(): ProcInfo[] {
  const found: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // comm sits in parentheses and may hold spaces; the fields after the last ')' are state, ppid …
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(entry), ppid, comm, cmdline });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** FFmpeg processes whose parent is `ppid` (still listed until reaped, zombies included). */
export function ffmpegChildren(ppid: number): ProcInfo[] {
  return processes().filter((p) => p.ppid === ppid && p.comm.startsWith('ffmpeg'));
}

/** Polls `condition` every `everyMs` until it returns a truthy value; for facts with no event to wait on (/proc, files). */
export async function pollUntil<T>(what: string, condition: () => T | Promise<T>, timeoutMs: number, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface MediaFacts {
  durationSec: number;
  video?: { codec: string; width: number; height: number; pixFmt: string };
  audio?: { codec: string; sampleRate: number; channels: number };
}

/** ffprobe (the one the service would use) on a file. */
export async function probeMedia(path: string): Promise<MediaFacts> {
  const { ffprobe } = resolveBinaries(loadEnv(), process.env.PATH);
  const { stdout } = await promisify(execFile)(ffprobe, ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name,width,height,pix_fmt,sample_rate,channels', '-of', 'json', path]);
  const json = JSON.parse(stdout) as {
    format: { duration: string };
    streams: { codec_type: string; codec_name: string; width?: number; height?: number; pix_fmt?: string; sample_rate?: string; channels?: number }[];
  };
  const v = json.streams.find((s) => s.codec_type === 'video');
  const a = json.streams.find((s) => s.codec_type === 'audio');
  return {
    durationSec: Number(json.format.duration),
    video: v ? { codec: v.codec_name, width: v.width ?? 0, height: v.height ?? 0, pixFmt: v.pix_fmt ?? '' } : undefined,
    audio: a ? { codec: a.codec_name, sampleRate: Number(a.sample_rate), channels: a.channels ?? 0 } : undefined,
  };
}

export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Reads a Server-Sent Events stream with fetch until the server ends it; rejects on timeout with
 * what arrived so far. `onEvent` sees each event as it arrives.
 */
export async function readSse(url: string, headers: Record<string, string>, timeoutMs: number, onEvent?: (e: SseEvent) => void): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' }, signal: controller.signal });
    if (res.status !== 200 || !res.body) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
    if (!res.headers.get('content-type')?.startsWith('text/event-stream')) throw new Error(`GET ${url}: content-type ${res.headers.get('content-type')}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = block.split('\n').filter((l) => !l.startsWith(':'));
        if (lines.length === 0) continue; // a keep-alive comment
        const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim() ?? 'message';
        const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        const e = { event, data };
        events.push(e);
        onEvent?.(e);
      }
    }
    return events;
  } catch (error) {
    if (controller.signal.aborted) throw new Error(`SSE ${url} did not end within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => e.data))}`, { cause: error });
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
