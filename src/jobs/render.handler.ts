/**
 * The render job: a worker takes a production (a lease renewed by heartbeats), runs the pipeline
 * with progress written back to the database, uploads the outputs to storage, and records the
 * result. A production whose worker died is taken over and resumes from the cached stage outputs;
 * a canceled one is aborted (FFmpeg killed, partial cache units removed) within a heartbeat or,
 * through LISTEN, at once.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, classifyFailure } from '../contract/errors.js';
import type { ProductionStatus } from '../contract/production.js';
import { parseBrief, resolveBrief } from '../contract/resolve.js';
import { expandBriefTemplate } from '../design/templates/merge.js';
import { parseStoryboard } from '../contract/storyboard.js';
import { executorFor, type Database } from '../db/database.js';
import * as repo from '../db/productions.repository.js';
import { publicMessage } from '../lib/public-paths.js';
import type { PipelineDeps, StageName } from '../pipeline/context.js';
import { deliver } from '../pipeline/deliver.js';
import { localizeMediaWithOriginals, restoreMediaUrls, type MediaFetchConfig } from '../pipeline/media-urls.js';
import type { CostReport } from '../pipeline/cost.js';
import { RENDER_PRICE_ID } from '../pipeline/estimate.js';
import { overallProgress, renderBrief, spentBefore, type RenderOptions } from '../pipeline/run.js';
import { applyTenantBranding, getTenant } from '../services/tenants.service.js';
import { applyExperiments, withX264Preset } from '../experiments/choices.js';
import type { Storage } from '../storage/storage.port.js';
import type { JobQueue, QueueJob } from '../queue/queue.js';
import { DEFAULT_MAX_REQUEUES, requeueLimit } from './sweeper.js';
import { makeRenderDir, touchRenderDir } from './temp-dirs.js';
import { failureRecord } from './failure-class.js';
import { EVENTS_CHANNEL } from '../db/channels.js';
import type { ProductionEvents } from '../services/production-events.port.js';

const STATUS_OF: Record<StageName, ProductionStatus> = {
  plan: 'planning',
  narrate: 'rendering',
  visualize: 'rendering',
  score: 'rendering',
  foley: 'rendering',
  mix: 'mixing',
  compose: 'composing',
  qa: 'checking',
};
const ORDER: ProductionStatus[] = ['planning', 'rendering', 'mixing', 'composing', 'checking'];

export interface RenderWorkerDeps {
  database: Database;
  storage: Storage;
  pipeline: PipelineDeps;
  workerId: string;
  assetsDir: string;
  tmpDir: string;
  stallTimeoutSec: number;
  heartbeatSec: number;
  /** Attempts in all (pg-boss retries + 1). */
  maxAttempts: number;
  /** Hand-backs on shutdown (with the sweeper's re-queues) a production may have before it fails with requeue_limit (RENDER_MAX_REQUEUES). */
  maxRequeues?: number;
  /** Limits and allow-lists for media linked by URL. */
  mediaFetch: MediaFetchConfig;
  /** For the new job of a hand-back or of a full disk's deferral (inserted with the release). */
  queue: JobQueue;
  /** Aborted when the worker shuts down: running renders are handed back, not failed. */
  shutdown: AbortSignal;
  /** Told of every finished stage (metrics): its wall time, who did the work, and the units re-used from the cache. */
  onStage?: (event: { stage: StageName; wallSec: number; provider: string; cachedUnits: number; totalUnits: number }) => void;
  /** Told when a render attempt ends, with how it ended and its wall time (metrics). */
  onRenderEnd?: (outcome: RenderOutcome, wallSec: number) => void;
  /** Status-change events (webhooks, through main/), inserted in the transaction of each final status change. */
  webhooks?: ProductionEvents;
  log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** Whose render it is: the tenant's own provider keys and what is left of its budget (the service wires these). */
  renderSelection?: (tenantId: string, productionId: string) => Promise<RenderOptions['selection']>;
  /** The operator's charge per minute of finished video (PRICE_PER_VIDEO_MINUTE_USD), part of each production's cost. */
  chargePerVideoMinuteUsd?: number;
  /**
   * Price per minute by tenant tier (TIER_PRICES_PER_MINUTE_USD), over chargePerVideoMinuteUsd. A
   * finished production records its tenant's tier, what it was charged (revenue) and what it really
   * cost: aiprod_jobs_revenue_usd_total and aiprod_job_processing_cost_usd are read from these.
   */
  tierPrices?: Partial<Record<string, number>>;
  /** USD per CPU-hour of rendering (COMPUTE_USD_PER_CPU_HOUR), added to the providers' bill in the processing cost. */
  computeUsdPerCpuHour?: number;
  /** Told of every provider fallback (metrics). */
  onFallback?: (fallback: { stage: string; from: string; code: string }) => void;
}

