/**
 * `aiprod providers`: each stage's chain as this configuration builds it (names, vendors, models,
 * whether a key is set — never the key — and prices with their date); and the live check behind
 * `aiprod doctor --live`: one cheap authenticated call per provider whose key is set.
 */
import type { Env } from '../config/env.js';
import type { QualityTier } from '../contract/brief.js';
import { toAppError } from '../contract/errors.js';
import { PRICES_DATE, pricesFor } from '../providers/pricing.js';
import { providerId } from '../providers/provider.js';
import type { ChainDescription, ProviderRegistry } from '../providers/registry.js';
import { createProviderRegistry, lazyMediaTools } from './container.js';

export interface ProvidersReport {
  quality: QualityTier;
  pricesDate: string;
  stages: (Omit<ChainDescription, 'members'> & { members: (ChainDescription['members'][number] & { prices?: Record<string, number> })[] })[];
}

export function providersReport(env: Env, quality: QualityTier = 'standard', registry = createProviderRegistry(env, lazyMediaTools(env))): ProvidersReport {
  const stages = registry.describe(quality).map((stage) => ({
    ...stage,
    members: stage.members.map((m) => {
      const prices = m.name === 'offline' || !m.model ? undefined : pricesFor(registry.prices, providerId(m.name, m.model));
      return { ...m, ...(prices ? { prices: prices as Record<string, number> } : {}) };
    }),
  }));
  return { quality, pricesDate: PRICES_DATE, stages };
}

export function formatProviders(report: ProvidersReport): string {
  const lines = [`Provider chains at the ${report.quality} tier (prices in USD per unit, as of ${report.pricesDate}; AIPROD_PRICES overrides):`];
  for (const stage of report.stages) {
    lines.push('', `${stage.stage}  (${stage.envVar})`);
    for (const [i, m] of stage.members.entries()) {
      const key = m.name === 'offline' ? 'no key needed' : m.key === 'set' ? `${m.keyEnv} set` : `${m.keyEnv} not set (tenants' own keys only)`;
      const prices = m.prices && Object.keys(m.prices).length > 0 ? Object.entries(m.prices).map(([unit, usd]) => `${usd} per ${unit}`).join(', ') : m.name === 'offline' ? 'free' : 'free or unpriced';
      lines.push(`  ${i + 1}. ${m.name.padEnd(16)} ${(m.model ?? '').padEnd(30)} ${m.vendor}`);
      lines.push(`     ${key}; ${prices}${m.baseUrl ? `; ${m.baseUrl}` : ''}`);
    }
  }
  return lines.join('\n');
}

export interface LiveCheck {
  stage: string;
  provider: string;
  ok: boolean;
  detail: string;
}

/** One cheap authenticated call per provider with a key (a model list, an account read, a one-result search). */
export async function liveChecks(registry: ProviderRegistry, timeoutMs = 15_000): Promise<LiveCheck[]> {
  const seen = new Set<string>();
  const checks: LiveCheck[] = [];
  for (const { stage, descriptor, context } of registry.configured()) {
    const key = `${descriptor.name}|${context.credentials.baseUrl}`;
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      const detail = await descriptor.probe(context, AbortSignal.timeout(timeoutMs));
      checks.push({ stage, provider: descriptor.name, ok: true, detail });
    } catch (error) {
      const e = toAppError(error);
      checks.push({ stage, provider: descriptor.name, ok: false, detail: `${e.code}: ${e.message}` });
    }
  }
  return checks;
}
