/**
 * Tests every picture adapter runs against its fake: each failure scenario mapped to its
 * ProviderError code, cancellation, a 429 with Retry-After retried by the chain's guard after the
 * time asked, and a failing provider replaced by the offline one.
 *
 * `options.cases`: the scenarios the vendor has, with the code each maps to (default: all five);
 * `options.longTasks`: the vendor runs tasks that are polled (default true).
 *
 * @example
 *   visualFailureCases('runway', async () => { const fake = await FakeRunway.start(); return { fake, make: (ctx) => new RunwayVisuals(ctx, { pollIntervalMs: 5 }), model: 'gen4_image' }; });
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/contract/errors.js';
import { ProviderChain, type ChainMember, type Fallback } from '../../src/providers/chain.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import type { ProviderContext } from '../../src/providers/provider.js';
import { ProviderGuard } from '../../src/providers/resilience.js';
import { ProceduralVisuals } from '../../src/providers/visuals/procedural.adapter.js';
import type { VisualProvider, VisualRequest } from '../../src/providers/visuals/visual.port.js';
import type { FakeVendor, Scenario } from './fake-vendor.js';
import { providerContext } from './provider-context.js';

export function visualRequest(overrides: Partial<VisualRequest> = {}): VisualRequest {
  return {
    sceneId: 's1',
    prompt: 'a solar backpack on a mountain trail',
    style: 'warm golden light, flat illustration',
    keywords: ['mountain', 'backpack'],
    durationSec: 4.5,
    width: 1280,
    height: 720,
    aspectRatio: '16:9',
    seed: 42,
    prefer: 'image',
    ...overrides,
  };
}

export interface VisualSetup {
  fake: FakeVendor;
  model: string;
  /** The adapter on a context (fast polling for tests). */
  make: (context: ProviderContext) => VisualProvider;
  /** The request the cases send (default: visualRequest()). */
  request?: VisualRequest;
  settings?: Record<string, string | undefined>;
  /** Appended to the fake's URL for the base URL (OpenAI's includes /v1). */
  basePath?: string;
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'aiprod-visual-'));
}

