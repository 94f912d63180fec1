/**
 * Tier quotas, checked before productions are created: the longest video, the highest resolution,
 * how many productions may be unfinished at once, the batch size, and the monthly budget (a brief
 * whose estimate exceeds what is left of it is accepted when an offline render fits — the render
 * then steps down to a provider tier the budget pays for — and refused with 402 and the numbers
 * when not even that does).
 *
 * For limited tenants the checks of what is left (unfinished productions, budget) run inside the
 * create's transaction under a per-tenant advisory lock, and each production's estimate is written
 * with it, so no number of API processes can overrun them (see `guard`). Budgets count each
 * unfinished production's estimate at creation (or its cost so far, when higher); a succeeded one's
 * cost, or the estimate its render made with the providers it used when higher; a failed or canceled
 * one's recorded cost — in the calendar month (UTC) it was created.
 */
import { and, eq, gte, inArray, ne, sql } from 'drizzle-orm';
import { AppError, type ErrorDetail } from '../contract/errors.js';
import { RUNNING_STATUSES } from '../contract/production.js';
import type { AppDb } from '../db/database.js';
import { productions } from '../db/schema.js';
import { KeyedMutex } from '../lib/keyed-mutex.js';
import { estimateStoryboardSec, type Estimate } from '../pipeline/estimate.js';
import { parseStoryboard } from '../contract/storyboard.js';
import type { CreateProduction } from '../contract/production.js';
import type { Storyboard } from '../contract/storyboard.js';
import type { Production } from '../contract/production.js';
import type { BudgetAlerts } from './budgets.service.js';
import type { Accepted, ProductionsService } from './productions.service.js';
import { getTenant, type TenantView, type Tier } from './tenants.service.js';

export interface TierQuotas {
  maxDurationSec: number;
  maxResolution: '480p' | '720p' | '1080p';
  /** Productions queued, running or awaiting review at once. */
  maxConcurrent: number;
  maxBatch: number;
  /**
   * The highest render priority the tier gets: a higher one asked for is lowered to it (the
   * production shows the priority it got), so one tenant cannot jump the queue of the others.
   */
  maxPriority: number;
}

export const TIER_QUOTAS: Record<Tier, TierQuotas> = {
  free: { maxDurationSec: 120, maxResolution: '720p', maxConcurrent: 3, maxBatch: 10, maxPriority: 0 },
  pro: { maxDurationSec: 900, maxResolution: '1080p', maxConcurrent: 25, maxBatch: 100, maxPriority: 5 },
  enterprise: { maxDurationSec: 1800, maxResolution: '1080p', maxConcurrent: Infinity, maxBatch: 500, maxPriority: 10 },
};

const RESOLUTION_RANK = { '480p': 480, '720p': 720, '1080p': 1080 } as const;

/** The first key of the quotas' advisory locks (the second is the tenant's hash), apart from other users of advisory locks such as pg-boss. */
const QUOTA_LOCKS = 0x41495051;

export class QuotaService {
  private readonly locks = new KeyedMutex();
  private readonly tenants = new Map<string, { tenant: TenantView; until: number }>();

  constructor(
    private readonly db: AppDb,
    private readonly productionsService: ProductionsService,
    private readonly quotas: Record<Tier, TierQuotas> = TIER_QUOTAS,
    /**
     * `tenantCacheMs`: how long a tenant's tier and budget are remembered (ms); 0 reads them on every use.
     * `alerts`: budget thresholds announced as spend changes, and the operator-wide budget (budgets.service.ts).
     */
    private readonly options: { tenantCacheMs?: number; alerts?: BudgetAlerts } = {},
  ) {}

  /**
   * Estimates each request (validating it on the way) and refuses the lot if any quota would be
   * exceeded; returns the estimates, in order, for `recordEstimates`.
   * `pathOf(i)` names item i in error details (`productions.3.` for a batch, '' for one).
   */
  async check(tenantId: string, requests: unknown[], pathOf: (i: number) => string = () => ''): Promise<Estimate[]> {
    return (await this.checkValidated(tenantId, requests, pathOf)).map((r) => r.estimate);
  }

