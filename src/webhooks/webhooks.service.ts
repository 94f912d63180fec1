/**
 * Webhook endpoints of a tenant (/v1/webhooks): create with a signing secret shown once, change,
 * rotate the secret, delete; the delivery log and manual redelivery. Every change is audited.
 * A URL is refused (422 unsafe_url) when it could reach inside the network, by the same policy as
 * media downloads; it is checked again, with a fresh lookup, at every attempt.
 */
import { AppError } from '../contract/errors.js';
import { executorFor, type AppDb, type Database } from '../db/database.js';
import { decodeCursor, encodeCursor } from '../db/productions.repository.js';
import type { JobQueue } from '../queue/queue.js';
import { displayUrl } from '../net/url-policy.js';
import type { SecretBox } from '../security/secrets.js';
import type { AuditLog } from '../services/audit.service.js';
import type { WebhookConfig } from './config.js';
import { newId, type WebhookEventType } from './events.js';
import { checkWebhookUrl } from '../net/webhook-target.js';
import { newSigningSecret, tenantSecretContext, webhookSecretContext, previousSecretContext } from './signing-secrets.js';
import * as repo from './webhooks.repository.js';

/** Who acts (for the audit log): a tenant's key or token. */
export interface WebhookActor {
  actor: string;
  tenantId: string;
  ip?: string;
}

export interface WebhookView {
  id: string;
  url: string;
  events: WebhookEventType[];
  enabled: boolean;
  disabledReason: string | null;
  consecutiveFailures: number;
  createdAt: string;
  updatedAt: string;
}

export interface DeliveryView {
  id: string;
  webhookId: string | null;
  productionId: string | null;
  eventId: string;
  eventType: string;
  url: string;
  status: repo.DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  createdAt: string;
  deliveredAt: string | null;
}

export interface AttemptView {
  attempt: number;
  at: string;
  statusCode: number | null;
  latencyMs: number;
  responseStart: string | null;
  error: string | null;
}

export interface WebhookInput {
  url: string;
  events: WebhookEventType[];
  enabled?: boolean;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function view(row: repo.WebhookRow): WebhookView {
  return {
    id: row.id, url: row.url, events: row.events as WebhookEventType[], enabled: row.enabled, disabledReason: row.disabledReason,
    consecutiveFailures: row.consecutiveFailures, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(),
  };
}

export function deliveryView(row: repo.DeliveryRow): DeliveryView {
  return {
    id: row.id, webhookId: row.webhookId, productionId: row.productionId, eventId: row.eventId, eventType: row.eventType, url: row.url,
    status: row.status as repo.DeliveryStatus, attemptCount: row.attempts, nextAttemptAt: row.status === 'pending' ? iso(row.nextAttemptAt) : null,
    lastStatusCode: row.lastStatusCode, createdAt: row.createdAt.toISOString(), deliveredAt: iso(row.deliveredAt),
  };
}

const notFound = (what: string, id: string): AppError =>
  new AppError('not_found', `no ${what} ${id}`, { details: [{ path: 'id', message: `check the id; ${what}s of other tenants are not visible` }] });

export class WebhooksService {
  constructor(
    private readonly deps: { database: Database; queue: JobQueue; secrets: SecretBox; audit: AuditLog; config: WebhookConfig },
  ) {}

  private get db(): AppDb {
    return this.deps.database.db;
  }

  private record(by: WebhookActor, action: string, target: string, details?: Record<string, unknown>): Promise<void> {
    return this.deps.audit.record({ actor: by.actor, tenantId: by.tenantId, action, target, ip: by.ip ?? null, details });
  }

  /** 422 unsafe_url when `url` could reach inside the network (net/webhook-target.ts). */
  checkUrl(url: string, field = 'url'): Promise<void> {
    return checkWebhookUrl(url, { allow: this.deps.config.allow, lookup: this.deps.config.lookup, field });
  }

