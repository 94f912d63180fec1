/**
 * How benchmarks start `aiprod`: as users run it, from the build — made now when dist/ is missing
 * or older than src/, so a benchmark never measures stale code. The result is the node arguments
 * of dist/main/cli.js itself rather than bin/aiprod.js: a source file saved during a long run
 * would otherwise send later starts back to tsx and mix two programs in one measurement.
 * Tests do the opposite: they run src/ through tsx (`--import tsx src/main/cli.ts`), always.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildState } from '../../bin/source-stamp.js';

const ROOT = join(import.meta.dirname, '..', '..');

export function builtCli(): string[] {
  if (buildState(join(ROOT, 'dist'), join(ROOT, 'src')) !== 'current') {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return [join(ROOT, 'dist', 'main', 'cli.js')];
}
