/**
 * `npm run bench:memory [minutes]`: renders a long brief (default 10 minutes, 480p, narrated, with
 * music) through the CLI and samples the resident memory of the whole process tree (Node and its
 * FFmpeg children) every 100 ms. Prints and records the peaks in docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { longBrief } from './bench/briefs.js';
import { recordBenchmark } from './bench/record.js';
import { builtCli } from './bench/cli.js';

const minutes = Number(process.argv[2] ?? 10);
const work = mkdtempSync(join(tmpdir(), 'aiprod-mem-'));
const briefPath = join(work, 'long.json');
writeFileSync(briefPath, JSON.stringify(longBrief(minutes)));

function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Every descendant of `root` (children read from /proc/<pid>/task/<tid>/children). */
function tree(root: number): number[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    const pid = out[i] as number;
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const kids = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
        if (kids) out.push(...kids.split(' ').map(Number));
      }
    } catch {
      // the process ended between listing and reading
    }
  }
  return out;
}

const started = performance.now();
// As users run it: the build, made now if src/ changed (scripts/bench/cli.ts).
const child = spawn(process.execPath, [...builtCli(), 'render', briefPath, '--out', join(work, 'out'), '--cache-dir', join(work, 'cache'), '--quiet'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
let peakTree = 0;
let peakNode = 0;
const timer = setInterval(() => {
  if (!child.pid) return;
  const pids = tree(child.pid);
  peakNode = Math.max(peakNode, rssKb(child.pid));
  peakTree = Math.max(peakTree, pids.reduce((sum, pid) => sum + rssKb(pid), 0));
}, 100);
const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
clearInterval(timer);
const seconds = (performance.now() - started) / 1000;
if (code !== 0) {
  console.error(`render failed with exit code ${code}`);
  process.exit(1);
}
const mib = (kb: number): string => `${(kb / 1024).toFixed(0)} MiB`;
const lines = [
  `A ${minutes}-minute brief (${(minutes * 60) / 10} narrated scenes of 10 s, 480p24, music, captions), cold cache, rendered through the CLI.`,
  '',
  '| what | value |',
  '| --- | --- |',
  `| peak RSS, Node process | ${mib(peakNode)} |`,
  `| peak RSS, Node + FFmpeg children together | ${mib(peakTree)} |`,
  `| wall time | ${seconds.toFixed(1)} s (${((minutes * 60) / seconds).toFixed(2)}× real time) |`,
];
console.log(lines.join('\n'));
recordBenchmark('memory', `npm run bench:memory -- ${minutes}`, lines.join('\n'));
rmSync(work, { recursive: true, force: true });
