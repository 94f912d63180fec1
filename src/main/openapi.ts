/**
 * The OpenAPI document as the running API serves it at /openapi.json, generated from the zod
 * schemas by starting the API (embedded database, a throw-away data directory). `aiprod openapi`
 * writes it to openapi.json, which is committed; a test fails when the two drift apart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from '../config/env.js';
import { startService } from './service.js';

export async function generateOpenApi(version: string): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aiprod-openapi-'));
  const service = await startService({
    env: loadEnv({ AIPROD_DATA_DIR: dataDir, LOG_LEVEL: 'error', AIPROD_CACHE_DIR: join(dataDir, 'cache') }),
    role: 'api',
    version,
  });
  try {
    await service.app!.ready();
    return `${JSON.stringify(service.app!.swagger(), null, 2)}\n`;
  } finally {
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
