/**
 * A stage's providers in order of preference, the offline one last. `run` tries them in turn: each
 * cloud member's calls go through the shared resilience policies (resilience.ts), and a member that
 * fails is recorded as a fallback (stage, provider, code, reason) and skipped for the rest of the
 * render, so one video is narrated by one voice and scored by one composer.
 *
 * @example
 *   const { value, member } = await chain.run(async (m, guarded) =>
 *     cache.memo('narrate', { provider: m.provider.id, text }, (dir) => guarded((signal) => m.provider.synthesize(req, join(dir, 'speech.wav'), signal))),
 *   { signal, onFallback: (f) => ctx.fallback(f) });
 */
import { AppError, toAppError } from '../contract/errors.js';
import type { Credentials, ProviderStage } from './provider.js';
import type { ProviderGuard, ResilienceOptions } from './resilience.js';

export interface ChainMember<P> {
  /** Registry name ("elevenlabs", or "offline" for the local provider). */
  name: string;
  provider: P;
  offline: boolean;
  /** Cloud members only. */
  credentials?: Credentials;
  resilience?: ResilienceOptions;
  /**
   * Whose work a cached result is, for cache keys (cloud members only): results made with a
   * tenant's own key are that key's alone, and a base URL change (another backend behind the same
   * model name) makes new ones. Undefined for offline members, whose keys it leaves unchanged.
   */
  scope?: string;
}

export interface Fallback {
  stage: ProviderStage;
  /** Provider id that failed or was skipped. */
  from: string;
  /** Provider id tried next (when it fails too, its own fallback follows). */
  to?: string;
  code: string;
  reason: string;
  /** Whose key the failed provider used. */
  keySource?: 'tenant' | 'operator';
}

/** Runs one vendor call under the member's policies (a no-op wrapper for offline members). */
export type Guarded = <R>(fn: (signal: AbortSignal) => Promise<R>) => Promise<R>;

/** Failures that no other provider would fix: the render is stopping or the machine is out of room. */
const NO_FALLBACK = new Set(['aborted', 'resource_exhausted', 'insufficient_storage']);
/**
 * Failures that say the provider cannot serve this render (its key, its health): it is skipped for
 * the rest of the render and reported once. Others (a refused prompt, a search with no match, one
 * failed task) concern one request: the next request tries the provider again.
 */
const STICKY = new Set(['provider_auth', 'provider_unavailable', 'provider_timeout', 'provider_rate_limited', 'provider_bad_response', 'provider_not_configured']);

export class ProviderChain<P extends { readonly id: string }> {
  private readonly failed = new Set<string>();
  /** Providers whose sticky failure was reported (scenes in flight at once fail together, and say so once). */
  private readonly reported = new Set<string>();

  constructor(
    readonly stage: ProviderStage,
    readonly members: readonly ChainMember<P>[],
    private readonly guard: ProviderGuard,
  ) {
    if (members.length === 0) throw new AppError('internal', `${stage}: a provider chain needs at least one member`);
  }

  /** The member a render would use now (the first not failed in this render). */
  get current(): ChainMember<P> {
    return this.members.find((m) => !this.failed.has(m.provider.id)) ?? (this.members[this.members.length - 1] as ChainMember<P>);
  }

  async run<T>(
    attempt: (member: ChainMember<P>, guarded: Guarded) => Promise<T>,
    options: { signal?: AbortSignal; onFallback?: (fallback: Fallback) => void } = {},
  ): Promise<{ value: T; member: ChainMember<P> }> {
    const candidates = this.members.filter((m) => !this.failed.has(m.provider.id));
    for (const [index, member] of candidates.entries()) {
      // Another request of this render (a scene in flight beside this one) may have dropped it meanwhile.
      if (this.failed.has(member.provider.id) && index < candidates.length - 1) continue;
      const next = candidates.slice(index + 1).find((m) => !this.failed.has(m.provider.id)) ?? candidates[index + 1];
      try {
        return { value: await attempt(member, this.guarded(member, options.signal)), member };
      } catch (error) {
        const failure = toAppError(error);
        if (!next || NO_FALLBACK.has(failure.code) || options.signal?.aborted) throw failure;
        const sticky = STICKY.has(failure.code) || !failure.code.startsWith('provider_');
        if (sticky) this.failed.add(member.provider.id);
        // Reported as it happens (a slow generation's failure shows at once), naming the provider tried next.
        if (!sticky || !this.reported.has(member.provider.id)) {
          if (sticky) this.reported.add(member.provider.id);
          options.onFallback?.({ stage: this.stage, from: member.provider.id, to: next.provider.id, code: failure.code, reason: failure.message, keySource: member.credentials?.source });
        }
      }
    }
    throw new AppError('internal', `${this.stage}: every provider of the chain has failed in this render`);
  }

  private guarded(member: ChainMember<P>, signal?: AbortSignal): Guarded {
    const never = new AbortController().signal;
    if (member.offline || !member.credentials || !member.resilience) return (fn) => fn(signal ?? never);
    const { credentials, resilience } = member;
    return (fn) => this.guard.run(member.name, credentials, resilience, signal, fn);
  }
}
