/**
 * Builds each stage's provider chain for one render, from the catalog (catalog.ts), the operator's
 * configuration and the tenant's own keys.
 *
 * - Order: `AIPROD_<STAGE>_PROVIDERS` when set (a comma list of names), else every catalog
 *   provider whose key is set, in catalog order. The offline provider always ends the chain.
 * - Keys: the tenant's own key for a vendor replaces the operator's for that tenant's renders;
 *   base URLs are the operator's alone (a tenant never points a worker at an address).
 * - Tier: a provider with no model for the render's quality tier is left out; the model is the
 *   tier's unless the operator pinned one (e.g. AIPROD_LLM_MODEL).
 * - Preference: a brief's `providers.<stage>` moves that provider to the front.
 * - Budget: when the tenant's remaining budget cannot pay for the tier, the render steps down a
 *   tier (and to offline only, at the bottom), and says so in its notes.
 */
import { createHash } from 'node:crypto';
import type { ProviderStageName, QualityTier } from '../contract/brief.js';
import type { ErrorDetail } from '../contract/errors.js';
import { ProviderChain, type ChainMember } from './chain.js';
import type { MusicComposer } from './music/music.port.js';
import { priceTable, type PriceTable } from './pricing.js';
import {
  PROVIDER_STAGES,
  type Credentials,
  type Download,
  type ProviderContext,
  type ProviderDescriptor,
  type ProviderMedia,
  type ProviderStage,
  type TenantKeyName,
} from './provider.js';
import { sharedGuard, type ProviderGuard, type ResilienceOptions } from './resilience.js';
import type { ScriptWriter } from './script/script.port.js';
import type { SoundEffectsLibrary } from './sfx/sfx.port.js';
import type { SpeechSynthesizer } from './tts/tts.port.js';
import type { VisualProvider } from './visuals/visual.port.js';

/** The port each stage's providers implement. */
export interface StagePorts {
  plan: ScriptWriter;
  narrate: SpeechSynthesizer;
  score: MusicComposer;
  foley: SoundEffectsLibrary;
  visualize: VisualProvider;
}

export type Catalog = { [S in ProviderStage]: readonly ProviderDescriptor<StagePorts[S]>[] };
export type OfflineProviders = { [S in ProviderStage]: StagePorts[S] };
export type RenderChains = { [S in ProviderStage]: ProviderChain<StagePorts[S]> };

export interface RenderProviders extends RenderChains {
  quality: QualityTier;
  prices: PriceTable;
  /** What the selection changed, for the production's notes (a budget step-down, a preference ignored). */
  notes: string[];
}

/** The environment variable naming each stage's chain. */
export const CHAIN_ENV: Record<ProviderStage, string> = {
  plan: 'AIPROD_PLAN_PROVIDERS',
  narrate: 'AIPROD_TTS_PROVIDERS',
  score: 'AIPROD_MUSIC_PROVIDERS',
  foley: 'AIPROD_SFX_PROVIDERS',
  visualize: 'AIPROD_VISUAL_PROVIDERS',
};

export const OFFLINE = 'offline';
const TIERS_DOWN: readonly QualityTier[] = ['premium', 'standard', 'economy'];

export interface RenderSelection {
  quality?: QualityTier;
  prefer?: Partial<Record<ProviderStageName, string>>;
  tenantKeys?: Partial<Record<TenantKeyName, string>>;
  /** What the tenant may still spend this month (USD); undefined means no budget. */
  budgetUsd?: number;
  /** The cost of a render on these providers (the pipeline's estimate); needed with `budgetUsd`. */
  estimateUsd?: (providers: RenderProviders) => number;
}

export interface RegistryOptions {
  catalog: Catalog;
  offline: OfflineProviders;
  /** The raw environment: keys, base URLs, chains, model pins, settings, AIPROD_PRICES. */
  env: Readonly<Record<string, string | undefined>>;
  media: ProviderMedia;
  /** A downloader for vendor media that also admits the given base URL's host. */
  download: (baseUrl: string) => Download;
  guard?: ProviderGuard;
  /** Overrides the policies' defaults (tests use short timeouts and breaker windows). */
  resilience?: Partial<ResilienceOptions>;
}

export interface ChainDescription {
  stage: ProviderStage;
  envVar: string;
  members: { name: string; vendor: string; model?: string; key: 'set' | 'tenant-only' | 'missing'; keyEnv?: string; baseUrl?: string }[];
}

export class ProviderRegistry {
  readonly prices: PriceTable;
  private readonly guard: ProviderGuard;

