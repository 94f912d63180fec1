/**
 * Every provider AIPROD ships, per stage, in default chain order (the order used when
 * AIPROD_<STAGE>_PROVIDERS is not set: those whose key is set, then the offline one).
 * Registering a provider is one line here, next to its adapter file.
 */
import type { Catalog } from './registry.js';
import { geminiPlanDescriptor } from './script/gemini.adapter.js';
import { openaiPlanDescriptor } from './script/openai.adapter.js';

export const CATALOG: Catalog = {
  plan: [openaiPlanDescriptor, geminiPlanDescriptor],
  narrate: [],
  score: [],
  foley: [],
  visualize: [],
};
