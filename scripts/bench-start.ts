/**
 * `npm run bench:start [-- --runs N] [-- --record]`: how long `aiprod` takes to start, from the
 * build (dist/) against the sources through tsx (what every start cost before `npm run build`).
 *
 * It measures what users run, `node bin/aiprod.js …`, in a temporary checkout made from a snapshot
 * of this one (package.json, bin/, scripts/build.mjs, src/; node_modules linked) and built there:
 * the repository's own dist/ may be stale or missing, and a shared working tree changes under a
 * benchmark. Cases run in rounds, one of each per round, so a busy machine weighs on all alike;
 * `node -e 0` is the floor. Wall time is what a user waits; on a busy machine it is mostly waiting
 * for a core, so the CPU time each start used (user + system, GNU time's, children included) is
 * reported beside it when /usr/bin/time exists. Prints a markdown table of medians; --record
 * writes it into docs/benchmarks.md.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { buildState, sourceStamp } from '../bin/source-stamp.js';
import { recordBenchmark } from './bench/record.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, record: { type: 'boolean', default: false } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, not ${values.runs}`);

const ROOT = join(import.meta.dirname, '..');
const run = promisify(execFile);
const checkout = mkdtempSync(join(tmpdir(), 'aiprod-bench-start-'));
const GNU_TIME = '/usr/bin/time';
const cpuFile = join(checkout, 'cpu.txt');

interface Case {
  name: string;
  args: string[];
  /** Whether dist/ is hidden for this case (the bin then runs src/ through tsx). */
  fromSource: boolean;
  /** Fewer runs for the slow cases. */
  every?: number;
}

const CASES: Case[] = [
  { name: '`node -e 0` (the floor)', args: ['-e', '0'], fromSource: false },
  { name: '`aiprod --version`, build', args: ['bin/aiprod.js', '--version'], fromSource: false },
  { name: '`aiprod --version`, source (tsx)', args: ['bin/aiprod.js', '--version'], fromSource: true },
  { name: '`aiprod --help`, build', args: ['bin/aiprod.js', '--help'], fromSource: false },
  { name: '`aiprod --help`, source (tsx)', args: ['bin/aiprod.js', '--help'], fromSource: true },
  { name: '`node dist/main/cli.js --version` (no staleness check)', args: ['dist/main/cli.js', '--version'], fromSource: false },
  { name: '`aiprod doctor`, build', args: ['bin/aiprod.js', 'doctor'], fromSource: false, every: 2 },
  { name: '`aiprod doctor`, source (tsx)', args: ['bin/aiprod.js', 'doctor'], fromSource: true, every: 2 },
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

try {
  for (const part of ['package.json', 'tsconfig.json', 'bin', 'src']) cpSync(join(ROOT, part), join(checkout, part), { recursive: true, preserveTimestamps: true });
  mkdirSync(join(checkout, 'scripts'));
  cpSync(join(ROOT, 'scripts', 'build.mjs'), join(checkout, 'scripts', 'build.mjs'));
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');

  const buildStarted = performance.now();
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: checkout, stdio: 'ignore' });
  const buildSec = (performance.now() - buildStarted) / 1000;
  const dist = join(checkout, 'dist');
  const hidden = join(checkout, 'dist-hidden');
  const env: NodeJS.ProcessEnv = { ...process.env, AIPROD_DATA_DIR: join(checkout, 'data') };
  delete env.NODE_OPTIONS;

  // The staleness check the bin makes on every start, on its own.
  const checks: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    if (buildState(dist, join(checkout, 'src')) !== 'current') throw new Error('the fresh build reads as not current');
    checks.push(performance.now() - started);
  }

  const times = new Map<string, number[]>(CASES.map((c) => [c.name, []]));
  const cpu = new Map<string, number[]>(CASES.map((c) => [c.name, []]));
  const withTime = existsSync(GNU_TIME);
  // One warm-up round: tsx fills its compile cache, the OS its file cache.
  for (let round = -1; round < runs; round++) {
    for (const c of CASES) {
      if (round >= 0 && c.every && round % c.every !== 0) continue;
      if (c.fromSource) renameSync(dist, hidden);
      try {
        const started = performance.now();
        const [file, args] = withTime ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, process.execPath, ...c.args]] : [process.execPath, c.args];
        await run(file, args, { cwd: checkout, env }).catch((error: { code?: number }) => {
          // doctor exits 1 on a machine that lacks something (a font, a filter): it still started.
          if (!(c.args.includes('doctor') && error.code === 1)) throw error;
        });
        if (round >= 0) {
          times.get(c.name)?.push(performance.now() - started);
          // The last line: GNU time writes "Command exited with non-zero status 1" above it for doctor's exit 1.
          if (withTime) {
            const [user, sys] = (readFileSync(cpuFile, 'utf8').trim().split('\n').at(-1) ?? '').split(' ').map(Number);
            cpu.get(c.name)?.push(((user ?? 0) + (sys ?? 0)) * 1000);
          }
        }
      } finally {
        if (c.fromSource) renameSync(hidden, dist);
      }
    }
    process.stderr.write(`round ${round + 1}/${runs}\n`);
  }

  const version = times.get('`aiprod --version`, build') ?? [];
  const versionTsx = times.get('`aiprod --version`, source (tsx)') ?? [];
  const rows = CASES.map((c) => {
    const t = times.get(c.name) ?? [];
    const u = cpu.get(c.name) ?? [];
    return `| ${c.name} | ${t.length} | ${(median(t) / 1000).toFixed(2)} | ${(Math.min(...t) / 1000).toFixed(2)} | ${(Math.max(...t) / 1000).toFixed(2)} | ${u.length ? (median(u) / 1000).toFixed(2) : '–'} |`;
  });
  const body = [
    `${cpus().length} CPUs (load average ${loadavg()[0]?.toFixed(1)} at the end), Node ${process.version}; ${sourceStamp(join(checkout, 'src')).files} files in src/ built in ${buildSec.toFixed(1)} s (\`node scripts/build.mjs\`, esbuild). Seconds per start, wall clock:`,
    '',
    '| start | runs | wall, median s | wall, min s | wall, max s | CPU, median s |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `\`aiprod --version\`: **${(median(versionTsx) / Math.max(median(version), 1)).toFixed(1)}×** faster from the build. The bin's staleness check (stat of every built file in src/) took ${median(checks).toFixed(1)} ms (median of 20).`,
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (values.record) recordBenchmark('start', 'npm run bench:start -- --record', body);
} finally {
  rmSync(checkout, { recursive: true, force: true });
}
