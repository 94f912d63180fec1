import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadEnv } from '../config/env.js';
import { CATALOG } from './catalog.js';
import { DEFAULT_PRICES, PRICES_DATE } from './pricing.js';
import { PROVIDER_STAGES, TENANT_KEY_NAMES, providerId } from './provider.js';

const docs = readFileSync(new URL('../../docs/providers.md', import.meta.url), 'utf8');
const all = PROVIDER_STAGES.flatMap((stage) => CATALOG[stage].map((d) => ({ stage, d })));

test('every registered provider is documented with its variables, and each variable is in the configuration schema', () => {
  const env = loadEnv({});
  for (const { stage, d } of all) {
    assert.equal(d.stage, stage, `${d.name} is registered under ${stage} but says ${d.stage}`);
    assert.ok(docs.includes(`\`${d.name}\``), `docs/providers.md does not list ${d.name}`);
    for (const variable of [d.keyEnv, d.baseUrlEnv, d.modelEnv, ...(d.settings ?? [])].filter((v): v is string => Boolean(v))) {
      assert.ok(docs.includes(variable), `docs/providers.md does not name ${variable}`);
      assert.ok(variable in env || variable in (loadEnv({ [variable]: 'https://x.example' }) as object), `${variable} is not in src/config/env.ts`);
    }
    assert.ok((TENANT_KEY_NAMES as readonly string[]).includes(d.tenantKey), `${d.name}: tenant key ${d.tenantKey}`);
    assert.ok(d.sends.length > 10, `${d.name} says what it sends`);
  }
  assert.equal(new Set(all.map(({ stage, d }) => `${stage}/${d.name}`)).size, all.length, 'provider names are unique per stage');
});

test('every model a tier uses has a price (or its provider is free), and the docs list every price with its date', () => {
  for (const { d } of all) {
    for (const model of new Set(Object.values(d.models))) {
      const id = providerId(d.name, model);
      assert.ok(DEFAULT_PRICES[id] ?? DEFAULT_PRICES[`${d.name}:*`], `no price for ${id}`);
    }
  }
  assert.ok(docs.includes(PRICES_DATE), 'docs/providers.md gives the prices\' date');
  for (const id of Object.keys(DEFAULT_PRICES)) {
    const [name, model] = id.split(':') as [string, string];
    assert.ok(docs.includes(name) && (model === '*' || docs.includes(model)), `docs/providers.md does not list the price of ${id}`);
  }
});
