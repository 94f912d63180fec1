import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadEnv } from '../config/env.js';
import { parseBrief, resolveBrief } from '../contract/resolve.js';
import { createProviderRegistry, createProviders, lazyMediaTools } from '../main/container.js';
import { estimateBrief } from './estimate.js';

const registry = (vars: Record<string, string>) => {
  const env = loadEnv(vars);
  return createProviderRegistry(env, lazyMediaTools(env), createProviders());
};
const brief = (extra: Record<string, unknown> = {}) => resolveBrief(parseBrief({ prompt: 'a 20 second ad for a solar backpack', targetDurationSec: 20, resolution: '720p', ...extra }));

test('an estimate prices each stage in its vendor\'s units with the render\'s chains, without calling anyone', async () => {
  const r = registry({ OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', ELEVENLABS_API_KEY: 'el-x', ELEVENLABS_BASE_URL: 'http://127.0.0.1:9', RUNWAYML_API_SECRET: 'rw-x', RUNWAY_BASE_URL: 'http://127.0.0.1:9' });
  const standard = await estimateBrief(brief(), r.forRender({ quality: 'standard' }));
  const item = (stage: string) => standard.cost.items.find((i) => i.stage === stage);
  assert.equal(item('plan')?.provider, 'openai:gpt-4o-mini');
  assert.ok((item('plan')?.units.inputTokens ?? 0) > 500 && (item('plan')?.units.outputTokens ?? 0) > 50, JSON.stringify(item('plan')));
  assert.equal(item('narrate')?.provider, 'elevenlabs:eleven_multilingual_v2');
  assert.equal(item('narrate')?.usd, Math.round((item('narrate')?.units.characters ?? 0) * 0.0001 * 1e6) / 1e6);
  assert.equal(item('score')?.provider, 'elevenlabs-music:music_v1');
  const pictures = standard.cost.items.find((i) => i.stage === 'visualize' && i.provider.startsWith('runway'));
  assert.equal(pictures?.provider, 'runway:gen4_image');
  assert.equal(pictures?.units.images, standard.scenes);
  assert.equal(pictures?.units.secondsOfVideo, undefined, 'stills below premium');
  assert.equal(standard.cost.minimumUsd, 0);
  // Premium: Runway's clips, billed in its own lengths (2–10 s per scene).
  const premium = await estimateBrief(brief(), r.forRender({ quality: 'premium' }));
  const clips = premium.cost.items.find((i) => i.stage === 'visualize' && i.provider === 'runway:gen4_turbo');
  const seconds = clips?.units.secondsOfVideo ?? 0;
  assert.ok(seconds >= 2 * premium.scenes && seconds <= 10 * premium.scenes, JSON.stringify(clips));
  assert.ok(premium.cost.totalUsd > standard.cost.totalUsd);
  // No keys: offline, free, and still showing the work a paid provider would bill.
  const offline = await estimateBrief(brief(), registry({}).forRender());
  assert.equal(offline.cost.totalUsd, 0);
  assert.ok((offline.cost.items.find((i) => i.stage === 'narrate')?.units.characters ?? 0) > 50);
});
