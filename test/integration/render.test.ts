/**
 * Real renders in every aspect ratio, checked with ffprobe and an independent loudness
 * measurement, plus the companions (captions, storyboard, qa, cost) and the extra outputs.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { runProcess } from '../../src/media/ffmpeg.js';
import { makeCatalog } from '../fixtures/media-catalog.js';
import { file, measureLoudness, render, tempDir } from './harness.js';

const SHORT = [
  { narration: 'Fresh bread, every morning.', title: 'Bakery', durationSec: 2.5, visual: { type: 'gradient', colors: ['#7c2d12', '#f59e0b'] } },
  { narration: 'Come early, it goes fast.', durationSec: 2.5, visual: { type: 'color', color: '#1e3a8a' }, sfx: ['whoosh'] },
];

const SIZES = { '16:9': [854, 480], '9:16': [480, 854], '1:1': [480, 480], '4:5': [480, 600] } as const;

for (const [aspectRatio, [width, height]] of Object.entries(SIZES)) {
  test(`renders ${aspectRatio} at 480p and the file measures as planned`, async () => {
    const { delivered, deps, result } = await render({ scenes: SHORT, aspectRatio, resolution: '480p', fps: 24, seed: 2 });
    const mp4 = file(delivered, 'video.mp4');
    const probe = await deps.media.probe(mp4);
    assert.equal(probe.video?.codecName, 'h264');
    assert.equal(probe.video?.pixFmt, 'yuv420p');
    assert.deepEqual([probe.video?.width, probe.video?.height], [width, height]);
    assert.ok(Math.abs((probe.video?.frameRate ?? 0) - 24) < 0.01);
    assert.equal(probe.audio?.codecName, 'aac');
    assert.ok(Math.abs(probe.durationSec - (result.state.timeline?.totalSec ?? 0)) <= 0.1, `duration ${probe.durationSec}`);
    const loud = await measureLoudness(deps.media.bins.ffmpeg, mp4);
    assert.ok(Math.abs(loud.lufs - -14) <= 1, `integrated ${loud.lufs} LUFS`);
    assert.ok(loud.truePeak <= -1, `true peak ${loud.truePeak}`);
    assert.equal(result.state.qa?.passed, true, JSON.stringify(result.state.qa?.checks.filter((c) => !c.passed)));
  });
}

test('a full brief delivers every companion file, with measured values and costs', async () => {
  const { delivered, deps } = await render({
    scenes: SHORT,
    resolution: '480p',
    fps: 25,
    outputs: ['mp4', 'webm', 'audio', 'gif'],
    captions: { burnIn: true, style: 'boxed' },
    seed: 4,
  });
  const names = delivered.files.map((f) => f.name).sort();
  assert.deepEqual(names, [
    'audio.m4a', 'captions.srt', 'captions.vtt', 'contact-sheet.jpg', 'cost.json', 'design.json', 'preview.gif', 'qa.json', 'storyboard.json', 'thumbnail.jpg', 'video.mp4', 'video.webm',
  ]);
  for (const f of delivered.files) assert.ok(statSync(f.path).size > 0, `${f.name} is empty`);
  const webm = await deps.media.probe(file(delivered, 'video.webm'));
  assert.equal(webm.video?.codecName, 'vp9');
  assert.equal(webm.audio?.codecName, 'opus');
  const audio = await deps.media.probe(file(delivered, 'audio.m4a'));
  assert.equal(audio.video, undefined);
  assert.equal(audio.audio?.codecName, 'aac');
  const gif = await deps.media.probe(file(delivered, 'preview.gif'));
  assert.equal(gif.video?.codecName, 'gif');
  const srt = readFileSync(file(delivered, 'captions.srt'), 'utf8');
  assert.match(srt, /^1\n00:00:00,\d{3} --> 00:00:0\d,\d{3}\nFresh bread, every morning\.\n/);
  assert.match(readFileSync(file(delivered, 'captions.vtt'), 'utf8'), /^WEBVTT\n\n00:00:/);
  const qa = JSON.parse(readFileSync(file(delivered, 'qa.json'), 'utf8')) as { passed: boolean; measurements: Record<string, unknown> };
  assert.equal(qa.passed, true);
  assert.equal(typeof qa.measurements.integratedLufs, 'number');
  const cost = JSON.parse(readFileSync(file(delivered, 'cost.json'), 'utf8')) as { totalUsd: number; stages: { stage: string; units: Record<string, number> }[] };
  assert.equal(cost.totalUsd, 0);
  const stages = cost.stages.map((s) => s.stage);
  for (const stage of ['plan', 'narrate', 'score', 'foley', 'visualize', 'mix', 'compose', 'qa']) assert.ok(stages.includes(stage), `cost lacks ${stage}`);
  assert.ok((cost.stages.find((s) => s.stage === 'narrate')?.units.characters ?? 0) > 40);
  const board = JSON.parse(readFileSync(file(delivered, 'storyboard.json'), 'utf8')) as { scenes: unknown[]; timeline: { totalSec: number } };
  assert.equal(board.scenes.length, 2);
  assert.ok(existsSync(file(delivered, 'thumbnail.jpg')));
  // One cell per scene (two, 320 × 180 at 16:9) side by side, with the margins and the gap between.
  const sheet = await deps.media.probe(file(delivered, 'contact-sheet.jpg'));
  assert.deepEqual([sheet.video?.width, sheet.video?.height], [12 + 320 + 8 + 320 + 12, 12 + 180 + 12]);
});

test('a colour scene followed by others renders at 30 fps, every planned frame present', async () => {
  // At 30 fps the transition is 14 frames (0.4667 s); a colour source whose length was written in
  // seconds made 15, and xfade and concat then waited on each other forever. The watchdog turns
  // such a hang into a failure (ffmpeg_stalled) instead of a test that never ends.
  const { delivered, deps, result } = await render(
    {
      scenes: [
        { narration: 'A colour card opens.', durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } },
        { narration: 'A gradient follows it.', durationSec: 2, visual: { type: 'gradient', colors: ['#7c2d12', '#f59e0b'] } },
        { narration: 'Another card.', durationSec: 2, visual: { type: 'color', color: '#064e3b' } },
        { narration: 'And a last one.', durationSec: 2, visual: { type: 'color', color: '#7c2d12' } },
      ],
      resolution: '480p',
      fps: 30,
      seed: 5,
    },
    { env: { FFMPEG_STALL_SEC: '20' } },
  );
  const timeline = result.state.timeline;
  assert.ok(timeline);
  const { stdout } = await runProcess(
    deps.media.bins.ffprobe,
    ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file(delivered, 'video.mp4')],
    { captureStdout: true },
  );
  assert.equal(Number(stdout.trim()), Math.round(timeline.totalSec * 30));
  assert.equal(result.state.qa?.passed, true, JSON.stringify(result.state.qa?.checks.filter((c) => !c.passed)));
});

test('every visual type, into and out of every other, at 30 fps: every planned frame present', async () => {
  const media = await makeCatalog(tempDir('media'));
  const { delivered, deps, result } = await render(
    {
      scenes: [
        { narration: 'Zooming in.', durationSec: 1.5, visual: { type: 'image', src: media.oddImage, motion: 'zoom-in' } },
        { narration: 'A clip.', durationSec: 1.5, visual: { type: 'video', src: media.silentVideo } },
        { narration: 'Panning.', durationSec: 1.5, visual: { type: 'image', src: media.oddImage, motion: 'pan-left' } },
        { narration: 'A card.', durationSec: 1.5, visual: { type: 'color', color: '#14532d' } },
        { narration: 'A short clip.', durationSec: 1.5, visual: { type: 'video', src: media.shortVideo } },
        { narration: 'A gradient.', durationSec: 1.5, visual: { type: 'gradient', colors: ['#1d4ed8', '#9333ea'] } },
        { narration: 'Zooming out.', durationSec: 1.5, visual: { type: 'image', src: media.verticalImage, motion: 'zoom-out' } },
      ],
      resolution: '480p',
      fps: 30,
      seed: 7,
    },
    { env: { FFMPEG_STALL_SEC: '20' } },
  );
  const { stdout } = await runProcess(
    deps.media.bins.ffprobe,
    ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file(delivered, 'video.mp4')],
    { captureStdout: true },
  );
  assert.equal(Number(stdout.trim()), Math.round((result.state.timeline?.totalSec ?? 0) * 30));
  assert.equal(result.state.qa?.passed, true, JSON.stringify(result.state.qa?.checks.filter((c) => !c.passed)));
});
