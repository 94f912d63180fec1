/**
 * Production use cases: create (with idempotency), batch, read, list, cancel, retry, review
 * (storyboard read/edit, approve). No HTTP and no queue library here: the queue is a port, and a
 * production and its job are committed in one transaction before anything is acknowledged.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';
import { sql } from 'drizzle-orm';
import { AppError, type ErrorDetail } from '../contract/errors.js';
import {
  createProductionSchema,
  isFinal,
  type ExperimentAssignments,
  RUNNING_STATUSES,
  type CreateProduction,
  type ListQuery,
  type Production,
  type ProductionStatus,
} from '../contract/production.js';
import type { Brief } from '../contract/brief.js';
import { parseBrief, resolveBrief } from '../contract/resolve.js';
import { expandBriefTemplate, mergeMediaProblems } from '../design/templates/merge.js';
import { diffStoryboards, parseStoryboard, type Storyboard, type StoryboardChanges } from '../contract/storyboard.js';
import { executorFor, type AppDb, type Database } from '../db/database.js';
import * as repo from '../db/productions.repository.js';
import type { JobQueue } from '../queue/queue.js';
import { GroupCommit } from '../lib/group-commit.js';
import { estimateBrief, estimateStoryboard, RENDER_PRICE_ID, type Estimate, type PriceList } from '../pipeline/estimate.js';
import { getTenant } from './tenants.service.js';
import type { ProviderSource } from '../pipeline/context.js';
import { checkVoice, preferences } from '../pipeline/preflight.js';
import type { PriceTable } from '../providers/pricing.js';
import type { RenderProviders } from '../providers/registry.js';
import type { TenantKeyName } from '../providers/provider.js';
import type { ResolvedBrief } from '../contract/resolve.js';
import { checkMediaUrls, isMediaUrl, type MediaFetchConfig } from '../pipeline/media-urls.js';
import type { Storage } from '../storage/storage.port.js';
import { compileAllowList, type AllowList } from '../net/url-policy.js';
import { checkWebhookUrl } from '../net/webhook-target.js';
import type { OutputLinks } from '../security/output-links.js';
import type { ProductionEvents } from './production-events.port.js';
import { requeueFailed } from './requeue-failed.js';
import { links, toProduction } from './production.view.js';
import { CANCEL_CHANNEL, EVENTS_CHANNEL } from '../db/channels.js';

const NO_ALLOW = compileAllowList();

const NO_MEDIA_FETCH: MediaFetchConfig = { maxBytes: 0, timeoutMs: 0, allowHosts: [], allowCidrs: [] };


type TenantKeys = Partial<Record<TenantKeyName, string>>;

export interface ProductionsDeps {
  database: Database;
  /** Where status changes made here are announced, in their transaction (webhooks, through main/). */
  events?: ProductionEvents;
  queue: JobQueue;
  storage: Storage;
  /** The provider chains a render would use (estimates price them; the narrate chain checks voices). */
  providers: ProviderSource & { checkPreference?(prefer: ResolvedBrief['providers'], tenantKeys: TenantKeys): ErrorDetail[] };
  /** A tenant's own provider keys (AccessService.providerKeys): its renders and estimates use them. */
  providerKeys?: (tenantId: string) => Promise<TenantKeys>;
  /** Relative media paths in API briefs resolve here, and may not leave it. */
  assetsDir: string;
  signedUrlTtlSec: number;
  /** Limits and allow-lists for media linked by URL. */
  mediaFetch?: MediaFetchConfig;
  /** USD per billing unit by provider id, for estimates (pipeline/estimate.ts). */
  prices?: PriceList;
  /** The operator's price per minute by tenant tier (TIER_PRICES_PER_MINUTE_USD), over prices' RENDER_PRICE_ID. */
  tierPrices?: Partial<Record<string, number>>;
  /** Private hosts and networks a brief's webhookUrl may name (WEBHOOK_ALLOW_*); default none. */
  webhookAllow?: AllowList;
  /** Signs local output URLs so they download without a key until they expire (S3 storage signs its own). */
  outputLinks?: OutputLinks;
  /** Refuses new work (503 insufficient_storage) while the data or cache directory is short of space. */
  disk?: { assertRoom(): Promise<void> };
  /** A/B experiments (experiments/experiments.service.ts): the variants a new production gets, stored with it. */
  experiments?: { assign(subject: { productionId: string; tenantId: string; tier?: string }, brief: Brief): Promise<ExperimentAssignments> };
}

