/**
 * Operator commands on the service's database (DATABASE_URL, or the embedded one in
 * AIPROD_DATA_DIR): `aiprod keys create|list|rotate|revoke`, `aiprod tenants create|list|set-tier`
 * and `aiprod secrets rotate-master`. Every change is audited with actor `cli`. With the embedded
 * database, stop `aiprod serve` first (one process at a time may open it).
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Env } from '../config/env.js';
import { AppError } from '../contract/errors.js';
import type { Database } from '../db/database.js';
import type { AccessService, Actor } from '../services/access.service.js';
import { TIERS, type Tier } from '../services/tiers.js';

const CLI: Actor = { actor: 'cli' };

/**
 * Opens the database and the access service for one command. The database, security and service
 * modules (and the configuration's, which loads zod) are imported here, not at the top: every
 * `aiprod` command registers these subcommands, and loading them cost each start about a second
 * (render and templates never use them).
 */
async function withAccess<T>(run: (access: AccessService, env: Env, database: Database) => Promise<T>): Promise<T> {
  const [{ loadEnv }, { openDatabase }, { loadMasterKeys }, { SecretBox }, { AccessService }] = await Promise.all([
    import('../config/env.js'),
    import('../db/database.js'),
    import('../security/config.js'),
    import('../security/secrets.js'),
    import('../services/access.service.js'),
  ]);
  const env = loadEnv();
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: join(resolve(env.AIPROD_DATA_DIR), 'pglite') });
  try {
    await database.migrate();
    // Checks the configured master key against the database (and sets up secrets on a new one).
    const secrets = await SecretBox.open(database.db, loadMasterKeys(env, resolve(env.AIPROD_DATA_DIR)));
    return await run(new AccessService(database, { rotationGraceSec: env.KEY_ROTATION_GRACE_SEC, secrets }), env, database);
  } finally {
    await database.close();
  }
}

const print = (json: boolean, value: unknown, text: () => string): void => {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
};

function parseExpiry(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const days = /^(\d+)d$/.exec(text);
  const at = days ? new Date(Date.now() + Number(days[1]) * 86_400_000) : new Date(text);
  if (Number.isNaN(at.getTime())) throw new AppError('invalid_request', `--expires must be an ISO date or a number of days like 90d, not ${text}`);
  return at;
}