  constructor(private readonly options: RegistryOptions) {
    this.prices = priceTable(options.env.AIPROD_PRICES);
    this.guard = options.guard ?? sharedGuard;
  }

  /** The chains one render uses. */
  forRender(selection: RenderSelection = {}): RenderProviders {
    const asked = selection.quality ?? 'standard';
    const notes: string[] = [];
    let providers = this.build(asked, selection, notes);
    if (selection.budgetUsd !== undefined && selection.estimateUsd) {
      const tiers = TIERS_DOWN.slice(TIERS_DOWN.indexOf(asked));
      for (const tier of tiers) {
        providers = this.build(tier, selection, []);
        if (selection.estimateUsd(providers) <= selection.budgetUsd) break;
        providers = undefined as unknown as RenderProviders;
      }
      if (!providers) {
        providers = this.build(asked, { ...selection, tenantKeys: {} }, [], true);
        notes.push(`the tenant's remaining budget ($${selection.budgetUsd.toFixed(2)}) cannot pay for cloud providers: rendered offline`);
      } else if (providers.quality !== asked) {
        notes.push(`the tenant's remaining budget ($${selection.budgetUsd.toFixed(2)}) cannot pay for the ${asked} tier: rendered at ${providers.quality}`);
      }
    }
    return { ...providers, notes: [...notes, ...providers.notes] };
  }

  /** Problems with a brief's `providers` choice (unknown name, no key here), as 4xx details. */
  checkPreference(prefer: Partial<Record<ProviderStageName, string>> = {}, tenantKeys: Partial<Record<TenantKeyName, string>> = {}): ErrorDetail[] {
    const problems: ErrorDetail[] = [];
    for (const [stage, name] of Object.entries(prefer) as [ProviderStage, string][]) {
      if (name === OFFLINE) continue;
      const descriptor = this.options.catalog[stage].find((d) => d.name === name);
      const known = [...this.options.catalog[stage].map((d) => d.name), OFFLINE].join(', ');
      if (!descriptor) problems.push({ path: `providers.${stage}`, message: `"${name}" is not a ${stage} provider; use one of ${known}` });
      else if (!this.credentials(descriptor, tenantKeys)) {
        problems.push({ path: `providers.${stage}`, message: `"${name}" has no key on this server: set ${descriptor.keyEnv}, store the tenant's own "${descriptor.tenantKey}" key, or choose another provider` });
      } else if (!this.order(stage, tenantKeys, false).includes(name) && !tenantKeys[descriptor.tenantKey]?.trim()) {
        problems.push({ path: `providers.${stage}`, message: `"${name}" is not in this server's ${stage} chain (${CHAIN_ENV[stage]}); choose one of ${this.order(stage, tenantKeys, false).join(', ')}, or store the tenant's own "${descriptor.tenantKey}" key` });
      }
    }
    return problems;
  }

  /** Each stage's chain as configured for the operator (no tenant keys), for `aiprod providers`. */
  describe(quality: QualityTier = 'standard'): ChainDescription[] {
    return PROVIDER_STAGES.map((stage) => {
      const names = this.order(stage, {}, true);
      const members = names.map((name) => {
        if (name === OFFLINE) return { name, vendor: 'AIPROD (offline)', model: this.options.offline[stage].id, key: 'set' as const };
        const d = this.options.catalog[stage].find((x) => x.name === name) as ProviderDescriptor<unknown>;
        const env = this.options.env;
        return {
          name,
          vendor: d.vendor,
          model: this.model(d, quality),
          key: env[d.keyEnv]?.trim() ? ('set' as const) : ('tenant-only' as const),
          keyEnv: d.keyEnv,
          baseUrl: this.baseUrl(d),
        };
      });
      return { stage, envVar: CHAIN_ENV[stage], members };
    });
  }

  /** Every descriptor with a key set, for `aiprod doctor --live`. */
  configured(): { stage: ProviderStage; descriptor: ProviderDescriptor<unknown>; context: ProviderContext }[] {
    return PROVIDER_STAGES.flatMap((stage) =>
      (this.options.catalog[stage] as readonly ProviderDescriptor<unknown>[]).flatMap((descriptor) => {
        const credentials = this.credentials(descriptor, {});
        const model = this.model(descriptor, 'standard') ?? Object.values(descriptor.models)[0];
        return credentials && model ? [{ stage, descriptor, context: this.context(descriptor, credentials, model) }] : [];
      }),
    );
  }

