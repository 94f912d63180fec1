/**
 * Content hashes for cache keys: a stable JSON encoding (sorted keys) hashed with SHA-256, so the
 * same input and provider settings always give the same key, whatever the property order.
 */
import { createHash } from 'node:crypto';

export function stableStringify(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

/** Hex SHA-256 of the stable encoding of `parts`, shortened to 32 characters for file names. */
export function contentHash(...parts: unknown[]): string {
  return createHash('sha256').update(stableStringify(parts)).digest('hex').slice(0, 32);
}
