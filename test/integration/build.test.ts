/**
 * `npm run build` and the `aiprod` bin that chooses between the build and the sources. The build
 * is made from a snapshot of src/ in a temporary checkout (package.json, bin/, scripts/build.mjs,
 * src/, node_modules linked), never from the repository's own dist/: a stale or missing dist/ in
 * the working tree cannot make this test pass or fail. Everything runs as users run it: child
 * `node` processes with no tsx loader, except where the bin falls back to tsx itself.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const run = promisify(execFile);

const checkout = tempDir('build');
const dist = join(checkout, 'dist');

/** A process of `node` in the temporary checkout, with the database and data directory its own. */
async function node(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, AIPROD_DATA_DIR: join(checkout, 'data'), ...env };
  delete childEnv.DATABASE_URL;
  // The test runner's loader flags (tsx) are not passed on: a child runs what a user's `node` runs.
  delete childEnv.NODE_OPTIONS;
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: checkout, env: childEnv, timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const shown = (r: { code: number; stdout: string; stderr: string }): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

before(async () => {
  for (const part of ['package.json', 'tsconfig.json', 'bin', 'src']) cpSync(join(ROOT, part), join(checkout, part), { recursive: true, preserveTimestamps: true });
  mkdirSync(join(checkout, 'scripts'));
  cpSync(join(ROOT, 'scripts', 'build.mjs'), join(checkout, 'scripts', 'build.mjs'));
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  const built = await node(['scripts/build.mjs']);
  assert.equal(built.code, 0, shown(built));
  assert.match(built.stdout, /^build: \d+ modules and \d+ assets → dist in \d+ ms$/m);
});
after(() => rmSync(checkout, { recursive: true, force: true }));

test('the build holds JavaScript for every module, the run-time assets, no tests, and its stamp last', () => {
  const files = readdirSync(dist, { recursive: true, encoding: 'utf8' });
  assert.ok(files.includes(join('main', 'cli.js')));
  assert.ok(!files.some((f) => f.endsWith('.ts')), 'no TypeScript in dist/');
  assert.ok(!files.some((f) => f.endsWith('.test.js')), 'tests are not built');
  const sources = readdirSync(join(checkout, 'src'), { recursive: true, encoding: 'utf8' });
  for (const source of sources.filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) assert.ok(files.includes(source.replace(/\.ts$/, '.js')), `${source} was not compiled`);
  // Read at run time through import.meta.url: migrations (and restore's journal), template data, the synthesis worker's entry.
  for (const asset of sources.filter((f) => !f.endsWith('.ts') && statSync(join(checkout, 'src', f)).isFile())) {
    assert.equal(readFileSync(join(dist, asset), 'utf8'), readFileSync(join(checkout, 'src', asset), 'utf8'), `${asset} copied as it is`);
  }
  assert.ok(files.includes(join('db', 'migrations', 'meta', '_journal.json')));
  const stamp = JSON.parse(readFileSync(join(dist, '.build-stamp.json'), 'utf8')) as { files: number; newestMtimeMs: number };
  assert.equal(stamp.files, sources.filter((f) => !f.endsWith('.test.ts') && statSync(join(checkout, 'src', f)).isFile()).length);
  assert.ok(!readdirSync(checkout).some((f) => f.endsWith('.tmp') || f.endsWith('.old')), 'the temporary build was renamed into place');
});

