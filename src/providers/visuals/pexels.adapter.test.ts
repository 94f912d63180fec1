import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakePexels } from '../../../test/support/fake-pexels.js';
import { providerContext } from '../../../test/support/provider-context.js';
import { tempDir, visualFailureCases, visualRequest } from '../../../test/support/visual-cases.js';
import { ProviderError } from '../provider-error.js';
import { PexelsVisuals, pexelsDescriptor } from './pexels.adapter.js';

describe('pexels adapter', () => {
  let fake: FakePexels;
  let dir: string;
  const adapter = async (): Promise<PexelsVisuals> => new PexelsVisuals(await providerContext({ baseUrl: fake.url, apiKey: fake.apiKey, model: 'stock' }));
  const path = (link: string): string => new URL(link).pathname;

  before(async () => {
    fake = await FakePexels.start();
    dir = await tempDir();
  });
  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('prefer video: a clip long enough for the scene, picked by seed, its file nearest the frame, with attribution', async () => {
    const from = fake.served.videos.length;
    const result = await (await adapter()).generate(visualRequest({ prefer: 'video', durationSec: 4.5, seed: 42 }), dir);
    assert.ok(result.kind === 'video');
    assert.equal(dirname(result.path), dir);
    assert.deepEqual([result.width, result.height], [1280, 720]);
    assert.ok((result.durationSec ?? 0) > 0);
    assert.deepEqual(result.usage, { requests: 1 });
    // Videos 1000 and 1002 last 12 s, 1001 only 3 s: seed 42 takes the first of the two long ones.
    const chosen = fake.served.videos[from];
    assert.deepEqual(result.attribution, { source: 'Pexels', author: 'Videographer 1000', url: chosen?.page, licence: 'Pexels License' });
    assert.equal(fake.downloads.at(-1), path(chosen?.files.find((f) => f.quality === 'hd')?.link ?? ''));
    const search = fake.requests.at(-1);
    assert.equal(search?.path, '/videos/search');
    assert.equal(search?.headers.authorization, fake.apiKey);
    assert.deepEqual(Object.fromEntries(search?.query ?? []), { query: 'mountain backpack', orientation: 'landscape', size: 'small', per_page: '15' });
    assert.deepEqual(fake.unexpected, []);
  });

  test('the same seed picks the same result; another seed another', async () => {
    const a = await (await adapter()).generate(visualRequest({ prefer: 'image', seed: 7 }), dir);
    const b = await (await adapter()).generate(visualRequest({ prefer: 'image', seed: 7 }), dir);
    const c = await (await adapter()).generate(visualRequest({ prefer: 'image', seed: 8 }), dir);
    assert.ok(a.kind === 'image' && b.kind === 'image' && c.kind === 'image');
    assert.equal(a.attribution?.author, b.attribution?.author);
    assert.notEqual(a.attribution?.author, c.attribution?.author);
  });

  test('prefer image: a portrait photo for 9:16 (large2x), photographer credited', async () => {
    const from = fake.served.photos.length;
    const result = await (await adapter()).generate(visualRequest({ prefer: 'image', aspectRatio: '9:16', width: 720, height: 1280, seed: 1 }), dir);
    assert.ok(result.kind === 'image');
    assert.ok(result.height! > result.width!);
    assert.equal(fake.requests.at(-1)?.path, '/v1/search');
    assert.equal(fake.requests.at(-1)?.query.get('orientation'), 'portrait');
    const chosen = fake.served.photos[from + 1];
    assert.equal(fake.downloads.at(-1), path(chosen?.large2x ?? ''));
    assert.deepEqual(result.attribution, { source: 'Pexels', author: 'Photographer 2001', url: chosen?.page, licence: 'Pexels License' });
    assert.deepEqual(result.usage, { requests: 1 });
  });

  test('a 1080×1920 frame asks for Full HD and takes the original photo', async () => {
    const from = fake.served.photos.length;
    await (await adapter()).generate(visualRequest({ prefer: 'image', aspectRatio: '9:16', width: 1080, height: 1920, seed: 0 }), dir);
    assert.equal(fake.requests.at(-1)?.query.get('size'), 'medium');
    assert.equal(fake.downloads.at(-1), path(fake.served.photos[from]?.original ?? ''));
  });

  test('square frames search square media', async () => {
    const result = await (await adapter()).generate(visualRequest({ prefer: 'video', aspectRatio: '1:1', width: 1080, height: 1080 }), dir);
    assert.equal(fake.requests.at(-1)?.query.get('orientation'), 'square');
    assert.ok(result.kind === 'video' && result.width === result.height);
  });

  test('no clip found: a photo instead (two searches); nothing found: provider_failed naming the words', async () => {
    fake.noVideos = true;
    try {
      const result = await (await adapter()).generate(visualRequest({ prefer: 'video' }), dir);
      assert.ok(result.kind === 'image');
      assert.deepEqual(result.usage, { requests: 2 });
      fake.noPhotos = true;
      const error = await (await adapter()).generate(visualRequest({ prefer: 'video' }), dir).catch((e: unknown) => e);
      assert.ok(error instanceof ProviderError);
      assert.equal(error.code, 'provider_failed');
      assert.match(error.message, /no clip or photo found for "mountain backpack"/);
    } finally {
      fake.noVideos = false;
      fake.noPhotos = false;
    }
  });

  test('the prompt is searched when the scene has no keywords', async () => {
    await (await adapter()).generate(visualRequest({ keywords: [] }), dir);
    assert.equal(fake.requests.at(-1)?.query.get('query'), 'a solar backpack on a mountain trail');
  });

  test('the id and the probe (one search, with the quota left)', async () => {
    assert.equal((await adapter()).id, 'pexels:stock');
    const ctx = await providerContext({ baseUrl: fake.url, apiKey: fake.apiKey, model: 'stock' });
    assert.match(await pexelsDescriptor.probe(ctx, new AbortController().signal), /requests left/);
    assert.equal(fake.requests.at(-1)?.query.get('per_page'), '1');
  });
});

visualFailureCases(
  'pexels',
  async () => {
    const fake = await FakePexels.start();
    return { fake, model: 'stock', make: (ctx) => new PexelsVisuals(ctx) };
  },
  {
    longTasks: false,
    cases: [
      ['unauthorized', 'provider_auth'],
      ['server_error', 'provider_unavailable'],
      ['malformed', 'provider_bad_response'],
    ],
  },
);
