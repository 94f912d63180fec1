/**
 * A local Gemini API (generativelanguage.googleapis.com) for Veo, following the Gemini API's REST
 * reference for video generation and what @google/genai 2.x sends and reads:
 * - the key as `x-goog-api-key` (or the `key` query parameter); a wrong key is
 *   400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID, as Google answers;
 * - POST /v1beta/models/{model}:predictLongRunning `{ instances: [{ prompt }], parameters:
 *   { sampleCount, durationSeconds, aspectRatio } }` → `{ name: "models/{model}/operations/{id}" }`;
 * - GET /v1beta/{operation name} → `{ name, done?: false }` while running, then `{ name, done: true,
 *   response: { "@type": …PredictLongRunningResponse, generateVideoResponse: { generatedSamples:
 *   [{ video: { uri } }] } } }`, or `{ done: true, error: { code, message } }`, or a response with
 *   `raiMediaFilteredCount` / `raiMediaFilteredReasons` when the safety filters removed the clip;
 * - GET /v1beta/files/{id}:download?alt=media (key required) → 302 to the file, as Google redirects;
 * - GET /v1beta/models/{model} → the model's metadata;
 * - errors `{ error: { code, message, status } }`.
 * Scenario `refused` filters the clip (raiMediaFilteredReasons); `task_failed` ends the operation with an error.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { FakeVendor, expect, type Answer, type RouteInput } from './fake-vendor.js';
import { clipSize, fakeClip } from './fake-media.js';

const STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 501: 'UNIMPLEMENTED' };

interface Operation {
  name: string;
  aspectRatio: string;
  polls: number;
  outcome: 'ok' | 'refused' | 'task_failed';
}

export class FakeVeo extends FakeVendor {
  readonly operations = new Map<string, Operation>();
  /** Bodies of predictLongRunning calls. */
  readonly started: Array<{ model: string; body: Record<string, unknown> }> = [];
  private readonly files = new Map<string, string>();

  static async start(apiKey = 'gemini-test-key'): Promise<FakeVeo> {
    const fake = new FakeVeo(apiKey);
    await fake.listen();
    return fake;
  }

  protected keyOf(req: IncomingMessage, query: URLSearchParams): string | undefined {
    const header = req.headers['x-goog-api-key'];
    return (typeof header === 'string' ? header : undefined) ?? query.get('key') ?? undefined;
  }

  protected authError(): Answer {
    return {
      status: 400,
      json: {
        error: {
          code: 400,
          message: 'API key not valid. Please pass a valid API key.',
          status: 'INVALID_ARGUMENT',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }],
        },
      },
    };
  }

  protected errorJson(status: number, message: string): unknown {
    return { error: { code: status, message, status: STATUS[status] ?? 'UNKNOWN' } };
  }

  protected async route(input: RouteInput): Promise<Answer | undefined> {
    const { method, path } = input;
    const start = /^\/v1beta\/models\/([\w.-]+):predictLongRunning$/.exec(path);
    if (method === 'POST' && start) return this.startOperation(start[1] ?? '', input);
    const op = /^\/v1beta\/(models\/[\w.-]+\/operations\/[\w-]+)$/.exec(path);
    if (method === 'GET' && op) return this.poll(op[1] ?? '');
    const file = /^\/v1beta\/files\/([\w-]+):download$/.exec(path);
    if (method === 'GET' && file) {
      expect(input.query.get('alt') === 'media', 'alt=media is required');
      const location = this.files.get(file[1] ?? '');
      return location ? { status: 302, headers: { location } } : { status: 404, json: this.errorJson(404, 'File not found') };
    }
    const model = /^\/v1beta\/models\/([\w.-]+)$/.exec(path);
    if (method === 'GET' && model) {
      return { status: 200, json: { name: `models/${model[1]}`, displayName: 'Veo 3 fast', supportedGenerationMethods: ['predictLongRunning'] } };
    }
    return undefined;
  }

  private startOperation(model: string, { body, scenario }: RouteInput): Answer {
    const b = (body ?? {}) as { instances?: Array<{ prompt?: unknown }>; parameters?: Record<string, unknown> };
    expect(model.startsWith('veo-'), `unknown model ${model}`);
    expect(typeof b.instances?.[0]?.prompt === 'string' && b.instances[0].prompt.length > 0, 'instances[0].prompt is required');
    const params = b.parameters ?? {};
    expect(params.aspectRatio === undefined || params.aspectRatio === '16:9' || params.aspectRatio === '9:16', `aspectRatio ${String(params.aspectRatio)} is not supported`);
    expect(params.durationSeconds === undefined || [4, 6, 8].includes(Number(params.durationSeconds)), `durationSeconds ${String(params.durationSeconds)} is not supported`);
    this.started.push({ model, body: b as Record<string, unknown> });
    const name = `models/${model}/operations/${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const outcome = scenario === 'refused' || scenario === 'task_failed' ? scenario : 'ok';
    this.operations.set(name, { name, aspectRatio: String(params.aspectRatio ?? '16:9'), polls: 0, outcome });
    return { status: 200, json: { name } };
  }

  private async poll(name: string): Promise<Answer> {
    const op = this.operations.get(name);
    if (!op) return { status: 404, json: this.errorJson(404, `Operation ${name} not found`) };
    op.polls += 1;
    if (op.polls <= this.runningPolls) return { status: 200, json: { name } };
    const type = 'type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse';
    if (op.outcome === 'task_failed') return { status: 200, json: { name, done: true, error: { code: 13, message: 'Video generation failed due to an internal error.' } } };
    if (op.outcome === 'refused') {
      return {
        status: 200,
        json: { name, done: true, response: { '@type': type, generateVideoResponse: { raiMediaFilteredCount: 1, raiMediaFilteredReasons: ['The prompt could not be submitted: it might violate our policies.'] } } },
      };
    }
    const { width, height } = clipSize(op.aspectRatio === '9:16' ? 9 / 16 : 16 / 9);
    const fileId = randomUUID().replace(/-/g, '').slice(0, 12);
    this.files.set(fileId, this.serve(await fakeClip(width, height), 'video/mp4', 'mp4'));
    const uri = `${this.url}/v1beta/files/${fileId}:download?alt=media`;
    return { status: 200, json: { name, done: true, response: { '@type': type, generateVideoResponse: { generatedSamples: [{ video: { uri } }] } } } };
  }
}
