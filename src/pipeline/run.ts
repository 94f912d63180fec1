/**
 * Runs the pipeline for one brief: preflight, then the stages of stages.ts in order, with progress
 * events, per-stage timing and the cost ledger. Every stage is resumable through the cache, so
 * running the same brief again after a crash redoes only the unfinished units.
 *
 * One render, one lifetime: every stage and FFmpeg process of a render hangs off one
 * AbortController, linked to the caller's signal. The first lane to fail in a parallel step aborts
 * its siblings, and the error is rethrown only once every lane has settled; the controller is
 * aborted in `finally`, so nothing the render started runs on after renderBrief returns or throws.
 */
import { AppError } from '../contract/errors.js';
import type { ResolvedBrief } from '../contract/resolve.js';
import type { Storyboard } from '../contract/storyboard.js';
import { reapedChildrenCpuSec } from '../media/ffmpeg.js';
import type { Usage } from '../providers/provider.js';
import type { RenderProviders, RenderSelection } from '../providers/registry.js';
import type { PipelineDeps, PipelineEvent, ProductionState, Stage, StageContext } from './context.js';
import { CostLedger, type CostReport } from './cost.js';
import { ESTIMATED_CHARS_PER_SEC, estimateProviderCosts, RENDER_PRICE_ID } from './estimate.js';
import { preferences, preflight } from './preflight.js';
import { buildTimeline } from './timeline.js';
import { allStages, PIPELINE } from './stages.js';

export interface RenderOptions {
  /** Directory relative asset paths are resolved against (the brief file's directory). */
  baseDir: string;
  /** A reviewed storyboard to render instead of planning one. */
  storyboard?: Storyboard;
  signal?: AbortSignal;
  onEvent?: (event: PipelineEvent) => void;
  /** Stop after this stage (e.g. 'plan' for a production that waits for review). */
  stopAfter?: Stage['name'];
  /** Whose render it is: the tenant's own provider keys and remaining budget (the brief gives tier and preferences). */
  selection?: Pick<RenderSelection, 'tenantKeys' | 'budgetUsd'>;
  /** What the operator charges per minute of finished video (PRICE_PER_VIDEO_MINUTE_USD), added to the cost like the estimate does. */
  chargePerVideoMinuteUsd?: number;
}

export interface RenderResult {
  state: ProductionState;
  cost: ReturnType<CostLedger['report']>;
  notes: string[];
  timings: Record<string, number>;
}

const cpuNow = (): number => {
  const own = process.cpuUsage();
  return (own.user + own.system) / 1e6 + reapedChildrenCpuSec();
};

export async function renderBrief(brief: ResolvedBrief, deps: PipelineDeps, options: RenderOptions): Promise<RenderResult> {
  const lifetime = new AbortController();
  const signal = lifetime.signal;
  const outer = options.signal;
  const onOuterAbort = (): void => lifetime.abort(outer?.reason);
  if (outer?.aborted) lifetime.abort(outer.reason);
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    return await renderSteps(brief, deps, options, signal, lifetime);
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
    lifetime.abort();
  }
}

