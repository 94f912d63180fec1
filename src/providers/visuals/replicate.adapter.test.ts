import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../contract/errors.js';
import { FakeReplicate } from '../../../test/support/fake-replicate.js';
import { providerContext } from '../../../test/support/provider-context.js';
import { tempDir, visualFailureCases, visualRequest } from '../../../test/support/visual-cases.js';
import { ProviderError } from '../provider-error.js';
import { ReplicateVisuals, replicateDescriptor } from './replicate.adapter.js';

const SCHNELL = 'black-forest-labs/flux-schnell';
const PRO = 'black-forest-labs/flux-1.1-pro';

describe('replicate adapter', () => {
  let fake: FakeReplicate;
  let dir: string;
  const adapter = async (model = SCHNELL, settings: Record<string, string | undefined> = {}): Promise<ReplicateVisuals> =>
    new ReplicateVisuals(await providerContext({ baseUrl: fake.url, apiKey: fake.apiKey, model, settings }), { pollIntervalMs: 5 });

  before(async () => {
    fake = await FakeReplicate.start();
    dir = await tempDir();
  });
  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('FLUX schnell: a still from the prompt and the shared style, frame shape and seed, polled (no Prefer: wait)', async () => {
    const result = await (await adapter()).generate(visualRequest(), dir);
    assert.ok(result.kind === 'image');
    assert.equal(dirname(result.path), dir);
    assert.deepEqual([result.width, result.height], [1024, 576]);
    assert.deepEqual(result.usage, { images: 1 });
    const created = fake.created.at(-1);
    assert.equal(created?.model, SCHNELL);
    assert.equal(created?.prefer, undefined);
    assert.deepEqual(created?.body, {
      input: { prompt: 'a solar backpack on a mountain trail, warm golden light, flat illustration', aspect_ratio: '16:9', seed: 42, output_format: 'png' },
    });
    assert.ok(fake.calls(/^GET \/v1\/predictions\//).length >= 1);
    assert.deepEqual(fake.unexpected, []);
  });

  test('FLUX 1.1 pro (one URL, not a list) with a 4:5 frame', async () => {
    const result = await (await adapter(PRO)).generate(visualRequest({ aspectRatio: '4:5' }), dir);
    assert.ok(result.kind === 'image');
    assert.equal(fake.created.at(-1)?.model, PRO);
    assert.equal((fake.created.at(-1)?.body.input as Record<string, unknown>).aspect_ratio, '4:5');
    assert.ok(result.height! > result.width!);
  });

  test('a pinned model (REPLICATE_IMAGE_MODEL, through the registry) names the id; owner/name:version goes by version', async () => {
    assert.equal(replicateDescriptor.modelEnv, 'REPLICATE_IMAGE_MODEL');
    const version = '5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637';
    const pinned = await adapter(`${SCHNELL}:${version}`);
    assert.equal(pinned.id, `replicate:${SCHNELL}:${version}`);
    await pinned.generate(visualRequest(), dir);
    const last = fake.requests.filter((r) => r.method === 'POST').at(-1);
    assert.equal(last?.path, '/v1/predictions');
    assert.equal((last?.body as Record<string, unknown>).version, version);
  });

  test('REPLICATE_VIDEO_MODEL makes a clip when the scene prefers one; otherwise a still', async () => {
    const settings = { REPLICATE_VIDEO_MODEL: 'acme/text-to-video' };
    const clip = await (await adapter(SCHNELL, settings)).generate(visualRequest({ prefer: 'video', aspectRatio: '9:16' }), dir);
    assert.ok(clip.kind === 'video');
    assert.deepEqual([clip.width, clip.height], [720, 1280]);
    assert.ok((clip.durationSec ?? 0) > 2.5);
    assert.ok((clip.usage.secondsOfVideo ?? 0) > 2.5);
    assert.deepEqual(fake.created.at(-1), { model: 'acme/text-to-video', body: { input: { prompt: 'a solar backpack on a mountain trail, warm golden light, flat illustration', aspect_ratio: '9:16' } }, prefer: undefined });
    const still = await (await adapter(SCHNELL, settings)).generate(visualRequest({ prefer: 'image' }), dir);
    assert.equal(still.kind, 'image');
    const noVideoModel = await (await adapter()).generate(visualRequest({ prefer: 'video' }), dir);
    assert.equal(noVideoModel.kind, 'image');
  });

  test("the SDK's own retries never fire: one 429, one 5xx on a poll, one request each", async () => {
    let from = fake.requests.length;
    fake.next.push('rate_limited');
    const limited = await (await adapter()).generate(visualRequest(), dir).catch((e: unknown) => e);
    assert.ok(limited instanceof ProviderError && limited.code === 'provider_rate_limited' && limited.retryAfterMs === 1000);
    assert.match(limited.message, /HTTP 429\): Too many requests, slow down$/);
    assert.equal(fake.requests.length - from, 1);
    from = fake.requests.length;
    fake.next.push('ok', 'server_error');
    const down = await (await adapter()).generate(visualRequest(), dir).catch((e: unknown) => e);
    assert.ok(down instanceof ProviderError && down.code === 'provider_unavailable', String(down));
    assert.equal(fake.requests.length - from, 2);
  });

  test('cancelling a running prediction cancels it at Replicate too', async () => {
    fake.runningPolls = 1_000_000;
    try {
      const controller = new AbortController();
      const pending = (await adapter()).generate(visualRequest(), dir, controller.signal);
      setTimeout(() => controller.abort(), 100);
      const error = await pending.catch((e: unknown) => e);
      assert.ok(error instanceof AppError && error.code === 'aborted');
      for (let i = 0; i < 100 && fake.calls(/\/cancel$/).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(fake.calls(/\/cancel$/).length, 1);
    } finally {
      fake.runningPolls = 1;
    }
  });

  test('the id and the probe (GET /v1/account)', async () => {
    assert.equal((await adapter()).id, `replicate:${SCHNELL}`);
    const ctx = await providerContext({ baseUrl: fake.url, apiKey: fake.apiKey, model: SCHNELL });
    assert.match(await replicateDescriptor.probe(ctx, new AbortController().signal), /aiprod-test/);
    assert.equal(fake.requests.at(-1)?.path, '/v1/account');
  });
});

visualFailureCases('replicate', async () => {
  const fake = await FakeReplicate.start();
  return { fake, model: SCHNELL, make: (ctx) => new ReplicateVisuals(ctx, { pollIntervalMs: 5 }) };
});
