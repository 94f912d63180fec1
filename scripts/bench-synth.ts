/**
 * `npm run bench:synth [runs]`: the local synthesizers on the event loop against the same work in
 * the worker pool (SynthPool, two threads). The work is what one render's audio lanes do at once:
 * about a minute of eSpeak speech, a 60 s music bed and a 60 s effects stem with 30 effects. For
 * each mode: wall time, and the longest the event loop went without turning (perf_hooks'
 * monitorEventLoopDelay, 10 ms resolution) — what an API request or a heartbeat would have waited.
 * Medians over `runs` (default 3), after one warm-up run per mode; records them in docs/benchmarks.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { SfxKind } from '../src/contract/brief.js';
import { ProceduralComposer } from '../src/providers/music/procedural.adapter.js';
import { ProceduralSfxLibrary } from '../src/providers/sfx/procedural.adapter.js';
import { SynthPool } from '../src/providers/synth/synth-pool.js';
import { EspeakSynthesizer } from '../src/providers/tts/espeak.adapter.js';
import { recordBenchmark } from './bench/record.js';

const runs = Number(process.argv[2] ?? 3);
const work = mkdtempSync(join(tmpdir(), 'aiprod-bench-synth-'));
const text = 'The launch is on Monday, and every team has a part to play in it. '.repeat(12);
const kinds: SfxKind[] = ['whoosh', 'impact', 'riser', 'click', 'pop', 'chime', 'swell'];
const effects = Array.from({ length: 30 }, (_, i) => ({ kind: kinds[i % kinds.length] as SfxKind, atSec: i * 2, gain: 1 }));

interface Sample {
  wallSec: number;
  maxDelayMs: number;
  speechSec: number;
}

async function once(pool: SynthPool | undefined, run: string): Promise<Sample> {
  const tts = new EspeakSynthesizer({ pool });
  const music = new ProceduralComposer({ pool });
  const sfx = new ProceduralSfxLibrary({ pool });
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const started = performance.now();
  const [speech] = await Promise.all([
    tts.synthesize({ text, voiceId: 'gmw/en-US', rate: 1 }, join(work, `${run}-speech.wav`)),
    music.compose({ mood: 'uplifting', durationSec: 60, seed: 1 }, join(work, `${run}-music.wav`)),
    sfx.renderStem({ effects, durationSec: 60, seed: 1 }, join(work, `${run}-sfx.wav`)),
  ]);
  const wallSec = (performance.now() - started) / 1000;
  histogram.disable();
  return { wallSec, maxDelayMs: histogram.max / 1e6, speechSec: speech.durationSec };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function measure(label: string, pool: SynthPool | undefined): Promise<{ label: string; wall: number; delay: number; speech: number; coldWall: number; coldDelay: number }> {
  const cold = await once(pool, `${label}-warmup`);
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await once(pool, `${label}-${i}`));
  const result = {
    label,
    wall: median(samples.map((s) => s.wallSec)),
    delay: median(samples.map((s) => s.maxDelayMs)),
    speech: samples[0]?.speechSec ?? 0,
    coldWall: cold.wallSec,
    coldDelay: cold.maxDelayMs,
  };
  console.log(`${label}: wall ${result.wall.toFixed(2)} s, max event-loop delay ${result.delay.toFixed(0)} ms (first run: ${cold.wallSec.toFixed(2)} s, ${cold.maxDelayMs.toFixed(0)} ms)`);
  return result;
}

try {
  const loop = await measure('event loop (SYNTH_THREADS=0)', undefined);
  const pool = new SynthPool({ threads: 2 });
  const pooled = await measure('worker pool (SYNTH_THREADS=2)', pool);
  await pool.close();
  const rows = [loop, pooled]
    .map((r) => `| ${r.label} | ${r.wall.toFixed(2)} s | ${r.delay.toFixed(0)} ms | ${r.coldWall.toFixed(2)} s / ${r.coldDelay.toFixed(0)} ms |`)
    .join('\n');
  recordBenchmark(
    'synth',
    'npm run bench:synth',
    [
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; ${runs} runs after a warm-up, medians.`,
      '',
      `Work, started together as a render's audio lanes do: ${loop.speech.toFixed(0)} s of eSpeak speech, a 60 s music bed, a 60 s stem of 30 effects.`,
      '',
      '| where synthesis runs | wall time | longest event-loop stall | first run (threads and engines starting): wall / stall |',
      '| --- | --- | --- | --- |',
      rows,
    ].join('\n'),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
