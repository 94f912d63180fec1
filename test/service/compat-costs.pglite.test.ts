/**
 * The original API's presets and costs over HTTP, on the service in-process (PGlite, with a
 * worker): GET /presets, GET /presets/{name}, POST /cost-estimate and GET /job/{id}/costs — their
 * shapes, status codes and FastAPI `detail` on errors.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { costEstimateSchema, jobCostsSchema, presetDetailSchema, presetEntrySchema, type DurationEstimate } from '../../src/compat/costs.js';
import { PRESET_NAMES } from '../../src/contract/brief.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
before(async () => {
  // An operator charge per minute makes every estimate and render cost something.
  svc = await startTestService({ env: { PRICE_PER_VIDEO_MINUTE_USD: '0.6' } });
});
after(async () => {
  await svc?.stop();
});

const content = 'A short ad for a solar backpack that charges a phone on the trail.';

test('GET /presets is public and lists the original three and the v1 presets, each with the eleven fields', async () => {
  const res = await svc.app!.inject({ url: '/presets' });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(typeof body.usage, 'string');
  assert.deepEqual(Object.keys(body.presets).sort(), ['brand_campaign', 'premium_spot', 'quick_social', ...PRESET_NAMES].sort());
  for (const [key, entry] of Object.entries(body.presets)) {
    const parsed = presetEntrySchema.strict().safeParse(entry);
    assert.ok(parsed.success, `${key}: ${JSON.stringify(parsed.error?.issues)}`);
    // The operator charge: 30 s at $0.6 a minute, at least.
    assert.ok(parsed.data.estimated_cost >= 0.29, `${key}: estimated_cost ${parsed.data.estimated_cost}`);
  }
  assert.deepEqual([body.presets.quick_social.pipeline_mode, body.presets.quick_social.allow_icc], ['fast', false]);
  assert.deepEqual([body.presets.brand_campaign.pipeline_mode, body.presets.brand_campaign.allow_icc], ['full', true]);
  assert.deepEqual([body.presets.premium_spot.pipeline_mode, body.presets.premium_spot.allow_icc], ['full', true]);
  // With a key too.
  assert.equal((await svc.app!.inject({ url: '/presets', headers: svc.auth })).statusCode, 200);
});

test('GET /presets/{name} gives the detail for 10, 30 and 60 s; an unknown name is 404 with detail', async () => {
  for (const name of ['quick_social', 'brand_campaign', 'premium_spot', 'social_vertical']) {
    const res = await svc.app!.inject({ url: `/presets/${name}`, headers: svc.auth });
    assert.equal(res.statusCode, 200, res.body);
    const parsed = presetDetailSchema.strict().safeParse(res.json());
    assert.ok(parsed.success, `${name}: ${JSON.stringify(parsed.error?.issues)}`);
    for (const [label, seconds] of [['10s', 10], ['30s', 30], ['60s', 60]] as const) {
      const e: DurationEstimate = parsed.data.cost_estimate_for_durations[label];
      assert.deepEqual([e.preset, e.duration_sec], [name, seconds]);
      assert.equal(e.savings, Math.round((e.runway_alone - e.aiprod_optimized) * 100) / 100);
    }
    assert.equal(parsed.data.estimated_cost_30s, parsed.data.cost_estimate_for_durations['30s'].aiprod_optimized);
  }
  const missing = await svc.app!.inject({ url: '/presets/no_such_preset', headers: svc.auth });
  assert.equal(missing.statusCode, 404);
  assert.match(missing.json().detail, /^Preset 'no_such_preset' non trouvé\. Disponibles: quick_social, brand_campaign, premium_spot/);
  assert.equal(missing.json().error.code, 'not_found');
  const anonymous = await svc.app!.inject({ url: '/presets/quick_social' });
  assert.equal(anonymous.statusCode, 401);
  assert.equal(anonymous.json().detail, 'Missing authorization header');
});

test('POST /cost-estimate answers the full estimate, echoes its inputs and keeps the invariants', async () => {
  const call = (payload: Record<string, unknown>) => svc.app!.inject({ method: 'POST', url: '/cost-estimate', headers: svc.auth, payload });
  const answers: Record<string, ReturnType<typeof costEstimateSchema.parse>> = {};
  for (const complexity of ['low', 'high', 'no_such_word']) {
    const res = await call({ content, duration_sec: 30, complexity, unknown_field: true });
    assert.equal(res.statusCode, 200, res.body);
    const e = costEstimateSchema.strict().parse(res.json());
    answers[complexity] = e;
    assert.deepEqual([e.duration_sec, e.preset], [30, null]);
    const sum = e.breakdown.gemini_api + e.breakdown.runway_api + e.breakdown.gcs_storage + e.breakdown.cloud_run;
    assert.ok(Math.abs(sum - e.aiprod_optimized) < 1e-9, JSON.stringify(e));
    assert.equal(e.savings, Math.round((e.runway_alone - e.aiprod_optimized) * 100) / 100);
    assert.ok(e.breakdown.cloud_run > 0, 'the operator charge');
    assert.ok(e.runway_alone > 0 && e.competitors.synthesia > 0 && e.competitors.pictory > 0 && e.competitors.heygen > 0);
  }
  assert.equal(answers.low?.complexity, 'low');
  assert.equal(answers.high?.complexity, 'high');
  assert.equal(answers.no_such_word?.complexity, 'standard', 'an unknown complexity is standard, not an error');
  const premium = await call({ content, duration_sec: 60, preset: 'premium_spot' });
  assert.equal(premium.statusCode, 200, premium.body);
  assert.deepEqual([premium.json().preset, premium.json().duration_sec, premium.json().complexity], ['premium_spot', 60, 'high']);
  const defaults = await call({ content, duration_sec: '45' });
  assert.deepEqual([defaults.statusCode, defaults.json().duration_sec, defaults.json().complexity], [200, 45, 'standard']);
  // No content: FastAPI's 422 with a list of {loc, msg, type}.
  const bad = await call({ duration_sec: 30 });
  assert.equal(bad.statusCode, 422);
  assert.ok(Array.isArray(bad.json().detail) && bad.json().detail[0].loc.includes('content'), bad.body);
});

test('GET /job/{id}/costs: 404 until the job is finished, then its costs', async () => {
  const unknown = await svc.app!.inject({ url: '/job/00000000-0000-4000-8000-000000000000/costs', headers: svc.auth });
  assert.equal(unknown.statusCode, 404);
  assert.equal(typeof unknown.json().detail, 'string');
  // A review production waits for approval: not finished.
  const brief = {
    scenes: [
      { narration: 'The backpack charges your phone.', durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } },
      { narration: 'On every trail.', durationSec: 2, visual: { type: 'gradient', colors: ['#0ea5e9', '#22c55e'] } },
    ],
    resolution: '480p',
    fps: 24,
  };
  const waiting = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: { ...brief, review: true } });
  assert.equal(waiting.statusCode, 202, waiting.body);
  const waitingId = waiting.json().id as string;
  await svc.waitFor(waitingId, (p) => p.status === 'awaiting_review');
  const notYet = await svc.app!.inject({ url: `/job/${waitingId}/costs`, headers: svc.auth });
  assert.equal(notYet.statusCode, 404);
  assert.match(notYet.json().detail, /has no costs yet/);

  const created = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: brief });
  assert.equal(created.statusCode, 202, created.body);
  const id = created.json().id as string;
  const done = await svc.waitFor(id, (p) => ['succeeded', 'failed', 'canceled'].includes(p.status));
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  const res = await svc.app!.inject({ url: `/job/${id}/costs`, headers: svc.auth });
  assert.equal(res.statusCode, 200, res.body);
  const costs = jobCostsSchema.strict().parse(res.json());
  assert.equal(costs.actual, Math.round((done.cost?.totalUsd ?? -1) * 1e4) / 1e4);
  assert.ok(costs.actual > 0, 'the operator charge was billed');
  assert.equal(costs.within_budget, Math.abs(costs.variance_percent) <= 20);
  assert.ok(Math.abs(costs.breakdown.gemini + costs.breakdown.runway + costs.breakdown.storage + costs.breakdown.compute - costs.actual) < 1e-4, JSON.stringify(costs));
  // Without a key: 401, as every route but /health and /presets.
  const anonymous = await svc.app!.inject({ url: `/job/${id}/costs` });
  assert.equal(anonymous.statusCode, 401);
});
