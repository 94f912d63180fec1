/**
 * Shared set-up for integration tests: real FFmpeg, real providers, a fresh cache and output
 * directory per test, and the pipeline's events collected for assertions.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadEnv } from '../../src/config/env.js';
import { parseBrief, resolveBrief } from '../../src/contract/resolve.js';
import type { Storyboard } from '../../src/contract/storyboard.js';
import { createPipelineDeps } from '../../src/main/container.js';
import { runProcess } from '../../src/media/ffmpeg.js';
import type { PipelineDeps, PipelineEvent, StageName } from '../../src/pipeline/context.js';
import { deliver, type Delivered } from '../../src/pipeline/deliver.js';
import { renderBrief, type RenderResult } from '../../src/pipeline/run.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `aiprod-${prefix}-`));
}

export interface TestRender {
  result: RenderResult;
  delivered: Delivered;
  events: PipelineEvent[];
  deps: PipelineDeps;
  /** Units re-used from the cache per stage. */
  cached: Partial<Record<StageName, { cached: number; total: number }>>;
}

export async function render(
  brief: unknown,
  opts: { cacheDir?: string; outDir?: string; baseDir?: string; env?: Record<string, string>; storyboard?: Storyboard } = {},
): Promise<TestRender> {
  const env = loadEnv({ ...process.env, ...opts.env });
  const deps = await createPipelineDeps(env, { cacheDir: opts.cacheDir ?? tempDir('cache') });
  const events: PipelineEvent[] = [];
  const result = await renderBrief(resolveBrief(parseBrief(brief)), deps, {
    baseDir: opts.baseDir ?? process.cwd(),
    storyboard: opts.storyboard,
    onEvent: (e) => events.push(e),
  });
  const delivered = deliver(result, opts.outDir ?? tempDir('out'));
  const cached: TestRender['cached'] = {};
  for (const e of events) if (e.type === 'stage-end') cached[e.stage] = { cached: e.cachedUnits, total: e.totalUnits };
  return { result, delivered, events, deps, cached };
}

/** Integrated loudness and true peak measured independently of the qa stage. */
export async function measureLoudness(ffmpeg: string, path: string): Promise<{ lufs: number; truePeak: number }> {
  const { stderr } = await runProcess(ffmpeg, ['-hide_banner', '-nostats', '-i', path, '-map', '0:a', '-af', 'ebur128=peak=true', '-f', 'null', '-']);
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  return {
    lufs: Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]),
    truePeak: Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(summary)?.[1]),
  };
}

export function file(delivered: Delivered, name: string): string {
  const found = delivered.files.find((f) => f.name === name);
  if (!found) throw new Error(`no ${name} among ${delivered.files.map((f) => f.name).join(', ')}`);
  return found.path;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `aiprod` CLI from the repository root (its own cache directory, `env` added) and resolves when it has exited. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, AIPROD_CACHE_DIR: tempDir('cli-cache'), ...env };
  delete childEnv.NODE_TEST_CONTEXT;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', ...args], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