  async create(by: WebhookActor, input: WebhookInput): Promise<{ secret: string; webhook: WebhookView }> {
    await this.checkUrl(input.url);
    const id = newId('wh');
    const secret = newSigningSecret();
    const row = await repo.insertWebhook(this.db, {
      id, tenantId: by.tenantId, url: input.url, events: [...new Set(input.events)], enabled: input.enabled ?? true,
      secret: this.deps.secrets.seal(secret, webhookSecretContext(id)),
    });
    await this.record(by, 'webhook.created', id, { url: displayUrl(row.url), events: row.events, enabled: row.enabled });
    return { secret, webhook: view(row) };
  }

  async list(tenantId: string): Promise<WebhookView[]> {
    return (await repo.listWebhooks(this.db, tenantId)).map(view);
  }

  private async require(tenantId: string, id: string): Promise<repo.WebhookRow> {
    const row = await repo.findWebhook(this.db, tenantId, id);
    if (!row) throw notFound('webhook', id);
    return row;
  }

  async get(tenantId: string, id: string): Promise<WebhookView> {
    return view(await this.require(tenantId, id));
  }

  /**
   * Changes url, events or enabled. Disabling closes the pending deliveries (redeliver them after
   * enabling again); enabling resets the count of failed deliveries.
   */
  async update(by: WebhookActor, id: string, patch: Partial<WebhookInput>): Promise<WebhookView> {
    const before = await this.require(by.tenantId, id);
    if (patch.url !== undefined) await this.checkUrl(patch.url);
    const values: Partial<repo.NewWebhook> = {};
    if (patch.url !== undefined) values.url = patch.url;
    if (patch.events !== undefined) values.events = [...new Set(patch.events)];
    if (patch.enabled === true && !before.enabled) Object.assign(values, { enabled: true, disabledReason: null, consecutiveFailures: 0 });
    if (patch.enabled === false && before.enabled) Object.assign(values, { enabled: false, disabledReason: `disabled by ${by.actor}` });
    const after = await this.db.transaction(async (tx) => {
      const row = await repo.updateWebhook(tx, by.tenantId, id, values);
      if (row && !row.enabled) await repo.failPendingOfWebhook(tx, id);
      return row;
    });
    if (!after) throw notFound('webhook', id);
    const changes = Object.fromEntries(
      (['url', 'events', 'enabled'] as const)
        .filter((k) => k in values)
        .map((k) => [k, { from: k === 'url' ? displayUrl(before.url) : before[k], to: k === 'url' ? displayUrl(after.url) : after[k] }]),
    );
    await this.record(by, 'webhook.updated', id, changes);
    return view(after);
  }

  async remove(by: WebhookActor, id: string): Promise<void> {
    const removed = await this.db.transaction(async (tx) => {
      const row = await repo.deleteWebhook(tx, by.tenantId, id);
      if (row) await repo.failPendingOfWebhook(tx, id);
      return row;
    });
    if (!removed) throw notFound('webhook', id);
    await this.record(by, 'webhook.deleted', id, { url: displayUrl(removed.url) });
  }

  /**
   * A new secret, in force at once (attempts are signed when sent, so pending retries use it too).
   * For `graceSec` (default 24 h) deliveries carry a signature with the previous secret as well, so
   * a receiver can switch over without rejecting anything.
   */
  async rotateSecret(by: WebhookActor, id: string, graceSec = 86_400): Promise<{ secret: string; webhook: WebhookView }> {
    const current = await this.require(by.tenantId, id);
    const secret = newSigningSecret();
    const previous = graceSec > 0 ? this.deps.secrets.seal(this.deps.secrets.open(current.secret, webhookSecretContext(id)), previousSecretContext(id)) : null;
    const row = await repo.updateWebhook(this.db, by.tenantId, id, {
      secret: this.deps.secrets.seal(secret, webhookSecretContext(id)),
      previousSecret: previous,
      previousSecretUntil: previous ? new Date(Date.now() + graceSec * 1000) : null,
    });
    if (!row) throw notFound('webhook', id);
    await this.record(by, 'webhook.secret_rotated', id, { graceSec });
    return { secret, webhook: view(row) };
  }