async function renderSteps(brief: ResolvedBrief, deps: PipelineDeps, options: RenderOptions, signal: AbortSignal, lifetime: AbortController): Promise<RenderResult> {
  const emit = options.onEvent ?? (() => undefined);
  const notes: string[] = [];
  const note = (message: string): void => {
    notes.push(message);
    emit({ type: 'note', message });
  };
  const providers = await selectProviders(brief, deps, options);
  for (const message of providers.notes) note(message);
  const ledger = new CostLedger(providers.prices, providers.quality);
  const timings: Record<string, number> = {};
  const voice = await preflight(brief, options.baseDir, deps, providers, signal);
  let state: ProductionState = { brief, baseDir: options.baseDir, voice, storyboard: options.storyboard };

  const runStage = async (stage: Stage, input: ProductionState): Promise<Partial<ProductionState>> => {
    if (signal.aborted) throw new AppError('aborted', 'the render was cancelled');
    const started = performance.now();
    const cpuStart = cpuNow();
    let units = 0;
    let cached = 0;
    const pending: { provider: string; units: Record<string, number>; usage?: Usage }[] = [];
    const ctx: StageContext = {
      deps,
      providers,
      signal,
      progress: (fraction, detail) => emit({ type: 'stage-progress', stage: stage.name, fraction: Math.min(1, Math.max(0, fraction)), detail }),
      unit: (hit) => {
        units++;
        if (hit) cached++;
      },
      note,
      record: (provider, recordUnits, usage) => pending.push({ provider, units: recordUnits, usage }),
      fallback: (fallback) => {
        ledger.addFallback(fallback);
        emit({ type: 'fallback', fallback });
        note(`${fallback.stage}: ${fallback.from} failed (${fallback.code}: ${fallback.reason})${fallback.to ? `; ${fallback.to} was used instead` : ''}`);
      },
    };
    emit({ type: 'stage-start', stage: stage.name });
    const output = await stage.run(input, ctx);
    const wallSec = (performance.now() - started) / 1000;
    timings[stage.name] = Math.round(wallSec * 1000) / 1000;
    const cpuSec = Math.round((cpuNow() - cpuStart) * 100) / 100;
    for (const p of pending) {
      ledger.add({ stage: stage.name, provider: p.provider, units: p.units, usage: p.usage, cpuSec, wallSec: timings[stage.name] ?? 0, cachedUnits: cached });
    }
    if (output.attributions) ledger.addAttributions(output.attributions);
    if (stage.name === 'plan' && output.storyboard) {
      // The estimate, once the plan is known: what the rest of the render should cost on these chains.
      const planned = output.storyboard;
      const speech = new Map(planned.scenes.map((scene) => [scene.id, scene.narration.trim().length / (ESTIMATED_CHARS_PER_SEC * brief.speechRate)] as const));
      const timeline = buildTimeline(planned, speech, { fps: brief.fps, targetDurationSec: brief.targetDurationSec });
      ledger.setEstimate(estimateProviderCosts(planned, timeline, brief, providers, { planned: Boolean(options.storyboard) }));
    }
    const provider = units > 0 && cached === units ? 'cache' : (pending[0]?.provider.split('@')[0] ?? 'none');
    emit({ type: 'stage-end', stage: stage.name, wallSec, cachedUnits: cached, totalUnits: units, provider });
    return output;
  };

  // A lane sees the state as it was when the parallel step began, plus what its own stages add.
  const runLane = async (lane: Stage[], start: ProductionState): Promise<Partial<ProductionState>> => {
    let laneState = start;
    let added: Partial<ProductionState> = {};
    for (const stage of lane) {
      const output = await runStage(stage, laneState);
      laneState = { ...laneState, ...output };
      added = { ...added, ...output };
    }
    return added;
  };
  // The steps of stages.ts in order; a failure carries what the finished stages were billed.
  const runSteps = async (initial: ProductionState): Promise<ProductionState> => {
    let state = initial;
    for (const step of PIPELINE) {
      if ('parallel' in step) {
        const start = state;
        // The first failure aborts the other lanes; it is thrown once they have all stopped.
        let first: { error: unknown } | undefined;
        const settled = await Promise.allSettled(
          step.parallel.map((lane) =>
            runLane(Array.isArray(lane) ? lane : [lane], start).catch((error: unknown) => {
              if (!first) {
                first = { error };
                lifetime.abort(error);
              }
              throw error;
            }),
          ),
        );
        if (first) throw first.error;
        state = Object.assign({}, state, ...settled.map((r) => (r.status === 'fulfilled' ? r.value : {}))) as ProductionState;
      } else {
        state = { ...state, ...(await runStage(step, state)) };
      }
      const ran = 'parallel' in step ? step.parallel.flat() : [step];
      if (options.stopAfter && ran.some((stage) => stage.name === options.stopAfter)) break;
    }
    return state;
  };
  try {
    state = await runSteps(state);
  } catch (error) {
    // What the finished stages were billed is still owed when a later one fails.
    throw withSpent(error, ledger.report());
  }
  const charge = options.chargePerVideoMinuteUsd ?? 0;
  if (charge > 0 && state.timeline && !options.stopAfter) {
    ledger.addCharge('render', RENDER_PRICE_ID, { videoMinutes: Math.round((state.timeline.totalSec / 60) * 1000) / 1000 }, charge);
  }
  return { state, cost: ledger.report(), notes, timings };
}

const SPENT = Symbol('aiprod.spent');

/** The cost report of a render that failed, as far as it got (the finished stages' records); undefined when none is attached. */
export function spentBefore(error: unknown): CostReport | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const spent = (e as { [SPENT]?: CostReport })[SPENT];
    if (spent) return spent;
  }
  return undefined;
}

function withSpent(error: unknown, report: CostReport): unknown {
  if (error instanceof Error && !(SPENT in error)) Object.defineProperty(error, SPENT, { value: report, enumerable: false });
  return error;
}

/**
 * This render's chains: the brief's tier and preferences, the tenant's keys, and — when the tenant
 * has a budget — the tier its remaining budget can pay for (sized with the offline plan, no vendor call).
 */
async function selectProviders(brief: ResolvedBrief, deps: PipelineDeps, options: RenderOptions): Promise<RenderProviders> {
  const selection: RenderSelection = { quality: brief.quality, prefer: preferences(brief), ...options.selection };
  if (selection.budgetUsd === undefined) return deps.providers.forRender(selection);
  const sizing = deps.providers.forRender({ ...selection, budgetUsd: undefined });
  const offline = sizing.plan.members[sizing.plan.members.length - 1]?.provider;
  const storyboard = options.storyboard ?? (offline ? (await offline.plan(brief)).storyboard : undefined);
  if (!storyboard) return sizing;
  const speech = new Map(storyboard.scenes.map((scene) => [scene.id, scene.narration.trim().length / (ESTIMATED_CHARS_PER_SEC * brief.speechRate)] as const));
  const timeline = buildTimeline(storyboard, speech, { fps: brief.fps, targetDurationSec: brief.targetDurationSec });
  return deps.providers.forRender({
    ...selection,
    // The operator's own charge is paid at every tier; it counts against what is left too.
    estimateUsd: (providers) =>
      estimateProviderCosts(storyboard, timeline, brief, providers, { planned: Boolean(options.storyboard) }).reduce((sum, l) => sum + l.usd, 0) +
      ((options.chargePerVideoMinuteUsd ?? 0) * timeline.totalSec) / 60,
  });
}

/** Overall progress 0..1 from per-stage fractions, weighted by each stage's share. */
export function overallProgress(fractions: Partial<Record<Stage['name'], number>>): number {
  const stages = allStages();
  const total = stages.reduce((s, st) => s + st.weight, 0);
  return stages.reduce((s, st) => s + st.weight * (fractions[st.name] ?? 0), 0) / total;
}
