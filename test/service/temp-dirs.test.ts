/**
 * Temporary render directories a killed worker left are swept when a worker starts (with any
 * RETENTION_DAYS, 0 included): those whose owner process on this host is gone at once, those of
 * unknown or remote owners once nobody has touched them for an hour — and never the directory of
 * a render that is still running, however old.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { expireLocal } from '../../src/jobs/retention.js';
import { makeRenderDir, thisMachine, touchRenderDir } from '../../src/jobs/temp-dirs.js';
import { StageCache } from '../../src/pipeline/cache.js';
import { tempDir } from './processes.js';

const root = tempDir('temp-dirs');
after(() => rmSync(root, { recursive: true, force: true }));

const HOUR = 3600_000;

function fixture(): { tmp: string; cache: StageCache } {
  const base = join(root, String(readdirSync(root).length));
  const tmp = join(base, 'tmp');
  mkdirSync(tmp, { recursive: true });
  return { tmp, cache: new StageCache(join(base, 'cache')) };
}

/** A render directory as a worker makes it, owned by `owner`, last touched `ageMs` ago. */
function leftDir(tmp: string, name: string, owner: object | undefined, ageMs: number): string {
  const dir = join(tmp, `render-${name}-abc123`);
  mkdirSync(join(dir, 'media'), { recursive: true });
  writeFileSync(join(dir, 'media', 'x.wav'), 'x');
  if (owner) writeFileSync(join(dir, '.owner.json'), JSON.stringify(owner));
  const at = new Date(Date.now() - ageMs);
  utimesSync(dir, at, at);
  return dir;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

test('at worker start, the directory of a dead render on this host is removed at once, even with RETENTION_DAYS=0', async () => {
  const { tmp, cache } = fixture();
  const dead = leftDir(tmp, 'dead', { host: hostname(), ...thisMachine(), pid: deadPid(), start: '1' }, 60_000);
  const result = await expireLocal(cache, tmp, 0);
  assert.equal(existsSync(dead), false);
  assert.equal(result.tmpDirs, 1);
});

test("a running render's directory is never removed, however long ago it was last touched", async () => {
  const { tmp, cache } = fixture();
  const live = makeRenderDir(tmp, 'live');
  const at = new Date(Date.now() - 3 * 24 * HOUR);
  utimesSync(live, at, at);
  const result = await expireLocal(cache, tmp, 30);
  assert.ok(existsSync(live), 'its owner (this process) is alive');
  assert.equal(result.tmpDirs, 0);
  touchRenderDir(live);
});

test('directories of other hosts, or without an owner, are removed once untouched for an hour', async () => {
  const { tmp, cache } = fixture();
  const remoteOld = leftDir(tmp, 'remote-old', { host: 'another-host', pid: 1, start: '1' }, 2 * HOUR);
  const remoteFresh = leftDir(tmp, 'remote-fresh', { host: 'another-host', pid: 1, start: '1' }, 60_000);
  const legacyOld = leftDir(tmp, 'legacy-old', undefined, 2 * HOUR);
  const legacyFresh = leftDir(tmp, 'legacy-fresh', undefined, 60_000);
  await expireLocal(cache, tmp, 0);
  assert.equal(existsSync(remoteOld), false);
  assert.equal(existsSync(legacyOld), false);
  assert.ok(existsSync(remoteFresh), 'a remote render touched a minute ago may be running');
  assert.ok(existsSync(legacyFresh));
});

test('the same host name in another PID namespace (another container sharing the directory) is judged by age, not by its pid', async () => {
  const { tmp, cache } = fixture();
  // Its pid means nothing here: in its own namespace the render may be running.
  const otherFresh = leftDir(tmp, 'other-ns-fresh', { host: hostname(), ...thisMachine(), ns: 'pid:[1]', pid: deadPid(), start: '1' }, 60_000);
  const otherOld = leftDir(tmp, 'other-ns-old', { host: hostname(), ...thisMachine(), ns: 'pid:[1]', pid: deadPid(), start: '1' }, 2 * HOUR);
  const rebooted = leftDir(tmp, 'other-boot-fresh', { host: hostname(), ...thisMachine(), boot: 'another-boot', pid: deadPid(), start: '1' }, 60_000);
  await expireLocal(cache, tmp, 0);
  assert.ok(existsSync(otherFresh), 'a render touched a minute ago in another namespace may be running');
  assert.ok(existsSync(rebooted));
  assert.equal(existsSync(otherOld), false, 'untouched for an hour: gone');
});

test('a render directory whose owner file cannot be written is removed again, and the error thrown', async () => {
  const { tmp } = fixture();
  // A parent path so long that the directory can be made but not the file in it (PATH_MAX is 4096).
  const id = 'too-deep';
  const dirLength = 4090; // the directory's own path; its owner file's is 12 more
  let parent = tmp;
  const parentLength = dirLength - `/render-${id}-XXXXXX`.length;
  while (parent.length < parentLength) parent = join(parent, 'd'.repeat(Math.max(1, Math.min(200, parentLength - parent.length - 1))));
  mkdirSync(parent, { recursive: true });
  assert.throws(() => makeRenderDir(parent, id), /ENAMETOOLONG|name too long/i);
  assert.deepEqual(readdirSync(parent).filter((name) => name.startsWith('render-')), [], 'no directory is left behind');
});
