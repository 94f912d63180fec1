/**
 * Exports (docs/exports.md): GET /v1/productions/{id}/export (json, csv or zip of one finished
 * production), POST /v1/exports (a period: a small csv or json at once, otherwise an export built
 * by a job), GET /v1/exports[/{id}] and GET /v1/exports/{id}/download (also through its signed
 * link, without a key). Files are attachments, streamed as they are made or read from storage.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { exportRequestSchema, exportSchema, productionExportQuerySchema } from '../../contract/export.js';
import { errorBodySchema } from '../../contract/production.js';
import type { ExportFile, ExportsService, Requester } from '../../services/exports.service.js';
import type { Storage } from '../../storage/storage.port.js';
import { isOperator, principal } from '../auth.js';
import { exactly } from './productions.routes.js';

const idParams = z.object({ id: z.string().min(1).max(100) });
const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema };

export interface ExportRoutesDeps {
  exports: ExportsService;
  storage: Storage;
}

/** The caller as the exports service sees it. */
function requester(request: FastifyRequest): Requester {
  const who = principal(request);
  return { tenantId: who.tenantId, operator: isOperator(who), actor: who.actor, ip: request.ip };
}

const sendFile = (reply: FastifyReply, file: ExportFile): FastifyReply =>
  reply.type(file.contentType).header('content-disposition', `attachment; filename="${file.filename}"`).send(file.body);

export const exportRoutes = (deps: ExportRoutesDeps): FastifyPluginAsyncZod => async (app) => {
  const { exports } = deps;

  app.get('/v1/productions/:id/export', {
    schema: {
      tags: ['exports'],
      summary: 'Export a finished production as json, csv (its cost lines) or a zip with its outputs',
      description:
        'An attachment. json: `{exportedAt, production, brief, storyboard, qa, cost}`; csv: the cost lines (docs/exports.md); zip: production.json, storyboard.json, qa.json, cost.json, cost-lines.csv, every stored output under outputs/ and manifest.json (size and SHA-256 of each file), streamed. 404 `not_found` for an unknown production (or another tenant\'s; operators reach every tenant), 409 `conflict` while it has not finished, 404 `output_missing` for a zip whose stored file is gone.',
      params: idParams,
      querystring: productionExportQuerySchema,
      response: errors,
    },
  }, async (request, reply) => sendFile(reply, await exports.production(requester(request), request.params.id, request.query.format)));

  app.post('/v1/exports', {
    // It only reads: a read-only key (an accountant's) may export.
    config: { scope: 'productions:read' },
    schema: {
      tags: ['exports'],
      summary: 'Export the productions of a period (csv, json or zip)',
      description:
        'Productions created in [from, to), optionally in some statuses; operators export every tenant (or `tenantId`). A csv or json export of at most EXPORT_INLINE_ROWS productions answers 200 with the file; a larger one, and every zip, answers 202 with an export resource: poll GET /v1/exports/{id} until `status` is ready, then follow `links.download`.',
      body: exportRequestSchema,
      response: { 202: exportSchema, ...errors },
    },
  }, async (request, reply) => {
    const result = await exports.request(requester(request), request.body);
    if ('file' in result) return sendFile(reply.header('x-export-rows', String(result.rows)), result.file);
    return reply.status(202).header('location', result.queued.links.self).send(result.queued);
  });

  app.get('/v1/exports', {
    schema: {
      tags: ['exports'],
      summary: 'Your exports, newest first (operators: everyone\'s)',
      querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      response: { 200: z.object({ data: z.array(exportSchema) }), ...errors },
    },
  }, async (request) => ({ data: await exports.list(requester(request), request.query.limit) }));

  app.get('/v1/exports/:id', {
    schema: { tags: ['exports'], summary: 'An export: status, rows, bytes, error, and the download link once ready', params: idParams, response: { 200: exportSchema, ...errors } },
  }, async (request) => exports.get(requester(request), request.params.id));

  app.get('/v1/exports/:id/download', {
    schema: {
      tags: ['exports'],
      summary: 'Download a ready export (a redirect to a signed URL with S3 storage)',
      description: 'With an API key, or with the `?token=` of `links.download` alone. 409 `conflict` while the export is queued, running or failed; 410 once it expired.',
      params: idParams,
    },
  }, async (request, reply) => {
    // A signed link (?token=, checked by the auth hook) names its tenant; otherwise the caller.
    const who: Requester = request.linkTenant ? { tenantId: request.linkTenant, operator: false } : requester(request);
    const file = await exports.download(who, request.params.id);
    if (deps.storage.signedUrl) return reply.redirect(await deps.storage.signedUrl(file.storageKey, 300, file.filename), 302);
    reply.type(file.contentType).header('content-disposition', `attachment; filename="${file.filename}"`).header('content-length', file.bytes);
    if (file.bytes === 0) return reply.send('');
    return reply.send(exactly(await deps.storage.read(file.storageKey), file.bytes));
  });
};
