/**
 * A client of the original API (V33) against `aiprod serve` on a fresh PostgreSQL database
 * (TEST_DATABASE_URL): the admin key printed on first start, then the 21-step workflow of
 * ../shared/original-api.md (test/service/original-client.ts). Skipped with the reason when
 * TEST_DATABASE_URL is unset; under CI=true that is a failure.
 */
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { childWorkerEnv, freshPostgres } from './harness.js';
import { walkOriginalClient } from './original-client.js';
import { killAll, startCli, tempDir } from './processes.js';
import { postgresOrSkip } from '../support/services.js';

const KEY_LINE = /^ {2}(aiprod_[a-z0-9]{12}_[A-Za-z0-9_-]{32,})$/m;
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+) \(docs: .*database: postgres\)/;

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
  // The test services' environment (local storage, the test master key), as `aiprod serve` on two render slots.
  const server = startCli(['serve', '--port', '0'], childWorkerEnv(databaseUrl, dataDir, {
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: '2',
    // An ICC job waits for approval for ever: the test approves or cancels it itself.
    COMPAT_AUTO_APPROVE_SEC: '0',
  }));
  const [, base] = await server.waitForStdout(LISTENING, 60_000);
  const key = KEY_LINE.exec(server.stdout())?.[1];
  if (!base || !key) throw new Error(`aiprod serve printed no address or no admin key on first start\n${server.output()}`);
  await walkOriginalClient(t, base, key, 'postgres');
  if (server.child.exitCode !== null) throw new Error(`aiprod serve exited during the walk\n${server.output()}`);
});
