/**
 * A local Replicate API (api.replicate.com) for tests, following Replicate's HTTP API reference
 * and what the official `replicate` client 1.x sends:
 * - `Authorization: Bearer <token>`; a wrong token is 401 with Replicate's problem JSON
 *   `{ title, detail, status }` (every error has that shape; 429 adds Retry-After);
 * - POST /v1/models/{owner}/{name}/predictions `{ input }` and POST /v1/predictions
 *   `{ version, input }` → 201 with the prediction `{ id, model, version, input, status: "starting",
 *   output: null, error: null, logs, created_at, urls: { get, cancel } }`;
 * - GET /v1/predictions/{id}: status starting → processing → succeeded (`output`: a list of URLs
 *   for flux-schnell, one URL for flux-1.1-pro and video models) or failed (`error`);
 * - POST /v1/predictions/{id}/cancel → the prediction, `canceled`;
 * - GET /v1/account → `{ type, username, name, github_url }`;
 * - an unknown model is 404; input that the model's schema refuses is 422.
 * Scenario `refused` fails the prediction with the NSFW checker's message; `task_failed` with a
 * model error. Outputs are real media shaped by `aspect_ratio`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { FakeVendor, expect, type Answer, type RouteInput } from './fake-vendor.js';
import { clipSize, fakeClip, fakeImage, stillSize } from './fake-media.js';

const FLUX_RATIOS = ['1:1', '16:9', '21:9', '3:2', '2:3', '4:5', '5:4', '3:4', '4:3', '9:16', '9:21'];

interface Model {
  kind: 'image' | 'video';
  /** The output is a list of URLs (flux-schnell) or one URL. */
  list: boolean;
}

interface Prediction {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  kind: 'image' | 'video';
  list: boolean;
  polls: number;
  outcome: 'ok' | 'refused' | 'task_failed';
  canceled: boolean;
  output?: string;
}

export class FakeReplicate extends FakeVendor {
  readonly models = new Map<string, Model>([
    ['black-forest-labs/flux-schnell', { kind: 'image', list: true }],
    ['black-forest-labs/flux-1.1-pro', { kind: 'image', list: false }],
    ['acme/text-to-video', { kind: 'video', list: false }],
  ]);
  /** Version id → model name, for `owner/name:version` references. */
  readonly versions = new Map<string, string>([['5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637', 'black-forest-labs/flux-schnell']]);
  readonly predictions = new Map<string, Prediction>();
  /** The create calls, in order. */
  readonly created: Array<{ model: string; body: Record<string, unknown>; prefer?: string }> = [];

  static async start(apiKey = 'r8_test_token'): Promise<FakeReplicate> {
    const fake = new FakeReplicate(apiKey);
    await fake.listen();
    return fake;
  }

  protected keyOf(req: IncomingMessage): string | undefined {
    const auth = req.headers.authorization;
    return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
  }

  protected authError(): Answer {
    return { status: 401, json: { title: 'Unauthenticated', detail: 'You did not pass a valid authentication token', status: 401 } };
  }

  protected errorJson(status: number, message: string): unknown {
    return { title: status === 429 ? 'Request was throttled.' : 'Error', detail: message, status };
  }

  protected async route(input: RouteInput): Promise<Answer | undefined> {
    const { method, path } = input;
    const byModel = /^\/v1\/models\/([\w.-]+\/[\w.-]+)\/predictions$/.exec(path);
    if (method === 'POST' && byModel) return this.create(byModel[1] ?? '', input);
    if (method === 'POST' && path === '/v1/predictions') {
      const version = String((input.body as { version?: unknown } | undefined)?.version ?? '');
      const model = this.versions.get(version);
      if (!model) return { status: 422, json: { title: 'Invalid version or not permitted', detail: 'The specified version does not exist (or perhaps you don\'t have permission to use it?)', status: 422 } };
      return this.create(model, input, version);
    }
    const get = /^\/v1\/predictions\/([\w-]+)$/.exec(path);
    if (method === 'GET' && get) return this.poll(get[1] ?? '');
    const cancel = /^\/v1\/predictions\/([\w-]+)\/cancel$/.exec(path);
    if (method === 'POST' && cancel) {
      const p = this.predictions.get(cancel[1] ?? '');
      if (!p) return { status: 404, json: this.errorJson(404, 'The requested resource could not be found.') };
      p.canceled = true;
      return { status: 200, json: this.view(p, 'canceled') };
    }
    if (method === 'GET' && path === '/v1/account') return { status: 200, json: { type: 'user', username: 'aiprod-test', name: 'AIPROD Test', github_url: null } };
    return undefined;
  }

