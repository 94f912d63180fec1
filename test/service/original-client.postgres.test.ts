/**
 * A client of the original API (V33) against `aiprod serve` on a fresh PostgreSQL database
 * (TEST_DATABASE_URL): the admin key printed on first start, then the 21-step workflow of
 * ../shared/original-api.md (test/service/original-client.ts). Skipped with the reason when
 * TEST_DATABASE_URL is unset; under CI=true that is a failure.
 */
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { childWorkerEnv, freshPostgres } from './harness.js';
import { serveAndWalk } from './original-client.js';
import { killAll, tempDir } from './processes.js';
import { postgresOrSkip } from '../support/services.js';

const { base: serverUrl, skip } = postgresOrSkip();
let dataDir: string;
let databaseUrl: string | undefined;
let drop: (() => Promise<void>) | undefined;

before(async () => {
  dataDir = tempDir('original-client-postgres');
  if (!serverUrl) return;
  const db = await freshPostgres(serverUrl);
  databaseUrl = db.url;
  drop = db.drop;
});
after(async () => {
  await killAll();
  await drop?.();
  rmSync(dataDir, { recursive: true, force: true });
});

test('an original (V33) client walks its 21 steps against aiprod serve on PostgreSQL', { skip, timeout: 8 * 60_000 }, async (t) => {
  if (!databaseUrl) throw new Error('no fresh PostgreSQL database was made');
  // The test services' environment (local storage, the test master key) on the fresh database.
  await serveAndWalk(t, childWorkerEnv(databaseUrl, dataDir), 'postgres');
});
