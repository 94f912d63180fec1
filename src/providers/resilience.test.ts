import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../contract/errors.js';
import { ProviderError } from './provider-error.js';
import { ProviderGuard } from './resilience.js';

const operator = { apiKey: 'sk-operator', baseUrl: 'http://vendor.test', source: 'operator' };
const tenant = { apiKey: 'sk-tenant', baseUrl: 'http://vendor.test', source: 'tenant' };
const fast = { timeoutMs: 2000, baseDelayMs: 5, maxAttempts: 3, breakerThreshold: 3, halfOpenAfterMs: 200 };

test('a 429 is retried after the Retry-After the vendor asked for, then succeeds', async () => {
  const guard = new ProviderGuard();
  const times: number[] = [];
  const value = await guard.run('vendor', operator, fast, undefined, async () => {
    times.push(Date.now());
    if (times.length === 1) throw new ProviderError('provider_rate_limited', 'vendor', 'slow down', { retryAfterMs: 300 });
    return 'ok';
  });
  assert.equal(value, 'ok');
  assert.equal(times.length, 2);
  assert.ok((times[1] as number) - (times[0] as number) >= 290, `waited ${(times[1] as number) - (times[0] as number)} ms, asked 300`);
});

test('auth failures and refusals are not retried; 5xx are, up to maxAttempts', async () => {
  const guard = new ProviderGuard();
  for (const code of ['provider_auth', 'provider_refused', 'provider_failed'] as const) {
    let calls = 0;
    await assert.rejects(
      guard.run('vendor', operator, fast, undefined, async () => {
        calls++;
        throw new ProviderError(code, 'vendor', 'no');
      }),
      (e: AppError) => e.code === code,
    );
    assert.equal(calls, 1, code);
  }
  let calls = 0;
  await assert.rejects(
    guard.run('other', operator, fast, undefined, async () => {
      calls++;
      throw new ProviderError('provider_unavailable', 'other', 'HTTP 503');
    }),
    (e: AppError) => e.code === 'provider_unavailable',
  );
  assert.equal(calls, 3);
});

test('a Retry-After longer than the limit is not waited for', async () => {
  const guard = new ProviderGuard();
  let calls = 0;
  await assert.rejects(
    guard.run('vendor', operator, { ...fast, maxRetryAfterMs: 1000 }, undefined, async () => {
      calls++;
      throw new ProviderError('provider_rate_limited', 'vendor', 'come back tomorrow', { retryAfterMs: 86_400_000 });
    }),
    (e: AppError) => e.code === 'provider_rate_limited',
  );
  assert.equal(calls, 1);
});

test('the breaker opens after consecutive vendor failures, skips the provider, and closes after a good trial call', async () => {
  const guard = new ProviderGuard();
  const options = { ...fast, maxAttempts: 1 };
  let calls = 0;
  const failing = async (): Promise<never> => {
    calls++;
    throw new ProviderError('provider_unavailable', 'vendor', 'HTTP 500');
  };
  for (let i = 0; i < 3; i++) await assert.rejects(guard.run('vendor', operator, options, undefined, failing));
  assert.equal(calls, 3);
  assert.equal(guard.isOpen('vendor', operator), true);
  await assert.rejects(guard.run('vendor', operator, options, undefined, failing), (e: ProviderError) => e.code === 'provider_unavailable' && /circuit breaker is open/.test(e.message));
  assert.equal(calls, 3, 'an open breaker does not call the vendor');
  // Another key of the same provider has its own breaker.
  assert.equal(await guard.run('vendor', tenant, options, undefined, async () => 'tenant ok'), 'tenant ok');
  assert.deepEqual(guard.states().find((s) => s.source === 'operator')?.state, 'open');
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(await guard.run('vendor', operator, options, undefined, async () => 'back'), 'back');
  assert.equal(guard.isOpen('vendor', operator), false);
});

test('refusals and rejected keys never open the breaker', async () => {
  const guard = new ProviderGuard();
  const options = { ...fast, maxAttempts: 1 };
  for (let i = 0; i < 6; i++) {
    await assert.rejects(guard.run('vendor', operator, options, undefined, async () => {
      throw new ProviderError(i % 2 ? 'provider_auth' : 'provider_refused', 'vendor', 'no');
    }));
  }
  assert.equal(guard.isOpen('vendor', operator), false);
});

test('an attempt that takes too long is a provider_timeout, and its signal is aborted', async () => {
  const guard = new ProviderGuard();
  let inner: AbortSignal | undefined;
  await assert.rejects(
    guard.run('vendor', operator, { ...fast, timeoutMs: 100, maxAttempts: 1 }, undefined, (signal) => {
      inner = signal;
      return new Promise(() => undefined);
    }),
    (e: AppError) => e.code === 'provider_timeout',
  );
  assert.equal(inner?.aborted, true);
});

test('the render\'s cancellation ends the call and any wait between attempts as aborted', async () => {
  const guard = new ProviderGuard();
  const controller = new AbortController();
  let calls = 0;
  const run = guard.run('vendor', operator, { ...fast, maxRetryAfterMs: 60_000 }, controller.signal, async () => {
    calls++;
    throw new ProviderError('provider_rate_limited', 'vendor', 'wait', { retryAfterMs: 3000 });
  });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(run, (e: AppError) => e.code === 'aborted');
  assert.equal(calls, 1);
});

test('a vendor that hangs is retried like any outage, and opens its breaker', async () => {
  const guard = new ProviderGuard();
  let calls = 0;
  const hang = (): Promise<never> => {
    calls++;
    return new Promise(() => undefined);
  };
  const options = { timeoutMs: 50, baseDelayMs: 1, maxAttempts: 2, breakerThreshold: 2, halfOpenAfterMs: 60_000 };
  await assert.rejects(guard.run('slow', operator, options, undefined, hang), (e: AppError) => e.code === 'provider_timeout');
  assert.equal(calls, 2, 'the timed-out attempt was retried');
  assert.equal(guard.isOpen('slow', operator), true, 'two timeouts in a row open the breaker');
  await assert.rejects(guard.run('slow', operator, options, undefined, hang), (e: AppError) => e.code === 'provider_unavailable');
  assert.equal(calls, 2, 'an open breaker does not wait on the vendor again');
});

test('a provider whose call starts a paid task is not called again after a timeout', async () => {
  const guard = new ProviderGuard();
  let tasks = 0;
  await assert.rejects(
    guard.run('tasks', operator, { timeoutMs: 50, baseDelayMs: 1, maxAttempts: 3, retryTimeouts: false }, undefined, () => {
      tasks++;
      return new Promise(() => undefined);
    }),
    (e: AppError) => e.code === 'provider_timeout' && !e.retryable,
  );
  assert.equal(tasks, 1);
});
