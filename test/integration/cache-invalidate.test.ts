/**
 * Invalidation and prune beside renders that are using a unit right now: a failed QA's
 * invalidation marks the unit invalid (later lookups miss and make it again) but leaves its files
 * for readers in flight; it touches only the version the invalidating render used; a transient QA
 * failure (a stalled decode) invalidates nothing; prune leaves a unit a hit has just renewed.
 */
import { createProviders, fixedProviders } from '../../src/main/container.js';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../../src/contract/errors.js';
import { StageCache } from '../../src/pipeline/cache.js';
import type { ProductionState, StageContext } from '../../src/pipeline/context.js';
import { qaStage } from '../../src/pipeline/stages/qa.stage.js';
import { tempDir } from './harness.js';

const produce = (text: string) => async (dir: string) => {
  const path = join(dir, 'segment.bin');
  writeFileSync(path, text);
  return { path };
};

test("A's invalidation while B holds paths into the unit does not break B's read; the next lookup makes the unit again", async () => {
  const cache = new StageCache(tempDir('cache'));
  const a = new AbortController();
  const b = new AbortController();
  const usedByA = await cache.memo('segment', { k: 1 }, produce('v1'), { signal: a.signal });
  const usedByB = await cache.memo('segment', { k: 1 }, produce('never'), { signal: b.signal });
  assert.equal(usedByB.hit, true);
  assert.equal(await cache.invalidate('segment', usedByA.key, { signal: a.signal }), true);
  assert.equal(readFileSync(usedByB.value.path, 'utf8'), 'v1', "B's path still reads");
  const again = await cache.memo('segment', { k: 1 }, produce('v2'));
  assert.equal(again.hit, false, 'an invalidated unit is not served again');
  assert.equal(readFileSync(again.value.path, 'utf8'), 'v2');
  assert.equal(cache.stats().invalidated, 1);
});

test('a render invalidates only the version it used: a unit made again since is left alone', async () => {
  const cache = new StageCache(tempDir('cache'));
  const a = new AbortController();
  const c = new AbortController();
  const usedByA = await cache.memo('segment', { k: 2 }, produce('v1'), { signal: a.signal });
  await cache.memo('segment', { k: 2 }, produce('never'), { signal: c.signal });
  assert.equal(await cache.invalidate('segment', usedByA.key, { signal: c.signal }), true);
  const remade = await cache.memo('segment', { k: 2 }, produce('v2'));
  assert.equal(remade.hit, false);
  assert.equal(await cache.invalidate('segment', usedByA.key, { signal: a.signal }), false, "v2 is not the version A used");
  const hit = await cache.memo('segment', { k: 2 }, produce('v3'));
  assert.equal(hit.hit, true);
  assert.equal(readFileSync(hit.value.path, 'utf8'), 'v2');
});

test('prune removes invalidated units after their grace, and leaves a unit whose manifest a hit has just renewed', async () => {
  const root = tempDir('cache');
  const cache = new StageCache(root, { tombstoneGraceMs: 0 });
  const kept = await cache.memo('segment', { k: 'kept' }, produce('kept'));
  const gone = await cache.memo('segment', { k: 'gone' }, produce('gone'));
  await cache.invalidate('segment', gone.key);
  const old = (Date.now() - 3_600_000) / 1000;
  utimesSync(join(kept.dir, 'manifest.json'), old, old);
  // A hit renews the unit after prune has listed it: prune must see that and keep it.
  const result = await cache.prune(new Date(Date.now() - 60_000), { beforeRemove: () => void cache.memo('segment', { k: 'kept' }, produce('x')) });
  assert.equal(result.units, 1, 'only the invalidated unit went');
  assert.equal(existsSync(gone.dir), false);
  assert.equal(readFileSync(kept.value.path, 'utf8'), 'kept');
  assert.equal((await cache.memo('segment', { k: 'kept' }, produce('x'))).hit, true);
});

