/**
 * The `aiprod` command as a user runs it: a child process (stdin closed, not a TTY) for --version
 * and --help, doctor, presets, refused briefs, a real render with its printed paths, a second render
 * from the cache, and a re-render of an edited storyboard.json.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadEnv } from '../../src/config/env.js';
import { resolveBinaries } from '../../src/media/binaries.js';
import { runCli, tempDir, type CliRun } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const STAGES = ['plan', 'narrate', 'visualize', 'score', 'foley', 'mix', 'compose', 'qa'];

type Run = CliRun;
const aiprod = runCli;

const shown = (r: Run): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

test('--version prints the package version; --help and render --help document the commands and options', async () => {
  const version = await aiprod(['--version']);
  assert.equal(version.code, 0, shown(version));
  assert.equal(version.stdout.trim(), pkg.version);

  const help = await aiprod(['--help']);
  assert.equal(help.code, 0, shown(help));
  for (const command of ['render', 'doctor', 'presets', 'templates']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'), command);

  const renderHelp = await aiprod(['render', '--help']);
  assert.equal(renderHelp.code, 0, shown(renderHelp));
  assert.match(renderHelp.stdout, /Usage: aiprod render \[options\] \[brief\]/);
  for (const option of ['-o, --out <dir>', '--cache-dir <dir>', '--storyboard <file>', '-q, --quiet', '--json']) {
    assert.ok(renderHelp.stdout.includes(option), `render --help lacks ${option}`);
  }
  assert.match(renderHelp.stdout, /Outputs: video\.mp4, thumbnail\.jpg, captions\.srt\/\.vtt, storyboard\.json, qa\.json, design\.json, cost\.json/);
});

test('doctor reports ffmpeg and ffprobe with their paths and versions, filters, fonts and voices', async () => {
  const r = await aiprod(['doctor']);
  assert.equal(r.code, 0, shown(r));
  for (const tool of ['ffmpeg', 'ffprobe']) {
    const line = new RegExp(`^✓ ${tool}\\s+(\\S+)\\s+(\\S+)\\s+\\(from (\\w+)\\)$`, 'm').exec(r.stdout);
    assert.ok(line, `no ${tool} line in:\n${r.stdout}`);
    assert.match(line[1] ?? '', /\d+\.\d+/, `${tool} version`);
    assert.ok(existsSync(line[2] ?? ''), `${tool} path ${line[2]} does not exist`);
  }
  assert.match(r.stdout, /^(✓ every filter and encoder AIPROD uses is present|[!✗] missing \S+)/m);
  const latin = /^✓ font latin\/regular: (.+)$/m.exec(r.stdout);
  assert.ok(latin && existsSync(latin[1] ?? ''), 'a Latin font is found and exists');
  assert.match(r.stdout, /^[✓!] font cjk\/bold: /m);
  const voices = Number(/^✓ voices: (\d+) \(espeak-ng, offline\)$/m.exec(r.stdout)?.[1]);
  assert.ok(voices > 100, `voices: ${voices}`);
  assert.match(r.stdout, /^ {4}gmw\/en-US\s+en-us, en\s+English \(America\)$/m);
  assert.match(r.stdout, /^✓ sound effects: whoosh, /m);
});

test('presets lists the named bundles with their options', async () => {
  const r = await aiprod(['presets']);
  assert.equal(r.code, 0, shown(r));
  for (const name of ['social_vertical', 'youtube_landscape', 'square_post']) assert.match(r.stdout, new RegExp(`^${name} +\\S`, 'm'), name);
  assert.match(r.stdout, /"aspectRatio":"9:16"/);
});

test('templates lists each template with its ratios and fields; --json gives types and samples; an unknown --set exits 1', async () => {
  const r = await aiprod(['templates']);
  assert.equal(r.code, 0, shown(r));
  assert.match(r.stdout, /^top-list +16:9 9:16 1:1 4:5 +heading\*:text .*items\*:list/m);
  const json = await aiprod(['templates', '--json']);
  assert.equal(json.code, 0, shown(json));
  const list = JSON.parse(json.stdout) as { name: string; fields: { name: string; type: string; sample: unknown }[] }[];
  assert.equal(list.length, 8);
  assert.deepEqual(list.find((t) => t.name === 'tutorial-steps')?.fields.find((f) => f.name === 'steps')?.type, 'list');
  const out = join(tempDir('cli-template'), 'out');
  const bad = await aiprod(['render', '--template', 'product-launch', '--set', 'colour=#fff', '--out', out]);
  assert.equal(bad.code, 1, shown(bad));
  assert.match(bad.stderr, /^ {2}- merge\.colour: "product-launch" has no field "colour": use one of product, tagline/m);
  assert.equal(existsSync(out), false);
});

test('a bad brief or storyboard exits 1, names the field and the fix on stderr, and leaves no output directory', async () => {
  const dir = tempDir('cli-bad');
  const scene = { narration: 'Hello there.', visual: { type: 'color', color: 'blue' } };
  const cases: { name: string; content?: string; storyboard?: string; expect: RegExp[] }[] = [
    { name: 'colour', content: JSON.stringify({ scenes: [scene] }), expect: [/^error \[invalid_brief\]: /, /^ {2}- scenes\.0\.visual\.color: use a hex colour such as "#1e3a8a" or "#fff"$/m] },
    { name: 'both', content: JSON.stringify({ prompt: 'An ad for bread', script: 'Bread.' }), expect: [/^ {2}- script: give exactly one of "prompt", "script" or "scenes", not "prompt" and "script"$/m] },
    { name: 'unknown', content: JSON.stringify({ prompt: 'An ad for bread', colour: 'red' }), expect: [/Unrecognized key: "colour"/] },
    { name: 'malformed', content: '{"scenes": [', expect: [/^error \[invalid_brief\]: brief \S+malformed\.json is not valid JSON: /] },
    { name: 'missing', expect: [/^error \[invalid_brief\]: brief not found: \S+missing\.json$/m] },
    {
      name: 'storyboard',
      content: JSON.stringify({ prompt: 'An ad for bread' }),
      storyboard: JSON.stringify({ title: 'x', language: 'en', mood: 'calm', sfxCues: [], notes: [], scenes: [{ ...scene, id: 's1', keywords: [], sfx: [] }] }),
      expect: [/^error \[invalid_storyboard\]: /, /^ {2}- scenes\.0\.visual\.color: use a hex colour/m],
    },
  ];
  for (const c of cases) {
    const briefPath = join(dir, `${c.name}.json`);
    if (c.content !== undefined) writeFileSync(briefPath, c.content);
    const extra: string[] = [];
    if (c.storyboard) {
      writeFileSync(join(dir, 'bad-storyboard.json'), c.storyboard);
      extra.push('--storyboard', join(dir, 'bad-storyboard.json'));
    }
    const outDir = join(dir, `out-${c.name}`);
    const r = await aiprod(['render', briefPath, '--out', outDir, ...extra]);
    assert.equal(r.code, 1, `${c.name}: ${shown(r)}`);
    for (const re of c.expect) assert.match(r.stderr, re, c.name);
    assert.equal(r.stdout, '', `${c.name}: nothing on stdout`);
    assert.ok(!existsSync(outDir), `${c.name}: a refused brief leaves no output directory`);
  }
});

// The renders below share one cache and build on each other; node:test runs them in order.
const work = tempDir('cli-render');
const cacheDir = join(work, 'cache');
const briefPath = join(work, 'brief.json');
writeFileSync(briefPath, JSON.stringify({
  scenes: [
    { narration: 'Fresh bread, every morning.', title: 'Bakery', durationSec: 2, visual: { type: 'gradient', colors: ['#7c2d12', '#f59e0b'] } },
    { narration: 'Come early, it goes fast.', durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } },
  ],
  resolution: '480p',
  fps: 24,
  outputs: ['mp4', 'webm', 'srt', 'vtt'],
  seed: 3,
}));
const EXPECTED = ['captions.srt', 'captions.vtt', 'contact-sheet.jpg', 'cost.json', 'design.json', 'qa.json', 'storyboard.json', 'thumbnail.jpg', 'video.mp4', 'video.webm'];

/** The paths the CLI lists after "Rendered …", relative to its working directory. */
function printedPaths(r: Run): string[] {
  const lines = r.stdout.split('\n');
  const at = lines.findIndex((l) => /^Rendered \d+\.\d s of video in \d+\.\d s → /.test(l));
  assert.ok(at >= 0, shown(r));
  return lines.slice(at + 1).filter((l) => l.startsWith('  ')).map((l) => resolve(ROOT, l.trim()));
}

