// Writes the awkward-media catalog (test/fixtures/media-catalog.ts) to test/fixtures/media.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeCatalog } from '../test/fixtures/media-catalog.js';

const dir = join(import.meta.dirname, '..', 'test', 'fixtures', 'media');
mkdirSync(dir, { recursive: true });
const catalog = await makeCatalog(dir);
for (const [name, path] of Object.entries(catalog)) console.log(`${name.padEnd(14)} ${path}`);
