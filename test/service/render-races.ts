/**
 * Drives the render handler directly against a service's database and queue (a service started
 * with role 'api', so no worker of its own takes the jobs), with a script writer whose plan() runs
 * a test's hook: the hook is where a cancel, a shutdown or a failure is made to land at one exact
 * point of a render.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnv } from '../../src/config/env.js';
import { ActiveRenders, handleRender, type RenderWorkerDeps } from '../../src/jobs/render.handler.js';
import { createPipelineDeps, createProviders, fixedProviders } from '../../src/main/container.js';
import type { PipelineDeps } from '../../src/pipeline/context.js';
import { RuleBasedWriter } from '../../src/providers/script/rule-based.adapter.js';
import type { ScriptWriter } from '../../src/providers/script/script.port.js';
import { CANCEL_CHANNEL, EVENTS_CHANNEL } from '../../src/db/channels.js';
import type { TestService } from './harness.js';

export type PlanHook = (productionId: string, signal: AbortSignal | undefined) => Promise<void>;

/** A brief no other test plans (the plan stage is cached on the brief, and the hook runs only on a miss). */
export const uniqueBrief = (): { scenes: { narration: string; durationSec: number; visual: { type: 'color'; color: string } }[]; resolution: '480p' } => ({
  scenes: [{ narration: `A race ${randomUUID()}.`, durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } }],
  resolution: '480p',
});

export class RaceRig {
  readonly shutdown = new AbortController();
  readonly active = new ActiveRenders();
  /** Productions whose plan() was entered. */
  readonly planned: string[] = [];
  hook: PlanHook = async () => undefined;
  /** Hooks by production, for renders that run at the same time (the default hook otherwise). */
  readonly hooks = new Map<string, PlanHook>();
  /** NOTIFYs on the events channel, by production. */
  private readonly notified = new Map<string, number>();

  private constructor(
    private readonly svc: TestService,
    private readonly pipeline: PipelineDeps,
  ) {}

  static async create(svc: TestService): Promise<RaceRig> {
    const env = loadEnv({ ...process.env, AIPROD_CACHE_DIR: join(svc.dataDir, 'race-cache') });
    mkdirSync(join(svc.dataDir, 'tmp'), { recursive: true });
    const rig = new RaceRig(svc, await createPipelineDeps(env));
    // As a worker does: a cancel's NOTIFY aborts the render at once.
    await svc.database.listen(CANCEL_CHANNEL, (id) => rig.active.cancel(id));
    await svc.database.listen(EVENTS_CHANNEL, (payload) => {
      const { id } = JSON.parse(payload) as { id: string };
      rig.notified.set(id, (rig.notified.get(id) ?? 0) + 1);
    });
    return rig;
  }

  /**
   * Resolves once the current render of `productionId` has sent `count` events: in a plan hook, 2 means
   * its writes before planning (the start, and the plan stage's start) are done and none is in flight.
   */
  async events(productionId: string, count: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.notified.get(productionId) ?? 0) < count) {
      if (Date.now() > deadline) throw new Error(`${productionId}: ${this.notified.get(productionId) ?? 0} of ${count} events after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  deps(productionId: string, overrides: Partial<RenderWorkerDeps> = {}): RenderWorkerDeps {
    const rule = new RuleBasedWriter();
    const script: ScriptWriter = {
      id: 'race-writer@1',
      plan: async (brief, signal) => {
        this.planned.push(productionId);
        await (this.hooks.get(productionId) ?? this.hook)(productionId, signal);
        return rule.plan(brief);
      },
    };
    return {
      database: this.svc.database,
      storage: this.svc.storage,
      queue: this.svc.queue,
      pipeline: { ...this.pipeline, providers: fixedProviders({ ...createProviders(), script }) },
      workerId: `race-worker-${randomUUID().slice(0, 8)}`,
      assetsDir: join(this.svc.dataDir, 'assets'),
      tmpDir: join(this.svc.dataDir, 'tmp'),
      stallTimeoutSec: 60,
      heartbeatSec: 30,
      maxAttempts: 3,
      maxRequeues: 3,
      mediaFetch: { maxBytes: 1024 * 1024, timeoutMs: 1000, allowHosts: [], allowCidrs: [] },
      shutdown: this.shutdown.signal,
      log: () => undefined,
      ...overrides,
    };
  }

  /** Runs the render job of `productionId` as a worker would; resolves with what the queue would see. */
  async render(productionId: string, overrides: Partial<RenderWorkerDeps> = {}): Promise<{ threw?: Error }> {
    this.notified.set(productionId, 0); // events() counts this render's
    try {
      await handleRender({ id: randomUUID(), name: 'render', data: { productionId }, retryCount: 0 }, this.deps(productionId, overrides), this.active);
      return {};
    } catch (error) {
      return { threw: error as Error };
    }
  }
}
