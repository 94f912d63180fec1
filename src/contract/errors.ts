/**
 * Typed errors shared by the pipeline, the CLI and (later) the HTTP API and SDK.
 *
 * Every failure that crosses a module boundary is an `AppError` with a stable snake_case `code`,
 * the HTTP status it maps to, and whether retrying the same work could succeed. The CLI prints
 * `code: message`; the API will turn the same object into `{ error: { code, message, details } }`.
 */

export type ErrorCode =
  | 'invalid_brief'
  | 'invalid_storyboard'
  | 'unsupported_language'
  | 'unknown_voice'
  | 'asset_not_found'
  | 'asset_unreadable'
  | 'ffmpeg_missing'
  | 'ffmpeg_failed'
  | 'ffmpeg_timeout'
  | 'ffmpeg_stalled'
  | 'aborted'
  | 'tts_failed'
  | 'qa_failed'
  | 'cache_corrupt'
  | 'invalid_request'
  | 'invalid_batch'
  | 'unauthorized'
  | 'key_revoked'
  | 'key_expired'
  | 'forbidden'
  | 'ip_denied'
  | 'quota_exceeded'
  | 'budget_exceeded'
  | 'operator_budget_exhausted'
  | 'unsafe_url'
  | 'media_too_large'
  | 'media_type_refused'
  | 'media_fetch_failed'
  | 'not_found'
  | 'output_missing'
  | 'conflict'
  | 'idempotency_conflict'
  | 'payload_too_large'
  | 'request_timeout'
  | 'headers_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'not_ready'
  | 'database_unavailable'
  | 'worker_lost'
  | 'requeue_limit'
  | 'resource_exhausted'
  | 'insufficient_storage'
  | 'provider_not_configured'
  | 'provider_auth'
  | 'provider_rate_limited'
  | 'provider_unavailable'
  | 'provider_timeout'
  | 'provider_refused'
  | 'provider_bad_response'
  | 'provider_failed'
  | 'internal';

export interface ErrorDetail {
  /** Dotted path of the offending field, e.g. `scenes.2.visual.src`. */
  path?: string;
  message: string;
}

export interface AppErrorOptions {
  status?: number;
  retryable?: boolean;
  details?: ErrorDetail[];
  cause?: unknown;
}

const DEFAULT_STATUS: Record<ErrorCode, number> = {
  invalid_brief: 400,
  invalid_storyboard: 400,
  unsupported_language: 400,
  unknown_voice: 400,
  asset_not_found: 422,
  asset_unreadable: 422,
  ffmpeg_missing: 503,
  ffmpeg_failed: 500,
  ffmpeg_timeout: 504,
  ffmpeg_stalled: 504,
  aborted: 499,
  tts_failed: 502,
  qa_failed: 422,
  cache_corrupt: 500,
  invalid_request: 400,
  invalid_batch: 400,
  unauthorized: 401,
  key_revoked: 401,
  key_expired: 401,
  forbidden: 403,
  ip_denied: 403,
  quota_exceeded: 403,
  budget_exceeded: 402,
  // The service's own monthly budget (OPERATOR_MONTHLY_BUDGET_USD) is spent: not the tenant's doing, so not 402.
  operator_budget_exhausted: 503,
  unsafe_url: 422,
  media_too_large: 413,
  media_type_refused: 415,
  media_fetch_failed: 502,
  not_found: 404,
  output_missing: 404,
  conflict: 409,
  idempotency_conflict: 409,
  payload_too_large: 413,
  request_timeout: 408,
  headers_too_large: 431,
  unsupported_media_type: 415,
  rate_limited: 429,
  not_ready: 503,
  database_unavailable: 503,
  worker_lost: 500,
  requeue_limit: 500,
  resource_exhausted: 503,
  insufficient_storage: 503,
  provider_not_configured: 400,
  provider_auth: 502,
  provider_rate_limited: 503,
  provider_unavailable: 502,
  provider_timeout: 504,
  provider_refused: 422,
  provider_bad_response: 502,
  provider_failed: 502,
  internal: 500,
};

