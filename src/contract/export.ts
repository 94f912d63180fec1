/**
 * Exports (docs/exports.md): one production as JSON, CSV or a zip
 * (GET /v1/productions/{id}/export), and the productions of a period in one file
 * (POST /v1/exports → an export resource built by a job, downloaded when ready).
 */
import { z } from 'zod';
import { PRODUCTION_STATUSES } from './production.js';

export const EXPORT_FORMATS = ['json', 'csv', 'zip'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_STATUSES = ['queued', 'running', 'ready', 'failed', 'expired'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

export const productionExportQuerySchema = z.strictObject({
  format: z.enum(EXPORT_FORMATS).default('json').describe('json (default): the whole production; csv: its cost lines; zip: the documents and every stored output.'),
});

/** A period bound: an ISO date (midnight UTC) or date-time with an offset. */
const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .describe('An ISO 8601 date (2026-11-01, midnight UTC) or date-time with an offset (2026-11-01T00:00:00Z).');

const productionStatus = z.enum(PRODUCTION_STATUSES);

export const exportRequestSchema = z
  .strictObject({
    from: instant.describe('Start of the period (inclusive), on the productions\' creation time.'),
    to: instant.describe('End of the period (exclusive).'),
    format: z.enum(EXPORT_FORMATS).describe('csv: one row per production; json: one document with every production; zip: both CSVs and a JSON file per production (always built by a job).'),
    status: z
      .union([productionStatus, z.array(productionStatus).min(1).max(PRODUCTION_STATUSES.length)])
      .optional()
      .describe('Only productions in this status (or these statuses).'),
    tenantId: z.string().min(1).max(100).optional().describe('Operators: export this tenant only (default: every tenant). Others may name only their own.'),
  })
  .refine((r) => Date.parse(r.from) < Date.parse(r.to), { path: ['to'], message: 'to must be after from (the period is [from, to))' });
export type ExportRequest = z.infer<typeof exportRequestSchema>;

export const exportSchema = z.object({
  id: z.string(),
  status: z.enum(EXPORT_STATUSES).describe('queued → running → ready (download it) or failed; ready becomes expired after EXPORT_RETENTION_DAYS.'),
  format: z.enum(EXPORT_FORMATS),
  from: z.string(),
  to: z.string(),
  tenantId: z.string().nullable().describe('Whose productions; null: every tenant\'s (an operator\'s export).'),
  statuses: z.array(productionStatus).nullable(),
  rows: z.number().int().nullable().describe('Productions in the file, once ready.'),
  bytes: z.number().int().nullable().describe('Size of the file, once ready.'),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  attempts: z.number().int(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  links: z.object({
    self: z.string(),
    download: z.string().nullable().describe('Once ready: a signed link that downloads the file without a key until it expires (SIGNED_URL_TTL_SEC).'),
  }),
});
export type ExportView = z.infer<typeof exportSchema>;
