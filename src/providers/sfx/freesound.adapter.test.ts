import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { FakeFreesound } from '../../../test/support/fake-freesound.js';
import { providerContext } from '../../../test/support/provider-context.js';
import { AppError } from '../../contract/errors.js';
import { readWav } from '../../media/wav.js';
import { ProviderChain, type Fallback } from '../chain.js';
import type { ProviderContext } from '../provider.js';
import { ProviderGuard } from '../resilience.js';
import { FREESOUND_FILTER, freesoundDescriptor, licenceName } from './freesound.adapter.js';
import { ProceduralSfxLibrary } from './procedural.adapter.js';
import type { SoundEffectsLibrary } from './sfx.port.js';

const KEY = 'fs-key';
const dir = mkdtempSync(join(tmpdir(), 'aiprod-freesound-'));
let fake: FakeFreesound;
let context: ProviderContext;
let n = 0;
const out = (): string => join(dir, `stem-${n++}.wav`);
const stem = { effects: [{ kind: 'whoosh' as const, atSec: 1, gain: 1 }, { kind: 'impact' as const, atSec: 2.5, gain: 0.5 }, { kind: 'whoosh' as const, atSec: 4, gain: 1 }], durationSec: 5.5, seed: 2 };
const code = (expected: string) => (error: unknown) => error instanceof AppError && error.code === expected;

function energy(samples: Float32Array, fromSec: number, toSec: number): number {
  let sum = 0;
  for (let i = Math.round(fromSec * 48_000) * 2; i < Math.round(toSec * 48_000) * 2; i++) sum += samples[i]! ** 2;
  return sum;
}

before(async () => {
  fake = await FakeFreesound.start({ apiKey: KEY });
  context = await providerContext({ baseUrl: `${fake.url}/apiv2`, apiKey: KEY, model: 'apiv2' });
});
after(() => fake.close());
beforeEach(() => {
  fake.scenario = 'ok';
  fake.requests.length = 0;
});

test('a stem: one search and one preview per kind, effects at their times, credits for each sound', async () => {
  const library = freesoundDescriptor.create(context);
  assert.equal(library.id, 'freesound:apiv2');
  const r = await library.renderStem(stem, out());
  assert.equal(r.effectsPlaced, 3);
  const wav = readWav(r.path);
  assert.equal(wav.sampleRate, 48_000);
  assert.equal(wav.channels, 2);
  assert.equal(wav.samples.length / 2, Math.round(5.5 * 48_000));
  assert.equal(energy(wav.samples, 0, 0.99), 0, 'silent before the first effect');
  assert.ok(energy(wav.samples, 1, 1.5) > 100, 'the whoosh sounds at 1 s');
  assert.ok(energy(wav.samples, 2.5, 3) > 10, 'the impact at 2.5 s');
  assert.equal(fake.searches.length, 2, 'whoosh is searched once for its two placements');
  assert.equal(fake.requests.filter((q) => q.path.startsWith('/data/previews/')).length, 2);
  const search = fake.searches[0]!;
  assert.equal(search.query.get('query'), 'whoosh');
  assert.equal(search.query.get('filter'), FREESOUND_FILTER);
  assert.equal(search.query.get('fields'), 'id,name,username,license,duration,previews,url');
  assert.equal(search.query.get('sort'), 'score');
  assert.deepEqual(r.usage, { requests: 2 });
  assert.equal(r.attributions?.length, 2);
  for (const a of r.attributions ?? []) {
    assert.equal(a.source, 'Freesound');
    assert.match(a.author ?? '', /^recordist\d$/);
    assert.match(a.url ?? '', /^https:\/\/freesound\.org\/people\/recordist\d\/sounds\/\d+\/$/);
    assert.match(a.licence, /^CC0 1\.0$|^CC BY 4\.0$/);
  }
  assert.deepEqual(fake.keysSeen.filter((_, i) => fake.requests[i]!.path.startsWith('/apiv2/')), [KEY, KEY]);
  assert.deepEqual(fake.unexpected, []);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.freesound-')), [], 'work files are removed');
});

