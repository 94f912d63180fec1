// What a build of src/ was made from, cheaply: the number of source files and the newest one's
// modification time. `npm run build` (scripts/build.mjs) records it in dist/.build-stamp.json after
// everything else is written; bin/aiprod.js compares it with src/ on every start and runs dist/
// only when nothing in src/ is newer and no file came or went, so editing src/ never runs stale
// code. Plain JavaScript: it runs before anything can compile TypeScript.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const STAMP_FILE = '.build-stamp.json';

/**
 * Files of `srcDir` that a build turns into dist/: everything but the tests (which are not built,
 * so editing one must not make dist/ stale).
 * @param {string} name
 */
export const isBuilt = (name) => !name.endsWith('.test.ts');

/**
 * The count of built files under `srcDir` and the newest modification time among them (ms).
 * About 300 files: a few milliseconds of stat calls.
 * @param {string} srcDir
 * @returns {{ files: number, newestMtimeMs: number }}
 */
export function sourceStamp(srcDir) {
  let files = 0;
  let newestMtimeMs = 0;
  for (const entry of readdirSync(srcDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !isBuilt(entry.name)) continue;
    files += 1;
    // `parentPath` arrived in Node 20.12; `path` is its older name.
    const mtime = statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs;
    if (mtime > newestMtimeMs) newestMtimeMs = mtime;
  }
  return { files, newestMtimeMs };
}

/**
 * Whether `distDir` holds a finished build of `srcDir` that is not older than it:
 * 'current', 'missing' (no dist/, or a build that did not finish: it has no stamp yet) or 'stale'.
 * Without `srcDir` (an image that ships dist/ alone) a finished build is current.
 * @param {string} distDir
 * @param {string | undefined} srcDir
 * @returns {'current' | 'missing' | 'stale'}
 */
export function buildState(distDir, srcDir) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(distDir, STAMP_FILE), 'utf8'));
  } catch {
    return 'missing';
  }
  if (srcDir === undefined) return 'current';
  const now = sourceStamp(srcDir);
  return now.files === stamp.files && now.newestMtimeMs <= stamp.newestMtimeMs ? 'current' : 'stale';
}