test('the compiled CLI prints its version and help; the bin runs the build without a note', async () => {
  const version = await node(['dist/main/cli.js', '--version']);
  assert.equal(version.code, 0, shown(version));
  assert.equal(version.stdout.trim(), pkg.version, 'package.json is found from dist/main/cli.js as from src/main/cli.ts');

  const viaBin = await node(['bin/aiprod.js', '--version']);
  assert.equal(viaBin.code, 0, shown(viaBin));
  assert.equal(viaBin.stdout.trim(), pkg.version);
  assert.equal(viaBin.stderr, '', 'a current build runs silently');

  // What --version loads: commander and the command modules' registrations, never the service's
  // dependencies (each is hundreds of milliseconds of a start). A command imports them in its action.
  writeFileSync(join(checkout, 'trace-hooks.mjs'), "export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('LOADED ' + r.url + '\\n'); return r; }\n");
  writeFileSync(join(checkout, 'trace.mjs'), "import { register } from 'node:module'; register('./trace-hooks.mjs', import.meta.url);\n");
  const traced = await node(['--import', './trace.mjs', 'dist/main/cli.js', '--version']);
  assert.equal(traced.code, 0, shown(traced));
  const loaded = [...traced.stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1] ?? '');
  assert.ok(loaded.some((url) => url.endsWith('/dist/main/cli.js')), traced.stderr);
  const heavy = loaded.filter((url) => /\/node_modules\/(zod|drizzle-orm|fastify|pg|pg-boss|@electric-sql|pino|prom-client|@aws-sdk|piscina)\//.test(url));
  assert.deepEqual(heavy, [], 'aiprod --version loads none of the service\'s dependencies');

  const help = await node(['bin/aiprod.js', '--help']);
  assert.equal(help.code, 0, shown(help));
  for (const command of ['render', 'doctor', 'serve', 'migrate', 'keys', 'tenants']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'), command);
});

test('aiprod migrate from the build applies the copied migrations to an embedded database', async () => {
  const r = await node(['bin/aiprod.js', 'migrate']);
  assert.equal(r.code, 0, shown(r));
  assert.match(r.stdout, /^migrations applied \(pglite\)$/m);
  const journal = JSON.parse(readFileSync(join(dist, 'db', 'migrations', 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
  assert.ok(journal.entries.length > 0);
});

test('the synthesis worker thread of the build loads the compiled tasks, with no TypeScript loader', async () => {
  const wav = join(checkout, 'hello.wav');
  const script = `
    import { SynthPool } from './dist/providers/synth/synth-pool.js';
    const pool = new SynthPool({ threads: 1 });
    try {
      const result = await pool.run('speak', { request: { text: 'Built once, started fast.', voiceId: 'gmw/en-US', rate: 1 }, outPath: ${JSON.stringify(wav)} });
      process.stdout.write(JSON.stringify({ durationSec: result.durationSec, words: result.words.length }));
    } finally {
      await pool.close();
    }`;
  const r = await node(['--input-type=module', '-e', script]);
  assert.equal(r.code, 0, shown(r));
  const result = JSON.parse(r.stdout) as { durationSec: number; words: number };
  assert.ok(result.durationSec > 0.5 && result.words === 4, r.stdout);
  assert.ok(statSync(wav).size > 10_000, 'a WAV was written');
});

test('an edited, added or removed source file makes the bin run src/ through tsx, with a one-line note', async () => {
  const cli = join(checkout, 'src', 'main', 'cli.ts');
  const { atime, mtime } = statSync(cli);
  const later = new Date(Date.now() + 60_000);
  utimesSync(cli, later, later);
  const edited = await node(['bin/aiprod.js', '--version']);
  assert.equal(edited.code, 0, shown(edited));
  assert.equal(edited.stdout.trim(), pkg.version);
  assert.equal(edited.stderr, 'aiprod: running from source (src/ changed since the last build); `npm run build` for a fast start\n');
  utimesSync(cli, atime, mtime);
  assert.equal((await node(['bin/aiprod.js', '--version'])).stderr, '', 'back to the built times: the build is current again');

  // A file added with an old time (copied with its times kept, unpacked from an archive) is still seen.
  const added = join(checkout, 'src', 'lib', 'added-later.ts');
  writeFileSync(added, 'export const addedLater = 1;\n');
  utimesSync(added, new Date(0), new Date(0));
  assert.match((await node(['bin/aiprod.js', '--version'])).stderr, /^aiprod: running from source \(src\/ changed since the last build\)/);
  rmSync(added);

  // Editing a test does not: tests are not part of the build.
  const aTest = readdirSync(join(checkout, 'src'), { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('.test.ts'));
  assert.ok(aTest);
  utimesSync(join(checkout, 'src', aTest), later, later);
  assert.equal((await node(['bin/aiprod.js', '--version'])).stderr, '');

  // A build that did not finish (no stamp) is not run either.
  const stamp = readFileSync(join(dist, '.build-stamp.json'));
  rmSync(join(dist, '.build-stamp.json'));
  const unfinished = await node(['bin/aiprod.js', '--version']);
  assert.equal(unfinished.stdout.trim(), pkg.version);
  assert.equal(unfinished.stderr, 'aiprod: running from source; `npm run build` for a fast start\n');
  writeFileSync(join(dist, '.build-stamp.json'), stamp);
});

test('an install with dist/ and no src/ (the container image) runs the build; with neither it says so', async () => {
  const image = tempDir('build-image');
  try {
    for (const part of ['package.json', 'bin', 'dist']) cpSync(join(checkout, part), join(image, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(image, 'node_modules'), 'dir');
    const r = await run(process.execPath, [join(image, 'bin', 'aiprod.js'), '--version'], { cwd: image });
    assert.equal(r.stdout.trim(), pkg.version);
    assert.equal(r.stderr, '');

    rmSync(join(image, 'dist'), { recursive: true });
    await assert.rejects(run(process.execPath, [join(image, 'bin', 'aiprod.js'), '--version'], { cwd: image }), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /no finished build in dist\/ and no src\/ to run/);
      return true;
    });
  } finally {
    rmSync(image, { recursive: true, force: true });
  }
});

test('without src/ the build script has nothing to do and says so (npm ci in a dependency layer)', async () => {
  const bare = tempDir('build-bare');
  try {
    mkdirSync(join(bare, 'scripts'));
    cpSync(join(ROOT, 'scripts', 'build.mjs'), join(bare, 'scripts', 'build.mjs'));
    cpSync(join(ROOT, 'bin'), join(bare, 'bin'), { recursive: true });
    const r = await run(process.execPath, [join(bare, 'scripts', 'build.mjs')], { cwd: bare });
    assert.match(r.stdout, /no src\/ here .*nothing to compile/);
    assert.ok(!existsSync(join(bare, 'dist')));
  } finally {
    rmSync(bare, { recursive: true, force: true });
  }
});
