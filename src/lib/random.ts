/**
 * Seeded randomness. Every random choice in AIPROD (music notes, effect noise, layout variations)
 * comes from a generator built here from the brief's seed plus a label, so a render is repeatable
 * and two stages never share a stream by accident.
 */
import { createHash } from 'node:crypto';

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** Uniform in [-1, 1), for noise. */
  signed(): number;
}

/** A 32-bit seed from a base seed and labels, e.g. `deriveSeed(1, 'music', 'drums')`. */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  const digest = createHash('sha256').update([seed, ...labels].join('\u0000')).digest();
  return digest.readUInt32LE(0);
}

/** mulberry32: tiny, fast, and good enough for audio and layout choices. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick() from an empty list');
      return items[Math.floor(next() * items.length)] as T;
    },
    signed: () => next() * 2 - 1,
  };
}
