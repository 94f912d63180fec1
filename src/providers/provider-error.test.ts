import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRetryAfter, providerErrorFromHttp, providerErrorFromNetwork } from './provider-error.js';

test('HTTP failures map to the project\'s provider codes', () => {
  const h = new Headers({ 'retry-after': '7' });
  assert.equal(providerErrorFromHttp('v', 401, h, '{"error":{"message":"bad key"}}').code, 'provider_auth');
  assert.equal(providerErrorFromHttp('v', 403, h, '').code, 'provider_auth');
  const limited = providerErrorFromHttp('v', 429, h, '{"detail":{"message":"too many"}}');
  assert.equal(limited.code, 'provider_rate_limited');
  assert.equal(limited.retryAfterMs, 7000);
  assert.equal(limited.retryable, true);
  assert.match(limited.message, /too many/);
  assert.equal(providerErrorFromHttp('v', 500, h, 'oops').code, 'provider_unavailable');
  assert.equal(providerErrorFromHttp('v', 504, h, '').code, 'provider_timeout');
  assert.equal(providerErrorFromHttp('v', 400, h, '{"error":{"message":"Your request was rejected by our safety system"}}').code, 'provider_refused');
  assert.equal(providerErrorFromHttp('v', 400, h, '{"error":{"message":"bad size"}}').code, 'provider_failed');
  assert.equal(providerErrorFromHttp('v', 400, {}, 'x', { refused: true }).code, 'provider_refused');
  assert.equal(providerErrorFromHttp('v', 500, {}, '').retryable, true);
  assert.equal(providerErrorFromHttp('v', 401, {}, '').retryable, false);
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  assert.equal(parseRetryAfter('120'), 120_000);
  assert.equal(parseRetryAfter('1.5'), 1500);
  const now = Date.parse('2026-12-01T00:00:00Z');
  assert.equal(parseRetryAfter('Tue, 01 Dec 2026 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

test('network failures: cancellation is aborted, a timeout is provider_timeout, the rest provider_unavailable', () => {
  const cancelled = new AbortController();
  cancelled.abort();
  assert.equal(providerErrorFromNetwork('v', new Error('This operation was aborted'), cancelled.signal).code, 'aborted');
  const timedOut = new AbortController();
  timedOut.abort(new DOMException('The operation timed out.', 'TimeoutError'));
  assert.equal(providerErrorFromNetwork('v', new Error('x'), timedOut.signal).code, 'provider_timeout');
  assert.equal(providerErrorFromNetwork('v', new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') })).code, 'provider_unavailable');
});
