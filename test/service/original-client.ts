/**
 * A client of the original AIPROD API (V33), run against a live `aiprod serve`: the 21-step
 * workflow of ../shared/original-api.md, as the original's clients call it — Bearer key on every
 * call but GET /health, success is exactly 200, every error carries `detail`, /pipeline/* status
 * words matched without regard to case, ICC states exactly as listed. One subtest per step; a
 * failure names its step and shows the last response. Steps that need an earlier step's job skip,
 * saying which step did not provide it.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { strFromU8, unzipSync } from 'fflate';
import WebSocket from 'ws';
import { z } from 'zod';
import { probeMedia, startCli, tempDir } from './processes.js';

/** The job status words of /pipeline/* (compared without regard to case). */
export const PIPELINE_STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
/** The ICC state words of /job/* and /ws/* (compared exactly). */
export const ICC_STATES = [
  'created',
  'analyzing',
  'creative_direction',
  'waiting_approval',
  'rendering',
  'qa_technical',
  'qa_semantic',
  'final_approval',
  'delivered',
  'cancelled',
  'error',
] as const;
const EDITABLE_FIELDS = ['shot_list', 'scenes', 'duration', 'audio_style', 'camera_movements'];
const POLL_EVERY_MS = 2_000;
const REQUEST_TIMEOUT_MS = 30_000;

/** The step-5 request, as the original's French clients sent it (extra fields included). */
export const FRENCH_REQUEST = {
  content: 'Découvrez Lumina, la nouvelle lampe de bureau solaire qui se recharge à la fenêtre et vous éclaire toute la journée.',
  preset: 'quick_social',
  lang: 'fr',
  duration_sec: 15,
  priority: 'normal',
  voice: 'fr-FR-Wavenet-D',
  emotion: 'joy',
  mood: 'calm',
  music_style: 'acoustic',
  brand_id: 'acme',
};
const EXTRA_FIELDS = ['voice', 'emotion', 'mood', 'music_style', 'brand_id'];
const BRAND_REQUEST = {
  content: 'Acme Outdoor presents the Ridge jacket: light, waterproof and made from recycled fabric, for every trail in every season.',
  preset: 'brand_campaign',
  lang: 'en',
  duration_sec: 15,
};
const CANCEL_REASON = 'Client changed the brief';

// ---------------------------------------------------------------------------------------------
// Shapes (zod; unknown keys are allowed everywhere, as the contract lets other keys sit beside)

const isoDate = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time');
const jsonObject = z.record(z.string(), z.unknown());
const pipelineStatus = z.string().refine((s) => (PIPELINE_STATUSES as readonly string[]).includes(s.toLowerCase()), `one of ${PIPELINE_STATUSES.join('|')} (any case)`);
const iccState = z.enum(ICC_STATES);

const presetCommon = {
  name: z.string(),
  description: z.string(),
  pipeline_mode: z.enum(['fast', 'full']),
  quality_threshold: z.number().min(0).max(1),
  max_duration_sec: z.int().positive(),
  max_cost_per_minute: z.number().positive(),
  allow_icc: z.boolean(),
  consistency_cache: z.boolean(),
  multi_review: z.boolean(),
  priority: z.string(),
};
const presetSchema = z.object({ ...presetCommon, estimated_cost: z.number() });
const presetsSchema = z.object({ presets: z.record(z.string(), presetSchema), usage: z.string() });
const durationEstimateSchema = z.object({
  preset: z.string(),
  duration_sec: z.int(),
  aiprod_optimized: z.number(),
  runway_alone: z.number(),
  savings: z.number(),
  savings_percent: z.number(),
  quality_guarantee: z.number(),
  backend_selected: z.string(),
});
const presetDetailSchema = z.object({
  ...presetCommon,
  estimated_cost_30s: z.number(),
  cost_estimate_for_durations: z.object({ '10s': durationEstimateSchema, '30s': durationEstimateSchema, '60s': durationEstimateSchema }),
});

const costEstimateSchema = z.object({
  aiprod_optimized: z.number(),
  breakdown: z.record(z.string(), z.number()).and(z.object({ gemini_api: z.number(), runway_api: z.number(), gcs_storage: z.number(), cloud_run: z.number() })),
  runway_alone: z.number(),
  competitors: z.object({ runway_direct: z.number(), synthesia: z.number(), pictory: z.number(), heygen: z.number() }),
  savings: z.number(),
  savings_percent: z.number(),
  quality_guarantee: z.number().min(0).max(1),
  backend_selected: z.string(),
  preset: z.string().nullable(),
  duration_sec: z.int(),
  complexity: z.string(),
  value_proposition: z.string(),
});
type CostEstimate = z.infer<typeof costEstimateSchema>;

const runResponseSchema = z.object({
  status: z.literal('queued'),
  job_id: z.string().min(1),
  message: z.literal('Job submitted for processing'),
  cost_estimate: costEstimateSchema,
  check_status_at: z.string(),
});

const pipelineJobSchema = z.object({
  job_id: z.string(),
  status: pipelineStatus,
  created_at: isoDate,
  updated_at: isoDate,
  preset: z.string(),
  content_preview: z.string(),
  state_history: z.array(z.object({ state: pipelineStatus, entered_at: isoDate, metadata: jsonObject.nullable() })),
  result: z
    .object({
      success: z.boolean(),
      output: jsonObject,
      completed_at: isoDate.nullable(),
      error_message: z.string().nullable(),
      execution_time_ms: z.number().nullable(),
    })
    .optional(),
  retry_count: z.int().positive().optional(),
});
type PipelineJob = z.infer<typeof pipelineJobSchema>;

const pipelineJobsSchema = z.object({
  jobs: z.array(z.object({ job_id: z.string(), status: pipelineStatus, preset: z.string().nullable(), content_preview: z.string(), created_at: isoDate })),
  limit: z.int(),
  offset: z.int(),
  count: z.int(),
});

const jobCostsSchema = z.object({
  estimated: z.number(),
  actual: z.number(),
  variance: z.number(),
  variance_percent: z.number(),
  breakdown: z.object({ gemini: z.number(), runway: z.number(), storage: z.number(), compute: z.number() }),
  within_budget: z.boolean(),
});

const exportFormat = z.object({ name: z.string(), description: z.string(), mime_type: z.string(), extension: z.string() });
const exportFormatsSchema = z.object({ formats: z.object({ json: exportFormat, csv: exportFormat, zip: exportFormat }) });

