/**
 * An OpenFeature server provider reading AIPROD's flags file (flags-file.ts), with environment
 * overrides (FLAG_<NAME>=<variant> forces a variant for everyone). The file is polled for changes
 * (once a second, by its mtime and size: a file replaced by rename, a ConfigMap's symlink swap and
 * an edit in place are all seen) and swapped in whole when it parses; a bad edit keeps the flags
 * in force, is logged and emitted as a provider error, so a typo never turns an experiment off.
 *
 * Only main/ knows this class: callers use the OpenFeature client, so an operator can point the
 * service at flagd or a vendor's provider without touching them.
 */
import { stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { evaluate, FLAG_KEY, FlagsFileError, overrideVariable, parseFlags, readFlagsFile, type Flag, type Flags } from './flags-file.js';

export interface FlagsFileProviderOptions {
  /** The flags file (FLAGS_FILE); none: only the overrides. */
  path?: string;
  /** FLAG_* variables (config/env.ts flagOverrides): a variable → the variant it forces. */
  overrides?: Record<string, string>;
  /**
   * The values a flag's variants may have, by flag key (choices.ts): a file or override that gives
   * another is refused, naming the flag, the variant and what it may be.
   */
  values?: Record<string, readonly string[] | RegExp>;
  /** How often the file's mtime is looked at (ms); 0 never (tests call reload()). */
  pollMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export class FlagsFileProvider implements Provider {
  readonly metadata = { name: 'aiprod-flags-file' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  private flags: Flags = {};
  /** Flag key → the variant its FLAG_* variable forces. */
  private forced = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  /** mtime, size and inode of the file as last read (or tried): a change of any of them is a new version. */
  private version = '';

  /** Reads the file and checks the overrides now: a bad one throws (FlagsFileError), naming flag and field. */
  constructor(private readonly options: FlagsFileProviderOptions = {}) {
    this.load();
  }

  /**
   * Starts polling the file (OpenFeature calls it when the provider is set). Compared with the
   * version last read rather than the previous poll, so a write between the read and the first
   * poll is not missed; the timer does not keep the process alive.
   */
  async initialize(_context?: EvaluationContext): Promise<void> {
    const { path, pollMs = 1000 } = this.options;
    if (!path || pollMs <= 0 || this.timer) return;
    let polling = false;
    this.timer = setInterval(() => {
      if (polling) return;
      polling = true;
      // reload() logs its own failures: nothing here rejects.
      void stat(path)
        .then((s) => versionOf(s), () => 'missing')
        .then((now) => {
          if (now !== this.version) this.reload();
        })
        .finally(() => {
          polling = false;
        });
    }, pollMs);
    this.timer.unref();
  }

  async onClose(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the file again; true when the new flags are in force. */
  reload(): boolean {
    const previous = this.flags;
    try {
      this.load();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.options.log?.('error', 'flags file not reloaded; the flags in force are kept', { message });
      this.events.emit(ProviderEvents.Error, { message });
      return false;
    }
    const changed = [...new Set([...Object.keys(previous), ...Object.keys(this.flags)])].filter((k) => JSON.stringify(previous[k]) !== JSON.stringify(this.flags[k]));
    this.options.log?.('info', 'flags file reloaded', { flags: Object.keys(this.flags).length, changed });
    this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: changed });
    return true;
  }

  private load(): void {
    // Taken before the read: a write during it is a newer version, read at the next poll.
    if (this.options.path) this.version = currentVersion(this.options.path);
    const flags = this.options.path ? readFlagsFile(this.options.path) : {};
    const forced = new Map<string, string>();
    const fromEnv = new Set<string>();
    for (const [variable, value] of Object.entries(this.options.overrides ?? {})) {
      const variant = value.trim();
      const key = Object.keys(flags).find((k) => overrideVariable(k) === variable) ?? variable.slice('FLAG_'.length).toLowerCase().replace(/_/g, '-');
      const flag = flags[key];
      if (flag) {
        if (!(variant in flag.variants)) throw new FlagsFileError(`${variable}: "${variant}" is not a variant of flag ${key} (${Object.keys(flag.variants).join(', ')})`);
      } else {
        if (!FLAG_KEY.test(key)) throw new FlagsFileError(`${variable}: not a flag name; use FLAG_ and the flag key upper-cased with "-" as "_", e.g. FLAG_CAPTION_STYLE`);
        // A flag only the environment names: the variant is its own value (FLAG_X264_PRESET=ultrafast).
        fromEnv.add(key);
        flags[key] = parseFlags({ flags: { [key]: { variants: { [variant]: variant } } } }, variable)[key] as Flag;
      }
      forced.set(key, variant);
    }
    this.check(flags, fromEnv);
    this.flags = flags;
    this.forced = forced;
  }

  /** Every variant of a flag AIPROD acts on has a value that flag can take. */
  private check(flags: Flags, fromEnv: Set<string>): void {
    const problems: string[] = [];
    for (const [key, allowed] of Object.entries(this.options.values ?? {})) {
      const flag = flags[key];
      if (!flag) continue;
      for (const [name, value] of Object.entries(flag.variants)) {
        const ok = typeof value === 'string' && (allowed instanceof RegExp ? allowed.test(value) : allowed.includes(value));
        if (!ok) {
          const where = fromEnv.has(key) ? overrideVariable(key) : `FLAGS_FILE ${this.options.path}: flags.${key}.variants.${name}`;
          problems.push(`${where}: ${JSON.stringify(value)} is not a value flag ${key} can take; use ${allowed instanceof RegExp ? `a name matching ${allowed}` : `one of ${allowed.join(', ')}`}`);
        }
      }
    }
    if (problems.length > 0) throw new FlagsFileError(problems.join('; '));
  }

  private resolve<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext, type: 'string' | 'number' | 'boolean' | 'object'): ResolutionDetails<T> {
    const flag = this.flags[flagKey];
    if (!flag) return { value: defaultValue, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND, errorMessage: `no flag ${flagKey} in the flags file` };
    const forced = this.forced.get(flagKey);
    const { variant, reason } = forced !== undefined
      ? { variant: forced, reason: 'STATIC' as const }
      : evaluate(flagKey, flag, {
          ...(typeof context.targetingKey === 'string' ? { targetingKey: context.targetingKey } : {}),
          ...(typeof context.tenantId === 'string' ? { tenantId: context.tenantId } : {}),
          ...(typeof context.tier === 'string' ? { tier: context.tier } : {}),
        });
    if (variant === undefined) return { value: defaultValue, reason };
    const value = flag.variants[variant];
    if (typeof value !== type) {
      return { value: defaultValue, reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH, errorMessage: `flag ${flagKey}: variant ${variant} is a ${typeof value}, asked for a ${type}` };
    }
    return { value: value as T, variant, reason };
  }

  async resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return this.resolve(flagKey, defaultValue, context, 'string');
  }

  async resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return this.resolve(flagKey, defaultValue, context, 'number');
  }

  async resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return this.resolve(flagKey, defaultValue, context, 'boolean');
  }

  async resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): Promise<ResolutionDetails<T>> {
    // Variants are strings, numbers and booleans: an object flag is always the caller's default.
    return { value: defaultValue, reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH, errorMessage: `flag ${flagKey}: the flags file has no object variants` };
  }
}

const versionOf = (s: { mtimeMs: number; size: number; ino: number }): string => `${s.mtimeMs}:${s.size}:${s.ino}`;

function currentVersion(path: string): string {
  try {
    return versionOf(statSync(path));
  } catch {
    return 'missing';
  }
}
