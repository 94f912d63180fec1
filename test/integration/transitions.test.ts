/**
 * Named transitions on the real FFmpeg: a red scene giving way to a blue one, the frame in the
 * middle of the transition read back as pixels. A cross-fade blends the whole frame; a wipe to the
 * left shows one scene on one side and the other on the other; a circle opening shows the new
 * scene in the centre first. (Without xfade every transition dips through black: see
 * npm-ffmpeg.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import { buildSegmentArgs, type SegmentPlan } from '../../src/media/args/segment.js';
import { createMediaTools } from '../../src/main/container.js';

const media = await createMediaTools(loadEnv(process.env));
const dir = mkdtempSync(join(tmpdir(), 'aiprod-transitions-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const skip = media.caps.filters.xfade ? false : 'this FFmpeg has no xfade (the npm build): transitions dip through black';

const W = 320;
const H = 180;
const TAU = 12;

/** The RGB pixels of the segment's frame `n`. */
async function frame(path: string, n: number): Promise<Buffer> {
  const out = `${path}.${n}.rgb`;
  await media.ffmpeg(['-hide_banner', '-v', 'error', '-y', '-i', path, '-vf', `select=eq(n\\,${n})`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', out], { timeoutSec: 60 });
  return readFileSync(out);
}
const at = (pixels: Buffer, x: number, y: number): [number, number, number] => {
  const i = (y * W + x) * 3;
  return [pixels[i] ?? 0, pixels[i + 1] ?? 0, pixels[i + 2] ?? 0];
};
const redOrBlue = ([r, , b]: [number, number, number]): 'red' | 'blue' | 'mix' => (r > 180 && b < 60 ? 'red' : b > 180 && r < 60 ? 'blue' : 'mix');

async function render(xfade: string): Promise<Buffer> {
  const plan: SegmentPlan = {
    width: W, height: H, fps: 24,
    incoming: { scene: { background: { kind: 'color', color: '0xff0000' }, motionSec: 2 }, localStartSec: 1.5, frames: TAU },
    scene: { scene: { background: { kind: 'color', color: '0x0000ff' }, motionSec: 2 }, localStartSec: -0.25, frames: 36 },
    transition: 'xfade',
    xfade,
    captions: [],
    encode: { ...media.encode, crf: 10 },
    outPath: join(dir, `${xfade}.mp4`),
  };
  await media.ffmpeg(buildSegmentArgs(plan), {});
  return frame(plan.outPath, TAU / 2);
}

test('the middle frame of a cross-fade is a blend, of a wipe half one scene and half the other, of a circle the new scene in the centre', { skip }, async () => {
  const fade = await render('fade');
  assert.deepEqual([redOrBlue(at(fade, 20, 90)), redOrBlue(at(fade, 300, 90))], ['mix', 'mix'], 'a cross-fade blends everywhere');
  const wipe = await render('wipeleft');
  assert.notEqual(redOrBlue(at(wipe, 20, 90)), redOrBlue(at(wipe, 300, 90)), 'a wipe shows both scenes side by side');
  assert.ok(['red', 'blue'].includes(redOrBlue(at(wipe, 20, 90))) && ['red', 'blue'].includes(redOrBlue(at(wipe, 300, 90))));
  const circle = await render('circleopen');
  assert.equal(redOrBlue(at(circle, W / 2, H / 2)), 'blue', 'the new scene opens from the centre');
  assert.equal(redOrBlue(at(circle, 2, 2)), 'red', 'the corners still show the old scene');
});
