/**
 * Port for the "plan" stage: a brief becomes a storyboard. Adapters: rule-based.adapter.ts
 * (offline, default and last fallback); openai.adapter.ts (any OpenAI-compatible chat endpoint) and
 * gemini.adapter.ts, which write the same storyboard through one schema.
 */
import type { ResolvedBrief } from '../../contract/resolve.js';
import type { Storyboard } from '../../contract/storyboard.js';
import type { Usage } from '../provider.js';

export interface PlanResult {
  storyboard: Storyboard;
  /** What the vendor billed (tokens); empty for the offline writer. */
  usage: Usage;
}

/**
 * @example
 * const { storyboard } = await writer.plan(resolveBrief(parseBrief({ prompt: 'a 30-second ad for a solar backpack' })));
 */
export interface ScriptWriter {
  /** Provider id recorded in cost reports and cache keys, e.g. "rule-based@1" or "openai:gpt-4o-mini". */
  readonly id: string;
  plan(brief: ResolvedBrief, signal?: AbortSignal): Promise<PlanResult>;
}
