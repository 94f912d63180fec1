/**
 * The `webhook` job: one attempt of one delivery. It claims the delivery (a lease on
 * next_attempt_at), unless an earlier event of the same production to the same endpoint is still
 * pending — then it waits, and the earlier one's end gives it a job (order within a production).
 * It signs the body afresh, POSTs it (sender.ts), and in one transaction records the attempt and
 * what comes next: delivered; another attempt (next_attempt_at from the retry schedule, then a new
 * job with startAfter); or given up, which counts against the endpoint and disables it after too
 * many in a row.
 *
 * A failed POST is an outcome, recorded, not an error; the job throws only when the database or
 * the secrets fail, and pg-boss retries it.
 */
import { sql } from 'drizzle-orm';
import { executorFor, type AppDb, type Database } from '../db/database.js';
import type { JobQueue, QueueJob } from '../queue/queue.js';
import type { SecretBox } from '../security/secrets.js';
import type { AuditLog } from '../services/audit.service.js';
import { delayBefore, type WebhookConfig } from './config.js';
import type { WebhookMetrics } from './metrics.js';
import { postWebhook, type WebhookResult } from './sender.js';
import { tenantSigningSecret, webhookSecretContext, previousSecretContext } from './signing-secrets.js';
import { signWebhookWith } from './verify.js';
import * as repo from './webhooks.repository.js';

export type WebhookLog = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export interface DeliveryDeps {
  database: Database;
  queue: JobQueue;
  secrets: SecretBox;
  audit: AuditLog;
  config: WebhookConfig;
  metrics?: WebhookMetrics;
  log?: WebhookLog;
}

type Outcome = 'delivered' | 'retrying' | 'failed';

/** Takes the delivery for one attempt, or says why not (finished, not due, or waiting its turn). */
async function claim(db: AppDb, id: string, leaseSec: number): Promise<repo.DeliveryRow | undefined> {
  return db.transaction(async (tx) => {
    const delivery = await repo.findDeliveryById(tx, id);
    if (delivery?.status !== 'pending') return undefined;
    const stream = await repo.lockPendingStream(tx, delivery);
    const first = stream[0];
    if (!first || !stream.some((s) => s.id === id)) return undefined;
    if (first.id !== id) {
      // An earlier event is still on its way: wait for it. Its end (release) gives this one a job;
      // until then the catch-up sees this one as due no sooner than the earlier one.
      await repo.updateDelivery(tx, id, { nextAttemptAt: first.nextAttemptAt ?? sql`now()` });
      return undefined;
    }
    return repo.claimDelivery(tx, id, leaseSec);
  });
}

/** The next event of the stream may go now. */
async function release(tx: AppDb, queue: JobQueue, delivery: repo.DeliveryRow): Promise<void> {
  const next = await repo.nextInStream(tx, delivery);
  if (!next) return;
  await repo.updateDelivery(tx, next.id, { nextAttemptAt: sql`now()` });
  await queue.enqueue('webhook', { deliveryId: next.id }, { executor: executorFor(tx) });
}

/** Where the delivery goes now and with which secret; undefined when its webhook is gone or disabled. */
async function endpoint(deps: DeliveryDeps, delivery: repo.DeliveryRow): Promise<{ url: string; secrets: string[] } | undefined> {
  const db = deps.database.db;
  if (!delivery.webhookId) return { url: delivery.url, secrets: [await tenantSigningSecret(db, deps.secrets, delivery.tenantId)] };
  const hook = await repo.findWebhookById(db, delivery.webhookId);
  if (!hook?.enabled) return undefined;
  const secrets = [deps.secrets.open(hook.secret, webhookSecretContext(hook.id))];
  // Within a rotation's grace period the previous secret signs as well.
  if (hook.previousSecret && hook.previousSecretUntil && hook.previousSecretUntil > new Date()) {
    secrets.push(deps.secrets.open(hook.previousSecret, previousSecretContext(hook.id)));
  }
  // A webhook's URL may have been corrected since the event: retries follow it.
  return { url: hook.url, secrets };
}

