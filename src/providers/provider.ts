/**
 * What every provider adapter shares: the stages providers serve, the context an adapter is built
 * with (its credentials, FFmpeg, a safe downloader), and the descriptor that registers it.
 *
 * Adding a provider is one adapter file that exports a `ProviderDescriptor`, plus one line in
 * catalog.ts. The registry (registry.ts) builds each stage's chain per render from the descriptors,
 * the configuration and the tenant's own keys.
 */
import type { ProbeResult } from '../media/probe.js';

/** The pipeline stages whose work a provider does, in pipeline order. */
export const PROVIDER_STAGES = ['plan', 'narrate', 'score', 'foley', 'visualize'] as const;
export type ProviderStage = (typeof PROVIDER_STAGES)[number];

export { QUALITY_TIERS, type QualityTier } from '../contract/brief.js';
import type { QualityTier } from '../contract/brief.js';

/** Names of the keys a tenant may store for itself (services/tenants.service.ts stores them sealed). */
export const TENANT_KEY_NAMES = ['openai', 'gemini', 'elevenlabs', 'google_tts', 'suno', 'freesound', 'runway', 'pexels', 'replicate'] as const;
export type TenantKeyName = (typeof TENANT_KEY_NAMES)[number];

/** FFmpeg as adapters need it: converting a vendor's MP3 to the port's WAV, fitting a track's length. */
export interface ProviderMedia {
  ffmpeg(args: readonly string[], options?: { signal?: AbortSignal; timeoutSec?: number }): Promise<{ stdout: string; stderr: string }>;
  probe(path: string, signal?: AbortSignal): Promise<ProbeResult>;
}

export type DownloadKind = 'image' | 'video' | 'audio';

export interface DownloadOptions {
  /** Directory the file is written to. */
  dir: string;
  /** Kinds accepted; the bytes decide, not the vendor's Content-Type. */
  kinds: readonly DownloadKind[];
  signal?: AbortSignal;
}

/**
 * Downloads media a vendor returned by URL through the SSRF-safe fetcher (net/safe-fetch.ts):
 * public addresses, plus the host of the provider's configured base URL.
 */
export type Download = (url: string, options: DownloadOptions) => Promise<{ path: string; bytes: number; contentType: string }>;

export interface Credentials {
  apiKey: string;
  /** The vendor's API root (no trailing slash); the vendor's public one unless configured. */
  baseUrl: string;
  /** Whose key it is: the tenant's own, or the operator's from the environment. */
  source: 'tenant' | 'operator';
}

/** What an adapter is built with, per render. */
export interface ProviderContext {
  credentials: Credentials;
  /** The model this render uses (from the tier, or the operator's override). */
  model: string;
  media: ProviderMedia;
  download: Download;
  /** Operator settings the descriptor declared (`settings` below), already read from the environment. */
  settings: Readonly<Record<string, string | undefined>>;
}

/** A unit a vendor bills in, as its price list names it. */
export type BillingUnit =
  | 'inputTokens'
  | 'outputTokens'
  | 'characters'
  | 'secondsOfAudio'
  | 'secondsOfVideo'
  | 'images'
  | 'generations'
  | 'requests';

export type Usage = Partial<Record<BillingUnit, number>>;

export interface ProviderDescriptor<P> {
  /** Short name used in chains, briefs and cost reports: "elevenlabs", "openai", "runway". */
  name: string;
  stage: ProviderStage;
  /** Who runs it, for `aiprod providers` and docs: "ElevenLabs", "Google Cloud Text-to-Speech". */
  vendor: string;
  /** Environment variable of the operator's key; a tenant's key of `tenantKey` takes its place. */
  keyEnv: string;
  tenantKey: TenantKeyName;
  /** Environment variable of the base URL, and the vendor's own default. */
  baseUrlEnv?: string;
  defaultBaseUrl: string;
  /** The model per quality tier; a tier the provider has no entry for leaves it out of that tier's chain. */
  models: Partial<Record<QualityTier, string>>;
  /** Environment variable that pins one model for every tier (e.g. AIPROD_LLM_MODEL). */
  modelEnv?: string;
  /** Extra operator settings read from the environment (e.g. `REPLICATE_IMAGE_MODEL`). */
  settings?: readonly string[];
  /** Longest one call may take, retries excluded (a generated video can take minutes). */
  timeoutMs: number;
  /** False when a call starts a paid task and waits for it: a timed-out call is not retried (it would pay again), the chain moves on. */
  retryTimeouts?: boolean;
  /** What is sent to the vendor, for docs/providers.md and `aiprod providers`. */
  sends: string;
  create(context: ProviderContext): P;
  /** One cheap authenticated call for `aiprod doctor --live`: resolves, or throws a ProviderError. */
  probe(context: ProviderContext, signal: AbortSignal): Promise<string>;
}

/** Stable provider id used in cache keys and cost reports: `name:model`. */
export const providerId = (name: string, model: string): string => `${name}:${model}`;

/** Adds billed units into a running total. */
export function addUsage(total: Usage, more: Usage | undefined): void {
  for (const [unit, amount] of Object.entries(more ?? {}) as [BillingUnit, number][]) total[unit] = (total[unit] ?? 0) + amount;
}
