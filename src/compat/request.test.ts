import assert from 'node:assert/strict';
import { test } from 'node:test';
import { moodOf, pipelineRequestSchema, sfxGainOf, toProductionRequest, voiceCandidates } from './request.js';

const parse = (body: Record<string, unknown>) => pipelineRequestSchema.parse(body);

test('a request becomes a v1 brief: prompt or script, preset and tier, priority, ICC review with its wait', () => {
  const short = toProductionRequest(parse({ content: 'A teaser for a solar lamp.', preset: 'quick_social', priority: 'high' }), { autoApproveSec: 600 });
  assert.deepEqual(short.body, { prompt: 'A teaser for a solar lamp.', targetDurationSec: 30, language: 'en', preset: 'social_vertical', quality: 'economy', priority: 8 });
  const script = 'First paragraph of the narration.\n\nSecond paragraph of it.';
  const icc = toProductionRequest(parse({ content: script, preset: 'brand_campaign', duration_sec: '45' }), { autoApproveSec: 600 });
  assert.equal(icc.body.script, script);
  assert.equal(icc.body.targetDurationSec, 45, 'whole numbers sent as text, as pydantic took them');
  assert.deepEqual([icc.body.preset, icc.body.quality, icc.body.review, icc.body.autoApproveAfterSec], ['youtube_landscape', 'standard', true, 600]);
  const forever = toProductionRequest(parse({ content: script, preset: 'premium_spot' }), { autoApproveSec: 0 });
  assert.equal(forever.body.autoApproveAfterSec, undefined, '0 waits for approval for ever');
  assert.equal(toProductionRequest(parse({ content: 'A v1 preset passes through.', preset: 'square_post' }), { autoApproveSec: 0 }).body.preset, 'square_post');
});

test('the extras: mood (or emotion), music style, effects gain and brand are used; the rest is kept and said to be unused', () => {
  const t = toProductionRequest(parse({
    content: 'A teaser for a solar lamp.', voice: 'fr-FR-Wavenet-D', emotion: 'joy', mood: 'relaxed', music_style: 'acoustic', sfx_intensity: 'high', brand_id: 'acme', transitions: 'fade',
  }), { autoApproveSec: 0 });
  assert.deepEqual(t.body.music, { mood: 'calm', style: 'acoustic' });
  assert.deepEqual(t.body.mix, { sfx: 0.8 });
  assert.deepEqual(t.body.metadata, { brand_id: 'acme' });
  assert.deepEqual(t.voices, ['fr-FR-Wavenet-D', 'google:fr-FR-Wavenet-D']);
  assert.deepEqual(Object.keys(t.ignored).sort(), ['emotion', 'transitions']);
  assert.deepEqual(toProductionRequest(parse({ content: 'A teaser for a solar lamp.', emotion: 'joy' }), { autoApproveSec: 0 }).body.music, { mood: 'uplifting' }, 'emotion stands in for a missing mood');
  assert.equal(toProductionRequest(parse({ content: 'A teaser for a solar lamp.', sfx_intensity: 'none' }), { autoApproveSec: 0 }).body.sfx, false);
  assert.equal(toProductionRequest(parse({ content: 'A teaser for a solar lamp.', mood: 'purple' }), { autoApproveSec: 0 }).ignored.mood?.startsWith('not a mood'), true);
});

test('a request is fitted to the tenant\'s tier, and the fitting is said', () => {
  const t = toProductionRequest(parse({ content: 'A teaser for a solar lamp.', duration_sec: 300 }), { autoApproveSec: 0, limits: { maxResolution: '720p', maxDurationSec: 120, tier: 'free' } });
  assert.equal(t.body.targetDurationSec, 120);
  assert.equal(t.body.resolution, '720p');
  assert.match(t.ignored.duration_sec ?? '', /free tier makes videos of at most 120 s/);
  const big = toProductionRequest(parse({ content: 'A teaser for a solar lamp.', duration_sec: 300 }), { autoApproveSec: 0, limits: { maxResolution: '1080p', maxDurationSec: 1800 } });
  assert.equal(big.body.resolution, undefined);
  assert.equal(big.body.targetDurationSec, 300);
});

test('the original\'s validation: content length, duration range, known preset, priority and language words', () => {
  for (const bad of [{}, { content: 'short' }, { content: 'long enough text', duration_sec: 4 }, { content: 'long enough text', preset: 'gold' }, { content: 'long enough text', priority: 'urgent' }, { content: 'long enough text', lang: 'xx' }]) {
    assert.equal(pipelineRequestSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.equal(pipelineRequestSchema.safeParse({ content: 'long enough text', anything: { nested: true } }).success, true, 'unknown fields are accepted');
});

test('moods, gains and voice names as clients wrote them', () => {
  assert.deepEqual(['joy', 'Upbeat', 'epic trailer', 'corporate', 'purple'].map(moodOf), ['uplifting', 'uplifting', 'dramatic', 'corporate', undefined]);
  assert.deepEqual([0.4, 5, 'medium', 'loud'].map(sfxGainOf), [0.4, 2, 0.5, undefined]);
  assert.deepEqual(voiceCandidates('elevenlabs:abc'), ['elevenlabs:abc']);
  assert.deepEqual(voiceCandidates(''), []);
});
