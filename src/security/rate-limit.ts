/**
 * Rate limiting: the `RateLimitStore` port, its in-process adapter, the standard response headers
 * and the fastify hooks that apply the API's rules. The Redis adapter is in rate-limit.redis.ts.
 *
 * Algorithm: GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp). A limit
 * of L per W seconds admits one request every T = W / L, with a burst of L allowed for a client
 * that was idle. Each key stores a single number, the "theoretical arrival time" (TAT) at which its
 * bucket will be full again. Chosen over a sliding-window counter because:
 *  - no window boundaries exist, so the naive fixed window's 2×L burst (L just before a boundary,
 *    L just after, within milliseconds) cannot happen: no span shorter than T admits more than L,
 *    and after a burst the client gets one request per T — over any span t at most L + ⌊t / T⌋.
 *    (A whole window W after an idle spell can thus see up to 2L − 1, paced out, the same worst
 *    case as a sliding-window counter; "never more than L in any W" exactly needs a sliding log,
 *    O(L) memory per key, which these limits do not justify);
 *  - it is exact rather than the counter's estimate that assumes the previous window was uniform,
 *    so Retry-After is the precise moment the next request fits;
 *  - one number per key means bounded memory and a short atomic Lua script in Redis.
 * All arithmetic is in whole microseconds (T rounded up, so the effective window overshoots W by
 * under L µs); timestamps stay below 2^53, so JavaScript and Lua compute bit-identical results.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../contract/errors.js';

export interface RateLimitResult {
  allowed: boolean;
  /** The limit applied (Infinity when unlimited). */
  limit: number;
  /** Requests that would still be admitted right now after this one. */
  remaining: number;
  /** Seconds until the quota is fully restored (the IETF draft's RateLimit-Reset). */
  resetSec: number;
  /** Seconds to wait before this request would be admitted; 0 when allowed. */
  retryAfterSec: number;
}

/**
 * Counts requests against a limit per key. Implementations must be atomic per key: concurrent
 * hits never admit more than the limit.
 *
 * `limit = Infinity` means unlimited: always allowed, the store is not touched. Otherwise `limit`
 * must be an integer ≥ 1 (a RangeError otherwise; there is no "0 = unlimited" here).
 *
 * @example
 *   const r = await store.hit(`tenant:${tenantId}`, 600, 60);
 *   if (!r.allowed) throw new AppError('rate_limited', `retry in ${r.retryAfterSec} s`);
 */
export interface RateLimitStore {
  /**
   * @param now   ms since the epoch; for tests and replays. Omit it in production: the memory store
   *              then reads Date.now(), the Redis store the Redis server's clock.
   * @param cost  how many units this request takes (a batch of n takes n); all or nothing. A cost
   *              above the limit can never pass — reject such a request before asking.
   */
  hit(key: string, limit: number, windowSec: number, now?: number, cost?: number): Promise<RateLimitResult>;
}

const US_PER_SEC = 1_000_000;

