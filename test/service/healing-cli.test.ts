/**
 * `aiprod productions retry-failed` as an operator runs it (child processes on one embedded
 * database, the service stopped): a dry run lists and changes nothing, --code filters, the real run
 * re-queues and says so, and a bad --since is refused with the fix.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { productions } from '../../src/db/schema.js';
import { parseSince } from '../../src/main/healing-cli.js';
import { startTestService } from './harness.js';
import { killAll, startCli, tempDir } from './processes.js';
import { uniqueBrief } from './render-races.js';

const dataDir = tempDir('healing-cli');
after(async () => {
  await killAll();
  rmSync(dataDir, { recursive: true, force: true });
});

async function aiprod(args: string[]): Promise<{ code: number | null; out: string; stdout: string }> {
  const child = startCli(args, { AIPROD_DATA_DIR: dataDir, AIPROD_CACHE_DIR: join(dataDir, 'cache'), DATABASE_URL: '', LOG_LEVEL: 'error' });
  const exit = await child.exitWithin(120_000);
  return { code: exit?.code ?? null, out: child.output(), stdout: child.stdout() };
}

test('--since takes a length of time with a unit', () => {
  assert.equal(parseSince('90s'), 90);
  assert.equal(parseSince('30m'), 1800);
  assert.equal(parseSince('1h'), 3600);
  assert.equal(parseSince('2d'), 172_800);
  assert.throws(() => parseSince('1 hour'), /--since 1 hour: give a length of time with a unit, e.g. 30m, 1h or 2d/);
  assert.throws(() => parseSince('0h'), /above zero/);
});

test('retry-failed: a dry run with --code lists and changes nothing; the real run re-queues; bad input is refused', async () => {
  // Two failed productions on the embedded database, then the service stops (one process may open it).
  const svc = await startTestService({ role: 'api', env: { AIPROD_DATA_DIR: dataDir, AIPROD_CACHE_DIR: join(dataDir, 'cache') } });
  const ids: Record<string, string> = {};
  for (const code of ['ffmpeg_missing', 'provider_refused']) {
    const { id } = await svc.productions.create('default', uniqueBrief());
    await svc.database.db.update(productions).set({ status: 'failed', attempts: 1, error: { code, message: code, retryable: false }, finishedAt: sql`now() - interval '10 minutes'` }).where(eq(productions.id, id));
    ids[code] = id;
  }
  await svc.stop();

  const dry = await aiprod(['productions', 'retry-failed', '--since', '1h', '--code', 'ffmpeg_missing', '--dry-run', '--json']);
  assert.equal(dry.code, 0, dry.out);
  const listed = JSON.parse(dry.stdout) as { dryRun: boolean; sinceSec: number; requeued: { id: string; code: string; class: string }[] };
  assert.deepEqual(listed, { dryRun: true, sinceSec: 3600, requeued: [{ id: ids.ffmpeg_missing, tenantId: 'default', code: 'ffmpeg_missing', class: 'permanent' }] });

  const real = await aiprod(['productions', 'retry-failed', '--since', '1h', '--code', 'ffmpeg_missing']);
  assert.equal(real.code, 0, real.out);
  assert.match(real.stdout, new RegExp(`^${ids.ffmpeg_missing}  default +ffmpeg_missing \\(permanent\\)$`, 'm'));
  assert.match(real.stdout, /^re-queued 1 failed production of the last 1h \(code ffmpeg_missing\)$/m);

  // It is queued now: nothing left to re-queue with that code; the other failure is still there.
  const after = await aiprod(['productions', 'retry-failed', '--since', '1h', '--dry-run', '--json']);
  assert.deepEqual((JSON.parse(after.stdout) as { requeued: { id: string }[] }).requeued.map((r) => r.id), [ids.provider_refused]);

  const badCode = await aiprod(['productions', 'retry-failed', '--since', '1h', '--code', 'oops']);
  assert.equal(badCode.code, 1);
  assert.match(badCode.out, /error \[invalid_request\]: --code oops is not an error code/);
});
