/** /v1/productions: create (single and batch), read, list, cancel, retry, review, outputs, events. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { AppError } from '../../contract/errors.js';
import {
  acceptedSchema,
  batchSchema,
  createProductionSchema,
  errorBodySchema,
  estimateSchema,
  listQuerySchema,
  listSchema,
  productionSchema,
} from '../../contract/production.js';
import { storyboardSchema } from '../../contract/storyboard.js';
import type { ProductionsService } from '../../services/productions.service.js';
import type { QuotaService } from '../../services/quotas.service.js';
import type { Storage } from '../../storage/storage.port.js';
import { followProduction, type EventHub } from '../events.js';
import { principal } from '../auth.js';

const idParams = z.object({ id: z.string().min(1).max(100) });
const errors = { 400: errorBodySchema, 401: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema, 422: errorBodySchema };
const idempotencyHeader = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().describe('Same key and body → the same production; same key, other body → 409.'),
});

export interface ProductionRoutesDeps {
  productions: ProductionsService;
  /** Creates go through the tier quotas. */
  quotas: QuotaService;
  storage: Storage;
  events: EventHub;
}

export const productionRoutes = (deps: ProductionRoutesDeps): FastifyPluginAsyncZod => async (app) => {
  const { productions } = deps;

  app.post('/v1/productions', {
    config: { invalidBodyCode: 'invalid_brief' },
    schema: {
      tags: ['productions'],
      summary: 'Create a production',
      description: 'Validates the brief, stores the production and its render job in one transaction, and answers 202. Poll GET /v1/productions/:id or follow /events.',
      body: createProductionSchema,
      headers: idempotencyHeader,
      response: { 202: acceptedSchema, ...errors },
    },
  }, async (request, reply) => {
    const accepted = await deps.quotas.create(principal(request).tenantId, request.body, request.headers['idempotency-key']);
    if (accepted.replayed) reply.header('idempotent-replayed', 'true');
    reply.header('location', accepted.links.self);
    return reply.status(202).send({ id: accepted.id, status: accepted.status, links: accepted.links });
  });

  app.post('/v1/estimate', {
    config: { invalidBodyCode: 'invalid_brief' },
    schema: {
      tags: ['productions'],
      summary: 'Estimate the cost, length and render time of a brief without rendering it',
      description: 'Sizes the storyboard with the offline writer (no vendor is called) and prices, in each vendor\'s units, what every stage would bill with the tenant\'s provider chains. Nothing is stored.',
      body: createProductionSchema,
      response: { 200: estimateSchema, ...errors },
    },
  }, async (request) => productions.estimate(request.body, '', principal(request).tenantId));

  app.post('/v1/productions/batch', {
    schema: {
      tags: ['productions'],
      summary: 'Create up to 500 productions at once',
      description: 'All or nothing: every item is validated first, and one bad item refuses the batch with an error per item (paths like productions.3.language). Inserted in one transaction.',
      body: batchSchema,
      headers: idempotencyHeader,
      response: { 202: z.object({ ids: z.array(z.string()), count: z.number().int() }), ...errors },
    },
  }, async (request, reply) => {
    const result = await deps.quotas.createBatch(principal(request).tenantId, request.body.productions, request.headers['idempotency-key']);
    if (result.replayed) reply.header('idempotent-replayed', 'true');
    return reply.status(202).send({ ids: result.ids, count: result.ids.length });
  });

  app.get('/v1/productions', {
    schema: { tags: ['productions'], summary: 'List productions, newest first', querystring: listQuerySchema, response: { 200: listSchema, ...errors } },
  }, async (request) => productions.list(principal(request).tenantId, request.query));

  app.get('/v1/productions/:id', {
    schema: { tags: ['productions'], summary: 'Status, progress, stages, outputs, qa and cost of a production', params: idParams, response: { 200: productionSchema, ...errors } },
  }, async (request) => productions.get(principal(request).tenantId, request.params.id));

  app.post('/v1/productions/:id/cancel', {
    schema: {
      tags: ['productions'],
      summary: 'Cancel a production; a running render stops within seconds',
      description: 'An optional JSON body `{ "reason": "…" }` is kept as the production\'s cancelReason.',
      params: idParams,
      body: z.strictObject({ reason: z.string().trim().min(1).max(500).optional().describe('Why; shown as cancelReason.') }).nullish(),
      response: { 200: productionSchema, ...errors },
    },
  }, async (request) => productions.cancel(principal(request).tenantId, request.params.id, request.body?.reason));

  app.post('/v1/productions/:id/retry', {
    schema: { tags: ['productions'], summary: 'Queue a failed production again; it resumes from its cached stages', params: idParams, response: { 200: productionSchema, ...errors } },
  }, async (request) => productions.retry(principal(request).tenantId, request.params.id));

  app.get('/v1/productions/:id/storyboard', {
    schema: {
      tags: ['review'],
      summary: 'The storyboard (the plan), once planning is done',
      params: idParams,
      description: '`edits` lists each edit made while awaiting review, oldest first: when, by whom, and what changed (`{ field: { old, new } }`, scene fields as scenes.<i>.<field>).',
      response: {
        200: z.object({
          status: productionSchema.shape.status,
          storyboard: storyboardSchema.nullable(),
          edits: z.array(z.object({ id: z.number().int(), at: z.string(), actor: z.string().nullable(), changes: z.record(z.string(), z.object({ old: z.unknown(), new: z.unknown() })) })),
        }),
        ...errors,
      },
    },
  }, async (request) => productions.storyboard(principal(request).tenantId, request.params.id));

  app.patch('/v1/productions/:id/storyboard', {
    config: { invalidBodyCode: 'invalid_storyboard' },
    schema: { tags: ['review'], summary: 'Replace the storyboard while awaiting_review', params: idParams, body: storyboardSchema, response: { 200: storyboardSchema, ...errors } },
  }, async (request) => {
    const who = principal(request);
    // Held to the tier's length and re-priced against the monthly budget (402 when it no longer fits).
    return deps.quotas.editStoryboard(who.tenantId, request.params.id, request.body, who.actor);
  });

  app.post('/v1/productions/:id/approve', {
    schema: { tags: ['review'], summary: 'Approve the storyboard and render', description: 'The storyboard is re-priced first: 402 `budget_exceeded` when the monthly budget can no longer pay for it.', params: idParams, response: { 200: productionSchema, ...errors } },
  }, async (request) => deps.quotas.approve(principal(request).tenantId, request.params.id));

  app.get('/v1/productions/:id/outputs/:name', {
    schema: {
      tags: ['productions'],
      summary: 'Download an output (Range supported; a redirect to a signed URL with S3 storage)',
      description: 'Answers 200 with the file, 206 for a Range, 416 for an unsatisfiable Range, 404 `not_found` when the production has no such output and 404 `output_missing` when its stored file is gone.',
      params: idParams.extend({ name: z.string().min(1).max(100) }),
    },
  }, async (request, reply) => {
    // A signed link (?token=, checked by the auth hook) names its tenant; otherwise the caller's.
    const output = await productions.output(request.linkTenant ?? principal(request).tenantId, request.params.id, request.params.name);
    // Lengths come from the stored object as it is now, not from the row written at delivery:
    // an object deleted or truncated since then must not be promised at its old size.
    const stored = await deps.storage.stat(output.storageKey);
    if (!stored) {
      request.log.warn({ productionId: request.params.id, output: output.name, storageKey: output.storageKey }, 'stored output missing');
      throw new AppError('output_missing', `the stored file of output ${output.name} is missing`, {
        details: [{ path: 'name', message: 'retry the production to render it again, or ask the operator to check the storage' }],
      });
    }
    if (deps.storage.signedUrl) return reply.redirect(await deps.storage.signedUrl(output.storageKey, 300, output.name), 302);
    const size = stored.bytes;
    const range = parseRange(request.headers.range, size);
    if (range === 'invalid') {
      reply.header('content-range', `bytes */${size}`);
      throw new AppError('invalid_request', 'the Range cannot be satisfied', { status: 416, details: [{ path: 'Range', message: size > 0 ? `use bytes=start-end within 0-${size - 1}` : 'the output is empty; send no Range' }] });
    }
    reply.header('accept-ranges', 'bytes').header('content-type', output.mime).header('content-disposition', `inline; filename="${output.name}"`);
    const span = range ?? { start: 0, end: size - 1 };
    const length = span.end - span.start + 1;
    if (range) reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`);
    reply.header('content-length', length);
    if (length === 0) return reply.send('');
    return reply.send(exactly(await deps.storage.read(output.storageKey, span), length));
  });

  app.get('/v1/productions/:id/events', {
    schema: {
      tags: ['productions'],
      summary: 'Server-Sent Events of status and progress until the production finishes',
      description:
        'Each event is `event: production` with the JSON of {id, status, stage, progress, error, at}; the first is the current state, and the stream ends after a final status (or with an `event: shutdown` when the server stops: reconnect). The same stream is served over a WebSocket at `/v1/productions/{id}/ws` (one JSON event per message, closed with code 1000 after a final status; OpenAPI cannot describe WebSocket routes, so it is listed only here). EventSource and browser WebSockets cannot set headers, so these two routes also take the key as `?access_token=`.',
      params: idParams,
    },
  }, async (request, reply) => {
    const tenantId = principal(request).tenantId;
    // Subscribed before the first read, so a final status in between is not lost; 404 from here.
    const follower = await followProduction(deps.events, productions, tenantId, request.params.id);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': request.id });
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const stop = follower.start((event) => res.write(`event: production\ndata: ${JSON.stringify(event)}\n\n`), (reason) => {
      clearInterval(keepAlive);
      // On shutdown the client is told, and reconnects (EventSource does by itself) to another instance.
      if (reason === 'shutdown') res.write(`event: shutdown\ndata: ${JSON.stringify({ reason: 'server shutting down; reconnect' })}\n\n`);
      res.end();
    });
    request.raw.on('close', stop);
  });

  app.get('/v1/productions/:id/ws', {
    websocket: true,
    schema: {
      tags: ['productions'],
      summary: 'The events stream over a WebSocket',
      description:
        'Upgrade with the usual Authorization header (or `?access_token=` where a client cannot set headers). Each message is the JSON of one event, as on /events; the server closes with code 1000 after a final status, and with 1001 when it shuts down (reconnect). 404 before the upgrade when the production does not exist.',
      params: idParams,
    },
    // Resolve the production before upgrading, so a bad id is an ordinary 404 response.
    preHandler: async (request) => {
      const { id } = request.params as { id: string };
      await productions.get(principal(request).tenantId, id);
    },
  }, async (socket, request) => {
    const tenantId = principal(request).tenantId;
    const follower = await followProduction(deps.events, productions, tenantId, request.params.id).catch(() => undefined);
    if (!follower) {
      socket.close(1011, 'production unavailable');
      return;
    }
    const ping = setInterval(() => socket.ping(), 15_000);
    const stop = follower.start((event) => socket.send(JSON.stringify(event)), (reason) => {
      clearInterval(ping);
      if (socket.readyState !== socket.OPEN) return;
      if (reason === 'shutdown') socket.close(1001, 'server shutting down');
      else socket.close(1000, 'final status');
    });
    socket.on('close', stop);
  });
};

/** A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range; undefined for none, 'invalid' when unsatisfiable. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | 'invalid' {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start > end || start >= size ? 'invalid' : { start, end };
}

/**
 * Passes `source` through and fails the stream when it ends short of `length` bytes (the object
 * shrank after it was measured): the connection is then closed, where a response that promised
 * more bytes than it sends would leave the client waiting for them. An object that grew is capped
 * at `length` and fails the stream too: bytes past the Content-Length would corrupt the
 * connection, and the object is no longer what was measured.
 */
export function exactly(source: Readable, length: number): Readable {
  return Readable.from((async function* () {
    let sent = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (sent + chunk.length > length) {
        const rest = chunk.subarray(0, length - sent);
        if (rest.length > 0) yield rest;
        source.destroy();
        throw new Error(`stored object has more than ${length} bytes`);
      }
      sent += chunk.length;
      yield chunk;
    }
    if (sent !== length) throw new Error(`stored object ended after ${sent} of ${length} bytes`);
  })(), { objectMode: false });
}
