/** The plan port's conformance suite, run on the offline writer and on each cloud planner against its fake. */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { geminiPlanDescriptor } from '../../src/providers/script/gemini.adapter.js';
import { openaiPlanDescriptor } from '../../src/providers/script/openai.adapter.js';
import { RuleBasedWriter } from '../../src/providers/script/rule-based.adapter.js';
import { FakeGemini } from '../support/fake-gemini.js';
import { FakeOpenAI } from '../support/fake-openai.js';
import { providerContext } from '../support/provider-context.js';
import { scriptWriterConformance } from './script.conformance.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

scriptWriterConformance('rule-based', async () => ({ writer: new RuleBasedWriter(), translates: false }));

scriptWriterConformance('openai', async () => {
  const fake = await FakeOpenAI.start({ apiKey: 'sk-conformance' });
  closers.push(async () => {
    assert.deepEqual(fake.unexpected, []);
    await fake.close();
  });
  const writer = openaiPlanDescriptor.create(await providerContext({ baseUrl: `${fake.url}/v1`, apiKey: 'sk-conformance', model: 'gpt-4o-mini' }));
  return {
    writer,
    translates: true,
    hang: () => fake.fail('hang'),
    failures: [
      { name: '401', arrange: () => fake.fail('unauthorized'), code: 'provider_auth' },
      { name: '429', arrange: () => fake.fail('rate_limited'), code: 'provider_rate_limited' },
      { name: '500', arrange: () => fake.fail('server_error'), code: 'provider_unavailable' },
      { name: 'malformed', arrange: () => fake.fail('malformed'), code: 'provider_bad_response' },
      { name: 'refusal', arrange: () => fake.fail('refusal'), code: 'provider_refused' },
      { name: 'content filter', arrange: () => fake.fail('content_filter'), code: 'provider_refused' },
      { name: 'broken twice', arrange: () => fake.fail('invalid_storyboard', 2), code: 'provider_bad_response' },
    ],
  };
});

scriptWriterConformance('gemini', async () => {
  const fake = await FakeGemini.start({ apiKey: 'gm-conformance' });
  closers.push(async () => {
    assert.deepEqual(fake.unexpected, []);
    await fake.close();
  });
  const writer = geminiPlanDescriptor.create(await providerContext({ baseUrl: fake.url, apiKey: 'gm-conformance', model: 'gemini-2.5-flash' }));
  return {
    writer,
    translates: true,
    hang: () => fake.fail('hang'),
    failures: [
      { name: '401', arrange: () => fake.fail('unauthorized'), code: 'provider_auth' },
      { name: '429', arrange: () => fake.fail('rate_limited'), code: 'provider_rate_limited' },
      { name: '500', arrange: () => fake.fail('server_error'), code: 'provider_unavailable' },
      { name: 'malformed', arrange: () => fake.fail('malformed'), code: 'provider_bad_response' },
      { name: 'blocked', arrange: () => fake.fail('blocked'), code: 'provider_refused' },
      { name: 'safety', arrange: () => fake.fail('safety'), code: 'provider_refused' },
      { name: 'broken twice', arrange: () => fake.fail('invalid_storyboard', 2), code: 'provider_bad_response' },
    ],
  };
});