class LeaseLost extends Error {}

/** How a render attempt ended: finished either way, or handed back to the queue (to resume elsewhere or retry). */
export type RenderOutcome = 'succeeded' | 'failed' | 'canceled' | 'requeued';

/**
 * What a finished production really cost: every provider's bill (not the operator's own charge,
 * which is revenue) plus its CPU time at the operator's compute price.
 */
export function processingCostUsd(cost: CostReport | null | undefined, computeUsdPerCpuHour: number): number | null {
  if (!cost) return null;
  const providers = cost.stages.filter((r) => r.provider !== RENDER_PRICE_ID).reduce((sum, r) => sum + r.usd, 0);
  return Math.round((providers + (cost.totalCpuSec / 3600) * computeUsdPerCpuHour) * 1e6) / 1e6;
}

/** What the tenant was charged: the operator's render line of the cost report. */
export function revenueUsd(cost: CostReport | null | undefined): number {
  return Math.round((cost?.stages ?? []).filter((r) => r.provider === RENDER_PRICE_ID).reduce((sum, r) => sum + r.usd, 0) * 1e6) / 1e6;
}

/**
 * Why a render was stopped from outside, carried as its AbortSignal's reason: the handler decides
 * on `kind`, never on a message. A shutdown hands the render back; a cancel or a lost lease ends it.
 */
export class RenderStopped extends AppError {
  constructor(readonly kind: 'shutdown' | 'canceled' | 'lease_lost') {
    super('aborted', kind === 'shutdown' ? 'worker shutting down' : kind === 'canceled' ? 'canceled' : 'lease lost');
  }
}

/** Cancels in-flight renders by id (fed by LISTEN aiprod_cancel). */
export class ActiveRenders {
  private readonly controllers = new Map<string, AbortController>();
  add(id: string): AbortController {
    const controller = new AbortController();
    this.controllers.set(id, controller);
    return controller;
  }
  remove(id: string): void {
    this.controllers.delete(id);
  }
  cancel(id: string): void {
    this.controllers.get(id)?.abort(new RenderStopped('canceled'));
  }
  get size(): number {
    return this.controllers.size;
  }
}

