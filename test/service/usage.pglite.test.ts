/**
 * GET /v1/usage and the usage rollups on the embedded database (PGlite): every groupBy, tenant
 * isolation, CSV, validation, and exact answers across a rollup and later changes (usage.harness.ts).
 */
import { after, before } from 'node:test';
import { startTestService, type TestService } from './harness.js';
import { usageCases } from './usage.harness.js';

let svc: TestService | undefined;
before(async () => {
  svc = await startTestService({ role: 'api' });
});
after(async () => {
  await svc?.stop();
});

usageCases(() => svc, false);
