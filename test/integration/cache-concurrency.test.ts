/**
 * The stage cache under concurrency and faults: producers of one key in one process and in two,
 * a producer killed mid-write, a cancelled producer beside a finishing one, damaged units, stale
 * locks and what prune may and may not remove. No FFmpeg here: units are plain files.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { expireLocal } from '../../src/jobs/retention.js';
import { StageCache } from '../../src/pipeline/cache.js';
import { breakLock, lockState } from '../../src/pipeline/cache-lock.js';
import { thisMachine } from '../../src/lib/process-identity.js';
import { tempDir } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./cache-producer.child.ts', import.meta.url));
const UNIT_BYTES = 128 * 1024;

/** A producer that writes its file in two halves with a pause between: a slow, observable write. */
function slowProducer(calls: string[], name: string, gate?: Promise<void>) {
  return async (dir: string) => {
    calls.push(name);
    const path = join(dir, 'segment.bin');
    writeFileSync(path, Buffer.alloc(UNIT_BYTES / 2, 1));
    await (gate ?? sleep(50));
    writeFileSync(path, Buffer.concat([Buffer.alloc(UNIT_BYTES / 2, 1), Buffer.alloc(UNIT_BYTES / 2, 2)]));
    return { path, producer: name };
  };
}

function startChild(root: string, mode: 'finish' | 'hang', goFile: string) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // otherwise the child reports to this test runner
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, root, mode, goFile], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => out,
    async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(out);
        if (m) return m;
        if (child.exitCode !== null || Date.now() > until) throw new Error(`child: no ${pattern} in ${out} ${err}`);
        await sleep(20);
      }
    },
  };
}

function assertComplete(path: string): void {
  const bytes = readFileSync(path);
  assert.equal(bytes.length, UNIT_BYTES, `${path} is complete`);
  assert.equal(bytes[UNIT_BYTES - 1], 2);
}

const entries = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

test('two producers of one key in one process: one produces, the other waits and re-uses its unit', async () => {
  const cache = new StageCache(tempDir('cache'));
  const calls: string[] = [];
  const [a, b] = await Promise.all([
    cache.memo('segment', { k: 1 }, slowProducer(calls, 'a')),
    cache.memo('segment', { k: 1 }, slowProducer(calls, 'b')),
  ]);
  assert.deepEqual(calls, ['a']);
  assert.equal(a.hit, false);
  assert.equal(b.hit, true);
  assert.equal(a.value.path, b.value.path);
  assert.equal(a.value.path, join(a.dir, 'segment.bin'), 'the value points into the final unit directory');
  assertComplete(b.value.path);
  assert.deepEqual(entries(join(cache.root, '.tmp')), [], 'no temp directory is left');
  assert.deepEqual(entries(join(cache.root, '.locks')), [], 'no lock is left');
});

