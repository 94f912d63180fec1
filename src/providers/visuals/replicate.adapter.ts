/**
 * Replicate (api.replicate.com) through its official SDK: a prediction of FLUX (schnell at the
 * economy and standard tiers, 1.1 pro at premium; REPLICATE_IMAGE_MODEL overrides) makes a still,
 * or — when REPLICATE_VIDEO_MODEL is set and the scene may be a clip — a text-to-video model taking
 * `{ prompt, aspect_ratio }` makes one. A model is `owner/name` (its latest version) or
 * `owner/name:version`.
 *
 * `predictions.create` is sent without `Prefer: wait` (which would hold the request open for up
 * to 60 s) and `predictions.get` is polled with the render's signal; `useFileOutput` only shapes
 * what `replicate.run` returns, so the output here is the plain URL(s) the API gives.
 *
 * The SDK retries a 429 (and a 5xx on GET, and a request that got no answer) by itself, up to
 * five times, with no way to turn that off. Our guard does the retrying (honouring Retry-After),
 * so the SDK is handed a fetch that gives it those outcomes as an answer it does not retry, the
 * real one kept aside for the error mapping.
 */
import Replicate, { type Prediction } from 'replicate';
import { AppError } from '../../contract/errors.js';
import { pollTask, providerErrorFromSdk } from '../http.js';
import { ProviderError, providerErrorFromHttp, providerErrorFromNetwork, spent } from '../provider-error.js';
import { providerId, type ProviderContext, type ProviderDescriptor, type Usage } from '../provider.js';
import type { VisualProvider, VisualRequest, VisualResult } from './visual.port.js';
import { downloadVisual, generationPrompt, stoppedError } from './visual-media.js';

const NAME = 'replicate';
const FLUX = /^black-forest-labs\/flux-/;
/** Words Replicate models use when their safety checker rejects a prompt or an output. */
const REFUSED = /nsfw|safety|sensitive|content (policy|moderation)|flagged/i;

/** What really happened behind a stand-in answer given to the SDK (see noRetryFetch). */
type Hidden = { kind: 'http'; status: number; headers: Headers; body: string } | { kind: 'network'; error: unknown };
const hidden = new WeakMap<Response, Hidden>();

/**
 * A fetch for the SDK that keeps its automatic retries from ever firing: an answer it would retry
 * (429, a 5xx on GET) or a request that never got one (which it retries too) is handed to it as a
 * plain 400, which it throws at once as an ApiError holding that Response; the real outcome is
 * kept beside the Response for `replicateError`.
 */
const noRetryFetch: typeof fetch = async (input, init) => {
  let response: Response;
  try {
    response = await fetch(input, init);
  } catch (error) {
    const standIn = new Response('{}', { status: 400 });
    hidden.set(standIn, { kind: 'network', error });
    return standIn;
  }
  const method = (init?.method ?? 'GET').toUpperCase();
  const sdkWouldRetry = response.status === 429 || (method === 'GET' && response.status >= 500);
  if (!sdkWouldRetry) return response;
  const body = await response.text().catch(() => '');
  const standIn = new Response('{}', { status: 400 });
  hidden.set(standIn, { kind: 'http', status: response.status, headers: response.headers, body });
  return standIn;
};

function client(context: ProviderContext): Replicate {
  return new Replicate({ auth: context.credentials.apiKey, baseUrl: `${context.credentials.baseUrl}/v1`, fetch: noRetryFetch, useFileOutput: false });
}

function replicateError(error: unknown, signal: AbortSignal): AppError {
  if (error instanceof SyntaxError) return new ProviderError('provider_bad_response', NAME, `the answer is not JSON: ${error.message}`, { cause: error });
  const response = (error as { response?: unknown } | undefined)?.response;
  const real = response instanceof Response ? hidden.get(response) : undefined;
  if (real?.kind === 'http') return providerErrorFromHttp(NAME, real.status, real.headers, real.body);
  if (real?.kind === 'network') return providerErrorFromNetwork(NAME, real.error, signal);
  return providerErrorFromSdk(NAME, error, signal, (status, body) => status < 500 && /nsfw/i.test(body));
}

export interface ReplicateOptions {
  /** First wait between prediction checks (grows to 4× that). */
  pollIntervalMs?: number;
}

export class ReplicateVisuals implements VisualProvider {
  readonly id: string;
  private readonly client: Replicate;

  constructor(
    private readonly context: ProviderContext,
    private readonly options: ReplicateOptions = {},
  ) {
    this.id = providerId(NAME, context.model);
    // Clips come from another model: it is part of what a cached picture was made with.
    this.variant = context.settings.REPLICATE_VIDEO_MODEL?.trim() || undefined;
    this.client = client(context);
  }

  readonly variant: string | undefined;

