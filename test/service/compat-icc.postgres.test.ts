/**
 * The original API's ICC routes on PostgreSQL with two API instances on one database: manifest
 * edits sent at the same time through both all take effect, each recorded once and in the order
 * they landed, and a socket held by one instance pushes the edits, the approval and the cancel
 * made through the other (NOTIFY).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { postgresOrSkip } from '../support/services.js';
import { freshPostgres, startTestService, type TestService } from './harness.js';

const { base, skip } = postgresOrSkip();
let svc: TestService;
let api: TestService;
let drop: (() => Promise<void>) | undefined;

before(async () => {
  if (!base) return;
  const db = await freshPostgres(base);
  drop = db.drop;
  svc = await startTestService({ databaseUrl: db.url, env: { COMPAT_AUTO_APPROVE_SEC: '0' } });
  api = await startTestService({ databaseUrl: db.url, role: 'api', env: { COMPAT_AUTO_APPROVE_SEC: '0' } });
});
after(async () => {
  await api?.stop();
  await svc?.stop();
  await drop?.();
});

interface Pushed {
  event: string;
  state: string;
  data: Record<string, { new?: unknown } | unknown>;
}

test('concurrent manifest edits through two instances all land; a socket on one sees what the other did', { skip }, async () => {
  const instances = [svc, api];
  const created = await api.app!.inject({ method: 'POST', url: '/pipeline/run', headers: svc.auth, payload: { content: 'A calm film about a solar desk lamp for a brand campaign.', preset: 'brand_campaign', duration_sec: 15 } });
  assert.equal(created.statusCode, 200, created.body);
  const id = created.json().job_id as string;
  await svc.waitFor(id, (p) => p.status === 'awaiting_review', 120_000);

  const messages: Pushed[] = [];
  const ws = await api.app!.injectWS(`/ws/job/${id}`, { headers: svc.auth }, {
    onInit: (socket) => socket.on('message', (data) => messages.push(JSON.parse(String(data)) as Pushed)),
  });
  const seen = async (done: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(done(), `${what}: ${JSON.stringify(messages)}`);
  };
  await seen(() => messages.some((m) => m.event === 'connected'), 'connected');

  const edits = [{ duration: 12 }, { audio_style: 'upbeat' }, { camera_movements: ['zoom out'] }, { shot_list: ['a lamp at dawn'] }, { duration: 14 }, { audio_style: 'calm piano' }];
  const answers = await Promise.all(edits.map((payload, i) => (instances[i % 2] as TestService).app!.inject({ method: 'PATCH', url: `/job/${id}/manifest`, headers: svc.auth, payload })));
  for (const answer of answers) assert.equal(answer.statusCode, 200, answer.body);
  assert.deepEqual(answers.map((a) => a.json().edits_count as number).sort((a, b) => a - b).slice(0, 1), [1]);

  const manifest = (await svc.app!.inject({ url: `/job/${id}/manifest`, headers: svc.auth })).json();
  assert.equal(manifest.edits_history.length, edits.length, 'every edit recorded once');
  assert.equal(manifest.manifest.camera_movements[0], 'zoom-out');
  assert.equal(manifest.manifest.shot_list[0], 'a lamp at dawn');
  // The last duration and style to land are the ones the manifest shows, as its history says.
  const last = (field: string): unknown => [...manifest.edits_history].reverse().find((e: { changes: Record<string, { new: unknown }> }) => field in e.changes)?.changes[field].new;
  assert.equal(manifest.manifest.duration, last('duration'));
  assert.equal(manifest.manifest.audio_style, last('audio_style'));
  // Each edit starts from the one before it: its `old` is the previous edit's `new` for that field.
  const durations = manifest.edits_history.filter((e: { changes: Record<string, unknown> }) => 'duration' in e.changes).map((e: { changes: { duration: { old: number; new: number } } }) => e.changes.duration);
  assert.equal(durations[1].old, durations[0].new, JSON.stringify(durations));

  await seen(() => messages.filter((m) => m.event === 'manifest_updated').length === edits.length, 'one manifest_updated per edit, across instances');
  assert.equal((await svc.app!.inject({ method: 'POST', url: `/job/${id}/approve`, headers: svc.auth })).statusCode, 200);
  assert.equal((await svc.app!.inject({ method: 'POST', url: `/job/${id}/cancel?reason=changed`, headers: svc.auth })).statusCode, 200);
  await seen(() => messages.some((m) => m.event === 'approved') && messages.some((m) => m.event === 'cancelled'), 'approved and cancelled');
  const cancelled = messages.find((m) => m.event === 'cancelled');
  assert.deepEqual(cancelled?.data, { reason: 'changed' });
  assert.equal(cancelled?.state, 'cancelled');
  ws.terminate();
});
