/**
 * The flags file (FLAGS_FILE): its zod schema, how it is read, and how one flag is evaluated for
 * one production. Kept apart from the OpenFeature provider so the rules are plain functions.
 *
 * {
 *   "flags": {
 *     "caption-style": {
 *       "variants": { "control": "line", "word": "word" },
 *       "targeting": [
 *         { "tiers": ["pro", "enterprise"], "rollout": { "control": 50, "word": 50 } }
 *       ]
 *     }
 *   }
 * }
 *
 * Rules are tried in order; the first whose tenants and tiers match and that picks a variant wins.
 * A rule picks either one `variant`, or a `rollout` (percent per variant): the production's bucket
 * (flag key + production id, hashed) falls in one variant's share, or past them all, and then the
 * next rule is tried. No rule: `defaultVariant`, or no variant at all (the production is not in
 * the experiment and the caller's default applies). See docs/experiments.md.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** A flag key as it appears in the file, in FLAG_<NAME> overrides and in GET /v1/experiments/{flag}. */
export const FLAG_KEY = /^[a-z][a-z0-9-]{0,62}$/;
const variantName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'a variant name is letters, digits, "_", "." or "-" (at most 63)');

const ruleSchema = z
  .strictObject({
    tenants: z.array(z.string().min(1).max(100)).min(1).optional().describe('Only these tenant ids.'),
    tiers: z.array(z.string().min(1).max(40)).min(1).optional().describe('Only tenants of these tiers.'),
    variant: variantName.optional().describe('Everyone the rule matches gets this variant.'),
    rollout: z
      .record(variantName, z.number().min(0).max(100))
      .optional()
      .describe('Percent of the matched productions per variant; the rest falls through to the next rule.'),
  })
  .refine((r) => (r.variant === undefined) !== (r.rollout === undefined), 'give exactly one of "variant" and "rollout"');

const flagSchema = z.strictObject({
  /** DISABLED: nobody is in the experiment (the flag is kept for its report). */
  state: z.enum(['ENABLED', 'DISABLED']).default('ENABLED'),
  description: z.string().max(500).optional(),
  variants: z.record(variantName, z.union([z.string(), z.number(), z.boolean()])).refine((v) => Object.keys(v).length > 0, 'give at least one variant'),
  defaultVariant: variantName.optional(),
  targeting: z.array(ruleSchema).max(100).default([]),
});

const fileSchema = z.strictObject({
  $schema: z.string().optional(),
  flags: z.record(z.string(), flagSchema),
});

export type Flag = z.infer<typeof flagSchema>;
export type Rule = z.infer<typeof ruleSchema>;
export type FlagValue = Flag['variants'][string];
export type Flags = Record<string, Flag>;

/** A flags file that cannot be used: the message names the file, the flag and the field. */
export class FlagsFileError extends Error {}

/** Parses a flags document; `source` names it in errors (the path, or the variable). */
export function parseFlags(raw: unknown, source: string): Flags {
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${where(issue.path)}: ${issue.message}`);
    throw new FlagsFileError(`${source}: ${problems.join('; ')}`);
  }
  const problems: string[] = [];
  for (const [key, flag] of Object.entries(parsed.data.flags)) {
    const at = `flags.${key}`;
    if (!FLAG_KEY.test(key)) problems.push(`${at}: a flag key is lower-case letters, digits and "-", starting with a letter`);
    const known = (name: string, path: string): void => {
      if (!(name in flag.variants)) problems.push(`${at}.${path}: "${name}" is not one of its variants (${Object.keys(flag.variants).join(', ')})`);
    };
    if (flag.defaultVariant !== undefined) known(flag.defaultVariant, 'defaultVariant');
    flag.targeting.forEach((rule, i) => {
      if (rule.variant !== undefined) known(rule.variant, `targeting.${i}.variant`);
      const shares = Object.entries(rule.rollout ?? {});
      for (const [name] of shares) known(name, `targeting.${i}.rollout.${name}`);
      const total = shares.reduce((s, [, pct]) => s + pct, 0);
      if (total > 100 + 1e-9) problems.push(`${at}.targeting.${i}.rollout: the shares add up to ${total} %; at most 100`);
    });
  }
  if (problems.length > 0) throw new FlagsFileError(`${source}: ${problems.join('; ')}`);
  return parsed.data.flags;
}

/** Reads and parses the flags file at `path`. */
export function readFlagsFile(path: string): Flags {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new FlagsFileError(`FLAGS_FILE ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); check the path`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new FlagsFileError(`FLAGS_FILE ${path}: not JSON (${(error as Error).message})`);
  }
  return parseFlags(raw, `FLAGS_FILE ${path}`);
}

const where = (path: PropertyKey[]): string => path.map(String).join('.') || '(root)';

/** The environment variable that forces a flag's variant: FLAG_ + the key upper-cased, "-" as "_". */
export const overrideVariable = (flagKey: string): string => `FLAG_${flagKey.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

/**
 * The production's bucket for a flag, 0 ≤ b < 10 000: the first 32 bits of SHA-256(flag key, id).
 * The flag key is in the hash so that two experiments split the same productions independently.
 */
export function bucket(flagKey: string, targetingKey: string): number {
  return createHash('sha256').update(`${flagKey}\u0000${targetingKey}`).digest().readUInt32BE(0) % 10_000;
}

export interface Subject {
  /** The production id (OpenFeature's targetingKey). */
  targetingKey?: string;
  tenantId?: string;
  tier?: string;
}

export type Reason = 'STATIC' | 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT' | 'DISABLED';

/** Which variant `subject` gets; no variant when nothing applies (the caller's default then). */
export function evaluate(flagKey: string, flag: Flag, subject: Subject): { variant?: string; reason: Reason } {
  if (flag.state === 'DISABLED') return { reason: 'DISABLED' };
  for (const rule of flag.targeting) {
    if (rule.tenants && !(subject.tenantId && rule.tenants.includes(subject.tenantId))) continue;
    if (rule.tiers && !(subject.tier && rule.tiers.includes(subject.tier))) continue;
    if (rule.variant !== undefined) return { variant: rule.variant, reason: 'TARGETING_MATCH' };
    // A split needs the production to hash; without one the rule cannot place it.
    if (!subject.targetingKey) continue;
    const b = bucket(flagKey, subject.targetingKey);
    let upTo = 0;
    for (const [name, pct] of Object.entries(rule.rollout ?? {})) {
      upTo += Math.round(pct * 100);
      if (b < upTo) return { variant: name, reason: 'SPLIT' };
    }
  }
  return flag.defaultVariant !== undefined ? { variant: flag.defaultVariant, reason: 'DEFAULT' } : { reason: 'DEFAULT' };
}
