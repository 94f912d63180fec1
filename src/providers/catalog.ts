/**
 * Every provider AIPROD ships, per stage, in default chain order (the order used when
 * AIPROD_<STAGE>_PROVIDERS is not set: those whose key is set, then the offline one).
 * Registering a provider is one line here, next to its adapter file.
 */
import { elevenLabsMusicDescriptor } from './music/elevenlabs.adapter.js';
import { sunoDescriptor } from './music/suno.adapter.js';
import type { Catalog } from './registry.js';
import { geminiPlanDescriptor } from './script/gemini.adapter.js';
import { openaiPlanDescriptor } from './script/openai.adapter.js';
import { elevenLabsSfxDescriptor } from './sfx/elevenlabs.adapter.js';
import { elevenLabsTtsDescriptor } from './tts/elevenlabs.adapter.js';
import { googleTtsDescriptor } from './tts/google.adapter.js';
import { openAiTtsDescriptor } from './tts/openai.adapter.js';
import { freesoundDescriptor } from './sfx/freesound.adapter.js';
import { openAiImagesDescriptor } from './visuals/openai-images.adapter.js';
import { pexelsDescriptor } from './visuals/pexels.adapter.js';
import { replicateDescriptor } from './visuals/replicate.adapter.js';
import { runwayDescriptor } from './visuals/runway.adapter.js';
import { veoDescriptor } from './visuals/veo.adapter.js';

export const CATALOG: Catalog = {
  plan: [openaiPlanDescriptor, geminiPlanDescriptor],
  narrate: [elevenLabsTtsDescriptor, googleTtsDescriptor, openAiTtsDescriptor],
  score: [elevenLabsMusicDescriptor, sunoDescriptor],
  // Recorded sounds first (free, credited), then generated ones.
  foley: [freesoundDescriptor, elevenLabsSfxDescriptor],
  // Generated pictures first (clips at premium), then stock.
  visualize: [runwayDescriptor, veoDescriptor, openAiImagesDescriptor, replicateDescriptor, pexelsDescriptor],
};
