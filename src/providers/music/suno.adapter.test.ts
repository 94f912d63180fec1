import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { FakeSuno } from '../../../test/support/fake-suno.js';
import { providerContext } from '../../../test/support/provider-context.js';
import { AppError } from '../../contract/errors.js';
import { readWav } from '../../media/wav.js';
import { ProviderChain, type Fallback } from '../chain.js';
import type { ProviderContext } from '../provider.js';
import { ProviderGuard } from '../resilience.js';
import type { MusicComposer } from './music.port.js';
import { ProceduralComposer } from './procedural.adapter.js';
import { codeError, SUNO_PLACEHOLDER_CALLBACK, sunoDescriptor } from './suno.adapter.js';

const KEY = 'suno-key';
const dir = mkdtempSync(join(tmpdir(), 'aiprod-suno-'));
let fake: FakeSuno;
let context: ProviderContext;
let n = 0;
const out = (): string => join(dir, `bed-${n++}.wav`);
const request = { mood: 'dramatic' as const, brief: 'The last glacier: a short film about melting ice', durationSec: 8.25, seed: 1 };
const code = (expected: string) => (error: unknown) => error instanceof AppError && error.code === expected;

before(async () => {
  fake = await FakeSuno.start({ apiKey: KEY });
  context = await providerContext({ baseUrl: fake.url, apiKey: KEY, model: 'V4_5', settings: { SUNO_POLL_INTERVAL_MS: '20' } });
});
after(() => fake.close());
beforeEach(() => {
  fake.scenario = 'ok';
  fake.outcome = 'success';
  fake.track = 'long';
  fake.pollsToFinish = 4;
  fake.requests.length = 0;
});

test('starts an instrumental task, polls until a track is ready, fits it to the exact length', async () => {
  const composer = sunoDescriptor.create(context);
  assert.equal(composer.id, 'suno:V4_5');
  const r = await composer.compose(request, out());
  const wav = readWav(r.path);
  assert.equal(wav.sampleRate, 48_000);
  assert.equal(wav.channels, 2);
  assert.equal(wav.samples.length / 2, Math.round(8.25 * 48_000));
  assert.deepEqual(r.usage, { generations: 1 });
  assert.deepEqual([r.tempoBpm, r.key, r.progression], [0, 'unknown', []]);
  assert.match(r.attribution?.source ?? '', /Suno/);
  const [create, ...rest] = fake.requests;
  assert.equal(create?.path, '/api/v1/generate');
  const body = create?.body as Record<string, unknown>;
  assert.equal(body.customMode, true);
  assert.equal(body.instrumental, true);
  assert.equal(body.model, 'V4_5');
  assert.equal(body.callBackUrl, SUNO_PLACEHOLDER_CALLBACK);
  assert.match(String(body.style), /cinematic.*instrumental/);
  assert.equal(body.title, 'The last glacier: a short film about melting ice');
  const polls = rest.filter((q) => q.path === '/api/v1/generate/record-info');
  assert.equal(polls.length, 3, 'PENDING, TEXT_SUCCESS, then FIRST_SUCCESS with one track ready');
  assert.ok(rest.some((q) => q.path.startsWith('/files/')), 'the track is downloaded from its audioUrl');
  assert.deepEqual(fake.keysSeen.filter((k, i) => fake.requests[i]!.path.startsWith('/api/')), [KEY, KEY, KEY, KEY]);
  assert.deepEqual(fake.unexpected, []);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.suno-')), [], 'work files are removed');
});

test('a track shorter than the video is looped to the exact length', async () => {
  fake.track = 'short';
  const r = await sunoDescriptor.create(context).compose({ ...request, durationSec: 11 }, out());
  assert.equal(readWav(r.path).samples.length / 2, 11 * 48_000);
});

