import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { TRANSITIONS } from '../contract/brief.js';
import { XFADE_NAMES } from './args/segment.js';
import { parseXfadeTransitions } from './capabilities.js';

test('the transitions of xfade are read from its help (FFmpeg 5.1 lists 46); every named transition is among them', () => {
  const names = parseXfadeTransitions(readFileSync(new URL('../../test/fixtures/xfade-help.txt', import.meta.url), 'utf8'));
  assert.equal(names.length, 46);
  assert.deepEqual(names.slice(0, 3), ['fade', 'wipeleft', 'wiperight']);
  assert.ok(!names.includes('custom'), 'custom needs expressions: not a named transition');
  for (const t of TRANSITIONS) assert.ok(names.includes(XFADE_NAMES[t]), `${t} → ${XFADE_NAMES[t]}`);
  assert.deepEqual(parseXfadeTransitions(''), [], 'no xfade, no transitions');
});
