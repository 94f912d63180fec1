/**
 * `npm run bench:render`: renders the standard brief (30 s, 5 scenes, 1080p30, narration, music,
 * effects, captions) from a cold cache and, in the same run, a bare FFmpeg encode of the same
 * length, size and rate (testsrc2 + sine, libx264 veryfast + AAC). Prints both wall times and
 * their ratio, and records them in docs/benchmarks.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from '../src/config/env.js';
import { parseBrief, resolveBrief } from '../src/contract/resolve.js';
import { createPipelineDeps } from '../src/main/container.js';
import { runProcess } from '../src/media/ffmpeg.js';
import { deliver } from '../src/pipeline/deliver.js';
import { renderBrief } from '../src/pipeline/run.js';
import { standardBrief } from './bench/briefs.js';
import { recordBenchmark } from './bench/record.js';

const runs = Number(process.argv[2] ?? 3);
const env = loadEnv();
const work = mkdtempSync(join(tmpdir(), 'aiprod-bench-'));

async function bare(): Promise<number> {
  const deps = await createPipelineDeps(env, { cacheDir: join(work, 'unused') });
  const started = performance.now();
  await runProcess(deps.media.bins.ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=s=1920x1080:r=30:d=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=30',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '192k',
    '-movflags', '+faststart', join(work, 'bare.mp4'),
  ]);
  return (performance.now() - started) / 1000;
}

async function pipeline(run: number, preset = env.AIPROD_X264_PRESET): Promise<{ wall: number; stages: Record<string, number> }> {
  const cacheDir = join(work, `cache-${run}-${preset}`);
  const started = performance.now();
  const deps = await createPipelineDeps({ ...env, AIPROD_X264_PRESET: preset }, { cacheDir });
  const result = await renderBrief(resolveBrief(parseBrief(standardBrief())), deps, { baseDir: process.cwd() });
  deliver(result, join(work, `out-${run}`));
  const wall = (performance.now() - started) / 1000;
  rmSync(cacheDir, { recursive: true, force: true });
  return { wall, stages: result.timings };
}

const bareTimes: number[] = [];
const pipeTimes: number[] = [];
// The same render with the baseline's own x264 preset, so the ratio is not only the preset's doing.
const sameTimes: number[] = [];
let stages: Record<string, number> = {};
for (let i = 0; i < runs; i++) {
  // Alternate so neither side always runs on a warmer machine.
  bareTimes.push(await bare());
  const p = await pipeline(i);
  pipeTimes.push(p.wall);
  stages = p.stages;
  sameTimes.push((await pipeline(i, 'veryfast')).wall);
  console.log(`run ${i + 1}: bare ${bareTimes[i]?.toFixed(2)} s, pipeline ${p.wall.toFixed(2)} s, pipeline at veryfast ${sameTimes[i]?.toFixed(2)} s`);
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const b = median(bareTimes);
const p = median(pipeTimes);
const same = median(sameTimes);
const lines = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; FFmpeg ${(await createPipelineDeps(env, { cacheDir: join(work, 'x') })).media.caps.ffmpegVersion}; ${runs} runs, medians.`,
  '',
  '| what | wall time |',
  '| --- | --- |',
  `| bare FFmpeg encode (testsrc2 + sine, 1080p30, 30 s, libx264 veryfast + AAC) | ${b.toFixed(2)} s |`,
  `| AIPROD render, cold cache (plan → qa, 30 s, 5 scenes, 1080p30, x264 ${env.AIPROD_X264_PRESET}, the default) | ${p.toFixed(2)} s |`,
  `| ratio pipeline / bare | **${(p / b).toFixed(2)}×** |`,
  `| speed vs real time | ${(30 / p).toFixed(2)}× real time |`,
  `| the same render with x264 veryfast, like the baseline | ${same.toFixed(2)} s (${(same / b).toFixed(2)}×) |`,
  '',
  `Stage wall times of the last run (s): ${Object.entries(stages).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}.`,
];
console.log(`\n${lines.join('\n')}`);
recordBenchmark('render', 'npm run bench:render', lines.join('\n'));
rmSync(work, { recursive: true, force: true });
