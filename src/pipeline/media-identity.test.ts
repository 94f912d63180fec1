import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mediaIdentity } from './media-identity.js';

const doc = (src: string, logo?: string) => ({ scenes: [{ visual: { type: 'image', src } }, { visual: { type: 'color' } }], brand: logo ? { logo } : undefined });

test('media are named by content: the same bytes at another absolute path give the same key and map back to the new path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aiprod-media-'));
  writeFileSync(join(dir, 'a.png'), 'first bytes');
  copyFileSync(join(dir, 'a.png'), join(dir, 'b.png'));
  writeFileSync(join(dir, 'c.png'), 'other bytes');
  const a = await mediaIdentity(doc(join(dir, 'a.png'), join(dir, 'c.png')), '/');
  const b = await mediaIdentity(doc(join(dir, 'b.png'), join(dir, 'c.png')), '/');
  assert.deepEqual(a.keyed, b.keyed);
  assert.match(a.keyed.scenes[0]?.visual.src ?? '', /^media:[0-9a-f]{64}$/);
  assert.notEqual(a.keyed.scenes[0]?.visual.src, a.keyed.brand?.logo);
  assert.equal(b.refs[b.keyed.scenes[0]?.visual.src ?? ''], join(dir, 'b.png'));
  const c = await mediaIdentity(doc(join(dir, 'c.png')), '/');
  assert.notDeepEqual(c.keyed, a.keyed, 'other bytes, another key');
});

test('a relative path keeps its name beside its content (the cached plan repeats it as written)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aiprod-media-'));
  writeFileSync(join(dir, 'a.png'), 'same');
  writeFileSync(join(dir, 'b.png'), 'same');
  const a = await mediaIdentity(doc('a.png'), dir);
  const b = await mediaIdentity(doc('b.png'), dir);
  assert.notDeepEqual(a.keyed, b.keyed);
  assert.deepEqual(a.refs, {});
  writeFileSync(join(dir, 'a.png'), 'replaced under the same name');
  const changed = await mediaIdentity(doc('a.png'), dir);
  assert.notDeepEqual(changed.keyed, a.keyed, 'a file replaced under its name is new content');
});

test('two links to identical bytes keep their own paths', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aiprod-media-'));
  writeFileSync(join(dir, 'a.png'), 'twin');
  writeFileSync(join(dir, 'b.png'), 'twin');
  const both = { scenes: [{ visual: { type: 'image', src: join(dir, 'a.png') } }, { visual: { type: 'image', src: join(dir, 'b.png') } }, { visual: { type: 'image', src: join(dir, 'a.png') } }] };
  const { keyed, refs } = await mediaIdentity(both, '/');
  const [x, y, z] = keyed.scenes.map((s) => s.visual.src);
  assert.notEqual(x, y);
  assert.equal(x, z, 'the same link twice is one name');
  assert.equal(refs[x ?? ''], join(dir, 'a.png'));
  assert.equal(refs[y ?? ''], join(dir, 'b.png'));
});