  async generate(request: VisualRequest, dir: string, signal: AbortSignal = new AbortController().signal): Promise<VisualResult> {
    const videoModel = this.context.settings.REPLICATE_VIDEO_MODEL?.trim();
    const video = request.prefer === 'video' && !!videoModel;
    const model = video ? (videoModel as string) : this.context.model;
    const input: Record<string, unknown> = { prompt: generationPrompt(request), aspect_ratio: request.aspectRatio };
    if (!video) input.seed = request.seed >>> 0;
    if (FLUX.test(model)) input.output_format = 'png';
    const [name, version] = model.split(':');
    const created = await this.call(signal, (s) => this.client.predictions.create({ ...(version ? { version } : { model: name }), input, signal: s }));
    // From here the prediction is paid for: a failure falls back rather than starting another.
    return spent(async () => {
      const url = await this.waitForOutput(created, signal);
      if (!video) {
        const file = await downloadVisual(NAME, this.context, url, 'image', dir, signal);
        return { kind: 'image', ...file, usage: { images: 1 } };
      }
      const file = await downloadVisual(NAME, this.context, url, 'video', dir, signal);
      const usage: Usage = { secondsOfVideo: Math.round((file.durationSec ?? 0) * 10) / 10 };
      return { kind: 'video', ...file, usage };
    });
  }

  private async waitForOutput(created: Prediction, signal: AbortSignal): Promise<string> {
    const interval = this.options.pollIntervalMs ?? 2000;
    try {
      return await pollTask(
        async () => outputOf(created.status === 'succeeded' ? created : await this.call(signal, (s) => this.client.predictions.get(created.id, { signal: s }))),
        { intervalMs: interval, maxIntervalMs: interval * 4, signal },
      );
    } catch (error) {
      if (signal.aborted) {
        // Stop the prediction (and its billing); best effort, the render is going anyway.
        this.client.predictions.cancel(created.id, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
        if (!(error instanceof ProviderError)) throw stoppedError(NAME, signal, error);
      }
      throw error;
    }
  }

  /** One SDK call, on a child of the signal (so nothing the SDK hangs on it outlives the call). */
  private async call<T>(signal: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await fn(AbortSignal.any([signal]));
    } catch (error) {
      throw replicateError(error, signal);
    }
  }
}

/** The first output URL of a finished prediction, undefined while it runs; throws when it failed. */
function outputOf(prediction: Prediction): string | undefined {
  switch (prediction.status) {
    case 'starting':
    case 'processing':
      return undefined;
    case 'succeeded': {
      const output: unknown = prediction.output;
      const url = Array.isArray(output) ? output[0] : output;
      if (typeof url !== 'string' || !url) throw new ProviderError('provider_bad_response', NAME, `prediction ${prediction.id} succeeded without an output URL`);
      return url;
    }
    case 'failed': {
      const error = typeof prediction.error === 'string' ? prediction.error : JSON.stringify(prediction.error ?? 'no reason given');
      throw new ProviderError(REFUSED.test(error) ? 'provider_refused' : 'provider_failed', NAME, `prediction ${prediction.id} failed: ${error.slice(0, 300)}`);
    }
    case 'canceled':
    case 'aborted':
      throw new ProviderError('provider_failed', NAME, `prediction ${prediction.id} was ${prediction.status}`);
    default:
      throw new ProviderError('provider_bad_response', NAME, `prediction ${prediction.id} has an unknown status ${String(prediction.status)}`);
  }
}

export const replicateDescriptor: ProviderDescriptor<VisualProvider> = {
  name: NAME,
  stage: 'visualize',
  vendor: 'Replicate',
  keyEnv: 'REPLICATE_API_TOKEN',
  tenantKey: 'replicate',
  baseUrlEnv: 'REPLICATE_BASE_URL',
  defaultBaseUrl: 'https://api.replicate.com',
  models: { economy: 'black-forest-labs/flux-schnell', standard: 'black-forest-labs/flux-schnell', premium: 'black-forest-labs/flux-1.1-pro' },
  // The operator's image model replaces the tier's, and so names the provider id its pictures are cached and priced under.
  modelEnv: 'REPLICATE_IMAGE_MODEL',
  settings: ['REPLICATE_IMAGE_MODEL', 'REPLICATE_VIDEO_MODEL'],
  timeoutMs: 300_000,
  // A call starts a paid task and waits for it: a timed-out one is not started again.
  retryTimeouts: false,
  sends: "each scene's picture prompt and the storyboard's shared style words, the frame's aspect ratio and (for stills) a seed, to the model chosen",
  create: (context) => new ReplicateVisuals(context),
  async probe(context, signal) {
    try {
      const account = await client(context).accounts.current({ signal });
      return `account ${account.username} reachable`;
    } catch (error) {
      throw replicateError(error, signal);
    }
  },
};
