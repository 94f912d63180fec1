/**
 * One real offline render in an experiment: the flags put every production in the `word` caption
 * style and the `ultrafast` x264 preset, and the delivered files show both were used — the design
 * record has the per-word highlight layers, and x264's own settings string in the H.264 stream
 * has CABAC off (ultrafast is the only preset without it; the default, superfast, has it on).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isFinal } from '../../src/contract/production.js';
import { startTestService, type TestService } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'aiprod-exp-render-'));
let svc: TestService;
before(async () => {
  const path = join(dir, 'flags.json');
  writeFileSync(path, JSON.stringify({
    flags: {
      'caption-style': { variants: { control: 'line', word: 'word' }, targeting: [{ variant: 'word' }] },
      'x264-preset': { variants: { control: 'superfast', fast: 'ultrafast' }, targeting: [{ variant: 'fast' }] },
    },
  }));
  svc = await startTestService({ env: { FLAGS_FILE: path } });
});
after(async () => {
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a render applies its variants: word captions and the ultrafast x264 preset', async () => {
  const created = await svc.app!.inject({
    method: 'POST', url: '/v1/productions', headers: svc.auth,
    payload: { scenes: [{ narration: 'Word by word, it follows.', durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } }], resolution: '480p', fps: 24, music: false, sfx: false },
  });
  assert.equal(created.statusCode, 202, created.body);
  const id = created.json().id as string;
  const done = await svc.waitFor(id, (p) => isFinal(p.status), 300_000);
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  assert.deepEqual(done.experiments, {
    'caption-style': { variant: 'word', value: 'word', applied: true },
    'x264-preset': { variant: 'fast', value: 'ultrafast', applied: true },
  });

  const design = await svc.app!.inject({ url: `/v1/productions/${id}/outputs/design.json`, headers: svc.auth });
  assert.equal(design.statusCode, 200);
  const captions = (design.json().elements as { kind: string; text?: string }[]).filter((e) => e.kind === 'caption').map((e) => e.text);
  // The line itself, and each word highlighted while it is spoken (the word style's own layers).
  assert.ok(captions.some((t) => t?.includes('Word by word')), captions.join(' | '));
  assert.ok(captions.includes('by') && captions.includes('follows'), captions.join(' | '));

  const video = await svc.app!.inject({ url: `/v1/productions/${id}/outputs/video.mp4`, headers: svc.auth });
  assert.equal(video.statusCode, 200);
  const settings = /x264 - core \d+[^\0]*?options: ([^\0]+)/.exec(video.rawPayload.toString('latin1'))?.[1];
  assert.ok(settings, 'the H.264 stream carries x264\'s settings');
  assert.match(settings, /\bcabac=0\b/);
  assert.match(settings, /\bsubme=0\b/);
});
