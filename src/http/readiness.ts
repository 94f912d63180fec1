/**
 * Readiness, cheap enough to probe every second: the database and the queue are pinged on each
 * probe (with a short timeout, one probe in flight at a time however many callers ask), the
 * LISTEN connection's state is read, and the expensive checks — storage (writes and deletes an
 * object) and FFmpeg (spawns it) — run at start and then in the background every few minutes,
 * their last result served from memory. Results carry a message for logs and operators; the
 * public /ready shows only each check's ok and a generic reason.
 */
import { isDatabaseUnavailable } from '../contract/errors.js';
import type { Database } from '../db/database.js';
import type { DiskSpaceGuard } from '../lib/disk-space.js';
import type { JobQueue } from '../queue/queue.js';
import type { MediaTools } from '../pipeline/context.js';
import type { Storage } from '../storage/storage.port.js';

/** Generic reasons, safe to show anyone: never a host, a bucket, or a driver's message. */
export type ReadinessReason = 'timeout' | 'unavailable' | 'reconnecting' | 'failed' | 'not_checked_yet' | 'not_in_this_process';

export interface CheckResult {
  ok: boolean;
  reason?: ReadinessReason;
  /** The underlying error (operators only). */
  message?: string;
  /** When a cached check last ran. */
  checkedAt?: string;
}

export interface ReadinessReport {
  ok: boolean;
  checks: Record<string, CheckResult>;
}

export interface ReadinessDeps {
  database: Database;
  queue: JobQueue;
  storage: Storage;
  media?: MediaTools;
  /** Free space of the data and cache directories (DISK_MIN_FREE_BYTES); statfs, cached for 2 s. */
  disk?: DiskSpaceGuard;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** Per-probe timeout of the database and queue pings (default 2 s). */
  pingTimeoutMs?: number;
  /** How often storage and FFmpeg are checked again in the background (default 5 min). */
  recheckMs?: number;
}

const SLOW_TIMEOUT_MS = 15_000;

export class Readiness {
  private readonly slow: Record<string, CheckResult> = {};
  private probing: Promise<ReadinessReport> | undefined;
  private rechecking: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ReadinessDeps) {
    this.slow.storage = { ok: false, reason: 'not_checked_yet' };
    this.slow.ffmpeg = deps.media ? { ok: false, reason: 'not_checked_yet' } : { ok: true, reason: 'not_in_this_process' };
  }

  /** Runs the slow checks now, then every `recheckMs` in the background. */
  async start(): Promise<void> {
    await this.recheck();
    this.timer = setInterval(() => void this.recheck(), this.deps.recheckMs ?? 5 * 60_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Runs storage and FFmpeg checks again (one run at a time). */
  recheck(): Promise<void> {
    this.rechecking ??= (async () => {
      const runs: Promise<void>[] = [this.runSlow('storage', () => this.deps.storage.check())];
      const media = this.deps.media;
      if (media) runs.push(this.runSlow('ffmpeg', () => media.ffmpeg(['-hide_banner', '-version'], { timeoutSec: 10 })));
      await Promise.all(runs);
    })().finally(() => (this.rechecking = undefined));
    return this.rechecking;
  }

  /** The database and queue pinged now, the listener's state, and the cached slow checks. */
  probe(): Promise<ReadinessReport> {
    this.probing ??= this.run().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async run(): Promise<ReadinessReport> {
    const timeoutMs = this.deps.pingTimeoutMs ?? 2000;
    const disk = this.deps.disk;
    const [database, queue, space] = await Promise.all([
      this.ping('database', () => this.deps.database.executeSql('select 1'), timeoutMs),
      this.ping('queue', () => this.deps.queue.depth('render'), timeoutMs),
      disk ? this.ping('disk', () => disk.assertRoom(), timeoutMs) : Promise.resolve<CheckResult>({ ok: true, reason: 'not_in_this_process' }),
    ]);
    const listener: CheckResult = this.deps.database.listenerState() === 'ok' ? { ok: true } : { ok: false, reason: 'reconnecting', message: 'the LISTEN connection dropped and is reconnecting' };
    const checks = { database, queue, listener, disk: space, ...this.slow };
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  }

  private async ping(name: string, run: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
    const result = await attempt(run, timeoutMs);
    if (!result.ok) this.deps.log?.('warn', `readiness: ${name} check failed`, { reason: result.reason, message: result.message });
    return result;
  }

  private async runSlow(name: string, run: () => Promise<unknown>): Promise<void> {
    const result = await attempt(run, SLOW_TIMEOUT_MS);
    const was = this.slow[name];
    this.slow[name] = { ...result, checkedAt: new Date().toISOString() };
    if (!result.ok) this.deps.log?.('warn', `readiness: ${name} check failed`, { reason: result.reason, message: result.message });
    else if (was && !was.ok && was.reason !== 'not_checked_yet') this.deps.log?.('info', `readiness: ${name} check ok again`);
  }
}

async function attempt(run: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: 'timeout', message: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const checked = run().then(
    (): CheckResult => ({ ok: true }),
    (error: unknown): CheckResult => ({ ok: false, reason: isDatabaseUnavailable(error) ? 'unavailable' : 'failed', message: innermost(error) }),
  );
  try {
    return await Promise.race([checked, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The driver's own words at the bottom of an error chain. */
function innermost(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

/** The public view: each check's ok and generic reason, nothing an attacker could use. */
export function publicReport(report: ReadinessReport): { ok: boolean; checks: Record<string, { ok: boolean; reason?: ReadinessReason }> } {
  return {
    ok: report.ok,
    checks: Object.fromEntries(Object.entries(report.checks).map(([name, c]) => [name, c.reason ? { ok: c.ok, reason: c.reason } : { ok: c.ok }])),
  };
}