  private create(model: string, { body, headers, scenario }: RouteInput, version = ''): Answer {
    const spec = this.models.get(model);
    if (!spec) return { status: 404, json: this.errorJson(404, 'The requested resource could not be found.') };
    const b = (body ?? {}) as { input?: Record<string, unknown> };
    const input = b.input ?? {};
    expect(typeof input.prompt === 'string' && input.prompt.length > 0, 'input.prompt is required');
    if (spec.kind === 'image') {
      expect(input.aspect_ratio === undefined || FLUX_RATIOS.includes(String(input.aspect_ratio)), `input.aspect_ratio ${String(input.aspect_ratio)} is not allowed`);
      expect(input.output_format === undefined || ['webp', 'jpg', 'png'].includes(String(input.output_format)), 'input.output_format must be webp, jpg or png');
      expect(input.seed === undefined || Number.isInteger(input.seed), 'input.seed must be an integer');
    }
    const prefer = headers.prefer;
    this.created.push({ model, body: b as Record<string, unknown>, prefer: typeof prefer === 'string' ? prefer : undefined });
    const id = randomUUID().replace(/-/g, '').slice(0, 26);
    const outcome = scenario === 'refused' || scenario === 'task_failed' ? scenario : 'ok';
    const p: Prediction = { id, model, version, input, kind: spec.kind, list: spec.list, polls: 0, outcome, canceled: false };
    this.predictions.set(id, p);
    return { status: 201, json: this.view(p, 'starting') };
  }

  private async poll(id: string): Promise<Answer> {
    const p = this.predictions.get(id);
    if (!p) return { status: 404, json: this.errorJson(404, 'The requested resource could not be found.') };
    if (p.canceled) return { status: 200, json: this.view(p, 'canceled') };
    p.polls += 1;
    if (p.polls <= this.runningPolls) return { status: 200, json: this.view(p, 'processing') };
    if (p.outcome === 'refused') return { status: 200, json: this.view(p, 'failed', 'NSFW content detected. Try running it again, or try a different prompt.') };
    if (p.outcome === 'task_failed') return { status: 200, json: this.view(p, 'failed', 'CUDA error: an illegal memory access was encountered') };
    if (!p.output) {
      const [w, h] = String(p.input.aspect_ratio ?? '1:1').split(':').map(Number);
      const shape = (w ?? 1) / (h ?? 1);
      if (p.kind === 'image') {
        const { width, height } = stillSize(shape);
        p.output = this.serve(await fakeImage('png', width, height), 'image/png', 'png');
      } else {
        const { width, height } = clipSize(shape);
        p.output = this.serve(await fakeClip(width, height), 'video/mp4', 'mp4');
      }
    }
    return { status: 200, json: this.view(p, 'succeeded') };
  }

  private view(p: Prediction, status: string, error: string | null = null): unknown {
    const output = status === 'succeeded' ? (p.list ? [p.output] : p.output) : null;
    return {
      id: p.id,
      model: p.model,
      version: p.version || 'hidden',
      input: p.input,
      logs: '',
      output,
      data_removed: false,
      error,
      status,
      source: 'api',
      created_at: new Date().toISOString(),
      metrics: status === 'succeeded' ? { predict_time: 1.2 } : {},
      urls: { get: `${this.url}/v1/predictions/${p.id}`, cancel: `${this.url}/v1/predictions/${p.id}/cancel` },
    };
  }
}