export async function handleDelivery(job: QueueJob<'webhook'>, deps: DeliveryDeps): Promise<void> {
  const { database, queue, config } = deps;
  const db = database.db;
  const delivery = await claim(db, job.data.deliveryId, Math.ceil(config.timeoutMs / 1000) + 60);
  if (!delivery) return;
  const target = await endpoint(deps, delivery);
  if (!target) {
    // Disabling or deleting a webhook closes its pending deliveries; this one slipped between.
    await db.transaction(async (tx) => {
      await repo.updateDelivery(tx, delivery.id, { status: 'failed', nextAttemptAt: null });
      await release(tx, queue, delivery);
    });
    return;
  }
  const body = JSON.stringify(delivery.payload);
  const result = await postWebhook(
    {
      url: target.url,
      body,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'AIPROD-Webhooks/1',
        'AIPROD-Event-Id': delivery.eventId,
        'AIPROD-Event-Type': delivery.eventType,
        'AIPROD-Delivery-Id': delivery.id,
        'AIPROD-Attempt': String(delivery.attempts),
        'AIPROD-Signature': signWebhookWith(body, target.secrets, Math.floor(Date.now() / 1000)),
      },
    },
    { timeoutMs: config.timeoutMs, allow: config.allow, lookup: config.lookup },
  );
  const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
  const delay = ok ? undefined : delayBefore(config, delivery.attempts + 1);
  const outcome: Outcome = ok ? 'delivered' : delay !== undefined ? 'retrying' : 'failed';
  const disabled = await record(deps, delivery, target.url, result, outcome, delay ?? 0);
  deps.metrics?.attempts.inc({ outcome });
  deps.metrics?.attemptSeconds.observe(result.latencyMs / 1000);
  const fields = { deliveryId: delivery.id, eventType: delivery.eventType, attempt: delivery.attempts, status: result.statusCode, error: result.error };
  if (outcome !== 'delivered') deps.log?.('warn', `webhook attempt failed${outcome === 'failed' ? '; giving up' : ''}`, fields);
  if (disabled) {
    deps.metrics?.disabled.inc();
    deps.log?.('warn', 'webhook endpoint disabled', { webhookId: disabled.id, consecutiveFailures: disabled.consecutiveFailures });
    await deps.audit.record({
      tenantId: disabled.tenantId, actor: 'system', action: 'webhook.disabled', target: disabled.id,
      details: { reason: disabled.disabledReason, consecutiveFailures: disabled.consecutiveFailures, lastDelivery: delivery.id },
    });
  }
}

/** Records the attempt and what follows, in one transaction; returns the endpoint if this disabled it. */
async function record(deps: DeliveryDeps, delivery: repo.DeliveryRow, url: string, result: WebhookResult, outcome: Outcome, delaySec: number): Promise<repo.WebhookRow | undefined> {
  const { queue, config } = deps;
  return deps.database.db.transaction(async (tx) => {
    await repo.insertAttempt(tx, {
      deliveryId: delivery.id, attempt: delivery.attempts, statusCode: result.statusCode, latencyMs: result.latencyMs,
      responseStart: result.responseStart, error: result.error,
    });
    const seen = { lastStatusCode: result.statusCode, url };
    switch (outcome) {
      case 'delivered':
        await repo.updateDelivery(tx, delivery.id, { ...seen, status: 'delivered', deliveredAt: sql`now()`, nextAttemptAt: null });
        if (delivery.webhookId) await repo.resetFailures(tx, delivery.webhookId);
        await release(tx, queue, delivery);
        return undefined;
      case 'retrying':
        await repo.scheduleDelivery(tx, delivery.id, delaySec, seen);
        // The next attempt's job commits with the attempt's record: nothing to lose in between.
        await queue.enqueue('webhook', { deliveryId: delivery.id }, { startAfterSec: delaySec, executor: executorFor(tx) });
        return undefined;
      case 'failed': {
        await repo.updateDelivery(tx, delivery.id, { ...seen, status: 'failed', nextAttemptAt: null });
        let disabled: repo.WebhookRow | undefined;
        const hook = delivery.webhookId ? await repo.countFailure(tx, delivery.webhookId) : undefined;
        if (hook?.enabled && hook.consecutiveFailures >= config.disableAfterFailures) {
          const reason = `${hook.consecutiveFailures} deliveries in a row failed after ${config.retryScheduleSec.length} attempts each; last: ${result.error ?? `HTTP ${result.statusCode}`}`;
          disabled = await repo.disableWebhook(tx, hook.id, reason.slice(0, 500));
          if (disabled) await repo.failPendingOfWebhook(tx, hook.id);
        }
        await release(tx, queue, delivery);
        return disabled;
      }
    }
  });
}
