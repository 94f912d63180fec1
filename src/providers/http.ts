/**
 * The thin typed client for vendors without an SDK that takes a base URL (Google TTS, Suno
 * gateways, Freesound, Pexels, ElevenLabs music): JSON over fetch, every failure a
 * ProviderError, every answer checked against a zod schema (a malformed one is
 * `provider_bad_response`). Also: the error mapper for vendor SDKs, and task polling.
 *
 * @example
 *   const voices = await requestJson('google-tts', { url: `${base}/v1/voices`, query: { key }, signal }, voicesSchema);
 */
import type { z } from 'zod';
import { AppError } from '../contract/errors.js';
import { ProviderError, providerErrorFromHttp, providerErrorFromNetwork } from './provider-error.js';

export interface VendorRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Sent as JSON with Content-Type application/json. */
  json?: unknown;
  signal: AbortSignal;
  /** Vendor-specific: a 4xx that means "refused by policy" (otherwise guessed from the body). */
  refusedWhen?: (status: number, body: string) => boolean;
}

export function buildUrl(url: string, query?: VendorRequest['query']): string {
  if (!query) return url;
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
  return u.toString();
}

async function send(provider: string, request: VendorRequest): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  if (request.json !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(buildUrl(request.url, request.query), {
      method: request.method ?? (request.json === undefined ? 'GET' : 'POST'),
      headers,
      body: request.json === undefined ? undefined : JSON.stringify(request.json),
      signal: request.signal,
      // A vendor's API answers where it is asked: a redirect could carry the key to another host.
      redirect: 'error',
    });
  } catch (error) {
    throw providerErrorFromNetwork(provider, error, request.signal);
  }
  if (!response.ok) {
    const body = await response.text().catch(() => '');
    throw providerErrorFromHttp(provider, response.status, response.headers, body, { refused: request.refusedWhen?.(response.status, body) });
  }
  return response;
}

/** A JSON answer, validated: anything else is `provider_bad_response`. */
export async function requestJson<S extends z.ZodType>(provider: string, request: VendorRequest, schema: S): Promise<{ data: z.infer<S>; headers: Headers }> {
  const response = await send(provider, request);
  const text = await readText(provider, response, request.signal);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ProviderError('provider_bad_response', provider, `the answer is not JSON: ${text.slice(0, 120)}`, { cause: error, httpStatus: response.status });
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ProviderError('provider_bad_response', provider, `unexpected answer: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, { httpStatus: response.status });
  }
  return { data: result.data as z.infer<S>, headers: response.headers };
}

async function readText(provider: string, response: Response, signal: AbortSignal): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw providerErrorFromNetwork(provider, error, signal);
  }
}

/**
 * Maps what a vendor SDK throws (Stainless/Fern/Google/Replicate error classes all carry a status
 * and usually the response headers and body) to a ProviderError; errors without a status are
 * connection failures or timeouts.
 */
export function providerErrorFromSdk(provider: string, error: unknown, signal?: AbortSignal, refusedWhen?: VendorRequest['refusedWhen']): AppError {
  if (error instanceof AppError) return error;
  const e = (error ?? {}) as Record<string, unknown> & { response?: { status?: number; headers?: unknown }; rawResponse?: { headers?: unknown } };
  const status = [e.status, e.statusCode, e.code, e.response?.status].find((s): s is number => typeof s === 'number' && s >= 400 && s < 600);
  if (status === undefined) return providerErrorFromNetwork(provider, error, signal);
  const headers = (e.headers ?? e.response?.headers ?? e.rawResponse?.headers ?? {}) as Record<string, string>;
  const payload = e.error ?? e.body ?? e.message;
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload ?? '');
  return providerErrorFromHttp(provider, status, headers, body, { refused: refusedWhen?.(status, body) });
}

export interface PollOptions {
  /** Wait between checks; grows by half each time up to `maxIntervalMs`. */
  intervalMs: number;
  maxIntervalMs?: number;
  signal: AbortSignal;
}

/**
 * Polls a long-running task until `check` returns a value (done) or throws (failed). The overall
 * limit is the caller's signal (the provider's timeout and the render's cancellation).
 */
export async function pollTask<T>(check: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  let interval = options.intervalMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(interval, options.signal);
    interval = Math.min(options.maxIntervalMs ?? interval, Math.round(interval * 1.5));
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