const iccJobSchema = z.object({
  id: z.string(),
  content: z.string(),
  preset: z.string().nullable(),
  state: iccState,
  created_at: isoDate,
  updated_at: isoDate,
  production_manifest: jsonObject.nullable(),
  consistency_markers: jsonObject.nullable(),
  priority: z.string(),
  lang: z.string(),
  brand_id: z.string().nullable(),
  approved: z.boolean(),
  approval_timestamp: isoDate.nullable(),
  edits_history: z.array(z.unknown()),
});
/** `to_dict` keys whose types the contract leaves open: they must be there, with any value. */
const ICC_JOB_OPEN_KEYS = ['cost_estimate', 'render_result', 'qa_report'];
type IccJob = z.infer<typeof iccJobSchema>;

const iccJobsSchema = z.object({
  jobs: z.array(z.object({ id: z.string(), content: z.string(), preset: z.string().nullable(), state: iccState, created_at: isoDate, approved: z.boolean() })),
  total: z.int(),
});

const manifestViewSchema = z.object({
  job_id: z.string(),
  state: iccState,
  manifest: jsonObject,
  consistency_markers: jsonObject.nullable(),
  editable_fields: z.array(z.string()),
  locked_fields: z.array(z.string()),
  can_edit: z.boolean(),
  edits_history: z.array(z.object({ timestamp: isoDate, changes: z.record(z.string(), z.object({ old: z.unknown(), new: z.unknown() })) })),
});

const manifestUpdateSchema = z.object({ job_id: z.string(), status: z.literal('updated'), manifest: jsonObject, changes: jsonObject, edits_count: z.int() });
const approveSchema = z.object({
  job_id: z.string(),
  status: z.literal('approved'),
  state: z.literal('rendering'),
  approval_timestamp: isoDate,
  message: z.string(),
  next_state: z.literal('rendering'),
});
const cancelSchema = z.object({ job_id: z.string(), status: z.literal('cancelled'), state: z.literal('cancelled'), reason: z.string() });

const wsConnectedSchema = z.object({ event: z.literal('connected'), job_id: z.string(), state: iccState, timestamp: isoDate });
const wsStatusSchema = z.object({ event: z.literal('status'), job_id: z.string(), state: iccState, approved: z.boolean() });
const wsPushedSchema = z.object({ event: z.string(), job_id: z.string(), state: iccState, timestamp: isoDate, data: jsonObject });
/** Answers to the client's own text commands and the greeting; everything else is a pushed event. */
const WS_REPLIES = new Set(['connected', 'pong', 'status']);

const errorDetailSchema = z.union([
  z.string().min(1),
  z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() })).min(1),
]);

// ---------------------------------------------------------------------------------------------
// HTTP as the original's clients do it

interface Reply {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  body: unknown;
}

function show(r: Reply): string {
  const type = r.headers.get('content-type') ?? '';
  const binary = /zip|video|octet-stream|image/.test(type);
  const body = binary ? `<${r.bytes.length} bytes of ${type}>` : r.text.length > 3000 ? `${r.text.slice(0, 3000)}…(${r.text.length} chars)` : r.text;
  return `${r.method} ${r.path} → ${r.status} ${type}\n${body}`;
}

class StepFailure extends Error {}

/** What one step has seen; its last response goes into the failure message. */
class Step {
  last: Reply | undefined;
  constructor(
    private readonly base: string,
    private readonly key: string,
  ) {}

  async call(method: string, path: string, options: { body?: unknown; auth?: boolean; headers?: Record<string, string> } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.auth !== false) headers.authorization = `Bearer ${this.key}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const url = /^https?:\/\//.test(path) ? path : `${this.base}${path}`;
    const res = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    this.last = { method, path, status: res.status, headers: res.headers, bytes, text, body };
    return this.last;
  }

  /** Asserts the exact status (the original's clients test `== 200`, not 2xx). */
  status(r: Reply, expected: number, what = ''): void {
    if (r.status !== expected) throw new StepFailure(`${what ? `${what}: ` : ''}expected ${expected}, got ${r.status}\n${show(r)}`);
  }

  /** Parses the body with `schema`; the failure lists every mismatch and shows the body. */
  shape<S extends z.ZodType>(r: Reply, schema: S, what: string): z.infer<S> {
    const parsed = schema.safeParse(r.body);
    if (!parsed.success) throw new StepFailure(`${what}: the body does not have the contract's shape:\n${z.prettifyError(parsed.error)}\n${show(r)}`);
    return parsed.data;
  }

  /** An error answer: exactly `expected`, with a FastAPI `detail` (a string, or a list of {loc, msg, type}). */
  refusal(r: Reply, expected: number, what: string): void {
    this.status(r, expected, what);
    const detail = (r.body as { detail?: unknown } | undefined)?.detail;
    const parsed = errorDetailSchema.safeParse(detail);
    if (!parsed.success) throw new StepFailure(`${what}: the error body has no usable "detail" (a string, or a list of {loc, msg, type})\n${show(r)}`);
  }

  /** `r`: the reply to show on failure (the last one when omitted; null for none, as on the WebSocket). */
  check(condition: unknown, message: string, r: Reply | null | undefined = this.last): asserts condition {
    if (!condition) throw new StepFailure(r ? `${message}\n${show(r)}` : message);
  }
}