const DEFAULT_RETRYABLE: Partial<Record<ErrorCode, boolean>> = {
  ffmpeg_timeout: true,
  // A child that stopped making progress (media/ffmpeg.ts's watchdog). Retryable: the causes seen
  // are mostly transient (storage that stops answering, a stopped or starved process), and a
  // deterministic one — a filter graph that deadlocks on its input — costs at most RENDER_ATTEMPTS
  // stall periods before the production fails, where refusing to retry would lose the transient ones.
  ffmpeg_stalled: true,
  tts_failed: true,
  cache_corrupt: true,
  not_ready: true,
  database_unavailable: true,
  rate_limited: true,
  media_fetch_failed: true,
  resource_exhausted: true,
  insufficient_storage: true,
  // A vendor that is down, slow or rate-limiting now may answer later; a refused prompt or a
  // rejected key will not.
  provider_rate_limited: true,
  provider_unavailable: true,
  provider_timeout: true,
  provider_bad_response: true,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: ErrorDetail[];

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? DEFAULT_STATUS[code];
    this.retryable = options.retryable ?? DEFAULT_RETRYABLE[code] ?? false;
    this.details = options.details ?? [];
  }

  toJSON(): { code: ErrorCode; message: string; details?: ErrorDetail[] } {
    return this.details.length > 0
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** Wraps anything thrown into an AppError without losing the original as `cause`. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) return new AppError('database_unavailable', 'the database is unavailable; retry shortly', { cause: error });
  const exhausted = resourceExhaustion(error);
  if (exhausted) return exhausted;
  const message = error instanceof Error ? error.message : String(error);
  return new AppError('internal', message, { cause: error });
}

/**
 * toAppError, and a failure that is really the machine running out of something (a full disk, a
 * quota, file descriptors) becomes `resource_exhausted` — retryable, since it passes — even when a
 * layer below coded it otherwise (FFmpeg's "No space left on device" is no `ffmpeg_failed`).
 * Stops (`aborted`) and errors already retryable keep their code.
 */
export function classifyFailure(error: unknown): AppError {
  if (error instanceof AppError && (error.retryable || error.code === 'aborted')) return error;
  return resourceExhaustion(error) ?? toAppError(error);
}

/** Errno codes of exhausted resources, and the texts (strerror) tools such as FFmpeg print for them. */
const EXHAUSTED: Record<string, { what: string; text: RegExp }> = {
  ENOSPC: { what: 'no space left on the device', text: /no space left on device/i },
  EDQUOT: { what: 'the disk quota is exceeded', text: /disk quota exceeded/i },
  EMFILE: { what: 'too many open files in the process', text: /too many open files(?! in system)/i },
  ENFILE: { what: 'too many open files in the system', text: /too many open files in system/i },
};

function resourceExhaustion(error: unknown): AppError | undefined {
  // The error itself, then its causes (an AppError wrapping an fs error, an Error with { cause }).
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const errno = (e as { code?: unknown }).code;
    const known = typeof errno === 'string' ? EXHAUSTED[errno] : undefined;
    const [code, found] = known ? [errno as string, known] : (Object.entries(EXHAUSTED).find(([, x]) => x.text.test(e.message)) ?? []);
    if (code && found) {
      // The message names the resource, never the path (it is a server's, not the tenant's business).
      return new AppError('resource_exhausted', `the worker ran out of resources: ${found.what} (${code}); retried later`, { cause: error });
    }
  }
  return undefined;
}

// SQLSTATE class 08 (connection exception), 57P01-57P03 (terminated by an administrator, a crash,
// or a server still starting), 53300 (too many connections): the query never ran or was rolled back.
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;
// What node-postgres says of a connection that went away under it.
const UNAVAILABLE_DRIVER = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect)/;

/**
 * True when `error` (or one of its causes) says the database cannot be reached right now — a
 * restart, a failover, a terminated backend, a refused or timed-out connect — rather than that the
 * query was wrong. Such work is worth retrying once the database is back.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (current instanceof AppError) return current.code === 'database_unavailable';
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_SQLSTATE.test(code)) return true;
    if (UNAVAILABLE_DRIVER.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}