/**
 * Prices an edited or approved storyboard (outside any transaction) and returns the check to run in
 * the edit's or approval's transaction: it refuses (402) what the budget cannot pay for and writes
 * the production's new estimate (QuotaService.storyboardBudget).
 */
export type StoryboardBudget = (storyboard: Storyboard) => Promise<((tx: AppDb) => Promise<void>) | undefined>;

/** One review edit of a storyboard (GET /v1/productions/:id/storyboard, the original API's edits_history). */
export interface StoryboardEdit {
  id: number;
  at: string;
  actor: string | null;
  changes: StoryboardChanges;
}

/** A production with what the original API's views also show: its brief, request, plan and edits. */
export interface ProductionDetail {
  production: Production;
  brief: Record<string, unknown>;
  /** The original API's request, for productions created through /pipeline/run. */
  origin: Record<string, unknown> | null;
  storyboard: Storyboard | null;
}

const toEdit = (row: repo.EditRow): StoryboardEdit => ({ id: row.id, at: row.at.toISOString(), actor: row.actor, changes: row.changes });

export interface Accepted {
  id: string;
  status: ProductionStatus;
  links: Production['links'];
  /** True when an Idempotency-Key replayed an earlier request. */
  replayed: boolean;
}

/** What a caller (the quotas) adds to a create. */
export interface CreateOptions {
  /** Each new production's estimated cost, in order, stored with it (budgets count it). */
  estimatedUsd?: (number | undefined)[];
  /**
   * Runs first inside the create's transaction and may refuse it by throwing (QuotaService takes a
   * per-tenant lock there and checks what the tenant has left, so check and write are one step).
   */
  guard?: (tx: AppDb) => Promise<void>;
  /** The tenant tier's highest priority: a batch item asking more is lowered to it. */
  maxPriority?: number;
  /** A single create's request as the original API received it (stored as `origin`). */
  origin?: Record<string, unknown>;
  /** A batch's requests as the original API received them, in order. */
  origins?: Record<string, unknown>[];
  /** The tenant's tier (QuotaService knows it): experiments may target tiers. */
  tier?: string;
}

/** A positive estimate as a row's estimated_usd; nothing for none or zero. */
const estimated = (usd: number | undefined): { estimatedUsd?: number } => (usd !== undefined && usd > 0 ? { estimatedUsd: usd } : {});

interface PendingCreate {
  row: repo.NewProduction;
  key: string | undefined;
  hash: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** JSON with sorted keys: two bodies that differ only in key order are the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function invalid(issues: { path: PropertyKey[]; message: string }[], prefix = ''): AppError {
  const details = issues.map((i) => ({ path: prefix + (i.path.map(String).join('.') || '(root)'), message: i.message }));
  return new AppError('invalid_brief', `invalid brief: ${details[0]?.path}: ${details[0]?.message}`, { details });
}

/** `fn`'s result; an AppError it throws gets `prefix` (a batch item's, e.g. "items.2.") on its details' paths. */
function withPrefix<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'invalid_brief' || !prefix) throw error;
    throw invalid(error.details.map((d) => ({ path: (d.path ?? '').split('.'), message: d.message })), prefix);
  }
}

export class ProductionsService {
  constructor(private readonly deps: ProductionsDeps) {}

  private get db(): AppDb {
    return this.deps.database.db;
  }

  /** The chains a tenant's render of this brief would use. */
  private async chains(brief: ResolvedBrief, tenantId?: string): Promise<{ providers: RenderProviders; tenantKeys: TenantKeys }> {
    const tenantKeys = tenantId && this.deps.providerKeys ? await this.deps.providerKeys(tenantId) : {};
    return { providers: this.deps.providers.forRender({ quality: brief.quality, prefer: preferences(brief), tenantKeys }), tenantKeys };
  }