test('the choice among the top results follows the seed, the same seed the same sounds', async () => {
  const library = freesoundDescriptor.create(context);
  const pick = async (seed: number) => (await library.renderStem({ effects: [{ kind: 'chime', atSec: 0.1, gain: 1 }], durationSec: 1, seed }, out())).attributions?.[0]?.url;
  const a = await pick(1);
  assert.equal(await pick(1), a);
  const others = new Set([a, await pick(2), await pick(3), await pick(4), await pick(5)]);
  assert.ok(others.size > 1, 'different seeds reach different sounds');
  assert.equal(licenceName('http://creativecommons.org/publicdomain/zero/1.0/'), 'CC0 1.0');
  assert.equal(licenceName('https://creativecommons.org/licenses/by/4.0/'), 'CC BY 4.0');
  assert.equal(licenceName('https://creativecommons.org/licenses/by-nc/4.0/'), undefined);
});

test('renderEffect writes one sound; a stem without effects asks nothing', async () => {
  const library = freesoundDescriptor.create(context);
  const one = await library.renderEffect('pop', 1, out());
  assert.ok(one.durationSec > 0.5 && one.durationSec < 1, `${one.durationSec}`);
  fake.requests.length = 0;
  const empty = await library.renderStem({ effects: [], durationSec: 2, seed: 1 }, out());
  assert.equal(readWav(empty.path).samples.length / 2, 96_000);
  assert.equal(fake.requests.length, 0);
  assert.deepEqual(library.kinds(), new ProceduralSfxLibrary().kinds());
});

test('failures map to ProviderError codes', async () => {
  const library = freesoundDescriptor.create(context);
  for (const [scenario, expected] of [['unauthorized', 'provider_auth'], ['rate-limited', 'provider_rate_limited'], ['server-error', 'provider_unavailable'], ['malformed', 'provider_bad_response'], ['empty', 'provider_failed']] as const) {
    fake.scenario = scenario;
    await assert.rejects(library.renderStem(stem, out()), code(expected), scenario);
  }
  fake.scenario = 'ok';
  const tenant = freesoundDescriptor.create(await providerContext({ baseUrl: `${fake.url}/apiv2`, apiKey: 'not-it', model: 'apiv2', source: 'tenant' }));
  await assert.rejects(tenant.renderStem(stem, out()), code('provider_auth'));
  assert.equal(fake.keysSeen.at(-1), 'not-it');
});

test('a hang ends at the timeout; cancellation is "aborted"', async () => {
  const library = freesoundDescriptor.create(context);
  fake.scenario = 'hang';
  await assert.rejects(library.renderStem(stem, out(), AbortSignal.timeout(300)), code('provider_timeout'));
  const controller = new AbortController();
  const pending = library.renderStem(stem, out(), controller.signal);
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(pending, code('aborted'));
});

test('probe: a one-result search', async () => {
  assert.match(await freesoundDescriptor.probe(context, AbortSignal.timeout(5000)), /key accepted/);
  assert.equal(fake.searches.at(-1)?.query.get('page_size'), '1');
  fake.scenario = 'unauthorized';
  await assert.rejects(freesoundDescriptor.probe(context, AbortSignal.timeout(5000)), code('provider_auth'));
});

function chain(library: SoundEffectsLibrary): ProviderChain<SoundEffectsLibrary> {
  return new ProviderChain<SoundEffectsLibrary>('foley', [
    { name: 'freesound', provider: library, offline: false, credentials: context.credentials, resilience: { timeoutMs: 10_000, baseDelayMs: 10, maxAttempts: 3 } },
    { name: 'offline', provider: new ProceduralSfxLibrary(), offline: true },
  ], new ProviderGuard());
}

test('through a chain: a 429 with Retry-After: 1 is waited for, then the stem is made', async () => {
  fake.failNext('rate-limited');
  const { member, value } = await chain(freesoundDescriptor.create(context)).run((m, guarded) => guarded((signal) => m.provider.renderStem(stem, out(), signal)));
  assert.equal(member.name, 'freesound');
  assert.equal(value.effectsPlaced, 3);
  const [first, second] = fake.searches;
  assert.ok(second!.at - first!.at >= 950, `waited ${second!.at - first!.at} ms`);
});

test('through a chain: Freesound down, the offline library makes the stem', async () => {
  fake.scenario = 'unauthorized';
  const fallbacks: Fallback[] = [];
  const { member, value } = await chain(freesoundDescriptor.create(context)).run((m, guarded) => guarded((signal) => m.provider.renderStem(stem, out(), signal)), { onFallback: (f) => fallbacks.push(f) });
  assert.equal(member.name, 'offline');
  assert.equal(value.effectsPlaced, 3);
  assert.equal(fallbacks[0]?.code, 'provider_auth');
});
