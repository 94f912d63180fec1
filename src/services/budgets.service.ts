/**
 * Budget alerts: when a tenant's spend this month (or all tenants' spend, against the operator-wide
 * budget) reaches a threshold — a fraction of the budget, 0.8 and 1 by default — the crossing is
 * announced once per scope, month and threshold: a `budget.threshold` webhook event, an audit
 * entry and the aiprod_budget_threshold_crossed_total counter.
 *
 * Spend is counted as the quotas count it (MONTHLY_SPEND_SQL): unfinished productions at their
 * estimate, finished ones at their cost. It changes when a production is created, when one
 * finishes, and when a storyboard is edited or approved; each of those calls `evaluate` (the
 * finish inside its status change's transaction, through `withBudgetAlerts`).
 *
 * Exactly once across any number of API and worker processes: the crossing is a row of
 * budget_alerts keyed by (scope, month, threshold), inserted with ON CONFLICT DO NOTHING; only the
 * process whose insert lands announces it, in the same transaction, so the event, the audit entry
 * and the row commit together or not at all.
 */
import { and, eq, gte, sql } from 'drizzle-orm';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AppDb } from '../db/database.js';
import { auditLog, budgetAlerts, productions, tenants } from '../db/schema.js';
import type { ProductionEvents, ProductionEventType } from './production-events.port.js';
import { MONTHLY_SPEND_SQL } from './quotas.service.js';
import { DEFAULT_BUDGET_THRESHOLDS, DEFAULT_TENANT } from './tenants.service.js';

/** Where operator-wide crossings are delivered: the operator's own tenant's webhooks. */
export const OPERATOR_TENANT = DEFAULT_TENANT;

export interface BudgetCrossing {
  scope: 'tenant' | 'operator';
  /** The tenant whose budget it is; null for the operator-wide budget. */
  tenantId: string | null;
  /** Calendar month (UTC), e.g. 2026-12. */
  month: string;
  threshold: number;
  budgetUsd: number;
  spentUsd: number;
}

/** Tenant-level webhook events (webhooks/emitter.ts implements it): recorded in `tx`, delivered after commit. */
export interface TenantEvents {
  emitTenantEvent(tx: AppDb, tenantId: string, type: 'budget.threshold', data: Record<string, unknown>): Promise<number>;
}

export interface BudgetMetrics {
  crossed: Counter<'scope' | 'threshold'>;
  operatorBudget: Gauge;
}

/** Call once per registry (prom-client refuses a metric name twice). */
export function createBudgetMetrics(registry: Registry, operatorBudgetUsd?: number): BudgetMetrics {
  const operatorBudget = new Gauge({ name: 'aiprod_operator_budget_usd', help: 'The operator-wide monthly budget (OPERATOR_MONTHLY_BUDGET_USD), when one is set', registers: [registry] });
  if (operatorBudgetUsd !== undefined) operatorBudget.set(operatorBudgetUsd);
  return {
    crossed: new Counter({
      name: 'aiprod_budget_threshold_crossed_total',
      help: 'Budget thresholds crossed (each announced once per scope, month and threshold), by scope (tenant or operator) and threshold (fraction of the budget)',
      labelNames: ['scope', 'threshold'],
      registers: [registry],
    }),
    operatorBudget,
  };
}

export interface OperatorBudget {
  monthlyBudgetUsd?: number;
  thresholds: readonly number[];
  /** How long the operator-wide spend is remembered (ms). */
  refreshMs: number;
}

export interface BudgetAlertsDeps {
  db: AppDb;
  events?: TenantEvents;
  operator?: OperatorBudget;
  metrics?: BudgetMetrics;
  log?: (level: 'warn' | 'info', message: string, fields?: Record<string, unknown>) => void;
  now?: () => Date;
}

export const monthOf = (d: Date): string => d.toISOString().slice(0, 7);
export const monthStartOf = (d: Date): Date => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
const round4 = (n: number): number => Math.round(n * 10_000) / 10_000;

