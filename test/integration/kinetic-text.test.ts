/**
 * Kinetic text on the real FFmpeg, read back as pixels at the places and times the design record
 * gives: a title slides in (its region changes during the entrance, then holds), the word caption
 * style paints the spoken word in the accent colour while it is spoken (and not before), a list's
 * items appear one by one, and every text element passes the record's own checks (contrast,
 * safe area, no caption under a title).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { textContrast } from '../../src/design/contrast.js';
import { insideSafeArea, overlapArea } from '../../src/design/geometry.js';
import type { DesignElement, Rect } from '../../src/design/record.js';
import { isText } from '../../src/pipeline/qa/design.js';
import { file, render } from './harness.js';

const ACCENT = '#facc15';
const brief = {
  scenes: [
    { narration: 'Our bakery opens at seven every morning.', title: 'Fresh bread daily', durationSec: 3.5, visual: { type: 'color', color: '#0f172a' } },
    {
      narration: 'We bake sourdough, then croissants, and finally rye.',
      title: 'What we bake',
      layout: 'list',
      items: ['Sourdough', 'Croissants', 'Rye bread'],
      visual: { type: 'color', color: '#f8fafc' },
    },
  ],
  aspectRatio: '16:9',
  resolution: '720p',
  fps: 24,
  seed: 5,
  preview: true,
  captions: { style: 'word' },
  design: { motion: 'smooth', textAnimation: 'slide-up', palette: { background: '#0f172a', primary: '#1e3a8a', secondary: '#334155', accent: ACCENT, text: '#ffffff' } },
};

test('titles move in, list items appear in turn, and the spoken word is highlighted in the caption band', async () => {
  const { result, delivered, deps } = await render(brief);
  const video = file(delivered, 'video.mp4');
  const design = result.state.design;
  assert.ok(design, 'visualize records the design');
  const { width: W, height: H } = design;

  /** The RGB pixels of `rect` in the frame shown at `sec`. */
  const crop = async (sec: number, rect: Rect): Promise<Buffer> => {
    const out = `${video}.${sec}.${rect.x}.${rect.y}.rgb`;
    await deps.media.ffmpeg(
      ['-hide_banner', '-v', 'error', '-y', '-ss', String(sec), '-i', video, '-frames:v', '1', '-vf', `crop=${rect.width}:${rect.height}:${rect.x}:${rect.y}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', out],
      { timeoutSec: 60 },
    );
    return readFileSync(out);
  };
  const meanDiff = (a: Buffer, b: Buffer): number => {
    let sum = 0;
    for (let i = 0; i < Math.min(a.length, b.length); i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
    return sum / Math.min(a.length, b.length);
  };
  const near = (pixels: Buffer, hex: string, tolerance = 40): number => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
    let n = 0;
    for (let i = 0; i + 2 < pixels.length; i += 3) {
      if (Math.abs((pixels[i] ?? 0) - r) + Math.abs((pixels[i + 1] ?? 0) - g) + Math.abs((pixels[i + 2] ?? 0) - b) < tolerance) n++;
    }
    return n;
  };
  const bright = (pixels: Buffer): number => near(pixels, '#ffffff', 90);

  // Every text element passes the checks qa runs over the record.
  const texts = design.elements.filter((e): e is DesignElement & { color: string } => isText(e) && e.color !== undefined);
  for (const e of texts) {
    assert.ok(textContrast({ color: e.color, ...(e.backdrop ? { backdrop: e.backdrop } : {}), ...(e.box ? { box: e.box } : {}) }) >= 4.5, JSON.stringify(e));
    assert.ok(insideSafeArea(e.rect, design, design.safe), `outside the safe area: ${JSON.stringify(e)}`);
  }
  const captions = texts.filter((e) => e.kind === 'caption');
  for (const c of captions) {
    for (const t of texts.filter((e) => e.kind !== 'caption' && e.fromSec < c.toSec && c.fromSec < e.toSec)) assert.equal(overlapArea(c.rect, t.rect), 0, `${c.text} under ${t.text}`);
  }

  // The title slides up into place: its band changes while it enters, and holds once it is there.
  const title = texts.find((e) => e.kind === 'title' && e.sceneId === result.state.storyboard?.scenes[0]?.id);
  assert.ok(title, 'the first scene\'s title is recorded');
  const band: Rect = { x: title.rect.x, y: title.rect.y - 30, width: title.rect.width, height: Math.min(H - title.rect.y + 30, title.rect.height + 60) };
  const early = await crop(title.fromSec + 0.15, band);
  const mid = await crop(title.fromSec + 0.35, band);
  const rest1 = await crop(title.fromSec + 1.2, band);
  const rest2 = await crop(title.fromSec + 1.6, band);
  const moving = meanDiff(early, mid);
  const still = meanDiff(rest1, rest2);
  assert.ok(moving > 4 * still + 1, `the title moves while it enters (${moving.toFixed(2)}) and holds after (${still.toFixed(2)})`);
  assert.ok(bright(await crop(title.fromSec + 1.2, title.rect)) > 50, 'the title is drawn where the record says');
  assert.ok(bright(await crop(Math.max(0, title.fromSec - 0.1), title.rect)) < 5, 'and not before it enters');

  // The word caption: "seven" in the accent colour while it is spoken, white before it.
  const seven = captions.find((e) => e.text === 'seven' && e.color === ACCENT);
  assert.ok(seven, `a highlight for "seven": ${JSON.stringify(captions.map((c) => [c.text, c.color]))}`);
  assert.ok(seven.rect.y > H * 0.75, 'captions sit in the band at the bottom');
  const during = await crop((seven.fromSec + seven.toSec) / 2, seven.rect);
  const before = await crop(seven.fromSec - 0.25, seven.rect);
  assert.ok(near(during, ACCENT) > 40, `accent pixels on "seven" while spoken: ${near(during, ACCENT)}`);
  assert.ok(near(before, ACCENT) < 5 && bright(before) > 40, `"seven" is white before it is spoken (${near(before, ACCENT)} accent, ${bright(before)} white)`);

  // The list's items appear in turn, when the narration reaches them.
  const items = texts.filter((e) => e.kind === 'item');
  assert.deepEqual(items.map((e) => e.text), ['• Sourdough', '• Croissants', '• Rye bread']);
  assert.ok(items[0]!.fromSec < items[1]!.fromSec && items[1]!.fromSec < items[2]!.fromSec);
  const last = items[2]!;
  const ink = (pixels: Buffer): number => near(pixels, last.color, 90);
  assert.ok(ink(await crop(last.fromSec - 0.2, last.rect)) < 5, `the last item is not there before it is spoken: ${JSON.stringify(last)}`);
  // Once in (an item slides in over 0.35 s at this pace), before the scene's text fades out (0.35 s).
  assert.ok(ink(await crop(Math.min(last.fromSec + 0.5, last.toSec - 0.4), last.rect)) > 30, `and is there after: ${JSON.stringify(last)}`);
  assert.equal(result.state.qa?.passed, true, JSON.stringify(result.state.qa?.checks.filter((c) => !c.passed)));
  assert.ok(W > 0);
});