test('two processes producing one key: the second waits for the first and re-uses its complete unit', async () => {
  const root = tempDir('cache');
  const go = join(tempDir('go'), 'go');
  const child = startChild(root, 'finish', go);
  const producing = await child.waitFor(/producing (\S+)/);
  assert.ok(producing[1]?.startsWith(join(root, '.tmp')), `the child writes in a temp directory: ${producing[1]}`);
  assert.deepEqual(entries(join(root, 'segment')), [], 'nothing half-written is visible under the stage');

  const cache = new StageCache(root);
  const calls: string[] = [];
  const mine = cache.memo('segment', { shared: 'one key' }, slowProducer(calls, 'parent'));
  writeFileSync(go, '');
  const unit = await mine;
  assert.equal(await child.exited, 0, child.output());
  const theirs = JSON.parse(/^\{.*$/m.exec(child.output())?.[0] ?? '{}') as { hit: boolean; dir: string; value: { path: string; producer: number } };
  assert.deepEqual(calls, [], 'this process did not produce the unit again');
  assert.equal(unit.hit, true);
  assert.equal(theirs.hit, false);
  assert.equal(unit.value.producer, child.child.pid);
  assert.equal(unit.value.path, theirs.value.path);
  assert.equal(unit.value.path, join(unit.dir, 'segment.bin'));
  assertComplete(unit.value.path);
  assert.deepEqual(entries(join(root, '.tmp')), []);
  assert.deepEqual(entries(join(root, '.locks')), []);
});

test('a producer killed with SIGKILL mid-write: the next one takes over its lock and produces a complete unit', async () => {
  const root = tempDir('cache');
  const child = startChild(root, 'hang', join(root, 'never'));
  const producing = await child.waitFor(/producing (\S+)/);
  child.child.kill('SIGKILL');
  await child.exited;
  assert.ok(existsSync(producing[1] ?? ''), 'the killed producer left its temp directory');
  assert.equal(entries(join(root, '.locks')).length, 1, 'and its lock');

  const cache = new StageCache(root);
  const calls: string[] = [];
  const unit = await cache.memo('segment', { shared: 'one key' }, slowProducer(calls, 'survivor'));
  assert.deepEqual(calls, ['survivor']);
  assert.equal(unit.hit, false);
  assertComplete(unit.value.path);
  assert.equal(unit.value.path, join(unit.dir, 'segment.bin'));
  assert.equal(existsSync(producing[1] ?? ''), false, "the dead producer's temp directory is cleared");
  assert.deepEqual(entries(join(root, '.locks')), []);
  assert.equal((await cache.memo('segment', { shared: 'one key' }, slowProducer(calls, 'again'))).hit, true);
  assert.deepEqual(calls, ['survivor']);
});

test('a cancelled producer beside a finishing one: the survivor completes the unit and later calls re-use it', async () => {
  const cache = new StageCache(tempDir('cache'));
  const calls: string[] = [];

  // The first producer is cancelled mid-write while a second caller waits for it.
  const abort = new AbortController();
  let started!: () => void;
  const writing = new Promise<void>((resolve) => (started = resolve));
  const cancelled = cache.memo(
    'segment',
    { k: 'a' },
    async (dir) => {
      calls.push('cancelled');
      writeFileSync(join(dir, 'segment.bin'), Buffer.alloc(100));
      started();
      await new Promise((_, reject) => abort.signal.addEventListener('abort', () => reject(new Error('aborted'))));
      return { path: join(dir, 'segment.bin'), producer: 'cancelled' };
    },
    { signal: abort.signal },
  );
  await writing;
  const survivor = cache.memo('segment', { k: 'a' }, slowProducer(calls, 'survivor'));
  abort.abort();
  await assert.rejects(cancelled, /aborted/);
  const unit = await survivor;
  assert.equal(unit.hit, false);
  assertComplete(unit.value.path);

  // The second waits for a finishing producer and is cancelled while waiting: it leaves at once.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const finishing = cache.memo('segment', { k: 'b' }, slowProducer(calls, 'finishing', gate));
  const waiting = new AbortController();
  const waiter = cache.memo('segment', { k: 'b' }, slowProducer(calls, 'waiter'), { signal: waiting.signal });
  await sleep(30);
  waiting.abort();
  await assert.rejects(waiter, (e: Error) => e.name === 'AbortError' || /abort|cancel/i.test(e.message));
  release();
  const done = await finishing;
  assertComplete(done.value.path);

  for (const k of ['a', 'b']) {
    const again = await cache.memo('segment', { k }, slowProducer(calls, 'late'));
    assert.equal(again.hit, true, `unit ${k} is re-used`);
    assertComplete(again.value.path);
  }
  assert.deepEqual(calls, ['cancelled', 'survivor', 'finishing']);
  assert.deepEqual(entries(join(cache.root, '.tmp')), []);
});

test('a truncated cached file is detected on the next hit and the unit is produced again', async () => {
  const cache = new StageCache(tempDir('cache'));
  const calls: string[] = [];
  const first = await cache.memo('segment', { k: 1 }, slowProducer(calls, 'first'));
  truncateSync(first.value.path, Math.floor(UNIT_BYTES * 0.4));
  const audit = await cache.verify();
  assert.equal(audit.units, 1);
  assert.match(audit.damaged[0]?.reason ?? '', /segment\.bin is 52428 bytes/, 'verify reports the damage without touching it');
  const notes: string[] = [];
  const again = await cache.memo('segment', { k: 1 }, slowProducer(calls, 'repair'), { note: (m) => notes.push(m) });
  assert.equal(again.hit, false);
  assert.deepEqual(calls, ['first', 'repair']);
  assertComplete(again.value.path);
  assert.match(notes.join('\n'), /segment.bin/, 'the repair is noted, naming the damaged file');
  assert.equal(cache.stats().repaired, 1);

  // Same size, other bytes: the hash catches it.
  const bytes = readFileSync(again.value.path);
  bytes[10] = 9;
  writeFileSync(again.value.path, bytes);
  const third = await cache.memo('segment', { k: 1 }, slowProducer(calls, 'rehash'));
  assert.equal(third.hit, false);
  assertComplete(third.value.path);
  assert.equal((await cache.memo('segment', { k: 1 }, slowProducer(calls, 'late'))).hit, true);
  assert.deepEqual(await cache.verify(), { units: 1, damaged: [] });
});

test('a lock whose holder stopped refreshing it is taken over; a fresh foreign lock is waited for', async () => {
  const root = tempDir('cache');
  const cache = new StageCache(root, { staleLockMs: 2_000, heartbeatMs: 100 });
  // A lock another host left for a key (the unit is made once to learn its key, then removed).
  const other = await cache.memo('segment', { k: 'other' }, async () => ({ n: 1 }));
  await cache.invalidate('segment', other.key);
  mkdirSync(join(root, '.locks'), { recursive: true });
  const lock = join(root, '.locks', `segment-${other.key}.lock`);
  writeFileSync(lock, JSON.stringify({ pid: 1, host: `${hostname()}-elsewhere`, token: 'x', since: Date.now() }));
  const old = (Date.now() - 60_000) / 1000;
  utimesSync(lock, old, old);
  const taken = await cache.memo('segment', { k: 'other' }, async () => ({ n: 2 }));
  assert.deepEqual(taken.value, { n: 2 });
  assert.equal(existsSync(lock), false);

  // A lock refreshed by its (foreign) holder is respected until it goes stale.
  const third = await cache.memo('segment', { k: 'third' }, async () => ({ n: 1 }));
  await cache.invalidate('segment', third.key);
  const lock3 = join(root, '.locks', `segment-${third.key}.lock`);
  writeFileSync(lock3, JSON.stringify({ pid: 1, host: `${hostname()}-elsewhere`, token: 'y', since: Date.now() }));
  let settled = false;
  const waiting = cache.memo('segment', { k: 'third' }, async () => ({ n: 3 })).finally(() => (settled = true));
  for (let i = 0; i < 5; i++) {
    await sleep(100);
    const now = Date.now() / 1000;
    utimesSync(lock3, now, now);
    assert.equal(settled, false, 'a live lock is not taken over');
  }
  assert.deepEqual((await waiting).value, { n: 3 }, 'once it stops being refreshed, it is');
});

test('invalidate marks a unit invalid at once (its files stay for readers); the next call produces it again', async () => {
  const cache = new StageCache(tempDir('cache'));
  const calls: string[] = [];
  const first = await cache.memo('mix', { k: 1 }, slowProducer(calls, 'first'));
  assert.equal(await cache.invalidate('mix', first.key), true);
  assert.equal(existsSync(join(first.dir, 'manifest.json')), false);
  assert.equal(existsSync(first.value.path), true, 'a render reading it now still can');
  assert.equal(await cache.invalidate('mix', first.key), false, 'nothing left to invalidate');
  const again = await cache.memo('mix', { k: 1 }, slowProducer(calls, 'again'));
  assert.equal(again.hit, false);
  assertComplete(again.value.path);
  assert.equal(cache.stats().invalidated, 1);
});

test('prune keeps a unit being produced and its lock, and clears stale temp directories', async () => {
  const root = tempDir('cache');
  const cache = new StageCache(root, { staleLockMs: 1_000, heartbeatMs: 100 });
  const calls: string[] = [];
  // A temp directory nobody refreshes (a producer on another machine died).
  mkdirSync(join(root, '.tmp', 'segment-dead-1-abc'), { recursive: true });
  writeFileSync(join(root, '.tmp', 'segment-dead-1-abc', 'segment.bin'), Buffer.alloc(10));
  const old = (Date.now() - 60_000) / 1000;
  utimesSync(join(root, '.tmp', 'segment-dead-1-abc'), old, old);

  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const producing = cache.memo('segment', { k: 1 }, slowProducer(calls, 'slow', gate));
  while (entries(join(root, '.tmp')).length < 2) await sleep(10);
  // Wait past the stale timeout: the producer's heartbeat keeps its lock and temp directory alive.
  await sleep(1_500);
  const pruned = await cache.prune(new Date(Date.now() + 60_000));
  assert.equal(pruned.tmpDirs, 1);
  assert.equal(entries(join(root, '.tmp')).length, 1, "the live producer's temp directory stays");
  assert.equal(entries(join(root, '.locks')).length, 1, 'its lock stays');
  release();
  const unit = await producing;
  assertComplete(unit.value.path);
  assert.ok(statSync(unit.dir).isDirectory());
  // Everything unused since a cutoff in the future goes, units included.
  const after = await cache.prune(new Date(Date.now() + 60_000));
  assert.equal(after.units, 1);
  assert.equal(existsSync(unit.dir), false);
});

test("a lock left on this machine by a dead process (a restarted container: same PID namespace and boot) is taken over at once", async () => {
  const root = tempDir('cache');
  const cache = new StageCache(root); // default stale timeout: a minute, which this test must not wait for
  const unit = await cache.memo('segment', { k: 'restart' }, async () => ({ n: 1 }));
  await cache.invalidate('segment', unit.key);
  const lock = join(root, '.locks', `segment-${unit.key}.lock`);
  mkdirSync(join(root, '.tmp', 'left-behind'), { recursive: true });
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  writeFileSync(lock, JSON.stringify({ pid: dead, host: hostname(), ...thisMachine(), token: 'from-before-the-restart', since: Date.now(), tmp: 'left-behind' }));
  const again = await cache.memo('segment', { k: 'restart' }, async () => ({ n: 2 }));
  assert.deepEqual(again.value, { n: 2 });
  assert.equal(existsSync(join(root, '.tmp', 'left-behind')), false, "the dead holder's temp directory goes with its lock");
});

test('a lock held in another container with the same host name (another PID namespace) is judged only by staleness', () => {
  const root = tempDir('cache');
  const timing = { staleMs: 60_000, heartbeatMs: 5_000 };
  const lock = join(root, '.locks', 'segment-other.lock');
  mkdirSync(join(root, '.locks'), { recursive: true });
  mkdirSync(join(root, '.tmp', 'theirs'), { recursive: true });
  // Its pid is ours or names no process here: in its own namespace it may well be running.
  for (const pid of [process.pid, spawnSync(process.execPath, ['-e', '0']).pid as number]) {
    writeFileSync(lock, JSON.stringify({ pid, host: hostname(), ...thisMachine(), ns: 'pid:[4026531836-elsewhere]', token: 'theirs', since: Date.now(), tmp: 'theirs' }));
    assert.equal(lockState(lock, timing), undefined, `a fresh lock of pid ${pid} in another namespace is live`);
    assert.equal(breakLock(lock, timing, join(root, '.tmp')), false);
    assert.ok(existsSync(join(root, '.tmp', 'theirs')), 'its temp directory is left alone');
  }
  const old = (Date.now() - 120_000) / 1000;
  utimesSync(lock, old, old);
  assert.equal(lockState(lock, timing), 'stale', 'once not refreshed for the stale time it is taken over');
  // Another boot: the same.
  writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), ...thisMachine(), boot: 'another-boot', token: 'theirs', since: Date.now() }));
  assert.equal(lockState(lock, timing), undefined);
});

