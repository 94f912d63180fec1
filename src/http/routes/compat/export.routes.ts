/**
 * The original API's exports: GET /export/formats, GET /pipeline/{job_id}/export (json, csv or a
 * zip with the video) and GET /jobs/export (csv or zip of the caller's latest jobs). Files are
 * attachments; a job's zip streams its stored video through without holding it in memory.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../../contract/errors.js';
import {
  EXPORT_FORMATS,
  JOB_EXPORT_FORMATS,
  JOBS_EXPORT_FORMATS,
  entryBytes,
  jobDocument,
  jobListRow,
  jobRecord,
  jobZipEntries,
  jobsZip,
  toCsv,
  zipStream,
} from '../../../compat/export.js';
import type { ProductionDetail } from '../../../services/productions.service.js';
import { principal } from '../../auth.js';
import { baseUrl, COMPAT_TAG, type CompatDeps } from './deps.js';

/**
 * The largest job archive served (video and documents before compression). The original's
 * MAX_EXPORT_SIZE was 10 GB; the zip here is written without ZIP64 records, whose offsets stop at
 * 4 GiB, so half of that keeps every archive readable.
 */
export const EXPORT_MAX_BYTES = 2 * 1024 ** 3;

/** GET /jobs/export's most jobs; a larger `limit` is lowered to it, as the original did. */
export const JOBS_EXPORT_MAX = 1000;

const formatSchema = z.object({
  name: z.string(),
  description: z.string(),
  mime_type: z.string(),
  extension: z.string(),
  best_for: z.string(),
});

/** The format asked for (any case, as the original lowered it), or a 400 naming the ones there are. */
function formatOf<F extends string>(asked: string, formats: readonly F[], route: string): F {
  const format = asked.trim().toLowerCase();
  if ((formats as readonly string[]).includes(format)) return format as F;
  throw new AppError('invalid_request', `invalid format ${JSON.stringify(asked.slice(0, 50))}; ${route} supports ${formats.join(', ')}`, {
    details: [{ path: 'format', message: `use one of ${formats.join(', ')}` }],
  });
}

const attachment = (filename: string): string => `attachment; filename=${filename}`;

export const exportRoutes = (deps: CompatDeps): FastifyPluginAsyncZod => async (app) => {
  const { productions, storage } = deps;
  const baseOf = (request: FastifyRequest): string => baseUrl(deps, request);
  /** A job's review edits (only a production that paused for review can have any). */
  const editsOf = async (detail: ProductionDetail) => (detail.production.review ? productions.edits(detail.production.id) : []);

  app.get('/export/formats', {
    config: { compat: true },
    schema: {
      tags: [COMPAT_TAG],
      summary: 'The export formats (json, csv, zip)',
      description: 'Static: answers without credentials, as the original did.',
      response: { 200: z.object({ formats: z.object({ json: formatSchema, csv: formatSchema, zip: formatSchema }) }) },
    },
  }, async () => ({ formats: EXPORT_FORMATS }));

  app.get('/pipeline/:job_id/export', {
    config: { compat: true },
    schema: {
      tags: [COMPAT_TAG],
      summary: 'Download one of your jobs as json, csv or a zip with its video',
      description:
        'An attachment `job-{id}.{format}`. json: `{metadata, job}` with the whole job (state, status, content, metadata, state_history, result, cost, edits_history); csv: a header and the job as one flattened row; zip: metadata.json, result.json, logs.txt and, for a finished job, the video as output_file.mp4 (stored uncompressed). Another format is a 400; a zip over 2 GiB a 413.',
      params: z.object({ job_id: z.string().min(1).max(100) }),
      querystring: z.object({ format: z.string().default('json').describe('json (default), csv or zip.') }),
    },
  }, async (request, reply) => {
    const format = formatOf(request.query.format, JOB_EXPORT_FORMATS, 'GET /pipeline/{job_id}/export');
    const tenantId = principal(request).tenantId;
    const detail = await productions.detail(tenantId, request.params.job_id);
    const { id } = detail.production;
    const base = baseOf(request);
    const edits = await editsOf(detail);
    // Set only on success: an error body is not a file to save.
    const file = (type: string) => reply.type(type).header('content-disposition', attachment(`job-${id}.${format}`));
    switch (format) {
      case 'json':
        return file('application/json; charset=utf-8').send(`${JSON.stringify(jobDocument(detail, edits, base), null, 2)}\n`);
      case 'csv':
        return file('text/csv; charset=utf-8').send(toCsv([jobRecord(detail, edits, base)]));
      case 'zip': {
        const video = detail.production.outputs.find((o) => o.name === 'video.mp4') ? await productions.output(tenantId, id, 'video.mp4') : undefined;
        // The size now in storage, not the one recorded at delivery; a row whose file is gone is
        // reported as the download route reports it, rather than archived without its video.
        const stored = video ? await storage.stat(video.storageKey) : undefined;
        if (video && !stored) {
          request.log.warn({ productionId: id, storageKey: video.storageKey }, 'stored output missing');
          throw new AppError('output_missing', 'the stored file of output video.mp4 is missing', {
            details: [{ path: 'job_id', message: 'export as json or csv, or ask the operator to check the storage' }],
          });
        }
        const entries = jobZipEntries({
          detail,
          edits,
          base,
          tenantId,
          ...(video && stored ? { video: { bytes: stored.bytes, open: () => storage.read(video.storageKey) } } : {}),
        });
        const bytes = entries.reduce((sum, entry) => sum + entryBytes(entry), 0);
        if (bytes > EXPORT_MAX_BYTES) {
          throw new AppError('payload_too_large', `the export of job ${id} would hold ${bytes} bytes, over the ${EXPORT_MAX_BYTES} an export may`, {
            details: [{ path: 'format', message: 'export as json or csv, and download the video from result.output.video_url' }],
          });
        }
        return file('application/zip').send(zipStream(entries));
      }
    }
  });

  app.get('/jobs/export', {
    config: { compat: true },
    schema: {
      tags: [COMPAT_TAG],
      summary: 'Download your latest jobs as csv or zip',
      description:
        'Newest first, at most `limit` (1–1000; more is lowered to 1000). csv: one row per job (job_id, status, preset, content_preview, created_at, state, completed_at, cost_usd, estimated_cost_usd); zip: that table as jobs_summary.csv plus jobs/{id}.json per job. Another format is a 400; no jobs a 404.',
      querystring: z.object({
        format: z.string().default('csv').describe('csv (default) or zip.'),
        limit: z.coerce.number().int().min(1).default(100).transform((n) => Math.min(n, JOBS_EXPORT_MAX)),
      }),
    },
  }, async (request, reply) => {
    const format = formatOf(request.query.format, JOBS_EXPORT_FORMATS, 'GET /jobs/export');
    const tenantId = principal(request).tenantId;
    const details = await productions.listDetails(tenantId, { limit: request.query.limit });
    if (details.length === 0) {
      throw new AppError('not_found', 'no jobs to export', { details: [{ path: 'jobs', message: 'create one with POST /pipeline/run first' }] });
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    reply.header('content-disposition', attachment(`jobs-export-${stamp}.${format}`));
    switch (format) {
      case 'csv':
        return reply.type('text/csv; charset=utf-8').send(toCsv(details.map(jobListRow)));
      case 'zip':
        return reply.type('application/zip').send(jobsZip(details, editsOf, baseOf(request)));
    }
  });
};
