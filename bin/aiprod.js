#!/usr/bin/env node
// Entry of `aiprod` (package.json's bin). It runs the build in dist/ (`npm run build`, which `npm ci`
// runs through `prepare`) when that build is not older than src/: a start in a fraction of a second.
// Otherwise — no build, or src/ edited since — it runs src/ through tsx (Node 20 cannot strip
// types; compiling takes seconds per start) and says so, so an edited src/ never runs stale code.
// An install without src/ (the container image) runs dist/ as it is.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { buildState } from './source-stamp.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const src = `${root}src`;
const state = buildState(`${root}dist`, existsSync(src) ? src : undefined);

if (state === 'current') {
  await import('../dist/main/cli.js');
} else if (!existsSync(src)) {
  process.stderr.write('aiprod: no finished build in dist/ and no src/ to run: reinstall, or run `npm run build` in a checkout\n');
  process.exitCode = 1;
} else {
  // A cluster's child (`serve --api-processes N`, NODE_UNIQUE_ID set) leaves the note to its primary.
  if (!process.env.NODE_UNIQUE_ID) process.stderr.write(`aiprod: running from source${state === 'stale' ? ' (src/ changed since the last build)' : ''}; \`npm run build\` for a fast start\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main/cli.ts');
}