  /** Schema, language, provider and media checks: everything that can be refused before a job exists. */
  async validate(body: unknown, prefix = '', tenantId?: string): Promise<CreateProduction> {
    const parsed = createProductionSchema.safeParse(body);
    if (!parsed.success) throw invalid(parsed.error.issues, prefix);
    const { webhookUrl, review: _r, metadata: _m, priority: _p, autoApproveAfterSec: _a, ...brief } = parsed.data;
    // Webhooks: a webhookUrl that is a private or loopback address is refused now (422 unsafe_url);
    // names are resolved and checked at every delivery attempt.
    if (webhookUrl) await checkWebhookUrl(webhookUrl, { allow: this.deps.webhookAllow ?? NO_ALLOW, resolve: false, field: `${prefix}webhookUrl` });
    // A template brief is checked as the scenes it expands to (merge errors are invalid_brief on merge.<field>).
    const source = withPrefix(prefix, () => parseBrief(brief));
    const expanded = withPrefix(prefix, () => expandBriefTemplate(source));
    const resolved = resolveBrief(expanded);
    const { providers, tenantKeys } = await this.chains(resolved, tenantId);
    const preference = this.deps.providers.checkPreference?.(resolved.providers, tenantKeys) ?? [];
    if (preference[0]) {
      throw new AppError('provider_not_configured', `${prefix}${preference[0].path}: ${preference[0].message}`, { details: preference.map((d) => ({ ...d, path: prefix + (d.path ?? '') })) });
    }
    await checkVoice(resolved, providers).catch((error: unknown) => {
      if (error instanceof AppError && prefix) {
        throw new AppError(error.code, `${prefix}${error.message}`, { details: error.details.map((d) => ({ ...d, path: prefix + (d.path ?? '') })) });
      }
      throw error;
    });
    // A template's media merge field that names no file is refused on merge.<field>, before the
    // scenes it fills would report it on a path the user never wrote.
    const merged = mergeMediaProblems(source, (src) => this.assetProblem(src)).map((d) => ({ ...d, path: prefix + (d.path ?? '') }));
    if (merged[0]) throw new AppError('asset_not_found', `${merged[0].path}: ${merged[0].message}`, { details: merged });
    const problems: ErrorDetail[] = [];
    const media = (path: string, src: string): void => {
      const problem = this.assetProblem(src);
      if (problem) problems.push({ path: prefix + path, message: problem });
    };
    // A URL is downloaded at render time (pipeline/media-urls.ts); here it is only checked.
    const local = (path: string, src: string): void => {
      if (!isMediaUrl(src)) media(path, src);
    };
    expanded.scenes?.forEach((scene, i) => {
      if (scene.visual?.type === 'image' || scene.visual?.type === 'video') local(`scenes.${i}.visual.src`, scene.visual.src);
      scene.images?.forEach((image, k) => local(`scenes.${i}.images.${k}.src`, image.src));
    });
    if (expanded.brand?.logo) local('brand.logo', expanded.brand.logo);
    if (parsed.data.brand?.font && !isMediaUrl(parsed.data.brand.font)) media('brand.font', parsed.data.brand.font);
    const unsafe = await checkMediaUrls(expanded, this.deps.mediaFetch ?? NO_MEDIA_FETCH, prefix);
    if (unsafe[0]) throw new AppError('unsafe_url', `${unsafe[0].path}: ${unsafe[0].message}`, { details: unsafe });
    if (problems[0]) throw new AppError('asset_not_found', `${problems[0].path}: ${problems[0].message}`, { details: problems });
    return parsed.data;
  }

  /** Why `src` is not a usable media path (relative, inside the assets directory, an existing file); undefined when it is. */
  private assetProblem(src: string): string | undefined {
    const root = resolve(this.deps.assetsDir);
    const full = isAbsolute(src) ? src : resolve(root, src);
    if (isAbsolute(src) || !full.startsWith(root + sep)) return `give a path relative to the server's assets directory (${root}), without ".."`;
    if (!existsSync(full) || !statSync(full).isFile()) return `file not found in the server's assets directory: ${src}`;
    return undefined;
  }

  /** Cost, length and render time of a brief, from its plan, without rendering it. */
  async estimate(body: unknown, prefix = '', tenantId?: string): Promise<Estimate> {
    return (await this.validateAndEstimate(body, prefix, tenantId)).estimate;
  }

  /**
   * Prices a storyboard for production `id` (of the caller's tenant) with the chains and prices its
   * brief would get now, on the basis its creation estimate used (budgets re-price review edits).
   */
  async estimateStoryboardOf(tenantId: string, id: string, storyboard: Storyboard): Promise<Estimate> {
    const row = await this.require(tenantId, id);
    const resolved = resolveBrief(expandBriefTemplate(parseBrief(row.brief)));
    const { providers } = await this.chains(resolved, tenantId);
    return estimateStoryboard(storyboard, resolved, providers, await this.pricesFor(tenantId));
  }

  /** The price table estimates use (DEFAULT_PRICES with AIPROD_PRICES over it): the original API's cost comparisons price from it. */
  priceTable(): PriceTable {
    return this.deps.providers.forRender().prices;
  }

