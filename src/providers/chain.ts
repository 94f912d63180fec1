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
}

export interface Fallback {
  stage: ProviderStage;
  /** Provider id that failed or was skipped. */
  from: string;
  /** Provider id used instead (set once known). */
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

export class ProviderChain<P extends { readonly id: string }> {
  private readonly failed = new Set<string>();

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

  /** Provider ids in order, for reports. */
  get ids(): string[] {
    return this.members.map((m) => m.provider.id);
  }

  async run<T>(
    attempt: (member: ChainMember<P>, guarded: Guarded) => Promise<T>,
    options: { signal?: AbortSignal; onFallback?: (fallback: Fallback) => void } = {},
  ): Promise<{ value: T; member: ChainMember<P> }> {
    const pending: Fallback[] = [];
    const candidates = this.members.filter((m) => !this.failed.has(m.provider.id));
    for (const [index, member] of candidates.entries()) {
      const last = index === candidates.length - 1;
      try {
        const value = await attempt(member, this.guarded(member, options.signal));
        for (const f of pending) options.onFallback?.({ ...f, to: member.provider.id });
        return { value, member };
      } catch (error) {
        const failure = toAppError(error);
        if (last || NO_FALLBACK.has(failure.code) || options.signal?.aborted) {
          for (const f of pending) options.onFallback?.(f);
          throw failure;
        }
        // A refused prompt says nothing about the provider: it stays in the chain for the next request.
        if (failure.code !== 'provider_refused') this.failed.add(member.provider.id);
        pending.push({ stage: this.stage, from: member.provider.id, code: failure.code, reason: failure.message, keySource: member.credentials?.source });
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
