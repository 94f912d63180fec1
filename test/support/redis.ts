/** The machine's Redis for tests (REDIS_URL, default 127.0.0.1:6379), or why it cannot be used. */
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A connected client, or the reason a test should skip. */
export async function redisOrReason(): Promise<Redis | string> {
  let lastError: Error | undefined;
  const client = new Redis(REDIS_URL, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 1_000 });
  client.on('error', (error: Error) => (lastError = error));
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (error) {
    client.disconnect();
    return `Redis unreachable at ${REDIS_URL} (${(lastError ?? (error as Error)).message})`;
  }
}