test('a transient QA failure (a stalled decode) invalidates nothing; a hard one does', async () => {
  const cache = new StageCache(tempDir('cache'));
  const lifetime = new AbortController();
  const unit = await cache.memo('compose', { k: 'out' }, async (dir) => {
    writeFileSync(join(dir, 'video.mp4'), 'mp4');
    return { path: join(dir, 'video.mp4') };
  }, { signal: lifetime.signal });
  const state = {
    outputs: [{ name: 'video.mp4', kind: 'mp4', path: unit.value.path, mime: 'video/mp4' }],
    outputsKey: unit.key,
    timeline: {},
    narration: {},
    storyboard: { scenes: [] },
  } as unknown as ProductionState;
  const ctxFailingWith = (code: 'ffmpeg_stalled' | 'ffmpeg_failed'): StageContext => ({
    deps: {
      cache,
      media: {
        probe: async () => {
          throw new AppError(code, 'the decode stopped');
        },
      },
    } as unknown as StageContext['deps'],
    providers: fixedProviders(createProviders()).forRender(),
    signal: lifetime.signal,
    progress: () => undefined,
    unit: () => undefined,
    note: () => undefined,
    record: () => undefined,
    fallback: () => undefined,
  });
  await assert.rejects(qaStage.run(state, ctxFailingWith('ffmpeg_stalled')), (e: AppError) => e.code === 'ffmpeg_stalled');
  assert.equal(cache.stats().invalidated, 0);
  assert.equal((await cache.memo('compose', { k: 'out' }, async () => ({ path: 'x' }))).hit, true, 'the unit is still served');
  await assert.rejects(qaStage.run(state, ctxFailingWith('ffmpeg_failed')), (e: AppError) => e.code === 'ffmpeg_failed');
  assert.equal(cache.stats().invalidated, 1);
});

test('prune yields to the event loop as it goes, and a unit removed meanwhile does not abort it', async () => {
  const root = tempDir('cache');
  const cache = new StageCache(root);
  const units: { dir: string }[] = [];
  for (let i = 0; i < 40; i++) units.push(await cache.memo('segment', { k: `many-${i}` }, produce(`u${i}`)));
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 0);
  try {
    const result = await cache.prune(new Date(Date.now() + 60_000), {
      // Another process removes the first unit between prune's look at it and its removal.
      beforeRemove: (dir) => {
        if (dir === units[0]?.dir) rmSync(dir, { recursive: true, force: true });
      },
    });
    assert.equal(result.units, 39, 'every other unit went');
  } finally {
    clearInterval(ticker);
  }
  assert.ok(ticks > 0, 'timers (lock heartbeats) ran while prune was under way');
});

test("an I/O error reading a unit is an error, not damage: the unit is not moved aside", async () => {
  const root = tempDir('cache');
  const cache = new StageCache(root);
  const unit = await cache.memo('segment', { k: 'io' }, produce('io'));
  // The listed file becomes unreadable as a file (EISDIR) with the size the manifest expects.
  rmSync(unit.value.path);
  mkdirSync(unit.value.path);
  const manifestPath = join(unit.dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: { size: number }[] };
  for (const f of manifest.files) f.size = statSync(unit.value.path).size;
  writeFileSync(manifestPath, JSON.stringify(manifest));
  await assert.rejects(cache.memo('segment', { k: 'io' }, produce('again')), (e: NodeJS.ErrnoException) => e.code === 'EISDIR');
  assert.equal(cache.stats().repaired, 0);
  assert.ok(existsSync(manifestPath), 'the unit stays where it is');
});

test('verify does not report an invalidated unit as damaged', async () => {
  const cache = new StageCache(tempDir('cache'));
  const unit = await cache.memo('segment', { k: 'v' }, produce('v'));
  await cache.memo('segment', { k: 'w' }, produce('w'));
  await cache.invalidate('segment', unit.key);
  assert.deepEqual(await cache.verify(), { units: 1, damaged: [] });
});

test("a unit produced under a signal derived from the render's (a pool's) is remembered under the render's", async () => {
  const cache = new StageCache(tempDir('cache'));
  const lifetime = new AbortController();
  const derived = AbortSignal.any([lifetime.signal, new AbortController().signal]);
  const used = await cache.memo('segment', { k: 'pool' }, produce('v1'), { signal: derived, render: lifetime.signal });
  await cache.invalidate('segment', used.key);
  await cache.memo('segment', { k: 'pool' }, produce('v2'));
  assert.equal(await cache.invalidate('segment', used.key, { signal: lifetime.signal }), false, 'v2 is not the version this render used');
});
