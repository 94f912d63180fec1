import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../contract/errors.js';
import { toBrief } from './legacy.routes.js';

test('the original presets map to a v1 preset and a provider quality tier', () => {
  const base = { content: 'a launch video for a solar backpack', duration_sec: 30, lang: 'en', priority: 'low' as const };
  assert.deepEqual(
    [toBrief({ ...base, preset: 'quick_social' }), toBrief({ ...base, preset: 'brand_campaign' }), toBrief({ ...base, preset: 'premium_spot' })].map((b) => [b.preset, b.quality]),
    [['social_vertical', 'economy'], ['youtube_landscape', 'standard'], ['youtube_landscape', 'premium']],
  );
  assert.equal(toBrief({ ...base, preset: 'square_post' }).quality, undefined, 'a v1 preset leaves the tier to the default');
  assert.throws(() => toBrief({ ...base, preset: 'gold' }), (e: AppError) => e.code === 'invalid_brief' && e.details[0]?.path === 'preset');
});
