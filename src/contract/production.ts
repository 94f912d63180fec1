/**
 * The production resource of the HTTP API: what a client sends (a brief plus delivery options),
 * what it reads back (status, progress, stages, outputs, qa, cost), and the list/batch shapes.
 * Shared by the API, the OpenAPI document and the SDK.
 */
import { z } from 'zod';
import { briefFieldsSchema, requireOneSource } from './brief.js';

export const PRODUCTION_STATUSES = [
  'queued',
  'planning',
  'awaiting_review',
  'rendering',
  'mixing',
  'composing',
  'checking',
  'succeeded',
  'failed',
  'canceled',
] as const;
export type ProductionStatus = (typeof PRODUCTION_STATUSES)[number];

/** A worker holds the production in one of these; a stale heartbeat in one of them means a dead worker. */
export const RUNNING_STATUSES = ['planning', 'rendering', 'mixing', 'composing', 'checking'] as const satisfies readonly ProductionStatus[];
export const FINAL_STATUSES = ['succeeded', 'failed', 'canceled'] as const satisfies readonly ProductionStatus[];

export const isFinal = (status: ProductionStatus): boolean => (FINAL_STATUSES as readonly string[]).includes(status);

const metadataSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'metadata keys are 1–64 letters, digits or _ . : -'), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 32, 'at most 32 metadata entries')
  .describe('Your own string labels, returned as given and usable as a list filter (at most 32).');

export const productionOptionsShape = {
  webhookUrl: z.url({ protocol: /^https?$/ }).max(2048).optional().describe('Called when the production finishes or waits for review.'),
  review: z.boolean().optional().describe('Pause after planning (status awaiting_review) until the storyboard is approved.'),
  autoApproveAfterSec: z
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .optional()
    .describe('With review: approve the storyboard as it stands after this many seconds without a review action (an edit restarts the wait). Default: wait for ever.'),
  metadata: metadataSchema.optional(),
  priority: z
    .number()
    .int()
    .min(0)
    .max(10)
    .optional()
    .describe("0 (default) to 10; higher is rendered first. Capped by the tenant's tier: free 0, pro 5, enterprise 10; a higher value is lowered to the cap, and the production shows the priority it got."),
};

export const createProductionSchema = briefFieldsSchema
  .extend(productionOptionsShape)
  .superRefine(requireOneSource)
  .meta({
    id: 'CreateProduction',
    description: 'A brief (exactly one of prompt, script, scenes, or a template with its merge fields) plus delivery options.',
    examples: [
      { prompt: 'a 30-second launch video for a solar-powered backpack', preset: 'social_vertical', metadata: { campaign: 'spring' } },
      {
        script: 'Meet Nimbus, the backpack that charges your phone with sunlight. Six hours of sun, two full charges.',
        aspectRatio: '16:9',
        resolution: '1080p',
        music: { mood: 'uplifting' },
        outputs: ['mp4', 'srt'],
        review: true,
        webhookUrl: 'https://example.com/hooks/aiprod',
      },
      {
        scenes: [
          { narration: 'Our quarter in numbers.', title: 'Q3', visual: { type: 'gradient', colors: ['#0f172a', '#1e3a8a'] }, durationSec: 4 },
          { narration: 'Revenue up twelve percent.', visual: { type: 'image', src: 'charts/revenue.png' } },
        ],
        resolution: '720p',
      },
    ],
  });
export type CreateProduction = z.infer<typeof createProductionSchema>;