/** `✓ stage  1.23 s (n/m from cache)` per finished stage. */
function stageLines(stderr: string): Map<string, string> {
  return new Map([...stderr.matchAll(/^✓ (\w+) +\d+\.\d\d s(.*)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

async function probeVideo(path: string): Promise<{ codec_name: string; width: number; height: number }> {
  const { ffprobe } = resolveBinaries(loadEnv(), process.env.PATH);
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', path];
  const { stdout } = await promisify(execFile)(ffprobe, args);
  return (JSON.parse(stdout) as { streams: { codec_name: string; width: number; height: number }[] }).streams[0] ?? assert.fail('no video stream');
}

test('render prints plain per-stage lines and the paths it wrote, and every file checks out', async () => {
  const outDir = join(work, 'out');
  const r = await aiprod(['render', briefPath, '--out', outDir], { AIPROD_CACHE_DIR: cacheDir });
  assert.equal(r.code, 0, shown(r));
  assert.ok(!r.stderr.includes('\r') && !r.stderr.includes('\u001b'), 'no terminal control characters when stderr is not a TTY');
  const stages = stageLines(r.stderr);
  for (const stage of STAGES) {
    assert.match(r.stderr, new RegExp(`^▶ ${stage}$`, 'm'), `${stage} start`);
    assert.equal(stages.get(stage), '', `${stage} end, nothing from an empty cache`);
  }
  const paths = printedPaths(r);
  assert.deepEqual(paths.map((p) => basename(p)).sort(), EXPECTED);
  for (const p of paths) {
    assert.equal(resolve(p, '..'), outDir, p);
    assert.ok(statSync(p).size > 0, `${p} is empty`);
  }

  const qa = JSON.parse(readFileSync(join(outDir, 'qa.json'), 'utf8')) as { passed: boolean; checks: { name: string; passed: boolean }[] };
  assert.equal(qa.passed, true, JSON.stringify(qa.checks.filter((c) => !c.passed)));
  const cost = JSON.parse(readFileSync(join(outDir, 'cost.json'), 'utf8')) as { currency: string; stages: { stage: string; provider: string; units: Record<string, number> }[] };
  assert.equal(cost.currency, 'USD');
  for (const stage of STAGES) {
    const record = cost.stages.find((s) => s.stage === stage);
    assert.ok(record, `cost.json lacks ${stage}`);
    assert.ok(record.provider.length > 0 && Object.keys(record.units).length > 0, `${stage}: ${JSON.stringify(record)}`);
    for (const n of Object.values(record.units)) assert.ok(Number.isFinite(n) && n > 0, `${stage} units ${JSON.stringify(record.units)}`);
  }

  assert.deepEqual(await probeVideo(join(outDir, 'video.mp4')), { codec_name: 'h264', width: 854, height: 480 });
  assert.deepEqual(await probeVideo(join(outDir, 'video.webm')), { codec_name: 'vp9', width: 854, height: 480 });
  assert.match(readFileSync(join(outDir, 'captions.srt'), 'utf8'), /^1\n00:00:00,\d{3} --> 00:00:0\d,\d{3}\nFresh bread, every morning\.\n/);
  assert.match(readFileSync(join(outDir, 'captions.vtt'), 'utf8'), /^WEBVTT\n/);
});

test('the same brief again (--cache-dir naming the same cache) reports every stage from cache', async () => {
  const outDir = join(work, 'again');
  const r = await aiprod(['render', briefPath, '--out', outDir, '--cache-dir', cacheDir]);
  assert.equal(r.code, 0, shown(r));
  const stages = stageLines(r.stderr);
  for (const stage of STAGES.filter((s) => s !== 'qa')) {
    const m = /^ \((\d+)\/(\d+) from cache\)$/.exec(stages.get(stage) ?? '');
    assert.ok(m && m[1] === m[2], `${stage} not fully from cache:\n${r.stderr}`);
  }
  assert.deepEqual(printedPaths(r).map((p) => basename(p)).sort(), EXPECTED);
  for (const p of printedPaths(r)) assert.ok(existsSync(p), p);
});

test('--storyboard re-renders an edited storyboard.json, redoing only the edited narration', async () => {
  const board = JSON.parse(readFileSync(join(work, 'out', 'storyboard.json'), 'utf8')) as { scenes: { narration: string }[]; timeline?: unknown };
  // The delivered file goes back as it is, timeline included: the round trip the README promises.
  assert.ok(board.timeline, 'storyboard.json carries the rendered timeline');
  const edited = board.scenes[1] ?? assert.fail('no second scene');
  edited.narration = 'Come early, the best loaves go first.';
  const boardPath = join(work, 'edited-storyboard.json');
  writeFileSync(boardPath, JSON.stringify(board, null, 2));

  const outDir = join(work, 'edited');
  const r = await aiprod(['render', briefPath, '--storyboard', boardPath, '--out', outDir, '--cache-dir', cacheDir, '--json']);
  assert.equal(r.code, 0, shown(r));
  assert.equal(r.stderr, '', '--json prints no progress');
  const result = JSON.parse(r.stdout) as { outDir: string; files: { name: string; path: string }[] };
  assert.equal(result.outDir, outDir);
  assert.deepEqual(result.files.map((f) => f.name).sort(), EXPECTED);
  for (const f of result.files) assert.ok(existsSync(f.path), f.path);
  const srt = readFileSync(join(outDir, 'captions.srt'), 'utf8');
  assert.match(srt, /Fresh bread, every morning\./);
  assert.match(srt, /Come early, the best loaves go first\./);
  const cost = JSON.parse(readFileSync(join(outDir, 'cost.json'), 'utf8')) as { stages: { stage: string; units: Record<string, number>; cachedUnits: number }[] };
  assert.equal(cost.stages.find((s) => s.stage === 'narrate')?.cachedUnits, 1, 'the unedited scene\'s speech comes from the cache');
  const out = JSON.parse(readFileSync(join(outDir, 'storyboard.json'), 'utf8')) as { scenes: { narration: string }[] };
  assert.equal(out.scenes[1]?.narration, 'Come early, the best loaves go first.');
  assert.equal((JSON.parse(readFileSync(join(outDir, 'qa.json'), 'utf8')) as { passed: boolean }).passed, true);
});
