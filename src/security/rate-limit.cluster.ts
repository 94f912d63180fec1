/**
 * Rate limits shared by the API processes of one machine (`aiprod serve --api-processes N`) without
 * Redis: the cluster's primary keeps the one in-memory store, and each API process asks it over the
 * IPC channel node:cluster opens. Without this, N processes each counting in memory would admit N
 * times every limit. Several machines still need Redis (REDIS_URL), which then replaces both halves.
 *
 * A hit is one message each way (about 50 µs on a loopback pipe), answered in order of arrival, so
 * the GCRA decisions are exactly those of one process's memory store.
 */
import { MemoryRateLimitStore, type RateLimitResult, type RateLimitStore } from './rate-limit.js';

/** What a channel to the primary looks like: `process` in a cluster worker. */
export interface IpcChannel {
  send(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** What the primary answers with: `worker.send` of a node:cluster worker. */
export type Reply = (message: unknown) => void;

const HIT = 'aiprod:rate-limit-hit';
const RESULT = 'aiprod:rate-limit-result';

interface HitMessage {
  type: typeof HIT;
  id: number;
  args: [key: string, limit: number, windowSec: number, now: number | undefined, cost: number | undefined];
}

interface ResultMessage {
  type: typeof RESULT;
  id: number;
  result?: RateLimitResult;
  error?: string;
}

const isHit = (m: unknown): m is HitMessage => (m as { type?: unknown } | null)?.type === HIT;
const isResult = (m: unknown): m is ResultMessage => (m as { type?: unknown } | null)?.type === RESULT;

/** An API process's store: every hit is decided by the primary's store. */
export class ClusterRateLimitStore implements RateLimitStore {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: RateLimitResult) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly local = new MemoryRateLimitStore();
  private readonly onMessage = (message: unknown): void => {
    if (!isResult(message)) return;
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    clearTimeout(waiting.timer);
    if (message.result) waiting.resolve(message.result);
    else waiting.reject(new Error(`rate limit store (cluster primary): ${message.error ?? 'no result'}`));
  };

  /** @param timeoutMs how long a hit waits for the primary before it fails (the primary is gone or stuck). */
  constructor(
    private readonly channel: IpcChannel,
    private readonly timeoutMs = 2000,
  ) {
    channel.on('message', this.onMessage);
  }

  async hit(key: string, limit: number, windowSec: number, now?: number, cost?: number): Promise<RateLimitResult> {
    // Unlimited and invalid arguments need no primary: the local store answers or throws the same way.
    if (limit === Infinity || !(Number.isInteger(limit) && limit >= 1)) return this.local.hit(key, limit, windowSec, now, cost);
    const id = this.nextId++;
    return new Promise<RateLimitResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`rate limit store (cluster primary) did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      // send() returning false only means the channel's buffer is full: the message is queued all the same.
      this.channel.send({ type: HIT, id, args: [key, limit, windowSec, now, cost] } satisfies HitMessage);
    });
  }

  close(): void {
    this.channel.off('message', this.onMessage);
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new Error('rate limit store closed'));
      this.pending.delete(id);
    }
  }
}

/**
 * The primary's half: answers the hits of every API process from one store. Returns true when the
 * message was a hit (so the caller's dispatcher can stop there).
 */
export function answerRateLimitHit(store: RateLimitStore, message: unknown, reply: Reply): boolean {
  if (!isHit(message)) return false;
  // IPC is JSON: an omitted `now` or `cost` arrives as null.
  const [key, limit, windowSec, now, cost] = message.args;
  store.hit(key, limit, windowSec, now ?? undefined, cost ?? undefined).then(
    (result) => reply({ type: RESULT, id: message.id, result } satisfies ResultMessage),
    (error: unknown) => reply({ type: RESULT, id: message.id, error: error instanceof Error ? error.message : String(error) } satisfies ResultMessage),
  );
  return true;
}
