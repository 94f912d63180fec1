/**
 * Exports (docs/exports.md). One production as JSON, its cost lines as CSV, or a zip of its
 * documents and stored outputs, streamed as the client reads. The productions of a period as one
 * file: a small CSV or JSON answers at once; anything larger, and every zip, becomes an export
 * resource that the export job builds into storage and that downloads until it expires.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../contract/errors.js';
import type { ExportFormat, ExportRequest, ExportView } from '../contract/export.js';
import { isFinal, type ProductionStatus } from '../contract/production.js';
import { executorFor, type Database } from '../db/database.js';
import * as repo from '../db/exports.repository.js';
import { findOutputs, findProduction, findProductionById } from '../db/productions.repository.js';
import { csvLine } from '../lib/csv.js';
import { zipStream, type ZipEntry } from '../lib/zip-stream.js';
import type { JobQueue } from '../queue/queue.js';
import type { OutputLinks } from '../security/output-links.js';
import type { Storage } from '../storage/storage.port.js';
import { COST_LINE_COLUMNS, costLines, csvFile, PRODUCTION_COLUMNS, productionDocument, productionRecord, productionRow, productionZipEntries } from './export-formats.js';
import type { AuditLog } from './audit.service.js';
import type { ProductionsService } from './productions.service.js';
import { getTenant } from './tenants.service.js';

/**
 * The largest archive written (before compression). fflate writes no ZIP64 records, whose sizes
 * and offsets stop at 4 GiB; half of that keeps every archive readable (as the original API's exports).
 */
export const ZIP_MAX_BYTES = 2 * 1024 ** 3;

const DAY_MS = 86_400_000;

/** Who asks: a tenant, and whether it is an operator (who may reach every tenant). */
export interface Requester {
  tenantId: string;
  operator: boolean;
  actor?: string;
  ip?: string;
}

/** A file to send: its name for Content-Disposition, its type, and its bytes as they are made. */
export interface ExportFile {
  filename: string;
  contentType: string;
  body: Readable;
}

export interface ExportsDeps {
  database: Database;
  queue: JobQueue;
  storage: Storage;
  /** The API's view of a production (production.json shows what GET /v1/productions/{id} shows). */
  productions: Pick<ProductionsService, 'view'>;
  /** Signs local download links (S3 storage signs its own). */
  outputLinks?: OutputLinks;
  signedUrlTtlSec: number;
  /** Days a built export stays downloadable (EXPORT_RETENTION_DAYS). */
  retentionDays: number;
  /** A csv or json period export of at most this many productions answers at once (EXPORT_INLINE_ROWS). */
  inlineMaxRows: number;
  /** A period export takes many productions' data out at once: each request is an audit entry (export.requested). */
  audit?: Pick<AuditLog, 'record'>;
}

const CONTENT_TYPES: Record<ExportFormat, string> = { json: 'application/json; charset=utf-8', csv: 'text/csv; charset=utf-8', zip: 'application/zip' };

/** The subject and name an export's download link is signed for (security/output-links.ts). */
export const exportLinkSubject = (id: string): { subject: string; name: string } => ({ subject: `export:${id}`, name: 'download' });

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const stamp = (d: Date): string => d.toISOString().replace(/[:.]/g, '-');

export class ExportsService {
  constructor(private readonly deps: ExportsDeps) {}

  private get db() {
    return this.deps.database.db;
  }

  // ---- one production ------------------------------------------------------------------------

  /** GET /v1/productions/{id}/export. 404 for an unknown production (or another tenant's), 409 for one not finished. */
  async production(who: Requester, id: string, format: ExportFormat, exportedAt = new Date()): Promise<ExportFile> {
    const row = who.operator ? await findProductionById(this.db, id) : await findProduction(this.db, who.tenantId, id);
    if (!row) throw new AppError('not_found', `no production ${id}`, { details: [{ path: 'id', message: 'check the id; productions of other tenants are not visible' }] });
    if (!isFinal(row.status)) {
      throw new AppError('conflict', `production ${id} is ${row.status}; it can be exported once it has succeeded, failed or been canceled`, {
        details: [{ path: 'status', message: 'wait for a final status (follow /v1/productions/{id}/events), then export it' }],
      });
    }
    const filename = `production-${id}.${format === 'csv' ? 'cost-lines.csv' : format}`;
    const file = (body: Readable | string): ExportFile => ({ filename, contentType: CONTENT_TYPES[format], body: typeof body === 'string' ? Readable.from([body]) : body });
    switch (format) {
      case 'json':
        return file(`${JSON.stringify(productionDocument(row, await this.deps.productions.view(row), exportedAt), null, 2)}\n`);
      case 'csv':
        return file(csvFile(COST_LINE_COLUMNS, costLines(row)));
      case 'zip': {
        const view = await this.deps.productions.view(row);
        const files = [];
        for (const output of await findOutputs(this.db, id)) {
          // The size now in storage, not the one recorded at delivery; a file that is gone is
          // reported as the download route reports it, rather than archived without it.
          const stored = await this.deps.storage.stat(output.storageKey);
          if (!stored) {
            throw new AppError('output_missing', `the stored file of output ${output.name} is missing`, {
              details: [{ path: 'format', message: 'export as json or csv, retry the production to render it again, or ask the operator to check the storage' }],
            });
          }
          files.push({ name: output.name, bytes: stored.bytes, open: () => this.deps.storage.read(output.storageKey) });
        }
        const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
        if (bytes > ZIP_MAX_BYTES) {
          throw new AppError('payload_too_large', `the outputs of production ${id} hold ${bytes} bytes, over the ${ZIP_MAX_BYTES} a zip export may`, {
            details: [{ path: 'format', message: 'export as json or csv, and download each output from GET /v1/productions/{id}/outputs/{name}' }],
          });
        }
        return file(zipStream(productionZipEntries(row, view, files, exportedAt), exportedAt));
      }
    }
  }

