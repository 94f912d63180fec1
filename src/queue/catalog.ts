/**
 * Every job AIPROD queues, declared once: its payload schema, retry policy and expiry. Payloads
 * are validated when enqueued and again when a worker takes them.
 */
import { z } from 'zod';

export const JOBS = {
  /** Render one production (or resume it from its cached stages). */
  render: {
    queue: 'aiprod.render',
    payload: z.strictObject({ productionId: z.string().min(1) }),
    /** pg-boss's own expiry is only a backstop; stalls are found by the production heartbeat. */
    expireInSeconds: 4 * 3600,
  },
  /** Periodic upkeep: stalled productions, jobless queued ones, expired outputs and cache. */
  sweep: {
    queue: 'aiprod.sweep',
    payload: z.strictObject({ kind: z.enum(['stalls', 'retention']) }),
    expireInSeconds: 600,
  },
  /**
   * One attempt of one webhook delivery (webhooks/delivery.handler.ts). The next attempt is a new
   * job with startAfter from the retry schedule, so pg-boss's own retry only covers database errors.
   */
  webhook: {
    queue: 'aiprod.webhook',
    payload: z.strictObject({ deliveryId: z.string().min(1) }),
    expireInSeconds: 300,
  },
} as const;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['payload']>;
