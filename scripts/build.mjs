#!/usr/bin/env node
// `npm run build`, and npm's `prepare` (so `npm ci` builds): src/ compiled to JavaScript in dist/,
// which bin/aiprod.js runs instead of compiling src/ through tsx on every start (seconds per start).
//
// esbuild transforms each file on its own (no bundle: dist/ mirrors src/, so `import.meta.url`
// paths like ../../package.json and ./migrations resolve as they do in src/). It takes about half
// a second where `tsc` emit takes 15 s; it does not type-check, which `npm run typecheck` (tsc
// --noEmit, part of `npm run check`) does. Every file of src/ that is not TypeScript (migrations,
// template data, the synthesis worker's entry) is copied beside the compiled code; tests are not
// built.
//
// The build is written to a temporary directory and renamed into place, its stamp last (see
// bin/source-stamp.js), so a process starting meanwhile sees either the old build or none.
//
// Usage: node scripts/build.mjs [--out-dir DIR]   (default: dist/ beside src/)
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { STAMP_FILE, isBuilt, sourceStamp } from '../bin/source-stamp.js';

const ROOT = join(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const { values } = parseArgs({ options: { 'out-dir': { type: 'string' } } });
const out = resolve(values['out-dir'] ?? join(ROOT, 'dist'));

// `npm ci` in an image's dependency layer has package.json but no sources yet: nothing to build.
if (!existsSync(SRC)) {
  process.stdout.write('build: no src/ here (dependencies installed alone): nothing to compile\n');
  process.exit(0);
}

const started = performance.now();
// Taken before compiling: a file saved during the build is newer than the stamp, so it counts as stale.
const stamp = sourceStamp(SRC);
const files = readdirSync(SRC, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && isBuilt(entry.name))
  .map((entry) => relative(SRC, join(entry.parentPath ?? entry.path, entry.name)));
const code = files.filter((f) => f.endsWith('.ts'));
const assets = files.filter((f) => !f.endsWith('.ts'));

const temp = `${out}.${process.pid}.tmp`;
rmSync(temp, { recursive: true, force: true });
const { build } = await import('esbuild');
await build({
  entryPoints: code.map((f) => join(SRC, f)),
  outbase: SRC,
  outdir: temp,
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  tsconfig: join(ROOT, 'tsconfig.json'),
  // Linked maps: `node --enable-source-maps` turns stack traces back into src/ lines when wanted.
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
});
for (const asset of assets) {
  mkdirSync(dirname(join(temp, asset)), { recursive: true });
  cpSync(join(SRC, asset), join(temp, asset));
}
writeFileSync(join(temp, STAMP_FILE), `${JSON.stringify({ ...stamp, builtAt: new Date().toISOString() })}\n`);

// Swap: the old build moves aside, the new one takes its name, the old one goes. Another build
// finishing at the same moment may take the name in between: then its build moves aside too.
for (let attempt = 0; ; attempt++) {
  const old = `${out}.${process.pid}.${attempt}.old`;
  if (existsSync(out)) renameSync(out, old);
  try {
    renameSync(temp, out);
    rmSync(old, { recursive: true, force: true });
    break;
  } catch (error) {
    rmSync(old, { recursive: true, force: true });
    if (attempt >= 5 || !['ENOTEMPTY', 'EEXIST'].includes(error.code)) throw error;
  }
}

const ms = performance.now() - started;
process.stdout.write(`build: ${code.length} modules and ${assets.length} assets → ${relative(process.cwd(), out) || '.'} in ${ms.toFixed(0)} ms\n`);
