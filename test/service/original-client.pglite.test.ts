/**
 * A client of the original API (V33) against `aiprod serve` on an empty data directory with the
 * embedded database (PGlite): the admin key printed on first start, then the 21-step workflow of
 * ../shared/original-api.md (test/service/original-client.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { walkOriginalClient } from './original-client.js';
import { killAll, startCli, tempDir } from './processes.js';

const KEY_LINE = /^ {2}(aiprod_[a-z0-9]{12}_[A-Za-z0-9_-]{32,})$/m;
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+) \(docs: .*database: pglite\)/;

let dataDir: string;

before(() => {
  dataDir = tempDir('original-client-pglite');
});
after(async () => {
  await killAll();
  rmSync(dataDir, { recursive: true, force: true });
});

test('an original (V33) client walks its 21 steps against aiprod serve on PGlite', { timeout: 8 * 60_000 }, async (t) => {
  const server = startCli(['serve', '--port', '0'], {
    AIPROD_DATA_DIR: dataDir,
    AIPROD_CACHE_DIR: join(dataDir, 'cache'),
    DATABASE_URL: '',
    STORAGE_URL: '',
    ADMIN_API_KEY: '',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: '2',
    // An ICC job waits for approval for ever: the test approves or cancels it itself.
    COMPAT_AUTO_APPROVE_SEC: '0',
  });
  const [, base] = await server.waitForStdout(LISTENING, 60_000);
  const key = KEY_LINE.exec(server.stdout())?.[1];
  if (!base || !key) throw new Error(`aiprod serve printed no address or no admin key on first start\n${server.output()}`);
  await walkOriginalClient(t, base, key, 'pglite');
  if (server.child.exitCode !== null) throw new Error(`aiprod serve exited during the walk\n${server.output()}`);
});
