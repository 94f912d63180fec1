import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBrief, resolveBrief } from '../contract/resolve.js';
import { expandBriefTemplate } from '../design/templates/merge.js';
import type { MediaTools, PipelineDeps } from '../pipeline/context.js';
import { applyExperiments, CHOICES, withX264Preset } from './choices.js';
import { twoProportionPValue } from './stats.js';

const choice = (key: string) => CHOICES.find((c) => c.key === key)!;
const all = {
  'caption-style': { variant: 'w', value: 'word', applied: true },
  template: { variant: 't', value: 'top-list', applied: true },
  'tts-provider': { variant: 'e', value: 'elevenlabs', applied: true },
  planner: { variant: 'o', value: 'openai', applied: true },
  'x264-preset': { variant: 'u', value: 'ultrafast', applied: true },
};

test('applied variants become the brief\'s choices; the x264 preset goes to the encoder', () => {
  const { brief, x264Preset } = applyExperiments(parseBrief({ prompt: 'A launch video for a solar backpack' }), all);
  const resolved = resolveBrief(expandBriefTemplate(parseBrief(brief)));
  assert.equal(resolved.captions && resolved.captions.style, 'word');
  assert.equal(resolved.design.template, 'top-list');
  assert.deepEqual(resolved.providers, { narrate: 'elevenlabs', plan: 'openai' });
  assert.equal(x264Preset, 'ultrafast');
});

test('a variant stored as not applied (the brief chose) changes nothing', () => {
  const given = parseBrief({ script: 'Hello there.', captions: { style: 'boxed' } });
  const off = Object.fromEntries(Object.entries(all).map(([k, v]) => [k, { ...v, applied: false }]));
  assert.deepEqual(applyExperiments(given, off), { brief: given });
  assert.deepEqual(applyExperiments(given, {}), { brief: given });
});

test('what counts as the brief\'s own choice', () => {
  const explicit = (key: string, brief: unknown): boolean => choice(key).explicit(parseBrief(brief));
  assert.equal(explicit('caption-style', { script: 'x' }), false);
  assert.equal(explicit('caption-style', { script: 'x', captions: { burnIn: true } }), false);
  assert.equal(explicit('caption-style', { script: 'x', captions: false }), true);
  assert.equal(explicit('caption-style', { script: 'x', preset: 'square_post' }), true);
  assert.equal(explicit('template', { prompt: 'a launch' }), false);
  assert.equal(explicit('template', { prompt: 'a launch', design: { template: 'explainer' } }), true);
  assert.equal(explicit('tts-provider', { script: 'x', voice: 'elevenlabs:abc' }), true);
  assert.equal(explicit('tts-provider', { script: 'x', providers: { narrate: 'offline' } }), true);
  assert.equal(explicit('planner', { script: 'x', providers: { plan: 'gemini' } }), true);
  assert.equal(explicit('x264-preset', { script: 'x', preview: true }), true);
  assert.equal(explicit('x264-preset', { script: 'x' }), false);
});

test('a preset\'s caption fields survive a caption-style variant', () => {
  const { brief } = applyExperiments(parseBrief({ script: 'x', preset: 'youtube_landscape' }), { 'caption-style': { variant: 'w', value: 'word', applied: true } });
  const resolved = resolveBrief(brief);
  assert.deepEqual(resolved.captions, { burnIn: false, style: 'word' });
});

test('withX264Preset changes the encode only, and keeps lazily found tools lazy', () => {
  let reads = 0;
  const media = {
    get bins() { reads++; return {} as MediaTools['bins']; },
    caps: {} as MediaTools['caps'],
    ffmpeg: async () => ({}) as never,
    probe: async () => ({}) as never,
    parallelism: 2,
    encode: { preset: 'superfast', crf: 20, threads: 0 },
  } as MediaTools;
  const pipeline = { media, providers: {} as PipelineDeps['providers'], cache: {} as PipelineDeps['cache'] };
  assert.equal(withX264Preset(pipeline, undefined), pipeline);
  const changed = withX264Preset(pipeline, 'ultrafast');
  assert.deepEqual(changed.media.encode, { preset: 'ultrafast', crf: 20, threads: 0 });
  assert.equal(changed.media.parallelism, 2);
  assert.equal(reads, 0);
  void changed.media.bins;
  assert.equal(reads, 1);
  assert.equal(media.encode.preset, 'superfast');
});

test('two-proportion z-test: a textbook case, and no answer when the approximation fails', () => {
  // 50/100 against 65/100: z = 2.146, two-sided p = 0.0319.
  assert.ok(Math.abs((twoProportionPValue(50, 100, 65, 100) as number) - 0.0319) < 0.0005);
  assert.ok((twoProportionPValue(30, 60, 30, 60) as number) > 0.9999);
  assert.equal(twoProportionPValue(3, 4, 1, 4), null);
  assert.equal(twoProportionPValue(0, 0, 5, 10), null);
});
