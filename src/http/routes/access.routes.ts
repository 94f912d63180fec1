/**
 * /v1/api-keys (a tenant's admins manage its keys; operators any tenant's), /v1/tenants (operators)
 * and /v1/audit (admins see their tenant's entries, operators everyone's).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBodySchema } from '../../contract/production.js';
import { auditQuerySchema } from '../../services/audit.service.js';
import type { AccessService } from '../../services/access.service.js';
import { ALL_SCOPES } from '../../services/keys.service.js';
import { brandingSchema, tenantInputSchema, tenantPatchSchema, TIERS } from '../../services/tenants.service.js';
import { actingTenant, isOperator, principal, requireOperator } from '../auth.js';

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema };

const apiKeySchema = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(ALL_SCOPES)),
    prefix: z.string().describe('The public start of the key, to recognise it.'),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
    lastUsedAt: z.string().nullable().describe('At minute resolution.'),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    previousValidUntil: z.string().nullable().describe('Until when the secret before the last rotation still works.'),
  })
  .meta({ id: 'ApiKey' });

const newKeySchema = z
  .object({ key: z.string().describe('The full key. It is shown this once: store it now.'), apiKey: apiKeySchema })
  .meta({ id: 'NewApiKey', examples: [{ key: 'aiprod_k3v9x0a1b2c3_Zq…', apiKey: { id: 'k3v9x0a1b2c3', tenantId: 'acme', name: 'ci', scopes: ['productions:write', 'productions:read'], prefix: 'aiprod_k3v9x0a1b2c3_', createdAt: '2026-11-25T10:00:00.000Z', createdBy: 'key:admin0000001', lastUsedAt: null, expiresAt: null, revokedAt: null, previousValidUntil: null } }] });

const tenantSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    tier: z.enum(TIERS),
    monthlyBudgetUsd: z.number().nullable(),
    budgetThresholds: z.array(z.number()).describe('Fractions of the monthly budget whose crossing sends a budget.threshold event (docs/budgets.md).'),
    branding: brandingSchema.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    providerKeys: z.array(z.string()).optional().describe('Providers the tenant has its own key for; the keys are never shown.'),
  })
  .meta({ id: 'Tenant' });

const idParams = z.object({ id: z.string().min(1).max(100) });

export const accessRoutes = (deps: { access: AccessService; rotationGraceSec: number }): FastifyPluginAsyncZod => async (app) => {
  const { access } = deps;
  const by = (request: Parameters<typeof principal>[0]) => {
    const who = principal(request);
    return { actor: who.actor, tenantId: who.tenantId, scopes: who.scopes, ip: request.ip };
  };
  const tags = ['access'];

  app.get('/v1/api-keys', {
    config: { scope: 'admin' },
    schema: { tags, summary: "List your tenant's API keys (operators: any tenant's, or all)", querystring: z.strictObject({ tenantId: z.string().max(100).optional() }), response: { 200: z.object({ data: z.array(apiKeySchema) }), ...errors } },
  }, async (request) => {
    const who = principal(request);
    const all = isOperator(who) && request.query.tenantId === undefined;
    return { data: await access.listKeys(all ? undefined : actingTenant(request, request.query.tenantId)) };
  });

  app.post('/v1/api-keys', {
    config: { scope: 'admin' },
    schema: {
      tags,
      summary: 'Create an API key (the secret is in this answer only)',
      description: 'A key can only give out scopes it has itself. Operators may create keys for another tenant with tenantId.',
      body: z.strictObject({
        name: z.string().trim().min(1).max(100),
        scopes: z.array(z.enum(ALL_SCOPES)).min(1).max(ALL_SCOPES.length),
        expiresAt: z.iso.datetime({ offset: true }).optional().describe('ISO 8601; the key stops working then (401 key_expired).'),
        tenantId: z.string().max(100).optional(),
      }),
      response: { 201: newKeySchema, ...errors },
    },
  }, async (request, reply) => {
    const { name, scopes, expiresAt, tenantId } = request.body;
    const created = await access.createKey(by(request), { tenantId: actingTenant(request, tenantId), name, scopes, expiresAt: expiresAt ? new Date(expiresAt) : undefined });
    return reply.status(201).send(created);
  });

  app.post('/v1/api-keys/:id/rotate', {
    config: { scope: 'admin' },
    schema: {
      tags,
      summary: 'Give a key a new secret; the old one keeps working for a grace period',
      params: idParams,
      body: z.strictObject({ graceSec: z.number().int().min(0).max(30 * 86_400).optional().describe(`Seconds the old secret keeps working (default ${deps.rotationGraceSec}).`) }).nullish(),
      response: { 200: newKeySchema, ...errors },
    },
  }, async (request) => {
    const who = principal(request);
    return access.rotateKey(by(request), request.params.id, isOperator(who) ? undefined : who.tenantId, request.body?.graceSec);
  });

  app.post('/v1/api-keys/:id/revoke', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Revoke a key now (401 key_revoked from then on)', params: idParams, response: { 200: apiKeySchema, ...errors } },
  }, async (request) => {
    const who = principal(request);
    return access.revokeKey(by(request), request.params.id, isOperator(who) ? undefined : who.tenantId);
  });

  app.post('/v1/api-keys/revoke-all', {
    config: { scope: 'admin' },
    schema: {
      tags,
      summary: "Revoke every key of a tenant (by default all but the caller's own)",
      body: z.strictObject({ keepCurrent: z.boolean().default(true), tenantId: z.string().max(100).optional() }).nullish(),
      response: { 200: z.object({ revoked: z.array(z.string()) }), ...errors },
    },
  }, async (request) => {
    const who = principal(request);
    const tenantId = actingTenant(request, request.body?.tenantId);
    const keep = (request.body?.keepCurrent ?? true) && tenantId === who.tenantId ? who.keyId : undefined;
    return { revoked: await access.revokeAllKeys(by(request), tenantId, keep) };
  });

  app.get('/v1/tenants', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'List tenants (operators)', response: { 200: z.object({ data: z.array(tenantSchema) }), ...errors } },
  }, async (request) => {
    requireOperator(request);
    return { data: await access.listTenants() };
  });

  app.post('/v1/tenants', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Create a tenant (operators)', body: tenantInputSchema, response: { 201: tenantSchema, ...errors } },
  }, async (request, reply) => {
    requireOperator(request);
    return reply.status(201).send(await access.createTenant(by(request), request.body));
  });

  app.get('/v1/tenants/:id', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'A tenant (operators: any; admins: their own)', params: idParams, response: { 200: tenantSchema, ...errors } },
  }, async (request) => access.getTenant(actingTenant(request, request.params.id)));

  app.patch('/v1/tenants/:id', {
    config: { scope: 'admin' },
    schema: { tags, summary: "Change a tenant's name, tier, budget, branding or provider keys (operators)", params: idParams, body: tenantPatchSchema, response: { 200: tenantSchema, ...errors } },
  }, async (request) => {
    requireOperator(request);
    return access.updateTenant(by(request), request.params.id, request.body);
  });

  app.get('/v1/audit', {
    config: { scope: 'admin' },
    schema: {
      tags,
      summary: 'The audit log, newest first (admins: their tenant; operators: all, or filter by tenantId)',
      querystring: auditQuerySchema,
      response: {
        200: z.object({
          data: z.array(z.object({ id: z.number(), at: z.string(), tenantId: z.string().nullable(), actor: z.string(), action: z.string(), target: z.string().nullable(), ip: z.string().nullable(), details: z.record(z.string(), z.unknown()).nullable() })),
          nextBefore: z.number().nullable(),
        }),
        ...errors,
      },
    },
  }, async (request) => {
    const who = principal(request);
    const tenantId = isOperator(who) ? request.query.tenantId : actingTenant(request, request.query.tenantId);
    return access.audit.query({ ...request.query, tenantId });
  });
};
