/**
 * Wires the service: database (PGlite or PostgreSQL), migrations, queue, storage, the API and/or
 * the render worker. `aiprod serve` runs both in one process; `--role api` and `aiprod worker`
 * split them across processes and machines sharing PostgreSQL and storage.
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Env } from '../config/env.js';
import { openDatabase, type Database } from '../db/database.js';
import { buildApp } from '../http/app.js';
import { DiskSpaceGuard } from '../lib/disk-space.js';
import { EventHub } from '../http/events.js';
import { Readiness } from '../http/readiness.js';
import { ActiveRenders, handleRender } from '../jobs/render.handler.js';
import { PgBossQueue } from '../queue/queue.js';
import { childGuard, killAllChildren } from '../media/ffmpeg.js';
import { expireLocal, expireStored } from '../jobs/retention.js';
import { handleExport } from '../jobs/export.handler.js';
import { ExportsService } from '../services/exports.service.js';
import { sweepStallsLogged } from '../jobs/sweeper.js';
import { heal, healCron } from '../jobs/self-healing.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { registerDatabaseMetrics } from '../services/database-metrics.js';
import { WorkerPresence } from '../jobs/worker-presence.js';
import type { MediaTools } from '../pipeline/context.js';
import { RENDER_PRICE_ID } from '../pipeline/estimate.js';
import { CANCEL_CHANNEL } from '../db/channels.js';
import { ProductionsService } from '../services/productions.service.js';
import { QuotaService } from '../services/quotas.service.js';
import { BudgetAlerts, createBudgetMetrics, withBudgetAlerts } from '../services/budgets.service.js';
import { UsageService } from '../services/usage.service.js';
import { createJwtAuth, loadMasterKeys } from '../security/config.js';
import { failedAuthLimiter, MemoryRateLimitStore, rateLimitRules, type RateLimitStore } from '../security/rate-limit.js';
import { RedisRateLimitStore } from '../security/rate-limit.redis.js';
import { OutputLinks } from '../security/output-links.js';
import { SecretBox } from '../security/secrets.js';
import { AccessService } from '../services/access.service.js';
import { FailedAuthWatch } from '../services/audit.service.js';
import { ALL_SCOPES, countApiKeys, createApiKey } from '../services/keys.service.js';
import { DEFAULT_TENANT, ensureDefaultTenant } from '../services/tenants.service.js';
import { createStorage } from '../storage/create.js';
import type { Storage } from '../storage/storage.port.js';
import { createWebhooks, type Webhooks } from './webhooks.js';
import { sharedGuard } from '../providers/resilience.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Voice } from '../providers/tts/tts.port.js';

/** The voices of every speech provider in the operator's narrate chain, offline ones last (cloud voice ids carry their provider). */
async function allVoices(registry: ProviderRegistry): Promise<(Voice & { provider?: string })[]> {
  const members = registry.forRender().narrate.members;
  const lists = await Promise.all(members.map(async (m) => (await m.provider.voices()).map((v) => (m.offline ? v : { ...v, provider: m.name }))));
  return lists.flat();
}
import { createWebhookMetrics } from '../webhooks/metrics.js';
import { createExperiments } from './experiments.js';
import { createPipelineDeps, createProviderRegistry, createProviders, lazyMediaTools, mediaFetchConfig } from './container.js';

export type Role = 'all' | 'api' | 'worker';

/**
 * What a service needs in its database before it serves: the migrations (unless `migrate` is false),
 * the operator tenant, and on an empty database an admin key (returned when it was made here, to be
 * shown once). A cluster's primary does this once, before it starts the API processes.
 */
export async function prepareDatabase(database: Database, env: Env, options: { migrate: boolean }): Promise<{ createdAdminKey?: string }> {
  if (options.migrate) await database.migrate();
  await ensureDefaultTenant(database.db);
  if ((await countApiKeys(database.db)) > 0) return {};
  const created = await createApiKey(database.db, { tenantId: DEFAULT_TENANT, name: 'admin (first start)', scopes: [...ALL_SCOPES], given: env.ADMIN_API_KEY, createdBy: 'system' });
  return env.ADMIN_API_KEY ? {} : { createdAdminKey: created.key }; // the operator chose it: never print it
}

export interface ServiceOptions {
  env: Env;
  role: Role;
  version: string;
  /** pg-boss schema (tests isolate themselves with their own). */
  queueSchema?: string;
  /** Skip applying migrations at start. */
  noMigrate?: boolean;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** The API's rate-limit store; default: Redis with REDIS_URL, else in this process's memory. */
  rateLimitStore?: RateLimitStore;
  /** Register the database-derived metrics on this process's registry (default true; one process of a cluster does). */
  databaseMetrics?: boolean;
  /** How /metrics renders (default: this process's registry; a cluster's API processes ask the primary for all of them). */
  exposeMetrics?: () => Promise<string>;
}

