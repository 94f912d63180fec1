/**
 * Port for the "plan" stage: a brief becomes a storyboard. Adapters: rule-based.adapter.ts
 * (offline, default); an OpenAI-compatible chat adapter plugs in here later.
 */
import type { ResolvedBrief } from '../../contract/resolve.js';
import type { Storyboard } from '../../contract/storyboard.js';

/**
 * @example
 * const storyboard = await writer.plan(resolveBrief(parseBrief({ prompt: 'a 30-second ad for a solar backpack' })));
 */
export interface ScriptWriter {
  /** Provider id recorded in cost reports and cache keys, e.g. "rule-based@1". */
  readonly id: string;
  plan(brief: ResolvedBrief, signal?: AbortSignal): Promise<Storyboard>;
}