export const BATCH_MAX = 500;
export const batchSchema = z
  .strictObject({
    productions: z.array(z.unknown()).min(1).max(BATCH_MAX).describe(`1–${BATCH_MAX} production requests, each like POST /v1/productions.`),
  })
  .meta({ id: 'BatchRequest', examples: [{ productions: [{ prompt: 'a teaser for our spring sale' }, { prompt: 'a teaser for our summer sale', preset: 'square_post' }] }] });

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable snake_case code, e.g. invalid_brief, not_found, rate_limited.'),
      message: z.string(),
      details: z.array(z.object({ path: z.string().optional(), message: z.string() }).loose()).optional(),
    }),
  })
  .meta({
    id: 'Error',
    examples: [
      {
        error: {
          code: 'invalid_brief',
          message: 'invalid brief: scenes.0.visual.color: use a hex colour such as "#1e3a8a" or "#fff"',
          details: [{ path: 'scenes.0.visual.color', message: 'use a hex colour such as "#1e3a8a" or "#fff"' }],
        },
      },
    ],
  });

export const outputSchema = z.object({
  name: z.string().describe('video.mp4, video.webm, audio.m4a, preview.gif, thumbnail.jpg, contact-sheet.jpg (a frame of every scene, for review at a glance), captions.srt, captions.vtt, storyboard.json, qa.json, design.json (every element placed on the frame), cost.json'),
  kind: z.string(),
  mime: z.string(),
  bytes: z.number().int(),
  durationSec: z.number().nullable(),
  url: z.string().describe('Where to download it (a signed URL when storage is S3).'),
});