export async function handleRender(job: QueueJob<'render'>, deps: RenderWorkerDeps, active: ActiveRenders): Promise<void> {
  const { database, workerId } = deps;
  const db = database.db;
  const id = job.data.productionId;
  const row = await repo.claimProduction(db, id, workerId, deps.stallTimeoutSec);
  if (!row) {
    // Finished, canceled, or held by a live worker: nothing to do — except record a cancel that
    // was asked but never made final (it raced a status write).
    const settled = await repo.settleCanceled(db, id);
    if (settled) {
      await database.notify(EVENTS_CHANNEL, JSON.stringify({ id, tenantId: settled.tenantId }));
      deps.log('info', 'render not claimed: its cancel is recorded', { productionId: id });
    }
    return;
  }
  const attempt = row.attempts;
  const notify = (): Promise<void> => database.notify(EVENTS_CHANNEL, JSON.stringify({ id, tenantId: row.tenantId }));
  const controller = active.add(id);
  const onShutdown = (): void => controller.abort(new RenderStopped('shutdown'));
  deps.shutdown.addEventListener('abort', onShutdown, { once: true });
  let workDir: string | undefined;
  const beat = setInterval(() => {
    if (workDir) touchRenderDir(workDir); // the temp sweep leaves a directory in use alone
    repo
      .heartbeat(db, id, workerId)
      .then((lease) => {
        if (!lease || lease.cancelRequested) controller.abort(new RenderStopped(lease ? 'canceled' : 'lease_lost'));
      })
      .catch(() => undefined); // a missed beat is retried; only a stale lease hands the work over
  }, deps.heartbeatSec * 1000);
  deps.log('info', 'render started', { productionId: id, attempt });
  const startedAt = performance.now();
  // Until told otherwise, an attempt that ends is handed back (a retry, a shutdown, a full disk).
  let outcome: RenderOutcome = 'requeued';
  let pricing: { tier?: string; chargePerVideoMinuteUsd?: number } = { chargePerVideoMinuteUsd: deps.chargePerVideoMinuteUsd };
  let aspectRatio: string | undefined;
  const finished = (cost: CostReport | null | undefined): Partial<repo.NewProduction> => ({
    processingCostUsd: processingCostUsd(cost, deps.computeUsdPerCpuHour ?? 0),
    ...(pricing.tier ? { tier: pricing.tier } : {}),
    ...(aspectRatio ? { aspectRatio } : {}),
  });

  let status: ProductionStatus = 'planning';
  const fractions: Partial<Record<StageName, number>> = {};
  let lastWrite = 0;
  let writing: Promise<unknown> = Promise.resolve();
  // Webhooks: production.progress once per step (10 %), best effort like the progress writes.
  let progressStep = deps.webhooks?.progressStep(row.progress) ?? 0;
  const write = (values: Partial<repo.NewProduction>, force = false): void => {
    const now = Date.now();
    if (!force && now - lastWrite < 500) return;
    lastWrite = now;
    writing = writing
      .then(() => repo.updateOwned(db, id, workerId, values))
      .then((owned) => {
        // Canceled or taken over, and no NOTIFY or heartbeat said so yet: stop now.
        if (!owned) controller.abort(new RenderStopped('lease_lost'));
        else return notify();
      })
      .catch(() => undefined);
    const step = values.progress !== undefined ? deps.webhooks?.progressStep(values.progress) : undefined;
    if (step !== undefined && step > progressStep) {
      progressStep = step;
      writing = writing.then(() => deps.webhooks?.progress(db, id)).catch(() => undefined);
    }
  };

  try {
    // Inside the try: on a full disk this fails too, and is handled like any failure of the render.
    const dir = makeRenderDir(deps.tmpDir, id);
    workDir = dir;
    // Stage runs a dead worker left "running" belong to an earlier attempt: this claim ended them.
    await repo.failRunningStageRuns(db, id, { before: attempt });
    // Canceled (or taken over) between the claim and now: stop before doing any work.
    // An attempt starts with no fallbacks: the view shows this attempt's, like its cost.json.
    if (!(await repo.updateOwned(db, id, workerId, { status, stage: 'plan', progress: 0, fallbacks: [] }))) controller.abort(new RenderStopped('lease_lost'));
    controller.signal.throwIfAborted();
    await notify();
    // Media linked by URL is downloaded into the work directory first (SSRF-safe, size and type checked).
    // The tenant's branding goes under the brief's own (its logo may be a path or a URL, like a brief's).
    // A failed read fails (and retries) the render: never render it unbranded by accident.
    const tenant = await getTenant(db, row.tenantId);
    pricing = { tier: tenant.tier, chargePerVideoMinuteUsd: deps.tierPrices?.[tenant.tier] ?? deps.chargePerVideoMinuteUsd };
    // A template brief is expanded after the branding, so the tenant's colours override the template's palette.
    // Experiments: the variants assigned at creation (and not overridden by the brief) are made here.
    const { brief: withVariants, x264Preset } = applyExperiments(parseBrief(row.brief), row.experiments);
    const branded = expandBriefTemplate(parseBrief(applyTenantBranding(withVariants, tenant.branding)));
    const mediaDir = join(dir, 'media');
    const local = await localizeMediaWithOriginals(branded, mediaDir, deps.mediaFetch, controller.signal);
    const brief = resolveBrief(local.doc);
    aspectRatio = brief.aspectRatio;
    // An approved storyboard may link media by URL too (it keeps the URLs, never temporary paths).
    const reviewed = row.storyboard ? await localizeMediaWithOriginals(parseStoryboard(row.storyboard), mediaDir, deps.mediaFetch, controller.signal) : undefined;
    const originals = new Map([...local.originals, ...(reviewed?.originals ?? [])]);
    const stored = (storyboard: typeof result.state.storyboard): typeof storyboard => (storyboard ? restoreMediaUrls(storyboard, originals) : storyboard);
    const planOnly = row.review && !row.approved;
    const selection = await deps.renderSelection?.(row.tenantId, id);
    const fallbacks: NonNullable<repo.NewProduction['fallbacks']> = [];
    const result = await renderBrief(brief, withX264Preset(deps.pipeline, x264Preset), {
      baseDir: deps.assetsDir,
      selection,
      chargePerVideoMinuteUsd: pricing.chargePerVideoMinuteUsd,
      storyboard: reviewed?.doc,
      signal: controller.signal,
      stopAfter: planOnly ? 'plan' : undefined,
      onEvent: (event) => {
        switch (event.type) {
          case 'stage-start': {
            fractions[event.stage] = 0;
            const next = STATUS_OF[event.stage];
            if (ORDER.indexOf(next) > ORDER.indexOf(status)) status = next;
            writing = writing.then(() => repo.startStageRun(db, id, event.stage, attempt)).catch(() => undefined);
            write({ status, stage: event.stage, progress: overallProgress(fractions) * 100 }, true);
            break;
          }
          case 'stage-progress':
            fractions[event.stage] = event.fraction;
            write({ progress: overallProgress(fractions) * 100 });
            break;
          case 'stage-end':
            fractions[event.stage] = 1;
            deps.onStage?.(event);
            writing = writing
              .then(() =>
                repo.finishStageRun(db, { productionId: id, stage: event.stage, attempt }, {
                  status: 'succeeded', wallSec: event.wallSec, cachedUnits: event.cachedUnits, totalUnits: event.totalUnits,
                }),
              )
              .catch(() => undefined);
            write({ progress: overallProgress(fractions) * 100 }, true);
            break;
          case 'note':
            break;
          case 'fallback':
            // The production's events carry each fallback as it happens; cost.json has them all at the end.
            fallbacks.push({ stage: event.fallback.stage, from: event.fallback.from, to: event.fallback.to, code: event.fallback.code, reason: publicMessage(event.fallback.reason, [deps.assetsDir]) });
            write({ fallbacks: [...fallbacks] }, true);
            deps.onFallback?.(event.fallback);
            deps.log('warn', 'provider fallback', { productionId: id, stage: event.fallback.stage, from: event.fallback.from, to: event.fallback.to, code: event.fallback.code });
            break;
        }
      },
    });
    await writing;
    if (planOnly) {
      // Webhooks: production.awaiting_review commits with the status change.
      const reviewed = await db.transaction(async (tx) => {
        const owned = await repo.updateOwned(tx, id, workerId, { status: 'awaiting_review', storyboard: stored(result.state.storyboard), progress: overallProgress(fractions) * 100, workerId: null });
        if (owned) await deps.webhooks?.emit(tx, id, 'production.awaiting_review');
        return owned;
      });
      if (!reviewed) await settleLost(deps, id, 'lost before review');
      await notify();
      return;
    }
    // storyboard.json names the media the user linked, not this render's temporary copies.
    const delivered = deliverSafely({ ...result, state: { ...result.state, storyboard: stored(result.state.storyboard) } }, join(dir, 'out'));
    const qa = result.state.qa ?? null;
    if (!delivered) {
      outcome = await finishFailed(deps, id, new AppError('qa_failed', qaMessage(qa)), { qa, cost: result.cost, ...finished(result.cost) });
      await notify();
      return;
    }
    // Each attempt stores under its own keys (recorded in the output rows): a worker that lost its
    // lease can neither overwrite nor delete what the worker that took over delivered.
    const rows: repo.OutputRow[] = [];
    let putting: string | undefined;
    const removeUploaded = async (): Promise<void> => {
      for (const key of [...rows.map((r) => r.storageKey), ...(putting ? [putting] : [])]) await deps.storage.delete(key).catch(() => undefined);
    };
    try {
      for (const file of delivered.files) {
        await checkLease(deps, id, controller);
        const key = `productions/${id}/a${attempt}/${file.name}`;
        putting = key;
        const { bytes } = await deps.storage.put(key, file.path, file.mime);
        putting = undefined;
        rows.push({ productionId: id, name: file.name, kind: file.kind, mime: file.mime, bytes, storageKey: key, createdAt: new Date(), durationSec: /^(video|audio)\./.test(file.name) ? (result.state.timeline?.totalSec ?? null) : null });
      }
    } catch (error) {
      // No half-delivered production: what this attempt put up comes down again.
      await removeUploaded();
      throw error;
    }
    const recorded = await db
      .transaction(async (tx) => {
        await repo.replaceOutputs(tx, id, rows);
        const owned = await repo.updateOwned(tx, id, workerId, {
          status: 'succeeded', progress: 100, qa, cost: result.cost, timings: result.timings, durationSec: result.state.timeline?.totalSec ?? null,
          storyboard: stored(result.state.storyboard), finishedAt: new Date(), workerId: null,
          ...finished(result.cost), revenueUsd: revenueUsd(result.cost),
        });
        // Canceled or taken over while uploading: roll the output rows back with it.
        if (!owned) throw new LeaseLost();
        await deps.webhooks?.emit(tx, id, 'production.succeeded');
        return true;
      })
      .catch((error: unknown) => {
        if (error instanceof LeaseLost) return false;
        throw error;
      });
    if (!recorded) {
      // Canceled or taken over: this attempt's objects are nobody's (a new owner stores under its own keys).
      await removeUploaded();
      const now = await repo.findProductionById(db, id);
      deps.log('info', 'render finished after losing its lease; result dropped', { productionId: id, status: now?.status });
      return;
    }
    outcome = 'succeeded';
    await notify();
    deps.log('info', 'render succeeded', { productionId: id, attempt, seconds: result.timings });
  } catch (thrown) {
    await writing;
    const stop = controller.signal.aborted && controller.signal.reason instanceof RenderStopped ? controller.signal.reason : undefined;
    const error = classifyFailure(stop ?? thrown);
    await repo.failRunningStageRuns(db, id, { attempt }).catch(() => undefined);
    if (stop?.kind === 'shutdown') {
      await handBack(deps, row);
      return;
    }
    if (stop) {
      // Canceled (the API has already recorded it) or taken over by another worker.
      await settleLost(deps, id, stop.kind);
      if (stop.kind === 'canceled') outcome = 'canceled';
      return;
    }
    if (error.code === 'resource_exhausted') {
      await deferOnExhaustion(deps, row, error);
      return;
    }
    if (error.retryable && repo.countedAttempts(row) < deps.maxAttempts) {
      const released = await repo.releaseOwned(db, id, workerId, { requeue: false, error: { code: error.code, message: publicMessage(error.message, [deps.assetsDir]), retryable: true } });
      if (!released) {
        // A cancel landed during the failure: the job ends here, the queue must not retry it.
        await settleLost(deps, id, `retryable ${error.code}`);
        return;
      }
      await notify();
      deps.log('warn', 'render failed, will retry', { productionId: id, attempt, code: error.code, message: error.message });
      throw error; // the queue retries with backoff
    }
    // A failed production counts what its finished stages were billed (budgets read it).
    const spent = spentBefore(thrown);
    outcome = await finishFailed(deps, id, error, spent ? { cost: spent, ...finished(spent) } : {});
    await notify();
    deps.log('error', 'render failed', { productionId: id, attempt, code: error.code, message: error.message });
  } finally {
    deps.onRenderEnd?.(outcome, (performance.now() - startedAt) / 1000);
    clearInterval(beat);
    deps.shutdown.removeEventListener('abort', onShutdown);
    active.remove(id);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }
}

