/**
 * Resilience around every vendor call, built from cockatiel policies:
 *
 *   retry (backoff, or the vendor's Retry-After) ─► circuit breaker ─► timeout ─► the call
 *
 * - The timeout is per attempt (the provider's `timeoutMs`); the render's AbortSignal cancels the
 *   attempt and every wait between attempts.
 * - Retries only follow failures that may pass (ProviderError.retryable: 429, 5xx, timeouts,
 *   malformed answers). A Retry-After longer than `maxRetryAfterMs` is not waited for: the chain
 *   moves on to the next provider instead of parking a render.
 * - One breaker per provider *and key*: after `breakerThreshold` consecutive vendor failures the
 *   provider is skipped (`provider_unavailable`, "circuit open") until `halfOpenAfterMs` has passed,
 *   then one trial call decides. A tenant's rejected key never opens the breaker of the operator's.
 *   Breakers live for the process, so a vendor that is down is skipped by every render on it.
 */
import { createHash } from 'node:crypto';
import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
  CircuitState,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IRetryBackoffContext,
} from 'cockatiel';
import { AppError } from '../contract/errors.js';
import { ProviderError, providerErrorFromNetwork } from './provider-error.js';

export interface ResilienceOptions {
  /** One attempt's limit. */
  timeoutMs: number;
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** First backoff; doubled each attempt with jitter. Default 500 ms. */
  baseDelayMs?: number;
  /** Longest backoff, and the longest Retry-After honoured (longer ones fall back at once). Default 30 s. */
  maxRetryAfterMs?: number;
  /** Consecutive vendor failures that open the breaker. Default 5. */
  breakerThreshold?: number;
  /** How long an open breaker skips the provider. Default 60 s. */
  halfOpenAfterMs?: number;
  /**
   * Whether a timed-out attempt is tried again (default true). False for providers whose call starts
   * a paid task and waits for it: the task may be running still, and a retry would pay for another.
   */
  retryTimeouts?: boolean;
}

export interface BreakerState {
  provider: string;
  /** Whose key the breaker guards. */
  source: string;
  state: 'closed' | 'open' | 'half-open' | 'isolated';
  /** When it last opened (ms since the epoch). */
  openedAt?: number;
}

interface Entry {
  provider: string;
  source: string;
  breaker: CircuitBreakerPolicy;
  openedAt?: number;
  settings: string;
}

const STATE_NAMES: Record<CircuitState, BreakerState['state']> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** Exponential backoff with full jitter, unless the vendor said how long to wait. */
class RetryAfterBackoff implements IBackoff<IRetryBackoffContext<unknown>> {
  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    readonly duration = 0,
  ) {}

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const error = 'error' in context.result ? context.result.error : undefined;
    const asked = error instanceof ProviderError ? error.retryAfterMs : undefined;
    const exponential = Math.min(this.maxMs, this.baseMs * 2 ** (context.attempt - 1));
    const delay = asked !== undefined ? Math.min(asked, this.maxMs) : Math.round(exponential / 2 + Math.random() * (exponential / 2));
    return new RetryAfterBackoff(this.baseMs, this.maxMs, delay);
  }
}

export type BreakerListener = (state: BreakerState) => void;

/** One call (attempt) to a provider: how long it took and, when it failed, the error code. */
export interface ProviderCall {
  provider: string;
  seconds: number;
  /** The ProviderError code (or `aborted` for a cancelled render); absent when it answered. */
  code?: string;
}
export type CallListener = (call: ProviderCall) => void;

export class ProviderGuard {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<BreakerListener>();
  private readonly callListeners = new Set<CallListener>();

