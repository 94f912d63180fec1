/**
 * `aiprod productions retry-failed --since 1h [--code X] [--tenant T] [--dry-run]`: the operator's
 * re-queue of failed productions (docs/self-healing.md). Transient or not — the operator decides,
 * e.g. after fixing a key, installing FFmpeg or raising a budget — through the same path as a
 * tenant's retry, so cached stage units are re-used; each re-queue emits production.retrying.
 * With the embedded database, stop `aiprod serve` first (one process at a time may open it).
 *
 * Only commander's types are imported at the top: every `aiprod` start registers this command, and
 * the database and queue modules load only when it runs.
 */
import type { Command } from 'commander';
import { AppError } from '../contract/errors.js';

const UNIT_SEC: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `--since` as seconds: a number with a unit (90s, 30m, 1h, 7d). */
export function parseSince(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (!match) throw new AppError('invalid_request', `--since ${text}: give a length of time with a unit, e.g. 30m, 1h or 2d`);
  const sec = Math.round(Number(match[1]) * UNIT_SEC[match[2] as keyof typeof UNIT_SEC]!);
  if (sec <= 0) throw new AppError('invalid_request', `--since ${text}: give a length of time above zero, e.g. 1h`);
  return sec;
}

interface Flags {
  since: string;
  code?: string;
  tenant?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** Runs the command: opens the database and the queue, re-queues (or lists), and prints. */
async function retryFailedCommand(flags: Flags): Promise<void> {
  const sinceSec = parseSince(flags.since);
  const [{ join, resolve }, { loadEnv }, { openDatabase }, { PgBossQueue }, { WebhookEmitter }, { retryFailed }, { FAILURE_CLASS, failureClass }] = await Promise.all([
    import('node:path'),
    import('../config/env.js'),
    import('../db/database.js'),
    import('../queue/queue.js'),
    import('../webhooks/emitter.js'),
    import('../jobs/self-healing.js'),
    import('../jobs/failure-class.js'),
  ]);
  if (flags.code !== undefined && !Object.hasOwn(FAILURE_CLASS, flags.code)) {
    throw new AppError('invalid_request', `--code ${flags.code} is not an error code; the codes are listed in docs/self-healing.md (e.g. provider_unavailable, worker_lost)`);
  }
  const env = loadEnv();
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: join(resolve(env.AIPROD_DATA_DIR), 'pglite') });
  try {
    await database.migrate();
    // No maintenance or cron here: the service's own processes run those.
    const queue = await PgBossQueue.start(database, { supervise: false, retryLimit: env.RENDER_ATTEMPTS - 1 });
    try {
      const done = await retryFailed(database, queue, { sinceSec, code: flags.code, tenantId: flags.tenant, dryRun: flags.dryRun === true, events: new WebhookEmitter(queue) });
      const rows = done.map((r) => ({ ...r, class: failureClass(r.code) }));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ dryRun: flags.dryRun === true, sinceSec, requeued: rows }, null, 2)}\n`);
        return;
      }
      for (const r of rows) process.stdout.write(`${r.id}  ${r.tenantId.padEnd(16)} ${r.code} (${r.class})\n`);
      const filters = [flags.code ? `code ${flags.code}` : '', flags.tenant ? `tenant ${flags.tenant}` : ''].filter(Boolean).join(', ');
      const what = `${rows.length} failed production${rows.length === 1 ? '' : 's'} of the last ${flags.since}${filters ? ` (${filters})` : ''}`;
      process.stdout.write(flags.dryRun ? `would re-queue ${what} (dry run: nothing changed)\n` : `re-queued ${what}\n`);
    } finally {
      await queue.stop();
    }
  } finally {
    await database.close();
  }
}

export function registerHealingCommands(program: Command): void {
  const productions = program.command('productions').description('operate on productions (docs/self-healing.md)');
  productions
    .command('retry-failed')
    .description('re-queue failed productions of a recent period (transient or not: you decide); cached stages are re-used')
    .requiredOption('--since <duration>', 'failures that finished within this long, e.g. 30m, 1h, 2d')
    .option('--code <code>', 'only failures with this error code, e.g. provider_unavailable')
    .option('--tenant <id>', "only this tenant's productions")
    .option('--dry-run', 'list what would be re-queued, change nothing')
    .option('--json', 'print JSON')
    .action(retryFailedCommand);
}
