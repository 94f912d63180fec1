/**
 * The audit log: security-relevant actions (keys created, rotated, revoked; tenant and webhook
 * changes; admin actions; bursts of failed authentication) with actor, tenant, IP and time.
 * Writing an entry never fails the action it records: a failed write is reported and dropped.
 */
import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { AppDb } from '../db/database.js';
import { auditLog } from '../db/schema.js';

export interface AuditEntry {
  tenantId?: string | null;
  actor: string;
  action: string;
  target?: string | null;
  ip?: string | null;
  details?: Record<string, unknown>;
}

export const auditQuerySchema = z.strictObject({
  tenantId: z.string().max(100).optional(),
  action: z.string().max(100).optional().describe('e.g. api_key.created, api_key.revoked, tenant.updated, auth.failed_burst'),
  actor: z.string().max(200).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().min(1).optional().describe('The id of the oldest entry of the previous page.'),
});
export type AuditQuery = z.infer<typeof auditQuerySchema>;

export class AuditLog {
  constructor(
    private readonly db: AppDb,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.db
      .insert(auditLog)
      .values({ tenantId: entry.tenantId ?? null, actor: entry.actor, action: entry.action, target: entry.target ?? null, ip: entry.ip ?? null, details: entry.details ?? null })
      .catch(this.onError);
  }

  async query(query: AuditQuery): Promise<{ data: (Omit<typeof auditLog.$inferSelect, 'at'> & { at: string })[]; nextBefore: number | null }> {
    const where: SQL[] = [];
    if (query.tenantId) where.push(eq(auditLog.tenantId, query.tenantId));
    if (query.action) where.push(eq(auditLog.action, query.action));
    if (query.actor) where.push(eq(auditLog.actor, query.actor));
    if (query.from) where.push(gte(auditLog.at, new Date(query.from)));
    if (query.to) where.push(lt(auditLog.at, new Date(query.to)));
    if (query.before) where.push(lt(auditLog.id, query.before));
    const rows = await this.db
      .select()
      .from(auditLog)
      .where(and(...where))
      .orderBy(desc(auditLog.id))
      .limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    return { data: page.map((row) => ({ ...row, at: row.at.toISOString() })), nextBefore: rows.length > query.limit ? (page[page.length - 1]?.id ?? null) : null };
  }
}

/**
 * Counts failed authentications per IP and reports a burst once: `threshold` failures within
 * `windowSec` give one `auth.failed_burst` entry, then nothing more for that IP until the window
 * has passed.
 */
export class FailedAuthWatch {
  private readonly failures = new Map<string, { count: number; since: number; reported: boolean }>();

  constructor(
    private readonly audit: AuditLog,
    private readonly options: { threshold?: number; windowSec?: number; maxAddresses?: number; now?: () => number } = {},
  ) {}

  private lastSweep = 0;

  note(ip: string, reason: string): void {
    const now = this.options.now?.() ?? Date.now();
    const windowMs = (this.options.windowSec ?? 60) * 1000;
    let slot = this.failures.get(ip);
    if (!slot || now - slot.since > windowMs) {
      slot = { count: 0, since: now, reported: false };
      this.failures.delete(ip);
      this.failures.set(ip, slot);
    }
    slot.count++;
    if (!slot.reported && slot.count >= (this.options.threshold ?? 20)) {
      slot.reported = true;
      void this.audit.record({ actor: `ip:${ip}`, action: 'auth.failed_burst', ip, details: { failures: slot.count, windowSec: windowMs / 1000, lastReason: reason } });
    }
    this.sweep(now, windowMs);
  }

  /** Addresses currently counted (for tests and metrics). */
  get size(): number {
    return this.failures.size;
  }

  /**
   * Forgets addresses whose window has passed, at most once a window; past `maxAddresses` the
   * oldest windows go first (Map order is insertion order, and a slot is re-inserted per window).
   */
  private sweep(now: number, windowMs: number): void {
    if (now - this.lastSweep >= windowMs) {
      this.lastSweep = now;
      for (const [ip, slot] of this.failures) if (now - slot.since > windowMs) this.failures.delete(ip);
    }
    const max = this.options.maxAddresses ?? 50_000;
    for (const ip of this.failures.keys()) {
      if (this.failures.size <= max) break;
      this.failures.delete(ip);
    }
  }
}
