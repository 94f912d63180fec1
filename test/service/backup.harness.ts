/**
 * What the backup suites share: a short real render, the SHA-256 of an output as the API serves
 * it, the environment of a backup or restore, and an archive with one byte of an entry flipped.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnv, type Env } from '../../src/config/env.js';
import { isFinal } from '../../src/contract/production.js';
import type { TestService } from './harness.js';

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Renders a 3-second, 480p storyboard to the end; returns its id and its outputs' signed links. */
export async function renderShort(svc: TestService, narration: string): Promise<{ id: string; links: Map<string, string> }> {
  const created = await svc.app!.inject({
    method: 'POST', url: '/v1/productions', headers: svc.auth,
    payload: { scenes: [{ narration, durationSec: 3, visual: { type: 'color', color: '#1e3a8a' } }], resolution: '480p', fps: 24 },
  });
  assert.equal(created.statusCode, 202, created.body);
  const done = await svc.waitFor(created.json().id, (p) => isFinal(p.status));
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  const view = (await svc.app!.inject({ url: `/v1/productions/${done.id}`, headers: svc.auth })).json() as { outputs: { name: string; url: string }[] };
  return { id: done.id, links: new Map(view.outputs.map((o) => [o.name, o.url])) };
}

/** The SHA-256 of an output downloaded through the API (with `headers`, or by a signed link when `url` carries its token). */
export async function downloadSha(svc: TestService, url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await svc.app!.inject({ url, headers });
  assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 300)}`);
  assert.ok(res.rawPayload.length > 1000, `${url} has ${res.rawPayload.length} bytes`);
  return sha256(res.rawPayload);
}

/** The configuration `aiprod backup`/`restore` would read for this data directory (and database). */
export function backupEnv(dataDir: string, extra: Record<string, string> = {}): Env {
  return loadEnv({
    ...process.env,
    AIPROD_DATA_DIR: dataDir,
    AIPROD_CACHE_DIR: join(dataDir, 'cache'),
    DATABASE_URL: '',
    STORAGE_URL: '',
    AIPROD_MASTER_KEY: '',
    LOG_LEVEL: 'error',
    ...extra,
  });
}

/** Each file entry of a tar: its name, where its bytes start and how many there are. */
export function tarEntries(archive: Buffer): { name: string; offset: number; size: number }[] {
  const entries: { name: string; offset: number; size: number }[] = [];
  let at = 0;
  let paxPath: string | undefined;
  while (at + 512 <= archive.length && archive[at] !== 0) {
    const block = archive.subarray(at, at + 512);
    const field = (from: number, length: number): string => block.subarray(from, from + length).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim(), 8);
    const type = field(156, 1);
    const prefix = field(345, 155);
    const name = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const offset = at + 512;
    if (type === 'x') paxPath = /\d+ path=(.*)\n/.exec(archive.subarray(offset, offset + size).toString('utf8'))?.[1];
    else {
      paxPath = undefined;
      if (type === '0' || type === '') entries.push({ name, offset, size });
    }
    at = offset + Math.ceil(size / 512) * 512;
  }
  return entries;
}

/** A copy of `file` (beside it) with one byte in the middle of the entry `name` changed; the tar headers stay valid. */
export function flipByteIn(file: string, name: (entry: string) => boolean): { path: string; entry: string } {
  const archive = readFileSync(file);
  const entry = tarEntries(archive).find((e) => name(e.name));
  assert.ok(entry, 'the archive has the entry to damage');
  const at = entry.offset + Math.floor(entry.size / 2);
  archive[at] = (archive[at] ?? 0) ^ 0x01;
  const path = `${file}.damaged.tar`;
  writeFileSync(path, archive);
  return { path, entry: entry.name };
}
