/**
 * The original API's three presets, as its clients read them (GET /presets), and what each means
 * here: the v1 preset that sets the frame, the quality tier that picks the providers, the cost
 * complexity of POST /cost-estimate, and whether the job stops for approval (ICC).
 *
 * Limits and thresholds (`max_duration_sec`, `max_cost_per_minute`, `quality_threshold`) are the
 * original's policy figures and are reported as they were; costs are never taken from here — they
 * are computed from the price tables (compat/costs.ts).
 */
import type { PresetName, QualityTier } from '../contract/brief.js';

export const COMPLEXITIES = ['low', 'standard', 'high'] as const;
export type Complexity = (typeof COMPLEXITIES)[number];

export interface CompatPreset {
  name: string;
  description: string;
  pipeline_mode: 'fast' | 'full';
  quality_threshold: number;
  max_duration_sec: number;
  max_cost_per_minute: number;
  allow_icc: boolean;
  consistency_cache: boolean;
  multi_review: boolean;
  priority: 'low' | 'medium' | 'high';
  /** The v1 preset (frame shape, captions) a job of this preset renders with. */
  v1Preset: PresetName;
  quality: QualityTier;
  complexity: Complexity;
}

export const COMPAT_PRESETS = {
  quick_social: {
    name: 'Quick Social',
    description: 'Fast pipeline for social posts: vertical 9:16, burned-in captions, economy providers, no approval step.',
    pipeline_mode: 'fast',
    quality_threshold: 0.6,
    max_duration_sec: 30,
    max_cost_per_minute: 0.5,
    allow_icc: false,
    consistency_cache: false,
    multi_review: false,
    priority: 'low',
    v1Preset: 'social_vertical',
    quality: 'economy',
    complexity: 'low',
  },
  brand_campaign: {
    name: 'Brand Campaign',
    description: 'Full pipeline with approval (ICC): 16:9 with caption files, standard providers; the job waits in waiting_approval until its manifest is approved.',
    pipeline_mode: 'full',
    quality_threshold: 0.8,
    max_duration_sec: 120,
    max_cost_per_minute: 0.95,
    allow_icc: true,
    consistency_cache: true,
    multi_review: false,
    priority: 'medium',
    v1Preset: 'youtube_landscape',
    quality: 'standard',
    complexity: 'standard',
  },
  premium_spot: {
    name: 'Premium Spot',
    description: 'Full pipeline with approval (ICC) and premium providers (generated video clips where configured): 16:9 with caption files.',
    pipeline_mode: 'full',
    quality_threshold: 0.9,
    max_duration_sec: 180,
    max_cost_per_minute: 1.5,
    allow_icc: true,
    consistency_cache: true,
    multi_review: true,
    priority: 'high',
    v1Preset: 'youtube_landscape',
    quality: 'premium',
    complexity: 'high',
  },
} as const satisfies Record<string, CompatPreset>;

export type CompatPresetName = keyof typeof COMPAT_PRESETS;
export const COMPAT_PRESET_NAMES = Object.keys(COMPAT_PRESETS) as CompatPresetName[];

export const isCompatPreset = (name: string | undefined): name is CompatPresetName => name !== undefined && Object.hasOwn(COMPAT_PRESETS, name);

/** The quality tier a cost complexity stands for. */
export const COMPLEXITY_QUALITY: Record<Complexity, QualityTier> = { low: 'economy', standard: 'standard', high: 'premium' };

/** Quality guaranteed at each complexity when no preset names one (the presets' own thresholds). */
export const COMPLEXITY_QUALITY_THRESHOLD: Record<Complexity, number> = { low: 0.6, standard: 0.8, high: 0.9 };

/** A complexity word as the original read it: anything unknown is `standard`, never an error. */
export function complexityOf(word: unknown): Complexity {
  return typeof word === 'string' && (COMPLEXITIES as readonly string[]).includes(word.toLowerCase()) ? (word.toLowerCase() as Complexity) : 'standard';
}
