import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { answerRateLimitHit, ClusterRateLimitStore, type IpcChannel } from './rate-limit.cluster.js';
import { MemoryRateLimitStore } from './rate-limit.js';

/**
 * Two "processes" wired to one "primary" as node:cluster wires them: each message crosses as JSON
 * (so undefined becomes null, as on the real channel), asynchronously.
 */
function wire(primary: MemoryRateLimitStore, options: { drop?: boolean } = {}): IpcChannel {
  const channel = new EventEmitter() as EventEmitter & IpcChannel;
  channel.send = (message: unknown): boolean => {
    if (options.drop) return true;
    const sent = JSON.parse(JSON.stringify(message)) as unknown;
    setImmediate(() => answerRateLimitHit(primary, sent, (reply) => setImmediate(() => channel.emit('message', JSON.parse(JSON.stringify(reply))))));
    return true;
  };
  return channel;
}

test('processes sharing a primary admit a limit once between them, with the primary store’s own answers', async () => {
  const primary = new MemoryRateLimitStore();
  const a = new ClusterRateLimitStore(wire(primary));
  const b = new ClusterRateLimitStore(wire(primary));
  const now = 1_800_000_000_000;
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).hit('tenant:t1', 6, 60, now)));
  assert.equal(results.filter((r) => r.allowed).length, 6);
  const refused = results.find((r) => !r.allowed);
  assert.ok(refused);
  assert.equal(refused.retryAfterSec, 10); // one request every 60 / 6 s
  // The same arguments against a store of its own give the same answer: the primary decides.
  const alone = new MemoryRateLimitStore();
  for (let i = 0; i < 6; i++) await alone.hit('tenant:t1', 6, 60, now);
  assert.deepEqual(refused, await alone.hit('tenant:t1', 6, 60, now));
  a.close();
  b.close();
});

test('an omitted now and cost cross the channel as null and still mean "now" and 1', async () => {
  const store = new ClusterRateLimitStore(wire(new MemoryRateLimitStore()));
  const first = await store.hit('ip:1', 2, 60);
  assert.equal(first.allowed, true);
  assert.equal(first.remaining, 1);
  store.close();
});

test('unlimited and invalid limits are answered without the primary, as the memory store answers them', async () => {
  const store = new ClusterRateLimitStore(wire(new MemoryRateLimitStore(), { drop: true }), 50);
  assert.equal((await store.hit('k', Infinity, 60)).allowed, true);
  await assert.rejects(store.hit('k', 0, 60), RangeError);
  store.close();
});

test('a primary that does not answer fails the hit after the timeout instead of hanging the request', async () => {
  const store = new ClusterRateLimitStore(wire(new MemoryRateLimitStore(), { drop: true }), 50);
  await assert.rejects(store.hit('k', 5, 60), /did not answer within 50 ms/);
  store.close();
});
