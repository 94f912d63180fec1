/**
 * A local Runway API (api.dev.runwayml.com) for tests, following the shapes of Runway's API
 * reference and its official Node SDK (@runwayml/sdk 4.x):
 * - every request carries `Authorization: Bearer <key>` and `X-Runway-Version: 2024-11-06`
 *   (a missing version is a 400); a wrong key is 401 `{ "error": "…" }`;
 * - POST /v1/text_to_image `{ model, promptText, ratio, seed? }` and POST /v1/image_to_video
 *   `{ model, promptImage, promptText?, ratio, duration?, seed? }` answer `{ id }`;
 * - GET /v1/tasks/{id}: `{ id, status: PENDING|THROTTLED|RUNNING|SUCCEEDED|FAILED, createdAt,
 *   output: [url] (succeeded), failure, failureCode (failed) }`;
 * - DELETE /v1/tasks/{id}: cancels (or deletes) the task, 204;
 * - GET /v1/organization: `{ creditBalance, tier, usage }`;
 * - errors `{ "error": "message" }`; 429 with Retry-After.
 * Scenario `refused` makes the task fail with failureCode SAFETY.INPUT.TEXT; `task_failed` with
 * INTERNAL.BAD_OUTPUT.CODE01. Outputs are real media whose shape follows the ratio asked for.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { FakeVendor, expect, type Answer, type RouteInput } from './fake-vendor.js';
import { clipSize, fakeClip, fakeImage, stillSize } from './fake-media.js';

const IMAGE_RATIOS = new Set(['1024:1024', '1080:1080', '1168:880', '1360:768', '1440:1080', '1080:1440', '1808:768', '1920:1080', '1080:1920', '2112:912', '1280:720', '720:1280', '720:720', '960:720', '720:960', '1680:720']);
const VIDEO_RATIOS = new Set(['1280:720', '720:1280', '1104:832', '832:1104', '960:960', '1584:672']);

interface Task {
  id: string;
  kind: 'image' | 'video';
  ratio: number;
  polls: number;
  outcome: 'ok' | 'refused' | 'task_failed';
  output?: string;
}

export class FakeRunway extends FakeVendor {
  readonly tasks = new Map<string, Task>();
  /** Tasks cancelled with DELETE /v1/tasks/{id}. */
  readonly cancelled: string[] = [];
  /** Bodies of the create calls, in order. */
  readonly created: Array<{ path: string; body: Record<string, unknown> }> = [];

  static async start(apiKey = 'key_runway_test'): Promise<FakeRunway> {
    const fake = new FakeRunway(apiKey);
    await fake.listen();
    return fake;
  }

  protected keyOf(req: IncomingMessage): string | undefined {
    const auth = req.headers.authorization;
    return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
  }

  protected authError(): Answer {
    return { status: 401, json: { error: 'Invalid API key. Check your RUNWAYML_API_SECRET.' } };
  }

  protected errorJson(_status: number, message: string): unknown {
    return { error: message };
  }

  protected async route(input: RouteInput): Promise<Answer | undefined> {
    const { method, path, headers } = input;
    if (headers['x-runway-version'] !== '2024-11-06') return { status: 400, json: { error: 'X-Runway-Version header is missing or invalid' } };
    if (method === 'POST' && (path === '/v1/text_to_image' || path === '/v1/image_to_video')) return this.create(input);
    const task = /^\/v1\/tasks\/([\w-]+)$/.exec(path);
    if (method === 'GET' && task) return this.poll(task[1] ?? '');
    if (method === 'DELETE' && task) {
      if (!this.tasks.delete(task[1] ?? '')) return { status: 404, json: { error: 'Task not found' } };
      this.cancelled.push(task[1] ?? '');
      return { status: 204 };
    }
    if (method === 'GET' && path === '/v1/organization') {
      return { status: 200, json: { creditBalance: 1200, tier: { maxMonthlyCreditSpend: 10000, models: {} }, usage: { models: {} } } };
    }
    return undefined;
  }

  private create({ path, body, scenario }: RouteInput): Answer {
    const b = (body ?? {}) as Record<string, unknown>;
    const video = path === '/v1/image_to_video';
    expect(typeof b.model === 'string', 'model is required');
    if (video) {
      expect(b.model === 'gen4_turbo', `image_to_video: unsupported model ${String(b.model)}`);
      expect(typeof b.promptImage === 'string' && b.promptImage.length > 0, 'promptImage is required');
      expect(VIDEO_RATIOS.has(String(b.ratio)), `ratio ${String(b.ratio)} is not one gen4_turbo supports`);
      expect(b.duration === undefined || (Number.isInteger(b.duration) && Number(b.duration) >= 2 && Number(b.duration) <= 10), 'duration must be 2-10');
    } else {
      expect(b.model === 'gen4_image', `text_to_image: unsupported model ${String(b.model)}`);
      expect(IMAGE_RATIOS.has(String(b.ratio)), `ratio ${String(b.ratio)} is not one gen4_image supports`);
    }
    expect(typeof b.promptText === 'string' && b.promptText.length > 0 && b.promptText.length <= 1000, 'promptText must be 1-1000 characters');
    this.created.push({ path, body: b });
    const [w, h] = String(b.ratio).split(':').map(Number);
    const id = randomUUID();
    const outcome = scenario === 'refused' || scenario === 'task_failed' ? scenario : 'ok';
    this.tasks.set(id, { id, kind: video ? 'video' : 'image', ratio: (w ?? 1) / (h ?? 1), polls: 0, outcome });
    return { status: 200, json: { id } };
  }

  private async poll(id: string): Promise<Answer> {
    const task = this.tasks.get(id);
    if (!task) return { status: 404, json: { error: 'Task not found' } };
    const createdAt = new Date().toISOString();
    task.polls += 1;
    if (task.polls <= this.runningPolls) {
      return { status: 200, json: { id, status: task.polls === 1 ? 'PENDING' : 'RUNNING', createdAt, progress: 0.5, estimatedCost: { credits: 5 } } };
    }
    if (task.outcome === 'refused') {
      return { status: 200, json: { id, status: 'FAILED', createdAt, cost: { credits: 0 }, failure: 'The prompt was flagged by our content moderation system.', failureCode: 'SAFETY.INPUT.TEXT' } };
    }
    if (task.outcome === 'task_failed') {
      return { status: 200, json: { id, status: 'FAILED', createdAt, cost: { credits: 0 }, failure: 'An unexpected error occurred.', failureCode: 'INTERNAL.BAD_OUTPUT.CODE01' } };
    }
    if (!task.output) {
      if (task.kind === 'image') {
        const { width, height } = stillSize(task.ratio);
        task.output = this.serve(await fakeImage('png', width, height), 'image/png', 'png');
      } else {
        const { width, height } = clipSize(task.ratio);
        task.output = this.serve(await fakeClip(width, height), 'video/mp4', 'mp4');
      }
    }
    return { status: 200, json: { id, status: 'SUCCEEDED', createdAt, cost: { credits: 5 }, output: [task.output] } };
  }
}
