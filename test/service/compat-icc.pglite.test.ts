/**
 * The original API's job and ICC routes in-process on PGlite (a real worker renders): a job's
 * request extras are used and kept, its status and ICC words, an ICC job that waits, its manifest
 * edited field by field with a history, approval, a cancel with a reason that stops the render, the
 * refusals in the original's status codes with `detail`, and the auto-approval of a job left alone.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ICC_STATES, PIPELINE_STATUSES } from '../../src/compat/vocabulary.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
before(async () => {
  svc = await startTestService({ env: { COMPAT_AUTO_APPROVE_SEC: '0' } });
});
after(async () => {
  await svc?.stop();
});

const run = async (payload: Record<string, unknown>, headers: Record<string, string> = svc.auth) =>
  svc.app!.inject({ method: 'POST', url: '/pipeline/run', headers, payload });
const get = async (url: string) => svc.app!.inject({ url, headers: svc.auth });

test('/health answers the original shape without credentials; a call without them is 401 with detail and WWW-Authenticate', async () => {
  const health = await svc.app!.inject({ url: '/health' });
  assert.equal(health.statusCode, 200);
  assert.equal(health.json().status, 'ok');
  const anonymous = await run({ content: 'A short launch film for a desk lamp.' }, {});
  assert.equal(anonymous.statusCode, 401);
  assert.equal(anonymous.json().detail, 'Missing authorization header');
  assert.equal(anonymous.headers['www-authenticate'], 'Bearer');
});

test('a request without content is a 422 listing {loc, msg, type}; an unknown job is a 404 with detail', async () => {
  const missing = await run({ priority: 'high' });
  assert.equal(missing.statusCode, 422);
  const body = missing.json();
  assert.ok(Array.isArray(body.detail), JSON.stringify(body));
  assert.deepEqual(body.detail[0].loc, ['body', 'content']);
  assert.equal(typeof body.detail[0].msg, 'string');
  assert.equal(typeof body.detail[0].type, 'string');
  assert.equal(body.error.code, 'invalid_request');
  const unknown = await get('/pipeline/job/00000000-0000-4000-8000-000000000000');
  assert.equal(unknown.statusCode, 404);
  assert.equal(typeof unknown.json().detail, 'string');
});

test('a job with the original extras: 200, its extras used (mood, music style, brand) or reported, and the job renders to completed', async () => {
  const res = await run({
    content: 'Découvrez Lumina, la nouvelle lampe de bureau solaire qui éclaire toute la journée.',
    preset: 'quick_social', lang: 'fr', duration_sec: 5, priority: 'normal',
    voice: 'fr-FR-Wavenet-D', emotion: 'joy', mood: 'calm', music_style: 'acoustic', brand_id: 'acme', transitions: 'fade',
  });
  assert.equal(res.statusCode, 200, res.body);
  const accepted = res.json();
  assert.equal(accepted.status, 'queued');
  assert.equal(accepted.check_status_at, `/pipeline/job/${accepted.job_id}`);
  const detail = await svc.productions.detail('default', accepted.job_id);
  assert.deepEqual(detail.brief.music, { mood: 'calm', style: 'acoustic' });
  assert.equal(detail.brief.language, 'fr');
  assert.equal(detail.brief.preset, 'social_vertical');
  assert.equal(detail.production.metadata.brand_id, 'acme');
  const origin = detail.origin as { preset: string; extra: Record<string, unknown>; ignored: Record<string, string> };
  assert.equal(origin.preset, 'quick_social');
  assert.equal(origin.extra.voice, 'fr-FR-Wavenet-D');
  assert.ok(origin.ignored.voice, 'a voice no provider has is reported, and the default voice speaks');
  assert.ok(origin.ignored.emotion && origin.ignored.transitions);
  assert.equal(detail.production.review, false, 'quick_social has no approval step');

  const seen = new Set<string>();
  await svc.waitFor(accepted.job_id, (p) => {
    seen.add(p.status);
    return p.status === 'succeeded' || p.status === 'failed';
  }, 240_000);
  const job = (await get(`/pipeline/job/${accepted.job_id}`)).json();
  assert.equal(job.status, 'completed', JSON.stringify(job));
  assert.ok((PIPELINE_STATUSES as readonly string[]).includes(job.status));
  assert.equal(job.preset, 'quick_social');
  assert.ok(job.content_preview.startsWith('Découvrez Lumina'));
  assert.deepEqual(job.state_history.map((h: { state: string }) => h.state), ['pending', 'processing', 'completed']);
  assert.equal(job.result.success, true);
  assert.equal(job.result.error_message, null);
  assert.equal(typeof job.result.execution_time_ms, 'number');
  assert.match(job.result.output.video_url, /^http:\/\/[^/]+\/v1\/productions\/.+\/outputs\/video\.mp4\?token=[\w.-]+$/);
  const video = await svc.app!.inject({ url: job.result.output.video_url.replace(/^http:\/\/[^/]+/, ''), headers: { range: 'bytes=0-1023' } });
  assert.equal(video.statusCode, 206, 'the video_url is a signed link: no key needed, as the original\'s');
  assert.equal(video.headers['content-type'], 'video/mp4');

  const completed = (await get('/pipeline/jobs?status=COMPLETED&limit=20&offset=0')).json();
  assert.equal(completed.count, completed.jobs.length);
  assert.ok(completed.jobs.some((j: { job_id: string; preset: string; status: string }) => j.job_id === accepted.job_id && j.preset === 'quick_social'));
  assert.ok(completed.jobs.every((j: { status: string }) => j.status === 'completed'));
  assert.equal((await get('/pipeline/jobs?status=done')).statusCode, 422);
});

test('an ICC job waits in waiting_approval; its manifest is edited with a history, approved, then cancelled with a reason that stops it', async () => {
  const res = await run({ content: 'A calm film about a solar desk lamp for a brand campaign.', preset: 'brand_campaign', lang: 'en', duration_sec: 15 });
  assert.equal(res.statusCode, 200, res.body);
  const id = res.json().job_id as string;
  await svc.waitFor(id, (p) => p.status === 'awaiting_review', 120_000);

  const job = (await get(`/job/${id}`)).json();
  assert.equal(job.state, 'waiting_approval');
  assert.ok((ICC_STATES as readonly string[]).includes(job.state));
  assert.equal(job.preset, 'brand_campaign');
  assert.equal(job.approved, false);
  assert.equal(job.approval_timestamp, null);
  assert.deepEqual(job.edits_history, []);
  assert.ok(job.production_manifest && job.consistency_markers);
  assert.ok((await get('/jobs')).json().jobs.some((j: { id: string }) => j.id === id));
  assert.equal((await get(`/pipeline/job/${id}`)).json().status, 'pending');

  const manifest = (await get(`/job/${id}/manifest`)).json();
  assert.equal(manifest.can_edit, true);
  assert.deepEqual(manifest.editable_fields, ['shot_list', 'scenes', 'duration', 'audio_style', 'camera_movements']);
  assert.deepEqual(manifest.locked_fields, ['consistency_markers']);
  const scenes = manifest.manifest.scenes.length as number;

  const empty = await svc.app!.inject({ method: 'PATCH', url: `/job/${id}/manifest`, headers: svc.auth, payload: { consistency_markers: {} } });
  assert.equal(empty.statusCode, 400);
  assert.equal(empty.json().detail, 'Aucune mise à jour fournie');
  const badCamera = await svc.app!.inject({ method: 'PATCH', url: `/job/${id}/manifest`, headers: svc.auth, payload: { camera_movements: ['barrel roll'] } });
  assert.equal(badCamera.statusCode, 422);
  assert.match(badCamera.json().detail, /camera_movements\.0/);

  const patch = await svc.app!.inject({ method: 'PATCH', url: `/job/${id}/manifest`, headers: svc.auth, payload: { duration: 12, audio_style: 'upbeat', camera_movements: ['push in'] } });
  assert.equal(patch.statusCode, 200, patch.body);
  const patched = patch.json();
  assert.equal(patched.status, 'updated');
  assert.equal(patched.manifest.duration, 12);
  assert.equal(patched.manifest.audio_style, 'upbeat');
  assert.equal(patched.manifest.camera_movements[0], 'zoom-in');
  assert.equal(patched.manifest.scenes.length, scenes);
  assert.deepEqual(patched.changes, { duration: 12, audio_style: 'upbeat', camera_movements: ['push in'] });
  assert.equal(patched.edits_count, 1);
  const storyboard = (await svc.productions.detail('default', id)).storyboard;
  assert.equal(storyboard?.musicStyle, 'upbeat');
  assert.equal(storyboard?.mood, 'uplifting', 'a style that names a mood sets it');
  assert.equal(storyboard?.scenes[0]?.motion, 'zoom-in');
  const total = storyboard?.scenes.reduce((s, scene) => s + (scene.durationSec ?? 0), 0) ?? 0;
  assert.ok(Math.abs(total - 12) < 0.011, `scene lengths sum to the edited duration: ${total}`);
  const history = (await get(`/job/${id}/manifest`)).json().edits_history;
  assert.equal(history.length, 1);
  assert.equal(history[0].changes.duration.new, 12);
  assert.equal(history[0].changes.audio_style.new, 'upbeat');

  const approve = await svc.app!.inject({ method: 'POST', url: `/job/${id}/approve`, headers: svc.auth });
  assert.equal(approve.statusCode, 200, approve.body);
  assert.deepEqual([approve.json().status, approve.json().state, approve.json().next_state], ['approved', 'rendering', 'rendering']);
  const approved = (await get(`/job/${id}`)).json();
  assert.equal(approved.approved, true);
  assert.ok(approved.approval_timestamp);
  assert.equal((await svc.app!.inject({ method: 'POST', url: `/job/${id}/approve`, headers: svc.auth })).statusCode, 400, 'approving twice');

  const cancel = await svc.app!.inject({ method: 'POST', url: `/job/${id}/cancel?reason=Client%20changed%20the%20brief`, headers: svc.auth });
  assert.equal(cancel.statusCode, 200, cancel.body);
  assert.deepEqual(cancel.json(), { job_id: id, status: 'cancelled', state: 'cancelled', reason: 'Client changed the brief' });
  const stopped = await svc.waitFor(id, (p) => p.status === 'canceled', 30_000);
  assert.equal(stopped.cancelReason, 'Client changed the brief');
  assert.equal((await get(`/pipeline/job/${id}`)).json().status, 'cancelled');
  for (const [method, url, payload] of [['POST', `/job/${id}/approve`], ['POST', `/job/${id}/cancel`], ['PATCH', `/job/${id}/manifest`, { duration: 9 }]] as const) {
    const refused = await svc.app!.inject({ method, url, headers: svc.auth, ...(payload ? { payload } : {}) });
    assert.equal(refused.statusCode, 400, `${method} ${url} on a cancelled job: ${refused.body}`);
    assert.equal(typeof refused.json().detail, 'string');
  }
  assert.equal((await get('/job/no-such-job/manifest')).statusCode, 404);
});

test('an ICC job left without an action past its auto-approval wait renders as planned; an edit restarts the wait', async () => {
  const created = await svc.productions.create('default', {
    scenes: [{ narration: 'Left alone.', durationSec: 1.5, visual: { type: 'color', color: '#1e3a8a' } }],
    resolution: '480p', fps: 24, review: true, autoApproveAfterSec: 1,
  });
  await svc.waitFor(created.id, (p) => p.status === 'awaiting_review');
  assert.deepEqual(await svc.productions.approveOverdue(), [], 'not before its wait has passed');
  await new Promise((r) => setTimeout(r, 1100));
  // An edit is a review action: the wait starts again from it.
  const { storyboard } = await svc.productions.storyboard('default', created.id);
  assert.ok(storyboard);
  await svc.productions.editStoryboard('default', created.id, { ...storyboard, title: 'Edited, then left alone' });
  assert.deepEqual(await svc.productions.approveOverdue(), [], 'the edit restarted the wait');
  await new Promise((r) => setTimeout(r, 1100));
  assert.deepEqual(await svc.productions.approveOverdue(), [created.id]);
  const done = await svc.waitFor(created.id, (p) => p.status === 'succeeded' || p.status === 'failed', 120_000);
  assert.equal(done.status, 'succeeded');
  assert.ok(done.approvedAt);
});

test('a free-tier tenant\'s job is fitted to its tier (720p, its longest length) and says so; concurrent manifest edits all take effect', async () => {
  await svc.access.createTenant({ actor: 'cli' }, { id: 'freebie', name: 'Free tenant', tier: 'free' });
  const { key } = await svc.access.createKey({ actor: 'cli' }, { tenantId: 'freebie', name: 'client', scopes: ['productions:read', 'productions:write'] });
  const auth = { authorization: `Bearer ${key}` };
  const res = await run({ content: 'A calm film about a solar desk lamp for a brand campaign.', preset: 'brand_campaign', duration_sec: 300 }, auth);
  assert.equal(res.statusCode, 200, res.body);
  const id = res.json().job_id as string;
  const detail = await svc.productions.detail('freebie', id);
  assert.equal(detail.brief.resolution, '720p');
  assert.equal(detail.brief.targetDurationSec, 120);
  const ignored = (detail.origin as { ignored: Record<string, string> }).ignored;
  assert.match(ignored.resolution ?? '', /free tier renders at most 720p/);
  assert.match(ignored.duration_sec ?? '', /at most 120 s/);
  await svc.waitFor(id, (p) => p.status === 'awaiting_review', 120_000, 'freebie');

  // Four clients edit four different fields at once: each edit lands on the others' result.
  const edits = [{ duration: 30 }, { audio_style: 'dramatic strings' }, { camera_movements: ['pan left'] }, { shot_list: ['a lamp on a desk at dawn'] }];
  const answers = await Promise.all(edits.map((payload) => svc.app!.inject({ method: 'PATCH', url: `/job/${id}/manifest`, headers: auth, payload })));
  for (const answer of answers) assert.equal(answer.statusCode, 200, answer.body);
  const manifest = (await svc.app!.inject({ url: `/job/${id}/manifest`, headers: auth })).json();
  assert.equal(manifest.manifest.duration, 30);
  assert.equal(manifest.manifest.audio_style, 'dramatic strings');
  assert.equal(manifest.manifest.camera_movements[0], 'pan-left');
  assert.equal(manifest.manifest.shot_list[0], 'a lamp on a desk at dawn');
  assert.equal(manifest.edits_history.length, 4);
  assert.deepEqual(answers.map((a) => a.json().edits_count).sort(), [1, 2, 3, 4], 'each edit counted once, in the order they landed');
  const stats = (await svc.app!.inject({ url: '/icc/stats', headers: auth })).json();
  assert.deepEqual([stats.total_jobs, stats.jobs_by_state.waiting_approval, stats.approved_count], [1, 1, 0]);
});
