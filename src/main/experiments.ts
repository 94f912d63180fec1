/**
 * Wires A/B experiments: the OpenFeature provider (the flags file, FLAGS_FILE, with FLAG_*
 * overrides), a client for it, and the service that assigns variants and reports on them.
 *
 * This is the one place that names the provider. To use flagd or a vendor instead, set that
 * provider here (e.g. `new FlagdProvider()` from @openfeature/flagd-provider): the service and
 * everything else only use the OpenFeature client, and flags with the same keys and variants
 * (docs/experiments.md) behave the same.
 */
import { randomUUID } from 'node:crypto';
import { NOOP_PROVIDER, OpenFeature } from '@openfeature/server-sdk';
import { flagOverrides, type Env } from '../config/env.js';
import type { AppDb } from '../db/database.js';
import { CHOICES } from '../experiments/choices.js';
import { ExperimentsService } from '../experiments/experiments.service.js';
import { FlagsFileProvider } from '../experiments/flags-file.provider.js';

type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export interface Experiments {
  service: ExperimentsService;
  /** Stops watching the flags file. */
  close(): Promise<void>;
}

/**
 * Reads the flags now: a bad file or FLAG_* variable stops the start with the flag and field named.
 * `overrides`: the FLAG_* variables (default: the process's).
 */
export async function createExperiments(env: Pick<Env, 'FLAGS_FILE'>, db: AppDb, log: Log, overrides: Record<string, string> = flagOverrides()): Promise<Experiments> {
  const provider = new FlagsFileProvider({
    ...(env.FLAGS_FILE ? { path: env.FLAGS_FILE } : {}),
    overrides,
    values: Object.fromEntries(CHOICES.map((c) => [c.key, c.values])),
    log,
  });
  // A domain of its own: several services in one process (tests) keep their own flags.
  const domain = `aiprod-${randomUUID()}`;
  await OpenFeature.setProviderAndWait(domain, provider);
  const service = new ExperimentsService({ db, flags: OpenFeature.getClient(domain), log });
  return {
    service,
    close: async () => {
      // The domain falls back to no flags; the provider stops watching the file (the SDK closes a
      // replaced provider too, but only in the background).
      await OpenFeature.setProviderAndWait(domain, NOOP_PROVIDER);
      await provider.onClose();
    },
  };
}
