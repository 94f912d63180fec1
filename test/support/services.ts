/**
 * Which real services a suite needs, and what happens when one is missing: a developer's run skips
 * the suite with the reason; under CI=true the same absence is a failure, so a CI machine without
 * PostgreSQL or Redis cannot pass by running nothing.
 */
import { redisOrReason } from './redis.js';

const inCi = process.env.CI === 'true' || process.env.CI === '1';

/**
 * `false` when the service is there; otherwise the reason to skip. Under CI it throws instead.
 * @example
 * const skip = requireService(process.env.TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set');
 */
export function requireService(reason: string | false): string | false {
  if (reason === false) return false;
  if (inCi) throw new Error(`CI=true and a service this suite needs is missing: ${reason}`);
  return reason;
}

/** The PostgreSQL server URL for suites that make their own database, or why they skip. */
export function postgresOrSkip(): { base: string | undefined; skip: string | false } {
  const base = process.env.TEST_DATABASE_URL;
  return { base, skip: requireService(base ? false : 'TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)') };
}

/** A connected Redis client, or the reason to skip (a failure under CI). */
export async function redisOrSkip(): Promise<Awaited<ReturnType<typeof redisOrReason>>> {
  const redis = await redisOrReason();
  if (typeof redis === 'string') return requireService(redis) || redis;
  return redis;
}