  /**
   * Runs `fn` under the provider's policies. `key` identifies the credential (it is hashed, never
   * kept); `fn` receives a signal that ends with the attempt.
   */
  async run<T>(
    provider: string,
    credential: { apiKey: string; baseUrl: string; source: string },
    options: ResilienceOptions,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const entry = this.entry(provider, credential, options);
    const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    const retryPolicy = retry(
      handleWhen((error) => error instanceof ProviderError && error.retryable && (error.retryAfterMs ?? 0) <= maxRetryAfterMs),
      { maxAttempts: Math.max(0, (options.maxAttempts ?? 3) - 1), backoff: new RetryAfterBackoff(options.baseDelayMs ?? 500, maxRetryAfterMs) },
    );
    const timeoutPolicy = timeout(options.timeoutMs, TimeoutStrategy.Aggressive);
    // A timed-out attempt becomes provider_timeout inside the breaker, so both the breaker and the
    // retry see it as the vendor failure it is (cockatiel's own TaskCancelledError is neither's).
    const timed = {
      execute: <T>(inner: (context: { signal: AbortSignal }) => Promise<T>, signal?: AbortSignal): Promise<T> =>
        timeoutPolicy.execute(inner, signal).catch((error: unknown) => {
          if (error instanceof TaskCancelledError && !signal?.aborted) {
            throw new ProviderError('provider_timeout', provider, `no answer within ${Math.round(options.timeoutMs / 1000)} s`, {
              cause: error,
              retryable: options.retryTimeouts !== false,
              vendorFault: true,
            });
          }
          throw error;
        }),
    };
    const policy = wrap(retryPolicy, entry.breaker);
    const outer = signal ?? new AbortController().signal;
    // cockatiel's wait between attempts does not listen to the signal: the race ends the call at
    // once, and an attempt that wakes up after the cancel finds its signal aborted and calls nobody.
    let onAbort: (() => void) | undefined;
    const cancelled = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(new AppError('aborted', 'the render was cancelled', { cause: outer.reason }));
      if (outer.aborted) onAbort();
      else outer.addEventListener('abort', onAbort, { once: true });
    });
    cancelled.catch(() => undefined);
    try {
      return await Promise.race([
        policy.execute(({ signal: attemptSignal }) =>
          timed.execute(async ({ signal: attempt }) => {
            if (outer.aborted) throw new AppError('aborted', 'the render was cancelled');
            const started = performance.now();
            try {
              const value = await fn(attempt);
              this.told({ provider, seconds: (performance.now() - started) / 1000 });
              return value;
            } catch (error) {
              const failure = providerErrorFromNetwork(provider, error, attempt);
              this.told({ provider, seconds: (performance.now() - started) / 1000, code: failure.code });
              throw failure;
            }
          }, attemptSignal),
        outer),
        cancelled,
      ]);
    } catch (error) {
      if (outer.aborted) throw error instanceof AppError && error.code === 'aborted' ? error : new AppError('aborted', 'the render was cancelled', { cause: error });
      if (error instanceof BrokenCircuitError) {
        throw new ProviderError('provider_unavailable', provider, 'skipped: its circuit breaker is open after repeated failures', { cause: error });
      }
      if (error instanceof TaskCancelledError) throw new ProviderError('provider_timeout', provider, `no answer within ${Math.round(options.timeoutMs / 1000)} s`, { cause: error });
      throw error;
    } finally {
      if (onAbort) outer.removeEventListener('abort', onAbort);
    }
  }

  /** Every breaker this process has, by provider and key owner (never the key). */
  states(): BreakerState[] {
    return [...this.entries.values()].map((e) => ({ provider: e.provider, source: e.source, state: STATE_NAMES[e.breaker.state], openedAt: e.openedAt }));
  }

  /** Whether the provider's breaker (for this key) is open right now. */
  isOpen(provider: string, credential: { apiKey: string; baseUrl: string; source: string }): boolean {
    const entry = this.entries.get(entryKey(provider, credential));
    return entry?.breaker.state === CircuitState.Open;
  }

  /** Told of every attempt at every provider (metrics); returns the unsubscribe. */
  onCall(listener: CallListener): () => void {
    this.callListeners.add(listener);
    return () => this.callListeners.delete(listener);
  }

  private told(call: ProviderCall): void {
    for (const listener of this.callListeners) listener(call);
  }

  onStateChange(listener: BreakerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private entry(provider: string, credential: { apiKey: string; baseUrl: string; source: string }, options: ResilienceOptions): Entry {
    const key = entryKey(provider, credential);
    const settings = `${options.breakerThreshold ?? 5}/${options.halfOpenAfterMs ?? 60_000}`;
    let entry = this.entries.get(key);
    if (entry && entry.settings === settings) return entry;
    const breaker = circuitBreaker(
      handleWhen((error) => error instanceof ProviderError && error.countsAgainstVendor),
      { halfOpenAfter: options.halfOpenAfterMs ?? 60_000, breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 5) },
    );
    entry = { provider, source: credential.source, breaker, settings };
    const created = entry;
    breaker.onStateChange((state) => {
      if (state === CircuitState.Open) created.openedAt = Date.now();
      for (const listener of this.listeners) listener({ provider, source: created.source, state: STATE_NAMES[state], openedAt: created.openedAt });
    });
    this.entries.set(key, entry);
    return entry;
  }
}

const entryKey = (provider: string, credential: { apiKey: string; baseUrl: string }): string =>
  `${provider}|${credential.baseUrl}|${createHash('sha256').update(credential.apiKey).digest('hex').slice(0, 16)}`;

/** The guard every render in this process shares (breakers must outlive one render to be useful). */
export const sharedGuard = new ProviderGuard();
