/**
 * The original API's ICC routes (its human-in-the-loop step): a job's view and list, its manifest
 * (read, field-level edit with history), approve, cancel with a reason, and the job socket. A job
 * waits for approval when it was created with an ICC preset (brand_campaign, premium_spot): it is a
 * v1 production with `review: true`, and these routes are its review routes in the original's words.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { AppError } from '../../../contract/errors.js';
import { isFinal } from '../../../contract/production.js';
import { iccEvents, snapshotOf, type IccSnapshot } from '../../../compat/icc-events.js';
import { toEditEntry, toIccJob, toIccListItem } from '../../../compat/job.js';
import { applyManifestEdit, consistencyMarkers, EDITABLE_FIELDS, LOCKED_FIELDS, toManifest, type ManifestEdit } from '../../../compat/manifest.js';
import { iccState } from '../../../compat/vocabulary.js';
import type { ProductionDetail } from '../../../services/productions.service.js';
import { principal } from '../../auth.js';
import { oneAtATime } from '../../events.js';
import { baseUrl, COMPAT_TAG, type CompatDeps } from './deps.js';

const idParams = z.object({ id: z.string().min(1).max(100) });
const json = z.record(z.string(), z.unknown());
const config = { compat: true };
const tags = [COMPAT_TAG];

/** The original's refusal of an ICC action in the wrong state: a 400 naming the state. */
function wrongState(id: string, state: string, action: string, remedy: string): AppError {
  return new AppError('invalid_request', `Job '${id}' is ${state}: ${action}`, { details: [{ path: 'state', message: remedy }] });
}

const targetOf = (detail: ProductionDetail): number | undefined => (typeof detail.brief.targetDurationSec === 'number' ? detail.brief.targetDurationSec : undefined);

/** PATCH body: the editable fields, null meaning "not sent" (as the original's optional fields); anything else is ignored. */
const manifestEditSchema = z.looseObject({
  shot_list: z.array(z.string().max(2000)).max(400).nullish(),
  scenes: z.array(z.string().max(5000)).max(400).nullish(),
  // Whole seconds, also as text ("12"), as pydantic accepted them.
  duration: z.preprocess((v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v), z.number().int().min(1).max(1800).nullish()),
  audio_style: z.string().max(200).nullish(),
  camera_movements: z.array(z.string().max(40)).max(400).nullish(),
});

