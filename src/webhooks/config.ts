/** What webhook delivery can be tuned with (from WEBHOOK_* variables in config/env.ts). */
import { AppError } from '../contract/errors.js';
import { compileAllowList, type AllowList, type LookupAll } from '../net/url-policy.js';

export interface WebhookOptions {
  /**
   * Seconds to wait before each attempt, the first usually 0; its length is the number of attempts.
   * Default: 0, 30 s, 2 min, 10 min, 1 h, 3 h, 6 h, 12 h — 8 attempts over about 22 hours.
   */
  retryScheduleSec?: readonly number[];
  /** One attempt, from connecting to the first bytes of the answer, in ms. Default 10 000. */
  timeoutMs?: number;
  /** Deliveries that ran out of attempts in a row before an endpoint is disabled. Default 10. */
  disableAfterFailures?: number;
  /** Host names delivered to even when they resolve to private addresses (`hooks.internal`, `*.corp.example`). */
  allowHosts?: readonly string[];
  /** Private networks delivered to (`10.1.0.0/16`, `127.0.0.1`). */
  allowCidrs?: readonly string[];
  /** production.progress is sent once per this many percent. Default 10. */
  progressStepPct?: number;
  /** How often the catch-up looks for pending deliveries without a job, in seconds. Default 60. */
  catchUpIntervalSec?: number;
  /** How overdue a pending delivery must be before the catch-up gives it a new job, in seconds. Default 120. */
  catchUpGraceSec?: number;
  /** Host resolution; default dns.promises.lookup. Tests inject names. */
  lookup?: LookupAll;
}

export interface WebhookConfig {
  retryScheduleSec: readonly number[];
  timeoutMs: number;
  disableAfterFailures: number;
  allow: AllowList;
  progressStepPct: number;
  catchUpIntervalSec: number;
  catchUpGraceSec: number;
  lookup: LookupAll | undefined;
}

export const DEFAULT_RETRY_SCHEDULE_SEC: readonly number[] = [0, 30, 120, 600, 3600, 10_800, 21_600, 43_200];

const bad = (name: string, remedy: string): AppError => new AppError('internal', `invalid configuration: ${name}: ${remedy}`);

export function webhookConfig(options: WebhookOptions = {}): WebhookConfig {
  const schedule = options.retryScheduleSec ?? DEFAULT_RETRY_SCHEDULE_SEC;
  if (schedule.length === 0 || schedule.some((s) => !Number.isFinite(s) || s < 0)) {
    throw bad('WEBHOOK_RETRY_SCHEDULE_SEC', 'give one or more delays in seconds, e.g. 0,30,120,600');
  }
  let allow: AllowList;
  try {
    allow = compileAllowList(options.allowHosts, options.allowCidrs);
  } catch (error) {
    throw bad('WEBHOOK_ALLOW_CIDRS', (error as Error).message);
  }
  return {
    retryScheduleSec: schedule,
    timeoutMs: options.timeoutMs ?? 10_000,
    disableAfterFailures: Math.max(1, options.disableAfterFailures ?? 10),
    allow,
    progressStepPct: options.progressStepPct ?? 10,
    catchUpIntervalSec: options.catchUpIntervalSec ?? 60,
    catchUpGraceSec: options.catchUpGraceSec ?? 120,
    lookup: options.lookup,
  };
}

/**
 * Seconds before attempt `attempt` (1-based), with up to 10 % jitter so a recovered receiver is not
 * hit by every retry at once; in whole milliseconds (PostgreSQL refuses longer fractions as intervals).
 */
export function delayBefore(config: WebhookConfig, attempt: number): number | undefined {
  const base = config.retryScheduleSec[attempt - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (1 + Math.random() * 0.1) * 1000) / 1000;
}