  // ---- a period --------------------------------------------------------------------------------

  /**
   * POST /v1/exports: a csv or json export of at most EXPORT_INLINE_ROWS productions as a file at
   * once; otherwise (and for every zip) an export resource, queued for the export job in the
   * transaction that stores it.
   */
  async request(who: Requester, input: ExportRequest): Promise<{ file: ExportFile; rows: number } | { queued: ExportView }> {
    const period = await this.periodOf(who, input);
    const audit = (target: string | null, details: Record<string, unknown>) =>
      this.deps.audit?.record({
        tenantId: who.tenantId, actor: who.actor ?? 'unknown', action: 'export.requested', target, ip: who.ip ?? null,
        details: { format: input.format, from: period.from.toISOString(), to: period.to.toISOString(), tenantId: period.tenantId, statuses: period.statuses, ...details },
      });
    if (input.format !== 'zip') {
      const rows = await repo.countInPeriod(this.db, period);
      if (rows <= this.deps.inlineMaxRows) {
        const now = new Date();
        await audit(null, { rows });
        const meta = { id: null, from: period.from.toISOString(), to: period.to.toISOString(), tenantId: period.tenantId, statuses: period.statuses, exportedAt: now.toISOString() };
        const body = input.format === 'csv' ? this.csvPieces(period) : this.jsonPieces(period, meta);
        return { file: { filename: `productions-${stamp(now)}.${input.format}`, contentType: CONTENT_TYPES[input.format], body: Readable.from(body) }, rows };
      }
    }
    const row = await this.deps.database.db.transaction(async (tx) => {
      const inserted = await repo.insertExport(tx, {
        id: randomUUID(),
        ownerTenantId: who.tenantId,
        tenantId: period.tenantId,
        requestedBy: who.actor ?? null,
        format: input.format,
        status: 'queued',
        fromAt: period.from,
        toAt: period.to,
        statuses: period.statuses as ProductionStatus[] | null,
      });
      await this.deps.queue.enqueue('export', { exportId: inserted.id }, { executor: executorFor(tx) });
      return inserted;
    });
    await audit(`export:${row.id}`, {});
    return { queued: await this.view(row) };
  }

  /** The tenants and statuses an export covers: an operator any tenant (or all), others only their own. */
  private async periodOf(who: Requester, input: ExportRequest): Promise<repo.Period> {
    let tenantId: string | null = who.tenantId;
    if (input.tenantId && input.tenantId !== who.tenantId) {
      if (!who.operator) throw new AppError('forbidden', 'only an operator may export another tenant\'s productions', { details: [{ path: 'tenantId', message: 'leave it out to export your own tenant' }] });
      await getTenant(this.db, input.tenantId);
      tenantId = input.tenantId;
    } else if (who.operator && !input.tenantId) {
      tenantId = null;
    }
    const statuses = input.status === undefined ? null : [...new Set(Array.isArray(input.status) ? input.status : [input.status])];
    return { from: new Date(input.from), to: new Date(input.to), tenantId, statuses };
  }

  /** GET /v1/exports/{id}: the requester's own export (an operator's: any). */
  async get(who: Requester, id: string): Promise<ExportView> {
    return this.view(await this.require(who, id));
  }

  /** GET /v1/exports: the newest first (an operator sees every tenant's). */
  async list(who: Requester, limit: number): Promise<ExportView[]> {
    const rows = await repo.listExports(this.db, who.operator ? undefined : who.tenantId, limit);
    return Promise.all(rows.map((row) => this.view(row)));
  }

