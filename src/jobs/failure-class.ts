/**
 * Failure classes, in one place: what a failed production's error code says about retrying it.
 *
 * - `transient`: the same work may succeed later without changing the request — a vendor that is
 *   down, slow or rate-limiting, storage or the database unavailable, a worker lost, a machine out
 *   of disk. These are retried in the render (RENDER_ATTEMPTS, the queue's backoff) and, once the
 *   production has failed, re-queued by the self-healing job (AUTO_RETRY_*, jobs/self-healing.ts).
 * - `permanent`: retrying the same request fails the same way — a bad brief, invalid or refused
 *   media, content a vendor refused, a rejected key, a budget or quota, a failed quality gate, a
 *   bug (`internal`). They fail at once with their code; an operator may still re-queue them
 *   (`aiprod productions retry-failed --code …`) once the cause is fixed.
 *
 * The table is a Record over every ErrorCode, so a new code does not compile until it is classed.
 * It agrees with AppError's `retryable` default (every retryable code is transient; the unit test
 * holds that), with three codes transient here but not retried inside a render: `worker_lost` and
 * `requeue_limit` are given by the sweeper to a production whose workers kept dying (no render is
 * running to retry), and `aborted` ends a render that was stopped rather than failed.
 *
 * Within a render the handler still follows the error instance's `retryable`, which can be false
 * for a transient code: a provider call whose paid task had already started (providers/
 * provider-error.ts `afterSpend`) is not retried at once, so a second task is not started and paid
 * for seconds later. The self-healing job acts on the class, minutes later and a bounded number of times.
 */
import type { AppError, ErrorCode } from '../contract/errors.js';

export type FailureClass = 'transient' | 'permanent';

export const FAILURE_CLASS: Readonly<Record<ErrorCode, FailureClass>> = {
  // The request itself: a bad brief or storyboard, media that is missing, unreadable, too large,
  // of a refused type or on a forbidden address.
  invalid_brief: 'permanent',
  invalid_storyboard: 'permanent',
  unsupported_language: 'permanent',
  unknown_voice: 'permanent',
  asset_not_found: 'permanent',
  asset_unreadable: 'permanent',
  unsafe_url: 'permanent',
  media_too_large: 'permanent',
  media_type_refused: 'permanent',
  invalid_request: 'permanent',
  invalid_batch: 'permanent',
  // FFmpeg: missing is the operator's to fix; a failed run is the media or the graph (the same
  // input fails the same way); a timeout or a stall is mostly the machine or its storage.
  ffmpeg_missing: 'permanent',
  ffmpeg_failed: 'permanent',
  ffmpeg_timeout: 'transient',
  ffmpeg_stalled: 'transient',
  // Stopped, not failed (a cancel ends as canceled, not failed).
  aborted: 'transient',
  tts_failed: 'transient',
  // A quality gate failed on the real output: a person should look before it is rendered again.
  qa_failed: 'permanent',
  // A damaged cache unit is moved aside and made again on the next attempt.
  cache_corrupt: 'transient',
  // Who may do what, and how much: retrying does not change the answer.
  unauthorized: 'permanent',
  key_revoked: 'permanent',
  key_expired: 'permanent',
  forbidden: 'permanent',
  ip_denied: 'permanent',
  quota_exceeded: 'permanent',
  budget_exceeded: 'permanent',
  operator_budget_exhausted: 'permanent',
  // Downloading media linked by URL: the host may answer later.
  media_fetch_failed: 'transient',
  // Answers to requests, never a render's failure; classed for completeness.
  not_found: 'permanent',
  output_missing: 'permanent',
  conflict: 'permanent',
  idempotency_conflict: 'permanent',
  payload_too_large: 'permanent',
  request_timeout: 'permanent',
  headers_too_large: 'permanent',
  unsupported_media_type: 'permanent',
  rate_limited: 'transient',
  not_ready: 'transient',
  // The infrastructure: the database, a lost worker, a full disk or file table.
  database_unavailable: 'transient',
  worker_lost: 'transient',
  requeue_limit: 'transient',
  resource_exhausted: 'transient',
  insufficient_storage: 'transient',
  // Vendors (providers/provider-error.ts): down, slow, rate-limiting or answering nonsense may
  // pass; a rejected key, a refused prompt (content policy) or a task the vendor failed will not.
  provider_not_configured: 'permanent',
  provider_auth: 'permanent',
  provider_rate_limited: 'transient',
  provider_unavailable: 'transient',
  provider_timeout: 'transient',
  provider_bad_response: 'transient',
  provider_refused: 'permanent',
  provider_failed: 'permanent',
  // A bug: retrying it automatically would only repeat it.
  internal: 'permanent',
};

/** The class of an error code; a code this version does not know (an older row, a newer writer) is permanent. */
export function failureClass(code: string): FailureClass {
  return Object.hasOwn(FAILURE_CLASS, code) ? FAILURE_CLASS[code as ErrorCode] : 'permanent';
}

/**
 * The class of one failure: its code's, except that an error an adapter could not code more
 * precisely but judged retryable is transient too — S3's throttling and 5xx answers (503
 * SlowDown) and dropped connections arrive as `internal` with `retryable` (storage/s3.adapter.ts).
 */
export function classifyError(error: Pick<AppError, 'code' | 'retryable'>): FailureClass {
  return error.retryable ? 'transient' : failureClass(error.code);
}

/** The codes the self-healing job re-queues (with any failure recorded as retryable). */
export const TRANSIENT_CODES: readonly ErrorCode[] = (Object.keys(FAILURE_CLASS) as ErrorCode[]).filter((code) => FAILURE_CLASS[code] === 'transient');

/** A production's `error` column: the code, the message tenants see, and whether its class is transient (`retryable`). */
export function failureRecord(error: Pick<AppError, 'code' | 'retryable'>, message: string): { code: string; message: string; retryable: boolean } {
  return { code: error.code, message, retryable: classifyError(error) === 'transient' };
}
