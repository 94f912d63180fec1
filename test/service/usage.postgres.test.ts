/**
 * The usage cases of usage.harness.ts on the machine's real PostgreSQL (TEST_DATABASE_URL), on a
 * database made for this file: the rollup SQL (dates, time zones, jsonb) behaves as on PGlite.
 * Skipped, with the reason, when TEST_DATABASE_URL is unset.
 */
import { after, before } from 'node:test';
import { postgresOrSkip } from '../support/services.js';
import { freshPostgres, startTestService, type TestService } from './harness.js';
import { usageCases } from './usage.harness.js';

const { base, skip } = postgresOrSkip();
let svc: TestService | undefined;
let drop: (() => Promise<void>) | undefined;

before(async () => {
  if (!base) return;
  const db = await freshPostgres(base);
  drop = db.drop;
  svc = await startTestService({ databaseUrl: db.url, role: 'api' });
});
after(async () => {
  await svc?.stop();
  await drop?.();
});

usageCases(() => svc, skip);
