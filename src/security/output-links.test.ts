import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutputLinks } from './output-links.js';

const key = Buffer.alloc(32, 3);

test('a link opens its own output until it expires, for the tenant it was signed for', () => {
  let now = Date.parse('2026-12-01T10:00:00Z');
  const links = new OutputLinks(key, 3600, () => now);
  const token = links.sign('acme', 'p1', 'video.mp4');
  assert.deepEqual(links.verify(token, 'p1', 'video.mp4'), { tenantId: 'acme' });
  assert.equal(links.verify(token, 'p2', 'video.mp4'), undefined, 'another production');
  assert.equal(links.verify(token, 'p1', 'audio.m4a'), undefined, 'another output');
  assert.equal(new OutputLinks(Buffer.alloc(32, 4), 3600, () => now).verify(token, 'p1', 'video.mp4'), undefined, 'another key');
  const [expires, , mac] = token.split('.');
  assert.equal(links.verify(`${expires}.${Buffer.from('default').toString('base64url')}.${mac}`, 'p1', 'video.mp4'), undefined, 'another tenant');
  assert.equal(links.verify(`${Number(expires) + 300}.${token.split('.')[1]}.${mac}`, 'p1', 'video.mp4'), undefined, 'a longer life');
  assert.equal(links.verify('garbage', 'p1', 'video.mp4'), undefined);
  now += 3600 * 1000 + 300 * 1000;
  assert.equal(links.verify(token, 'p1', 'video.mp4'), undefined, 'expired');
});

test('reads close together get the same link; it lives at least the TTL', () => {
  let now = Date.parse('2026-12-01T10:00:01Z');
  const links = new OutputLinks(key, 600, () => now);
  const first = links.sign('t', 'p', 'video.mp4');
  now += 30_000;
  assert.equal(links.sign('t', 'p', 'video.mp4'), first);
  const expires = Number(first.split('.')[0]) * 1000;
  assert.ok(expires - Date.parse('2026-12-01T10:00:31Z') >= 600_000 - 30_000);
});
