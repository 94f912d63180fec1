/**
 * RateLimitStore on Redis: the GCRA step of rate-limit.ts as one Lua script, so every API process
 * shares one count per key and concurrent hits are serialised by Redis itself.
 *
 * - Time comes from Redis' TIME inside the script, never the caller's clock: processes on
 *   machines whose clocks disagree still agree on every decision.
 * - Keys are `prefix + key` and expire (PX) the moment their bucket is full again, when forgetting
 *   them changes nothing: Redis holds only keys that are currently limiting someone.
 * - EVALSHA first; on NOSCRIPT (a restarted or flushed Redis) EVAL, which also reloads the script.
 * - A Redis failure or a reply slower than `timeoutMs` goes to `onError`, then fail-open (default:
 *   answer as if the key had no history, so an outage never takes the API down) or fail-closed
 *   (throw AppError('not_ready') → 503 with Retry-After: the caller is not over its limit, the
 *   limiter is unavailable, and a 429 would say otherwise).
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { AppError } from '../contract/errors.js';
import { assertHitArgs, gcraDecide, gcraInterval, gcraResult, UNLIMITED, type RateLimitResult, type RateLimitStore } from './rate-limit.js';

/**
 * KEYS[1] key; ARGV: interval µs, limit, cost, now µs ('' = Redis TIME).
 * Returns { allowed 0|1, µs the TAT lies ahead of now, µs to wait }. Mirrors gcraDecide.
 */
const SCRIPT = `
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local nxt = tat + interval * cost
local allowAt = nxt - interval * limit
if now < allowAt then
  return { 0, tat - now, allowAt - now }
end
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.ceil((nxt - now) / 1000))
return { 1, nxt - now, 0 }
`;
const SHA = createHash('sha1').update(SCRIPT).digest('hex');

/** The two commands the store needs; an ioredis `Redis` (or Cluster) satisfies it. */
export interface RedisScriptClient {
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

export interface RedisRateLimitStoreOptions {
  /** Prepended to every key; default `aiprod:ratelimit:`. */
  prefix?: string;
  /** `open` (default): allow when Redis fails; `closed`: refuse with a 503. */
  failMode?: 'open' | 'closed';
  /** Longest wait for Redis before treating the hit as failed, ms. Default 250. */
  timeoutMs?: number;
  /** Every Redis failure (and, for stores made by connect, connection errors). */
  onError?: (error: Error) => void;
}

/**
 * @example
 *   const limits = await RedisRateLimitStore.connect(env.REDIS_URL, { onError: (err) => log.warn({ err }, 'rate limiter') });
 *   await limits.hit(`tenant:${id}`, 600, 60);
 *   await limits.close();
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly prefix: string;
  private readonly failMode: 'open' | 'closed';
  private readonly timeoutMs: number;
  private readonly onError: (error: Error) => void;

  /** `owned` is a client this store made and closes; a client passed in stays the caller's. */
  constructor(
    private readonly client: RedisScriptClient,
    options: RedisRateLimitStoreOptions = {},
    private readonly owned?: Redis,
  ) {
    this.prefix = options.prefix ?? 'aiprod:ratelimit:';
    this.failMode = options.failMode ?? 'open';
    this.timeoutMs = options.timeoutMs ?? 250;
    this.onError = options.onError ?? (() => undefined);
  }

  /**
   * A store with its own client, set to fail fast: no offline queue (commands fail at once while
   * disconnected instead of piling up), one attempt per command, reconnecting in the background.
   * Waits up to `connectTimeoutMs` (default 2 000) for the connection but never throws: if Redis
   * is down at start the API still starts, and hits follow `failMode` until Redis answers.
   */
  static async connect(url: string, options: RedisRateLimitStoreOptions & { connectTimeoutMs?: number } = {}): Promise<RedisRateLimitStore> {
    const connectTimeout = options.connectTimeoutMs ?? 2_000;
    // disconnectTimeout: ioredis otherwise keeps a 2 s timer alive on close when the socket had already failed.
    const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout, lazyConnect: true, disconnectTimeout: 200 });
    // Without a listener ioredis prints every reconnect failure to stderr.
    client.on('error', (error: Error) => options.onError?.(error));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.connect().catch(() => undefined), // reported through the 'error' listener; reconnects on its own
      new Promise((resolve) => (timer = setTimeout(resolve, connectTimeout))),
    ]).finally(() => clearTimeout(timer));
    return new RedisRateLimitStore(client, options, client);
  }

  async hit(key: string, limit: number, windowSec: number, now?: number, cost = 1): Promise<RateLimitResult> {
    assertHitArgs(limit, windowSec, cost);
    if (limit === Infinity) return UNLIMITED;
    const interval = gcraInterval(limit, windowSec);
    const args = [interval, limit, cost, now === undefined ? '' : Math.round(now * 1000)];
    try {
      const reply = await this.withTimeout(this.run(this.prefix + key, args));
      if (!Array.isArray(reply) || reply.length !== 3) throw new Error(`unexpected reply from the rate-limit script: ${JSON.stringify(reply)}`);
      const [allowed, ahead, wait] = reply.map(Number) as [number, number, number];
      return gcraResult(allowed === 1, limit, interval, ahead, wait);
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      this.onError(err);
      if (this.failMode === 'closed') {
        throw new AppError('not_ready', 'rate limiter unavailable', { cause: err, details: [{ message: 'retry shortly' }] });
      }
      const fresh = gcraDecide(undefined, 0, interval, limit, cost);
      return gcraResult(fresh.allowed, limit, interval, fresh.ahead, fresh.wait);
    }
  }

  /** Closes the client if this store made it (connect). */
  async close(): Promise<void> {
    if (this.owned) await this.owned.quit().catch(() => this.owned?.disconnect());
  }

  private async run(key: string, args: (string | number)[]): Promise<unknown> {
    try {
      return await this.client.evalsha(SHA, 1, key, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return this.client.eval(SCRIPT, 1, key, ...args);
    }
  }

  private withTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    // A reply that arrives after the timeout is dropped; its rejection must not go unhandled.
    work.catch(() => undefined);
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}
