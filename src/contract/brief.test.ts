import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from './errors.js';
import { frameSize, parseBrief, PRESETS, resolveBrief } from './resolve.js';

function invalid(input: unknown): AppError {
  try {
    parseBrief(input);
  } catch (error) {
    assert.ok(error instanceof AppError);
    return error;
  }
  assert.fail('expected the brief to be refused');
}

test('a brief needs exactly one of prompt, script, scenes', () => {
  assert.match(invalid({}).message, /exactly one of "prompt", "script" or "scenes"/);
  const both = invalid({ prompt: 'an ad for tea', script: 'Tea is good.' });
  assert.equal(both.code, 'invalid_brief');
  assert.equal(both.status, 400);
  assert.match(both.message, /not "prompt" and "script"/);
});

test('errors name the field and the fix', () => {
  const e = invalid({ script: 'Hello.', aspectRatio: '21:9' });
  assert.equal(e.details[0]?.path, 'aspectRatio');
  const colour = invalid({ scenes: [{ visual: { type: 'color', color: 'blue' } }] });
  assert.equal(colour.details[0]?.path, 'scenes.0.visual.color');
  assert.match(colour.details[0]?.message ?? '', /hex colour/);
  const unknown = invalid({ script: 'Hello.', colour: '#fff' });
  assert.match(unknown.details[0]?.message ?? '', /colour/);
  const lang = invalid({ script: 'Hello.', language: 'english!' });
  assert.match(lang.details[0]?.message ?? '', /BCP-47/);
  assert.equal(invalid({ script: 'x', fps: 60 }).details[0]?.path, 'fps');
  assert.equal(invalid({ script: 'x', seed: -1 }).details[0]?.path, 'seed');
  assert.equal(invalid({ script: 'x', targetDurationSec: Number.NaN }).details[0]?.path, 'targetDurationSec');
});

test('defaults fill every option', () => {
  const brief = resolveBrief(parseBrief({ script: 'Hello world.' }));
  assert.deepEqual(
    { ar: brief.aspectRatio, res: brief.resolution, w: brief.width, h: brief.height, fps: brief.fps, seed: brief.seed, outputs: brief.outputs },
    { ar: '16:9', res: '1080p', w: 1920, h: 1080, fps: 30, seed: 1, outputs: ['mp4'] },
  );
  assert.deepEqual(brief.mix, { voice: 1, music: 0.6, sfx: 0.5, ducking: true, loudnessLufs: -14, truePeakDb: -1 });
  assert.deepEqual(brief.captions, { burnIn: true, style: 'bold' });
  assert.equal(brief.language, 'en');
});

test('a preset supplies options and explicit fields win', () => {
  const brief = resolveBrief(parseBrief({ prompt: 'an ad for tea', preset: 'social_vertical', resolution: '720p' }));
  assert.equal(brief.aspectRatio, '9:16');
  assert.equal(brief.resolution, '720p');
  assert.deepEqual([brief.width, brief.height], [720, 1280]);
  assert.equal(brief.targetDurationSec, PRESETS.social_vertical.options.targetDurationSec);
});

test('music: false silences the bed; mp4 is always an output, once', () => {
  const brief = resolveBrief(parseBrief({ script: 'Hi.', music: false, outputs: ['webm', 'mp4', 'gif'] }));
  assert.equal(brief.music, false);
  assert.equal(brief.mix.music, 0);
  assert.deepEqual(brief.outputs, ['mp4', 'webm', 'gif']);
});

test('every aspect ratio and resolution gives even frame sizes', () => {
  for (const ar of ['16:9', '9:16', '1:1', '4:5'] as const) {
    for (const res of ['480p', '720p', '1080p'] as const) {
      const { width, height } = frameSize(ar, res);
      assert.equal(width % 2, 0, `${ar} ${res} width ${width}`);
      assert.equal(height % 2, 0, `${ar} ${res} height ${height}`);
    }
  }
  assert.deepEqual(frameSize('4:5', '1080p'), { width: 1080, height: 1350 });
  assert.deepEqual(frameSize('16:9', '480p'), { width: 854, height: 480 });
});
