/**
 * Wires webhooks (part of the composition root): the API's service (routes/webhooks.routes.ts), the emitter the status changes
 * call, and the delivery worker (the `webhook` queue and the catch-up).
 *
 * @example
 *   const webhooks = createWebhooks({ database, queue, secrets, audit: access.audit, options: { timeoutMs: 10_000 } });
 *   await webhooks.work(4);               // in worker processes
 *   app.register(webhookRoutes({ webhooks: webhooks.service }));
 */
import type { Database } from '../db/database.js';
import type { JobQueue } from '../queue/queue.js';
import type { SecretBox } from '../security/secrets.js';
import type { AuditLog } from '../services/audit.service.js';
import { catchUpDeliveries } from '../webhooks/catch-up.js';
import { webhookConfig, type WebhookConfig, type WebhookOptions } from '../webhooks/config.js';
import { handleDelivery, type WebhookLog } from '../webhooks/delivery.handler.js';
import { WebhookEmitter } from '../webhooks/emitter.js';
import type { WebhookMetrics } from '../webhooks/metrics.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';

export interface WebhooksDeps {
  database: Database;
  queue: JobQueue;
  secrets: SecretBox;
  audit: AuditLog;
  options?: WebhookOptions;
  metrics?: WebhookMetrics;
  log?: WebhookLog;
}

export interface Webhooks {
  config: WebhookConfig;
  service: WebhooksService;
  emitter: WebhookEmitter;
  /** Delivers: `concurrency` attempts at a time from the queue, plus the catch-up now and periodically. */
  work(concurrency: number): Promise<void>;
  /** Gives overdue pending deliveries a new job; returns their ids. */
  catchUp(): Promise<string[]>;
  /**
   * Stops the periodic catch-up and waits for the attempts in flight (each ends within the timeout).
   * Call it after the queue's stopWorking, before the database closes.
   */
  stop(): Promise<void>;
}

export function createWebhooks(deps: WebhooksDeps): Webhooks {
  const config = webhookConfig(deps.options);
  const { database, queue } = deps;
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();
  const catchUp = (): Promise<string[]> => catchUpDeliveries(database, queue, { graceSec: config.catchUpGraceSec });
  return {
    config,
    service: new WebhooksService({ database, queue, secrets: deps.secrets, audit: deps.audit, config }),
    emitter: new WebhookEmitter(queue, { progressStepPct: config.progressStepPct }),
    async work(concurrency) {
      await queue.work('webhook', concurrency, (job) => {
        const attempt = handleDelivery(job, { ...deps, config });
        const tracked = attempt.catch(() => undefined).finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
        return attempt;
      });
      const run = (): void => {
        const tracked: Promise<void> = catchUp()
          .then((ids) => {
            if (ids.length > 0) deps.log?.('warn', 'webhooks: gave overdue deliveries a new job', { count: ids.length });
          })
          .catch((error: unknown) => deps.log?.('error', 'webhooks: catch-up failed', { message: (error as Error).message }))
          .finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      };
      run();
      timer = setInterval(run, config.catchUpIntervalSec * 1000);
      timer.unref();
    },
    catchUp,
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}
