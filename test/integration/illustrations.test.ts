/**
 * Illustrated scenes offline, rendered as a preview on the real FFmpeg and read back as pixels:
 * an icon chosen from a scene's words is drawn in the palette's accent where the design record
 * says, a picture-in-picture image appears at its recorded place, and scenes drawn from a colour
 * or a gradient keep moving (FFmpeg's freezedetect, at its default noise, finds no still run of
 * 2 s), with and without icons over them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import { parseHex } from '../../src/design/contrast.js';
import type { DesignElement, Rect } from '../../src/design/record.js';
import { resolveBinaries } from '../../src/media/binaries.js';
import { runProcess } from '../../src/media/ffmpeg.js';
import { file, render } from './harness.js';

const { ffmpeg } = resolveBinaries(loadEnv(), process.env.PATH);
const dir = mkdtempSync(join(tmpdir(), 'aiprod-illustrations-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ACCENT = '#facc15';
const MAGENTA: [number, number, number] = [255, 0, 255];

/** The RGB pixels of `rect` in the video's frame at `sec`. */
async function crop(video: string, sec: number, rect: Rect): Promise<Buffer> {
  const out = join(dir, `crop-${sec}-${rect.x}-${rect.y}.rgb`);
  await runProcess(ffmpeg, ['-hide_banner', '-v', 'error', '-y', '-ss', String(sec), '-i', video, '-frames:v', '1', '-vf', `crop=${rect.width}:${rect.height}:${rect.x}:${rect.y}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', out]);
  return readFileSync(out);
}

/** The share of pixels within `tolerance` (per channel) of `color`. */
function share(pixels: Buffer, color: [number, number, number], tolerance: number): number {
  let near = 0;
  for (let i = 0; i + 2 < pixels.length; i += 3) {
    if (Math.abs(pixels[i]! - color[0]) <= tolerance && Math.abs(pixels[i + 1]! - color[1]) <= tolerance && Math.abs(pixels[i + 2]! - color[2]) <= tolerance) near++;
  }
  return near / (pixels.length / 3);
}

/** freezedetect's still runs of 2 s or more, at its default noise (-60 dB). */
async function freezes(video: string): Promise<string[]> {
  const { stderr } = await runProcess(ffmpeg, ['-hide_banner', '-nostats', '-v', 'info', '-i', video, '-vf', 'freezedetect=d=2', '-an', '-f', 'null', '-']);
  return stderr.split('\n').filter((line) => line.includes('freeze_start'));
}

const grow = (r: Rect, by: number, frame: { width: number; height: number }): Rect => {
  const x = Math.max(0, r.x - by);
  const y = Math.max(0, r.y - by);
  return { x, y, width: Math.min(frame.width - x, r.width + 2 * by), height: Math.min(frame.height - y, r.height + 2 * by) };
};

test('an icon in the accent colour and a picture-in-picture at their recorded places; colour and gradient scenes never freeze', async () => {
  const pip = join(dir, 'magenta.png');
  await runProcess(ffmpeg, ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=0xff00ff:s=320x240', '-frames:v', '1', pip]);
  const brief = {
    scenes: [
      { narration: 'Our product launches next week.', title: 'Launch day', durationSec: 3, visual: { type: 'gradient', colors: ['#0f172a', '#1e3a8a'] } },
      { narration: 'A look at the new screen.', title: 'New look', durationSec: 3, visual: { type: 'color', color: '#111827' }, images: [{ src: pip, position: 'pip' }] },
      { narration: 'Mark the date in your calendar.', durationSec: 3, visual: { type: 'color', color: '#1f2937' } },
    ],
    aspectRatio: '16:9',
    resolution: '720p',
    fps: 24,
    seed: 11,
    preview: true,
    design: { background: 'shapes', palette: { background: '#0f172a', primary: '#2563eb', secondary: '#14b8a6', accent: ACCENT, text: '#ffffff' } },
  };
  const { result, delivered } = await render(brief, { outDir: join(dir, 'out') });
  const video = file(delivered, 'video.mp4');
  const design = result.state.design;
  assert.ok(design);
  const frame = { width: design.width, height: design.height };
  const elements: DesignElement[] = design.elements.filter((e) => e.kind === 'icon' || e.kind === 'image');
  const icon = elements.find((e) => e.kind === 'icon' && e.sceneId === 's1');
  const image = elements.find((e) => e.kind === 'image' && e.sceneId === 's2');
  assert.ok(icon && image, JSON.stringify(elements));
  assert.equal(icon.text, 'rocket');
  assert.equal(icon.color, ACCENT);
  // The second scene shows an image: no icon is added over it; the third (no title) gets one from its words.
  assert.ok(!elements.some((e) => e.kind === 'icon' && e.sceneId === 's2'));
  assert.ok(elements.some((e) => e.kind === 'icon' && e.sceneId === 's3'));

  // The icon, once it has risen into place (its float moves it a few pixels: the box is grown by them).
  const accent = parseHex(ACCENT);
  const iconPixels = await crop(video, icon.fromSec + 1.5, grow(icon.rect, Math.round(design.height * 0.015), frame));
  const inIcon = share(iconPixels, accent, 40);
  assert.ok(inIcon > 0.02, `${(inIcon * 100).toFixed(2)} % of the icon's box is the accent`);
  // The same box in the lower left of the frame has none of it: the colour is the icon's.
  const elsewhere = await crop(video, icon.fromSec + 1.5, { ...icon.rect, x: design.safe.left, y: design.height - design.safe.bottom - icon.rect.height });
  assert.ok(share(elsewhere, accent, 40) < 0.002);
  // Before it enters, the icon is not there yet.
  const before = await crop(video, Math.max(0, icon.fromSec - 0.3), grow(icon.rect, Math.round(design.height * 0.06), frame));
  assert.ok(share(before, accent, 40) < inIcon / 4, 'the icon fades in');

  // The picture-in-picture: the middle of its recorded box is the image's magenta.
  const inner = { x: image.rect.x + Math.round(image.rect.width / 4), y: image.rect.y + Math.round(image.rect.height / 4), width: 2 * Math.round(image.rect.width / 4), height: 2 * Math.round(image.rect.height / 4) };
  assert.ok(image.rect.x > design.width / 2, 'pip sits on the right');
  const pipPixels = await crop(video, image.fromSec + 1.5, inner);
  assert.ok(share(pipPixels, MAGENTA, 40) > 0.9, `${(share(pipPixels, MAGENTA, 40) * 100).toFixed(1)} % magenta`);

  assert.deepEqual(await freezes(video), []);
});

test('designed backgrounds alone keep a colour or gradient scene moving', async () => {
  for (const background of ['gradient', 'pattern'] as const) {
    const brief = {
      scenes: [
        { narration: 'A quiet colour.', durationSec: 4, visual: { type: 'color', color: '#1e3a8a' } },
        { narration: 'A soft gradient.', durationSec: 4, visual: { type: 'gradient', colors: ['#0f766e', '#1e3a8a'] } },
      ],
      aspectRatio: '9:16',
      resolution: '720p',
      fps: 24,
      seed: 5,
      preview: true,
      captions: false,
      design: { background, illustrations: false },
    };
    const { result, delivered } = await render(brief, { outDir: join(dir, `still-${background}`) });
    assert.equal(result.state.design?.elements.filter((e) => e.kind === 'icon').length, 0);
    assert.deepEqual(await freezes(file(delivered, 'video.mp4')), [], background);
  }
});

test('a duotone still: FFmpeg maps black to the dark colour and white to the light one, and a mid grey between', async () => {
  const { buildPrepareStillArgs } = await import('../../src/media/args/image.js');
  // A ramp from black to white, left to right, as the source picture.
  const ramp = join(dir, 'ramp.png');
  await runProcess(ffmpeg, ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=black:s=256x16,geq=lum=X:cb=128:cr=128', '-frames:v', '1', ramp]);
  const still = join(dir, 'duotone.png');
  await runProcess(ffmpeg, buildPrepareStillArgs(ramp, still, { width: 256, height: 16, fit: 'cover', duotone: { dark: '#1e1b4b', light: '#fbbf24' } }));
  const raw = join(dir, 'duotone.rgb');
  await runProcess(ffmpeg, ['-hide_banner', '-v', 'error', '-y', '-i', still, '-vf', 'crop=256:1:0:8', '-f', 'rawvideo', '-pix_fmt', 'rgb24', raw]);
  const row = readFileSync(raw);
  const at = (x: number): number[] => [row[3 * x]!, row[3 * x + 1]!, row[3 * x + 2]!];
  const near = (got: number[], want: number[], tolerance: number, what: string): void =>
    assert.ok(got.every((v, i) => Math.abs(v - want[i]!) <= tolerance), `${what}: ${got.join(',')} (want ${want.join(',')})`);
  near(at(0), parseHex('#1e1b4b'), 8, 'black');
  near(at(255), parseHex('#fbbf24'), 8, 'white');
  const dark = parseHex('#1e1b4b');
  const light = parseHex('#fbbf24');
  near(at(128), dark.map((d, i) => (d + light[i]!) / 2), 14, 'mid grey');
});