  /** validate() and estimate() in one: the request as validated, and its estimate (no vendor is called). */
  async validateAndEstimate(body: unknown, prefix = '', tenantId?: string): Promise<{ request: CreateProduction; estimate: Estimate }> {
    const request = await this.validate(body, prefix, tenantId);
    const { webhookUrl: _w, review: _r, metadata: _m, priority: _p, autoApproveAfterSec: _a, ...brief } = request;
    const resolved = resolveBrief(expandBriefTemplate(parseBrief(brief)));
    const { providers } = await this.chains(resolved, tenantId);
    return { request, estimate: await estimateBrief(resolved, providers, await this.pricesFor(tenantId)) };
  }

  /** The price list of a tenant's estimates: its tier's price per minute when one is set. */
  private async pricesFor(tenantId: string | undefined): Promise<PriceList | undefined> {
    const tierPrices = this.deps.tierPrices ?? {};
    if (!tenantId || Object.keys(tierPrices).length === 0) return this.deps.prices;
    const { tier } = await getTenant(this.deps.database.db, tenantId);
    const perMinute = tierPrices[tier];
    return perMinute === undefined ? this.deps.prices : { ...this.deps.prices, [RENDER_PRICE_ID]: perMinute };
  }

  /** `maxPriority`: the tenant's tier cap (QuotaService); callers inside the service (CLI, operators) are not capped. */
  private newRow(tenantId: string, request: CreateProduction, createdAt: Date, maxPriority = Infinity): repo.NewProduction {
    const { webhookUrl, review, metadata, priority, autoApproveAfterSec, ...brief } = request;
    return {
      id: randomUUID(),
      tenantId,
      status: 'queued',
      brief,
      review: review ?? false,
      autoApproveSec: review && autoApproveAfterSec !== undefined ? autoApproveAfterSec : null,
      webhookUrl: webhookUrl ?? null,
      metadata: metadata ?? {},
      priority: Math.min(priority ?? 0, maxPriority),
      createdAt,
      updatedAt: createdAt,
    };
  }

  /**
   * The ids an earlier request with this Idempotency-Key created, when `body` is the same request
   * (409 when it is not); undefined for a new key. Lets callers skip checks a replay must not fail.
   */
  async replayOf(tenantId: string, key: string | undefined, body: unknown): Promise<string[] | undefined> {
    return key ? this.replay(tenantId, key, sha256(canonical(body))) : undefined;
  }

  /** Replays an idempotent request, or says it conflicts; undefined when the key is new. */
  private async replay(tenantId: string, key: string, hash: string): Promise<string[] | undefined> {
    const existing = await repo.findIdempotencyKey(this.db, tenantId, key);
    if (!existing) return undefined;
    if (existing.requestHash !== hash) {
      throw new AppError('idempotency_conflict', 'this Idempotency-Key was used with a different request body', {
        details: [{ path: 'Idempotency-Key', message: 'use a new key for a different request, or resend the original body' }],
      });
    }
    return existing.productionIds;
  }

  /**
   * Validates, then commits the production, its job, its idempotency key and the change notification
   * in one transaction (NOTIFY is delivered at commit); concurrent creates share that transaction
   * (group commit, see insertCreates). A key that is already taken replays the earlier answer, or
   * refuses another body with 409.
   */
  async create(tenantId: string, body: unknown, idempotencyKey?: string, validated?: CreateProduction, options: CreateOptions = {}): Promise<Accepted> {
    await this.deps.disk?.assertRoom();
    const hash = sha256(canonical(body));
    // `validated`: the caller already ran validate(body) (QuotaService does, to estimate it).
    const request = validated ?? (await this.validate(body));
    const row = { ...this.newRow(tenantId, request, new Date()), ...estimated(options.estimatedUsd?.[0]), ...(options.origin ? { origin: options.origin } : {}) };
    await this.assignExperiments([row], options.tier);
    const item = { row, key: idempotencyKey, hash };
    // A guarded create has a transaction of its own (the guard's lock is held until it commits);
    // the others share one through group commit.
    const guard = options.guard;
    const outcome = guard
      ? await this.db.transaction(async (tx) => {
          await guard(tx);
          return (await this.writeCreates(tx, [item]))[0];
        })
      : await this.creates.submit(item);
    if (outcome === 'taken' && idempotencyKey) {
      const ids = await this.replay(tenantId, idempotencyKey, hash);
      if (ids?.[0]) return this.accepted(tenantId, ids[0], true);
    }
    return { id: row.id, status: 'queued', links: links(row.id), replayed: false };
  }