  private async require(who: Requester, id: string): Promise<repo.ExportRow> {
    const row = await repo.findExport(this.db, id);
    if (!row || (!who.operator && row.ownerTenantId !== who.tenantId)) {
      throw new AppError('not_found', `no export ${id}`, { details: [{ path: 'id', message: 'check the id; exports of other tenants are not visible' }] });
    }
    return row;
  }

  /**
   * GET /v1/exports/{id}/download: where the built file is, or a 409 while it is not built (or
   * failed) and 410 once it expired. A signed link's download asks as the link's tenant.
   */
  async download(who: Requester, id: string): Promise<{ storageKey: string; filename: string; contentType: string; bytes: number }> {
    const row = await this.require(who, id);
    if (row.status === 'expired' || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) {
      throw new AppError('not_found', `export ${id} expired on ${iso(row.expiresAt)}`, { status: 410, details: [{ path: 'id', message: 'ask for the period again with POST /v1/exports' }] });
    }
    if (row.status !== 'ready' || !row.storageKey || !row.filename) {
      const why = row.status === 'failed' ? `failed (${row.error?.code}: ${row.error?.message})` : `is ${row.status}`;
      throw new AppError('conflict', `export ${id} ${why}; only a ready export downloads`, {
        details: [{ path: 'status', message: row.status === 'failed' ? 'ask for the period again with POST /v1/exports' : 'poll GET /v1/exports/{id} until its status is ready' }],
      });
    }
    const stored = await this.deps.storage.stat(row.storageKey);
    if (!stored) {
      throw new AppError('output_missing', `the stored file of export ${id} is missing`, { details: [{ path: 'id', message: 'ask for the period again, or ask the operator to check the storage' }] });
    }
    return { storageKey: row.storageKey, filename: row.filename, contentType: CONTENT_TYPES[row.format], bytes: stored.bytes };
  }

  private async view(row: repo.ExportRow): Promise<ExportView> {
    const self = `/v1/exports/${row.id}`;
    let download: string | null = null;
    if (row.status === 'ready' && row.storageKey && row.filename) {
      if (this.deps.storage.signedUrl) download = await this.deps.storage.signedUrl(row.storageKey, this.deps.signedUrlTtlSec, row.filename);
      else {
        const { subject, name } = exportLinkSubject(row.id);
        download = this.deps.outputLinks ? `${self}/download?token=${this.deps.outputLinks.sign(row.ownerTenantId, subject, name)}` : `${self}/download`;
      }
    }
    return {
      id: row.id,
      status: row.status,
      format: row.format,
      from: row.fromAt.toISOString(),
      to: row.toAt.toISOString(),
      tenantId: row.tenantId,
      statuses: row.statuses ?? null,
      rows: row.rows,
      bytes: row.bytes,
      error: row.error ?? null,
      attempts: row.attempts,
      createdAt: row.createdAt.toISOString(),
      startedAt: iso(row.startedAt),
      finishedAt: iso(row.finishedAt),
      expiresAt: iso(row.expiresAt),
      links: { self, download },
    };
  }

  // ---- building (the export job) ---------------------------------------------------------------

  claim(id: string, workerId: string, stallSec: number): Promise<repo.ExportRow | undefined> {
    return repo.claimExport(this.db, id, workerId, stallSec);
  }

  heartbeat(id: string, workerId: string): Promise<boolean> {
    return repo.heartbeatExport(this.db, id, workerId);
  }

  /**
   * Writes the export to `path` (a file of the build's own directory), stores it, and marks it
   * ready. The stored key is the same on every attempt, so a retry replaces what a lost one left.
   */
  async build(row: repo.ExportRow, workerId: string, path: string, now = new Date()): Promise<repo.ExportRow> {
    const period: repo.Period = { from: row.fromAt, to: row.toAt, tenantId: row.tenantId, statuses: row.statuses ?? null };
    const counter = { rows: 0 };
    const meta = { id: row.id, from: row.fromAt.toISOString(), to: row.toAt.toISOString(), tenantId: row.tenantId, statuses: row.statuses ?? null, exportedAt: now.toISOString() };
    const body =
      row.format === 'zip'
        ? zipStream(this.zipEntries(period, meta, counter), now)
        : Readable.from(row.format === 'csv' ? this.csvPieces(period, counter) : this.jsonPieces(period, meta, counter));
    await pipeline(body, createWriteStream(path));
    const filename = `export-${row.id}.${row.format}`;
    const key = `exports/${row.id}/${filename}`;
    const { bytes } = await this.deps.storage.put(key, path, CONTENT_TYPES[row.format].split(';')[0] as string);
    const ready = await repo.settleExport(this.db, row.id, workerId, {
      status: 'ready', rows: counter.rows, bytes, storageKey: key, filename, finishedAt: now, error: null,
      expiresAt: new Date(now.getTime() + this.deps.retentionDays * DAY_MS),
    });
    if (!ready) throw new AppError('conflict', `export ${row.id} is no longer held by this worker`);
    return ready;
  }

