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
  /**
   * Self-healing (jobs/self-healing.ts): auto-retry of transient failures and stuck detection, on a
   * cron every AUTO_RETRY_INTERVAL_SEC. Each re-queue and report is claimed by a conditional
   * UPDATE, so a run that happens twice does nothing twice.
   */
  heal: {
    queue: 'aiprod.heal',
    payload: z.strictObject({ kind: z.literal('heal') }),
    expireInSeconds: 600,
  },
  /**
   * Build one bulk export (jobs/export.handler.ts). A failed build is retried with backoff; a
   * worker lost mid-build is found by the export's stale heartbeat and the export queued again.
   */
  export: {
    queue: 'aiprod.export',
    payload: z.strictObject({ exportId: z.string().min(1) }),
    expireInSeconds: 3600,
    retryLimit: 3,
  },
  /** Refresh the usage rollups (services/usage.service.ts); scheduled every USAGE_ROLLUP_INTERVAL_MIN. */
  usage: {
    queue: 'aiprod.usage',
    payload: z.strictObject({ kind: z.literal('rollup') }),
    expireInSeconds: 1800,
  },
} as const;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['payload']>;
