/**
 * What each provider's work costs, in the units each vendor bills: tokens, characters, seconds of
 * audio or video, images, generations. Prices are USD per unit, keyed `name:model` (`name:*` for
 * any model of the provider): the vendors' list prices as of PRICES_DATE (revised by hand); an operator overrides
 * or adds entries with AIPROD_PRICES (JSON, same shape). Offline providers cost nothing.
 *
 * docs/providers.md lists every entry.
 */
import { z } from 'zod';
import { AppError } from '../contract/errors.js';
import type { BillingUnit, Usage } from './provider.js';

export const PRICES_DATE = '2026-12-01';

export type UnitPrices = Partial<Record<BillingUnit, number>>;
export type PriceTable = Readonly<Record<string, UnitPrices>>;

const perMillion = (usd: number): number => usd / 1_000_000;
const perThousand = (usd: number): number => usd / 1000;

export const DEFAULT_PRICES: PriceTable = {
  // Language models: per token, input and output.
  'openai:gpt-4o-mini': { inputTokens: perMillion(0.15), outputTokens: perMillion(0.6) },
  'openai:gpt-4o': { inputTokens: perMillion(2.5), outputTokens: perMillion(10) },
  'gemini:gemini-2.5-flash-lite': { inputTokens: perMillion(0.1), outputTokens: perMillion(0.4) },
  'gemini:gemini-2.5-flash': { inputTokens: perMillion(0.3), outputTokens: perMillion(2.5) },
  'gemini:gemini-2.5-pro': { inputTokens: perMillion(1.25), outputTokens: perMillion(10) },
  // Voices: per character of text.
  'elevenlabs:eleven_flash_v2_5': { characters: perThousand(0.05) },
  'elevenlabs:eleven_multilingual_v2': { characters: perThousand(0.1) },
  'google-tts:standard': { characters: perMillion(4) },
  'google-tts:wavenet': { characters: perMillion(4) },
  'google-tts:neural2': { characters: perMillion(16) },
  'openai-tts:tts-1': { characters: perMillion(15) },
  'openai-tts:tts-1-hd': { characters: perMillion(30) },
  // Music: per second of track, or per generation (a Suno task returns two tracks).
  'elevenlabs-music:music_v1': { secondsOfAudio: 0.8 / 60 },
  'suno:V4': { generations: 0.06 },
  'suno:V4_5': { generations: 0.06 },
  'suno:V5': { generations: 0.06 },
  // Sound effects: Freesound is free (Creative Commons media); ElevenLabs per second generated.
  'freesound:*': {},
  'elevenlabs-sfx:eleven_text_to_sound_v2': { secondsOfAudio: 0.2 / 60 },
  // Pictures: per image, per second of video.
  'runway:gen4_image': { images: 0.08 },
  'runway:gen4_turbo': { images: 0.08, secondsOfVideo: 0.05 },
  'veo:veo-3.0-fast-generate-001': { secondsOfVideo: 0.15 },
  'veo:veo-3.0-generate-001': { secondsOfVideo: 0.4 },
  'pexels:*': {},
  'replicate:black-forest-labs/flux-schnell': { images: 0.003 },
  'replicate:black-forest-labs/flux-1.1-pro': { images: 0.04 },
  'openai-images:gpt-image-1': { images: 0.063 },
  'openai-images:dall-e-3': { images: 0.08 },
  // Not providers: other services' list prices, which the original API's POST /cost-estimate
  // compares with (`competitors`). Per second of finished video: a plan's monthly price divided by
  // the minutes of video it includes, from each vendor's pricing page on the date given.
  // Synthesia Starter, billed monthly (2025): $29 a month for 10 minutes of video.
  'reference:synthesia': { secondsOfVideo: 29 / 10 / 60 },
  // Pictory Starter, billed annually (2025): $19 a month for 200 video minutes.
  'reference:pictory': { secondsOfVideo: 19 / 200 / 60 },
  // HeyGen Creator, billed monthly (2024): $29 a month for 15 credits, a credit being a minute of video.
  'reference:heygen': { secondsOfVideo: 29 / 15 / 60 },
};

const overrideSchema = z.record(z.string().regex(/^[a-z0-9-]+:.+$/, 'use "provider:model" or "provider:*"'), z.partialRecord(
  z.enum(['inputTokens', 'outputTokens', 'characters', 'secondsOfAudio', 'secondsOfVideo', 'images', 'generations', 'requests']),
  z.number().min(0).max(1000),
));

/** The default table with AIPROD_PRICES merged over it (a bad value fails at start, naming the entry). */
export function priceTable(overridesJson?: string): PriceTable {
  if (!overridesJson?.trim()) return DEFAULT_PRICES;
  let parsed: unknown;
  try {
    parsed = JSON.parse(overridesJson);
  } catch {
    throw new AppError('invalid_request', 'AIPROD_PRICES: not JSON; give {"provider:model": {"unit": usdPerUnit}}');
  }
  const result = overrideSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new AppError('invalid_request', `AIPROD_PRICES: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return { ...DEFAULT_PRICES, ...result.data };
}

/** The unit prices of a provider id (`name:model`), or of `name:*`; undefined when none is listed. */
export function pricesFor(table: PriceTable, providerId: string): UnitPrices | undefined {
  const name = providerId.split(':')[0] ?? providerId;
  return table[providerId] ?? table[`${name}:*`];
}

/** USD for a usage at a provider's prices; units without a price cost nothing. */
export function costOf(table: PriceTable, providerId: string, usage: Usage): number {
  const prices = pricesFor(table, providerId) ?? {};
  let usd = 0;
  for (const [unit, amount] of Object.entries(usage) as [BillingUnit, number][]) usd += (prices[unit] ?? 0) * amount;
  return Math.round(usd * 1e6) / 1e6;
}
