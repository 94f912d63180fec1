import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PRODUCTION_STATUSES } from '../contract/production.js';
import { ICC_STATES, iccState, PIPELINE_STATUSES, pipelineStatus, priorityWord, statusesFor } from './vocabulary.js';

test('every production status has a word in each vocabulary, and the filters cover every status once', () => {
  for (const status of PRODUCTION_STATUSES) {
    assert.ok(PIPELINE_STATUSES.includes(pipelineStatus(status)), status);
    assert.ok(ICC_STATES.includes(iccState({ status, approvedAt: null })), status);
    assert.deepEqual(statusesFor(pipelineStatus(status))?.includes(status), true, `${status} is found by its own filter`);
  }
  const covered = PIPELINE_STATUSES.flatMap((word) => statusesFor(word) ?? []);
  assert.deepEqual([...covered].sort(), [...PRODUCTION_STATUSES].sort());
  assert.deepEqual(statusesFor('COMPLETED'), ['succeeded'], 'any case');
  assert.equal(statusesFor('done'), undefined);
});

test('an approved production waiting for a worker is rendering; one not yet planned is created', () => {
  assert.equal(iccState({ status: 'queued', approvedAt: '2026-12-01T10:00:00Z' }), 'rendering');
  assert.equal(iccState({ status: 'queued', approvedAt: null }), 'created');
  assert.equal(iccState({ status: 'awaiting_review', approvedAt: null }), 'waiting_approval');
  assert.deepEqual([0, 4, 5, 7, 8, 10].map(priorityWord), ['low', 'low', 'normal', 'normal', 'high', 'high']);
});
