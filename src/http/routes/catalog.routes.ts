/** What a brief can ask for: presets, design templates, voices, music moods, sound effects. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MOODS, SFX_KINDS } from '../../contract/brief.js';
import { AppError } from '../../contract/errors.js';
import { errorBodySchema } from '../../contract/production.js';
import { PRESETS } from '../../contract/resolve.js';
import { getTemplate, templateSummary, templates } from '../../design/templates/registry.js';
import type { Voice } from '../../providers/tts/tts.port.js';

const presetSchema = z.object({ name: z.string(), description: z.string(), options: z.record(z.string(), z.unknown()) });

const mergeValueSchema = z.union([z.string(), z.number(), z.array(z.string())]);
const templateSummarySchema = z
  .object({
    name: z.string(),
    title: z.string(),
    description: z.string(),
    ratios: z.array(z.string()).describe('Aspect ratios the template is designed for.'),
    defaultRatio: z.string().describe('The ratio a brief gets when neither it nor its preset names one.'),
    fields: z.array(
      z.object({
        name: z.string(),
        type: z.enum(['text', 'image', 'video', 'color', 'number', 'list']),
        required: z.boolean(),
        description: z.string(),
        sample: mergeValueSchema,
        default: mergeValueSchema.optional(),
        maxLength: z.number().optional(),
        maxItems: z.number().optional(),
      }),
    ).describe('The merge fields a brief fills with "merge".'),
  })
  .meta({ id: 'TemplateSummary' });

export const catalogRoutes = (deps: { voices(): Promise<(Voice & { provider?: string })[]> }): FastifyPluginAsyncZod => async (app) => {
  app.get('/v1/presets', { schema: { tags: ['catalog'], summary: 'Named option bundles for "preset"', response: { 200: z.object({ data: z.array(presetSchema) }) } } }, async () => ({
    data: Object.values(PRESETS),
  }));

  app.get('/v1/presets/:name', {
    schema: { tags: ['catalog'], summary: 'One preset', params: z.object({ name: z.string().max(64) }), response: { 200: presetSchema, 404: errorBodySchema } },
  }, async (request) => {
    const preset = (PRESETS as Record<string, (typeof PRESETS)[keyof typeof PRESETS]>)[request.params.name];
    if (!preset) throw new AppError('not_found', `no preset ${request.params.name}`, { details: [{ path: 'name', message: `use one of ${Object.keys(PRESETS).join(', ')}` }] });
    return preset;
  });

  app.get('/v1/templates', { schema: { tags: ['catalog'], summary: 'Design templates for "template" and their merge fields', response: { 200: z.object({ data: z.array(templateSummarySchema) }) } } }, async () => ({
    data: templates().map(templateSummary),
  }));

  app.get('/v1/templates/:name', {
    schema: { tags: ['catalog'], summary: 'One design template', params: z.object({ name: z.string().max(64) }), response: { 200: templateSummarySchema, 404: errorBodySchema } },
  }, async (request) => templateSummary(getTemplate(request.params.name)));

  app.get('/v1/voices', {
    schema: {
      tags: ['catalog'],
      summary: 'Voices of every speech provider this server has, with their languages',
      description: 'Cloud voices are named `provider:id` (e.g. `elevenlabs:21m00Tcm4TlvDq8EDUAs`); giving one as a brief\'s `voice` puts its provider first for that render. The offline engine\'s voices have no prefix.',
      response: {
        200: z.object({
          data: z.array(z.object({ id: z.string(), name: z.string(), languages: z.array(z.string()), provider: z.string().optional().describe('The provider that speaks it; absent for the offline engine.') }).loose()),
        }),
      },
    },
  }, async () => ({ data: (await deps.voices()).map((v) => ({ ...v })) }));

  app.get('/v1/music/moods', { schema: { tags: ['catalog'], summary: 'Music moods for music.mood', response: { 200: z.object({ data: z.array(z.string()) }) } } }, async () => ({ data: [...MOODS] }));

  app.get('/v1/sfx', { schema: { tags: ['catalog'], summary: 'Sound-effect kinds for sfx cues', response: { 200: z.object({ data: z.array(z.string()) }) } } }, async () => ({ data: [...SFX_KINDS] }));
};
