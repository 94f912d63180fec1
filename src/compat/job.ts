/**
 * A production as the original API's job views show it: the `/pipeline/job/{id}` status (§8 of
 * docs/migrating-from-v33.md), its list entry, and the ICC job of `/job/{id}` (its `to_dict`).
 */
import { isFinal, type Production } from '../contract/production.js';
import type { ProductionDetail, StoryboardEdit } from '../services/productions.service.js';
import { consistencyMarkers, toManifest } from './manifest.js';
import { reportedPreset } from './request.js';
import { iccState, pipelineStatus, priorityWord } from './vocabulary.js';

/** The whole text of a job: what the client sent as content, or the v1 brief's prompt, script or narration. */
export function contentOf(detail: Pick<ProductionDetail, 'origin' | 'brief'>): string {
  if (typeof detail.origin?.content === 'string') return detail.origin.content;
  const brief = detail.brief as { prompt?: string; script?: string; scenes?: { narration?: string }[] };
  return brief.prompt ?? brief.script ?? (brief.scenes ?? []).map((s) => s.narration ?? '').filter(Boolean).join(' ');
}

/** The first `length` characters, with "..." when there was more. */
export const preview = (text: string, length: number): string => (text.length > length ? `${text.slice(0, length)}...` : text);

/** The preset a job reports: its request's (an original or v1 name), else `quick_social` as the original defaulted. */
export function presetOf(detail: Pick<ProductionDetail, 'origin' | 'brief'>): string {
  if (detail.origin) return reportedPreset(detail.origin);
  return typeof detail.brief.preset === 'string' ? detail.brief.preset : 'quick_social';
}

/** `base` + a path of this API: an absolute URL (a signed storage URL is already one). */
export function absolute(url: string, base: string): string {
  return /^https?:\/\//.test(url) ? url : new URL(url, base.endsWith('/') ? base : `${base}/`).toString();
}

/** The status history the original kept per transition, from the times a production records: created, started, finished. */
export function stateHistory(production: Production): { state: string; entered_at: string; metadata: Record<string, unknown> | null }[] {
  const history: { state: string; entered_at: string; metadata: Record<string, unknown> | null }[] = [
    { state: 'pending', entered_at: production.createdAt, metadata: null },
  ];
  if (production.startedAt) history.push({ state: 'processing', entered_at: production.startedAt, metadata: { attempts: production.attempts } });
  if (isFinal(production.status) && production.finishedAt) {
    const metadata = production.error ? { error_code: production.error.code } : production.cancelReason ? { reason: production.cancelReason } : null;
    history.push({ state: pipelineStatus(production.status), entered_at: production.finishedAt, metadata });
  }
  return history;
}

/** What a finished job delivered: the video's absolute URL first, then every output and the report. */
export function outputOf(production: Production, base: string): Record<string, unknown> {
  const video = production.outputs.find((o) => o.name === 'video.mp4');
  return {
    video_url: video ? absolute(video.url, base) : null,
    duration_sec: production.durationSec,
    outputs: production.outputs.map((o) => ({ ...o, url: absolute(o.url, base) })),
    qa: production.qa,
    cost: production.cost,
  };
}

/** GET /pipeline/job/{id}. */
export function toPipelineJob(detail: ProductionDetail, base: string): Record<string, unknown> {
  const { production } = detail;
  const job: Record<string, unknown> = {
    job_id: production.id,
    status: pipelineStatus(production.status),
    created_at: production.createdAt,
    updated_at: production.updatedAt,
    preset: presetOf(detail),
    content_preview: preview(contentOf(detail), 100),
    state_history: stateHistory(production),
    progress: production.progress,
    current_stage: production.stage,
  };
  if (isFinal(production.status)) {
    job.result = {
      success: production.status === 'succeeded',
      output: production.status === 'succeeded' ? outputOf(production, base) : null,
      completed_at: production.finishedAt,
      error_message: production.status === 'succeeded' ? null : (production.error?.message ?? (production.cancelReason ? `cancelled: ${production.cancelReason}` : 'cancelled')),
      execution_time_ms: production.startedAt && production.finishedAt ? Date.parse(production.finishedAt) - Date.parse(production.startedAt) : null,
    };
  }
  if (production.attempts > 1) job.retry_count = production.attempts - 1;
  return job;
}

/** One entry of GET /pipeline/jobs. */
export function toPipelineListItem(detail: ProductionDetail): Record<string, unknown> {
  return {
    job_id: detail.production.id,
    status: pipelineStatus(detail.production.status),
    preset: presetOf(detail),
    content_preview: preview(contentOf(detail), 50),
    created_at: detail.production.createdAt,
  };
}

/** The `to_dict` of an ICC job: GET /job/{id}. */
export function toIccJob(detail: ProductionDetail, edits: StoryboardEdit[], base: string): Record<string, unknown> {
  const { production, storyboard, brief, origin } = detail;
  const target = typeof brief.targetDurationSec === 'number' ? brief.targetDurationSec : undefined;
  return {
    id: production.id,
    content: contentOf(detail),
    preset: presetOf(detail),
    state: iccState(production),
    created_at: production.createdAt,
    updated_at: production.updatedAt,
    production_manifest: storyboard ? toManifest(storyboard, target) : null,
    consistency_markers: storyboard ? consistencyMarkers(storyboard, brief) : null,
    cost_estimate: origin?.cost_estimate ?? (production.cost ? { estimated_usd: production.cost.estimatedUsd } : null),
    render_result: production.status === 'succeeded' ? outputOf(production, base) : null,
    qa_report: production.qa,
    priority: typeof origin?.priority === 'string' ? origin.priority : priorityWord(production.priority),
    lang: typeof origin?.lang === 'string' ? origin.lang : (typeof brief.language === 'string' ? brief.language : 'en'),
    brand_id: production.metadata.brand_id ?? null,
    approved: production.approvedAt !== null,
    approval_timestamp: production.approvedAt,
    edits_history: edits.map(toEditEntry),
  };
}

/** One entry of an ICC job's edits_history. */
export const toEditEntry = (edit: StoryboardEdit): { timestamp: string; changes: StoryboardEdit['changes'] } => ({ timestamp: edit.at, changes: edit.changes });

/** One entry of GET /jobs. */
export function toIccListItem(detail: ProductionDetail): Record<string, unknown> {
  return {
    id: detail.production.id,
    content: contentOf(detail).slice(0, 50),
    preset: presetOf(detail),
    state: iccState(detail.production),
    created_at: detail.production.createdAt,
    approved: detail.production.approvedAt !== null,
  };
}
