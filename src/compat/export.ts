/**
 * The original API's exports (§11–13 of the compatibility contract): the formats it listed, a job
 * as one JSON document, CSV rows, and zip archives of one job (with its video) or of many. Pure
 * builders: the routes fetch what they need and pass it in; a zip is streamed entry by entry, and
 * a stored video goes through in chunks as the client reads, never whole in memory.
 */
import { Readable } from 'node:stream';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
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

/** Nested objects become columns named by their path joined with `_`; arrays stay one cell, as JSON. */
export function flatten(record: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    const name = prefix ? `${prefix}_${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) Object.assign(flat, flatten(value as Record<string, unknown>, name));
    else flat[name] = Array.isArray(value) ? JSON.stringify(value) : value;
  }
  return flat;
}

/**
 * Spreadsheets (Excel, LibreOffice, Sheets) run a cell that starts with = + - @ (and, in some, a
 * tab or carriage return) as a formula, which can exfiltrate data or start programs when the file
 * is opened. Content and metadata here come from API clients, so such a text cell is prefixed with
 * an apostrophe (OWASP's advice), which spreadsheets show as text. Numbers are never text, so a
 * negative cost stays a number.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  // RFC 4180: a field holding a quote, a comma or a line break is quoted, its quotes doubled.
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV (RFC 4180, CRLF line ends): a header of every column any row has (in the order first seen), then one line per row. */
export function toCsv(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '';
  const flat = rows.map((row) => flatten(row));
  const columns = [...new Set(flat.flatMap((row) => Object.keys(row)))];
  const lines = [columns.map(cell).join(','), ...flat.map((row) => columns.map((c) => cell(row[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

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

/** A file of a zip: a text (deflated), or stored bytes read from a stream (kept as they are: a video does not compress). */
export type ZipEntry =
  | { name: string; text: string }
  | { name: string; bytes: number; open: () => Promise<AsyncIterable<Uint8Array>> };

/** The bytes an entry puts into the archive before compression. */
export const entryBytes = (entry: ZipEntry): number => ('text' in entry ? Buffer.byteLength(entry.text) : entry.bytes);

/**
 * The zip of `entries`, produced as the reader pulls: each stored chunk is read only when the
 * previous output was taken, so a slow client holds back the storage read instead of filling
 * memory. Stops reading (and closes the stored stream) when the reader goes away.
 *
 * fflate writes no ZIP64 records, so an archive must stay under 4 GiB (EXPORT_MAX_BYTES sees to it).
 */
export function zipStream(entries: Iterable<ZipEntry> | AsyncIterable<ZipEntry>, modifiedAt = new Date()): Readable {
  return Readable.from(zipChunks(entries, modifiedAt), { objectMode: false });
}

async function* zipChunks(entries: Iterable<ZipEntry> | AsyncIterable<ZipEntry>, modifiedAt: Date): AsyncGenerator<Uint8Array> {
  const ready: Uint8Array[] = [];
  let failure: Error | null = null;
  // fflate calls back synchronously from push() and end(): what it produced is taken from `ready` after each call.
  const zip = new Zip((error, chunk) => {
    if (error) failure = error;
    else if (chunk.length > 0) ready.push(chunk);
  });
  function* take(): Generator<Uint8Array> {
    if (failure) throw failure;
    while (ready.length > 0) yield ready.shift() as Uint8Array;
  }
  for await (const entry of entries) {
    if ('text' in entry) {
      const file = new ZipDeflate(entry.name, { level: 6 });
      file.mtime = modifiedAt;
      zip.add(file);
      file.push(Buffer.from(entry.text), true);
    } else {
      const file = new ZipPassThrough(entry.name);
      file.mtime = modifiedAt;
      zip.add(file);
      for await (const chunk of await entry.open()) {
        file.push(chunk);
        yield* take();
      }
      file.push(new Uint8Array(0), true);
    }
    yield* take();
  }
  zip.end();
  yield* take();
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
