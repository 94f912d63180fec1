import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { CHOICES } from './choices.js';
import { bucket } from './flags-file.js';
import { FlagsFileProvider } from './flags-file.provider.js';

const dir = mkdtempSync(join(tmpdir(), 'aiprod-flags-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const VALUES = Object.fromEntries(CHOICES.map((c) => [c.key, c.values]));

let files = 0;
function flagsFile(flags: unknown): string {
  const path = join(dir, `flags-${files++}.json`);
  writeFileSync(path, JSON.stringify(flags));
  return path;
}

/** An OpenFeature client on its own domain, as main/experiments.ts makes one. */
async function clientFor(provider: FlagsFileProvider) {
  const domain = `test-${randomUUID()}`;
  await OpenFeature.setProviderAndWait(domain, provider);
  return OpenFeature.getClient(domain);
}

const captionSplit = {
  flags: {
    'caption-style': {
      variants: { control: 'line', word: 'word', box: 'box' },
      targeting: [
        { tenants: ['acme'], variant: 'box' },
        { tiers: ['pro', 'enterprise'], rollout: { control: 30, word: 70 } },
      ],
    },
  },
};

test('targeting: a tenant rule, then a tier split; a production no rule places is not in the experiment', async () => {
  const client = await clientFor(new FlagsFileProvider({ path: flagsFile(captionSplit), values: VALUES, pollMs: 0 }));
  const acme = await client.getStringDetails('caption-style', 'none', { targetingKey: 'p1', tenantId: 'acme', tier: 'free' });
  assert.deepEqual([acme.value, acme.variant, acme.reason], ['box', 'box', 'TARGETING_MATCH']);
  const pro = await client.getStringDetails('caption-style', 'none', { targetingKey: 'p1', tenantId: 'other', tier: 'pro' });
  assert.equal(pro.reason, 'SPLIT');
  assert.ok(['control', 'word'].includes(pro.variant ?? ''));
  const free = await client.getStringDetails('caption-style', 'none', { targetingKey: 'p1', tenantId: 'other', tier: 'free' });
  assert.deepEqual([free.value, free.variant, free.reason], ['none', undefined, 'DEFAULT']);
  const missing = await client.getStringDetails('template', 'none', { targetingKey: 'p1' });
  assert.equal(missing.value, 'none');
  assert.equal(missing.errorCode, 'FLAG_NOT_FOUND');
});

test('a percentage rollout is deterministic per production and splits within tolerance', async () => {
  const path = flagsFile(captionSplit);
  const a = await clientFor(new FlagsFileProvider({ path, values: VALUES, pollMs: 0 }));
  const b = await clientFor(new FlagsFileProvider({ path, values: VALUES, pollMs: 0 }));
  const n = 10_000;
  let word = 0;
  for (let i = 0; i < n; i++) {
    const context = { targetingKey: randomUUID(), tenantId: 't', tier: 'pro' };
    const first = await a.getStringDetails('caption-style', '', context);
    // The same production always gets the same variant, from any provider instance (any API process).
    assert.equal((await a.getStringDetails('caption-style', '', context)).variant, first.variant);
    assert.equal((await b.getStringDetails('caption-style', '', context)).variant, first.variant);
    if (first.variant === 'word') word++;
  }
  // 70 % expected; the standard deviation of the share is 0.46 % at n = 10 000, so ±2 % is over 4 σ.
  assert.ok(Math.abs(word / n - 0.7) < 0.02, `word share ${word / n}`);
  // The bucket depends on the flag too: two experiments split the same productions independently.
  const ids = Array.from({ length: 2000 }, () => randomUUID());
  const same = ids.filter((id) => bucket('caption-style', id) < 5000 === bucket('x264-preset', id) < 5000).length;
  assert.ok(Math.abs(same / ids.length - 0.5) < 0.05, `agreement ${same / ids.length}`);
});

test('a partial rollout falls through: 10 % get the variant, the rest the default variant', async () => {
  const client = await clientFor(new FlagsFileProvider({
    path: flagsFile({ flags: { 'x264-preset': { variants: { control: 'superfast', fast: 'ultrafast' }, defaultVariant: 'control', targeting: [{ rollout: { fast: 10 } }] } } }),
    values: VALUES,
    pollMs: 0,
  }));
  let fast = 0;
  for (let i = 0; i < 4000; i++) {
    const d = await client.getStringDetails('x264-preset', '', { targetingKey: randomUUID() });
    if (d.variant === 'fast') fast++;
    else assert.deepEqual([d.variant, d.reason], ['control', 'DEFAULT']);
  }
  assert.ok(Math.abs(fast / 4000 - 0.1) < 0.025, `share ${fast / 4000}`);
});

test('FLAG_<NAME> forces a variant; a variant the flag lacks, or a value the choice cannot take, stops the start naming the variable', async () => {
  const path = flagsFile(captionSplit);
  const client = await clientFor(new FlagsFileProvider({ path, overrides: { FLAG_CAPTION_STYLE: 'word' }, values: VALUES, pollMs: 0 }));
  const d = await client.getStringDetails('caption-style', '', { targetingKey: 'p', tenantId: 'acme', tier: 'free' });
  assert.deepEqual([d.value, d.variant, d.reason], ['word', 'word', 'STATIC']);
  // A flag only the environment names: its variant is its value.
  const envOnly = await clientFor(new FlagsFileProvider({ overrides: { FLAG_X264_PRESET: 'ultrafast' }, values: VALUES, pollMs: 0 }));
  const preset = await envOnly.getStringDetails('x264-preset', '', { targetingKey: 'p' });
  assert.deepEqual([preset.value, preset.variant, preset.reason], ['ultrafast', 'ultrafast', 'STATIC']);
  assert.throws(() => new FlagsFileProvider({ path, overrides: { FLAG_CAPTION_STYLE: 'huge' }, values: VALUES }), /FLAG_CAPTION_STYLE: "huge" is not a variant of flag caption-style \(control, word, box\)/);
  assert.throws(() => new FlagsFileProvider({ overrides: { FLAG_X264_PRESET: 'placebo' }, values: VALUES }), /FLAG_X264_PRESET: "placebo" is not a value flag x264-preset can take; use one of ultrafast/);
});

test('a bad flags file is refused with the file, the flag and the field named', () => {
  const bad = (flags: unknown, pattern: RegExp): void => {
    const path = flagsFile(flags);
    assert.throws(() => new FlagsFileProvider({ path, values: VALUES }), (error: Error) => error.message.includes(path) && pattern.test(error.message));
  };
  bad({ flags: { 'caption-style': { variants: { a: 'line', b: 'word' }, targeting: [{ rollout: { a: 60, b: 50 } }] } } }, /flags\.caption-style\.targeting\.0\.rollout: the shares add up to 110 %; at most 100/);
  bad({ flags: { 'caption-style': { variants: { a: 'line' }, defaultVariant: 'b' } } }, /flags\.caption-style\.defaultVariant: "b" is not one of its variants \(a\)/);
  bad({ flags: { 'caption-style': { variants: { a: 'line' }, targeting: [{ tiers: ['pro'] }] } } }, /flags\.caption-style\.targeting\.0: give exactly one of "variant" and "rollout"/);
  bad({ flags: { 'caption-style': { variants: { big: 'huge' } } } }, /flags\.caption-style\.variants\.big: "huge" is not a value flag caption-style can take; use one of bold, minimal/);
  bad({ flags: { template: { variants: { a: 'explainer' }, targetting: [] } } }, /flags\.template: Unrecognized key: "targetting"/);
  const notJson = join(dir, 'broken.json');
  writeFileSync(notJson, '{ "flags": ');
  assert.throws(() => new FlagsFileProvider({ path: notJson }), /FLAGS_FILE .*broken\.json: not JSON/);
  assert.throws(() => new FlagsFileProvider({ path: join(dir, 'absent.json') }), /absent\.json: cannot be read \(ENOENT\); check the path/);
});

test('the file is re-read when it changes; a bad edit keeps the flags in force', async () => {
  const path = flagsFile({ flags: { 'caption-style': { variants: { word: 'word' }, targeting: [{ variant: 'word' }] } } });
  const logged: string[] = [];
  const provider = new FlagsFileProvider({ path, values: VALUES, pollMs: 20, log: (_level, message, fields) => logged.push(`${message} ${JSON.stringify(fields)}`) });
  const client = await clientFor(provider);
  const value = async (): Promise<string> => client.getStringValue('caption-style', 'none', { targetingKey: 'p' });
  assert.equal(await value(), 'word');
  // The watcher does not hold the process open (persistent: false), so the wait has a deadline that does.
  const next = (event: ProviderEvents): Promise<void> =>
    new Promise((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`no ${event} within 10 s`)), 10_000);
      provider.events.addHandler(event, () => {
        clearTimeout(deadline);
        resolve();
      });
    });

  // Polled: the watcher sees the new mtime and size and swaps the flags in.
  const changed = next(ProviderEvents.ConfigurationChanged);
  writeFileSync(path, JSON.stringify({ flags: { 'caption-style': { variants: { box: 'box' }, targeting: [{ variant: 'box' }] } } }));
  await changed;
  assert.equal(await value(), 'box');

  const failed = next(ProviderEvents.Error);
  writeFileSync(path, JSON.stringify({ flags: { 'caption-style': { variants: { box: 'box' }, defaultVariant: 'nope' } } }));
  await failed;
  assert.equal(await value(), 'box');
  assert.ok(logged.some((l) => l.includes('flags file not reloaded') && l.includes('flags.caption-style.defaultVariant')), logged.join('\n'));
  await provider.onClose();
});

test('the example flags file (examples/flags.json, docs/experiments.md) loads', async () => {
  const client = await clientFor(new FlagsFileProvider({ path: new URL('../../examples/flags.json', import.meta.url).pathname, values: VALUES, pollMs: 0 }));
  const d = await client.getStringDetails('template', 'none', { targetingKey: 'p', tenantId: 'acme', tier: 'pro' });
  assert.deepEqual([d.value, d.reason], ['none', 'DISABLED']);
});