export function registerAdminCommands(program: Command): void {
  const keys = program.command('keys').description('manage API keys (shown once at creation; stored as hashes)');
  keys
    .command('create')
    .requiredOption('--tenant <id>', 'tenant the key belongs to')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--scopes <list>', 'comma-separated: productions:write, productions:read, webhooks, admin', 'productions:write,productions:read')
    .option('--expires <when>', 'ISO date, or days from now like 90d')
    .option('--json', 'print JSON')
    .action(async (flags: { tenant: string; name: string; scopes: string; expires?: string; json?: boolean }) => {
      const { parseScopes } = await import('../services/access.service.js');
      const created = await withAccess((access) => access.createKey(CLI, { tenantId: flags.tenant, name: flags.name, scopes: parseScopes(flags.scopes), expiresAt: parseExpiry(flags.expires) }));
      print(flags.json === true, created, () => `${created.key}\n\nKey ${created.apiKey.id} for tenant ${created.apiKey.tenantId} (${created.apiKey.scopes.join(', ')}). It is shown this once — store it now.`);
    });
  keys
    .command('list')
    .option('--tenant <id>', 'only this tenant')
    .option('--json', 'print JSON')
    .action(async (flags: { tenant?: string; json?: boolean }) => {
      const list = await withAccess((access) => access.listKeys(flags.tenant));
      print(flags.json === true, list, () =>
        list.map((k) => `${k.id}  ${k.tenantId.padEnd(16)} ${k.name.padEnd(24)} ${k.scopes.join(',').padEnd(40)} ${k.revokedAt ? `revoked ${k.revokedAt}` : k.expiresAt ? `expires ${k.expiresAt}` : 'active'}  last used ${k.lastUsedAt ?? 'never'}`).join('\n') || '(no keys)',
      );
    });
  keys
    .command('rotate <id>')
    .option('--grace <seconds>', 'seconds the old secret keeps working (default KEY_ROTATION_GRACE_SEC)')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: { grace?: string; json?: boolean }) => {
      const grace = flags.grace === undefined ? undefined : Number(flags.grace);
      if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) throw new AppError('invalid_request', `--grace must be a whole number of seconds, not ${flags.grace}`);
      const rotated = await withAccess((access) => access.rotateKey(CLI, id, undefined, grace));
      print(flags.json === true, rotated, () => `${rotated.key}\n\nNew secret for key ${id}; the old one works until ${rotated.apiKey.previousValidUntil ?? 'now (no grace)'}.`);
    });
  keys
    .command('revoke [id]')
    .option('--all', 'revoke every key of --tenant')
    .option('--tenant <id>', 'with --all: the tenant')
    .action(async (id: string | undefined, flags: { all?: boolean; tenant?: string }) => {
      if (flags.all) {
        if (!flags.tenant) throw new AppError('invalid_request', '--all needs --tenant <id>');
        const ids = await withAccess((access) => access.revokeAllKeys(CLI, flags.tenant as string));
        process.stdout.write(`revoked ${ids.length} key(s) of ${flags.tenant}\n`);
        return;
      }
      if (!id) throw new AppError('invalid_request', 'give a key id, or --all --tenant <id>');
      const revoked = await withAccess((access) => access.revokeKey(CLI, id, undefined));
      process.stdout.write(`revoked ${revoked.id} (${revoked.tenantId}) at ${revoked.revokedAt}\n`);
    });

  const tenants = program.command('tenants').description('manage tenants (tier, budget)');
  tenants
    .command('create')
    .requiredOption('--name <name>', 'display name')
    .option('--id <id>', 'stable id (2–63 lowercase letters, digits, -); generated when absent')
    .option('--tier <tier>', TIERS.join(' | '), 'free')
    .option('--budget <usd>', 'monthly budget in USD')
    .option('--thresholds <fractions>', 'budget fractions announced as budget.threshold events, e.g. 0.5,0.8,1 (default 0.8,1)')
    .option('--json', 'print JSON')
    .action(async (flags: { name: string; id?: string; tier: string; budget?: string; thresholds?: string; json?: boolean }) => {
      const tier = parseTier(flags.tier);
      const budget = flags.budget === undefined ? undefined : Number(flags.budget);
      if (budget !== undefined && !(budget >= 0)) throw new AppError('invalid_request', `--budget must be a number of USD, not ${flags.budget}`);
      const thresholds = flags.thresholds === undefined ? undefined : parseThresholds(flags.thresholds);
      const tenant = await withAccess((access) => access.createTenant(CLI, { id: flags.id, name: flags.name, tier, monthlyBudgetUsd: budget, ...(thresholds ? { budgetThresholds: thresholds } : {}) }));
      print(flags.json === true, tenant, () => `tenant ${tenant.id} (${tenant.tier}) created`);
    });
  tenants
    .command('list')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const list = await withAccess((access) => access.listTenants());
      print(flags.json === true, list, () => list.map((t) => `${t.id.padEnd(20)} ${t.tier.padEnd(11)} ${t.monthlyBudgetUsd === null ? 'no budget' : `$${t.monthlyBudgetUsd}/month (alerts at ${t.budgetThresholds.map((f) => `${Math.round(f * 100)} %`).join(', ')})`}  ${t.name}`).join('\n'));
    });
  tenants
    .command('set-budget <id> <usd>')
    .description("set a tenant's monthly budget in USD (none: no budget), and optionally its alert thresholds; other fields are left as they are")
    .option('--thresholds <fractions>', 'budget fractions announced as budget.threshold events, e.g. 0.5,0.8,1; "default" for 0.8,1')
    .option('--json', 'print JSON')
    .action(async (id: string, usdText: string, flags: { thresholds?: string; json?: boolean }) => {
      const budget = usdText === 'none' ? null : Number(usdText);
      if (budget !== null && !(budget >= 0)) throw new AppError('invalid_request', `the budget must be a number of USD or "none", not ${usdText}`);
      const thresholds = flags.thresholds === undefined ? undefined : flags.thresholds === 'default' ? null : parseThresholds(flags.thresholds);
      const tenant = await withAccess((access) => access.updateTenant(CLI, id, { monthlyBudgetUsd: budget, ...(thresholds !== undefined ? { budgetThresholds: thresholds } : {}) }));
      print(flags.json === true, tenant, () => `tenant ${tenant.id}: ${tenant.monthlyBudgetUsd === null ? 'no budget' : `$${tenant.monthlyBudgetUsd}/month`}, alerts at ${tenant.budgetThresholds.join(', ')}`);
    });
  tenants
    .command('set-tier <id> <tier>')
    .action(async (id: string, tierText: string) => {
      const tenant = await withAccess((access) => access.updateTenant(CLI, id, { tier: parseTier(tierText) }));
      process.stdout.write(`tenant ${tenant.id} is now ${tenant.tier}\n`);
    });

  program
    .command('secrets')
    .description('secrets at rest')
    .command('rotate-master')
    .description('re-wrap every data key from AIPROD_MASTER_KEY_PREVIOUS (the old key) to AIPROD_MASTER_KEY (the new one); safe while the service runs')
    .action(async () => {
      const [{ loadMasterKeys }, { parseMasterKey, rotateMasterKey }] = await Promise.all([import('../security/config.js'), import('../security/secrets.js')]);
      const moved = await withAccess(async (access, env, database) => {
        if (!env.AIPROD_MASTER_KEY_PREVIOUS) throw new AppError('invalid_request', 'set AIPROD_MASTER_KEY_PREVIOUS to the old master key and AIPROD_MASTER_KEY to the new one');
        const masters = loadMasterKeys(env, resolve(env.AIPROD_DATA_DIR));
        const count = await rotateMasterKey(database.db, parseMasterKey(env.AIPROD_MASTER_KEY_PREVIOUS, 'AIPROD_MASTER_KEY_PREVIOUS'), masters.current);
        await access.audit.record({ actor: 'cli', action: 'secrets.master_rotated', details: { dataKeys: count, to: masters.current.id } });
        return { count, to: masters.current.id };
      });
      process.stdout.write(`re-wrapped ${moved.count} data key(s) under master key ${moved.to}; AIPROD_MASTER_KEY_PREVIOUS can now be removed\n`);
    });
}

/**
 * `0.5,0.8,1` as budget thresholds, checked here with the API's rules (services/tenants.service.ts
 * budgetThresholdsSchema, which also sorts and deduplicates them) so the message names the flag;
 * the schema is not imported: it would load zod on every `aiprod` start.
 */
function parseThresholds(text: string): number[] {
  const list = text.split(',').map((t) => (t.trim() === '' ? Number.NaN : Number(t)));
  if (list.length > 10 || list.some((t) => !(t > 0 && t <= 10))) {
    throw new AppError('invalid_request', `--thresholds must be 1 to 10 comma-separated fractions of the budget above 0 and at most 10 (1 = the whole budget), e.g. 0.5,0.8,1; not ${text}`);
  }
  return list;
}

function parseTier(text: string): Tier {
  if (!(TIERS as readonly string[]).includes(text)) throw new AppError('invalid_request', `tier must be one of ${TIERS.join(', ')}, not ${text}`);
  return text as Tier;
}
