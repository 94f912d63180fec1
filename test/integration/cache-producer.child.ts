/**
 * A second process memoizing one unit in a shared cache root, for cache-concurrency.test.ts.
 * argv: <cache root> <mode: finish | hang> <go file>. It writes half of the unit, prints
 * `producing <dir>`, then either waits for the go file and finishes, or hangs until it is killed.
 * Prints the memo's result as one JSON line at the end.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StageCache } from '../../src/pipeline/cache.js';

const [root, mode, goFile] = process.argv.slice(2) as [string, string, string];
const cache = new StageCache(root, { heartbeatMs: 100 });
const unit = await cache.memo('segment', { shared: 'one key' }, async (dir) => {
  const path = join(dir, 'segment.bin');
  writeFileSync(path, Buffer.alloc(64 * 1024, 1));
  process.stdout.write(`producing ${dir}\n`);
  if (mode === 'hang') {
    setInterval(() => undefined, 1000);
    await new Promise(() => undefined);
  }
  while (!existsSync(goFile)) await sleep(20);
  appendFileSync(path, Buffer.alloc(64 * 1024, 2));
  return { path, producer: process.pid };
});
process.stdout.write(`${JSON.stringify({ hit: unit.hit, dir: unit.dir, value: unit.value })}\n`);