test('the gateway\'s HTTP-200 error codes and failed tasks map to ProviderError codes', async () => {
  const composer = sunoDescriptor.create(context);
  const cases = [
    ['unauthorized', 'provider_auth'],
    ['rate-limited', 'provider_rate_limited'],
    ['credits', 'provider_failed'],
    ['maintenance', 'provider_unavailable'],
    ['server-error', 'provider_unavailable'],
    ['http-429', 'provider_rate_limited'],
    ['http-500', 'provider_unavailable'],
    ['malformed', 'provider_bad_response'],
  ] as const;
  for (const [scenario, expected] of cases) {
    fake.scenario = scenario;
    await assert.rejects(composer.compose(request, out()), code(expected), scenario);
  }
  fake.scenario = 'ok';
  fake.outcome = 'audio-failed';
  await assert.rejects(composer.compose(request, out()), (e: unknown) => code('provider_failed')(e) && /GENERATE_AUDIO_FAILED/.test((e as Error).message));
  fake.outcome = 'sensitive';
  await assert.rejects(composer.compose(request, out()), code('provider_refused'));
  fake.outcome = 'callback-exception';
  const r = await composer.compose(request, out());
  assert.equal(readWav(r.path).samples.length / 2, Math.round(8.25 * 48_000), 'a failed callback still leaves the tracks');
  assert.equal(codeError(413, 'too long').code, 'provider_failed');
  assert.equal(codeError(400, 'lyrics contain copyrighted material').code, 'provider_refused');
});

test('a hang ends at the timeout; cancellation while polling is "aborted"', async () => {
  const composer = sunoDescriptor.create(context);
  fake.scenario = 'hang';
  await assert.rejects(composer.compose(request, out(), AbortSignal.timeout(300)), code('provider_timeout'));
  fake.scenario = 'ok';
  fake.pollsToFinish = 1000;
  const controller = new AbortController();
  const pending = composer.compose(request, out(), controller.signal);
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(pending, code('aborted'));
  assert.ok(fake.requests.filter((q) => q.path.endsWith('record-info')).length >= 2, 'it was polling');
});

test('probe: the remaining credits', async () => {
  assert.match(await sunoDescriptor.probe(context, AbortSignal.timeout(5000)), /100 credits/);
  fake.scenario = 'unauthorized';
  await assert.rejects(sunoDescriptor.probe(context, AbortSignal.timeout(5000)), code('provider_auth'));
});

function chain(composer: MusicComposer): ProviderChain<MusicComposer> {
  return new ProviderChain<MusicComposer>('score', [
    { name: 'suno', provider: composer, offline: false, credentials: context.credentials, resilience: { timeoutMs: 10_000, baseDelayMs: 10, maxAttempts: 3 } },
    { name: 'offline', provider: new ProceduralComposer(), offline: true },
  ], new ProviderGuard());
}

test('through a chain: an HTTP 429 with Retry-After: 1 is waited for, then the task runs', async () => {
  fake.failNext('http-429');
  const { member } = await chain(sunoDescriptor.create(context)).run((m, guarded) => guarded((signal) => m.provider.compose(request, out(), signal)));
  assert.equal(member.name, 'suno');
  const creates = fake.requests.filter((q) => q.path === '/api/v1/generate');
  assert.equal(creates.length, 2);
  assert.ok(creates[1]!.at - creates[0]!.at >= 950, `waited ${creates[1]!.at - creates[0]!.at} ms`);
});

test('through a chain: a refused prompt falls back to the offline composer', async () => {
  fake.outcome = 'sensitive';
  const fallbacks: Fallback[] = [];
  const { member } = await chain(sunoDescriptor.create(context)).run((m, guarded) => guarded((signal) => m.provider.compose(request, out(), signal)), { onFallback: (f) => fallbacks.push(f) });
  assert.equal(member.name, 'offline');
  assert.equal(fallbacks[0]?.code, 'provider_refused');
  assert.equal(fake.requests.filter((q) => q.path === '/api/v1/generate').length, 1, 'a refusal is not retried');
});