export class BudgetAlerts {
  /** Crossings this process knows are recorded (`scope|month|threshold`): they need no insert again. */
  private readonly recorded = new Set<string>();
  private operatorCache: { month: string; spentUsd: number; until: number } | undefined;

  constructor(private readonly deps: BudgetAlertsDeps) {}

  get operator(): OperatorBudget | undefined {
    return this.deps.operator?.monthlyBudgetUsd === undefined ? undefined : this.deps.operator;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /**
   * All tenants' spend this month, remembered for `refreshMs` (a sum over the month's productions
   * is too dear for every create); what this process accepts meanwhile is added by `noteSpend`.
   */
  async operatorSpent(db: AppDb = this.deps.db): Promise<number> {
    const month = monthOf(this.now());
    const hit = this.operatorCache;
    if (hit && hit.month === month && hit.until > Date.now()) return hit.spentUsd;
    const [row] = await db
      .select({ usd: sql<number>`${sql.raw(MONTHLY_SPEND_SQL)}` })
      .from(productions)
      .where(gte(productions.createdAt, monthStartOf(this.now())));
    const spentUsd = round4(Number(row?.usd ?? 0));
    this.operatorCache = { month, spentUsd, until: Date.now() + (this.deps.operator?.refreshMs ?? 5000) };
    return spentUsd;
  }

  /** Counts `usd` just accepted in the remembered operator-wide spend (until it is read again). */
  noteSpend(usd: number): void {
    if (this.operatorCache && usd > 0) this.operatorCache.spentUsd = round4(this.operatorCache.spentUsd + usd);
  }

  /** Whether `spent` reaches a threshold this process has not seen recorded yet (no query). */
  mayCross(scope: string, spentUsd: number, budgetUsd: number, thresholds: readonly number[]): boolean {
    const month = monthOf(this.now());
    return thresholds.some((t) => spentUsd >= t * budgetUsd && !this.recorded.has(`${scope}|${month}|${t}`));
  }

  /**
   * Records and announces every threshold the tenant's spend (and, with an operator-wide budget,
   * all tenants' spend) has reached this month and that no process has announced yet. Runs in a
   * transaction of its own, or in a savepoint of `db` when it is one: a failure here never undoes
   * the change that called it, and is logged, not thrown.
   */
  async evaluate(tenantId: string, db: AppDb = this.deps.db): Promise<BudgetCrossing[]> {
    try {
      const crossings = await db.transaction(async (tx) => [...(await this.evaluateTenant(tx, tenantId)), ...(await this.evaluateOperator(tx))]);
      // Only a transaction of our own has committed here; a savepoint commits with its caller.
      if (db === this.deps.db) for (const c of crossings) this.recorded.add(`${c.scope === 'tenant' ? `tenant:${c.tenantId}` : 'operator'}|${c.month}|${c.threshold}`);
      this.counted(crossings);
      return crossings;
    } catch (error) {
      this.deps.log?.('warn', 'budget alerts: evaluation failed; the next change of spend evaluates again', { tenantId, message: error instanceof Error ? error.message : String(error) });
      return [];
    }
  }

  private async evaluateTenant(tx: AppDb, tenantId: string): Promise<BudgetCrossing[]> {
    const [tenant] = await tx
      .select({ budget: tenants.monthlyBudgetUsd, thresholds: tenants.budgetThresholds })
      .from(tenants)
      .where(eq(tenants.id, tenantId));
    if (tenant?.budget === null || tenant?.budget === undefined) return [];
    const [row] = await tx
      .select({ usd: sql<number>`${sql.raw(MONTHLY_SPEND_SQL)}` })
      .from(productions)
      .where(and(eq(productions.tenantId, tenantId), gte(productions.createdAt, monthStartOf(this.now()))));
    const spent = round4(Number(row?.usd ?? 0));
    return this.record(tx, { scope: 'tenant', tenantId, budgetUsd: tenant.budget, spentUsd: spent }, tenant.thresholds ?? DEFAULT_BUDGET_THRESHOLDS);
  }

  private async evaluateOperator(tx: AppDb): Promise<BudgetCrossing[]> {
    const operator = this.operator;
    if (operator?.monthlyBudgetUsd === undefined) return [];
    const spent = await this.operatorSpent(tx);
    if (!this.mayCross('operator', spent, operator.monthlyBudgetUsd, operator.thresholds)) return [];
    // A crossing is announced with the spend read now, not the remembered one.
    this.operatorCache = undefined;
    const fresh = await this.operatorSpent(tx);
    return this.record(tx, { scope: 'operator', tenantId: null, budgetUsd: operator.monthlyBudgetUsd, spentUsd: fresh }, operator.thresholds);
  }

  private async record(tx: AppDb, at: Omit<BudgetCrossing, 'month' | 'threshold'>, thresholds: readonly number[]): Promise<BudgetCrossing[]> {
    const month = monthOf(this.now());
    const scopeKey = at.scope === 'tenant' ? `tenant:${at.tenantId}` : 'operator';
    const reached = thresholds.filter((t) => at.spentUsd >= t * at.budgetUsd && !this.recorded.has(`${scopeKey}|${month}|${t}`));
    if (reached.length === 0) return [];
    const inserted = await tx
      .insert(budgetAlerts)
      .values(reached.map((threshold) => ({ scope: scopeKey, month, threshold, tenantId: at.tenantId, budgetUsd: at.budgetUsd, spentUsd: at.spentUsd })))
      .onConflictDoNothing()
      .returning({ threshold: budgetAlerts.threshold });
    const crossings = inserted.map((r) => ({ ...at, month, threshold: r.threshold })).sort((a, b) => a.threshold - b.threshold);
    for (const c of crossings) {
      const data = crossingData(c);
      await this.deps.events?.emitTenantEvent(tx, c.tenantId ?? OPERATOR_TENANT, 'budget.threshold', data);
      await tx.insert(auditLog).values({ tenantId: c.tenantId, actor: 'system', action: 'budget.threshold_crossed', target: scopeKey, details: data });
    }
    // A conflict is a crossing another transaction committed (PostgreSQL waits for it to end):
    // remembered now. Those inserted here are remembered once their transaction commits (`evaluate`).
    const mine = new Set(crossings.map((c) => c.threshold));
    for (const t of reached) if (!mine.has(t)) this.recorded.add(`${scopeKey}|${month}|${t}`);
    return crossings;
  }

  private counted(crossings: BudgetCrossing[]): void {
    for (const c of crossings) {
      this.deps.metrics?.crossed.inc({ scope: c.scope, threshold: String(c.threshold) });
      this.deps.log?.('info', 'budget threshold crossed', { ...crossingData(c) });
    }
  }
}

/** The `data` of a budget.threshold event and of its audit entry (docs/webhooks.md). */
export function crossingData(c: BudgetCrossing): Record<string, unknown> {
  return {
    budget: {
      scope: c.scope,
      tenantId: c.tenantId,
      month: c.month,
      threshold: c.threshold,
      budgetUsd: c.budgetUsd,
      spentUsd: c.spentUsd,
      usedRatio: c.budgetUsd > 0 ? round4(c.spentUsd / c.budgetUsd) : null,
      remainingUsd: round4(Math.max(0, c.budgetUsd - c.spentUsd)),
    },
  };
}

const SPEND_SETTLES: readonly ProductionEventType[] = ['production.succeeded', 'production.failed', 'production.canceled'];

/**
 * The production events port with budget alerts: a production that ends replaces its estimate with
 * its cost, so its tenant's spend is evaluated in the same transaction (in a savepoint that cannot
 * fail the status change).
 */
export function withBudgetAlerts(events: ProductionEvents, alerts: BudgetAlerts): ProductionEvents {
  return {
    async emit(tx, productionId, type) {
      const result = await events.emit(tx, productionId, type);
      if (SPEND_SETTLES.includes(type)) {
        const [row] = await tx.select({ tenantId: productions.tenantId }).from(productions).where(eq(productions.id, productionId));
        if (row) await alerts.evaluate(row.tenantId, tx);
      }
      return result;
    },
    progressStep: (percent) => events.progressStep(percent),
    progress: (db, productionId) => events.progress(db, productionId),
  };
}