export function visualFailureCases(name: string, start: () => Promise<VisualSetup>, options: { cases?: Array<[Scenario, string]>; longTasks?: boolean } = {}): void {
  describe(`${name}: failures, cancellation and the chain`, () => {
    let setup: VisualSetup;
    let dir: string;
    const context = (apiKey?: string): Promise<ProviderContext> =>
      providerContext({ baseUrl: `${setup.fake.url}${setup.basePath ?? ''}`, apiKey: apiKey ?? setup.fake.apiKey, model: setup.model, settings: setup.settings });
    const request = (): VisualRequest => setup.request ?? visualRequest();

    before(async () => {
      setup = await start();
      dir = await tempDir();
    });
    after(async () => {
      await setup.fake.close();
      await rm(dir, { recursive: true, force: true });
    });

    const cases: Array<[Scenario, string]> = [
      ['unauthorized', 'provider_auth'],
      ['server_error', 'provider_unavailable'],
      ['malformed', 'provider_bad_response'],
      ['refused', 'provider_refused'],
      ['task_failed', 'provider_failed'],
    ];
    // Registered before `setup` exists, so the list is the default or one given to the function.
    for (const [scenario, code] of options.cases ?? cases) {
      test(`${scenario} → ${code}`, async () => {
        setup.fake.scenario = scenario;
        try {
          const adapter = setup.make(await context());
          const error = await adapter.generate(request(), dir, new AbortController().signal).then(
            () => assert.fail('expected a failure'),
            (e: unknown) => e,
          );
          assert.ok(error instanceof ProviderError, `a ProviderError, got ${String(error)}`);
          assert.equal(error.code, code, error.message);
          assert.equal(error.provider, name);
        } finally {
          setup.fake.scenario = 'ok';
        }
      });
    }

    test('a wrong key is provider_auth and the key is not in the message', async () => {
      const adapter = setup.make(await context('wrong-key-123456'));
      const error = await adapter.generate(request(), dir).catch((e: unknown) => e);
      assert.ok(error instanceof ProviderError);
      assert.equal(error.code, 'provider_auth');
      assert.ok(!error.message.includes('wrong-key-123456'));
      assert.ok(setup.fake.keysSeen.includes('wrong-key-123456'));
    });

    test('a vendor that cannot be reached → provider_unavailable', async () => {
      const ctx = await providerContext({ baseUrl: `http://127.0.0.1:1${setup.basePath ?? ''}`, apiKey: setup.fake.apiKey, model: setup.model, settings: setup.settings });
      const error = await setup.make(ctx).generate(request(), dir).catch((e: unknown) => e);
      assert.ok(error instanceof ProviderError, String(error));
      assert.equal(error.code, 'provider_unavailable');
    });

    test('429 → provider_rate_limited with the Retry-After', async () => {
      setup.fake.next.push('rate_limited');
      const adapter = setup.make(await context());
      const error = await adapter.generate(request(), dir).catch((e: unknown) => e);
      assert.ok(error instanceof ProviderError);
      assert.equal(error.code, 'provider_rate_limited');
      assert.equal(error.retryAfterMs, 1000);
    });

    test('no answer → provider_timeout under the guard', async () => {
      setup.fake.scenario = 'hang';
      try {
        const adapter = setup.make(await context());
        const guard = new ProviderGuard();
        const ctx = await context();
        const error = await guard
          .run(name, ctx.credentials, { timeoutMs: 300, maxAttempts: 1 }, undefined, (signal) => adapter.generate(request(), dir, signal))
          .catch((e: unknown) => e);
        assert.ok(error instanceof ProviderError, String(error));
        assert.equal(error.code, 'provider_timeout');
      } finally {
        setup.fake.scenario = 'ok';
      }
    });

    if (options.longTasks ?? true) {
      test("a task still running when the guard's timeout ends the attempt → provider_timeout", async () => {
        setup.fake.runningPolls = 1_000_000;
        try {
          const adapter = setup.make(await context());
          const ctx = await context();
          const error = await new ProviderGuard()
            .run(name, ctx.credentials, { timeoutMs: 300, maxAttempts: 1 }, undefined, (signal) => adapter.generate(request(), dir, signal))
            .catch((e: unknown) => e);
          assert.ok(error instanceof ProviderError, String(error));
          assert.equal(error.code, 'provider_timeout');
        } finally {
          setup.fake.runningPolls = 1;
        }
      });
    }

    test('cancellation → aborted', async () => {
      setup.fake.scenario = 'hang';
      try {
        const adapter = setup.make(await context());
        const controller = new AbortController();
        const pending = adapter.generate(request(), dir, controller.signal);
        setTimeout(() => controller.abort(), 100);
        const error = await pending.catch((e: unknown) => e);
        assert.ok(error instanceof AppError, String(error));
        assert.equal(error.code, 'aborted');
      } finally {
        setup.fake.scenario = 'ok';
      }
    });

    test('through a chain: a 429 with Retry-After: 1 is retried after the time asked, then succeeds', async () => {
      const ctx = await context();
      const member: ChainMember<VisualProvider> = { name, provider: setup.make(ctx), offline: false, credentials: ctx.credentials, resilience: { timeoutMs: 20_000, maxAttempts: 3, baseDelayMs: 10 } };
      const offline: ChainMember<VisualProvider> = { name: 'offline', provider: new ProceduralVisuals(), offline: true };
      const chain = new ProviderChain('visualize', [member, offline], new ProviderGuard());
      const from = setup.fake.requests.length;
      setup.fake.next.push('rate_limited');
      const { value, member: used } = await chain.run((m, guarded) => guarded((signal) => m.provider.generate(request(), dir, signal)));
      assert.equal(used.name, name);
      assert.notEqual(value.kind, 'planned');
      const mine = setup.fake.requests.slice(from);
      const [first, second] = mine;
      assert.ok(first && second);
      assert.ok(second.at - first.at >= 950, `retried after ${second.at - first.at} ms`);
    });

    test('through a chain: a failing provider falls back to the offline one', async () => {
      const ctx = await context('revoked-key');
      const member: ChainMember<VisualProvider> = { name, provider: setup.make(ctx), offline: false, credentials: ctx.credentials, resilience: { timeoutMs: 20_000, maxAttempts: 3, baseDelayMs: 10 } };
      const chain = new ProviderChain('visualize', [member, { name: 'offline', provider: new ProceduralVisuals(), offline: true }], new ProviderGuard());
      const fallbacks: Fallback[] = [];
      const { value, member: used } = await chain.run((m, guarded) => guarded((signal) => m.provider.generate(request(), dir, signal)), { onFallback: (f) => fallbacks.push(f) });
      assert.equal(used.name, 'offline');
      assert.equal(value.kind, 'planned');
      assert.equal(fallbacks.length, 1);
      assert.equal(fallbacks[0]?.code, 'provider_auth');
      assert.equal(fallbacks[0]?.to, 'procedural-visuals@1');
    });
  });
}