  private readonly creates = new GroupCommit((items: PendingCreate[]) => this.insertCreates(items), { maxBatch: 200 });

  /** Writes a group of creates in one transaction; an item whose Idempotency-Key is taken is 'taken'. */
  private async insertCreates(items: PendingCreate[]): Promise<('created' | 'taken')[]> {
    return this.db.transaction((tx) => this.writeCreates(tx, items));
  }

  /** The writes of a group of creates, inside the caller's transaction `tx`. */
  private async writeCreates(tx: AppDb, items: PendingCreate[]): Promise<('created' | 'taken')[]> {
    const outcome: ('created' | 'taken')[] = items.map(() => 'created');
    const keyed = new Map<string, number>();
    items.forEach((item, i) => {
      if (!item.key) return;
      const slot = `${item.row.tenantId}\u0000${item.key}`;
      if (keyed.has(slot)) outcome[i] = 'taken'; // the same key twice in one group: the first wins
      else keyed.set(slot, i);
    });
    if (keyed.size > 0) {
      const inserted = await repo.insertIdempotencyKeys(
        tx,
        [...keyed.values()].map((i) => {
          const { row, key, hash } = items[i] as PendingCreate;
          return { tenantId: row.tenantId, key: key as string, requestHash: hash, productionIds: [row.id] };
        }),
      );
      for (const [slot, i] of keyed) if (!inserted.has(slot)) outcome[i] = 'taken';
    }
    const rows = items.filter((_, i) => outcome[i] === 'created').map((item) => item.row);
    if (rows.length > 0) {
      await repo.insertProductions(tx, rows);
      await this.deps.queue.enqueueMany('render', rows.map((r) => ({ data: { productionId: r.id }, priority: r.priority ?? 0 })), { executor: executorFor(tx) });
      await tx.execute(sql`select pg_notify(c, p) from (values ${sql.join(rows.map((r) => sql`(${EVENTS_CHANNEL}, ${JSON.stringify({ id: r.id, tenantId: r.tenantId })})`), sql`, `)}) as v(c, p)`);
    }
    return outcome;
  }

  /** All-or-nothing: every item is validated first; one bad item refuses the batch with per-item errors. */
  async createBatch(tenantId: string, items: unknown[], idempotencyKey?: string, options: CreateOptions = {}): Promise<{ ids: string[]; replayed: boolean }> {
    await this.deps.disk?.assertRoom();
    const hash = sha256(canonical(items));
    if (idempotencyKey) {
      const ids = await this.replay(tenantId, idempotencyKey, hash);
      if (ids) return { ids, replayed: true };
    }
    const details: ErrorDetail[] = [];
    const requests: CreateProduction[] = [];
    for (const [i, item] of items.entries()) {
      try {
        requests.push(await this.validate(item, `productions.${i}.`));
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        details.push(...(error.details.length > 0 ? error.details : [{ path: `productions.${i}`, message: error.message }]));
      }
    }
    if (details.length > 0) {
      throw new AppError('invalid_batch', `${details.length} problem(s) in the batch; nothing was created. First: ${details[0]?.path}: ${details[0]?.message}`, { details });
    }
    // Timestamps a microsecond apart keep the batch's order in newest-first listings.
    const base = Date.now();
    const rows = requests.map((r, i) => ({
      ...this.newRow(tenantId, r, new Date(base + i), options.maxPriority),
      ...estimated(options.estimatedUsd?.[i]),
      ...(options.origins?.[i] ? { origin: options.origins[i] } : {}),
    }));
    await this.assignExperiments(rows, options.tier);
    const ids = rows.map((r) => r.id);
    const raced = await this.db.transaction(async (tx) => {
      await options.guard?.(tx);
      if (idempotencyKey && !(await repo.insertIdempotencyKey(tx, { tenantId, key: idempotencyKey, requestHash: hash, productionIds: ids }))) return true;
      await repo.insertProductions(tx, rows);
      await this.deps.queue.enqueueMany('render', rows.map((r) => ({ data: { productionId: r.id }, priority: r.priority ?? 0 })), { executor: executorFor(tx) });
      return false;
    });
    if (raced && idempotencyKey) {
      const replayed = await this.replay(tenantId, idempotencyKey, hash);
      if (replayed) return { ids: replayed, replayed: true };
    }
    return { ids, replayed: false };
  }

