/**
 * Runway (api.dev.runwayml.com) through its official SDK: Gen-4 Image makes a still from the
 * scene's prompt; at the premium tier, when the scene may be a clip, Gen-4 Turbo then animates
 * that still (image → video needs a first frame, so the still's URL is its `promptImage`).
 *
 * Both are tasks: create, then `tasks.retrieve` until SUCCEEDED or FAILED. The SDK's
 * `waitForTaskOutput` sleeps 6 s between checks on timers no signal reaches, so the adapter polls
 * with pollTask and the render's signal instead. A FAILED task whose `failureCode`
 * names SAFETY is a refusal; any other failure is `provider_failed`. A cancelled render cancels its
 * running task (DELETE /v1/tasks/{id}).
 */
import RunwayML from '@runwayml/sdk';
import { pollTask } from '../http.js';
import { ProviderError, spent } from '../provider-error.js';
import { providerId, type ProviderContext, type ProviderDescriptor, type Usage } from '../provider.js';
import type { VisualProvider, VisualRequest, VisualResult } from './visual.port.js';
import { clipSeconds, closestShape, downloadVisual, generationPrompt, ratioOf, sdkError, stoppedError } from './visual-media.js';

const NAME = 'runway';
const IMAGE_MODEL = 'gen4_image';
const VIDEO_MODEL = 'gen4_turbo';
/** Gen-4 Image output sizes used for the port's frame shapes (16:9, 9:16, 1:1, 3:4 for 4:5, 4:3, 21:9). */
const IMAGE_RATIOS = ['1920:1080', '1080:1920', '1080:1080', '1080:1440', '1440:1080', '1808:768'] as const;
/** Gen-4 Turbo output sizes. */
const VIDEO_RATIOS = ['1280:720', '720:1280', '960:960', '832:1104', '1104:832', '1584:672'] as const;
/** Gen-4 Turbo clip lengths, whole seconds (compat/costs.ts prices a video made of such clips). */
export const VIDEO_SECONDS = [2, 3, 4, 5, 6, 7, 8, 9, 10] as const;
/** Runway's limit on promptText (UTF-16 code units). */
const PROMPT_MAX = 1000;

type Task = Awaited<ReturnType<RunwayML['tasks']['retrieve']>>;

export interface RunwayOptions {
  /** First wait between task checks (grows to 4× that). */
  pollIntervalMs?: number;
}

export class RunwayVisuals implements VisualProvider {
  readonly id: string;
  private readonly client: RunwayML;

  constructor(
    private readonly context: ProviderContext,
    private readonly options: RunwayOptions = {},
  ) {
    this.id = providerId(NAME, context.model);
    this.client = new RunwayML({ apiKey: context.credentials.apiKey, baseURL: context.credentials.baseUrl, maxRetries: 0 });
  }

  clipSeconds(sceneSec: number): number {
    // Stills only below premium: the model decides whether there is a clip to bill.
    return this.context.model === VIDEO_MODEL ? clipSeconds(VIDEO_SECONDS, Math.ceil(sceneSec)) : 0;
  }

  async generate(request: VisualRequest, dir: string, signal: AbortSignal = new AbortController().signal): Promise<VisualResult> {
    const promptText = generationPrompt(request).slice(0, PROMPT_MAX);
    const seed = request.seed >>> 0;
    const imageRatio = closestShape(request.aspectRatio, IMAGE_RATIOS, ratioOf);
    const imageTask = await this.call(signal, (s) => this.client.textToImage.create({ model: IMAGE_MODEL, promptText, ratio: imageRatio, seed }, { signal: s }));
    // From here a task is paid for: a failure falls back rather than starting (and paying for) another.
    return spent(() => this.fromImageTask(imageTask.id, request, promptText, seed, dir, signal));
  }