export const stageSchema = z.object({
  stage: z.string(),
  attempt: z.number().int(),
  status: z.enum(['running', 'succeeded', 'failed']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  wallSec: z.number().nullable(),
  cachedUnits: z.number().int().nullable(),
  totalUnits: z.number().int().nullable(),
});

/** A provider that failed or was skipped, and the next in its chain that was used. */
export const fallbackSchema = z.object({
  stage: z.string(),
  from: z.string().describe('Provider id that failed, e.g. "elevenlabs:eleven_multilingual_v2".'),
  to: z.string().optional().describe('Provider id used instead.'),
  code: z.string().describe('Why: provider_unavailable, provider_rate_limited, provider_timeout, provider_auth, provider_refused …'),
  reason: z.string(),
});

/** One experiment a production is in (src/experiments, docs/experiments.md). */
export const experimentAssignmentSchema = z.object({
  variant: z.string().describe('The variant the flag assigned.'),
  value: z.string().describe('What the variant sets, e.g. the caption style "word".'),
  applied: z.boolean().describe('false when the brief made this choice itself: the brief wins, and the render ignored the variant.'),
});
/** Flag key → the variant assigned at creation. */
export const experimentsSchema = z.record(z.string(), experimentAssignmentSchema);
export type ExperimentAssignments = z.infer<typeof experimentsSchema>;

/** The cost summary of a production (the whole report is cost.json among the outputs). */
export const costViewSchema = z.object({
  totalUsd: z.number().describe('What the render cost, in USD, at the configured prices.'),
  estimatedUsd: z.number().nullable().describe('The estimate made once the plan was known.'),
  varianceUsd: z.number().describe('totalUsd − estimatedUsd.'),
  quality: z.string().optional().describe('The provider tier the render used.'),
  stages: z.array(z.record(z.string(), z.unknown())).describe('One record per stage and provider: units, usage, usd, CPU and wall time.'),
  byStage: z.array(z.object({ stage: z.string(), providers: z.array(z.string()), estimatedUsd: z.number(), actualUsd: z.number(), varianceUsd: z.number() })),
  attributions: z.array(z.object({ source: z.string(), author: z.string().optional(), url: z.string().optional(), licence: z.string() })).describe('Credits owed for stock media and sounds used.'),
});

export const productionSchema = z
  .object({
    id: z.string(),
    status: z.enum(PRODUCTION_STATUSES),
    stage: z.string().nullable().describe('The stage running now, or the last that ran.'),
    progress: z.number().min(0).max(100),
    attempts: z.number().int(),
    title: z.string().nullable(),
    review: z.boolean(),
    approvedAt: z.string().nullable().describe('When the storyboard was approved (review productions).'),
    cancelReason: z.string().nullable().describe('Why it was canceled, as the canceller said.'),
    metadata: z.record(z.string(), z.string()),
    priority: z.number().int(),
    webhookUrl: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    stages: z.array(stageSchema),
    outputs: z.array(outputSchema),
    qa: z
      .object({ passed: z.boolean(), failed: z.array(z.string()), measurements: z.record(z.string(), z.unknown()) })
      .nullable()
      .describe('Summary of qa.json: pass/fail, the failed checks, the measured values.'),
    cost: costViewSchema.nullable(),
    fallbacks: z.array(fallbackSchema).describe('Providers that failed during the render and what replaced them, oldest first.'),
    // Optional in the type only (views written before experiments existed); the API always sends it.
    experiments: experimentsSchema.optional().describe('The A/B experiments it is in, by flag key (GET /v1/experiments/{flag} reports them); {} for none.'),
    durationSec: z.number().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    links: z.object({ self: z.string(), events: z.string(), storyboard: z.string() }),
  })
  .meta({
    id: 'Production',
    examples: [
      {
        id: '0d9c6a52-3f0e-4a57-9a63-3c1f2b6f8f10',
        status: 'succeeded',
        stage: 'qa',
        progress: 100,
        attempts: 1,
        title: 'Nimbus, the solar backpack',
        review: false,
        approvedAt: null,
        cancelReason: null,
        metadata: { campaign: 'spring' },
        priority: 0,
        webhookUrl: null,
        error: null,
        stages: [
          { stage: 'plan', attempt: 1, status: 'succeeded', startedAt: '2026-11-25T10:00:01.200Z', finishedAt: '2026-11-25T10:00:01.260Z', wallSec: 0.06, cachedUnits: 0, totalUnits: 1 },
          { stage: 'visualize', attempt: 1, status: 'succeeded', startedAt: '2026-11-25T10:00:02.900Z', finishedAt: '2026-11-25T10:00:09.400Z', wallSec: 6.5, cachedUnits: 0, totalUnits: 12 },
        ],
        outputs: [
          { name: 'video.mp4', kind: 'video', mime: 'video/mp4', bytes: 4_812_333, durationSec: 30.2, url: '/v1/productions/0d9c6a52-3f0e-4a57-9a63-3c1f2b6f8f10/outputs/video.mp4' },
          { name: 'captions.srt', kind: 'captions', mime: 'application/x-subrip', bytes: 1_204, durationSec: null, url: '/v1/productions/0d9c6a52-3f0e-4a57-9a63-3c1f2b6f8f10/outputs/captions.srt' },
        ],
        qa: { passed: true, failed: [], measurements: { integratedLufs: -14.1, truePeakDb: -1.4, durationSec: 30.2 } },
        cost: {
          totalUsd: 0.0412,
          estimatedUsd: 0.0412,
          varianceUsd: 0,
          quality: 'standard',
          stages: [{ stage: 'narrate', provider: 'elevenlabs:eleven_multilingual_v2', units: { characters: 412 }, usage: { characters: 412 }, usd: 0.0412 }],
          byStage: [{ stage: 'narrate', providers: ['elevenlabs:eleven_multilingual_v2'], estimatedUsd: 0.0412, actualUsd: 0.0412, varianceUsd: 0 }],
          attributions: [],
        },
        fallbacks: [],
        experiments: { 'caption-style': { variant: 'word', value: 'word', applied: true } },
        durationSec: 30.2,
        createdAt: '2026-11-25T10:00:00.950Z',
        updatedAt: '2026-11-25T10:00:14.020Z',
        startedAt: '2026-11-25T10:00:01.100Z',
        finishedAt: '2026-11-25T10:00:14.020Z',
        links: {
          self: '/v1/productions/0d9c6a52-3f0e-4a57-9a63-3c1f2b6f8f10',
          events: '/v1/productions/0d9c6a52-3f0e-4a57-9a63-3c1f2b6f8f10/events',
          storyboard: '/v1/productions/0d9c6a52-3f0e-4a57-9a63-3c1f2b6f8f10/storyboard',
        },
      },
    ],
  });
export type Production = z.infer<typeof productionSchema>;

export const acceptedSchema = z
  .object({ id: z.string(), status: z.enum(PRODUCTION_STATUSES), links: productionSchema.shape.links })
  .meta({
    id: 'Accepted',
    examples: [
      {
        id: '0d9c6a52-3f0e-4a57-9a63-3c1f2b6f8f10',
        status: 'queued',
        links: {
          self: '/v1/productions/0d9c6a52-3f0e-4a57-9a63-3c1f2b6f8f10',
          events: '/v1/productions/0d9c6a52-3f0e-4a57-9a63-3c1f2b6f8f10/events',
          storyboard: '/v1/productions/0d9c6a52-3f0e-4a57-9a63-3c1f2b6f8f10/storyboard',
        },
      },
    ],
  });

export const listQuerySchema = z.strictObject({
  status: z
    .string()
    .optional()
    .describe('One status or several, comma-separated (queued,rendering).')
    .refine((v) => v === undefined || v.split(',').every((s) => (PRODUCTION_STATUSES as readonly string[]).includes(s)), {
      message: `use one or more of ${PRODUCTION_STATUSES.join(', ')}, comma-separated`,
    }),
  createdFrom: z.iso.datetime({ offset: true }).optional().describe('ISO 8601; productions created at or after.'),
  createdTo: z.iso.datetime({ offset: true }).optional().describe('ISO 8601; productions created before.'),
  metadata: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}=.{0,512}$/, 'use key=value')
    .optional()
    .describe('key=value: productions whose metadata has that entry.'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional().describe('The nextCursor of the previous page.'),
});
export type ListQuery = z.infer<typeof listQuerySchema>;