function deliverSafely(result: Parameters<typeof deliver>[0], outDir: string): ReturnType<typeof deliver> | undefined {
  try {
    return deliver(result, outDir);
  } catch (error) {
    if (error instanceof AppError && error.code === 'qa_failed') return undefined;
    throw error;
  }
}

function qaMessage(qa: { checks: { name: string; hard: boolean; passed: boolean; expected: string; measured: string }[] } | null): string {
  const failed = (qa?.checks ?? []).filter((c) => c.hard && !c.passed);
  return `quality checks failed: ${failed.map((c) => `${c.name} (expected ${c.expected}, measured ${c.measured})`).join('; ')}`;
}

/**
 * Hands a render back on shutdown: another worker (or this one after a restart) resumes it from the
 * cache. The release and a new job commit together and this job ends normally — the queue's own
 * retries (RENDER_ATTEMPTS - 1) are fewer than the hand-backs allowed, and are kept for failures.
 * Past RENDER_MAX_REQUEUES the production fails instead, and a cancel that landed meanwhile wins.
 */
async function handBack(deps: RenderWorkerDeps, row: repo.ProductionRow): Promise<void> {
  if (await requeueOrFail(deps, row, { why: 'shutdown', failure: requeueLimit(row.requeues), delaySec: 0 })) deps.log('warn', 'render handed back on shutdown', { productionId: row.id });
}