export function assertHitArgs(limit: number, windowSec: number, cost: number): void {
  if (limit !== Infinity && !(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`rate limit must be an integer ≥ 1 or Infinity (unlimited), got ${limit}`);
  if (!(Number.isFinite(windowSec) && windowSec > 0)) throw new RangeError(`rate limit window must be a positive number of seconds, got ${windowSec}`);
  if (!(Number.isInteger(cost) && cost >= 1)) throw new RangeError(`rate limit cost must be an integer ≥ 1, got ${cost}`);
}

export const UNLIMITED: RateLimitResult = Object.freeze({ allowed: true, limit: Infinity, remaining: Infinity, resetSec: 0, retryAfterSec: 0 });

/** T, the emission interval, in whole microseconds. */
export function gcraInterval(limit: number, windowSec: number): number {
  return Math.max(1, Math.ceil((windowSec * US_PER_SEC) / limit));
}

export interface GcraDecision {
  allowed: boolean;
  /** The key's TAT after this hit (unchanged when refused). */
  tat: number;
  /** How far that TAT lies ahead of now, µs (≥ 0). */
  ahead: number;
  /** µs until this request would fit; 0 when allowed. */
  wait: number;
}

/** One GCRA step. The Lua script in rate-limit.redis.ts is a line-by-line copy: keep them in step. */
export function gcraDecide(storedTat: number | undefined, now: number, interval: number, limit: number, cost: number): GcraDecision {
  const tat = Math.max(storedTat ?? now, now);
  const next = tat + interval * cost;
  const allowAt = next - interval * limit;
  if (now < allowAt) return { allowed: false, tat, ahead: tat - now, wait: allowAt - now };
  return { allowed: true, tat: next, ahead: next - now, wait: 0 };
}

/** The caller-facing numbers for a decision; `ahead` and `wait` in µs. */
export function gcraResult(allowed: boolean, limit: number, interval: number, ahead: number, wait: number): RateLimitResult {
  return {
    allowed,
    limit,
    remaining: Math.max(0, Math.floor((interval * limit - ahead) / interval)),
    resetSec: Math.ceil(ahead / US_PER_SEC),
    retryAfterSec: allowed ? 0 : Math.max(1, Math.ceil(wait / US_PER_SEC)),
  };
}

export interface MemoryRateLimitStoreOptions {
  /** Most keys held; past it the least recently hit key is forgotten (that key then starts afresh). Default 100 000. */
  maxKeys?: number;
  /** How often expired keys are swept, at most, ms. Default 10 000. */
  sweepEveryMs?: number;
}

/**
 * In-process store: for a single API process, tests and development. Several processes each keep
 * their own counts (N processes admit N× the limit): use RedisRateLimitStore there.
 * Atomic because a hit runs synchronously start to finish on the event loop.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  /** key → TAT in µs; Map order is least recently hit first, which is the eviction order. */
  private readonly tats = new Map<string, number>();
  private readonly maxKeys: number;
  private readonly sweepEveryUs: number;
  private lastSweep = 0;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? 100_000;
    this.sweepEveryUs = (options.sweepEveryMs ?? 10_000) * 1000;
  }

  /** Keys currently held (expired ones linger until the next sweep). */
  get size(): number {
    return this.tats.size;
  }

  async hit(key: string, limit: number, windowSec: number, now?: number, cost = 1): Promise<RateLimitResult> {
    assertHitArgs(limit, windowSec, cost);
    if (limit === Infinity) return UNLIMITED;
    const nowUs = Math.round((now ?? Date.now()) * 1000);
    if (nowUs - this.lastSweep >= this.sweepEveryUs) this.sweep(nowUs);
    const interval = gcraInterval(limit, windowSec);
    const stored = this.tats.get(key);
    const d = gcraDecide(stored !== undefined && stored > nowUs ? stored : undefined, nowUs, interval, limit, cost);
    if (d.allowed) {
      this.tats.delete(key);
      this.tats.set(key, d.tat);
      if (this.tats.size > this.maxKeys) this.evictOldest();
    }
    return gcraResult(d.allowed, limit, interval, d.ahead, d.wait);
  }

  /** Drops every key whose bucket is full again: forgetting it changes no answer. */
  private sweep(nowUs: number): void {
    this.lastSweep = nowUs;
    for (const [key, tat] of this.tats) if (tat <= nowUs) this.tats.delete(key);
  }

  /** O(1): a full sweep here would cost O(maxKeys) per hit under exactly the key flood it guards against. */
  private evictOldest(): void {
    const oldest = this.tats.keys().next();
    if (!oldest.done) this.tats.delete(oldest.value);
  }
}

/**
 * The unit a per-address limit counts: an IPv4 address, or the /64 of an IPv6 address (one
 * subscriber usually has a whole /64, and would otherwise rotate through it to dodge the limit).
 */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** RateLimit-Limit / -Remaining / -Reset (draft-ietf-httpapi-ratelimit-headers, seconds), and Retry-After when refused. None when unlimited. */
export function rateLimitHeaders(result: RateLimitResult): Record<string, string> {
  if (!Number.isFinite(result.limit)) return {};
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(result.limit),
    'RateLimit-Remaining': String(result.remaining),
    'RateLimit-Reset': String(result.resetSec),
  };
  if (!result.allowed) headers['Retry-After'] = String(result.retryAfterSec);
  return headers;
}

// ---------------------------------------------------------------------------------------------
// The API's rules, as fastify hooks.

/** What an earlier (auth) hook may have put on `request.principal`; nothing else is assumed. */
export interface RateLimitPrincipal {
  tenantId: string;
  tier?: string;
}

