/**
 * Veo on the Gemini API (generativelanguage.googleapis.com) through the official @google/genai
 * SDK: `models.generateVideos` (`source.prompt`) starts a long-running operation (`:predictLongRunning`),
 * `operations.getVideosOperation` is polled until `done`, and the clip is downloaded from the
 * operation's `video.uri`. Veo makes clips only, so `prefer` is ignored.
 *
 * The SDK's own retries are off unless `retryOptions` is given (it is not). Its errors carry the
 * status but not the headers, so the adapter hands it a fetch that turns a failed answer into a
 * ProviderError itself (keeping Retry-After). The Gemini API answers a bad key with 400
 * API_KEY_INVALID, which is an auth failure here.
 *
 * The download: `files.download` in the SDK writes straight to disk with plain fetch, outside the
 * SSRF-safe downloader and its size and type checks. The Gemini docs download the uri with the
 * key attached (`x-goog-api-key`, or the `key` query parameter every Gemini endpoint accepts);
 * `context.download` takes no headers, so the key goes as `key=` — and only to the API's own host
 * (the configured base URL, or Google's), never to another host a uri might name. The
 * downloader's messages drop a URL's query, so the key never reaches an error.
 */
import { GoogleGenAI, type GenerateVideosOperation } from '@google/genai';
import { pollTask } from '../http.js';
import { ProviderError, providerErrorFromHttp, spent } from '../provider-error.js';
import { providerId, type ProviderContext, type ProviderDescriptor } from '../provider.js';
import type { VisualProvider, VisualRequest, VisualResult } from './visual.port.js';
import { clipSeconds, closestShape, downloadVisual, generationPrompt, ratioOf, sdkError, stoppedError } from './visual-media.js';

const NAME = 'veo';
const GOOGLE_HOST = 'generativelanguage.googleapis.com';
/** Veo 3 clip lengths (seconds) and frame shapes. */
const SECONDS = [4, 6, 8] as const;
const RATIOS = ['16:9', '9:16'] as const;

export interface VeoOptions {
  /** First wait between operation checks (grows to 3× that); Google suggests 10 s. */
  pollIntervalMs?: number;
}

/** A fetch for the SDK: a failed answer becomes a ProviderError with the vendor's status, body and Retry-After. */
const vendorFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  if (response.ok) return response;
  const body = await response.text().catch(() => '');
  if (response.status === 400 && /API_KEY_INVALID|API key not valid/i.test(body)) {
    return Promise.reject(new ProviderError('provider_auth', NAME, 'the key was refused (HTTP 400 API_KEY_INVALID)', { httpStatus: 400 }));
  }
  return Promise.reject(providerErrorFromHttp(NAME, response.status, response.headers, body));
};

function client(context: ProviderContext): GoogleGenAI {
  return new GoogleGenAI({ apiKey: context.credentials.apiKey, vertexai: false, httpOptions: { baseUrl: context.credentials.baseUrl, fetch: vendorFetch } });
}

export class VeoVisuals implements VisualProvider {
  readonly id: string;
  private readonly ai: GoogleGenAI;

  constructor(
    private readonly context: ProviderContext,
    private readonly options: VeoOptions = {},
  ) {
    this.id = providerId(NAME, context.model);
    this.ai = client(context);
  }

  clipSeconds(sceneSec: number): number {
    return clipSeconds(SECONDS, Math.ceil(sceneSec));
  }

  async generate(request: VisualRequest, dir: string, signal: AbortSignal = new AbortController().signal): Promise<VisualResult> {
    const durationSeconds = clipSeconds(SECONDS, request.durationSec);
    const aspectRatio = closestShape(request.aspectRatio, RATIOS, ratioOf);
    const started = await this.call(signal, (s) =>
      this.ai.models.generateVideos({
        model: this.context.model,
        source: { prompt: generationPrompt(request) },
        config: { aspectRatio, durationSeconds, numberOfVideos: 1, abortSignal: s },
      }),
    );
    // From here the operation is paid for: a failure falls back rather than starting another.
    return spent(() => this.finish(started, durationSeconds, dir, signal));
  }

  private async finish(started: GenerateVideosOperation, durationSeconds: number, dir: string, signal: AbortSignal): Promise<VisualResult> {
    const interval = this.options.pollIntervalMs ?? 10_000;
    let done: GenerateVideosOperation;
    try {
      done = await pollTask(
        async () => {
          const operation = await this.call(signal, (s) => this.ai.operations.getVideosOperation({ operation: started, config: { abortSignal: s } }));
          return operation.done ? operation : undefined;
        },
        { intervalMs: interval, maxIntervalMs: interval * 3, signal },
      );
    } catch (error) {
      if (signal.aborted && !(error instanceof ProviderError)) throw stoppedError(NAME, signal, error);
      throw error;
    }
    const uri = videoUri(done);
    const file = await downloadVisual(NAME, this.context, this.withKey(uri), 'video', dir, signal);
    return { kind: 'video', ...file, usage: { secondsOfVideo: durationSeconds } };
  }

  /** The uri with the key, when it is on the API's own host; anywhere else the key is not sent. */
  private withKey(uri: string): string {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new ProviderError('provider_bad_response', NAME, 'the video uri is not a URL');
    }
    const apiHost = new URL(this.context.credentials.baseUrl).host;
    if (url.host !== apiHost && url.hostname !== GOOGLE_HOST) {
      throw new ProviderError('provider_bad_response', NAME, `the video is on ${url.host}, not the API's host; the key is not sent there`);
    }
    url.searchParams.set('key', this.context.credentials.apiKey);
    return url.toString();
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

/** The clip's uri from a finished operation; a failed or filtered one throws. */
function videoUri(operation: GenerateVideosOperation): string {
  if (operation.error) {
    const message = String(operation.error.message ?? JSON.stringify(operation.error));
    const refused = /safety|responsible ai|policy|blocked|filtered|sensitive/i.test(message);
    throw new ProviderError(refused ? 'provider_refused' : 'provider_failed', NAME, `the operation failed: ${message}`);
  }
  const response = operation.response;
  if ((response?.raiMediaFilteredCount ?? 0) > 0 || (response?.raiMediaFilteredReasons?.length ?? 0) > 0) {
    throw new ProviderError('provider_refused', NAME, `the clip was filtered by Google's safety filters: ${(response?.raiMediaFilteredReasons ?? []).join('; ') || 'no reason given'}`);
  }
  const uri = response?.generatedVideos?.[0]?.video?.uri;
  if (!uri) throw new ProviderError('provider_bad_response', NAME, 'the finished operation has no video uri');
  return uri;
}

export const veoDescriptor: ProviderDescriptor<VisualProvider> = {
  name: NAME,
  stage: 'visualize',
  vendor: 'Google Gemini API (Veo)',
  keyEnv: 'GEMINI_API_KEY',
  tenantKey: 'gemini',
  baseUrlEnv: 'GEMINI_BASE_URL',
  defaultBaseUrl: `https://${GOOGLE_HOST}`,
  models: { premium: 'veo-3.0-fast-generate-001' },
  timeoutMs: 600_000,
  // A call starts a paid task and waits for it: a timed-out one is not started again.
  retryTimeouts: false,
  sends: "each scene's picture prompt and the storyboard's shared style words, a frame shape (16:9 or 9:16) and a clip length",
  create: (context) => new VeoVisuals(context),
  async probe(context, signal) {
    try {
      const model = await client(context).models.get({ model: context.model, config: { abortSignal: signal } });
      return `model ${model.name ?? context.model} available`;
    } catch (error) {
      throw sdkError(NAME, error, signal);
    }
  },
};
