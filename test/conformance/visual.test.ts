/**
 * The VisualProvider conformance suite on the offline provider and on each cloud adapter against
 * its local fake (real media, real ffprobe; no network).
 */
import { ProceduralVisuals } from '../../src/providers/visuals/procedural.adapter.js';
import { OpenAiImages } from '../../src/providers/visuals/openai-images.adapter.js';
import { PexelsVisuals } from '../../src/providers/visuals/pexels.adapter.js';
import { ReplicateVisuals } from '../../src/providers/visuals/replicate.adapter.js';
import { RunwayVisuals } from '../../src/providers/visuals/runway.adapter.js';
import { VeoVisuals } from '../../src/providers/visuals/veo.adapter.js';
import type { VisualProvider } from '../../src/providers/visuals/visual.port.js';
import type { ProviderContext } from '../../src/providers/provider.js';
import { FakeOpenAiImages } from '../support/fake-openai-images.js';
import { FakePexels } from '../support/fake-pexels.js';
import { FakeReplicate } from '../support/fake-replicate.js';
import { FakeRunway } from '../support/fake-runway.js';
import type { FakeVendor } from '../support/fake-vendor.js';
import { FakeVeo } from '../support/fake-veo.js';
import { providerContext } from '../support/provider-context.js';
import { visualConformance, type VisualSubject } from './visual.conformance.js';

visualConformance('offline (procedural)', async () => ({ provider: new ProceduralVisuals() }));

/** A cloud adapter on its fake: the right key, a wrong one, and a way to make the fake hang. */
async function onFake(
  fake: FakeVendor,
  model: string,
  make: (context: ProviderContext) => VisualProvider,
  options: { basePath?: string; stock?: boolean; settings?: Record<string, string> } = {},
): Promise<VisualSubject> {
  const baseUrl = `${fake.url}${options.basePath ?? ''}`;
  const context = (apiKey: string): Promise<ProviderContext> => providerContext({ baseUrl, apiKey, model, settings: options.settings });
  return {
    provider: make(await context(fake.apiKey)),
    withWrongKey: make(await context('not-the-right-key')),
    stall: () => {
      fake.scenario = 'hang';
      return () => {
        fake.scenario = 'ok';
      };
    },
    stock: options.stock,
    close: () => fake.close(),
  };
}

visualConformance('runway (gen4_turbo, on its fake)', async () => onFake(await FakeRunway.start(), 'gen4_turbo', (ctx) => new RunwayVisuals(ctx, { pollIntervalMs: 5 })));
visualConformance('runway (gen4_image, on its fake)', async () => onFake(await FakeRunway.start(), 'gen4_image', (ctx) => new RunwayVisuals(ctx, { pollIntervalMs: 5 })));
visualConformance('veo (on its fake)', async () => onFake(await FakeVeo.start(), 'veo-3.0-fast-generate-001', (ctx) => new VeoVisuals(ctx, { pollIntervalMs: 5 })));
visualConformance('pexels (on its fake)', async () => onFake(await FakePexels.start(), 'stock', (ctx) => new PexelsVisuals(ctx), { stock: true }));
visualConformance('replicate (flux-schnell and a video model, on its fake)', async () =>
  onFake(await FakeReplicate.start(), 'black-forest-labs/flux-schnell', (ctx) => new ReplicateVisuals(ctx, { pollIntervalMs: 5 }), {
    settings: { REPLICATE_VIDEO_MODEL: 'acme/text-to-video' },
  }),
);
visualConformance('openai-images (on its fake)', async () => onFake(await FakeOpenAiImages.start(), 'gpt-image-1', (ctx) => new OpenAiImages(ctx), { basePath: '/v1' }));