  /** Ends a failed build: `final` marks it failed, otherwise it waits queued for the job's retry. */
  async release(id: string, workerId: string, error: AppError, final: boolean): Promise<void> {
    await repo.settleExport(this.db, id, workerId, { status: final ? 'failed' : 'queued', error: { code: error.code, message: error.message }, ...(final ? { finishedAt: new Date() } : {}) });
  }

  /** Exports whose worker died mid-build, queued again with a new job (each in one transaction with its job). */
  async requeueStalled(stallSec: number): Promise<string[]> {
    return this.deps.database.db.transaction(async (tx) => {
      const ids = await repo.requeueStalledExports(tx, stallSec);
      if (ids.length > 0) await this.deps.queue.enqueueMany('export', ids.map((exportId) => ({ data: { exportId } })), { executor: executorFor(tx) });
      return ids;
    });
  }

  /** Deletes the files of exports past their expiry (object first, then the row says expired). */
  async expire(now = new Date()): Promise<{ expired: number; failures: { id: string; message: string }[] }> {
    const result = { expired: 0, failures: [] as { id: string; message: string }[] };
    for (const row of await repo.findExpiredExports(this.db, now)) {
      try {
        if (row.storageKey) await this.deps.storage.delete(row.storageKey);
      } catch (error) {
        // One object the store refuses must not stop the others; the next run tries again.
        result.failures.push({ id: row.id, message: error instanceof Error ? error.message : String(error) });
        continue;
      }
      await repo.markExpired(this.db, row.id);
      result.expired++;
    }
    return result;
  }

  // ---- the bulk files, produced as they are read ---------------------------------------------

  private async *csvPieces(period: repo.Period, counter = { rows: 0 }): AsyncGenerator<string> {
    yield csvLine(PRODUCTION_COLUMNS);
    for await (const page of repo.pagesInPeriod(this.db, period)) {
      counter.rows += page.length;
      yield page.map((row) => csvLine(productionRow(row))).join('');
    }
  }

  private async *costLinePieces(period: repo.Period): AsyncGenerator<string> {
    yield csvLine(COST_LINE_COLUMNS);
    for await (const page of repo.pagesInPeriod(this.db, period)) yield page.flatMap(costLines).map(csvLine).join('');
  }

  /** One JSON record per production, as JSON Lines (`separator` '\n') or the items of an array (',\n'). */
  private async *recordPieces(period: repo.Period, counter: { rows: number }, separator: string): AsyncGenerator<string> {
    let first = true;
    for await (const page of repo.pagesInPeriod(this.db, period)) {
      const outputs = await repo.outputsOf(this.db, page.map((row) => row.id));
      counter.rows += page.length;
      const records = page.map((row) => JSON.stringify(productionRecord(row, outputs.get(row.id) ?? [])));
      yield (first ? '' : separator) + records.join(separator);
      first = false;
    }
  }

  private async *jsonPieces(period: repo.Period, meta: Record<string, unknown>, counter = { rows: 0 }): AsyncGenerator<string> {
    yield `{"export":${JSON.stringify(meta)},"productions":[\n`;
    yield* this.recordPieces(period, counter, ',\n');
    yield '\n]}\n';
  }

  /** productions.csv, cost-lines.csv, productions.jsonl and manifest.json; refused past ZIP_MAX_BYTES. */
  private async *zipEntries(period: repo.Period, meta: Record<string, unknown>, counter: { rows: number }): AsyncGenerator<ZipEntry> {
    let written = 0;
    const capped = (pieces: AsyncGenerator<string>) =>
      async function* (): AsyncGenerator<string> {
        for await (const piece of pieces) {
          written += Buffer.byteLength(piece);
          if (written > ZIP_MAX_BYTES) {
            throw new AppError('payload_too_large', `the export holds over ${ZIP_MAX_BYTES} bytes, more than a zip may`, {
              details: [{ path: 'from', message: 'export a shorter period (or one tenant), or ask for csv' }],
            });
          }
          yield piece;
        }
      };
    const recordLines = async function* (records: AsyncGenerator<string>): AsyncGenerator<string> {
      for await (const piece of records) yield `${piece}\n`;
    };
    yield { name: 'productions.csv', pieces: capped(this.csvPieces(period, counter)) };
    yield { name: 'cost-lines.csv', pieces: capped(this.costLinePieces(period)) };
    yield { name: 'productions.jsonl', pieces: capped(recordLines(this.recordPieces(period, { rows: 0 }, '\n'))) };
    yield { name: 'manifest.json', text: `${JSON.stringify({ ...meta, rows: counter.rows, files: ['productions.csv', 'cost-lines.csv', 'productions.jsonl'] }, null, 2)}\n` };
  }
}