export interface RateLimitRule {
  /** Requests per window; Infinity = unlimited. */
  limit: number;
  windowSec: number;
}

/** A route that creates productions; a batch counts its items (the array at `itemsField` in the body). */
export interface CreationRoute {
  method: string;
  url: string;
  itemsField?: string;
}

export interface RateLimitRules {
  /** Productions created per tenant, by tier; a tier not listed gets `defaultTier`'s limit. */
  creations: { windowSec: number; perTier: Record<string, number>; defaultTier: string; routes: CreationRoute[] };
  /** Requests without a principal, per client IP (request.ip: set trustProxy behind a proxy). */
  anonymous: RateLimitRule;
  /** Every other request with a principal, per tenant. */
  general: RateLimitRule;
  /** Paths never limited (exact, query ignored). */
  exempt: string[];
}

export const CREATION_ROUTES: CreationRoute[] = [
  { method: 'POST', url: '/v1/productions' },
  { method: 'POST', url: '/v1/productions/batch', itemsField: 'productions' },
  { method: 'POST', url: '/pipeline/run' },
  { method: 'POST', url: '/pipeline/batch', itemsField: 'jobs' },
];

export interface RateLimitRulesPerMinute {
  /** Productions per minute by tier; 0 or Infinity = unlimited. Default free 10, pro 100, enterprise unlimited. */
  tiers?: Record<string, number>;
  /** Unauthenticated requests per minute per IP; default 60. */
  anonymous?: number;
  /** Other requests per minute per tenant; default 600. */
  general?: number;
}

/** The rules from per-minute numbers, as configuration gives them (where 0 means unlimited). */
export function rateLimitRules(perMinute: RateLimitRulesPerMinute = {}): RateLimitRules {
  const n = (v: number): number => (v === 0 ? Infinity : v);
  const tiers = perMinute.tiers ?? { free: 10, pro: 100, enterprise: Infinity };
  return {
    creations: { windowSec: 60, perTier: Object.fromEntries(Object.entries(tiers).map(([t, v]) => [t, n(v)])), defaultTier: 'free', routes: CREATION_ROUTES },
    anonymous: { limit: n(perMinute.anonymous ?? 60), windowSec: 60 },
    general: { limit: n(perMinute.general ?? 600), windowSec: 60 },
    exempt: ['/health', '/ready', '/metrics'],
  };
}

export interface RegisterRateLimitsOptions {
  store: RateLimitStore;
  rules: RateLimitRules;
  /** Where the principal is; default `request.principal` when it has a string tenantId. */
  principalOf?: (request: FastifyRequest) => RateLimitPrincipal | undefined;
  /** Told of each refusal with the rule that refused it: anonymous, general or creations (metrics). */
  onRefused?: (rule: 'anonymous' | 'general' | 'creations') => void;
}

function defaultPrincipalOf(request: FastifyRequest): RateLimitPrincipal | undefined {
  const p = (request as unknown as { principal?: Partial<RateLimitPrincipal> }).principal;
  return p && typeof p.tenantId === 'string' ? { tenantId: p.tenantId, tier: typeof p.tier === 'string' ? p.tier : undefined } : undefined;
}

/**
 * Adds the rate-limit hooks. Call after the auth hook is registered, so `request.principal` is set.
 *  - no principal → `anonymous`, per IP, in onRequest;
 *  - a creation route → `creations`, per tenant by tier, in preValidation: the body is parsed there,
 *    so a batch counts its items, and it is still charged when the body then fails validation
 *    (a flood of invalid bodies is limited too). A batch larger than the tier's whole limit can
 *    never pass: it is a 400 invalid_batch saying how to split it, not a 429 to retry forever;
 *  - anything else → `general`, per tenant, in onRequest.
 * Refusals throw AppError('rate_limited') (429); the RateLimit-* headers go on every limited
 * response, refused or not, and Retry-After on refusals (set in onSend, so it is the precise value
 * whatever the error handler wrote).
 */