export interface Service {
  database: Database;
  secrets: SecretBox;
  access: AccessService;
  webhooks: Webhooks;
  queue: PgBossQueue;
  storage: Storage;
  metrics: Metrics;
  productions: ProductionsService;
  /** Budget thresholds and the operator-wide budget (services/budgets.service.ts). */
  budgets: BudgetAlerts;
  app?: FastifyInstance;
  /** The admin key made on first start with an empty database (shown once). */
  createdAdminKey?: string;
  /** Stops taking work, waits up to the grace period for running renders, then hands them back. */
  stop(): Promise<void>;
}

const noLog: NonNullable<ServiceOptions['log']> = () => undefined;

export async function startService(options: ServiceOptions): Promise<Service> {
  const { env, role } = options;
  const log = options.log ?? noLog;
  const dataDir = resolve(env.AIPROD_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: join(dataDir, 'pglite'), poolSize: env.DATABASE_POOL_SIZE, log });
  const { createdAdminKey } = await prepareDatabase(database, env, { migrate: !options.noMigrate });
  const masters = loadMasterKeys(env, dataDir);
  if (masters.createdFile) log('warn', 'made a master key for secrets at rest; back it up with the data directory', { file: masters.createdFile });
  const secrets = await SecretBox.open(database.db, masters);
  const access = new AccessService(database, { rotationGraceSec: env.KEY_ROTATION_GRACE_SEC, secrets });
  const queue = await PgBossQueue.start(database, { schema: options.queueSchema, retryLimit: env.RENDER_ATTEMPTS - 1, pollingIntervalSec: 0.5,
    onError: (error) => log('error', 'queue error', { message: error.message }),
  });
  const storage = createStorage(env);
  const metrics = createMetrics({
    version: options.version, role,
    diskDirs: [{ dir: 'data', path: dataDir }, { dir: 'cache', path: resolve(env.AIPROD_CACHE_DIR) }],
  });
  if (options.exposeMetrics) metrics.expose = options.exposeMetrics;
  if (options.databaseMetrics !== false) registerDatabaseMetrics(metrics.registry, {
    database, queue, stallTimeoutSec: env.STALL_TIMEOUT_SEC, ttlMs: env.METRICS_DB_TTL_SEC * 1000,
    onError: (error) => log('warn', 'metrics: the database read failed; database metrics left out of this scrape', { message: error instanceof Error ? error.message : String(error) }),
  });
  const mediaFetch = mediaFetchConfig(env);
  const webhooks = createWebhooks({
    database, queue, secrets, audit: access.audit, metrics: createWebhookMetrics(metrics.registry), log,
    options: {
      retryScheduleSec: env.WEBHOOK_RETRY_SCHEDULE_SEC, timeoutMs: env.WEBHOOK_TIMEOUT_MS, disableAfterFailures: env.WEBHOOK_DISABLE_AFTER_FAILURES,
      allowHosts: env.WEBHOOK_ALLOW_HOSTS, allowCidrs: env.WEBHOOK_ALLOW_CIDRS,
    },
  });
  // Budget thresholds (tenants' and the operator-wide budget), announced once each a month; the
  // production events that settle spend (succeeded, failed, canceled) evaluate them too.
  const budgets = new BudgetAlerts({
    db: database.db, events: webhooks.emitter, metrics: createBudgetMetrics(metrics.registry, env.OPERATOR_MONTHLY_BUDGET_USD), log,
    operator: { monthlyBudgetUsd: env.OPERATOR_MONTHLY_BUDGET_USD, thresholds: env.OPERATOR_BUDGET_THRESHOLDS, refreshMs: env.OPERATOR_BUDGET_REFRESH_SEC * 1000 },
  });
  const productionEvents = withBudgetAlerts(webhooks.emitter, budgets);
  const offline = createProviders();
  // Load the voice list now: every create validates its language against it.
  await offline.tts.voices();
  const providers = createProviderRegistry(env, lazyMediaTools(env), offline);
  const assetsDir = join(dataDir, 'assets');
  mkdirSync(assetsDir, { recursive: true });
  const disk = new DiskSpaceGuard([{ name: 'AIPROD_DATA_DIR', path: dataDir }, { name: 'AIPROD_CACHE_DIR', path: resolve(env.AIPROD_CACHE_DIR) }], env.DISK_MIN_FREE_BYTES);
  // Local outputs download through signed links as S3 ones do (a key still works too).
  const outputLinks = new OutputLinks(secrets.deriveKey('output-links'), env.SIGNED_URL_TTL_SEC);
  // A/B experiments: a bad flags file stops the start here, naming the flag and field.
  const experiments = await createExperiments(env, database.db, log);
  const productions = new ProductionsService({
    experiments: experiments.service,
    database, queue, storage, providers, assetsDir, signedUrlTtlSec: env.SIGNED_URL_TTL_SEC, disk, outputLinks,
    providerKeys: (tenantId) => access.providerKeys(tenantId),
    prices: { [RENDER_PRICE_ID]: env.PRICE_PER_VIDEO_MINUTE_USD },
    tierPrices: env.TIER_PRICES_PER_MINUTE_USD,
    webhookAllow: webhooks.config.allow,
    mediaFetch,
    events: productionEvents,
  });
  const quotas = new QuotaService(database.db, productions, undefined, { alerts: budgets });
  const usage = new UsageService(database);
  const exportsService = new ExportsService({
    database, queue, storage, productions, outputLinks, signedUrlTtlSec: env.SIGNED_URL_TTL_SEC,
    retentionDays: env.EXPORT_RETENTION_DAYS, inlineMaxRows: env.EXPORT_INLINE_ROWS, audit: access.audit,
  });
  const events = new EventHub();
  const stops: (() => Promise<void>)[] = [];
  stops.push(() => experiments.close());

  let app: FastifyInstance | undefined;
  let media: MediaTools | undefined;
  if (role !== 'api') {
    const pipeline = await createPipelineDeps(env);
    media = pipeline.media;
    const concurrency = env.WORKER_CONCURRENCY ?? Math.max(1, Math.floor(availableParallelism() / 2));
    const shutdown = new AbortController();
    const active = new ActiveRenders();
    const tmpDir = join(dataDir, 'tmp');
    mkdirSync(tmpDir, { recursive: true });
    const workerId = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    const unlisten = await database.listen(CANCEL_CHANNEL, (id) => active.cancel(id));
    const sweep = async (): Promise<void> => {
      await sweepStallsLogged(database, queue, { stallTimeoutSec: env.STALL_TIMEOUT_SEC, maxAttempts: env.RENDER_ATTEMPTS, maxRequeues: env.RENDER_MAX_REQUEUES, events: productionEvents }, log);
      // Reviews left without an action past their autoApproveAfterSec render as planned.
      const approved = await productions.approveOverdue().catch((error: unknown) => {
        log('warn', 'auto-approval failed', { message: error instanceof Error ? error.message : String(error) });
        return [];
      });
      if (approved.length > 0) log('info', 'auto-approved reviews', { count: approved.length, ids: approved });
      // Exports whose worker died mid-build are queued again (jobs/export.handler.ts).
      const requeued = await exportsService.requeueStalled(env.STALL_TIMEOUT_SEC).catch((error: unknown) => {
        log('warn', 'export recovery failed', { message: error instanceof Error ? error.message : String(error) });
        return [];
      });
      if (requeued.length > 0) log('warn', 'exports requeued after their worker stopped', { count: requeued.length, ids: requeued });
    };
    await sweep();
    // The workers table: aiprod_workers_alive counts the processes heard from within STALL_TIMEOUT_SEC.
    const presence = new WorkerPresence(database, { id: workerId, version: options.version, slots: concurrency, busy: () => active.size });
    await presence.beat().catch((error: unknown) => log('warn', 'worker heartbeat failed', { message: error instanceof Error ? error.message : String(error) }));
    const presenceTimer = setInterval(() => void presence.beat().catch(() => undefined), env.HEARTBEAT_SEC * 1000);
    presenceTimer.unref();
    const sweeper = setInterval(() => void sweep(), Math.max(5, env.STALL_TIMEOUT_SEC / 2) * 1000);
    metrics.workersIdle.set(concurrency);
    // A provider skipped by its breaker is reported: a gauge per provider and key owner, and a log line on each change.
    const unwatchBreakers = sharedGuard.onStateChange((s) => {
      metrics.providerBreakerOpen.set({ provider: s.provider, source: s.source }, s.state === 'open' ? 1 : 0);
      log(s.state === 'open' ? 'warn' : 'info', `provider circuit breaker ${s.state}`, { provider: s.provider, keySource: s.source });
    });
    // Provider calls (each attempt) by outcome and error code, and their latency.
    const unwatchCalls = sharedGuard.onCall((call) => {
      metrics.providerCalls.inc({ provider: call.provider, outcome: call.code ? 'error' : 'ok' });
      if (call.code) metrics.providerErrors.inc({ provider: call.provider, code: call.code });
      metrics.providerCallSeconds.observe({ provider: call.provider }, call.seconds);
    });
    stops.push(async () => {
      unwatchBreakers();
      unwatchCalls();
    });
    await queue.work('render', concurrency, async (job) => {
      metrics.workersBusy.inc();
      metrics.workersIdle.dec();
      try {
        await handleRender(job, {
          database, storage, queue, pipeline, workerId, assetsDir, tmpDir,
          stallTimeoutSec: env.STALL_TIMEOUT_SEC,
          heartbeatSec: env.HEARTBEAT_SEC,
          maxAttempts: env.RENDER_ATTEMPTS,
          maxRequeues: env.RENDER_MAX_REQUEUES,
          shutdown: shutdown.signal,
          onStage: (stage) => {
            metrics.stageSeconds.observe({ stage: stage.stage, provider: stage.provider }, stage.wallSec);
            metrics.stageCacheUnits.inc({ stage: stage.stage, result: 'hit' }, stage.cachedUnits);
            metrics.stageCacheUnits.inc({ stage: stage.stage, result: 'miss' }, Math.max(0, stage.totalUnits - stage.cachedUnits));
          },
          onRenderEnd: (outcome, sec) => metrics.renderSeconds.observe({ outcome }, sec),
          tierPrices: env.TIER_PRICES_PER_MINUTE_USD,
          computeUsdPerCpuHour: env.COMPUTE_USD_PER_CPU_HOUR,
          webhooks: productionEvents,
          mediaFetch,
          log,
          chargePerVideoMinuteUsd: env.PRICE_PER_VIDEO_MINUTE_USD,
          onFallback: (f) => metrics.providerFallbacks.inc({ stage: f.stage, provider: f.from.split(':')[0] ?? f.from, code: f.code }),
          renderSelection: async (tenantId, productionId) => ({
            tenantKeys: await access.providerKeys(tenantId),
            budgetUsd: await quotas.remainingBudget(tenantId, productionId),
          }),
        }, active);
      } finally {
        metrics.workersBusy.dec();
        metrics.workersIdle.inc();
      }
    });
    // Webhook deliveries: one attempt per job, and the catch-up of deliveries whose job went missing.
    await webhooks.work(env.WEBHOOK_CONCURRENCY);
    // Retention: stored outputs once a day for the whole cluster (pg-boss runs a cron job on one
    // worker), this machine's cache and leftover temp directories from every worker process.
    await queue.schedule('sweep', '17 3 * * *', { kind: 'retention' });
    await queue.work('sweep', 1, async (job) => {
      if (job.data.kind === 'retention') {
        const { failures, ...result } = await expireStored(database, storage, env.RETENTION_DAYS, new Date(), exportsService);
        log('info', 'retention: expired stored outputs', { ...result });
        if (result.failedDeletions > 0) log('error', 'retention: stored outputs that could not be deleted are kept for the next run', { count: result.failedDeletions, failures });
      } else {
        await sweep();
      }
    });
    // Self-healing (jobs/self-healing.ts): auto-retry of transient failures and stuck detection,
    // on a cron one worker of the cluster takes per run.
    await queue.schedule('heal', healCron(env.AUTO_RETRY_INTERVAL_SEC), { kind: 'heal' });
    await queue.work('heal', 1, async () => {
      await heal(database, queue, {
        autoRetry: { enabled: env.AUTO_RETRY_ENABLED, max: env.AUTO_RETRY_MAX, backoffSec: env.AUTO_RETRY_BACKOFF_SEC, windowSec: env.AUTO_RETRY_WINDOW_SEC, events: webhooks.emitter },
        stuck: { factor: env.STUCK_FACTOR, minExpectedSec: env.STUCK_MIN_EXPECTED_SEC, events: webhooks.emitter },
      }, log);
    });
    // Bulk exports (docs/exports.md): one build at a time per worker process; they read the
    // database and write storage, and must not take the render slots' CPU.
    await queue.work('export', 1, async (job) => handleExport(job, {
      exports: exportsService, workerId, tmpDir, stallTimeoutSec: env.STALL_TIMEOUT_SEC, heartbeatSec: env.HEARTBEAT_SEC, log,
    }));
    // Usage rollups (services/usage.service.ts): one worker of the cluster refreshes them per run.
    await queue.schedule('usage', `*/${env.USAGE_ROLLUP_INTERVAL_MIN} * * * *`, { kind: 'rollup' });
    await queue.work('usage', 1, async () => {
      const result = await usage.refresh();
      if (result.days > 0) log('info', 'usage: rolled up', { ...result });
    });
    const pruneLocal = async (): Promise<void> => {
      try {
        const result = await expireLocal(pipeline.cache, tmpDir, env.RETENTION_DAYS);
        if (result.cacheUnits + result.tmpDirs + result.cacheTmpDirs > 0) log('info', 'retention: pruned local cache', { ...result });
      } catch (error) {
        log('warn', 'retention: local pruning failed', { message: error instanceof Error ? error.message : String(error) });
      }
    };
    void pruneLocal();
    const pruner = setInterval(() => void pruneLocal(), 6 * 3600 * 1000);
    pruner.unref();
    log('info', 'worker started', { workerId, concurrency });
    const guard = childGuard();
    if (guard.warning) log('warn', guard.warning);
    stops.push(async () => {
      clearInterval(sweeper);
      clearInterval(pruner);
      await queue.stopWorking();
      await webhooks.stop();
      // Let running renders finish within the grace period, then hand the rest back.
      const deadline = Date.now() + env.SHUTDOWN_GRACE_SEC * 1000;
      while (active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      shutdown.abort();
      while (active.size > 0) await new Promise((r) => setTimeout(r, 100));
      // Without setpriv nothing else stops an FFmpeg whose render lost track of it.
      killAllChildren();
      await unlisten();
      clearInterval(presenceTimer);
      await presence.leave().catch(() => undefined);
    });
  }
  if (role !== 'worker') {
    await events.start(database);
    // Storage and FFmpeg are checked now and every few minutes, not on each probe of /ready.
    const readiness = new Readiness({ database, queue, storage, media, disk, log });
    await readiness.start();
    stops.push(async () => readiness.stop());
    const rules = rateLimitRules({
      tiers: { free: env.RATE_LIMIT_FREE_PER_MIN, pro: env.RATE_LIMIT_PRO_PER_MIN, enterprise: env.RATE_LIMIT_ENTERPRISE_PER_MIN },
      anonymous: env.RATE_LIMIT_ANONYMOUS_PER_MIN,
      general: env.RATE_LIMIT_GENERAL_PER_MIN,
    });
    const rateLimitStore = options.rateLimitStore ?? (env.REDIS_URL
      ? await RedisRateLimitStore.connect(env.REDIS_URL, { failMode: env.RATE_LIMIT_FAIL_MODE, onError: (error) => log('warn', 'rate limit store error', { message: error.message }) })
      : new MemoryRateLimitStore());
    stops.push(async () => {
      if (rateLimitStore instanceof RedisRateLimitStore) await rateLimitStore.close();
    });
    app = await buildApp({
      experiments: experiments.service,
      usage,
      exports: exportsService,
      database, queue, storage, productions, quotas, events, voices: () => allVoices(providers), metrics, readiness, access, webhooks: webhooks.service,
      auth: {
        jwt: createJwtAuth(env),
        failedAuth: new FailedAuthWatch(access.audit),
        limitFailures: failedAuthLimiter(rateLimitStore, rules.anonymous, (rule) => metrics.rateLimited.inc({ rule })),
        outputLinks,
      },
      rateLimits: { store: rateLimitStore, rules, onRefused: (rule) => metrics.rateLimited.inc({ rule }) },
      hardening: {
        ipAllow: env.IP_ALLOW.split(','), ipDeny: env.IP_DENY.split(','), corsOrigins: env.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean),
        maxJsonDepth: env.MAX_JSON_DEPTH, requestTimeoutSec: env.REQUEST_TIMEOUT_SEC, trustProxy: env.TRUST_PROXY,
      },
      rotationGraceSec: env.KEY_ROTATION_GRACE_SEC,
      bodyLimitBytes: env.BODY_LIMIT_BYTES, logLevel: env.LOG_LEVEL, version: options.version,
      compat: { autoApproveSec: env.COMPAT_AUTO_APPROVE_SEC, ...(env.PUBLIC_URL ? { publicUrl: env.PUBLIC_URL } : {}) },
    });
    stops.unshift(async () => {
      await app?.close();
      await events.close();
    });
  }

  return {
    database, secrets, access, webhooks, queue, storage, metrics, productions, budgets, app, createdAdminKey,
    async stop() {
      for (const stop of stops) await stop();
      await queue.stop();
      await database.close();
    },
  };
}

