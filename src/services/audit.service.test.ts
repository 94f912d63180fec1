import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FailedAuthWatch, type AuditLog } from './audit.service.js';

const recorded: unknown[] = [];
const audit = { record: async (entry: unknown) => void recorded.push(entry) } as unknown as AuditLog;

test('the failed-authentication watch forgets addresses whose window has passed', () => {
  let now = 1_000_000;
  const watch = new FailedAuthWatch(audit, { windowSec: 60, now: () => now });
  for (let i = 0; i < 100; i++) watch.note(`203.0.113.${i}`, 'unauthorized');
  assert.equal(watch.size, 100);
  now += 61_000;
  watch.note('198.51.100.1', 'unauthorized');
  assert.equal(watch.size, 1, 'only the address seen in the current window is kept');
});

test('the failed-authentication watch holds at most maxAddresses, dropping the oldest', () => {
  const watch = new FailedAuthWatch(audit, { maxAddresses: 10, threshold: 3 });
  for (let i = 0; i < 25; i++) watch.note(`203.0.113.${i}`, 'unauthorized');
  assert.equal(watch.size, 10);
  // A burst is still reported once for an address that stays.
  recorded.length = 0;
  for (let i = 0; i < 5; i++) watch.note('203.0.113.24', 'unauthorized');
  assert.equal(recorded.length, 1);
});
