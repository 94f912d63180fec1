import assert from 'node:assert/strict';
import { test } from 'node:test';
import { priceTable } from '../providers/pricing.js';
import { CostLedger } from './cost.js';

test('the ledger prices what vendors billed, compares it with the estimate per stage, and keeps fallbacks and credits', () => {
  const ledger = new CostLedger(priceTable(), 'standard');
  ledger.setEstimate([
    { stage: 'plan', provider: 'openai:gpt-4o-mini', usage: { inputTokens: 1000, outputTokens: 1000 }, usd: 0.00075 },
    { stage: 'narrate', provider: 'elevenlabs:eleven_multilingual_v2', usage: { characters: 1000 }, usd: 0.1 },
  ]);
  const times = { cpuSec: 0.1, wallSec: 1, cachedUnits: 0 };
  ledger.add({ stage: 'plan', provider: 'openai:gpt-4o-mini', units: { scenes: 4 }, usage: { inputTokens: 2000, outputTokens: 1000 }, ...times });
  // The voice failed over to espeak: nothing billed there.
  ledger.add({ stage: 'narrate', provider: 'espeak-ng@1', units: { characters: 1000 }, ...times });
  ledger.add({ stage: 'visualize', provider: 'runway:gen4_image', units: { pictures: 3 }, usage: { images: 3 }, ...times });
  ledger.addFallback({ stage: 'narrate', from: 'elevenlabs:eleven_multilingual_v2', to: 'espeak-ng@1', code: 'provider_unavailable', reason: 'HTTP 503' });
  ledger.addAttributions([{ source: 'Pexels', author: 'A', url: 'https://p/1', licence: 'Pexels License' }, { source: 'Pexels', author: 'A', url: 'https://p/1', licence: 'Pexels License' }]);
  const report = ledger.report();
  const plan = report.stages.find((s) => s.stage === 'plan');
  assert.equal(plan?.usd, 0.0009, 'input 2000 × 0.15/M + output 1000 × 0.60/M');
  assert.equal(plan?.unitPriceUsd, 0.15 / 1e6);
  assert.equal(report.stages.find((s) => s.stage === 'narrate')?.usd, 0);
  assert.equal(report.totalUsd, 0.2409);
  assert.equal(report.estimate?.totalUsd, 0.10075);
  assert.equal(report.varianceUsd, 0.14015);
  const narrate = report.byStage.find((s) => s.stage === 'narrate');
  assert.deepEqual(narrate, { stage: 'narrate', providers: ['elevenlabs:eleven_multilingual_v2', 'espeak-ng@1'], estimatedUsd: 0.1, actualUsd: 0, varianceUsd: -0.1 });
  assert.equal(report.byStage.find((s) => s.stage === 'visualize')?.estimatedUsd, 0);
  assert.equal(report.fallbacks.length, 1);
  assert.equal(report.attributions.length, 1, 'credits are listed once');
  assert.equal(report.quality, 'standard');
});

test('AIPROD_PRICES overrides a price and adds new ones; a bad one names the entry', () => {
  const table = priceTable('{"openai:llama3.1":{"inputTokens":0,"outputTokens":0},"runway:gen4_image":{"images":0.1}}');
  assert.deepEqual(table['openai:llama3.1'], { inputTokens: 0, outputTokens: 0 });
  assert.equal(table['runway:gen4_image']?.images, 0.1);
  assert.equal(table['openai:gpt-4o']?.outputTokens, 10 / 1e6, 'the rest stays');
  assert.throws(() => priceTable('{"runway":{"images":1}}'), /AIPROD_PRICES: runway/);
  assert.throws(() => priceTable('{"runway:x":{"pixels":1}}'), /AIPROD_PRICES/);
  assert.throws(() => priceTable('not json'), /not JSON/);
});
