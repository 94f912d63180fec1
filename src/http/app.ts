/**
 * The HTTP API: fastify with zod schemas for validation, serialization and the OpenAPI document
 * (served at /openapi.json, Swagger UI at /docs). Routes live in routes/<resource>.routes.ts.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Database } from '../db/database.js';
import type { JobQueue } from '../queue/queue.js';
import type { Metrics } from '../observability/metrics.js';
import type { Voice } from '../providers/tts/tts.port.js';
import type { ProductionsService } from '../services/productions.service.js';
import type { Storage } from '../storage/storage.port.js';
import { registerRateLimits, type RegisterRateLimitsOptions } from '../security/rate-limit.js';
import type { AccessService } from '../services/access.service.js';
import type { QuotaService } from '../services/quotas.service.js';
import type { WebhooksService } from '../webhooks/webhooks.service.js';
import { registerAuth, type AuthOptions } from './auth.js';
import { clientErrorHandler, registerHardening, serverTimeouts, type HardeningOptions } from './hardening.js';
import { sendError } from './errors.js';
import type { EventHub } from './events.js';
import type { Readiness } from './readiness.js';
import { accessRoutes } from './routes/access.routes.js';
import { catalogRoutes } from './routes/catalog.routes.js';
import { registerCompatRoutes } from './routes/compat/index.js';
import { productionRoutes } from './routes/productions.routes.js';
import { experimentRoutes } from './routes/experiments.routes.js';
import type { ExperimentsService } from '../experiments/experiments.service.js';
import { systemRoutes } from './routes/system.routes.js';
import { webhookRoutes } from './routes/webhooks.routes.js';
import { exportRoutes } from './routes/exports.routes.js';
import type { ExportsService } from '../services/exports.service.js';
import { usageRoutes } from './routes/usage.routes.js';
import type { UsageService } from '../services/usage.service.js';

export interface AppDeps {
  database: Database;
  queue: JobQueue;
  storage: Storage;
  productions: ProductionsService;
  /** Tier quotas and budgets in front of every create. */
  quotas: QuotaService;
  events: EventHub;
  /** Every voice the server's speech providers have (GET /v1/voices). */
  voices(): Promise<(Voice & { provider?: string })[]>;
  metrics: Metrics;
  /** /ready's checks (built and started by the service, which also stops them). */
  readiness: Readiness;
  access: AccessService;
  webhooks: WebhooksService;
  /** Exports of a production or a period (docs/exports.md). */
  exports: ExportsService;
  /** GET /v1/experiments (A/B reports). */
  experiments?: ExperimentsService;
  /** GET /v1/usage. */
  usage: UsageService;
  auth: Omit<AuthOptions, 'database'>;
  rotationGraceSec: number;
  rateLimits?: RegisterRateLimitsOptions;
  hardening: HardeningOptions & { requestTimeoutSec: number; trustProxy: string };
  bodyLimitBytes: number;
  /** The original API's routes: COMPAT_AUTO_APPROVE_SEC and PUBLIC_URL. */
  compat: { autoApproveSec: number; publicUrl?: string };
  logLevel: string;
  version: string;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    bodyLimit: deps.bodyLimitBytes,
    logger: {
      level: deps.logLevel,
      serializers: {
        // The event streams accept ?access_token= and signed download links carry ?token=: never log either.
        req: (req: { method: string; url: string; id: string }) => ({ id: req.id, method: req.method, url: req.url.replace(/([?&](?:access_token|token)=)[^&]*/g, '$1[redacted]') }),
      },
    },
    // A caller's x-request-id is kept when it is a plain token (for tracing across services);
    // anything else — long, or with odd characters that would end up in logs — gets a fresh id.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : crypto.randomUUID();
    },
    // The whole request (headers and body) within REQUEST_TIMEOUT_SEC, checked every second.
    requestTimeout: deps.hardening.requestTimeoutSec * 1000,
    http: serverTimeouts(deps.hardening.requestTimeoutSec * 1000),
    // 408, 431 and malformed requests, refused by Node before routing, in the API's error shape.
    clientErrorHandler: clientErrorHandler(() => app.log, deps.hardening.requestTimeoutSec),
    // Errors the router raises before any route runs (a path parameter over 100 characters, a bad
    // URL) get the API's error shape too.
    frameworkErrors: (error, request, reply) => sendError(error, request, reply),
    trustProxy: trustProxy(deps.hardening.trustProxy),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}`, details: [{ message: 'see /docs for the API' }] } }),
  );
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerHardening(app, deps.hardening);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    deps.metrics.requestSeconds.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'AIPROD API',
        version: deps.version,
        description:
          'Send a brief, get a finished video. Authenticate with `Authorization: Bearer aiprod_<id>_<secret>`. Errors are `{ error: { code, message, details? } }` with an `x-request-id` header.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'aiprod_<id>_<secret>' } } },
      security: [{ apiKey: [] }],
      tags: [
        { name: 'productions', description: 'Create and follow productions' },
        { name: 'review', description: 'Read, edit and approve the storyboard before rendering' },
        { name: 'catalog', description: 'What a brief can ask for' },
        { name: 'system', description: 'Health, readiness, metrics' },
        { name: 'access', description: 'API keys, tenants and the audit log' },
        { name: 'usage', description: 'Usage and cost analytics per period, tenant, tier, template, provider (docs/usage.md)' },
        { name: 'exports', description: 'A production, or the productions of a period, as JSON, CSV or a zip (docs/exports.md)' },
        { name: 'experiments', description: 'A/B experiments behind feature flags: per-variant outcomes, render time, cost and approval (docs/experiments.md)' },
        { name: 'webhooks', description: 'Signed event deliveries to your endpoints, their log and redelivery (docs/webhooks.md)' },
        { name: 'compat', description: 'The original AIPROD API (V33: /pipeline/*, /job/*, /presets, /cost-estimate, exports, /ws/job), kept for its clients; new code should use /v1 (docs/migrating-from-v33.md)' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Open event streams would keep the server from closing (SIGTERM waited for every client to
  // leave): end them first — SSE with a `shutdown` event, WebSockets with 1001.
  app.addHook('preClose', async () => deps.events.endStreams());
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  const stopAuth = await registerAuth(app, { database: deps.database, ...deps.auth });
  app.addHook('onClose', stopAuth);
  if (deps.rateLimits) registerRateLimits(app, deps.rateLimits);
  await app.register(systemRoutes({ database: deps.database, queue: deps.queue, readiness: deps.readiness, metrics: deps.metrics }));
  await app.register(catalogRoutes({ voices: () => deps.voices() }));
  await app.register(productionRoutes({ productions: deps.productions, quotas: deps.quotas, storage: deps.storage, events: deps.events }));
  await registerCompatRoutes(app, { productions: deps.productions, quotas: deps.quotas, storage: deps.storage, events: deps.events, ...deps.compat });
  await app.register(accessRoutes({ access: deps.access, rotationGraceSec: deps.rotationGraceSec }));
  await app.register(webhookRoutes({ webhooks: deps.webhooks }));
  await app.register(exportRoutes({ exports: deps.exports, storage: deps.storage }));
  await app.register(usageRoutes({ usage: deps.usage }));
  if (deps.experiments) await app.register(experimentRoutes({ experiments: deps.experiments }));
  return app;
}

/** TRUST_PROXY → fastify's trustProxy: '' false, 'true' true, a number of hops, or a list of addresses. */
function trustProxy(value: string): FastifyServerOptions['trustProxy'] {
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  // A hop count: trust that many proxies nearest to this server.
  if (/^\d+$/.test(value)) return (_address: string, hop: number) => hop < Number(value);
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}
