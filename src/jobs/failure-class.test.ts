import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError, classifyFailure, toAppError, type ErrorCode } from '../contract/errors.js';
import { afterSpend, providerErrorFromHttp, providerErrorFromNetwork } from '../providers/provider-error.js';
import { classifyError, FAILURE_CLASS, failureClass, failureRecord, TRANSIENT_CODES, type FailureClass } from './failure-class.js';

/** The failures the issue names, as the code paths that make them produce them. */
const CASES: { what: string; error: () => AppError; code: ErrorCode; class: FailureClass }[] = [
  { what: 'a vendor answering 503', error: () => providerErrorFromHttp('runway', 503, {}, '{"error":{"message":"overloaded"}}'), code: 'provider_unavailable', class: 'transient' },
  { what: 'a vendor answering 500', error: () => providerErrorFromHttp('suno', 500, {}, 'oops'), code: 'provider_unavailable', class: 'transient' },
  { what: 'a vendor rate-limiting (429 + Retry-After)', error: () => providerErrorFromHttp('elevenlabs', 429, { 'retry-after': '3' }, ''), code: 'provider_rate_limited', class: 'transient' },
  { what: 'a vendor timing out (504)', error: () => providerErrorFromHttp('veo', 504, {}, ''), code: 'provider_timeout', class: 'transient' },
  { what: 'a vendor that cannot be reached', error: () => providerErrorFromNetwork('openai', new Error('connect ECONNREFUSED 10.0.0.1:443')), code: 'provider_unavailable', class: 'transient' },
  { what: 'a vendor failing after its paid task started (not retried in the render)', error: () => afterSpend(providerErrorFromHttp('runway', 502, {}, '')) as AppError, code: 'provider_unavailable', class: 'transient' },
  { what: 'a rejected vendor key (401)', error: () => providerErrorFromHttp('google-tts', 401, {}, 'bad key'), code: 'provider_auth', class: 'permanent' },
  { what: 'content refused by moderation', error: () => providerErrorFromHttp('openai-images', 400, {}, '{"error":{"message":"Your request was rejected by the safety system"}}'), code: 'provider_refused', class: 'permanent' },
  { what: 'a vendor task that failed (4xx)', error: () => providerErrorFromHttp('replicate', 422, {}, 'bad input'), code: 'provider_failed', class: 'permanent' },
  { what: 'S3 throttling (503 SlowDown, as storage/s3.adapter.ts reports it)', error: () => new AppError('internal', 'S3 PutObject "k" in bucket "b" failed: SlowDown (HTTP 503)', { status: 502, retryable: true }), code: 'internal', class: 'transient' },
  { what: 'a full disk', error: () => classifyFailure(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })), code: 'resource_exhausted', class: 'transient' },
  { what: 'the database restarting (57P01)', error: () => toAppError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), code: 'database_unavailable', class: 'transient' },
  { what: 'a lost worker (the sweeper)', error: () => new AppError('worker_lost', 'the worker rendering it stopped responding'), code: 'worker_lost', class: 'transient' },
  { what: 'an FFmpeg stall', error: () => new AppError('ffmpeg_stalled', 'no progress for 120 s'), code: 'ffmpeg_stalled', class: 'transient' },
  { what: 'invalid media (FFmpeg cannot decode it)', error: () => new AppError('ffmpeg_failed', 'Invalid data found when processing input'), code: 'ffmpeg_failed', class: 'permanent' },
  { what: 'an image that is not one', error: () => new AppError('media_type_refused', 'not an image'), code: 'media_type_refused', class: 'permanent' },
  { what: 'a bad brief', error: () => new AppError('invalid_brief', 'scenes: at least one'), code: 'invalid_brief', class: 'permanent' },
  { what: 'over budget', error: () => new AppError('budget_exceeded', 'the estimate exceeds what is left'), code: 'budget_exceeded', class: 'permanent' },
  { what: 'a failed quality gate', error: () => new AppError('qa_failed', 'loudness'), code: 'qa_failed', class: 'permanent' },
  { what: 'an unknown failure (a bug)', error: () => toAppError(new TypeError('x is undefined')), code: 'internal', class: 'permanent' },
];

for (const c of CASES) {
  test(`failure class: ${c.what} → ${c.code}, ${c.class}`, () => {
    const error = c.error();
    assert.equal(error.code, c.code);
    assert.equal(classifyError(error), c.class);
    assert.deepEqual(failureRecord(error, 'shown'), { code: c.code, message: 'shown', retryable: c.class === 'transient' });
  });
}

test('every code AppError retries by default is transient; the transient codes a render does not retry are the three the sweeper and stops give', () => {
  const codes = Object.keys(FAILURE_CLASS) as ErrorCode[];
  assert.ok(codes.length >= 50, 'the table covers every ErrorCode (the Record type makes the compiler hold it)');
  for (const code of codes) {
    if (new AppError(code, 'x').retryable) assert.equal(FAILURE_CLASS[code], 'transient', `${code} is retried in a render but would not be auto-retried`);
  }
  const transientNotRetried = codes.filter((code) => FAILURE_CLASS[code] === 'transient' && !new AppError(code, 'x').retryable);
  assert.deepEqual(transientNotRetried.sort(), ['aborted', 'requeue_limit', 'worker_lost']);
  assert.deepEqual([...TRANSIENT_CODES].sort(), codes.filter((code) => FAILURE_CLASS[code] === 'transient').sort());
});

test('a code this version does not know is permanent: never auto-retried by accident', () => {
  assert.equal(failureClass('made_up_code'), 'permanent');
  assert.equal(failureClass('toString'), 'permanent');
  assert.equal(failureClass('provider_timeout'), 'transient');
});