/**
 * A full disk (or quota, or file table) passes, but rarely within the queue's few seconds of
 * backoff: the production goes back to the queue with a new job that starts after a delay
 * (15 s, doubling, at most 10 min), without using up an attempt. Past RENDER_MAX_REQUEUES it fails.
 */
async function deferOnExhaustion(deps: RenderWorkerDeps, row: repo.ProductionRow, error: AppError): Promise<void> {
  const delaySec = Math.min(600, 15 * 2 ** row.requeues);
  if (await requeueOrFail(deps, row, { why: error.code, failure: error, delaySec, error: { code: error.code, message: error.message, retryable: true } })) {
    deps.log('warn', 'render out of resources, re-queued with a delay', { productionId: row.id, delaySec, message: error.message });
  }
}

/**
 * Puts the production back in the queue with a new job (one transaction), counted as a re-queue
 * and not as an attempt; true when it did. Past RENDER_MAX_REQUEUES it fails with `failure`; a
 * cancel or a takeover that landed meanwhile wins.
 */
async function requeueOrFail(
  deps: RenderWorkerDeps,
  row: repo.ProductionRow,
  options: { why: string; failure: AppError; delaySec: number; error?: repo.NewProduction['error'] },
): Promise<boolean> {
  const { database, workerId, queue } = deps;
  const { failure, delaySec, error } = options;
  const id = row.id;
  if (row.requeues >= (deps.maxRequeues ?? DEFAULT_MAX_REQUEUES)) {
    await finishFailed(deps, id, failure, {});
    await database.notify(EVENTS_CHANNEL, JSON.stringify({ id, tenantId: row.tenantId }));
    deps.log('error', 'render failed: re-queued too often', { productionId: id, requeues: row.requeues, code: failure.code, message: failure.message });
    return false;
  }
  const released = await database.db.transaction(async (tx) => {
    const owned = await repo.releaseOwned(tx, id, workerId, { requeue: true, ...(error ? { error: { ...error, message: publicMessage(error.message, [deps.assetsDir]) } } : {}) });
    if (owned) await queue.enqueue('render', { productionId: id }, { priority: row.priority, ...(delaySec > 0 ? { startAfterSec: delaySec } : {}), executor: executorFor(tx) });
    return owned;
  });
  if (!released) {
    await settleLost(deps, id, options.why);
    return false;
  }
  await database.notify(EVENTS_CHANNEL, JSON.stringify({ id, tenantId: row.tenantId }));
  return true;
}

