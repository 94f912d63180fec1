import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeOpenAiImages } from '../../../test/support/fake-openai-images.js';
import { providerContext } from '../../../test/support/provider-context.js';
import { tempDir, visualFailureCases, visualRequest } from '../../../test/support/visual-cases.js';
import { OpenAiImages, openAiImagesDescriptor } from './openai-images.adapter.js';

describe('openai-images adapter', () => {
  let fake: FakeOpenAiImages;
  let dir: string;
  const adapter = async (): Promise<OpenAiImages> => new OpenAiImages(await providerContext({ baseUrl: `${fake.url}/v1`, apiKey: fake.apiKey, model: 'gpt-image-1' }));

  before(async () => {
    fake = await FakeOpenAiImages.start();
    dir = await tempDir();
  });
  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a still from the prompt and the shared style at the nearest size, written from base64 as PNG', async () => {
    const result = await (await adapter()).generate(visualRequest({ prefer: 'video' }), dir);
    assert.ok(result.kind === 'image');
    assert.equal(dirname(result.path), dir);
    assert.match(basename(result.path), /^s1-.+\.png$/);
    assert.deepEqual([result.width, result.height], [1536, 1024]);
    assert.deepEqual(result.usage, { images: 1 });
    assert.deepEqual(fake.generated.at(-1), {
      model: 'gpt-image-1',
      prompt: 'a solar backpack on a mountain trail, warm golden light, flat illustration',
      size: '1536x1024',
      n: 1,
      quality: 'medium',
    });
    assert.deepEqual(fake.unexpected, []);
  });

  test('portrait and 4:5 frames take 1024×1536, square ones 1024×1024', async () => {
    for (const [aspectRatio, size] of [['9:16', '1024x1536'], ['4:5', '1024x1536'], ['1:1', '1024x1024']] as const) {
      const result = await (await adapter()).generate(visualRequest({ aspectRatio }), dir);
      assert.equal(fake.generated.at(-1)?.size, size);
      assert.ok(result.kind === 'image');
      assert.equal(`${result.width}x${result.height}`, size);
    }
  });

  test("the operator's OPENAI_ORG_ID / OPENAI_PROJECT_ID are not sent with the context's key", async () => {
    process.env.OPENAI_ORG_ID = 'org-operator';
    process.env.OPENAI_PROJECT_ID = 'proj-operator';
    try {
      await (await adapter()).generate(visualRequest(), dir);
    } finally {
      delete process.env.OPENAI_ORG_ID;
      delete process.env.OPENAI_PROJECT_ID;
    }
    const headers = fake.requests.at(-1)?.headers ?? {};
    assert.equal(headers['openai-organization'], undefined);
    assert.equal(headers['openai-project'], undefined);
    assert.equal(headers.authorization, `Bearer ${fake.apiKey}`);
  });

  test('the id and the probe (models.list)', async () => {
    assert.equal((await adapter()).id, 'openai-images:gpt-image-1');
    const ctx = await providerContext({ baseUrl: `${fake.url}/v1`, apiKey: fake.apiKey, model: 'gpt-image-1' });
    assert.equal(await openAiImagesDescriptor.probe(ctx, new AbortController().signal), 'model gpt-image-1 available');
  });
});

visualFailureCases('openai-images', async () => {
  const fake = await FakeOpenAiImages.start();
  // OPENAI_BASE_URL is the API root with /v1.
  return { fake, model: 'gpt-image-1', basePath: '/v1', make: (ctx) => new OpenAiImages(ctx) };
}, { longTasks: false });