  /** `check`, returning each request as validated too, so the create need not validate it again. */
  private async checkValidated(tenantId: string, requests: unknown[], pathOf: (i: number) => string = () => ''): Promise<{ request: CreateProduction; estimate: Estimate }[]> {
    const tenant = await this.tenant(tenantId);
    const q = this.quotas[tenant.tier] ?? TIER_QUOTAS.free;
    if (requests.length > q.maxBatch) {
      throw new AppError('quota_exceeded', `the ${tenant.tier} tier creates at most ${q.maxBatch} productions per batch; this one has ${requests.length}`, {
        details: [{ path: 'productions', message: `split it into batches of ${q.maxBatch}, or upgrade the tier` }],
      });
    }
    const estimates: Estimate[] = [];
    const validated: CreateProduction[] = [];
    const invalid: ErrorDetail[] = [];
    for (const [i, request] of requests.entries()) {
      const at = pathOf(i);
      const checked = await this.productionsService.validateAndEstimate(request, at, tenantId).catch((error: unknown) => {
        // In a batch every bad item is reported, not only the first.
        if (!(error instanceof AppError) || requests.length === 1) throw error;
        invalid.push(...(error.details.length > 0 ? error.details : [{ path: at.slice(0, -1), message: error.message }]));
        return undefined;
      });
      if (!checked) continue;
      const { estimate } = checked;
      validated.push(checked.request);
      if (estimate.durationSec > q.maxDurationSec) {
        throw new AppError('quota_exceeded', `${at}the ${tenant.tier} tier makes videos of at most ${q.maxDurationSec} s; this brief would run about ${Math.round(estimate.durationSec)} s`, {
          details: [{ path: `${at}targetDurationSec`, message: `ask for at most ${q.maxDurationSec} s (shorten the script), or upgrade the tier` }],
        });
      }
      const short = Math.min(estimate.width, estimate.height);
      if (short > RESOLUTION_RANK[q.maxResolution]) {
        throw new AppError('quota_exceeded', `${at}the ${tenant.tier} tier renders at most ${q.maxResolution}`, {
          details: [{ path: `${at}resolution`, message: `use ${q.maxResolution} or lower, or upgrade the tier` }],
        });
      }
      estimates.push(estimate);
    }
    if (invalid.length > 0) {
      throw new AppError('invalid_batch', `${invalid.length} problem(s) in the batch; nothing was created. First: ${invalid[0]?.path}: ${invalid[0]?.message}`, { details: invalid });
    }
    // Priority is capped by tier, not refused: a free tenant's "urgent" runs at the free tier's cap.
    return estimates.map((estimate, i) => {
      const request = validated[i] as CreateProduction;
      return { estimate, request: request.priority === undefined ? request : { ...request, priority: Math.min(request.priority, q.maxPriority) } };
    });
  }

  /**
   * What the tenant has left: unfinished productions and the monthly budget, read through `db`
   * (the create's transaction, under the tenant's lock, so the answer still holds at the write).
   * The tenant's tier and budget are read through it too, never through the service's own
   * database: on PGlite a query outside the transaction waits for it forever (one lock for every
   * query), and on PostgreSQL it would take a second pool connection per create.
   */
  private async checkCapacity(db: AppDb, tenantId: string, count: number, estimates: Estimate[], seen?: SpendSeen): Promise<void> {
    const tenant = await this.tenant(tenantId, db);
    const q = this.quotas[tenant.tier] ?? TIER_QUOTAS.free;
    const unfinished = q.maxConcurrent === Infinity ? 0 : await this.countUnfinished(db, tenantId);
    if (unfinished + count > q.maxConcurrent) {
      throw new AppError('quota_exceeded', `the ${tenant.tier} tier may have ${q.maxConcurrent} unfinished productions at once; ${unfinished} are unfinished now`, {
        details: [{ message: 'wait for some to finish (or cancel them), or upgrade the tier' }],
      });
    }
    if (tenant.monthlyBudgetUsd !== null) {
      const spent = await this.spentThisMonth(db, tenantId);
      const wanted = round2(estimates.reduce((s, e) => s + e.cost.totalUsd, 0));
      const left = round2(tenant.monthlyBudgetUsd - spent);
      // Over the estimate but not the floor: accepted, and the render steps down to a tier the budget pays for.
      const floor = round2(estimates.reduce((s, e) => s + (e.cost.minimumUsd ?? 0), 0));
      if (wanted > left && floor > left) {
        throw new AppError('budget_exceeded', `this would cost about $${wanted}, and $${left} of the $${tenant.monthlyBudgetUsd} monthly budget is left ($${spent} used this month)`, {
          details: [
            { path: 'monthlyBudgetUsd', message: String(tenant.monthlyBudgetUsd) },
            { path: 'spentUsd', message: String(spent) },
            { path: 'estimateUsd', message: String(wanted) },
            { path: 'remainingUsd', message: String(left) },
          ],
        });
      }
      if (seen) Object.assign(seen, { spentUsd: round2(spent + wanted), budgetUsd: tenant.monthlyBudgetUsd, thresholds: tenant.budgetThresholds });
    }
  }

