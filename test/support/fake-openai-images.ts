/**
 * A local OpenAI API for image generation only (chat is test/support/fake-openai.ts), following
 * OpenAI's API reference and what the official `openai` SDK 6.x sends:
 * - `Authorization: Bearer <key>`; a wrong key is 401 `invalid_api_key` with the key masked in
 *   the message, as OpenAI answers;
 * - POST /v1/images/generations `{ model, prompt, size, n, quality }` → `{ created, data:
 *   [{ b64_json }], background, output_format, quality, size, usage }` (GPT image models always
 *   answer base64; a PNG of exactly the size asked);
 * - GET /v1/models → `{ object: "list", data: [{ id, object: "model", created, owned_by }] }`;
 * - errors `{ error: { message, type, param, code } }`; 429 with Retry-After.
 * Scenario `refused` is the moderation's 400 `moderation_blocked`; `task_failed` a 400 the
 * request cannot get past (`billing_hard_limit_reached`).
 */
import type { IncomingMessage } from 'node:http';
import { FakeVendor, expect, type Answer, type RouteInput } from './fake-vendor.js';
import { fakeImage } from './fake-media.js';

const SIZES = ['1024x1024', '1536x1024', '1024x1536', 'auto'];

export class FakeOpenAiImages extends FakeVendor {
  /** Bodies of the generation calls, in order. */
  readonly generated: Array<Record<string, unknown>> = [];

  static async start(apiKey = 'sk-test-images-key'): Promise<FakeOpenAiImages> {
    const fake = new FakeOpenAiImages(apiKey);
    await fake.listen();
    return fake;
  }

  private lastKey = '';

  protected keyOf(req: IncomingMessage): string | undefined {
    const auth = req.headers.authorization;
    const key = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    this.lastKey = key ?? '';
    return key;
  }

  protected authError(): Answer {
    const masked = this.lastKey.length > 8 ? `${this.lastKey.slice(0, 3)}*********${this.lastKey.slice(-4)}` : '';
    return {
      status: 401,
      json: {
        error: {
          message: `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      },
    };
  }

  protected errorJson(status: number, message: string): unknown {
    return { error: { message, type: status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code: null } };
  }

  protected async route({ method, path, body, scenario }: RouteInput): Promise<Answer | undefined> {
    if (method === 'GET' && path === '/v1/models') {
      return { status: 200, json: { object: 'list', data: [{ id: 'gpt-image-1', object: 'model', created: 1745000000, owned_by: 'system' }, { id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' }] } };
    }
    if (method !== 'POST' || path !== '/v1/images/generations') return undefined;
    const b = (body ?? {}) as Record<string, unknown>;
    expect(b.model === 'gpt-image-1' || b.model === 'dall-e-3', `unknown model ${String(b.model)}`);
    expect(typeof b.prompt === 'string' && b.prompt.length > 0 && b.prompt.length <= 32_000, 'prompt must be 1-32000 characters');
    expect(b.size === undefined || SIZES.includes(String(b.size)), `size ${String(b.size)} is not supported`);
    expect(b.n === undefined || b.n === 1, 'n must be 1 here');
    expect(b.quality === undefined || ['low', 'medium', 'high', 'auto'].includes(String(b.quality)), `quality ${String(b.quality)} is not supported`);
    expect(b.response_format === undefined, 'response_format is not supported for gpt-image-1');
    this.generated.push(b);
    if (scenario === 'refused') {
      return {
        status: 400,
        json: { error: { message: 'Your request was rejected as a result of our safety system. Your request may contain content that is not allowed by our safety system.', type: 'image_generation_user_error', param: null, code: 'moderation_blocked' } },
      };
    }
    if (scenario === 'task_failed') {
      return { status: 400, json: { error: { message: 'Billing hard limit has been reached.', type: 'invalid_request_error', param: null, code: 'billing_hard_limit_reached' } } };
    }
    const [width, height] = String(b.size && b.size !== 'auto' ? b.size : '1024x1024').split('x').map(Number);
    const png = await fakeImage('png', width ?? 1024, height ?? 1024);
    return {
      status: 200,
      json: {
        created: Math.floor(Date.now() / 1000),
        background: 'opaque',
        data: [{ b64_json: png.toString('base64') }],
        output_format: 'png',
        quality: b.quality ?? 'auto',
        size: b.size ?? '1024x1024',
        usage: { input_tokens: 20, input_tokens_details: { image_tokens: 0, text_tokens: 20 }, output_tokens: 1056, total_tokens: 1076 },
      },
    };
  }
}
