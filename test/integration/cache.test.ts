/**
 * Content-addressed stage outputs: a second render of the same brief re-uses every unit; changing
 * one scene's narration redoes only that scene's speech and the segments showing it; the same
 * brief and seed give byte-identical audio stems from an empty cache.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { file, render, tempDir } from './harness.js';

const brief = (third: string) => ({
  scenes: [
    { narration: 'One. The first scene speaks.', durationSec: 2, visual: { type: 'color', color: '#0f172a' } },
    { narration: 'Two. The second scene answers.', durationSec: 2, visual: { type: 'gradient', colors: ['#1d4ed8', '#9333ea'] } },
    { narration: third, durationSec: 2.2, visual: { type: 'color', color: '#064e3b' } },
    { narration: 'Four. The end.', durationSec: 2, visual: { type: 'color', color: '#7c2d12' } },
  ],
  resolution: '480p',
  fps: 24,
  music: { mood: 'corporate' },
  seed: 9,
});

test('a second render re-uses every unit; an edited scene redoes only its own work', async () => {
  const cacheDir = tempDir('cache');
  const first = await render(brief('Three. The third scene.'), { cacheDir });
  assert.equal(first.cached.narrate?.cached, 0);

  const again = await render(brief('Three. The third scene.'), { cacheDir });
  for (const stage of ['plan', 'narrate', 'score', 'foley', 'visualize', 'mix', 'compose'] as const) {
    const c = again.cached[stage];
    assert.ok(c && c.total > 0 && c.cached === c.total, `${stage}: ${JSON.stringify(c)}`);
  }

  const edited = await render(brief('Three. A new line for the third scene.'), { cacheDir });
  assert.deepEqual(edited.cached.narrate, { cached: 3, total: 4 });
  // 4 scene looks and the icons drawn from the scenes' words (all cached: the new line picks the
  // same icon) + 4 segments, one per scene, each opening with the transition into it: scene 3
  // shows in its own segment and at the start of scene 4's, so those two are redone.
  const icons = edited.result.state.design?.elements.filter((e) => e.kind === 'icon').length ?? 0;
  assert.ok(icons > 0);
  const vis = edited.cached.visualize;
  assert.deepEqual(vis, { cached: 4 + icons + 2, total: 4 + icons + 4 });
  assert.equal(edited.result.state.qa?.passed, true);
});

test('a render interrupted half-way resumes from its finished units', async () => {
  const cacheDir = tempDir('cache');
  await render(brief('Three. Resume me.'), { cacheDir });
  // Simulate a crash during visualize: two segments never finished (no manifest), compose never ran.
  const segDir = join(cacheDir, 'segment');
  const segs = readdirSync(segDir);
  for (const s of segs.slice(0, 2)) rmSync(join(segDir, s, 'manifest.json'));
  rmSync(join(cacheDir, 'compose'), { recursive: true });
  const resumed = await render(brief('Three. Resume me.'), { cacheDir });
  // 4 looks, the scenes' icons, 4 segments: all but the two damaged segments re-used.
  const icons = resumed.result.state.design?.elements.filter((e) => e.kind === 'icon').length ?? 0;
  assert.deepEqual(resumed.cached.visualize, { cached: 4 + icons + 2, total: 4 + icons + 4 });
  assert.deepEqual(resumed.cached.narrate, { cached: 4, total: 4 });
  assert.equal(resumed.result.state.qa?.passed, true);
});

test('the same brief and seed give byte-identical audio stems from an empty cache', async () => {
  const a = await render(brief('Three. Same again.'));
  const b = await render(brief('Three. Same again.'));
  const stems = (r: typeof a) => {
    const s = r.result.state;
    const mixDir = join(s.mix?.path ?? '', '..');
    return {
      voice: readFileSync(join(mixDir, 'voice.wav')),
      music: readFileSync(s.music?.path ?? ''),
      sfx: readFileSync(s.sfx?.path ?? ''),
      mix: readFileSync(s.mix?.path ?? ''),
    };
  };
  const sa = stems(a);
  const sb = stems(b);
  for (const k of Object.keys(sa) as (keyof typeof sa)[]) {
    assert.ok(sa[k].length > 1000, `${k} is empty`);
    assert.ok(sa[k].equals(sb[k]), `${k} differs between runs`);
  }
  const other = await render({ ...brief('Three. Same again.'), seed: 10 });
  assert.ok(!readFileSync(other.result.state.music?.path ?? '').equals(sa.music), 'another seed gives another bed');
});

test('two renders of the same brief at once make each unit once, share it, and both succeed', async () => {
  const cacheDir = tempDir('cache');
  // Two pipelines (two caches on one directory, as two workers have): they meet only on disk.
  const [a, b] = await Promise.all([render(brief('Three. Together.'), { cacheDir }), render(brief('Three. Together.'), { cacheDir })]);
  for (const r of [a, b]) assert.equal(r.result.state.qa?.passed, true);
  for (const stage of ['plan', 'narrate', 'score', 'foley', 'visualize', 'mix', 'compose'] as const) {
    const x = a.cached[stage];
    const y = b.cached[stage];
    assert.ok(x && y && x.total === y.total, stage);
    assert.equal(x.cached + y.cached, x.total, `${stage}: every unit made by one render and re-used by the other (${JSON.stringify([x, y])})`);
  }
  assert.ok(readFileSync(file(a.delivered, 'video.mp4')).equals(readFileSync(file(b.delivered, 'video.mp4'))));
});