/** Calls `probe` every `everyMs` until `done` holds for its result; fails on timeout with the last result. */
async function pollFor<T>(what: () => string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, everyMs = POLL_EVERY_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() + everyMs > deadline) throw new StepFailure(`timed out after ${timeoutMs / 1000} s waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

function near(actual: number, expected: number, tolerance: number): boolean {
  return Math.abs(actual - expected) <= tolerance + 1e-9;
}

/** The §4 invariants: breakdown sums to the total (±0.05), savings = round(runway_alone − total, 2) (±0.011). */
function costInvariants(s: Step, e: CostEstimate, what: string): void {
  const sum = Object.values(e.breakdown).reduce((a, b) => a + b, 0);
  s.check(near(sum, e.aiprod_optimized, 0.05), `${what}: the breakdown sums to ${sum}, aiprod_optimized is ${e.aiprod_optimized} (±0.05)`);
  const expected = Math.round((e.runway_alone - e.aiprod_optimized) * 100) / 100;
  s.check(near(e.savings, expected, 0.011), `${what}: savings ${e.savings} ≠ round(runway_alone ${e.runway_alone} − aiprod_optimized ${e.aiprod_optimized}, 2) = ${expected} (±0.011)`);
}

/** Rows of a CSV body (quoted fields may hold commas; enough here to find an id in a row). */
function csvLines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '');
}

function unzip(s: Step, r: Reply, what: string): Record<string, Uint8Array> {
  try {
    return unzipSync(r.bytes);
  } catch (error) {
    throw new StepFailure(`${what}: the body is not a readable zip (${(error as Error).message})\n${show(r)}`);
  }
}

function zipJson(s: Step, files: Record<string, Uint8Array>, name: string, what: string): Record<string, unknown> {
  const file = files[name];
  s.check(file, `${what}: the zip has no ${name}; it holds ${JSON.stringify(Object.keys(files))}`);
  let value: unknown;
  try {
    value = JSON.parse(strFromU8(file));
  } catch {
    throw new StepFailure(`${what}: ${name} in the zip is not JSON: ${strFromU8(file).slice(0, 500)}`);
  }
  s.check(value !== null && typeof value === 'object' && !Array.isArray(value), `${what}: ${name} is not a JSON object: ${strFromU8(file).slice(0, 500)}`);
  return value as Record<string, unknown>;
}

/** The media type without parameters, lower-cased. */
function mediaType(r: Reply): string {
  return (r.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

// ---------------------------------------------------------------------------------------------
// The WebSocket of /ws/job/{id}

type WsMessage = Record<string, unknown>;

class JobSocket {
  readonly messages: WsMessage[] = [];
  readonly raw: string[] = [];
  closed = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = String(data);
      this.raw.push(text);
      try {
        const parsed: unknown = JSON.parse(text);
        this.messages.push(parsed !== null && typeof parsed === 'object' ? (parsed as WsMessage) : { unparsed: text });
      } catch {
        this.messages.push({ unparsed: text });
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }

  /** Opens the socket with the Bearer key; an HTTP refusal of the upgrade fails with its status and body. */
  static open(url: string, key: string): Promise<JobSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers: { authorization: `Bearer ${key}` }, handshakeTimeout: 10_000 });
      const job = new JobSocket(socket);
      socket.once('open', () => resolve(job));
      socket.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => reject(new StepFailure(`WS ${url}: the upgrade was refused with HTTP ${res.statusCode}\n${body.slice(0, 2000)}`)));
      });
      socket.once('error', (error) => reject(new StepFailure(`WS ${url}: ${error.message}`)));
    });
  }

  /** The first message at index ≥ `from` that `match` accepts; fails after `timeoutMs` listing what arrived. */
  async next(what: string, match: (m: WsMessage) => boolean, timeoutMs: number, from = 0): Promise<WsMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) {
        throw new StepFailure(`WS: ${this.closed ? 'the socket closed' : `${timeoutMs / 1000} s passed`} before ${what}; messages so far:\n${this.raw.join('\n')}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close(1000, 'done');
    const timer = setTimeout(() => this.socket.terminate(), 5_000);
    await closed;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// The walk

interface WalkState {
  /** The step-5 job (quick_social, rendered to the end). */
  renderJobId?: string;
  /** Whether step 8 saw that job complete. */
  renderCompleted?: boolean;
  /** The MP4 bytes of step 8, for the media check. */
  video?: Uint8Array;
  /** The ICC job of step 14 (or the /v1 review production of its fallback). */
  iccJobId?: string;
  /** Set when steps 15-21 run on the /v1 fallback production. */
  fallback?: boolean;
  /** Whether the ICC job was seen waiting for approval (steps 15-17 need it). */
  iccWaiting?: boolean;
  approved?: boolean;
  cancelled?: boolean;
  cancelledAt?: number;
  socket?: JobSocket;
  /** The step-21 refusal seen while the job still waited (PATCH {}). */
  emptyPatch?: Reply;
}

/**
 * Walks the original client's 21 steps against `base` with `key`, as subtests of `t`. Every step
 * runs; a step whose input an earlier step did not produce skips with the reason.
 */
export async function walkOriginalClient(t: TestContext, base: string, key: string, label: string): Promise<void> {
  const state: WalkState = {};
  const wsBase = base.replace(/^http/, 'ws');
  const icc = (): string => (state.fallback ? ' [on a /v1 review production]' : '');

  async function step(name: string, fn: (s: Step, st: TestContext) => Promise<void>): Promise<void> {
    await t.test(name, async (st) => {
      const s = new Step(base, key);
      try {
        await fn(s, st);
      } catch (error) {
        if (!(error instanceof StepFailure)) {
          throw new Error(`[${label}] ${name} failed: ${(error as Error).message}${s.last ? `\nlast response: ${show(s.last)}` : ''}`, { cause: error });
        }
        // A contract failure: the message says it all; keep only the frames of this file.
        const failure = new StepFailure(`[${label}] ${name} failed: ${error.message}`);
        const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at .*original-client\.ts/.test(line));
        failure.stack = [`StepFailure: ${failure.message}`, ...frames.slice(0, 3)].join('\n');
        throw failure;
      }
    });
  }
  /** Skips the step (returning undefined) when an earlier step did not provide `value`. */
  function need<T>(st: TestContext, value: T | undefined | false, why: string): T | undefined {
    if (value === undefined || value === false) {
      st.skip(`cannot run: ${why}`);
      return undefined;
    }
    return value;
  }

  try {
    await step('step 1: GET /health answers 200 {status: "ok"} without credentials', async (s: Step) => {
      const r = await s.call('GET', '/health', { auth: false });
      s.status(r, 200);
      s.shape(r, z.object({ status: z.literal('ok') }), 'GET /health');
    });

    await step('step 2: GET /presets lists the three presets, every entry with the eleven fields', async (s: Step) => {
      const r = await s.call('GET', '/presets');
      s.status(r, 200);
      const { presets } = s.shape(r, presetsSchema, 'GET /presets');
      const expected = {
        quick_social: { pipeline_mode: 'fast', allow_icc: false },
        brand_campaign: { pipeline_mode: 'full', allow_icc: true },
        premium_spot: { pipeline_mode: 'full', allow_icc: true },
      };
      for (const [name, want] of Object.entries(expected)) {
        const preset = presets[name];
        s.check(preset, `preset ${name} is missing; present: ${Object.keys(presets).join(', ')}`);
        s.check(preset.pipeline_mode === want.pipeline_mode && preset.allow_icc === want.allow_icc, `preset ${name}: pipeline_mode ${preset.pipeline_mode}, allow_icc ${preset.allow_icc}; expected ${want.pipeline_mode}, ${want.allow_icc}`);
      }
    });

    await step('step 3: GET /presets/{name} gives the detail with costs for 10s/30s/60s; an unknown name gives 404', async (s: Step) => {
      for (const name of ['quick_social', 'brand_campaign', 'premium_spot']) {
        const r = await s.call('GET', `/presets/${name}`);
        s.status(r, 200, `GET /presets/${name}`);
        const detail = s.shape(r, presetDetailSchema, `GET /presets/${name}`);
        for (const [key, seconds] of [['10s', 10], ['30s', 30], ['60s', 60]] as const) {
          const e = detail.cost_estimate_for_durations[key];
          s.check(e.duration_sec === seconds, `GET /presets/${name}: cost_estimate_for_durations["${key}"].duration_sec is ${e.duration_sec}, expected ${seconds}`);
          s.check(e.preset === name, `GET /presets/${name}: cost_estimate_for_durations["${key}"].preset is ${JSON.stringify(e.preset)}, expected "${name}"`);
        }
      }
      s.refusal(await s.call('GET', '/presets/no_such_preset'), 404, 'GET /presets/no_such_preset');
    });

    await step('step 4: POST /cost-estimate answers the full estimate, echoes its inputs, and keeps the invariants', async (s: Step) => {
      const content = 'A thirty second film about a solar desk lamp that charges on the window sill.';
      for (const complexity of ['low', 'high']) {
        const r = await s.call('POST', '/cost-estimate', { body: { content, duration_sec: 30, complexity } });
        s.status(r, 200, `complexity ${complexity}`);
        const e = s.shape(r, costEstimateSchema, `POST /cost-estimate complexity ${complexity}`);
        s.check(e.duration_sec === 30, `complexity ${complexity}: duration_sec is ${e.duration_sec}, expected 30 (the request's)`);
        s.check(e.preset === null, `complexity ${complexity}: preset is ${JSON.stringify(e.preset)}, expected null (none was sent)`);
        s.check(e.complexity === complexity, `complexity ${complexity}: complexity is echoed as ${JSON.stringify(e.complexity)}`);
        costInvariants(s, e, `complexity ${complexity}`);
      }
      const r = await s.call('POST', '/cost-estimate', { body: { content, duration_sec: 60, preset: 'premium_spot' } });
      s.status(r, 200, 'premium_spot, 60 s');
      const e = s.shape(r, costEstimateSchema, 'POST /cost-estimate premium_spot');
      s.check(e.preset === 'premium_spot' && e.duration_sec === 60, `premium_spot: preset ${JSON.stringify(e.preset)}, duration_sec ${e.duration_sec}; expected "premium_spot", 60`);
      s.check(e.complexity === 'high', `premium_spot forces complexity "high", got ${JSON.stringify(e.complexity)}`);
      costInvariants(s, e, 'premium_spot');
    });

    await step('step 5: POST /pipeline/run takes the French request with extra fields and queues a job', async (s: Step, st: TestContext) => {
      const r = await s.call('POST', '/pipeline/run', { body: FRENCH_REQUEST });
      const firstId = (r.body as { job_id?: unknown } | undefined)?.job_id;
      if (typeof firstId === 'string' && firstId !== '') state.renderJobId = firstId;
      if (r.status !== 200 && state.renderJobId === undefined) {
        // As the acceptance test does: retry without the extra fields so that later steps still measure something.
        const plain = Object.fromEntries(Object.entries(FRENCH_REQUEST).filter(([k]) => !EXTRA_FIELDS.includes(k)));
        const retry = await s.call('POST', '/pipeline/run', { body: plain });
        const retryId = (retry.body as { job_id?: unknown } | undefined)?.job_id;
        if (typeof retryId === 'string' && retryId !== '') state.renderJobId = retryId;
        st.diagnostic(`the request with extra fields was refused (${r.status}); without them: ${retry.status}${state.renderJobId ? `, job ${state.renderJobId}` : ''}`);
        throw new StepFailure(`the request with the extra fields ${EXTRA_FIELDS.join(', ')} must be accepted with 200\n${show(r)}`);
      }
      s.status(r, 200);
      const run = s.shape(r, runResponseSchema, 'POST /pipeline/run');
      s.check(run.check_status_at === `/pipeline/job/${run.job_id}`, `check_status_at is ${JSON.stringify(run.check_status_at)}, expected "/pipeline/job/${run.job_id}"`);
      const e = run.cost_estimate;
      s.check(e.duration_sec === 15 && e.preset === 'quick_social', `cost_estimate: duration_sec ${e.duration_sec}, preset ${JSON.stringify(e.preset)}; expected 15, "quick_social"`);
      costInvariants(s, e, 'cost_estimate');
    });

    await step('step 6: request errors — 422 without content, 401 without Authorization, 404 for an unknown job; each with detail', async (s: Step, st: TestContext) => {
      s.refusal(await s.call('POST', '/pipeline/run', { body: { priority: 'high' } }), 422, 'POST /pipeline/run without content');
      const unauthenticated = await s.call('POST', '/pipeline/run', { body: FRENCH_REQUEST, auth: false });
      s.refusal(unauthenticated, 401, 'POST /pipeline/run without Authorization');
      st.diagnostic(`401 WWW-Authenticate: ${unauthenticated.headers.get('www-authenticate') ?? '(none)'}`);
      s.refusal(await s.call('GET', '/pipeline/job/00000000-0000-4000-8000-000000000000'), 404, 'GET /pipeline/job/<unknown uuid>');
    });

    await step('step 7: GET /pipeline/status gives {state: string}; GET /icc/data gives an object', async (s: Step) => {
      const status = await s.call('GET', '/pipeline/status');
      s.status(status, 200, 'GET /pipeline/status');
      s.shape(status, z.object({ state: z.string() }), 'GET /pipeline/status');
      const data = await s.call('GET', '/icc/data');
      s.status(data, 200, 'GET /icc/data');
      s.shape(data, jsonObject, 'GET /icc/data');
    });

    await step('step 8: GET /pipeline/job/{id} polled every 2 s until completed; the video_url serves the MP4', async (s: Step, st: TestContext) => {
      const id = need(st, state.renderJobId, 'step 5 gave no job_id');
      if (!id) return;
      const seen: string[] = [];
      const final = await pollFor(
        () => `job ${id} to end (statuses seen: ${seen.join(' → ')})`,
        async () => {
          const r = await s.call('GET', `/pipeline/job/${id}`);
          s.status(r, 200, 'while polling');
          const status = (r.body as { status?: unknown } | undefined)?.status;
          s.check(typeof status === 'string' && pipelineStatus.safeParse(status).success, `while polling: status ${JSON.stringify(status)} is not one of ${PIPELINE_STATUSES.join('|')}`);
          if (seen.at(-1) !== status) seen.push(status);
          return { r, status: status.toLowerCase() };
        },
        ({ status }) => ['completed', 'failed', 'cancelled'].includes(status),
        360_000,
      );
      st.diagnostic(`statuses seen: ${seen.join(' → ')}`);
      s.check(final.status === 'completed', `the job ended ${final.status}, not completed (seen: ${seen.join(' → ')})`, final.r);
      state.renderCompleted = true;
      const job: PipelineJob = s.shape(final.r, pipelineJobSchema, `GET /pipeline/job/${id}`);
      s.check(job.job_id === id, `job_id is ${job.job_id}, expected ${id}`);
      s.check(job.preset === 'quick_social', `preset is ${JSON.stringify(job.preset)}, expected "quick_social" (the request's)`);
      s.check(job.content_preview.slice(0, 40) === FRENCH_REQUEST.content.slice(0, 40), `content_preview ${JSON.stringify(job.content_preview)} does not start like the content`);
      s.check(job.state_history.length > 0, 'state_history is empty');
      s.check(job.state_history.some((h) => h.state.toLowerCase() === 'completed'), `state_history has no "completed": ${JSON.stringify(job.state_history.map((h) => h.state))}`);
      const result = job.result;
      s.check(result, 'a completed job has no result');
      s.check(result.success === true && result.error_message === null, `result.success ${result.success}, error_message ${JSON.stringify(result.error_message)}; expected true, null`);
      s.check(typeof result.execution_time_ms === 'number', `result.execution_time_ms is ${JSON.stringify(result.execution_time_ms)}, expected a number`);
      const videoUrl = result.output.video_url;
      s.check(typeof videoUrl === 'string' && /^https?:\/\/[^/]/.test(videoUrl), `result.output.video_url ${JSON.stringify(videoUrl)} is not an absolute http(s) URL`);

      const range = { range: 'bytes=0-1023' };
      const anonymous = await s.call('GET', videoUrl, { auth: false, headers: range });
      // The original's URL was signed and needed no key; so is ours (a ?token= link).
      s.check([200, 206].includes(anonymous.status), `GET video_url without credentials: expected 200 or 206 (a signed link), got ${anonymous.status}`);
      s.check(mediaType(anonymous).startsWith('video/'), `GET video_url without credentials: content type ${JSON.stringify(anonymous.headers.get('content-type'))} is not video/*`);
      const ranged = await s.call('GET', videoUrl, { headers: range });
      s.check([200, 206].includes(ranged.status), `GET video_url with Range and the key: expected 200 or 206, got ${ranged.status}`);
      s.check(mediaType(ranged).startsWith('video/'), `GET video_url: content type ${JSON.stringify(ranged.headers.get('content-type'))} is not video/*`);
      if (ranged.status === 206) {
        s.check(ranged.bytes.length <= 1024 && /^bytes 0-/.test(ranged.headers.get('content-range') ?? ''), `206 with ${ranged.bytes.length} bytes and Content-Range ${ranged.headers.get('content-range')}`);
      }
      const full = await s.call('GET', videoUrl);
      s.status(full, 200, 'GET video_url (whole file, with the key)');
      state.video = full.bytes;
    });

    await step('step 8 (media): the rendered MP4 is a 15 s vertical H.264 video', async (s: Step, st: TestContext) => {
      const video = need(st, state.video, 'step 8 downloaded no video');
      if (!video) return;
      const dir = tempDir('original-client');
      try {
        const file = join(dir, 'video.mp4');
        writeFileSync(file, video);
        const facts = await probeMedia(file);
        st.diagnostic(`video: ${facts.video?.width}×${facts.video?.height} ${facts.video?.codec}, ${facts.durationSec.toFixed(2)} s, audio ${facts.audio?.codec ?? 'none'}`);
        s.check(facts.video, `the file has no video stream (${video.length} bytes)`);
        s.check(facts.video.height > facts.video.width, `quick_social is vertical, the video is ${facts.video.width}×${facts.video.height}`);
        s.check(near(facts.durationSec, 15, 1), `duration_sec 15 was asked, the video lasts ${facts.durationSec} s`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    await step('step 9: GET /pipeline/jobs?status=completed&limit=20&offset=0 lists the completed job', async (s: Step, st: TestContext) => {
      const r = await s.call('GET', '/pipeline/jobs?status=completed&limit=20&offset=0');
      s.status(r, 200);
      const page = s.shape(r, pipelineJobsSchema, 'GET /pipeline/jobs');
      s.check(page.limit === 20 && page.offset === 0, `limit ${page.limit}, offset ${page.offset}; expected 20, 0`);
      s.check(page.count === page.jobs.length, `count ${page.count} ≠ jobs.length ${page.jobs.length}`);
      s.check(page.jobs.every((j) => j.status.toLowerCase() === 'completed'), `the completed filter lists ${JSON.stringify(page.jobs.map((j) => j.status))}`);
      const id = need(st, state.renderCompleted && state.renderJobId, 'step 8 did not see the job complete');
      if (!id) return;
      const listed = page.jobs.find((j) => j.job_id === id);
      s.check(listed, `the step-8 job ${id} is not listed`);
      s.check(listed.preset === 'quick_social', `the step-8 job is listed with preset ${JSON.stringify(listed.preset)}, expected "quick_social"`);
    });

    await step('step 10: GET /job/{id}/costs gives estimated/actual/variance and the breakdown of the completed job', async (s: Step, st: TestContext) => {
      const id = need(st, state.renderCompleted && state.renderJobId, 'step 8 did not see the job complete');
      if (!id) return;
      const r = await s.call('GET', `/job/${id}/costs`);
      s.status(r, 200);
      const costs = s.shape(r, jobCostsSchema, `GET /job/${id}/costs`);
      s.check(costs.within_budget === Math.abs(costs.variance_percent) <= 20, `within_budget ${costs.within_budget} disagrees with variance_percent ${costs.variance_percent} (|v| ≤ 20)`);
    });

    await step('step 11: GET /export/formats describes json, csv and zip', async (s: Step) => {
      const r = await s.call('GET', '/export/formats');
      s.status(r, 200);
      const { formats } = s.shape(r, exportFormatsSchema, 'GET /export/formats');
      const mimes = { json: formats.json.mime_type, csv: formats.csv.mime_type, zip: formats.zip.mime_type };
      s.check(JSON.stringify(mimes) === JSON.stringify({ json: 'application/json', csv: 'text/csv', zip: 'application/zip' }), `mime types ${JSON.stringify(mimes)}`);
    });

    await step('step 12: GET /pipeline/{id}/export as json, csv and zip (attachments); format=xml gives 400', async (s: Step, st: TestContext) => {
      const id = need(st, state.renderCompleted && state.renderJobId, 'step 8 did not see the job complete');
      if (!id) return;
      const exported = async (format: string, mime: string): Promise<Reply> => {
        const r = await s.call('GET', `/pipeline/${id}/export?format=${format}`);
        s.status(r, 200, `format=${format}`);
        s.check(mediaType(r) === mime, `format=${format}: content type ${JSON.stringify(r.headers.get('content-type'))}, expected ${mime}`);
        const disposition = r.headers.get('content-disposition') ?? '';
        s.check(/^attachment\s*;/i.test(disposition) && disposition.includes(id) && new RegExp(`filename="?[^";]*\\.${format}"?`, 'i').test(disposition), `format=${format}: Content-Disposition ${JSON.stringify(disposition)} is not "attachment; filename=job-${id}.${format}"`);
        return r;
      };
      const json = await exported('json', 'application/json');
      const doc = s.shape(json, z.object({ metadata: z.object({ export_format: z.string() }), job: z.object({ id: z.string() }) }), 'format=json');
      s.check(doc.job.id === id && doc.metadata.export_format === 'json', `format=json: job.id ${doc.job.id}, metadata.export_format ${doc.metadata.export_format}`);

      const csv = await exported('csv', 'text/csv');
      const lines = csvLines(csv.text);
      s.check(lines.length >= 2 && lines.slice(1).some((line) => line.includes(id)), `format=csv: expected a header and a row holding ${id}`);

      const zip = await exported('zip', 'application/zip');
      const files = unzip(s, zip, 'format=zip');
      const metadata = zipJson(s, files, 'metadata.json', 'format=zip');
      s.check(metadata.job_id === id, `format=zip: metadata.json job_id is ${JSON.stringify(metadata.job_id)}, expected ${id}`);
      zipJson(s, files, 'result.json', 'format=zip');

      s.refusal(await s.call('GET', `/pipeline/${id}/export?format=xml`), 400, 'format=xml');
    });

    await step('step 13: GET /jobs/export as csv and zip lists the job', async (s: Step, st: TestContext) => {
      const id = need(st, state.renderJobId, 'step 5 gave no job_id');
      if (!id) return;
      const csv = await s.call('GET', '/jobs/export?format=csv&limit=100');
      s.status(csv, 200, 'format=csv');
      s.check(mediaType(csv) === 'text/csv', `format=csv: content type ${JSON.stringify(csv.headers.get('content-type'))}`);
      s.check(csvLines(csv.text).slice(1).some((line) => line.includes(id)), `format=csv: no row holds ${id}`);
      const zip = await s.call('GET', '/jobs/export?format=zip&limit=100');
      s.status(zip, 200, 'format=zip');
      s.check(mediaType(zip) === 'application/zip', `format=zip: content type ${JSON.stringify(zip.headers.get('content-type'))}`);
      const files = unzip(s, zip, 'format=zip');
      s.check(files['jobs_summary.csv'], `the zip has no jobs_summary.csv; it holds ${JSON.stringify(Object.keys(files))}`);
      zipJson(s, files, `jobs/${id}.json`, 'format=zip');
    });

    await step('step 14: a brand_campaign job waits for approval — GET /job/{id} reaches waiting_approval; GET /jobs lists it', async (s: Step, st: TestContext) => {
      try {
        const run = await s.call('POST', '/pipeline/run', { body: BRAND_REQUEST });
        s.status(run, 200, 'POST /pipeline/run brand_campaign');
        const { job_id: id } = s.shape(run, z.object({ job_id: z.string().min(1) }), 'POST /pipeline/run brand_campaign');
        state.iccJobId = id;
        const seen: string[] = [];
        const waiting = await pollFor(
          () => `job ${id} to reach waiting_approval (states seen: ${seen.join(' → ')})`,
          async () => {
            const r = await s.call('GET', `/job/${id}`);
            s.status(r, 200, 'GET /job/{id} while polling');
            const value = (r.body as { state?: unknown } | undefined)?.state;
            s.check(iccState.safeParse(value).success, `while polling: state ${JSON.stringify(value)} is not an ICC word (${ICC_STATES.join('|')})`);
            const word = value as IccJob['state'];
            if (seen.at(-1) !== word) seen.push(word);
            s.check(!['delivered', 'cancelled', 'error'].includes(word), `the job ended ${word} without waiting for approval (seen: ${seen.join(' → ')})`);
            return { r, word };
          },
          ({ word }) => word === 'waiting_approval',
          180_000,
        );
        st.diagnostic(`states seen: ${seen.join(' → ')}`);
        state.iccWaiting = true;
        const job = s.shape(waiting.r, iccJobSchema, `GET /job/${id}`);
        const body = waiting.r.body as Record<string, unknown>;
        const missing = ICC_JOB_OPEN_KEYS.filter((k) => !(k in body));
        s.check(missing.length === 0, `GET /job/${id} lacks ${missing.join(', ')}`, waiting.r);
        s.check(job.id === id && job.preset === 'brand_campaign' && job.approved === false, `id ${job.id}, preset ${JSON.stringify(job.preset)}, approved ${job.approved}; expected ${id}, "brand_campaign", false`, waiting.r);
        const list = await s.call('GET', '/jobs');
        s.status(list, 200, 'GET /jobs');
        const jobs = s.shape(list, iccJobsSchema, 'GET /jobs');
        s.check(jobs.jobs.some((j) => j.id === id), `GET /jobs does not list ${id}`);
      } catch (error) {
        if (!state.iccWaiting) await reviewFallback(new Step(base, key), st);
        throw error;
      }
    });

    /** Diagnosis only: a /v1 production in review, so that steps 15-21 still measure the ICC routes (step 14 stays failed). */
    async function reviewFallback(s: Step, st: TestContext): Promise<void> {
      try {
        const created = await s.call('POST', '/v1/productions', { body: { prompt: BRAND_REQUEST.content, targetDurationSec: 15, language: 'en', review: true } });
        const id = (created.body as { id?: unknown } | undefined)?.id;
        if (typeof id !== 'string') throw new StepFailure(`POST /v1/productions {review: true}: ${show(created)}`);
        await pollFor(
          () => `/v1 production ${id} to await review`,
          async () => ((await s.call('GET', `/v1/productions/${id}`)).body ?? {}) as { status?: string },
          (p) => p.status === 'awaiting_review' || ['succeeded', 'failed', 'cancelled'].includes(p.status ?? ''),
          120_000,
        );
        const status = (s.last?.body as { status?: string } | undefined)?.status;
        if (status !== 'awaiting_review') throw new StepFailure(`the /v1 production ended ${status}`);
        state.iccJobId = id;
        state.iccWaiting = true;
        state.fallback = true;
        st.diagnostic(`fallback: steps 15-21 run on /v1 review production ${id}`);
      } catch (error) {
        st.diagnostic(`fallback to a /v1 review production failed too: ${(error as Error).message}`);
      }
    }

    await step(`step 15: GET /job/{id}/manifest on the waiting job is editable, with an empty history${icc()}`, async (s: Step, st: TestContext) => {
      const id = need(st, state.iccWaiting && state.iccJobId, 'step 14 has no job waiting for approval');
      if (!id) return;
      // Clients poll while the manifest is not ready (400).
      const r = await pollFor(() => `the manifest of ${id} (400 while not ready)`, () => s.call('GET', `/job/${id}/manifest`), (reply) => reply.status !== 400, 30_000);
      s.status(r, 200);
      const view = s.shape(r, manifestViewSchema, `GET /job/${id}/manifest`);
      s.check(view.job_id === id && view.state === 'waiting_approval' && view.can_edit === true, `job_id ${view.job_id}, state ${view.state}, can_edit ${view.can_edit}; expected ${id}, waiting_approval, true`);
      s.check(view.editable_fields.length === EDITABLE_FIELDS.length && EDITABLE_FIELDS.every((f) => view.editable_fields.includes(f)), `editable_fields ${JSON.stringify(view.editable_fields)}, expected ${JSON.stringify(EDITABLE_FIELDS)}`);
      s.check(view.locked_fields.includes('consistency_markers'), `locked_fields ${JSON.stringify(view.locked_fields)} lacks consistency_markers`);
      s.check(view.edits_history.length === 0, `edits_history is not empty: ${JSON.stringify(view.edits_history)}`);
    });

    await step(`step 16: WS /ws/job/{id} with the Bearer key — connected, ping → pong, status → waiting_approval${icc()}`, async (s: Step, st: TestContext) => {
      const id = need(st, state.iccWaiting && state.iccJobId, 'step 14 has no job waiting for approval');
      if (!id) return;
      const socket = await JobSocket.open(`${wsBase}/ws/job/${id}`, key);
      state.socket = socket;
      const first = await socket.next('a first message', () => true, 10_000);
      const connected = wsConnectedSchema.safeParse(first);
      s.check(connected.success, `the first message is not {event: "connected", job_id, state, timestamp}: ${JSON.stringify(first)}${connected.success ? '' : `\n${z.prettifyError(connected.error)}`}`, null);
      s.check(connected.data.job_id === id, `connected.job_id is ${connected.data.job_id}, expected ${id}`, null);
      let from = socket.messages.length;
      socket.socket.send('ping');
      await socket.next('{"event":"pong"} within 10 s of "ping"', (m) => m.event === 'pong', 10_000, from);
      from = socket.messages.length;
      socket.socket.send('status');
      const status = await socket.next('{"event":"status"} within 10 s of "status"', (m) => m.event === 'status', 10_000, from);
      const parsed = wsStatusSchema.safeParse(status);
      s.check(parsed.success, `the status reply is not {event, job_id, state, approved}: ${JSON.stringify(status)}`, null);
      s.check(parsed.data.job_id === id && parsed.data.state === 'waiting_approval' && parsed.data.approved === false, `status reply ${JSON.stringify(status)}; expected state waiting_approval, approved false`, null);
    });

    await step(`step 17: PATCH /job/{id}/manifest {duration: 12, audio_style: "upbeat"} updates the plan and records one edit${icc()}`, async (s: Step, st: TestContext) => {
      const id = need(st, state.iccWaiting && state.iccJobId, 'step 14 has no job waiting for approval');
      if (!id) return;
      const edit = { duration: 12, audio_style: 'upbeat' };
      const r = await s.call('PATCH', `/job/${id}/manifest`, { body: edit });
      s.status(r, 200);
      const updated = s.shape(r, manifestUpdateSchema, `PATCH /job/${id}/manifest`);
      s.check(updated.job_id === id, `job_id ${updated.job_id}, expected ${id}`);
      s.check(updated.manifest.duration === 12 && updated.manifest.audio_style === 'upbeat', `the returned manifest has duration ${JSON.stringify(updated.manifest.duration)}, audio_style ${JSON.stringify(updated.manifest.audio_style)}`);
      s.check(JSON.stringify(Object.entries(updated.changes).sort()) === JSON.stringify(Object.entries(edit).sort()), `changes ${JSON.stringify(updated.changes)} do not echo ${JSON.stringify(edit)}`);
      s.check(updated.edits_count === 1, `edits_count is ${updated.edits_count}, expected 1`);
      const after = await s.call('GET', `/job/${id}/manifest`);
      s.status(after, 200, 'GET …/manifest after the edit');
      const view = s.shape(after, manifestViewSchema, 'GET …/manifest after the edit');
      s.check(view.manifest.duration === 12, `manifest.duration is ${JSON.stringify(view.manifest.duration)} after the edit`);
      s.check(view.edits_history.length === 1, `edits_history has ${view.edits_history.length} entries, expected 1`);
      const changes = view.edits_history[0]?.changes ?? {};
      s.check(changes.duration?.new === 12 && changes.audio_style?.new === 'upbeat', `the history entry's changes ${JSON.stringify(changes)} lack duration.new 12 and audio_style.new "upbeat"`);
    });

    await step(`step 21 (while waiting): PATCH /job/{id}/manifest {} gives 400${icc()}`, async (s: Step, st: TestContext) => {
      const id = need(st, state.iccWaiting && state.iccJobId, 'step 14 has no job waiting for approval');
      if (!id) return;
      const job = await s.call('GET', `/job/${id}`);
      s.check(job.status === 200 && (job.body as { state?: unknown }).state === 'waiting_approval', 'the job no longer waits for approval');
      state.emptyPatch = await s.call('PATCH', `/job/${id}/manifest`, { body: {} });
      s.refusal(state.emptyPatch, 400, 'PATCH …/manifest {} while waiting_approval');
    });

    await step(`step 18: POST /job/{id}/approve starts the render; GET /job/{id} shows approved${icc()}`, async (s: Step, st: TestContext) => {
      const id = need(st, state.iccWaiting && state.iccJobId, 'step 14 has no job waiting for approval');
      if (!id) return;
      const r = await s.call('POST', `/job/${id}/approve`);
      s.status(r, 200);
      state.approved = true;
      const approved = s.shape(r, approveSchema, `POST /job/${id}/approve`);
      s.check(approved.job_id === id, `job_id ${approved.job_id}, expected ${id}`);
      const job = await s.call('GET', `/job/${id}`);
      s.status(job, 200, 'GET /job/{id} after approval');
      const seen = s.shape(job, iccJobSchema, 'GET /job/{id} after approval');
      s.check(seen.approved === true && seen.approval_timestamp !== null, `approved ${seen.approved}, approval_timestamp ${seen.approval_timestamp}; expected true and a time`);
    });

    await step(`step 19: POST /job/{id}/cancel?reason=… stops the approved job; /pipeline/job/{id} says cancelled within 30 s${icc()}`, async (s: Step, st: TestContext) => {
      const id = need(st, state.approved && state.iccJobId, 'step 18 did not approve the job');
      if (!id) return;
      const r = await s.call('POST', `/job/${id}/cancel?reason=${encodeURIComponent(CANCEL_REASON)}`);
      state.cancelledAt = Date.now();
      s.status(r, 200);
      state.cancelled = true;
      const cancelled = s.shape(r, cancelSchema, `POST /job/${id}/cancel`);
      s.check(cancelled.job_id === id && cancelled.reason === CANCEL_REASON, `job_id ${cancelled.job_id}, reason ${JSON.stringify(cancelled.reason)}; expected ${id}, ${JSON.stringify(CANCEL_REASON)}`);
      const seen: string[] = [];
      const final = await pollFor(
        () => `GET /pipeline/job/${id} to say cancelled (seen: ${seen.join(' → ')})`,
        async () => {
          const job = await s.call('GET', `/pipeline/job/${id}`);
          s.status(job, 200, 'GET /pipeline/job/{id} after the cancel');
          const status = (job.body as { status?: unknown }).status;
          s.check(typeof status === 'string' && pipelineStatus.safeParse(status).success, `status ${JSON.stringify(status)} is not one of ${PIPELINE_STATUSES.join('|')}`);
          if (seen.at(-1) !== status) seen.push(status);
          return status.toLowerCase();
        },
        (status) => status !== 'pending' && status !== 'processing',
        30_000,
      );
      s.check(final === 'cancelled', `after the cancel the job ended ${final} (seen: ${seen.join(' → ')}); a cancel must stop it`);
    });

    await step(`step 20: the socket received manifest_updated, approved and cancelled, each {event, job_id, state, timestamp, data}${icc()}`, async (s: Step, st: TestContext) => {
      const socket = need(st, state.socket, 'step 16 opened no socket');
      const id = need(st, state.cancelled && state.iccJobId, 'step 19 did not cancel the job');
      const cancelledAt = state.cancelledAt;
      if (!socket || !id || cancelledAt === undefined) return;
      const left = (): number => Math.max(0, cancelledAt + 15_000 - Date.now());
      const manifest = await socket.next('manifest_updated with data.duration.new 12', (m) => m.event === 'manifest_updated' && (m.data as { duration?: { new?: unknown } } | undefined)?.duration?.new === 12, left());
      const approved = await socket.next('approved', (m) => m.event === 'approved', left());
      const cancelled = await socket.next(`cancelled with data.reason ${JSON.stringify(CANCEL_REASON)}`, (m) => m.event === 'cancelled' && (m.data as { reason?: unknown } | undefined)?.reason === CANCEL_REASON, left());
      for (const m of [manifest, approved, cancelled]) {
        const parsed = wsPushedSchema.safeParse(m);
        s.check(parsed.success, `pushed event ${JSON.stringify(m)} is not {event, job_id, state: <ICC word>, timestamp, data: object}${parsed.success ? '' : `\n${z.prettifyError(parsed.error)}`}`, null);
        s.check(parsed.data.job_id === id, `pushed event ${JSON.stringify(m)} names job ${parsed.data.job_id}, expected ${id}`, null);
      }
      const pushed = socket.messages.filter((m) => typeof m.event === 'string' && !WS_REPLIES.has(m.event));
      const malformed = pushed.filter((m) => !wsPushedSchema.safeParse(m).success);
      s.check(malformed.length === 0, `pushed messages not in the format {event, job_id, state, timestamp, data}: ${JSON.stringify(malformed)}`, null);
      st.diagnostic(`events received: ${socket.messages.map((m) => m.event ?? JSON.stringify(m)).join(', ')}`);
      await socket.close();
    });

    await step(`step 21: refusals — approve, PATCH and cancel on the cancelled job give 400; an unknown job's manifest gives 404${icc()}`, async (s: Step, st: TestContext) => {
      s.refusal(await s.call('GET', '/job/no-such-job/manifest'), 404, 'GET /job/no-such-job/manifest');
      const empty = need(st, state.emptyPatch, 'the PATCH {} of "step 21 (while waiting)" was not sent');
      const id = need(st, state.cancelled && state.iccJobId, 'step 19 did not cancel the job');
      if (!empty || !id) return;
      s.refusal(empty, 400, 'PATCH …/manifest {} while waiting_approval (sent before step 18)');
      s.refusal(await s.call('POST', `/job/${id}/approve`), 400, 'approve on the cancelled job');
      s.refusal(await s.call('PATCH', `/job/${id}/manifest`, { body: { duration: 10 } }), 400, 'PATCH on the cancelled job');
      s.refusal(await s.call('POST', `/job/${id}/cancel?reason=${encodeURIComponent('Again')}`), 400, 'cancel on the cancelled job');
    });
  } finally {
    state.socket?.socket.terminate();
  }
}

const KEY_LINE = /^ {2}(aiprod_[a-z0-9]{12}_[A-Za-z0-9_-]{32,})$/m;

/**
 * Starts `aiprod serve` with `env` (two render slots; an ICC job waits for approval for ever, since
 * the walk approves or cancels it itself), takes the admin key it prints on first start, and walks.
 */
export async function serveAndWalk(t: TestContext, env: Record<string, string>, database: 'pglite' | 'postgres'): Promise<void> {
  const server = startCli(['serve', '--port', '0'], { ...env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '2', COMPAT_AUTO_APPROVE_SEC: '0' });
  const listening = new RegExp(`listening on (http://127\\.0\\.0\\.1:\\d+) \\(docs: .*database: ${database}\\)`);
  const [, base] = await server.waitForStdout(listening, 60_000);
  const key = KEY_LINE.exec(server.stdout())?.[1];
  if (!base || !key) throw new Error(`aiprod serve printed no address or no admin key on first start\n${server.output()}`);
  await walkOriginalClient(t, base, key, database);
  if (server.child.exitCode !== null) throw new Error(`aiprod serve exited during the walk\n${server.output()}`);
}