  /** Puts each new row's experiment variants on it (in memory: no query), so they commit with the insert. */
  private async assignExperiments(rows: repo.NewProduction[], tier: string | undefined): Promise<void> {
    const experiments = this.deps.experiments;
    if (!experiments) return;
    await Promise.all(rows.map(async (row) => {
      row.experiments = await experiments.assign({ productionId: row.id, tenantId: row.tenantId, ...(tier ? { tier } : {}) }, row.brief as Brief);
    }));
  }

  /** The answer to a create, for a production that exists (a replay, when `replayed`). */
  async accepted(tenantId: string, id: string, replayed: boolean): Promise<Accepted> {
    const row = await repo.findProduction(this.db, tenantId, id);
    return { id, status: row?.status ?? 'queued', links: links(id), replayed };
  }

  private async require(tenantId: string, id: string): Promise<repo.ProductionRow> {
    const row = await repo.findProduction(this.db, tenantId, id);
    if (!row) throw notFound(id);
    return row;
  }

  /** The production's view: the row, its stage runs and outputs read in one query. */
  async get(tenantId: string, id: string): Promise<Production> {
    const found = await repo.findProductionWithDetails(this.db, tenantId, id);
    if (!found) throw notFound(id);
    return this.present(found);
  }

  /** The production with its brief, original request and plan (the original API's job views). */
  async detail(tenantId: string, id: string): Promise<ProductionDetail> {
    const row = await this.require(tenantId, id);
    return this.detailOf(row, await this.view(row));
  }

  /** A page of productions with their details, newest first, skipping `offset` (the original API's lists and exports). */
  async listDetails(tenantId: string, query: Pick<ListQuery, 'status' | 'limit'>, offset = 0): Promise<ProductionDetail[]> {
    const rows = await repo.listProductionsWithDetails(this.db, tenantId, { ...query }, undefined, offset);
    return Promise.all(rows.slice(0, query.limit).map(async (r) => this.detailOf(r.row, await this.present(r))));
  }

  /** The tenant's productions counted by status, approval and review, in one query. */
  async reviewCounts(tenantId: string): Promise<{ status: ProductionStatus; approved: boolean; review: boolean; n: number }[]> {
    return repo.countReviews(this.db, tenantId);
  }

  /** How many productions the tenant has (in `statuses` when given). */
  async count(tenantId: string, statuses?: ProductionStatus[]): Promise<number> {
    return repo.countProductions(this.db, tenantId, statuses);
  }

  private detailOf(row: repo.ProductionRow, production: Production): ProductionDetail {
    return {
      production,
      brief: row.brief as Record<string, unknown>,
      origin: row.origin ?? null,
      storyboard: (row.storyboard as Storyboard | null) ?? null,
    };
  }

  async view(row: repo.ProductionRow): Promise<Production> {
    const [stages, outputs] = await Promise.all([repo.findStageRuns(this.db, row.id), repo.findOutputs(this.db, row.id)]);
    return this.present({ row, stages, outputs });
  }

  private async present({ row, stages, outputs }: repo.ProductionWithDetails): Promise<Production> {
    const withUrls = await Promise.all(outputs.map(async (o) => ({ ...o, url: await this.outputUrl(row, o) })));
    return toProduction(row, stages, withUrls);
  }

  private async outputUrl(row: repo.ProductionRow, output: repo.OutputRow): Promise<string> {
    if (this.deps.storage.signedUrl) return this.deps.storage.signedUrl(output.storageKey, this.deps.signedUrlTtlSec, output.name);
    const path = `/v1/productions/${row.id}/outputs/${encodeURIComponent(output.name)}`;
    return this.deps.outputLinks ? `${path}?token=${this.deps.outputLinks.sign(row.tenantId, row.id, output.name)}` : path;
  }

