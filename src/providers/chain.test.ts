import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../contract/errors.js';
import { ProviderChain, type ChainMember, type Fallback } from './chain.js';
import { ProviderError } from './provider-error.js';
import { ProviderGuard } from './resilience.js';

interface Echo {
  readonly id: string;
  say(): Promise<string>;
}

const cloud = (name: string, say: () => Promise<string>): ChainMember<Echo> => ({
  name,
  provider: { id: `${name}:m1`, say },
  offline: false,
  credentials: { apiKey: `key-${name}`, baseUrl: `http://${name}.test`, source: 'operator' },
  resilience: { timeoutMs: 1000, maxAttempts: 1 },
});
const offline: ChainMember<Echo> = { name: 'offline', provider: { id: 'local@1', say: async () => 'local' }, offline: true };

test('the first provider that answers is used; each failure is reported as it happens, with the provider tried next', async () => {
  const fallbacks: Fallback[] = [];
  const chain = new ProviderChain('narrate', [
    cloud('a', async () => { throw new ProviderError('provider_unavailable', 'a', 'HTTP 503'); }),
    cloud('b', async () => { throw new ProviderError('provider_auth', 'b', 'the key was refused'); }),
    offline,
  ], new ProviderGuard());
  const { value, member } = await chain.run((m, guarded) => guarded(() => m.provider.say()), { onFallback: (f) => fallbacks.push(f) });
  assert.equal(value, 'local');
  assert.equal(member.name, 'offline');
  assert.deepEqual(fallbacks.map((f) => [f.from, f.to, f.code]), [['a:m1', 'b:m1', 'provider_unavailable'], ['b:m1', 'local@1', 'provider_auth']]);
  assert.match(fallbacks[0]?.reason ?? '', /503/);
  // A failed provider is not tried again in this render: one voice for the whole video.
  let calledA = 0;
  const again = new ProviderChain('narrate', [cloud('a', async () => { calledA++; throw new ProviderError('provider_unavailable', 'a', 'down'); }), offline], new ProviderGuard());
  await again.run((m, g) => g(() => m.provider.say()));
  await again.run((m, g) => g(() => m.provider.say()));
  assert.equal(calledA, 1);
  assert.equal(again.current.name, 'offline');
});

test('a refused prompt falls back for that request only; the provider stays for the next', async () => {
  let n = 0;
  const chain = new ProviderChain('visualize', [cloud('gen', async () => (++n === 1 ? Promise.reject(new ProviderError('provider_refused', 'gen', 'safety')) : 'picture')), offline], new ProviderGuard());
  assert.equal((await chain.run((m, g) => g(() => m.provider.say()))).value, 'local');
  assert.equal((await chain.run((m, g) => g(() => m.provider.say()))).value, 'picture');
});

test('a cancelled render does not fall back, and the last provider\'s failure is the chain\'s', async () => {
  const controller = new AbortController();
  const chain = new ProviderChain('plan', [cloud('a', async () => { controller.abort(); throw new AppError('aborted', 'cancelled'); }), offline], new ProviderGuard());
  await assert.rejects(chain.run((m, g) => g(() => m.provider.say()), { signal: controller.signal }), (e: AppError) => e.code === 'aborted');
  const broken = new ProviderChain('plan', [{ ...offline, provider: { id: 'local@1', say: async () => { throw new AppError('internal', 'offline broke'); } } }], new ProviderGuard());
  await assert.rejects(broken.run((m, g) => g(() => m.provider.say())), /offline broke/);
});