export const listSchema = z
  .object({ data: z.array(productionSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ProductionList' });

/** One event of GET /v1/productions/:id/events (SSE `data:`) and of the WebSocket. */
export const productionEventSchema = z.object({
  id: z.string(),
  status: z.enum(PRODUCTION_STATUSES),
  stage: z.string().nullable(),
  progress: z.number(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  fallbacks: z.array(fallbackSchema).describe('Provider fallbacks so far in this render.'),
  at: z.string(),
});
export type ProductionEvent = z.infer<typeof productionEventSchema>;

/** POST /v1/estimate: what a brief would cost and how long it would be, without rendering it. */
export const estimateSchema = z
  .object({
    title: z.string(),
    scenes: z.number().int(),
    durationSec: z.number().describe('Estimated length of the video (narration sized at a measured speaking rate).'),
    width: z.number().int(),
    height: z.number().int(),
    outputs: z.array(z.string()),
    quality: z.string().describe('The provider tier priced: economy, standard or premium.'),
    renderSec: z.number().describe('Estimated render wall time on one worker slot of a 2-core machine.'),
    cost: z.object({
      currency: z.literal('USD'),
      totalUsd: z.number(),
      minimumUsd: z.number().describe('The least the render can cost (every stage offline). A tenant budget between this and totalUsd is accepted: the render steps down to a tier the budget can pay for.'),
      items: z.array(
        z.object({ stage: z.string(), provider: z.string(), units: z.record(z.string(), z.number()), unitPriceUsd: z.number(), usd: z.number() }),
      ),
    }),
    notes: z.array(z.string()),
  })
  .meta({
    id: 'Estimate',
    examples: [
      {
        title: 'How bees make honey',
        scenes: 5,
        durationSec: 20,
        width: 1280,
        height: 720,
        outputs: ['mp4'],
        quality: 'standard',
        renderSec: 7,
        cost: {
          currency: 'USD',
          totalUsd: 0,
          minimumUsd: 0,
          items: [
            { stage: 'plan', provider: 'rule-based@1', units: { scenes: 5 }, unitPriceUsd: 0, usd: 0 },
            { stage: 'narrate', provider: 'espeak-ng@1', units: { characters: 281 }, unitPriceUsd: 0, usd: 0 },
          ],
        },
        notes: [],
      },
    ],
  });