  /**
   * Creates one production once it passes the quotas. A replayed Idempotency-Key is answered as
   * before even when the quotas would now refuse it: the replay is looked up only when a check
   * fails (on the way in it costs a query per request, and a passing request's replay is found by
   * the create itself).
   */
  /** `origin`: the original API's request, stored with the production (routes/compat). */
  async create(tenantId: string, body: unknown, idempotencyKey?: string, options: { origin?: Record<string, unknown> } = {}): Promise<Accepted> {
    return this.serialized(tenantId, () =>
      this.orReplay(tenantId, idempotencyKey, body, (ids) => this.productionsService.accepted(tenantId, ids[0] as string, true), async () => {
        const [checked] = await this.checkValidated(tenantId, [body]);
        const estimates = checked ? [checked.estimate] : [];
        await this.checkOperator(estimates);
        const seen: SpendSeen = {};
        const accepted = await this.productionsService.create(tenantId, body, idempotencyKey, checked?.request, {
          tier: (await this.tenant(tenantId)).tier,
          estimatedUsd: estimates.map((e) => e.cost.totalUsd),
          guard: await this.guard(tenantId, 1, estimates, seen),
          ...(options.origin ? { origin: options.origin } : {}),
        });
        if (!accepted.replayed) await this.spent(tenantId, estimates, seen);
        return accepted;
      }),
    );
  }

  /** The batch form of `create`: all or nothing, with an error per bad item. */
  /** `origins`: per item, the original API's request (routes/compat). */
  async createBatch(tenantId: string, items: unknown[], idempotencyKey?: string, options: { origins?: Record<string, unknown>[] } = {}): Promise<{ ids: string[]; replayed: boolean }> {
    return this.serialized(tenantId, () =>
      this.orReplay(tenantId, idempotencyKey, items, async (ids) => ({ ids, replayed: true }), async () => {
        const estimates = await this.check(tenantId, items, (i) => `productions.${i}.`);
        await this.checkOperator(estimates);
        const { tier } = await this.tenant(tenantId);
        const { maxPriority } = this.quotas[tier] ?? TIER_QUOTAS.free;
        const seen: SpendSeen = {};
        const created = await this.productionsService.createBatch(tenantId, items, idempotencyKey, {
          tier,
          maxPriority,
          estimatedUsd: estimates.map((e) => e.cost.totalUsd),
          guard: await this.guard(tenantId, items.length, estimates, seen),
          ...(options.origins ? { origins: options.origins } : {}),
        });
        if (!created.replayed) await this.spent(tenantId, estimates, seen);
        return created;
      }),
    );
  }