  private async fromImageTask(imageTaskId: string, request: VisualRequest, promptText: string, seed: number, dir: string, signal: AbortSignal): Promise<VisualResult> {
    const imageUrl = await this.waitForOutput(imageTaskId, signal);
    if (this.context.model !== VIDEO_MODEL || request.prefer !== 'video') {
      const file = await downloadVisual(NAME, this.context, imageUrl, 'image', dir, signal);
      return { kind: 'image', ...file, usage: { images: 1 } };
    }
    const duration = clipSeconds(VIDEO_SECONDS, request.durationSec);
    const ratio = closestShape(request.aspectRatio, VIDEO_RATIOS, ratioOf);
    const videoTask = await this.call(signal, (s) =>
      this.client.imageToVideo.create({ model: VIDEO_MODEL, promptImage: imageUrl, promptText, ratio, duration, seed }, { signal: s }),
    );
    const videoUrl = await this.waitForOutput(videoTask.id, signal);
    const file = await downloadVisual(NAME, this.context, videoUrl, 'video', dir, signal);
    const usage: Usage = { images: 1, secondsOfVideo: duration };
    return { kind: 'video', ...file, usage };
  }

  /** Polls the task until it has an output URL; a failed or cancelled task throws. */
  private async waitForOutput(taskId: string, signal: AbortSignal): Promise<string> {
    const interval = this.options.pollIntervalMs ?? 5000;
    try {
      return await pollTask(
        async () => {
          const task = await this.call(signal, (s) => this.client.tasks.retrieve(taskId, { signal: s }));
          return outputOf(task);
        },
        { intervalMs: interval, maxIntervalMs: interval * 4, signal },
      );
    } catch (error) {
      if (signal.aborted) {
        // Cancel the task (Runway stops it and does not charge for unfinished work); best effort.
        this.client.tasks.delete(taskId, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
        if (!(error instanceof ProviderError)) throw stoppedError(NAME, signal, error);
      }
      throw error;
    }
  }

  /** One SDK call, on a child of the signal (the SDK leaves a listener on each signal it is given). */
  private async call<T>(signal: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await fn(AbortSignal.any([signal]));
    } catch (error) {
      throw sdkError(NAME, error, signal);
    }
  }
}

/** The output URL of a finished task, undefined while it runs; throws when it failed. */
function outputOf(task: Task): string | undefined {
  switch (task.status) {
    case 'PENDING':
    case 'THROTTLED':
    case 'RUNNING':
      return undefined;
    case 'SUCCEEDED': {
      const url = task.output?.[0];
      if (typeof url !== 'string' || !url) throw new ProviderError('provider_bad_response', NAME, `task ${task.id} succeeded without an output URL`);
      return url;
    }
    case 'FAILED': {
      const code = task.failureCode ?? '';
      // SAFETY.INPUT.TEXT, SAFETY.OUTPUT.VIDEO, INPUT_PREPROCESSING.SAFETY.TEXT …
      const refused = /(^|\.)SAFETY(\.|$)/i.test(code);
      return fail(refused ? 'provider_refused' : 'provider_failed', `task ${task.id} failed${code ? ` (${code})` : ''}: ${task.failure}`);
    }
    case 'CANCELLED':
      return fail('provider_failed', `task ${task.id} was cancelled`);
    default:
      return fail('provider_bad_response', `task ${(task as { id?: string }).id ?? '?'} has an unknown status ${String((task as { status?: unknown }).status)}`);
  }
}

const fail = (code: 'provider_refused' | 'provider_failed' | 'provider_bad_response', message: string): never => {
  throw new ProviderError(code, NAME, message);
};

export const runwayDescriptor: ProviderDescriptor<VisualProvider> = {
  name: NAME,
  stage: 'visualize',
  vendor: 'Runway',
  keyEnv: 'RUNWAYML_API_SECRET',
  tenantKey: 'runway',
  baseUrlEnv: 'RUNWAY_BASE_URL',
  defaultBaseUrl: 'https://api.dev.runwayml.com',
  models: { standard: IMAGE_MODEL, premium: VIDEO_MODEL },
  timeoutMs: 600_000,
  // A call starts a paid task and waits for it: a timed-out one is not started again.
  retryTimeouts: false,
  sends: "each scene's picture prompt and the storyboard's shared style words, a frame shape and a seed; at the premium tier also the URL of the still Runway made, to animate it",
  create: (context) => new RunwayVisuals(context),
  async probe(context, signal) {
    const client = new RunwayML({ apiKey: context.credentials.apiKey, baseURL: context.credentials.baseUrl, maxRetries: 0 });
    try {
      const org = await client.organization.retrieve({ signal });
      return `organization reachable, ${org.creditBalance} credits`;
    } catch (error) {
      throw sdkError(NAME, error, signal);
    }
  },
};
