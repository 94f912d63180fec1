import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Production } from '../contract/production.js';
import { iccEvents, snapshotOf } from './icc-events.js';

const production = (over: Partial<Production>): Production => ({
  id: 'p1', status: 'awaiting_review', stage: 'plan', progress: 10, attempts: 1, title: null, review: true, approvedAt: null, cancelReason: null,
  metadata: {}, priority: 0, webhookUrl: null, error: null, stages: [], outputs: [], qa: null, cost: null, fallbacks: [], durationSec: null,
  createdAt: '2026-12-01T10:00:00.000Z', updatedAt: '2026-12-01T10:00:00.000Z', startedAt: null, finishedAt: null,
  links: { self: '', events: '', storyboard: '' },
  ...over,
});
const now = new Date('2026-12-01T10:00:05.000Z');

test('edits, approval and the state change come as the original pushed them, each {event, job_id, state, timestamp, data}', () => {
  const before = snapshotOf(production({}));
  const after = production({ status: 'queued', approvedAt: '2026-12-01T10:00:04.000Z' });
  const messages = iccEvents(before, after, [{ id: 1, at: now.toISOString(), actor: 'key:k', changes: { duration: { old: 15, new: 12 } } }], now);
  assert.deepEqual(messages.map((m) => m.event), ['manifest_updated', 'approved', 'state_changed']);
  assert.deepEqual(messages[0], { event: 'manifest_updated', job_id: 'p1', state: 'rendering', timestamp: now.toISOString(), data: { duration: { old: 15, new: 12 } } });
  assert.deepEqual(messages[1]?.data, { timestamp: '2026-12-01T10:00:04.000Z' });
  assert.deepEqual(messages[2]?.data, { old_state: 'waiting_approval', new_state: 'rendering' });
});

test('cost, QA and cancel are pushed once, when they first appear', () => {
  const cost = { totalUsd: 0.5, estimatedUsd: 0.4, varianceUsd: 0.1, stages: [], byStage: [], attributions: [] };
  const qa = { passed: true, failed: [], measurements: {} };
  const checking = production({ status: 'checking', approvedAt: 'x', cost, qa });
  const from = snapshotOf(production({ status: 'composing', approvedAt: 'x' }));
  assert.deepEqual(iccEvents(from, checking, [], now).map((m) => m.event), ['state_changed', 'cost_updated', 'qa_completed']);
  assert.deepEqual(iccEvents(snapshotOf(checking), checking, [], now), [], 'nothing changed, nothing pushed');
  const cancelled = iccEvents(snapshotOf(checking), production({ status: 'canceled', approvedAt: 'x', cost, qa, cancelReason: 'Client changed the brief' }), [], now);
  assert.deepEqual(cancelled.map((m) => [m.event, m.state]), [['state_changed', 'cancelled'], ['cancelled', 'cancelled']]);
  assert.deepEqual(cancelled[1]?.data, { reason: 'Client changed the brief' });
});
