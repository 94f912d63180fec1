/**
 * The design and motion gates on real renders: qa.json carries the design checks (contrast, safe
 * area, caption overlap) and the motion checks, design.json is delivered beside it, and a still
 * picture is found by the analysis pass — a failure when AIPROD drew the scene, a warning when the
 * picture is the brief's own still video.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import { resolveBinaries } from '../../src/media/binaries.js';
import { runProcess } from '../../src/media/ffmpeg.js';
import type { StageContext } from '../../src/pipeline/context.js';
import type { DesignElement } from '../../src/design/record.js';
import type { QaReport } from '../../src/pipeline/qa/checks.js';
import { isText } from '../../src/pipeline/qa/design.js';
import { qaStage } from '../../src/pipeline/stages/qa.stage.js';
import { file, render, tempDir } from './harness.js';

const env = loadEnv(process.env);
const ffmpeg = resolveBinaries(env, env.PATH).ffmpeg;

const GATES = ['text_contrast', 'text_contrast_brief', 'safe_area', 'caption_overlap', 'motion', 'motion_held'];

const moving = {
  scenes: [
    { narration: 'Fresh bread, every morning.', title: 'Bakery', durationSec: 2.5, visual: { type: 'gradient', colors: ['#7c2d12', '#f59e0b'] } },
    { narration: 'Come early, it goes fast.', durationSec: 2.5, visual: { type: 'gradient', colors: ['#1e3a8a', '#0f766e'] }, transition: 'wipe-left' },
  ],
  aspectRatio: '16:9',
  preview: true,
  fps: 24,
  seed: 5,
};

test('a preview render: qa.json has the design and motion gates, design.json is the record they judged', async () => {
  const { result, delivered, deps } = await render(moving);
  const qa = JSON.parse(readFileSync(file(delivered, 'qa.json'), 'utf8')) as QaReport;
  assert.equal(qa.passed, true, JSON.stringify(qa.checks.filter((c) => !c.passed)));
  for (const name of GATES) {
    const check = qa.checks.find((c) => c.name === name);
    assert.ok(check, `qa.json has no ${name} check`);
    assert.equal(check.passed, true, JSON.stringify(check));
  }
  assert.deepEqual(qa.measurements.freezes, []);

  const design = JSON.parse(readFileSync(file(delivered, 'design.json'), 'utf8')) as { width: number; height: number; safe: Record<string, number>; elements: unknown[] };
  assert.deepEqual(design, JSON.parse(JSON.stringify(result.state.design)));
  const probe = await deps.media.probe(file(delivered, 'video.mp4'));
  assert.deepEqual([design.width, design.height], [probe.video?.width, probe.video?.height]);
  assert.ok(design.safe.left > 0 && design.safe.top > 0, JSON.stringify(design.safe));
  // What the record holds is what the gates counted.
  const texts = (design.elements as DesignElement[]).filter(isText).length;
  const counted = qa.checks
    .filter((c) => c.name.startsWith('text_contrast'))
    .reduce((sum, c) => sum + Number(/(\d+) text element/.exec(c.measured)?.[1] ?? 0), 0);
  assert.equal(counted, texts);
});

test('a still picture fed to the analysis is a still run, failing the scenes AIPROD drew and named by scene', async () => {
  const { result, deps } = await render(moving);
  const total = result.state.timeline?.totalSec ?? 0;
  // The same length and size as the render, but one frame held throughout (a square on a flat colour).
  const still = join(tempDir('design-qa'), 'video.mp4');
  await runProcess(ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `color=c=0x1e3a8a:s=640x360:r=24:d=${total}`,
    '-f', 'lavfi', '-i', `sine=f=440:d=${total}`,
    '-vf', 'drawbox=x=200:y=100:w=120:h=120:color=white:t=fill',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', still,
  ]);
  const ctx: StageContext = { deps, providers: deps.providers.forRender(), progress: () => undefined, unit: () => undefined, note: () => undefined, record: () => undefined, fallback: () => undefined };
  const outputs = (result.state.outputs ?? []).map((o) => (o.kind === 'mp4' ? { ...o, path: still } : o));
  const { qa } = await qaStage.run({ ...result.state, outputs }, ctx);
  const motion = qa?.checks.find((c) => c.name === 'motion');
  assert.equal(motion?.passed, false, JSON.stringify(motion));
  assert.equal(qa?.passed, false);
  // One run from the start to the end, in both scenes.
  assert.equal(qa?.measurements.freezes.length, 1, JSON.stringify(qa?.measurements.freezes));
  const [run] = qa?.measurements.freezes ?? [];
  assert.ok((run?.startSec ?? 1) < 0.2 && Math.abs((run?.endSec ?? 0) - total) < 0.2, JSON.stringify(run));
  assert.match(motion?.measured ?? '', /^1 run\(s\): 0\.\d\d–\d\.\d\d s \(\d\.\d\d s\) in scenes s1, s2$/);
});

test('the brief\'s own still video is held still: the run is a warning, and the render passes', async () => {
  const dir = tempDir('design-qa-still');
  const clip = join(dir, 'still.mp4');
  await runProcess(ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'color=c=0x334155:s=640x360:r=24:d=4',
    '-vf', 'drawbox=x=260:y=120:w=120:h=120:color=0xf59e0b:t=fill',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip,
  ]);
  const { result } = await render(
    {
      ...moving,
      scenes: [{ durationSec: 3.5, visual: { type: 'video', src: clip } }, moving.scenes[1]],
    },
    { baseDir: dir },
  );
  const qa = result.state.qa;
  assert.equal(qa?.passed, true, JSON.stringify(qa?.checks.filter((c) => !c.passed)));
  const held = qa?.checks.find((c) => c.name === 'motion_held');
  assert.equal(held?.passed, false, JSON.stringify(held));
  assert.equal(held?.hard, false);
  assert.match(held?.measured ?? '', /in scenes? s1 \(the brief's video\)/);
  assert.equal(qa?.checks.find((c) => c.name === 'motion')?.passed, true);
});
