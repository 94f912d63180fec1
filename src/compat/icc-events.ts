/**
 * The original API's job socket events (`/ws/job/{id}`), derived from what changed between two
 * reads of a production: every pushed message is `{ event, job_id, state, timestamp, data }`.
 *
 * | event              | when                                   | data                        |
 * |--------------------|----------------------------------------|-----------------------------|
 * | `manifest_updated` | a review edit was recorded             | `{ field: { old, new } }`   |
 * | `approved`         | the plan was approved                  | `{ timestamp }`             |
 * | `state_changed`    | the ICC state changed                  | `{ old_state, new_state }`  |
 * | `cost_updated`     | the render's cost is known or changed  | `{ total_usd, estimated_usd, variance_usd }` |
 * | `qa_completed`     | the quality gates ran                  | `{ passed, failed, measurements }` |
 * | `cancelled`        | the job was cancelled                  | `{ reason }`                |
 */
import type { Production } from '../contract/production.js';
import type { StoryboardEdit } from '../services/productions.service.js';
import { iccState, type IccState } from './vocabulary.js';

export interface IccMessage {
  event: string;
  job_id: string;
  state: IccState;
  timestamp: string;
  data: Record<string, unknown>;
}

/** What the socket remembers of the last read. */
export interface IccSnapshot {
  state: IccState;
  approvedAt: string | null;
  costKey: string | null;
  qa: boolean;
}

export function snapshotOf(production: Production): IccSnapshot {
  return {
    state: iccState(production),
    approvedAt: production.approvedAt,
    costKey: production.cost ? `${production.cost.totalUsd}|${production.cost.estimatedUsd}` : null,
    qa: production.qa !== null,
  };
}

/** The messages for what changed from `before` to `production`, and the edits recorded since. */
export function iccEvents(before: IccSnapshot, production: Production, edits: StoryboardEdit[], now = new Date()): IccMessage[] {
  const after = snapshotOf(production);
  const timestamp = now.toISOString();
  const message = (event: string, data: Record<string, unknown>): IccMessage => ({ event, job_id: production.id, state: after.state, timestamp, data });
  const out: IccMessage[] = edits.map((edit) => message('manifest_updated', edit.changes));
  if (!before.approvedAt && after.approvedAt) out.push(message('approved', { timestamp: after.approvedAt }));
  if (before.state !== after.state) out.push(message('state_changed', { old_state: before.state, new_state: after.state }));
  if (after.costKey !== null && before.costKey !== after.costKey && production.cost) {
    out.push(message('cost_updated', { total_usd: production.cost.totalUsd, estimated_usd: production.cost.estimatedUsd, variance_usd: production.cost.varianceUsd }));
  }
  if (!before.qa && production.qa) out.push(message('qa_completed', { ...production.qa }));
  if (before.state !== 'cancelled' && after.state === 'cancelled') out.push(message('cancelled', { reason: production.cancelReason ?? 'User cancelled' }));
  return out;
}