  private build(quality: QualityTier, selection: RenderSelection, notes: string[], offlineOnly = false): RenderProviders {
    const chain = <S extends ProviderStage>(stage: S): ProviderChain<StagePorts[S]> => {
      const members: ChainMember<StagePorts[S]>[] = [];
      const names = offlineOnly ? [OFFLINE] : this.order(stage, selection.tenantKeys ?? {}, false, selection.prefer?.[stage], notes);
      for (const name of names) {
        if (name === OFFLINE) {
          members.push({ name, provider: this.options.offline[stage], offline: true });
          continue;
        }
        const descriptor = this.options.catalog[stage].find((d) => d.name === name) as ProviderDescriptor<StagePorts[S]>;
        const credentials = this.credentials(descriptor, selection.tenantKeys ?? {});
        const model = this.model(descriptor, quality);
        if (credentials && !model && name === selection.prefer?.[stage]) notes.push(`providers.${stage}: "${name}" has no model at the ${quality} tier; the tier's chain was used`);
        if (!credentials || !model) continue;
        members.push({
          name,
          provider: descriptor.create(this.context(descriptor, credentials, model)),
          offline: false,
          credentials,
          resilience: { timeoutMs: descriptor.timeoutMs, retryTimeouts: descriptor.retryTimeouts, ...this.options.resilience },
          scope: `${credentials.source === 'tenant' ? `tenant-${createHash('sha256').update(credentials.apiKey).digest('hex').slice(0, 16)}` : 'operator'}@${credentials.baseUrl}`,
        });
      }
      return new ProviderChain(stage, members, this.guard);
    };
    return {
      quality,
      prices: this.prices,
      notes,
      plan: chain('plan'),
      narrate: chain('narrate'),
      score: chain('score'),
      foley: chain('foley'),
      visualize: chain('visualize'),
    };
  }

  /** Names in chain order, offline last; unknown names in the operator's list are dropped with a note. */
  private order(stage: ProviderStage, tenantKeys: Partial<Record<TenantKeyName, string>>, all: boolean, prefer?: string, notes: string[] = []): string[] {
    const catalog = this.options.catalog[stage] as readonly ProviderDescriptor<unknown>[];
    const listed = this.options.env[CHAIN_ENV[stage]]?.split(',').map((s) => s.trim()).filter(Boolean);
    let names = listed ?? catalog.filter((d) => all || this.credentials(d, tenantKeys)).map((d) => d.name);
    if (listed && !all) names = names.filter((n) => n === OFFLINE || catalog.some((d) => d.name === n && this.credentials(d, tenantKeys)));
    if (prefer && prefer !== OFFLINE) {
      // Only a provider the operator's chain already has, or one the tenant brings its own key for:
      // a brief never brings in a provider the operator left out of AIPROD_<STAGE>_PROVIDERS.
      const usable = names.includes(prefer) || catalog.some((d) => d.name === prefer && Boolean(tenantKeys[d.tenantKey]?.trim()));
      if (usable) names = [prefer, ...names.filter((n) => n !== prefer)];
      else notes.push(`providers.${stage}: "${prefer}" is not available on this server; the configured chain was used`);
    } else if (prefer === OFFLINE) names = [OFFLINE];
    names = names.filter((n, i) => names.indexOf(n) === i && n !== OFFLINE);
    return [...names, OFFLINE];
  }

  private credentials(descriptor: ProviderDescriptor<unknown>, tenantKeys: Partial<Record<TenantKeyName, string>>): Credentials | undefined {
    const own = tenantKeys[descriptor.tenantKey]?.trim();
    const operator = this.options.env[descriptor.keyEnv]?.trim();
    const apiKey = own || operator;
    if (!apiKey) return undefined;
    return { apiKey, baseUrl: this.baseUrl(descriptor), source: own ? 'tenant' : 'operator' };
  }

  private baseUrl(descriptor: ProviderDescriptor<unknown>): string {
    const configured = descriptor.baseUrlEnv ? this.options.env[descriptor.baseUrlEnv]?.trim() : undefined;
    return (configured || descriptor.defaultBaseUrl).replace(/\/+$/, '');
  }

  private model(descriptor: ProviderDescriptor<unknown>, quality: QualityTier): string | undefined {
    const tierModel = descriptor.models[quality];
    if (!tierModel) return undefined;
    const pinned = descriptor.modelEnv ? this.options.env[descriptor.modelEnv]?.trim() : undefined;
    return pinned || tierModel;
  }

  private context(descriptor: ProviderDescriptor<unknown>, credentials: Credentials, model: string): ProviderContext {
    const settings = Object.fromEntries((descriptor.settings ?? []).map((name) => [name, this.options.env[name]?.trim() || undefined]));
    return { credentials, model, media: this.options.media, download: this.options.download(credentials.baseUrl), settings };
  }
}
