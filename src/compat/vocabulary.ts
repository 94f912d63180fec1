/**
 * The original API's two vocabularies, from a production's status. Its `/pipeline/*` routes speak
 * of a job's status (pending, processing, completed, failed, cancelled); its `/job/*` routes and
 * socket speak of the ICC state, the step of its human-in-the-loop workflow. Both are views of
 * the one status a production has here.
 *
 * | production status                          | /pipeline status | ICC state          |
 * |--------------------------------------------|------------------|--------------------|
 * | queued (not yet planned)                   | pending          | created            |
 * | planning                                   | processing       | creative_direction |
 * | awaiting_review                            | pending          | waiting_approval   |
 * | queued after approval                      | pending          | rendering          |
 * | rendering, mixing, composing               | processing       | rendering          |
 * | checking                                   | processing       | qa_technical       |
 * | succeeded                                  | completed        | delivered          |
 * | failed                                     | failed           | error              |
 * | canceled                                   | cancelled        | cancelled          |
 *
 * `analyzing`, `qa_semantic` and `final_approval` are never reported: a brief is analysed when it
 * is submitted (a bad one is refused there), the quality gates are one stage, and a delivered video
 * needs no second approval.
 */
import type { ProductionStatus } from '../contract/production.js';

export const PIPELINE_STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];

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
export type IccState = (typeof ICC_STATES)[number];

/** What a production needs for either word: its status, and whether its plan was approved. */
export interface StatusView {
  status: ProductionStatus;
  approvedAt: string | null;
}

export function pipelineStatus(status: ProductionStatus): PipelineStatus {
  switch (status) {
    case 'queued':
    case 'awaiting_review':
      return 'pending';
    case 'planning':
    case 'rendering':
    case 'mixing':
    case 'composing':
    case 'checking':
      return 'processing';
    case 'succeeded':
      return 'completed';
    case 'failed':
      return 'failed';
    case 'canceled':
      return 'cancelled';
  }
}

export function iccState(production: StatusView): IccState {
  switch (production.status) {
    case 'queued':
      // An approved production waits for a worker to render it; the original said `rendering` at once.
      return production.approvedAt ? 'rendering' : 'created';
    case 'planning':
      return 'creative_direction';
    case 'awaiting_review':
      return 'waiting_approval';
    case 'rendering':
    case 'mixing':
    case 'composing':
      return 'rendering';
    case 'checking':
      return 'qa_technical';
    case 'succeeded':
      return 'delivered';
    case 'failed':
      return 'error';
    case 'canceled':
      return 'cancelled';
  }
}

/** The production statuses a `/pipeline/jobs?status=` filter (any case) stands for; undefined for a word it does not know. */
export function statusesFor(pipeline: string): ProductionStatus[] | undefined {
  switch (pipeline.toLowerCase()) {
    case 'pending':
      return ['queued', 'awaiting_review'];
    case 'processing':
      return ['planning', 'rendering', 'mixing', 'composing', 'checking'];
    case 'completed':
      return ['succeeded'];
    case 'failed':
      return ['failed'];
    case 'cancelled':
    case 'canceled':
      return ['canceled'];
    default:
      return undefined;
  }
}

/** The original's priority words, and the v1 priority each stands for (0–10). */
export const PRIORITY_WORDS = { low: 0, normal: 5, high: 8 } as const;
export type PriorityWord = keyof typeof PRIORITY_WORDS;

/** The priority word nearest a v1 priority. */
export function priorityWord(priority: number): PriorityWord {
  return priority >= 8 ? 'high' : priority >= 5 ? 'normal' : 'low';
}