export const iccRoutes = (deps: CompatDeps): FastifyPluginAsyncZod => async (app) => {
  const { productions } = deps;

  app.get('/job/:id', {
    config,
    schema: { tags, summary: 'An ICC job: state, manifest, markers, cost estimate, results, approval and edit history', params: idParams, response: { 200: json } },
  }, async (request) => {
    const detail = await productions.detail(principal(request).tenantId, request.params.id);
    return toIccJob(detail, await productions.edits(detail.production.id), baseUrl(deps, request));
  });

  app.get('/jobs', {
    config,
    schema: {
      tags,
      summary: 'The caller\'s ICC jobs, newest first',
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), offset: z.coerce.number().int().min(0).max(100_000).default(0) }).loose(),
      response: { 200: z.object({ jobs: z.array(json), total: z.number().int() }) },
    },
  }, async (request) => {
    const tenantId = principal(request).tenantId;
    const [page, total] = await Promise.all([productions.listDetails(tenantId, { limit: request.query.limit }, request.query.offset), productions.count(tenantId)]);
    return { jobs: page.map(toIccListItem), total };
  });

  app.get('/job/:id/manifest', {
    config,
    schema: {
      tags,
      summary: 'The production manifest (the plan) with its editable and locked fields; 400 while it is not ready',
      params: idParams,
      response: { 200: json },
    },
  }, async (request) => {
    const detail = await productions.detail(principal(request).tenantId, request.params.id);
    const state = iccState(detail.production);
    if (!detail.storyboard) throw wrongState(detail.production.id, state, 'its manifest is not ready yet', 'poll until the plan is made (state waiting_approval for ICC jobs)');
    return {
      job_id: detail.production.id,
      state,
      manifest: toManifest(detail.storyboard, targetOf(detail)),
      consistency_markers: consistencyMarkers(detail.storyboard, detail.brief),
      editable_fields: [...EDITABLE_FIELDS],
      locked_fields: [...LOCKED_FIELDS],
      can_edit: state === 'waiting_approval',
      edits_history: (await productions.edits(detail.production.id)).map(toEditEntry),
    };
  });

  app.patch('/job/:id/manifest', {
    config,
    schema: {
      tags,
      summary: 'Edit the manifest while waiting_approval: any of shot_list, scenes, duration, audio_style, camera_movements',
      params: idParams,
      body: manifestEditSchema,
      response: { 200: json },
    },
  }, async (request) => {
    const who = principal(request);
    const detail = await productions.detail(who.tenantId, request.params.id);
    const id = detail.production.id;
    const edit: ManifestEdit = {};
    for (const field of EDITABLE_FIELDS) {
      const value = request.body[field];
      if (value !== null && value !== undefined) Object.assign(edit, { [field]: value });
    }
    if (Object.keys(edit).length === 0) {
      throw new AppError('invalid_request', 'Aucune mise à jour fournie', { details: [{ path: '(body)', message: `send at least one of ${EDITABLE_FIELDS.join(', ')}` }] });
    }
    const state = iccState(detail.production);
    if (state !== 'waiting_approval' || !detail.storyboard) throw wrongState(id, state, 'the manifest can be edited only in waiting_approval', 'create the job with an ICC preset (brand_campaign, premium_spot) and edit it before approving');
    // Applied to the storyboard as it is at the write: edits sent at the same time all take effect.
    let result: ReturnType<typeof applyManifestEdit> | undefined;
    const storyboard = await productions.reviseStoryboard(who.tenantId, id, async (current) => {
      if (!current) throw wrongState(id, state, 'its manifest is not ready yet', 'poll GET /job/{id}/manifest until it answers 200');
      result = applyManifestEdit(current, edit, targetOf(detail));
      await deps.quotas.checkStoryboard(who.tenantId, result.storyboard);
      return { storyboard: result.storyboard, changes: result.changes };
    }, who.actor, deps.quotas.storyboardBudget(who.tenantId, id)).catch((error: unknown) => {
      // Approved or cancelled meanwhile: the original's 400, not v1's 409.
      if (error instanceof AppError && error.code === 'conflict') throw wrongState(id, 'no longer waiting_approval', 'the manifest can be edited only in waiting_approval', 'read GET /job/{id} for its state');
      throw error;
    });
    const edits = await productions.edits(id);
    return {
      job_id: id,
      status: 'updated',
      manifest: toManifest(storyboard, targetOf(detail)),
      changes: edit,
      edits_count: edits.length,
      ...(result && result.notes.length > 0 ? { notes: result.notes } : {}),
    };
  });

  app.post('/job/:id/approve', {
    config,
    schema: { tags, summary: 'Approve the manifest: the job renders', params: idParams, response: { 200: json } },
  }, async (request) => {
    const tenantId = principal(request).tenantId;
    const detail = await productions.detail(tenantId, request.params.id);
    const state = iccState(detail.production);
    if (state !== 'waiting_approval') throw wrongState(detail.production.id, state, 'only a job in waiting_approval can be approved', 'read GET /job/{id} for its state');
    // Re-priced against the budget first, as v1's approve is (402 budget_exceeded when it no longer fits).
    const approved = await deps.quotas.approve(tenantId, detail.production.id).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'conflict') throw wrongState(detail.production.id, 'no longer waiting_approval', 'only a job in waiting_approval can be approved', 'read GET /job/{id} for its state');
      throw error;
    });
    return {
      job_id: approved.id,
      status: 'approved',
      state: 'rendering',
      approval_timestamp: approved.approvedAt,
      message: 'Manifest approved; rendering started',
      next_state: 'rendering',
    };
  });

  app.post('/job/:id/cancel', {
    config,
    schema: {
      tags,
      summary: 'Cancel a job, with a reason; a running render stops within seconds',
      params: idParams,
      querystring: z.object({ reason: z.string().max(500).default('User cancelled') }).loose(),
      response: { 200: json },
    },
  }, async (request) => {
    const tenantId = principal(request).tenantId;
    const detail = await productions.detail(tenantId, request.params.id);
    const state = iccState(detail.production);
    if (isFinal(detail.production.status)) throw wrongState(detail.production.id, state, 'a finished job cannot be cancelled', 'only a job that has not finished can be cancelled');
    const reason = request.query.reason;
    await productions.cancel(tenantId, detail.production.id, reason).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'conflict') throw wrongState(detail.production.id, 'finished', 'a finished job cannot be cancelled', 'only a job that has not finished can be cancelled');
      throw error;
    });
    return { job_id: detail.production.id, status: 'cancelled', state: 'cancelled', reason };
  });

  app.get('/ws/job/:id', {
    websocket: true,
    config,
    schema: {
      tags,
      summary: 'The job socket: connected, state_changed, manifest_updated, cost_updated, approved, qa_completed, cancelled',
      description:
        'Upgrade with Authorization: Bearer (or ?access_token= where a client cannot set headers). The first message is {event:"connected", job_id, state, timestamp}; pushed ones are {event, job_id, state, timestamp, data}. Send the text "ping" for {event:"pong"} and "status" for {event:"status", job_id, state, approved}. An unknown job gets {error} and the socket closes.',
      params: idParams,
    },
  }, async (socket, request) => {
    const tenantId = principal(request).tenantId;
    const id = request.params.id;
    followIccJob(socket, { deps, tenantId, id });
  });
};

