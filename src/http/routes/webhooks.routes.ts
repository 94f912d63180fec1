/**
 * /v1/webhooks: a tenant's endpoints (scope `webhooks`), their signing secrets (shown once, on
 * create and rotate), the delivery log with every attempt, and manual redelivery. Another
 * tenant's webhook or delivery is a 404. See docs/webhooks.md for payloads and signatures.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBodySchema } from '../../contract/production.js';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/events.js';
import type { WebhooksService } from '../../webhooks/webhooks.service.js';
import { principal } from '../auth.js';

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema, 422: errorBodySchema };
const tags = ['webhooks'];
const config = { scope: 'webhooks' as const };

const eventsSchema = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .describe('production.succeeded, production.failed, production.canceled, production.awaiting_review; production.progress is sent once per 10 %; production.retrying and production.stuck come from self-healing (docs/self-healing.md); budget.threshold when the tenant\'s spend reaches a budget threshold (docs/budgets.md).');
const urlSchema = z.url({ protocol: /^https?$/ }).max(2048).describe('Where deliveries are POSTed; a public http(s) URL (private and loopback addresses are refused).');

const webhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    enabled: z.boolean(),
    disabledReason: z.string().nullable().describe('Why it was disabled (by a user, or after failing too many deliveries in a row).'),
    consecutiveFailures: z.number().int().describe('Deliveries in a row that ran out of attempts; reset by a success or by enabling it.'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Webhook' });

const example = {
  id: 'wh_3f0e4a579a633c1f2b6f8f100d9c6a52', url: 'https://example.com/hooks/aiprod', events: ['production.succeeded', 'production.failed'],
  enabled: true, disabledReason: null, consecutiveFailures: 0, createdAt: '2026-11-25T10:00:00.000Z', updatedAt: '2026-11-25T10:00:00.000Z',
};
const withSecretSchema = z
  .object({ secret: z.string().describe('The signing secret (whsec_…). It is shown this once: store it now.'), webhook: webhookSchema })
  .meta({ id: 'NewWebhookSecret', examples: [{ secret: 'whsec_Zq…', webhook: example }] });

const deliverySchema = z
  .object({
    id: z.string(),
    webhookId: z.string().nullable().describe("Null for a brief's own webhookUrl."),
    productionId: z.string().nullable(),
    eventId: z.string().describe('The AIPROD-Event-Id header: the same for every attempt and redelivery of the event.'),
    eventType: z.string(),
    url: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attemptCount: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    lastStatusCode: z.number().int().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

const attemptSchema = z.object({
  attempt: z.number().int(),
  at: z.string(),
  statusCode: z.number().int().nullable().describe('Null when no HTTP answer came (timeout, connection refused, unsafe address).'),
  latencyMs: z.number().int(),
  responseStart: z.string().nullable().describe('The first 512 bytes of the answer.'),
  error: z.string().nullable(),
});

const deliveryDetailSchema = deliverySchema
  .extend({ payload: z.record(z.string(), z.unknown()).describe('The JSON body sent.'), attempts: z.array(attemptSchema) })
  .meta({ id: 'WebhookDeliveryDetail' });

const deliveryListSchema = z.object({ data: z.array(deliverySchema), nextCursor: z.string().nullable() });
const pageQuery = {
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional().describe('The nextCursor of the previous page.'),
};

const idParams = z.object({ id: z.string().min(1).max(100) });
const deliveryParams = z.object({ deliveryId: z.string().min(1).max(100) });

export const webhookRoutes = (deps: { webhooks: WebhooksService }): FastifyPluginAsyncZod => async (app) => {
  const { webhooks } = deps;
  const by = (request: Parameters<typeof principal>[0]) => {
    const who = principal(request);
    return { actor: who.actor, tenantId: who.tenantId, ip: request.ip };
  };
  const tenant = (request: Parameters<typeof principal>[0]): string => principal(request).tenantId;

  app.get('/v1/webhooks', {
    config,
    schema: { tags, summary: "List your tenant's webhooks", response: { 200: z.object({ data: z.array(webhookSchema) }), ...errors } },
  }, async (request) => ({ data: await webhooks.list(tenant(request)) }));

  app.post('/v1/webhooks', {
    config,
    schema: {
      tags,
      summary: 'Create a webhook (its signing secret is in this answer only)',
      description: 'Deliveries are POSTed with AIPROD-Signature: t=<unix>,v1=<HMAC-SHA256 hex of "<t>.<body>">; retried with backoff for about 22 hours.',
      body: z.strictObject({ url: urlSchema, events: eventsSchema, enabled: z.boolean().optional() }),
      response: { 201: withSecretSchema, ...errors },
    },
  }, async (request, reply) => reply.status(201).send(await webhooks.create(by(request), request.body)));

  app.post('/v1/webhooks/default-secret', {
    config,
    schema: {
      tags,
      summary: "Make or replace the secret that signs deliveries to briefs' own webhookUrl (shown once)",
      description: 'A production created with webhookUrl gets production.succeeded, .failed, .canceled and .awaiting_review there, signed with this per-tenant secret.',
      response: { 200: z.object({ secret: z.string() }), ...errors },
    },
  }, async (request) => webhooks.rotateDefaultSecret(by(request)));

  app.get('/v1/webhooks/deliveries', {
    config,
    schema: {
      tags,
      summary: 'Deliveries of your tenant, newest first (filter by production, e.g. for a brief’s webhookUrl)',
      querystring: z.strictObject({ productionId: z.string().max(100).optional(), ...pageQuery }),
      response: { 200: deliveryListSchema, ...errors },
    },
  }, async (request) => {
    const { productionId, status, limit, cursor } = request.query;
    return webhooks.deliveries(tenant(request), { productionId, status }, { limit, cursor });
  });

  app.get('/v1/webhooks/deliveries/:deliveryId', {
    config,
    schema: { tags, summary: 'A delivery with its body and every attempt', params: deliveryParams, response: { 200: deliveryDetailSchema, ...errors } },
  }, async (request) => webhooks.delivery(tenant(request), request.params.deliveryId));

  app.post('/v1/webhooks/deliveries/:deliveryId/redeliver', {
    config,
    schema: {
      tags,
      summary: 'Send a delivery’s event again (a new delivery with the same event id)',
      params: deliveryParams,
      response: { 202: deliverySchema, ...errors },
    },
  }, async (request, reply) => reply.status(202).send(await webhooks.redeliver(by(request), request.params.deliveryId)));

  app.get('/v1/webhooks/:id', {
    config,
    schema: { tags, summary: 'A webhook', params: idParams, response: { 200: webhookSchema, ...errors } },
  }, async (request) => webhooks.get(tenant(request), request.params.id));

  app.patch('/v1/webhooks/:id', {
    config,
    schema: {
      tags,
      summary: 'Change the URL, the events, or enable/disable a webhook',
      description: 'Disabling closes its pending deliveries (redeliver them later); enabling resets its count of failed deliveries.',
      params: idParams,
      body: z.strictObject({ url: urlSchema.optional(), events: eventsSchema.optional(), enabled: z.boolean().optional() }),
      response: { 200: webhookSchema, ...errors },
    },
  }, async (request) => webhooks.update(by(request), request.params.id, request.body));

  app.delete('/v1/webhooks/:id', {
    config,
    schema: { tags, summary: 'Delete a webhook (its pending deliveries are closed; the log stays)', params: idParams, response: { 204: z.null().describe('Deleted.'), ...errors } },
  }, async (request, reply) => {
    await webhooks.remove(by(request), request.params.id);
    return reply.status(204).send(null);
  });

  app.post('/v1/webhooks/:id/rotate-secret', {
    config,
    schema: {
      tags,
      summary: 'Give a webhook a new signing secret (shown once); the old one keeps signing too for a grace period',
      description: 'During the grace period each delivery carries two v1 signatures, with the new and with the old secret, so receivers can switch over without rejecting anything.',
      params: idParams,
      body: z.strictObject({ graceSec: z.number().int().min(0).max(30 * 86_400).optional().describe('Seconds the old secret keeps signing (default 86400; 0: stop at once).') }).nullish(),
      response: { 200: withSecretSchema, ...errors },
    },
  }, async (request) => webhooks.rotateSecret(by(request), request.params.id, request.body?.graceSec));

  app.get('/v1/webhooks/:id/deliveries', {
    config,
    schema: { tags, summary: 'Deliveries to a webhook, newest first', params: idParams, querystring: z.strictObject(pageQuery), response: { 200: deliveryListSchema, ...errors } },
  }, async (request) => {
    const { status, limit, cursor } = request.query;
    return webhooks.deliveries(tenant(request), { webhookId: request.params.id, status }, { limit, cursor });
  });
};
