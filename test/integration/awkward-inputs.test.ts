/**
 * The catalog of awkward inputs, each with its defined outcome: it renders (and how), or it is
 * refused before any work with a code naming the field.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { AppError } from '../../src/contract/errors.js';
import { parseBrief, resolveBrief } from '../../src/contract/resolve.js';
import { RuleBasedWriter } from '../../src/providers/script/rule-based.adapter.js';
import { makeCatalog, type MediaCatalog } from '../fixtures/media-catalog.js';
import { file, render, tempDir } from './harness.js';

let media: MediaCatalog;
before(async () => {
  media = await makeCatalog(tempDir('media'));
});

const small = { resolution: '480p', fps: 24, music: { mood: 'calm' } } as const;

async function refused(brief: unknown): Promise<AppError> {
  const outDir = join(tempDir('out'), 'never');
  try {
    await render(brief, { outDir });
  } catch (error) {
    assert.ok(error instanceof AppError, String(error));
    assert.ok(!existsSync(outDir), 'a refused brief leaves no output directory');
    return error;
  }
  assert.fail('expected the brief to be refused');
}

test('a one-word script renders one short scene', async () => {
  const { result } = await render({ script: 'Hello.', ...small });
  assert.equal(result.state.storyboard?.scenes.length, 1);
  assert.equal(result.state.qa?.passed, true);
});

test('a 3,000-word script plans into many scenes of sensible length, keeping every word', async () => {
  const sentence = 'The river carries silt from the mountains to the sea, and the delta grows a little every year.';
  const script = Array.from({ length: 170 }, (_, i) => `${i % 7 === 0 ? '\n\n' : ''}${sentence}`).join(' ');
  assert.ok(script.split(/\s+/).length >= 3000);
  const { storyboard: board } = await new RuleBasedWriter().plan(resolveBrief(parseBrief({ script })));
  assert.ok(board.scenes.length >= 40, `${board.scenes.length} scenes`);
  for (const s of board.scenes) assert.ok(s.narration.split(' ').length <= 60, `scene of ${s.narration.split(' ').length} words`);
  const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
  assert.equal(board.scenes.reduce((n, s) => n + words(s.narration), 0), words(script));
});

test('French with accents is spoken and captioned with its accents', async () => {
  const { delivered, result } = await render({ script: 'Voilà un été très réussi ! Où êtes-vous, François ?', language: 'fr', ...small });
  assert.equal(result.state.voice?.id, 'roa/fr');
  const srt = readFileSync(file(delivered, 'captions.srt'), 'utf8');
  assert.match(srt, /Voilà un été très réussi/);
  assert.match(srt, /François/);
  assert.equal(result.state.qa?.passed, true);
});

test('Arabic renders with an Arabic voice and captions', async () => {
  const { delivered, result } = await render({ script: 'مرحبا بكم في عرضنا الجديد. نتمنى لكم يوما سعيدا.', language: 'ar', ...small });
  assert.equal(result.state.voice?.id, 'sem/ar');
  assert.match(readFileSync(file(delivered, 'captions.srt'), 'utf8'), /مرحبا بكم/);
  assert.equal(result.state.qa?.passed, true);
});

test('Chinese renders with a Mandarin voice and captions cut by characters', async () => {
  const { delivered, result } = await render({ script: '欢迎来到我们的新产品发布会。这个背包可以用太阳能为手机充电。', language: 'zh', ...small });
  assert.equal(result.state.voice?.id, 'sit/cmn');
  assert.match(readFileSync(file(delivered, 'captions.srt'), 'utf8'), /太阳能/);
  assert.equal(result.state.qa?.passed, true);
});

test('emoji are removed from narration and captions, with a note', async () => {
  const { delivered, result } = await render({ script: 'We love pizza 🍕🍕 and sunshine ☀️! Join us 🎉.', ...small });
  const srt = readFileSync(file(delivered, 'captions.srt'), 'utf8');
  assert.doesNotMatch(srt, /\p{Extended_Pictographic}/u);
  assert.match(srt, /We love pizza/);
  assert.ok(result.notes.some((n) => /emoji/i.test(n)), result.notes.join(' | '));
});

test('an image with odd dimensions fills the frame', async () => {
  const { deps, delivered, result } = await render({ scenes: [{ narration: 'Odd sizes are fine.', visual: { type: 'image', src: media.oddImage } }], ...small });
  const probe = await deps.media.probe(file(delivered, 'video.mp4'));
  assert.deepEqual([probe.video?.width, probe.video?.height], [854, 480]);
  assert.equal(result.state.qa?.passed, true);
});

test('a vertical image in a landscape frame is letterboxed over its own blur with fit: contain', async () => {
  const { result } = await render({ scenes: [{ narration: 'Tall picture.', visual: { type: 'image', src: media.verticalImage, fit: 'contain' } }], ...small });
  assert.equal(result.state.qa?.passed, true);
});

test('a corrupt image is refused with the field that holds it', async () => {
  const error = await refused({ scenes: [{ narration: 'Broken.', visual: { type: 'image', src: media.corruptImage } }], ...small });
  assert.equal(error.code, 'asset_unreadable');
  assert.equal(error.status, 422);
  assert.equal(error.details[0]?.path, 'scenes.0.visual.src');
});

test('a video without audio, a very short video and a variable-frame-rate video render', async () => {
  const { result } = await render({
    scenes: [
      { narration: 'No sound in this clip.', visual: { type: 'video', src: media.silentVideo } },
      { narration: 'This clip is shorter than its scene, so it loops.', visual: { type: 'video', src: media.shortVideo } },
      { narration: 'Uneven frames.', visual: { type: 'video', src: media.vfrVideo } },
    ],
    ...small,
  });
  assert.equal(result.state.qa?.passed, true, JSON.stringify(result.state.qa?.checks.filter((c) => !c.passed)));
});

test('an unknown language and a missing file are refused before any work', async () => {
  const lang = await refused({ script: 'Hello.', language: 'xx' });
  assert.equal(lang.code, 'unsupported_language');
  assert.equal(lang.details[0]?.path, 'language');
  const missing = await refused({ scenes: [{ visual: { type: 'image', src: 'does/not/exist.png' } }] });
  assert.equal(missing.code, 'asset_not_found');
  assert.equal(missing.details[0]?.path, 'scenes.0.visual.src');
});