  /** Makes or replaces the tenant's secret for briefs' own webhookUrl; shown in this answer only. */
  async rotateDefaultSecret(by: WebhookActor): Promise<{ secret: string }> {
    const secret = newSigningSecret();
    await repo.setTenantWebhookSecret(this.db, by.tenantId, this.deps.secrets.seal(secret, tenantSecretContext(by.tenantId)));
    await this.record(by, 'webhook.secret_rotated', 'default', { scope: "briefs' webhookUrl" });
    return { secret };
  }

  async deliveries(tenantId: string, filter: repo.DeliveryFilter, page: { limit: number; cursor?: string }): Promise<{ data: DeliveryView[]; nextCursor: string | null }> {
    if (filter.webhookId) await this.require(tenantId, filter.webhookId);
    const cursor = page.cursor ? decodeCursor(page.cursor) : undefined;
    if (page.cursor && !cursor) throw new AppError('invalid_request', 'cursor is not one this API gave out', { details: [{ path: 'cursor', message: 'pass the nextCursor of the previous page, unchanged' }] });
    const rows = await repo.listDeliveries(this.db, tenantId, filter, cursor, page.limit);
    const data = rows.slice(0, page.limit);
    const last = data[data.length - 1];
    return { data: data.map(deliveryView), nextCursor: rows.length > page.limit && last ? encodeCursor(last) : null };
  }

  async delivery(tenantId: string, id: string): Promise<DeliveryView & { payload: Record<string, unknown>; attempts: AttemptView[] }> {
    const row = await repo.findDelivery(this.db, tenantId, id);
    if (!row) throw notFound('delivery', id);
    const attempts = await repo.listAttempts(this.db, id);
    return {
      ...deliveryView(row), payload: row.payload as Record<string, unknown>,
      attempts: attempts.map((a) => ({ attempt: a.attempt, at: a.at.toISOString(), statusCode: a.statusCode, latencyMs: a.latencyMs, responseStart: a.responseStart, error: a.error })),
    };
  }

  /**
   * Sends a delivery's event again as a new delivery (same event id and body, a fresh retry schedule)
   * to the endpoint as it is now. It keeps the order of its production's events to that endpoint.
   */
  async redeliver(by: WebhookActor, id: string): Promise<DeliveryView> {
    const original = await repo.findDelivery(this.db, by.tenantId, id);
    if (!original) throw notFound('delivery', id);
    let url = original.url;
    if (original.webhookId) {
      const hook = await repo.findWebhook(this.db, by.tenantId, original.webhookId);
      if (!hook) throw new AppError('conflict', `webhook ${original.webhookId} was deleted`, { details: [{ path: 'deliveryId', message: 'create a webhook for this URL, then its new events are delivered' }] });
      if (!hook.enabled) throw new AppError('conflict', `webhook ${hook.id} is disabled`, { details: [{ path: 'enabled', message: `enable it first: PATCH /v1/webhooks/${hook.id} {"enabled": true}` }] });
      url = hook.url;
    }
    const copy: repo.NewDelivery = {
      id: newId('dlv'), tenantId: original.tenantId, webhookId: original.webhookId, productionId: original.productionId,
      eventId: original.eventId, eventType: original.eventType, url, payload: original.payload, status: 'pending',
    };
    await this.db.transaction(async (tx) => {
      await repo.insertDeliveries(tx, [copy]);
      await this.deps.queue.enqueue('webhook', { deliveryId: copy.id }, { executor: executorFor(tx) });
    });
    const row = await repo.findDeliveryById(this.db, copy.id);
    return deliveryView(row as repo.DeliveryRow);
  }
}