export function registerRateLimits(app: FastifyInstance, options: RegisterRateLimitsOptions): void {
  const { store, rules } = options;
  const principalOf = options.principalOf ?? defaultPrincipalOf;
  for (const rule of [rules.anonymous, rules.general, ...Object.values(rules.creations.perTier).map((limit) => ({ limit, windowSec: rules.creations.windowSec }))]) {
    assertHitArgs(rule.limit, rule.windowSec, 1);
  }
  if (!Object.hasOwn(rules.creations.perTier, rules.creations.defaultTier)) throw new RangeError(`rate limit default tier "${rules.creations.defaultTier}" has no limit in perTier`);
  const exempt = new Set(rules.exempt);
  const creationRoutes = new Map(rules.creations.routes.map((r) => [`${r.method.toUpperCase()} ${r.url}`, r]));
  const decided = new WeakMap<FastifyRequest, RateLimitResult>();
  const creationRoute = (request: FastifyRequest): CreationRoute | undefined => creationRoutes.get(`${request.method} ${request.routeOptions.url ?? ''}`);

  const charge = async (request: FastifyRequest, key: string, rule: RateLimitRule, cost: number, what: string, name: 'anonymous' | 'general' | 'creations'): Promise<void> => {
    const result = await store.hit(key, rule.limit, rule.windowSec, undefined, cost);
    // The headers describe the limit that binds: an unlimited quota does not hide the general one.
    if (result.limit !== Infinity || !decided.has(request)) decided.set(request, result);
    if (!result.allowed) {
      options.onRefused?.(name);
      throw new AppError('rate_limited', `rate limit exceeded: at most ${rule.limit} ${what} per ${rule.windowSec} s`, { details: [{ message: `retry after ${result.retryAfterSec} s` }] });
    }
  };

  app.addHook('onRequest', async (request) => {
    if (exempt.has(request.url.split('?', 1)[0] ?? '')) return;
    const who = principalOf(request);
    if (!who) return charge(request, `ip:${clientKey(request.ip)}`, rules.anonymous, 1, 'unauthenticated requests per client address', 'anonymous');
    // Creations count here too (their own quota comes on top, once the body is parsed): a body that
    // never parses is still a request.
    return charge(request, `tenant:${who.tenantId}`, rules.general, 1, 'requests per tenant', 'general');
  });

  app.addHook('preValidation', async (request) => {
    const route = creationRoute(request);
    const who = principalOf(request);
    if (!route || !who || exempt.has(request.url.split('?', 1)[0] ?? '')) return;
    const { perTier, defaultTier, windowSec } = rules.creations;
    const tier = who.tier !== undefined && Object.hasOwn(perTier, who.tier) ? who.tier : defaultTier;
    const limit = perTier[tier] as number;
    const items = route.itemsField ? (request.body as Record<string, unknown> | undefined)?.[route.itemsField] : undefined;
    const cost = Array.isArray(items) ? Math.max(1, items.length) : 1;
    if (cost > limit) {
      throw new AppError('invalid_batch', `a batch of ${cost} exceeds the ${tier} tier's ${limit} productions per ${windowSec} s`, {
        details: [{ path: route.itemsField, message: `send at most ${limit} items per batch, or upgrade the tier` }],
      });
    }
    return charge(request, `creations:${who.tenantId}`, { limit, windowSec }, cost, `productions (${tier} tier)`, 'creations');
  });

  app.addHook('onSend', async (request, reply) => {
    const result = decided.get(request);
    if (result) reply.headers(rateLimitHeaders(result));
  });
}

/**
 * Failed authentications per client address (the unit of clientKey), against `rule` in `store`.
 * Only failures are charged and only failures are refused: the returned function is called after
 * a credential was refused, and throws 429 instead of the 401 once the address is over its limit.
 * A valid credential from the same address (an office behind one NAT where someone mistyped a key)
 * still authenticates. Nothing is kept in this process beyond what the store keeps (the memory
 * store sweeps and bounds its keys; Redis expires them).
 */
export function failedAuthLimiter(store: RateLimitStore, rule: RateLimitRule, onRefused?: (rule: 'failed_auth') => void): (ip: string) => Promise<void> {
  return async (ip) => {
    const result = await store.hit(`authfail:${clientKey(ip)}`, rule.limit, rule.windowSec);
    if (!result.allowed) {
      onRefused?.('failed_auth');
      throw new AppError('rate_limited', `too many failed authentications from ${ip}`, { details: [{ message: `retry after ${result.retryAfterSec} s` }] });
    }
  };
}
