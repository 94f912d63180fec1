/**
 * A vendor's failure in the project's terms. Every adapter turns what its vendor says (an HTTP
 * status, an SDK's error class, a failed task) into a `ProviderError`, so the resilience policy
 * and the chain decide the same way for every vendor:
 *
 * | code                    | from                                   | retried | breaker | fallback |
 * |-------------------------|----------------------------------------|---------|---------|----------|
 * | provider_auth           | 401, 403                               | no      | no      | yes      |
 * | provider_rate_limited   | 429 (Retry-After honoured)             | yes     | yes     | yes      |
 * | provider_unavailable    | 5xx, connection refused/reset          | yes     | yes     | yes      |
 * | provider_timeout        | no answer within the provider's timeout | yes     | yes     | yes      |
 * | provider_bad_response   | malformed JSON, a missing field        | yes     | yes     | yes      |
 * | provider_refused        | content policy / safety refusal        | no      | no      | yes      |
 * | provider_failed         | a task the vendor ran and failed; 4xx  | no      | no      | yes      |
 *
 * Auth failures and refusals do not open the breaker: they say something about a key or a prompt,
 * not about the vendor being down.
 */
import { AppError, type ErrorCode } from '../contract/errors.js';

export type ProviderErrorCode = Extract<
  ErrorCode,
  'provider_auth' | 'provider_rate_limited' | 'provider_unavailable' | 'provider_timeout' | 'provider_refused' | 'provider_bad_response' | 'provider_failed'
>;

export class ProviderError extends AppError {
  readonly provider: string;
  /** How long the vendor asked us to wait (Retry-After), in ms. */
  readonly retryAfterMs?: number;
  /** The vendor's HTTP status, when there was one. */
  readonly httpStatus?: number;

  /** The message without the provider's prefix. */
  readonly detail: string;
  private readonly vendorFault?: boolean;

  constructor(
    code: ProviderErrorCode,
    provider: string,
    message: string,
    options: { retryAfterMs?: number; httpStatus?: number; cause?: unknown; retryable?: boolean; vendorFault?: boolean } = {},
  ) {
    super(code, `${provider}: ${message}`, { cause: options.cause, retryable: options.retryable });
    this.name = 'ProviderError';
    this.provider = provider;
    this.detail = message;
    this.retryAfterMs = options.retryAfterMs;
    this.httpStatus = options.httpStatus;
    this.vendorFault = options.vendorFault;
  }

  /** Failures that say the vendor is unwell (count towards its circuit breaker). */
  get countsAgainstVendor(): boolean {
    if (this.vendorFault !== undefined) return this.vendorFault;
    return this.code === 'provider_rate_limited' || this.code === 'provider_unavailable' || this.code === 'provider_timeout' || this.code === 'provider_bad_response';
  }
}

/**
 * For failures after a paid task was started (a poll, a download): the same error, not retried —
 * retrying the whole call would start and pay for a second task — so the chain moves on instead.
 */
export function afterSpend(error: unknown): unknown {
  if (!(error instanceof ProviderError) || !error.retryable) return error;
  return new ProviderError(error.code as ProviderErrorCode, error.provider, error.detail, {
    cause: error,
    httpStatus: error.httpStatus,
    retryable: false,
    vendorFault: error.countsAgainstVendor,
  });
}

/** Runs the part of a call that follows a paid task's creation under `afterSpend`. */
export async function spent<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw afterSpend(error);
  }
}

/** Retry-After as milliseconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Words vendors use when they refuse a prompt on policy grounds. */
const REFUSAL = /content[ _-]?polic|safety|moderation|not allowed|prohibited|inappropriate|blocked|flagged|sensitive/i;

/**
 * Maps an HTTP failure to a ProviderError. `body` is the response text (a vendor's JSON error, or
 * anything); its first 300 characters go into the message, which never contains the key.
 */
export function providerErrorFromHttp(
  provider: string,
  status: number,
  headers: { get(name: string): string | null } | Record<string, string | undefined>,
  body: string,
  options: { refused?: boolean } = {},
): ProviderError {
  const header = (name: string): string | null =>
    typeof (headers as { get?: unknown }).get === 'function'
      ? (headers as { get(name: string): string | null }).get(name)
      : ((headers as Record<string, string | undefined>)[name] ?? (headers as Record<string, string | undefined>)[name.toLowerCase()] ?? null);
  const detail = summarise(body);
  const httpStatus = status;
  if (status === 401 || status === 403) return new ProviderError('provider_auth', provider, `the key was refused (HTTP ${status}): ${detail}`, { httpStatus });
  if (status === 429) {
    return new ProviderError('provider_rate_limited', provider, `rate limited (HTTP 429): ${detail}`, { httpStatus, retryAfterMs: parseRetryAfter(header('retry-after')) });
  }
  if (status >= 500 || status === 408) {
    return new ProviderError(status === 504 || status === 408 ? 'provider_timeout' : 'provider_unavailable', provider, `HTTP ${status}: ${detail}`, {
      httpStatus,
      retryAfterMs: parseRetryAfter(header('retry-after')),
    });
  }
  if (options.refused || REFUSAL.test(body)) return new ProviderError('provider_refused', provider, `the request was refused: ${detail}`, { httpStatus });
  return new ProviderError('provider_failed', provider, `HTTP ${status}: ${detail}`, { httpStatus });
}

/** A fetch that never got an answer (refused, reset, DNS, aborted by our timeout). */
export function providerErrorFromNetwork(provider: string, error: unknown, signal?: AbortSignal): AppError {
  if (error instanceof AppError) return error;
  // Cancelled by the render: not the vendor's fault, and not to be retried.
  if (signal?.aborted && !isTimeoutReason(signal.reason)) return new AppError('aborted', 'the render was cancelled', { cause: error });
  if (isTimeoutReason(error) || isTimeoutReason(signal?.reason)) return new ProviderError('provider_timeout', provider, 'no answer in time', { cause: error });
  const message = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
  return new ProviderError('provider_unavailable', provider, `cannot reach the service: ${message}`, { cause: error });
}

const isTimeoutReason = (reason: unknown): boolean => reason instanceof Error && (reason.name === 'TimeoutError' || /timed? ?out/i.test(reason.message));

function summarise(body: string): string {
  let text = body;
  try {
    const parsed = JSON.parse(body) as unknown;
    text = findMessage(parsed) ?? body;
  } catch {
    // Not JSON: the text as it came.
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text || '(empty body)';
}

/** The human message inside the usual error shapes: {error:{message}}, {detail:{message}}, {message}, {detail}. */
function findMessage(value: unknown, depth = 0): string | undefined {
  if (depth > 3 || value === null || typeof value !== 'object') return typeof value === 'string' ? value : undefined;
  const record = value as Record<string, unknown>;
  for (const key of ['message', 'error', 'detail', 'details', 'status']) {
    const found = findMessage(record[key], depth + 1);
    if (found) return found;
  }
  return undefined;
}
