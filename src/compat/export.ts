/**
 * The original API's exports (§11–13 of the compatibility contract): the formats it listed, a job
 * as one JSON document, CSV rows, and zip archives of one job (with its video) or of many. Pure
 * builders: the routes fetch what they need and pass it in; a zip is streamed entry by entry, and
 * a stored video goes through in chunks as the client reads, never whole in memory.
 */
import type { Readable } from 'node:stream';
import { flatten, toCsv } from '../lib/csv.js';
import { zipStream, type ZipEntry } from '../lib/zip-stream.js';
import { isFinal, type Production } from '../contract/production.js';
import type { ProductionDetail, StoryboardEdit } from '../services/productions.service.js';
import { contentOf, presetOf, stateHistory, toEditEntry, toPipelineJob, toPipelineListItem } from './job.js';
import { iccState, pipelineStatus, priorityWord } from './vocabulary.js';

/** GET /export/formats: the formats, as the original described them (`extension` with its dot, as there). */
export const EXPORT_FORMATS = {
  json: {
    name: 'JSON',
    description: 'One job as a structured document with all its metadata',
    mime_type: 'application/json',
    extension: '.json',
    best_for: 'Integration with other systems, archiving',
  },
  csv: {
    name: 'CSV',
    description: 'A table (nested fields flattened) for Excel or Sheets',
    mime_type: 'text/csv',
    extension: '.csv',
    best_for: 'Data analysis, import into BI tools',
  },
  zip: {
    name: 'ZIP',
    description: 'An archive with the metadata, the results, the logs and the video',
    mime_type: 'application/zip',
    extension: '.zip',
    best_for: 'A complete export with the binary files',
  },
} as const;
export type ExportFormat = keyof typeof EXPORT_FORMATS;

/** The formats of GET /pipeline/{id}/export, and of GET /jobs/export (no single JSON document there). */
export const JOB_EXPORT_FORMATS = ['json', 'csv', 'zip'] as const satisfies readonly ExportFormat[];
export const JOBS_EXPORT_FORMATS = ['csv', 'zip'] as const satisfies readonly ExportFormat[];

/** The request fields a job document shows as fields of its own; the rest of the request is its metadata. */
const OWN_FIELDS = new Set(['content', 'preset', 'lang', 'priority']);

/** What the job was asked to carry: the original request's other fields (duration_sec, extras, its cost estimate) over the production's labels. */
function metadataOf(detail: ProductionDetail): Record<string, unknown> {
  const request = Object.fromEntries(Object.entries(detail.origin ?? {}).filter(([key]) => !OWN_FIELDS.has(key)));
  return { ...detail.production.metadata, ...request };
}

const completedAt = (production: Production): string | null => (isFinal(production.status) ? production.finishedAt : null);

/** A job as its JSON export shows it (also each `jobs/{id}.json` of the bulk zip). */
export function jobRecord(detail: ProductionDetail, edits: StoryboardEdit[], base: string): Record<string, unknown> {
  const { production, origin, brief } = detail;
  return {
    id: production.id,
    state: iccState(production),
    status: pipelineStatus(production.status),
    preset: presetOf(detail),
    created_at: production.createdAt,
    updated_at: production.updatedAt,
    completed_at: completedAt(production),
    content: contentOf(detail),
    lang: typeof origin?.lang === 'string' ? origin.lang : typeof brief.language === 'string' ? brief.language : 'en',
    priority: typeof origin?.priority === 'string' ? origin.priority : priorityWord(production.priority),
    metadata: metadataOf(detail),
    state_history: stateHistory(production),
    result: toPipelineJob(detail, base).result ?? null,
    cost: production.cost,
    edits_history: edits.map(toEditEntry),
  };
}

/** GET /pipeline/{id}/export?format=json. */
export function jobDocument(detail: ProductionDetail, edits: StoryboardEdit[], base: string, exportedAt = new Date()): { metadata: Record<string, string>; job: Record<string, unknown> } {
  return {
    metadata: { exported_at: exportedAt.toISOString(), export_format: 'json', version: '1.0' },
    job: jobRecord(detail, edits, base),
  };
}

