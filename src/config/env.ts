/**
 * Every environment variable AIPROD reads, with its meaning and default. This is the only file
 * that touches `process.env`; a bad value stops the start with the variable's name in the message.
 */
import { z } from 'zod';

const optionalPath = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/** An http(s) URL, or unset. */
const baseUrl = optionalPath.pipe(z.string().regex(/^https?:\/\/[^\s]+$/, 'use an http:// or https:// URL').optional());

/** A comma-separated list, blanks dropped. */
const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);

export const envSchema = z.object({
  /** Searched for ffmpeg/ffprobe when FFMPEG_PATH/FFPROBE_PATH are not set. */
  PATH: z.string().optional(),
  /** Path of the ffmpeg binary. Default: `ffmpeg` on PATH, else the npm build (@ffmpeg-installer/ffmpeg). */
  FFMPEG_PATH: optionalPath,
  /** Path of the ffprobe binary. Default: `ffprobe` on PATH, else the npm build (@ffprobe-installer/ffprobe). */
  FFPROBE_PATH: optionalPath,
  /** Directory for content-addressed stage outputs (re-used across renders). */
  AIPROD_CACHE_DIR: z.string().trim().min(1).default('.aiprod-cache'),
  /** Seconds after which one FFmpeg process is killed. */
  FFMPEG_TIMEOUT_SEC: z.coerce.number().int().min(10).max(86_400).default(3600),
  /**
   * Seconds an FFmpeg process may go without progress (no new frame or output time; for runs that
   * print no progress, no output and no CPU use) before it is killed and the render fails with the
   * retryable `ffmpeg_stalled`. 0 turns the watchdog off.
   */
  FFMPEG_STALL_SEC: z.coerce.number().int().min(0).max(86_400).default(120),
  /** Threads FFmpeg may use for encoding; 0 lets FFmpeg decide. */
  FFMPEG_THREADS: z.coerce.number().int().min(0).max(256).default(0),
  /**
   * x264 preset of the video encode. superfast: motion graphics (flat colour, gradients, text)
   * look the same at CRF 20 as with veryfast, encode 40 % faster, in files about half again larger
   * (docs/benchmarks.md). Choose veryfast or slower for smaller files.
   */
  AIPROD_X264_PRESET: z
    .enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'])
    .default('superfast'),
  /** Log verbosity of the CLI and the service: error, warn, info or debug. */
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),

  // ── service (aiprod serve / aiprod worker) ─────────────────────────────────────────────────
  /** Port of the HTTP API (`aiprod serve --port` wins). */
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** Address the HTTP API listens on. */
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  /** Directory of the embedded database (PGlite) and local artifacts, when DATABASE_URL and STORAGE_URL are not set. */
  AIPROD_DATA_DIR: z.string().trim().min(1).default('data'),
  /** PostgreSQL connection string (postgres://…). Empty: the embedded PGlite database in AIPROD_DATA_DIR. */
  DATABASE_URL: optionalPath.pipe(z.string().regex(/^postgres(ql)?:\/\//, 'use a postgres:// or postgresql:// URL').optional()),
  /** Connections each process keeps to PostgreSQL (shared by the API, pg-boss and the worker). */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  /** Where outputs are stored: empty (AIPROD_DATA_DIR/artifacts), file:///path, or s3://bucket/prefix. */
  STORAGE_URL: optionalPath.pipe(z.string().regex(/^(file|s3):\/\//, 'use file:///path or s3://bucket/prefix').optional()),
  /** S3 endpoint for S3-compatible stores (MinIO, R2 …); empty means AWS for S3_REGION. */
  S3_ENDPOINT: optionalPath,
  /** Origin of the store as your users' browsers reach it, for signed download URLs (when it differs from S3_ENDPOINT). */
  S3_PUBLIC_ENDPOINT: optionalPath,
  /** S3 region. */
  S3_REGION: z.string().trim().min(1).default('us-east-1'),
  /** S3 credentials. Leave both empty to use the AWS SDK's default chain (AWS_* variables, shared files, IAM roles). */
  S3_ACCESS_KEY_ID: optionalPath,
  S3_SECRET_ACCESS_KEY: optionalPath,
  /** Session token of temporary S3 credentials (STS), with S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY. */
  S3_SESSION_TOKEN: optionalPath,
  /** Attempts per S3 request, the first included; throttling (503 SlowDown), 5xx and dropped connections are retried with backoff. */
  S3_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  /** Path-style S3 URLs (http://endpoint/bucket/key), as MinIO and most self-hosted stores want. */
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /**
   * The address clients reach the API at (e.g. https://video.example.com), for the absolute links
   * some responses carry (the original API's video_url). Empty: taken from each request's Host
   * (and X-Forwarded-Proto/Host behind TRUST_PROXY).
   */
  PUBLIC_URL: baseUrl,
  /**
   * Seconds a job of the original API's ICC presets (brand_campaign, premium_spot) waits in
   * waiting_approval without an ICC action before it is approved as planned, so clients that only
   * poll still get their video; 0 waits for approval for ever (docs/migrating-from-v33.md).
   */
  COMPAT_AUTO_APPROVE_SEC: z.coerce.number().int().min(0).max(30 * 86_400).default(600),
  /** Lifetime of signed download URLs (S3 presigned, and local `?token=` links), in seconds. */
  SIGNED_URL_TTL_SEC: z.coerce.number().int().min(60).max(604_800).default(3600),
  /** Days a bulk export (POST /v1/exports) stays downloadable before retention deletes its file (docs/exports.md). */
  EXPORT_RETENTION_DAYS: z.coerce.number().min(0.01).max(3650).default(7),
  /** A csv or json export of a period with at most this many productions answers at once; more (and every zip) is built by a job. 0: always a job. */
  EXPORT_INLINE_ROWS: z.coerce.number().int().min(0).max(100_000).default(1000),
  /** Worker threads for in-process synthesis (eSpeak speech, procedural music and effects), off the event loop; 0 runs it on the event loop. Default: min(2, CPU count). */
  SYNTH_THREADS: optionalPath.transform((v) => (v === undefined ? undefined : Number(v))).pipe(z.number().int().min(0).max(64).optional()),
  /**
   * HTTP API processes `aiprod serve` runs on this machine (node:cluster; they share the port, the
   * rate limits and one /metrics view). Default: one per CPU with PostgreSQL, 1 with PGlite (whose
   * data directory one process opens).
   */
  API_PROCESSES: optionalPath.transform((v) => (v === undefined ? undefined : Number(v))).pipe(z.number().int().min(1).max(64).optional()),
  /** Productions one worker process renders at once. Default: half the CPU count, at least 1. */
  WORKER_CONCURRENCY: optionalPath.transform((v) => (v === undefined ? undefined : Number(v))).pipe(z.number().int().min(1).max(64).optional()),
  /** A production whose worker has not reported for this long is taken over by another worker. */
  STALL_TIMEOUT_SEC: z.coerce.number().int().min(5).max(3600).default(60),
  /** Seconds between a worker's heartbeats (well under STALL_TIMEOUT_SEC). */
  HEARTBEAT_SEC: z.coerce.number().min(0.5).max(600).default(10),
  /** Attempts a production gets for retryable errors (exponential backoff between them). */
  RENDER_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  /** Times a production may go back to the queue without finishing (shutdown hand-backs, stall and lost-job recoveries) before it fails with requeue_limit. */
  RENDER_MAX_REQUEUES: z.coerce.number().int().min(1).max(1000).default(10),
  /** Self-healing (docs/self-healing.md): failed productions whose cause was transient are re-queued by a periodic job. */
  AUTO_RETRY_ENABLED: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /** Auto-retries a production gets in all (each one a full set of RENDER_ATTEMPTS). */
  AUTO_RETRY_MAX: z.coerce.number().int().min(0).max(100).default(3),
  /** Wait after a failure before auto-retry n (counted from 0): AUTO_RETRY_BACKOFF_SEC × 2^n. */
  AUTO_RETRY_BACKOFF_SEC: z.coerce.number().int().min(0).max(86_400).default(60),
  /** Only failures that finished within this many seconds are auto-retried. */
  AUTO_RETRY_WINDOW_SEC: z.coerce.number().int().min(60).max(30 * 86_400).default(86_400),
  /** How often the self-healing job runs (a pg-boss cron: whole minutes, rounded up). */
  AUTO_RETRY_INTERVAL_SEC: z.coerce.number().int().min(60).max(86_400).default(60),
  /** A production queued or running longer than this × its expected time is reported stuck (once). */
  STUCK_FACTOR: z.coerce.number().min(1).max(1000).default(3),
  /** The least expected time of any production, in seconds (short renders still queue and start up). */
  STUCK_MIN_EXPECTED_SEC: z.coerce.number().int().min(1).max(86_400).default(120),
  /** Seconds a worker waits for running renders on SIGTERM before handing them back. */
  SHUTDOWN_GRACE_SEC: z.coerce.number().int().min(0).max(3600).default(30),
  /**
   * Free bytes AIPROD_DATA_DIR and AIPROD_CACHE_DIR must keep: below it, creates answer 503
   * insufficient_storage and /ready reports the disk. 0 turns the check off.
   */
  DISK_MIN_FREE_BYTES: z.coerce.number().int().min(0).default(512 * 1024 ** 2),
  /** Outputs and cache older than this many days are deleted by the daily clean-up; 0 keeps everything. */
  RETENTION_DAYS: z.coerce.number().min(0).max(3650).default(30),
  /**
   * Minutes between refreshes of the usage rollups (GET /v1/usage, docs/usage.md): a pg-boss cron
   * job on one worker, at minutes divisible by N. Answers are exact either way; a longer interval leaves more
   * recent productions to be read live.
   */
  USAGE_ROLLUP_INTERVAL_MIN: z.coerce.number().int().min(1).max(59).default(10),
  /** Largest JSON body the API accepts, in bytes. */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /**
   * Port on which `aiprod worker` serves its own Prometheus /metrics (stage durations, busy and
   * idle render slots). Empty: none. The API process serves /metrics on its HTTP port.
   */
  WORKER_METRICS_PORT: optionalPath.transform((v) => (v === undefined ? undefined : Number(v))).pipe(z.number().int().min(1).max(65_535).optional()),
  /**
   * Master key (32 random bytes, base64 or hex: `openssl rand -base64 32`) that encrypts the data
   * keys protecting secrets at rest. Required with DATABASE_URL; with the embedded database one is
   * made in AIPROD_DATA_DIR/master.key on first start.
   */
  AIPROD_MASTER_KEY: optionalPath,
  /** The master key before a rotation (`aiprod secrets rotate-master`), accepted while data keys still use it. */
  AIPROD_MASTER_KEY_PREVIOUS: optionalPath,
  /** Seconds a rotated API key's previous secret keeps working. */
  KEY_ROTATION_GRACE_SEC: z.coerce.number().int().min(0).max(30 * 86_400).default(86_400),
  /** JWKS URL of an OpenID provider whose ID tokens are accepted as Bearer credentials; empty: API keys only. */
  JWT_JWKS_URL: optionalPath,
  /** The exact `iss` accepted tokens carry (Firebase: https://securetoken.google.com/<project>). */
  JWT_ISSUER: optionalPath,
  /** The value `aud` must contain (Firebase: the project id). */
  JWT_AUDIENCE: optionalPath,
  /** Shortcut for Firebase ID tokens: sets the three above from the project id. */
  JWT_FIREBASE_PROJECT: optionalPath,
  /** Claim (or dotted path) naming the tenant. */
  JWT_TENANT_CLAIM: z.string().trim().min(1).default('tenant'),
  /** Claim naming the role; "admin" gives the admin scope. */
  JWT_ROLE_CLAIM: z.string().trim().min(1).default('role'),
  /** Tenant for tokens without a tenant claim; empty: such tokens are refused (403). */
  JWT_DEFAULT_TENANT: optionalPath,
  /**
   * Whether an ID token with role admin of the operator tenant (`default`) is an operator over
   * every tenant. Off by default: such a token gets only member scopes, and operators use API keys.
   */
  JWT_ALLOW_OPERATOR: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** Redis for rate limits shared by several API processes (redis://host:6379); empty: limits per process, in memory. */
  REDIS_URL: optionalPath.pipe(z.string().regex(/^rediss?:\/\//, 'use a redis:// or rediss:// URL').optional()),
  /** Productions a tenant may create per minute, by tier; 0: unlimited. */
  RATE_LIMIT_FREE_PER_MIN: z.coerce.number().int().min(0).default(10),
  RATE_LIMIT_PRO_PER_MIN: z.coerce.number().int().min(0).default(100),
  RATE_LIMIT_ENTERPRISE_PER_MIN: z.coerce.number().int().min(0).default(0),
  /** Requests per minute from one address without credentials (and failed authentications); 0: unlimited. */
  RATE_LIMIT_ANONYMOUS_PER_MIN: z.coerce.number().int().min(0).default(60),
  /** Every other request, per tenant per minute; 0: unlimited. */
  RATE_LIMIT_GENERAL_PER_MIN: z.coerce.number().int().min(0).default(6000),
  /** When Redis is unreachable: open (let requests through, the default) or closed (503). */
  RATE_LIMIT_FAIL_MODE: z.enum(['open', 'closed']).default('open'),
  /**
   * The operator-wide monthly budget in USD: all tenants' spend together, counted as tenants'
   * budgets count it (docs/budgets.md). Creates that would go past it are refused with 503
   * operator_budget_exhausted. Unset: no operator-wide budget.
   */
  OPERATOR_MONTHLY_BUDGET_USD: optionalPath.transform((v) => (v === undefined ? undefined : Number(v))).pipe(z.number().min(0).max(100_000_000).optional()),
  /** Fractions of OPERATOR_MONTHLY_BUDGET_USD whose crossing is announced (budget.threshold), e.g. 0.5,0.8,1. */
  OPERATOR_BUDGET_THRESHOLDS: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*$/, 'use comma-separated fractions of the budget, e.g. 0.8,1')
    .default('0.8,1')
    .transform((v) => v.split(',').map(Number))
    .refine((v) => v.every((t) => t > 0 && t <= 10), 'each threshold must be a fraction above 0 and at most 10 (1 = the whole budget)')
    .transform((v) => [...new Set(v)].sort((a, b) => a - b)),
  /** How long the operator-wide spend is remembered between reads (s): the budget may be overrun by what is accepted in that time. */
  OPERATOR_BUDGET_REFRESH_SEC: z.coerce.number().min(0).max(3600).default(5),
  /** What the operator charges per minute of finished video, in USD: shown in estimates, counted against tenants' monthly budgets. */
  PRICE_PER_VIDEO_MINUTE_USD: z.coerce.number().min(0).max(1000).default(0),
  /**
   * Per-tier prices per minute of finished video over PRICE_PER_VIDEO_MINUTE_USD, e.g.
   * `free=0,pro=1.5,enterprise=1.2` (tiers not named pay PRICE_PER_VIDEO_MINUTE_USD). What a tenant is
   * charged: estimates, budgets and the aiprod_jobs_revenue_usd_total metric follow it.
   */
  TIER_PRICES_PER_MINUTE_USD: z
    .string()
    .trim()
    .default('')
    .transform((text, ctx) => {
      const prices: Partial<Record<'free' | 'pro' | 'enterprise', number>> = {};
      for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
        const match = /^(free|pro|enterprise)\s*=\s*(\d+(?:\.\d+)?)$/.exec(item);
        if (!match || Number(match[2]) > 1000) {
          ctx.addIssue({ code: 'custom', message: `"${item}" is not tier=price: use e.g. free=0,pro=1.5,enterprise=1.2 (tiers free, pro, enterprise; USD per minute, at most 1000)` });
          return z.NEVER;
        }
        prices[match[1] as 'free' | 'pro' | 'enterprise'] = Number(match[2]);
      }
      return prices;
    }),
  /** What a CPU-hour of rendering costs the operator, in USD: the compute part of aiprod_job_processing_cost_usd (providers' bills are the rest). */
  COMPUTE_USD_PER_CPU_HOUR: z.coerce.number().min(0).max(100).default(0.04),
  /** Seconds one read of the database metrics (revenue, cost, queue, workers alive …) serves /metrics scrapes; 0: read on every scrape. */
  METRICS_DB_TTL_SEC: z.coerce.number().min(0).max(3600).default(15),
  /** Comma-separated CIDRs (or addresses) that may call the API; empty: any. */
  IP_ALLOW: z.string().trim().default(''),
  /** Comma-separated CIDRs (or addresses) that may never call the API. */
  IP_DENY: z.string().trim().default(''),
  /** Comma-separated origins browsers may call the API from (https://app.example.com); empty: none. */
  CORS_ORIGINS: z.string().trim().default(''),
  /** Deepest nesting of objects and arrays a JSON body may have. */
  MAX_JSON_DEPTH: z.coerce.number().int().min(4).max(256).default(32),
  /** Seconds a client has to send a whole request (headers and body). */
  REQUEST_TIMEOUT_SEC: z.coerce.number().int().min(1).max(3600).default(30),
  /**
   * Behind a reverse proxy: true (trust X-Forwarded-For), a number of hops, or comma-separated
   * proxy addresses/CIDRs; empty: the socket's address is the client's (IP limits and lists use it).
   */
  TRUST_PROXY: z.string().trim().default(''),
  /**
   * Seconds to wait before each webhook delivery attempt; the count is the number of attempts.
   * Default: 0, 30 s, 2 min, 10 min, 1 h, 3 h, 6 h, 12 h — 8 attempts over about 22 hours.
   */
  WEBHOOK_RETRY_SCHEDULE_SEC: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'use comma-separated seconds, e.g. 0,30,120,600')
    .default('0,30,120,600,3600,10800,21600,43200')
    .transform((v) => v.split(',').map(Number)),
  /** One webhook attempt, from connecting to the first bytes of the answer, in ms. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** A webhook whose deliveries run out of attempts this many times in a row is disabled. */
  WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).max(1000).default(10),
  /** Host names webhooks may reach although they resolve to private addresses (comma-separated; `*.corp.example`). */
  WEBHOOK_ALLOW_HOSTS: z.string().default('').transform(list),
  /** Private networks webhooks may reach (comma-separated CIDRs or addresses, e.g. `10.1.0.0/16`). */
  WEBHOOK_ALLOW_CIDRS: z.string().default('').transform(list),
  /** Webhook attempts one worker process sends at once. */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Largest media file a brief may link to by URL, in bytes. */
  MEDIA_FETCH_MAX_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 ** 3).default(100 * 1024 * 1024),
  /** Seconds one download of linked media may take. */
  MEDIA_FETCH_TIMEOUT_SEC: z.coerce.number().int().min(1).max(3600).default(120),
  /** Host names linked media may come from although they resolve to private addresses (comma-separated; `*.corp.example`). */
  MEDIA_FETCH_ALLOW_HOSTS: z.string().default('').transform(list),
  /** Private networks linked media may come from (comma-separated CIDRs or addresses). */
  MEDIA_FETCH_ALLOW_CIDRS: z.string().default('').transform(list),
  /** An API key to create on first start instead of a random one (for scripted set-ups); printed never. */
  ADMIN_API_KEY: optionalPath,

  // Cloud providers (docs/providers.md). A key turns its provider on; a tenant's own stored key takes
  // its place for that tenant's renders. A base URL points a provider at a compatible or self-hosted endpoint.
  /** OpenAI (planner, TTS, images) — or any OpenAI-compatible server with OPENAI_BASE_URL (Ollama, vLLM, OpenRouter). */
  OPENAI_API_KEY: optionalPath,
  OPENAI_BASE_URL: baseUrl,
  /** The chat model every tier of the OpenAI-compatible planner uses (default: gpt-4o-mini, premium gpt-4o). */
  AIPROD_LLM_MODEL: optionalPath,
  /** Pins the OpenAI voice model for every tier (tts-1 or tts-1-hd). */
  OPENAI_TTS_MODEL: optionalPath,
  /** Google Gemini (planner) and Veo (video). */
  GEMINI_API_KEY: optionalPath,
  GEMINI_BASE_URL: baseUrl,
  /** ElevenLabs (voices, music, sound effects). */
  ELEVENLABS_API_KEY: optionalPath,
  ELEVENLABS_BASE_URL: baseUrl,
  /** Pins the ElevenLabs voice model for every tier (e.g. eleven_turbo_v2_5). */
  ELEVENLABS_TTS_MODEL: optionalPath,
  /** Google Cloud Text-to-Speech (an API key of a project with the API enabled). */
  GOOGLE_TTS_API_KEY: optionalPath,
  GOOGLE_TTS_BASE_URL: baseUrl,
  /** Pins the Google voice family for every tier: standard, wavenet or neural2. */
  GOOGLE_TTS_FAMILY: optionalPath,
  /** Suno through a Suno API gateway (sunoapi.org's task API). */
  SUNO_API_KEY: optionalPath,
  SUNO_BASE_URL: baseUrl,
  /** Where the Suno gateway may post its task callback (it requires one; AIPROD polls and never needs it). */
  SUNO_CALLBACK_URL: baseUrl,
  /** Milliseconds between polls of a Suno task (default 5000). */
  SUNO_POLL_INTERVAL_MS: optionalPath,
  /** Freesound APIv2 (sound effects under Creative Commons licences). */
  FREESOUND_API_KEY: optionalPath,
  FREESOUND_BASE_URL: baseUrl,
  /** Runway (generated images and clips). */
  RUNWAYML_API_SECRET: optionalPath,
  RUNWAY_BASE_URL: baseUrl,
  /** Pexels (stock video and photos). */
  PEXELS_API_KEY: optionalPath,
  PEXELS_BASE_URL: baseUrl,
  /** Replicate (any image or video model). */
  REPLICATE_API_TOKEN: optionalPath,
  REPLICATE_BASE_URL: baseUrl,
  /** Replicate image model (owner/name or owner/name:version) replacing the tier's. */
  REPLICATE_IMAGE_MODEL: optionalPath,
  /** Replicate video model used for premium renders (owner/name); unset: Replicate makes stills only. */
  REPLICATE_VIDEO_MODEL: optionalPath,
  /** Each stage's chain, a comma list of provider names from `aiprod providers` (default: every provider with a key, then offline). */
  AIPROD_PLAN_PROVIDERS: optionalPath,
  AIPROD_TTS_PROVIDERS: optionalPath,
  AIPROD_MUSIC_PROVIDERS: optionalPath,
  AIPROD_SFX_PROVIDERS: optionalPath,
  AIPROD_VISUAL_PROVIDERS: optionalPath,
  /** Price overrides, JSON: {"provider:model": {"unit": usdPerUnit}} (units: inputTokens, outputTokens, characters, secondsOfAudio, secondsOfVideo, images, generations, requests). */
  AIPROD_PRICES: optionalPath,
  /** Attempts per vendor call, the first included (retries follow 429, 5xx and timeouts, honouring Retry-After). */
  PROVIDER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  /** Consecutive failures after which a provider is skipped, and for how long. */
  PROVIDER_BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(5),
  PROVIDER_BREAKER_OPEN_SEC: z.coerce.number().int().min(1).max(86_400).default(60),
  /** Longest Retry-After waited for; a longer one moves to the next provider at once. */
  PROVIDER_MAX_RETRY_AFTER_SEC: z.coerce.number().int().min(0).max(3600).default(30),
  /** Scenes whose pictures are generated at once. */
  VISUAL_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(4),
  /**
   * A/B experiments: the flags file (JSON, docs/experiments.md), re-read within a second of a change.
   * Unset: no experiments, unless FLAG_<NAME>=<variant> variables force one (flagOverrides below).
   */
  FLAGS_FILE: optionalPath,
});

export type Env = z.infer<typeof envSchema>;

/**
 * FLAG_<NAME>=<variant>: forces flag <name> (upper-cased, "-" as "_") to a variant for every
 * production (docs/experiments.md). Dynamic names, so they are collected here rather than in the schema.
 */
export function flagOverrides(source: Record<string, string | undefined> = process.env): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter((e): e is [string, string] => /^FLAG_[A-Z0-9_]+$/.test(e[0]) && typeof e[1] === 'string' && e[1].trim() !== ''));
}

/** Parses an environment (default: process.env); throws naming every bad variable. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = envSchema.safeParse(source);
  if (result.success) {
    const env = result.data;
    // A worker that beats no faster than the stall timeout is taken for dead while it renders.
    if (env.HEARTBEAT_SEC >= env.STALL_TIMEOUT_SEC) {
      throw new Error(`invalid configuration: HEARTBEAT_SEC (${env.HEARTBEAT_SEC}) must be less than STALL_TIMEOUT_SEC (${env.STALL_TIMEOUT_SEC}); a third of it or less is safe`);
    }
    return env;
  }
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`invalid configuration: ${problems.join('; ')}`);
}
