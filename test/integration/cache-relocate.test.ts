/**
 * A cache mounted at another path still works: every path a unit hands out points into the cache
 * as it is mounted now, including the audio-only output, which lives in the mix unit.
 */
import assert from 'node:assert/strict';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { render, tempDir } from './harness.js';

const brief = {
  scenes: [{ narration: 'Moved, and still whole.', durationSec: 2, visual: { type: 'color', color: '#1d4ed8' } }],
  resolution: '480p',
  fps: 24,
  seed: 3,
  outputs: ['mp4', 'audio'],
};

test('a cache moved to another path serves its compose unit with outputs under the new path, audio.m4a included', async () => {
  const before = join(tempDir('mount'), 'cache');
  await render(brief, { cacheDir: before });
  const after = join(tempDir('mount'), 'cache');
  renameSync(before, after);
  const again = await render(brief, { cacheDir: after });
  assert.deepEqual(again.cached.compose, { cached: 1, total: 1 });
  const outputs = again.result.state.outputs ?? [];
  const audio = outputs.find((o) => o.kind === 'audio');
  assert.ok(audio, 'the audio output is there');
  for (const o of outputs) {
    assert.ok(o.path.startsWith(after), `${o.name} points into the cache as mounted now: ${o.path}`);
    assert.ok(existsSync(o.path), `${o.name} exists`);
  }
});
