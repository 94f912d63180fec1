/**
 * OpenAI image generation (gpt-image-1) through the official SDK: one still per scene, at the
 * size nearest the frame (1536×1024, 1024×1536 or 1024×1024), medium quality. GPT image models
 * always answer with base64 (`b64_json`), so there is nothing to download: the bytes are written
 * into the scene's directory and read back with ffprobe. Stills only, so `prefer` is ignored.
 *
 * A prompt the moderation refuses comes back as HTTP 400 with code `moderation_blocked`
 * (`content_policy_violation` for DALL·E): `provider_refused`.
 */
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { providerId, type ProviderContext, type ProviderDescriptor } from '../provider.js';
import { providerErrorFromSdk } from '../http.js';
import { ProviderError } from '../provider-error.js';
import type { VisualProvider, VisualRequest, VisualResult } from './visual.port.js';
import { closestShape, generationPrompt, ratioOf, saveVisual } from './visual-media.js';

const NAME = 'openai-images';
const SIZES = ['1536x1024', '1024x1536', '1024x1024'] as const;
const refused = (_status: number, body: string): boolean => /moderation_blocked|content_policy_violation/.test(body);

function sdkFailure(error: unknown, signal: AbortSignal): Error {
  if (error instanceof SyntaxError) return new ProviderError('provider_bad_response', NAME, `the answer is not JSON: ${error.message}`, { cause: error });
  return providerErrorFromSdk(NAME, error, signal, refused);
}

/** The SDK fills organization, project and an admin key from OPENAI_* variables when not given: a tenant's key must not carry the operator's. */
const client = (context: ProviderContext): OpenAI =>
  new OpenAI({ apiKey: context.credentials.apiKey, baseURL: context.credentials.baseUrl, maxRetries: 0, organization: null, project: null, adminAPIKey: null });

export class OpenAiImages implements VisualProvider {
  readonly id: string;
  private readonly client: OpenAI;

  constructor(private readonly context: ProviderContext) {
    this.id = providerId(NAME, context.model);
    this.client = client(context);
  }

  async generate(request: VisualRequest, dir: string, signal: AbortSignal = new AbortController().signal): Promise<VisualResult> {
    const size = closestShape(request.aspectRatio, SIZES, ratioOf);
    let b64: string | undefined;
    try {
      const answer = await this.client.images.generate({ model: this.context.model, prompt: generationPrompt(request), size, n: 1, quality: 'medium' }, { signal });
      b64 = answer.data?.[0]?.b64_json;
    } catch (error) {
      throw sdkFailure(error, signal);
    }
    if (!b64) throw new ProviderError('provider_bad_response', NAME, 'the answer has no image (data[0].b64_json)');
    const file = await saveVisual(NAME, this.context, Buffer.from(b64, 'base64'), `${request.sceneId}-${randomUUID()}.png`, dir, signal);
    return { kind: 'image', ...file, usage: { images: 1 } };
  }
}

export const openAiImagesDescriptor: ProviderDescriptor<VisualProvider> = {
  name: NAME,
  stage: 'visualize',
  vendor: 'OpenAI',
  keyEnv: 'OPENAI_API_KEY',
  tenantKey: 'openai',
  baseUrlEnv: 'OPENAI_BASE_URL',
  defaultBaseUrl: 'https://api.openai.com/v1',
  models: { standard: 'gpt-image-1', premium: 'gpt-image-1' },
  timeoutMs: 180_000,
  sends: "each scene's picture prompt and the storyboard's shared style words, and an image size",
  create: (context) => new OpenAiImages(context),
  async probe(context, signal) {
    try {
      const page = await client(context).models.list({ signal });
      const found = page.data.some((m) => m.id === context.model);
      return found ? `model ${context.model} available` : `key works; ${context.model} is not in the model list`;
    } catch (error) {
      throw sdkFailure(error, signal);
    }
  },
};