test('local retention clears dead producers\' temp directories even when units are kept forever (RETENTION_DAYS=0)', async () => {
  const root = tempDir('cache');
  const cache = new StageCache(root, { staleLockMs: 1_000 });
  const unit = await cache.memo('segment', { k: 'kept' }, async () => ({ n: 1 }));
  mkdirSync(join(root, '.tmp', 'segment-dead-2-def'), { recursive: true });
  const old = (Date.now() - 60_000) / 1000;
  utimesSync(join(root, '.tmp', 'segment-dead-2-def'), old, old);
  const result = await expireLocal(cache, tempDir('tmp'), 0);
  assert.equal(result.cacheUnits, 0);
  assert.equal(result.cacheTmpDirs, 1);
  assert.deepEqual(entries(join(root, '.tmp')), []);
  assert.ok(existsSync(unit.dir), 'the unit is kept');
});

test('a render cancelled while another process holds the unit stops waiting and leaves that lock alone', async () => {
  const root = tempDir('cache');
  const cache = new StageCache(root);
  const unit = await cache.memo('segment', { k: 'held' }, async () => ({ n: 1 }));
  await cache.invalidate('segment', unit.key);
  const lock = join(root, '.locks', `segment-${unit.key}.lock`);
  const holder = JSON.stringify({ pid: 1, host: `${hostname()}-elsewhere`, token: 'z', since: Date.now() });
  writeFileSync(lock, holder);
  const abort = new AbortController();
  const calls: string[] = [];
  const waiting = cache.memo('segment', { k: 'held' }, slowProducer(calls, 'never'), { signal: abort.signal });
  await sleep(100);
  abort.abort();
  await assert.rejects(waiting, (e: Error & { code?: string }) => e.code === 'aborted');
  assert.deepEqual(calls, []);
  assert.equal(readFileSync(lock, 'utf8'), holder, "the holder's lock is untouched");
  assert.deepEqual(entries(join(root, '.tmp')), []);
});