  /** Runs `work`; when a quota refuses it, an earlier request with the same Idempotency-Key is answered instead. */
  private async orReplay<T>(tenantId: string, idempotencyKey: string | undefined, body: unknown, replayed: (ids: string[]) => Promise<T>, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const earlier = await this.productionsService.replayOf(tenantId, idempotencyKey, body);
      if (!earlier?.[0]) throw error;
      return replayed(earlier);
    }
  }

  /**
   * The check that runs inside the create's transaction, for tenants with a concurrency limit or a
   * budget: a transaction-scoped advisory lock per tenant (every API process and database
   * connection takes the same one, and it is released at commit or rollback), then what the
   * tenant has left. Unlimited tenants need none, and keep group commit.
   */
  private async guard(tenantId: string, count: number, estimates: Estimate[], seen?: SpendSeen): Promise<((tx: AppDb) => Promise<void>) | undefined> {
    if (!(await this.limited(tenantId))) return undefined;
    return async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${QUOTA_LOCKS}, hashtext(${tenantId}))`);
      await this.checkCapacity(tx, tenantId, count, estimates, seen);
    };
  }

  /**
   * The operator-wide budget (OPERATOR_MONTHLY_BUDGET_USD), held like a tenant's: refused when the
   * estimate exceeds what is left and not even an offline render fits. All tenants' spend is read at
   * most every OPERATOR_BUDGET_REFRESH_SEC (plus what this process accepted since), not under a lock:
   * a lock across every tenant would serialize every create of the service. So the budget can be
   * overrun by what the API processes accept within one refresh — docs/budgets.md.
   */
  private async checkOperator(estimates: Estimate[]): Promise<void> {
    const operator = this.options.alerts?.operator;
    if (operator?.monthlyBudgetUsd === undefined) return;
    const wanted = round2(estimates.reduce((s, e) => s + e.cost.totalUsd, 0));
    if (wanted <= 0) return;
    const spent = await (this.options.alerts as BudgetAlerts).operatorSpent();
    const left = round2(Math.max(0, operator.monthlyBudgetUsd - spent));
    const floor = round2(estimates.reduce((s, e) => s + (e.cost.minimumUsd ?? 0), 0));
    if (wanted > left && floor > left) {
      throw new AppError('operator_budget_exhausted', `the service's monthly budget is spent: this would cost about $${wanted}, and $${left} of the operator's $${operator.monthlyBudgetUsd} is left this month ($${spent} used by all tenants)`, {
        details: [
          { path: 'operatorMonthlyBudgetUsd', message: String(operator.monthlyBudgetUsd) },
          { path: 'spentUsd', message: String(spent) },
          { path: 'estimateUsd', message: String(wanted) },
          { path: 'remainingUsd', message: String(left) },
          { message: 'try again next month, or ask the operator to raise OPERATOR_MONTHLY_BUDGET_USD' },
        ],
      });
    }
  }

  /**
   * After a create: counts its estimate in the operator-wide spend, and announces any budget
   * threshold it crossed. `seen` is the tenant's spend as the quota check saw it under the lock, so
   * no query runs unless a threshold not yet announced was reached.
   */
  private async spent(tenantId: string, estimates: Estimate[], seen: SpendSeen): Promise<void> {
    const alerts = this.options.alerts;
    if (!alerts) return;
    alerts.noteSpend(estimates.reduce((s, e) => s + e.cost.totalUsd, 0));
    const tenantMay = seen.budgetUsd !== undefined && alerts.mayCross(`tenant:${tenantId}`, seen.spentUsd ?? 0, seen.budgetUsd, seen.thresholds ?? []);
    const operator = alerts.operator;
    const operatorMay = operator?.monthlyBudgetUsd !== undefined && alerts.mayCross('operator', await alerts.operatorSpent(), operator.monthlyBudgetUsd, operator.thresholds);
    if (tenantMay || operatorMay) await alerts.evaluate(tenantId);
  }

  /**
   * What re-prices a storyboard edited or approved in review (ProductionsService.editStoryboard,
   * approve): its estimate on the creation's basis, held to what is left of the tenant's budget
   * (this production's own spend not counted), under the tenant's lock, in the edit's transaction —
   * refused with 402 and the numbers when it does not fit, otherwise written as the production's
   * estimate, which the budget then counts.
   */
  storyboardBudget(tenantId: string, productionId: string): (storyboard: Storyboard) => Promise<(tx: AppDb) => Promise<void>> {
    return async (storyboard) => {
      const estimate = await this.productionsService.estimateStoryboardOf(tenantId, productionId, storyboard);
      const usd = round2(estimate.cost.totalUsd);
      const floor = round2(estimate.cost.minimumUsd);
      return async (tx) => {
        const tenant = await this.tenant(tenantId, tx);
        if (tenant.monthlyBudgetUsd !== null) {
          await tx.execute(sql`select pg_advisory_xact_lock(${QUOTA_LOCKS}, hashtext(${tenantId}))`);
          const spent = await this.spentThisMonth(tx, tenantId, productionId);
          const left = round2(tenant.monthlyBudgetUsd - spent);
          if (usd > left && floor > left) {
            throw new AppError('budget_exceeded', `this storyboard would cost about $${usd}, and $${Math.max(0, left)} of the $${tenant.monthlyBudgetUsd} monthly budget is left for it ($${spent} used by other productions this month)`, {
              details: [
                { path: 'monthlyBudgetUsd', message: String(tenant.monthlyBudgetUsd) },
                { path: 'spentUsd', message: String(spent) },
                { path: 'estimateUsd', message: String(usd) },
                { path: 'remainingUsd', message: String(Math.max(0, left)) },
                { path: 'scenes', message: 'shorten the storyboard (fewer or shorter scenes, less narration, fewer generated pictures), or raise the budget (PATCH /v1/tenants/{id} monthlyBudgetUsd)' },
              ],
            });
          }
        }
        await tx.update(productions).set({ estimatedUsd: usd > 0 ? usd : null }).where(eq(productions.id, productionId));
      };
    };
  }

  /** Edits a storyboard in review, re-priced against the budget (`storyboardBudget`); announces a threshold it crossed. */
  async editStoryboard(tenantId: string, id: string, body: unknown, actor?: string): Promise<Storyboard> {
    await this.checkStoryboard(tenantId, body);
    const storyboard = await this.productionsService.editStoryboard(tenantId, id, body, { ...(actor ? { actor } : {}), budget: this.storyboardBudget(tenantId, id) });
    await this.options.alerts?.evaluate(tenantId);
    return storyboard;
  }

  /** Approves a storyboard in review, re-priced against the budget first (`storyboardBudget`). */
  async approve(tenantId: string, id: string): Promise<Production> {
    const production = await this.productionsService.approve(tenantId, id, this.storyboardBudget(tenantId, id));
    await this.options.alerts?.evaluate(tenantId);
    return production;
  }

  /**
   * An edited storyboard is held to the tier's longest video too: without this, a reviewed
   * production could be stretched far past what its brief was admitted for.
   */
  async checkStoryboard(tenantId: string, body: unknown): Promise<void> {
    const tenant = await this.tenant(tenantId);
    const q = this.quotas[tenant.tier] ?? TIER_QUOTAS.free;
    const seconds = estimateStoryboardSec(parseStoryboard(body));
    if (seconds > q.maxDurationSec) {
      throw new AppError('quota_exceeded', `the ${tenant.tier} tier makes videos of at most ${q.maxDurationSec} s; this storyboard would run about ${Math.round(seconds)} s`, {
        details: [{ path: 'scenes', message: `shorten scenes (durationSec) or narration to at most ${q.maxDurationSec} s in all, or upgrade the tier` }],
      });
    }
  }

  /**
   * Check-then-create is a race: two creates could both see room for one. For tenants with a
   * concurrency limit or a budget the check runs inside the create's transaction under a per-tenant
   * advisory lock (see `guard`), which holds across API processes. In each process a tenant's
   * creates also queue here first, so a burst waits in memory rather than holding a database
   * connection each while it waits for the lock. Unlimited tenants are not serialized: they keep
   * group commit.
   */
  private async serialized<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    return (await this.limited(tenantId)) ? this.locks.run(tenantId, work) : work();
  }

  /** Whether the tenant has a concurrency limit or a budget, which creates must be checked against under the lock. */
  private async limited(tenantId: string): Promise<boolean> {
    const tenant = await this.tenant(tenantId);
    const q = this.quotas[tenant.tier] ?? TIER_QUOTAS.free;
    return q.maxConcurrent !== Infinity || tenant.monthlyBudgetUsd !== null;
  }

  /**
   * Tenants as the quotas see them, remembered for 5 s (`tenantCacheMs`): every create needs its
   * tenant's tier and budget, and a query each would be most of a create's cost. A change applies
   * within 5 s; `tx` reads through a transaction, never from the cache.
   */
  /** The limits of the tenant's tier (the original API's routes fit its requests to them). */
  async limits(tenantId: string): Promise<TierQuotas & { tier: Tier }> {
    const { tier } = await this.tenant(tenantId);
    return { ...(this.quotas[tier] ?? TIER_QUOTAS.free), tier };
  }

  private async tenant(id: string, tx?: AppDb): Promise<TenantView> {
    const hit = this.tenants.get(id);
    // Inside a create's transaction (`tx`) the tenant is read afresh under the tenant's lock, so
    // a budget just lowered applies to the very next create.
    if (!tx && hit && hit.until > Date.now()) return hit.tenant;
    const tenant = await getTenant(tx ?? this.db, id);
    if (this.tenants.size > 10_000) this.tenants.clear();
    this.tenants.set(id, { tenant, until: Date.now() + (this.options.tenantCacheMs ?? 5000) });
    return tenant;
  }

  private async countUnfinished(db: AppDb, tenantId: string): Promise<number> {
    const [row] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(productions)
      .where(and(eq(productions.tenantId, tenantId), inArray(productions.status, ['queued', 'awaiting_review', ...RUNNING_STATUSES])));
    return Number(row?.n ?? 0);
  }

  /**
   * What a tenant may still spend this month on one production's render (its own estimate not
   * counted against it); undefined when the tenant has no budget. The render steps down to a
   * cheaper provider tier when its own estimate exceeds this (providers/registry.ts).
   */
  async remainingBudget(tenantId: string, productionId: string): Promise<number | undefined> {
    const tenant = await this.tenant(tenantId);
    if (tenant.monthlyBudgetUsd === null) return undefined;
    return Math.max(0, round2(tenant.monthlyBudgetUsd - (await this.spentThisMonth(this.db, tenantId, productionId))));
  }

  private async spentThisMonth(db: AppDb, tenantId: string, excludeId?: string): Promise<number> {
    const now = new Date();
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const [row] = await db
      .select({
        usd: sql<number>`${sql.raw(MONTHLY_SPEND_SQL)}`,
      })
      .from(productions)
      .where(and(eq(productions.tenantId, tenantId), gte(productions.createdAt, monthStart), ...(excludeId ? [ne(productions.id, excludeId)] : [])));
    return round2(Number(row?.usd ?? 0));
  }
}

/**
 * What a tenant's productions count against its monthly budget, as a SQL aggregate over `productions`
 * rows (quotas and the aiprod_tenant_spend_usd metric share it). A succeeded production counts its
 * cost, or at least the estimate its render made with the providers it really used (a render
 * stepped down to a cheaper tier is not charged the tier it asked for; one whose last attempt
 * re-used units an earlier attempt paid for still counts them); a failed or canceled one its
 * recorded cost; unfinished ones hold their creation estimate until they know.
 */
export const MONTHLY_SPEND_SQL = `coalesce(sum(case
  when status in ('failed', 'canceled') then coalesce((cost->>'totalUsd')::float8, 0)
  when status = 'succeeded' and (cost->'estimate'->>'totalUsd') is not null
    then greatest(coalesce((cost->>'totalUsd')::float8, 0), (cost->'estimate'->>'totalUsd')::float8)
  else greatest(coalesce((cost->>'totalUsd')::float8, 0), coalesce(estimated_usd, 0)) end), 0)::float8`;

/** The tenant's spend once a create lands, as its quota check saw it (set only for tenants with a budget). */
interface SpendSeen {
  spentUsd?: number;
  budgetUsd?: number;
  thresholds?: readonly number[];
}

/** To a hundredth of a cent: prices per unit can be small. */
const round2 = (n: number): number => Math.round(n * 10_000) / 10_000;
