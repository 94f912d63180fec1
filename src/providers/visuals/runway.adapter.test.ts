import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../contract/errors.js';
import { FakeRunway } from '../../../test/support/fake-runway.js';
import { providerContext } from '../../../test/support/provider-context.js';
import { tempDir, visualFailureCases, visualRequest } from '../../../test/support/visual-cases.js';
import { RunwayVisuals, runwayDescriptor } from './runway.adapter.js';

describe('runway adapter', () => {
  let fake: FakeRunway;
  let dir: string;
  const adapter = async (model: string): Promise<RunwayVisuals> =>
    new RunwayVisuals(await providerContext({ baseUrl: fake.url, apiKey: fake.apiKey, model }), { pollIntervalMs: 5 });

  before(async () => {
    fake = await FakeRunway.start();
    dir = await tempDir();
  });
  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('standard: Gen-4 Image makes a still from the prompt and the shared style', async () => {
    const result = await (await adapter('gen4_image')).generate(visualRequest(), dir);
    assert.ok(result.kind === 'image');
    assert.equal(dirname(result.path), dir);
    assert.deepEqual([result.width, result.height], [1024, 576]);
    assert.deepEqual(result.usage, { images: 1 });
    const created = fake.created.at(-1);
    assert.equal(created?.path, '/v1/text_to_image');
    assert.deepEqual(created?.body, { model: 'gen4_image', promptText: 'a solar backpack on a mountain trail, warm golden light, flat illustration', ratio: '1920:1080', seed: 42 });
    assert.ok(fake.keysSeen.every((k) => k === fake.apiKey));
    assert.deepEqual(fake.unexpected, []);
  });

  test('standard: a clip is not offered, so prefer video still gets a still', async () => {
    const result = await (await adapter('gen4_image')).generate(visualRequest({ prefer: 'video' }), dir);
    assert.equal(result.kind, 'image');
  });

  test('the frame shape picks the nearest ratio: 9:16 portrait, 4:5 → 1080:1440', async () => {
    const portrait = await (await adapter('gen4_image')).generate(visualRequest({ aspectRatio: '9:16', width: 720, height: 1280 }), dir);
    assert.equal(fake.created.at(-1)?.body.ratio, '1080:1920');
    assert.ok(portrait.kind === 'image' && portrait.height! > portrait.width!);
    await (await adapter('gen4_image')).generate(visualRequest({ aspectRatio: '4:5' }), dir);
    assert.equal(fake.created.at(-1)?.body.ratio, '1080:1440');
  });

  test('premium: the still is animated by Gen-4 Turbo (its URL as promptImage), shortest length ≥ the scene', async () => {
    const from = fake.created.length;
    const result = await (await adapter('gen4_turbo')).generate(visualRequest({ prefer: 'video', durationSec: 4.5 }), dir);
    assert.ok(result.kind === 'video');
    assert.equal(dirname(result.path), dir);
    assert.deepEqual([result.width, result.height], [1280, 720]);
    assert.ok((result.durationSec ?? 0) > 0);
    assert.deepEqual(result.usage, { images: 1, secondsOfVideo: 5 });
    const [image, video] = fake.created.slice(from);
    assert.equal(image?.path, '/v1/text_to_image');
    assert.equal(video?.path, '/v1/image_to_video');
    assert.equal(video?.body.model, 'gen4_turbo');
    assert.equal(video?.body.ratio, '1280:720');
    assert.equal(video?.body.duration, 5);
    assert.match(String(video?.body.promptImage), /^http:\/\/127\.0\.0\.1:\d+\/media\/.+\.png$/);
    // A scene longer than Runway's longest clip asks for the longest (10 s); the pipeline loops it.
    await (await adapter('gen4_turbo')).generate(visualRequest({ prefer: 'video', durationSec: 14 }), dir);
    assert.equal(fake.created.at(-1)?.body.duration, 10);
  });

  test('premium with prefer image makes only the still', async () => {
    const result = await (await adapter('gen4_turbo')).generate(visualRequest({ prefer: 'image' }), dir);
    assert.equal(result.kind, 'image');
    assert.deepEqual(result.usage, { images: 1 });
  });

  test('a cancelled render cancels its running task at Runway', async () => {
    fake.runningPolls = 1_000_000;
    try {
      const controller = new AbortController();
      const pending = (await adapter('gen4_image')).generate(visualRequest(), dir, controller.signal);
      setTimeout(() => controller.abort(), 100);
      const error = await pending.catch((e: unknown) => e);
      assert.ok(error instanceof AppError && error.code === 'aborted');
      for (let i = 0; i < 100 && fake.cancelled.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(fake.cancelled.length, 1);
    } finally {
      fake.runningPolls = 1;
    }
  });

  test('the id is runway:<model>, and probe reads the organization', async () => {
    assert.equal((await adapter('gen4_turbo')).id, 'runway:gen4_turbo');
    const ctx = await providerContext({ baseUrl: fake.url, apiKey: fake.apiKey, model: 'gen4_image' });
    assert.match(await runwayDescriptor.probe(ctx, new AbortController().signal), /1200 credits/);
    assert.equal(fake.requests.at(-1)?.path, '/v1/organization');
  });
});

visualFailureCases('runway', async () => {
  const fake = await FakeRunway.start();
  return { fake, model: 'gen4_image', make: (ctx) => new RunwayVisuals(ctx, { pollIntervalMs: 5 }) };
});
