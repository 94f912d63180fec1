import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeVeo } from '../../../test/support/fake-veo.js';
import { providerContext } from '../../../test/support/provider-context.js';
import { tempDir, visualFailureCases, visualRequest } from '../../../test/support/visual-cases.js';
import { VeoVisuals, veoDescriptor } from './veo.adapter.js';

const MODEL = 'veo-3.0-fast-generate-001';

describe('veo adapter', () => {
  let fake: FakeVeo;
  let dir: string;
  const adapter = async (): Promise<VeoVisuals> => new VeoVisuals(await providerContext({ baseUrl: fake.url, apiKey: fake.apiKey, model: MODEL }), { pollIntervalMs: 5 });

  before(async () => {
    fake = await FakeVeo.start();
    dir = await tempDir();
  });
  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a clip from the prompt and the shared style, the shortest length ≥ the scene, downloaded with the key', async () => {
    const result = await (await adapter()).generate(visualRequest({ durationSec: 4.5, prefer: 'image' }), dir);
    assert.ok(result.kind === 'video');
    assert.equal(dirname(result.path), dir);
    assert.deepEqual([result.width, result.height], [1280, 720]);
    assert.ok((result.durationSec ?? 0) > 0);
    assert.deepEqual(result.usage, { secondsOfVideo: 6 });
    assert.deepEqual(fake.started.at(-1), {
      model: MODEL,
      body: { instances: [{ prompt: 'a solar backpack on a mountain trail, warm golden light, flat illustration' }], parameters: { sampleCount: 1, durationSeconds: 6, aspectRatio: '16:9' } },
    });
    const download = fake.calls(/^GET \/v1beta\/files\//).at(-1);
    assert.equal(download?.key, fake.apiKey);
    assert.equal(download?.query.get('alt'), 'media');
    // The API calls carry the key in the header, not the URL.
    assert.equal(fake.calls(/predictLongRunning/).at(-1)?.query.get('key'), null);
    assert.deepEqual(fake.unexpected, []);
  });

  test('portrait frames ask for 9:16, square ones the nearest (16:9); long scenes the longest (8 s)', async () => {
    const portrait = await (await adapter()).generate(visualRequest({ aspectRatio: '9:16', durationSec: 12 }), dir);
    assert.ok(portrait.kind === 'video' && portrait.height! > portrait.width!);
    const params = (fake.started.at(-1)?.body.parameters ?? {}) as Record<string, unknown>;
    assert.equal(params.aspectRatio, '9:16');
    assert.equal(params.durationSeconds, 8);
    assert.deepEqual(portrait.usage, { secondsOfVideo: 8 });
    await (await adapter()).generate(visualRequest({ aspectRatio: '1:1', durationSec: 2 }), dir);
    const square = (fake.started.at(-1)?.body.parameters ?? {}) as Record<string, unknown>;
    assert.equal(square.durationSeconds, 4);
  });

  test('the id and the probe (models.get)', async () => {
    assert.equal((await adapter()).id, `veo:${MODEL}`);
    const ctx = await providerContext({ baseUrl: fake.url, apiKey: fake.apiKey, model: MODEL });
    assert.match(await veoDescriptor.probe(ctx, new AbortController().signal), /available/);
    assert.equal(fake.requests.at(-1)?.path, `/v1beta/models/${MODEL}`);
  });
});

visualFailureCases('veo', async () => {
  const fake = await FakeVeo.start();
  return { fake, model: MODEL, make: (ctx) => new VeoVisuals(ctx, { pollIntervalMs: 5 }) };
});
