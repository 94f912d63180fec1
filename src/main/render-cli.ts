/**
 * `aiprod render`: a brief (a JSON file, or a design template with `--set` values) rendered
 * in-process, with progress on stderr and the delivered files listed. Loaded only when `render`
 * runs: the pipeline and its providers cost every other command (`--version`, `--help`) most of
 * a second to import.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Env } from '../config/env.js';
import { AppError } from '../contract/errors.js';
import { parseBrief, resolveBrief } from '../contract/resolve.js';
import { parseStoryboard, type Storyboard } from '../contract/storyboard.js';
import { assertMergeMedia, expandBriefTemplate } from '../design/templates/merge.js';
import { getTemplate, templateSamples } from '../design/templates/registry.js';
import { deliver } from '../pipeline/deliver.js';
import { assertMediaUrls, localizeMedia } from '../pipeline/media-urls.js';
import { renderBrief } from '../pipeline/run.js';
import { createPipelineDeps, mediaFetchConfig } from './container.js';
import { createProgress } from './progress.js';

function readJson(path: string, what: string): unknown {
  const full = resolve(path);
  if (!existsSync(full)) throw new AppError('invalid_brief', `${what} not found: ${full}`);
  const text = readFileSync(full, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError('invalid_brief', `${what} ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

export interface RenderFlags {
  out: string;
  template?: string;
  set?: string[];
  cacheDir?: string;
  storyboard?: string;
  preview?: boolean;
  quiet?: boolean;
  json?: boolean;
}

/** `--set key=value` pairs as merge values (the CLI gives every value as text; merge checks the types). */
function parseSets(sets: string[]): Record<string, string> {
  const merge: Record<string, string> = {};
  for (const set of sets) {
    const at = set.indexOf('=');
    if (at < 1) throw new AppError('invalid_request', `--set ${set}: write key=value, e.g. --set product="Nimbus"`);
    merge[set.slice(0, at)] = set.slice(at + 1);
  }
  return merge;
}

/** The brief to render: the JSON file, or `--template` with its samples overridden by `--set`. */
function readBriefInput(briefPath: string | undefined, flags: RenderFlags): unknown {
  if (flags.template === undefined) {
    if (briefPath === undefined) throw new AppError('invalid_request', 'give a brief file, or --template NAME (see `aiprod templates`)');
    if (flags.set?.length) throw new AppError('invalid_request', '--set fills a template\'s fields: use it with --template');
    return readJson(briefPath, 'brief');
  }
  if (briefPath !== undefined) throw new AppError('invalid_request', `give a brief file or --template ${flags.template}, not both (a brief file may say "template" itself)`);
  return { template: getTemplate(flags.template).name, merge: { ...templateSamples(getTemplate(flags.template)), ...parseSets(flags.set ?? []) } };
}

export async function renderCommand(briefPath: string | undefined, flags: RenderFlags, env: Env): Promise<void> {
  const source = parseBrief(readBriefInput(briefPath, flags));
  const baseDir = briefPath === undefined ? process.cwd() : dirname(resolve(briefPath));
  // A template's media field naming no file is refused on merge.<field>, before it fills scenes.
  assertMergeMedia(source, baseDir);
  const parsed = expandBriefTemplate(source);
  if (flags.preview) parsed.preview = true;
  // Media linked by URL: checked, then downloaded (SSRF-safe) beside the outputs before rendering.
  const mediaFetch = mediaFetchConfig(env);
  await assertMediaUrls(parsed, mediaFetch);
  const brief = resolveBrief(await localizeMedia(parsed, join(resolve(flags.out), '.media'), mediaFetch));
  const storyboard: Storyboard | undefined = flags.storyboard
    ? parseStoryboard(readJson(flags.storyboard, 'storyboard'))
    : undefined;
  const deps = await createPipelineDeps(env, { cacheDir: flags.cacheDir });
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const progress = createProgress(process.stderr, flags.quiet === true || flags.json === true);
  const started = performance.now();
  try {
    const result = await renderBrief(brief, deps, {
      baseDir,
      storyboard,
      signal: controller.signal,
      onEvent: (event) => progress.handle(event),
    });
    progress.finish();
    const delivered = deliver(result, resolve(flags.out));
    const seconds = (performance.now() - started) / 1000;
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ outDir: delivered.outDir, files: delivered.files, seconds, cost: result.cost }, null, 2)}\n`);
      return;
    }
    const duration = result.state.timeline?.totalSec ?? 0;
    process.stdout.write(`\nRendered ${duration.toFixed(1)} s of video in ${seconds.toFixed(1)} s → ${relative(process.cwd(), delivered.outDir) || '.'}\n`);
    for (const file of delivered.files) process.stdout.write(`  ${relative(process.cwd(), file.path)}\n`);
  } finally {
    progress.finish();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
