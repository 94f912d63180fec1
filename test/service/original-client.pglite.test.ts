/**
 * A client of the original API (V33) against `aiprod serve` on an empty data directory with the
 * embedded database (PGlite): the admin key printed on first start, then the 21-step workflow of
 * ../shared/original-api.md (test/service/original-client.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { serveAndWalk } from './original-client.js';
import { killAll, tempDir } from './processes.js';

let dataDir: string;

before(() => {
  dataDir = tempDir('original-client-pglite');
});
after(async () => {
  await killAll();
  rmSync(dataDir, { recursive: true, force: true });
});

test('an original (V33) client walks its 21 steps against aiprod serve on PGlite', { timeout: 8 * 60_000 }, async (t) => {
  await serveAndWalk(t, { AIPROD_DATA_DIR: dataDir, AIPROD_CACHE_DIR: join(dataDir, 'cache'), DATABASE_URL: '', STORAGE_URL: '', ADMIN_API_KEY: '' }, 'pglite');
});
