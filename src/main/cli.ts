/**
 * The `aiprod` command: render a brief in-process (no server, no database), list presets, and
 * check the machine with `doctor`. Errors print as `error [code]: message` with one line per bad
 * field, and exit non-zero.
 */
// Only what every start needs is imported here; each command imports its modules in its action
// (`await import(…)`), so `aiprod --version` and `--help` load commander and little else.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { Env } from '../config/env.js';
import { AppError, toAppError } from '../contract/errors.js';
import { registerAdminCommands } from './admin-cli.js';
import { registerHealingCommands } from './healing-cli.js';
import { registerUsageCommand } from './usage-cli.js';
import type { RenderFlags } from './render-cli.js';

// The configuration module loads zod (a tenth of a second or more): it is imported by a hook before
// any command's action runs (see buildProgram), never for --version or --help.
let envModule: typeof import('../config/env.js') | undefined;
function loadEnv(): Env {
  if (envModule === undefined) throw new Error('loadEnv() before the preAction hook loaded the configuration module');
  return envModule.loadEnv();
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function printError(error: unknown): void {
  const e = toAppError(error);
  process.stderr.write(`error [${e.code}]: ${e.message}\n`);
  for (const d of e.details) process.stderr.write(`  - ${d.path ? `${d.path}: ` : ''}${d.message}\n`);
  if (e.code === 'internal' && e.cause instanceof Error && e.cause.stack) process.stderr.write(`${e.cause.stack}\n`);
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('aiprod')
    .description('AIPROD: a brief in, a finished video out — narrated, scored, captioned, checked.')
    .version(pkg.version, '-v, --version')
    .showHelpAfterError()
    .hook('preAction', async () => {
      envModule ??= await import('../config/env.js');
    });

  program
    .command('render')
    .description('render a brief (JSON file) into a video and its companions, in-process')
    .argument('[brief]', 'path of the brief JSON file (see README: "The brief"); not with --template')
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--template <name>', 'render a design template (see `aiprod templates`) with its sample values')
    .option('--set <key=value>', 'with --template: a merge field\'s value (repeatable; a list field takes one item per line)', (value: string, all: string[] | undefined) => [...(all ?? []), value])
    .option('--cache-dir <dir>', 'cache of stage outputs (default: AIPROD_CACHE_DIR or .aiprod-cache)')
    .option('--storyboard <file>', 'render this (edited) storyboard.json instead of planning one')
    .option('--preview', 'a quick draft: 360p and the fastest encoder, same timing and layout')
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  aiprod render examples/launch.json --out out/launch\n  aiprod render --template product-launch --set product="Nimbus" --set cta="Order now" --out out/nimbus\n\nOutputs: video.mp4, thumbnail.jpg, captions.srt/.vtt, storyboard.json, qa.json, design.json, cost.json\n(and video.webm, audio.m4a, preview.gif when the brief asks for them).',
    )
    .action(async (brief: string | undefined, flags: RenderFlags) => {
      const { renderCommand } = await import('./render-cli.js');
      await renderCommand(brief, flags, loadEnv());
    });

  program
    .command('presets')
    .description('list the named option bundles a brief can use with "preset"')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { PRESETS } = await import('../contract/resolve.js');
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(Object.values(PRESETS), null, 2)}\n`);
        return;
      }
      for (const preset of Object.values(PRESETS)) {
        process.stdout.write(`${preset.name.padEnd(18)} ${preset.description}\n${' '.repeat(19)}${JSON.stringify(preset.options)}\n`);
      }
    });

  program
    .command('templates')
    .description('list the design templates a brief can use with "template" and "merge"')
    .option('--json', 'print as JSON (name, description, ratios, merge fields with types and samples)')
    .action(async (flags: { json?: boolean }) => {
      const { templateSummary, templates } = await import('../design/templates/registry.js');
      const summaries = templates().map(templateSummary);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(summaries, null, 2)}\n`);
        return;
      }
      for (const t of summaries) {
        const fields = t.fields.map((f) => `${f.name}${f.required ? '*' : ''}:${f.type}`).join(' ');
        process.stdout.write(`${t.name.padEnd(16)} ${t.ratios.join(' ').padEnd(20)} ${fields}\n`);
      }
      process.stdout.write('\n* required. Render one: aiprod render --template NAME [--set field=value …] --out DIR\n');
    });

  program
    .command('doctor')
    .description('show which ffmpeg/ffprobe, filters, fonts and voices this machine gives AIPROD')
    .option('--voices', 'list every voice')
    .option('--live', 'also make one cheap authenticated call to each cloud provider whose key is set')
    .action(async (flags: { voices?: boolean; live?: boolean }) => {
      const env = loadEnv();
      const [{ runDoctor }, { liveChecks }, { createProviderRegistry, lazyMediaTools }] = await Promise.all([import('./doctor.js'), import('./providers-cli.js'), import('./container.js')]);
      const report = await runDoctor(env, { allVoices: flags.voices === true });
      process.stdout.write(`${report.lines.join('\n')}\n`);
      if (flags.live) {
        const checks = await liveChecks(createProviderRegistry(env, lazyMediaTools(env)));
        if (checks.length === 0) process.stdout.write('! no cloud provider key is set: every stage runs offline\n');
        for (const c of checks) process.stdout.write(`${c.ok ? '✓' : '✗'} ${c.stage} ${c.provider}: ${c.detail}\n`);
        if (checks.some((c) => !c.ok)) report.ok = false;
      }
      if (!report.ok) process.exitCode = 1;
    });

  program
    .command('providers')
    .description('list each stage\'s provider chain: names, models, whether keys are set (never the keys), prices')
    .option('--quality <tier>', 'economy, standard or premium', 'standard')
    .option('--json', 'print as JSON')
    .action(async (flags: { quality: string; json?: boolean }) => {
      if (!['economy', 'standard', 'premium'].includes(flags.quality)) throw new AppError('invalid_request', `--quality: use economy, standard or premium, not "${flags.quality}"`);
      const { formatProviders, providersReport } = await import('./providers-cli.js');
      const report = providersReport(loadEnv(), flags.quality as 'economy' | 'standard' | 'premium');
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatProviders(report)}\n`);
    });

  program
    .command('serve')
    .description('run the HTTP API and (with --role all, the default) a render worker; data in AIPROD_DATA_DIR (./data)')
    .option('-p, --port <port>', 'port to listen on (default: PORT or 8080)')
    .option('--role <role>', 'all (API and worker) or api (API only; run workers with "aiprod worker")', 'all')
    .option('--no-migrate', 'do not apply database migrations at start')
    .option('--api-processes <n>', 'HTTP API processes on this machine, sharing the port (default: API_PROCESSES, or one per CPU with PostgreSQL, 1 with PGlite)')
    .addHelpText('after', '\nExamples:\n  aiprod serve\n  DATABASE_URL=postgres://localhost/aiprod aiprod serve --role api --api-processes 4')
    .action(async (flags: { port?: string; role: string; migrate: boolean; apiProcesses?: string }) => {
      if (flags.role !== 'all' && flags.role !== 'api') throw new AppError('invalid_request', `--role must be all or api, not ${flags.role}`);
      const apiProcesses = flags.apiProcesses === undefined ? undefined : Number(flags.apiProcesses);
      if (apiProcesses !== undefined && !(Number.isInteger(apiProcesses) && apiProcesses >= 1 && apiProcesses <= 64)) {
        throw new AppError('invalid_request', `--api-processes must be a whole number from 1 to 64, not ${flags.apiProcesses}`);
      }
      const env = loadEnv();
      const port = flags.port === undefined ? env.PORT : portFlag('--port', flags.port, 0);
      // Imported when a service starts: the HTTP server, the queue and storage cost every other command a second to load.
      const { runService } = await import('./serve.js');
      await runService({ env, role: flags.role, port, migrate: flags.migrate, version: pkg.version, apiProcesses });
    });

  program
    .command('worker')
    .description('run a render worker only (any number, on any machine sharing DATABASE_URL and storage)')
    .option('--no-migrate', 'do not apply database migrations at start')
    .option('--metrics-port <port>', 'serve Prometheus /metrics on this port (default: WORKER_METRICS_PORT; none when unset)')
    .addHelpText('after', '\nExamples:\n  DATABASE_URL=postgres://db/aiprod aiprod worker --metrics-port 9464')
    .action(async (flags: { migrate: boolean; metricsPort?: string }) => {
      const env = loadEnv();
      if (flags.metricsPort !== undefined) env.WORKER_METRICS_PORT = portFlag('--metrics-port', flags.metricsPort, 1);
      const { runService } = await import('./serve.js');
      await runService({ env, role: 'worker', port: 0, migrate: flags.migrate, version: pkg.version });
    });

  program
    .command('migrate')
    .description('apply the database migrations (DATABASE_URL, or the embedded database in AIPROD_DATA_DIR) and exit')
    .action(async () => {
      const env = loadEnv();
      const { join, resolve: resolvePath } = await import('node:path');
      const { openDatabase } = await import('../db/database.js');
      const database = await openDatabase({ url: env.DATABASE_URL, dataDir: join(resolvePath(env.AIPROD_DATA_DIR), 'pglite') });
      await database.migrate();
      await database.close();
      process.stdout.write(`migrations applied (${database.kind})\n`);
    });

  program
    .command('backup')
    .description('write a consistent backup (database, outputs manifest, local outputs, assets, the embedded master key) to one archive')
    .requiredOption('-o, --out <file>', 'archive to write (a tar; never replaces an existing file)')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nPostgreSQL (DATABASE_URL) is dumped while the service runs; stop the service first with the embedded database.\nSee docs/disaster-recovery.md.\n\nExample:\n  aiprod backup --out /backups/aiprod-$(date +%F).tar')
    .action(async (flags: { out: string; json?: boolean }) => {
      const env = loadEnv();
      const { createBackup, formatBackup } = await import('./backup.js');
      const summary = await createBackup(env, { out: flags.out, version: pkg.version, log: (line) => process.stderr.write(`${line}\n`) });
      process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatBackup(summary)}\n`);
    });

  program
    .command('restore')
    .description('restore a backup archive into an empty data directory (AIPROD_DATA_DIR) or empty database (DATABASE_URL)')
    .argument('<file>', 'archive written by `aiprod backup`')
    .option('--allow-missing-objects', 'restore even when objects the backup names are missing from S3 storage')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nEvery entry is checked against the archive\'s SHA-256 manifest before the target is touched.\nSee docs/disaster-recovery.md.\n\nExample:\n  AIPROD_DATA_DIR=/srv/aiprod-new aiprod restore /backups/aiprod-2026-01-31.tar')
    .action(async (file: string, flags: { allowMissingObjects?: boolean; json?: boolean }) => {
      const env = loadEnv();
      const { formatRestore, restoreBackup } = await import('./restore.js');
      const summary = await restoreBackup(env, { file, allowMissingObjects: flags.allowMissingObjects, log: (line) => process.stderr.write(`${line}\n`) });
      process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatRestore(summary, env)}\n`);
    });

  registerAdminCommands(program);
  registerHealingCommands(program);
  registerUsageCommand(program);

  program
    .command('openapi')
    .description('print the OpenAPI document of the HTTP API (or write it with --out; the repository keeps it in openapi.json)')
    .option('-o, --out <file>', 'write to this file instead of stdout')
    .action(async (flags: { out?: string }) => {
      const { writeFileSync } = await import('node:fs');
      const { generateOpenApi } = await import('./openapi.js');
      const document = await generateOpenApi(pkg.version);
      if (flags.out) writeFileSync(flags.out, document);
      else process.stdout.write(document);
    });

  return program;
}

/** A port number given to `flag`, from `min` (0: any free port) to 65535, or a 400-style error naming the flag. */
function portFlag(flag: string, value: string, min: 0 | 1): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < min || port > 65_535) throw new AppError('invalid_request', `${flag} must be a port number (${min}-65535), not ${value}`);
  return port;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    printError(error);
    process.exitCode = 1;
    // A cluster's child (serve --api-processes) stays alive while its IPC channel is open: end it.
    if (process.channel) process.exit(1);
  });