/** Renews the lease, and stops the render (as a cancel or a lost lease) when it is no longer this worker's. */
async function checkLease(deps: RenderWorkerDeps, id: string, controller: AbortController): Promise<void> {
  const lease = await repo.heartbeat(deps.database.db, id, deps.workerId);
  if (!lease || lease.cancelRequested) controller.abort(new RenderStopped(lease ? 'canceled' : 'lease_lost'));
  controller.signal.throwIfAborted();
}

/**
 * A guarded write found the production no longer this worker's. Either a cancel won — recorded
 * now if the cancel's own write did not make it final — or another worker took it over. Either
 * way this job ends here, without a retry.
 */
async function settleLost(deps: RenderWorkerDeps, id: string, why: string): Promise<void> {
  const settled = await repo.settleCanceled(deps.database.db, id);
  if (settled) await deps.database.notify(EVENTS_CHANNEL, JSON.stringify({ id, tenantId: settled.tenantId }));
  const now = settled ?? (await repo.findProductionById(deps.database.db, id));
  deps.log('info', 'render stopped: the production is no longer this worker\'s', { productionId: id, why, status: now?.status, cancelRequested: now?.cancelRequested });
}

/**
 * Records a final failure of a production this worker holds, with its failure class (`error.retryable`:
 * transient ones are re-queued later by the self-healing job); a cancel that won meanwhile stays.
 * production.failed commits with it.
 */
async function finishFailed(deps: RenderWorkerDeps, id: string, error: AppError, extra: Partial<repo.NewProduction>): Promise<RenderOutcome> {
  const failed = await deps.database.db.transaction(async (tx) => {
    // What tenants see names no server path (the log keeps the full message).
    const owned = await repo.updateOwned(tx, id, deps.workerId, { ...extra, status: 'failed', error: failureRecord(error, publicMessage(error.message, [deps.assetsDir])), finishedAt: new Date(), workerId: null, heartbeatAt: null });
    if (owned) await deps.webhooks?.emit(tx, id, 'production.failed');
    return owned;
  });
  if (!failed) {
    await settleLost(deps, id, `failed with ${error.code}`);
    return 'canceled';
  }
  return 'failed';
}