/** One row of GET /jobs/export?format=csv (and of the bulk zip's jobs_summary.csv): the /pipeline/jobs fields, the ICC state and the cost. */
export function jobListRow(detail: ProductionDetail): Record<string, unknown> {
  const { production } = detail;
  return {
    ...toPipelineListItem(detail),
    state: iccState(production),
    completed_at: completedAt(production),
    cost_usd: production.cost?.totalUsd ?? null,
    estimated_cost_usd: production.cost?.estimatedUsd ?? null,
  };
}

// The CSV and zip writers moved to lib/ (the /v1 exports use them too); re-exported for this module's callers.
export { flatten, toCsv };
export { entryBytes, zipStream, type ZipEntry } from '../lib/zip-stream.js';

/** logs.txt: one line per stage run, then the providers that were replaced, then the error or cancellation. */
export function jobLogs(production: Production): string {
  const lines = [`job ${production.id} status=${production.status} attempts=${production.attempts} created=${production.createdAt}`];
  for (const run of production.stages) {
    const wall = run.wallSec === null ? '-' : `${run.wallSec}s`;
    lines.push(`stage=${run.stage} attempt=${run.attempt} status=${run.status} started=${run.startedAt} finished=${run.finishedAt ?? '-'} wall=${wall}`);
  }
  for (const f of production.fallbacks) lines.push(`fallback stage=${f.stage} from=${f.from} to=${f.to ?? '-'} code=${f.code} reason=${JSON.stringify(f.reason)}`);
  if (production.error) lines.push(`error code=${production.error.code} message=${JSON.stringify(production.error.message)}`);
  if (production.cancelReason) lines.push(`cancelled reason=${JSON.stringify(production.cancelReason)}`);
  return `${lines.join('\n')}\n`;
}

const pretty = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

export interface JobZipInput {
  detail: ProductionDetail;
  edits: StoryboardEdit[];
  base: string;
  /** The owner, as the archive's `user_id`. */
  tenantId: string;
  /** The stored video.mp4 of a job that has one: its size, and how to read it. */
  video?: { bytes: number; open: () => Promise<AsyncIterable<Uint8Array>> };
  exportedAt?: Date;
}

/** The files of one job's archive: metadata.json, result.json, logs.txt, and output_file.mp4 when it has a video. */
export function jobZipEntries(input: JobZipInput): ZipEntry[] {
  const { detail, edits, base, tenantId, video, exportedAt = new Date() } = input;
  const job = jobRecord(detail, edits, base);
  const entries: ZipEntry[] = [
    {
      name: 'metadata.json',
      text: pretty({ job_id: job.id, user_id: tenantId, preset: job.preset, state: job.state, created_at: job.created_at, completed_at: job.completed_at, exported_at: exportedAt.toISOString() }),
    },
    { name: 'result.json', text: pretty({ content: job.content, metadata: job.metadata, state_history: job.state_history, result: job.result }) },
    { name: 'logs.txt', text: jobLogs(detail.production) },
  ];
  if (video) entries.push({ name: 'output_file.mp4', bytes: video.bytes, open: video.open });
  return entries;
}

/**
 * GET /jobs/export?format=zip: jobs_summary.csv, then `jobs/{id}.json` per job (as its JSON
 * export's `job`). `editsOf` is asked for each job's review edits as its file is written.
 */
export function jobsZip(details: ProductionDetail[], editsOf: (detail: ProductionDetail) => Promise<StoryboardEdit[]>, base: string, exportedAt = new Date()): Readable {
  async function* entries(): AsyncGenerator<ZipEntry> {
    yield { name: 'jobs_summary.csv', text: toCsv(details.map(jobListRow)) };
    for (const detail of details) yield { name: `jobs/${detail.production.id}.json`, text: pretty(jobRecord(detail, await editsOf(detail), base)) };
  }
  return zipStream(entries(), exportedAt);
}