  async list(tenantId: string, query: ListQuery): Promise<{ data: Production[]; nextCursor: string | null }> {
    const cursor = query.cursor ? repo.decodeCursor(query.cursor) : undefined;
    if (query.cursor && !cursor) throw new AppError('invalid_request', 'cursor is not one this API gave out', { details: [{ path: 'cursor', message: 'pass the nextCursor of the previous page, unchanged' }] });
    // One query for the page, stage runs and outputs included.
    const rows = await repo.listProductionsWithDetails(this.db, tenantId, query, cursor);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1]?.row;
    return { data: await Promise.all(page.map((r) => this.present(r))), nextCursor: rows.length > query.limit && last ? repo.encodeCursor(last) : null };
  }

  async output(tenantId: string, id: string, name: string): Promise<repo.OutputRow> {
    await this.require(tenantId, id);
    const output = (await repo.findOutputs(this.db, id)).find((o) => o.name === name);
    if (!output) throw new AppError('not_found', `production ${id} has no output ${name}`, { details: [{ path: 'name', message: 'see the outputs list of GET /v1/productions/:id' }] });
    return output;
  }

  /** `reason`: why, as the canceller says (shown as cancelReason). */
  async cancel(tenantId: string, id: string, reason?: string): Promise<Production> {
    const row = await this.require(tenantId, id);
    if (isFinal(row.status)) {
      throw new AppError('conflict', `production ${id} is already ${row.status}`, { details: [{ path: 'status', message: 'only a production that has not finished can be canceled' }] });
    }
    // Webhooks: the production.canceled deliveries commit with the status change.
    const updated = await this.db.transaction(async (tx) => {
      const next = await repo.updateProduction(tx, id, { status: 'canceled', cancelRequested: true, finishedAt: new Date(), cancelReason: reason ?? null }, ['queued', 'awaiting_review', ...RUNNING_STATUSES]);
      if (next) await this.deps.events?.emit(tx, id, 'production.canceled');
      return next;
    });
    if (!updated) return this.cancel(tenantId, id, reason); // it moved on meanwhile: look again
    // A job no worker has started would only be claimed and dropped; take it off the queue now.
    await this.deps.queue.discardPending(id);
    await this.deps.database.notify(CANCEL_CHANNEL, id);
    await this.notify(id, tenantId);
    return this.view(updated);
  }

  async retry(tenantId: string, id: string): Promise<Production> {
    const row = await this.require(tenantId, id);
    if (row.status !== 'failed') {
      throw new AppError('conflict', `production ${id} is ${row.status}, not failed`, { details: [{ path: 'status', message: 'only a failed production can be retried' }] });
    }
    await this.deps.disk?.assertRoom();
    // The same path as the self-healing job's auto-retry (services/requeue-failed.ts): cached stage
    // units are re-used, and the counts of re-queues and attempts start afresh.
    const updated = await this.db.transaction((tx) => requeueFailed(tx, this.deps.queue, row));
    if (!updated) return this.retry(tenantId, id);
    await this.notify(id, tenantId);
    return this.view(updated);
  }

  async storyboard(tenantId: string, id: string): Promise<{ status: ProductionStatus; storyboard: Storyboard | null; edits: StoryboardEdit[] }> {
    const row = await this.require(tenantId, id);
    return { status: row.status, storyboard: (row.storyboard as Storyboard | null) ?? null, edits: await this.edits(row.id) };
  }

  /** The review edits of a production (of the caller's tenant: look it up first), oldest first; those after edit `afterId` when given. */
  async edits(id: string, afterId = 0): Promise<StoryboardEdit[]> {
    return (await repo.findEdits(this.db, id, afterId)).map(toEdit);
  }

  /**
   * Replaces the storyboard of a production awaiting review and records the edit (what changed,
   * field by field, and who changed it) in the same transaction. `changes` overrides the computed
   * diff. An edit that changes nothing is not recorded. Restarts the auto-approval wait.
   */
  async editStoryboard(tenantId: string, id: string, body: unknown, edit: { actor?: string; changes?: StoryboardChanges; budget?: StoryboardBudget } = {}): Promise<Storyboard> {
    return this.reviseStoryboard(tenantId, id, () => ({ storyboard: body, ...(edit.changes ? { changes: edit.changes } : {}) }), edit.actor, edit.budget);
  }

  /**
   * Edits the storyboard of a production awaiting review from what it is now: `revise` gets the
   * current storyboard and returns the new one (and, optionally, the changes to record, e.g. the
   * original API's manifest fields). The write only lands when the storyboard is still the one
   * `revise` saw; when another edit landed in between, `revise` runs again on the new one — so
   * concurrent field edits all take effect, and edits are recorded in the order they were applied.
   */
  async reviseStoryboard(
    tenantId: string,
    id: string,
    revise: (current: Storyboard | null) => Promise<{ storyboard: unknown; changes?: StoryboardChanges }> | { storyboard: unknown; changes?: StoryboardChanges },
    actor?: string,
    budget?: StoryboardBudget,
  ): Promise<Storyboard> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const row = await this.require(tenantId, id);
      if (row.status !== 'awaiting_review') {
        throw new AppError('conflict', `the storyboard can be edited only while awaiting_review; production ${id} is ${row.status}`, {
          details: [{ path: 'status', message: 'create the production with "review": true to edit its storyboard before rendering' }],
        });
      }
      const current = (row.storyboard as Storyboard | null) ?? null;
      const revised = await revise(current);
      const storyboard = await this.checkStoryboardMedia(parseStoryboard(revised.storyboard));
      const changes = revised.changes ?? (current ? diffStoryboards(current, storyboard) : { storyboard: { old: null, new: storyboard } });
      // Priced before the transaction (it reads the tenant's keys), checked and written inside it.
      const priced = await budget?.(storyboard);
      const written = await this.db.transaction(async (tx) => {
        const next = await repo.replaceStoryboard(tx, id, current, storyboard);
        if (next && priced) await priced(tx);
        if (next && Object.keys(changes).length > 0) await repo.insertEdit(tx, { productionId: id, actor: actor ?? null, changes });
        return next;
      });
      if (!written) continue; // edited, approved or canceled meanwhile: look again
      await this.notify(id, tenantId);
      return storyboard;
    }
    throw new AppError('conflict', `the storyboard of production ${id} kept changing while this edit was applied`, { details: [{ path: 'storyboard', message: 'read it again and retry' }] });
  }

  /**
   * An edited storyboard names media like a brief does: confined to the assets directory, or a URL
   * that passes the same checks. (Length and budget are checked by the caller: QuotaService.)
   */
  private async checkStoryboardMedia(storyboard: Storyboard): Promise<Storyboard> {
    const problems: ErrorDetail[] = [];
    storyboard.scenes.forEach((scene, i) => {
      const v = scene.visual;
      if ((v.type === 'image' || v.type === 'video') && !isMediaUrl(v.src)) {
        const problem = this.assetProblem(v.src);
        if (problem) problems.push({ path: `scenes.${i}.visual.src`, message: problem });
      }
    });
    problems.push(...(await checkMediaUrls(storyboard, this.deps.mediaFetch ?? NO_MEDIA_FETCH)));
    if (problems[0]) throw new AppError('invalid_storyboard', `${problems[0].path}: ${problems[0].message}`, { details: problems, status: 422 });
    return storyboard;
  }

  /** `budget`: re-prices the storyboard being approved and holds it to the tenant's budget (QuotaService). */
  async approve(tenantId: string, id: string, budget?: StoryboardBudget): Promise<Production> {
    const row = await this.require(tenantId, id);
    if (row.status !== 'awaiting_review') {
      throw new AppError('conflict', `production ${id} is ${row.status}, not awaiting_review`, { details: [{ path: 'status', message: 'only a production awaiting review can be approved' }] });
    }
    const priced = row.storyboard ? await budget?.(parseStoryboard(row.storyboard)) : undefined;
    // Approved only while the storyboard is the one priced: an edit in between makes it look again.
    const updated = await this.approveRow(id, priced ? row.updatedAt : undefined, priced);
    if (!updated) return this.approve(tenantId, id, budget);
    await this.notify(id, tenantId);
    return this.view(updated);
  }

  /** Queues the render of a production still awaiting review; undefined when it no longer is. */
  private async approveRow(id: string, unchangedSince?: Date, priced?: (tx: AppDb) => Promise<void>): Promise<repo.ProductionRow | undefined> {
    return this.db.transaction(async (tx) => {
      const next = await repo.markApproved(tx, id, unchangedSince);
      if (next && priced) await priced(tx);
      if (next) await this.deps.queue.enqueue('render', { productionId: id }, { priority: next.priority, executor: executorFor(tx) });
      return next;
    });
  }

  /**
   * Approves every production whose auto-approval wait (autoApproveAfterSec) has passed without a
   * review action; the sweeper calls it. Returns the ids it approved. A production approved,
   * edited or canceled meanwhile is left alone.
   */
  async approveOverdue(): Promise<string[]> {
    const approved: string[] = [];
    for (const row of await repo.findOverdueReviews(this.db)) {
      const updated = await this.approveRow(row.id, row.updatedAt);
      if (!updated) continue;
      approved.push(row.id);
      await this.notify(row.id, row.tenantId);
    }
    return approved;
  }

  private async notify(id: string, tenantId: string): Promise<void> {
    await this.deps.database.notify(EVENTS_CHANNEL, JSON.stringify({ id, tenantId }));
  }
}

function notFound(id: string): AppError {
  return new AppError('not_found', `no production ${id}`, { details: [{ path: 'id', message: 'check the id; productions of other tenants are not visible' }] });
}