/** Serves one job socket: the first message, the pushed events, the text commands. */
function followIccJob(socket: WebSocket, { deps, tenantId, id }: { deps: CompatDeps; tenantId: string; id: string }): void {
  const { productions, events } = deps;
  const sendJson = (message: unknown): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  let snapshot: IccSnapshot | undefined;
  let lastEdit = 0;
  let closed = false;
  // Reads run one at a time (as the v1 streams'): events never go back, and none is pushed twice.
  let dirty = false;
  const readOnce = oneAtATime(async () => {
    const production = await productions.get(tenantId, id).catch(() => undefined);
    const edits = await productions.edits(id, lastEdit).catch(() => []);
    if (!production || closed || !snapshot) return;
    for (const message of iccEvents(snapshot, production, edits)) sendJson(message);
    snapshot = snapshotOf(production);
    lastEdit = edits.at(-1)?.id ?? lastEdit;
  });
  const read = async (): Promise<void> => {
    if (!snapshot) {
      dirty = true; // not connected yet: read once the first message is out
      return;
    }
    await readOnce();
  };
  // Subscribed before the first read, so a change in between is seen by one or the other.
  const unsubscribe = events.subscribe(id, read);
  const untrack = events.track(() => {
    if (socket.readyState === socket.OPEN) socket.close(1001, 'server shutting down');
  });
  const ping = setInterval(() => socket.ping(), 15_000);
  const cleanup = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    unsubscribe();
    untrack();
  };
  socket.on('close', cleanup);
  socket.on('message', (raw) => {
    const text = String(raw).trim().toLowerCase();
    if (text === 'ping') {
      sendJson({ event: 'pong' });
    } else if (text === 'status') {
      void productions.get(tenantId, id).then(
        (production) => sendJson({ event: 'status', job_id: id, state: iccState(production), approved: production.approvedAt !== null }),
        () => sendJson({ error: `Job '${id}' non trouvé` }),
      );
    } else {
      sendJson({ event: 'error', message: 'unknown command; send "ping" or "status"' });
    }
  });
  void (async () => {
    // The edits are read before the production: an edit landing between the two reads is then
    // pushed (once) rather than counted as already seen.
    const first = await productions.get(tenantId, id).then(
      async (production) => ({ production, edits: await productions.edits(id) }),
      (error: unknown) => {
        if (error instanceof AppError && error.code === 'not_found') return undefined;
        throw error;
      },
    );
    if (!first) {
      sendJson({ error: `Job '${id}' non trouvé` });
      cleanup();
      socket.close(1000, 'job not found');
      return;
    }
    lastEdit = first.edits.at(-1)?.id ?? 0;
    const production = await productions.get(tenantId, id);
    snapshot = snapshotOf(production);
    sendJson({ event: 'connected', job_id: id, state: snapshot.state, timestamp: new Date().toISOString() });
    if (dirty) await read();
  })().catch(() => {
    cleanup();
    if (socket.readyState === socket.OPEN) socket.close(1011, 'job unavailable');
  });
}
