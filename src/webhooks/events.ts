/**
 * The events webhooks carry and the body of a delivery: `{ id, type, time, data: { production } }`
 * with a summary of the production (no brief, no storyboard: those are a GET away).
 */
import { randomUUID } from 'node:crypto';
import type { OutputRow, ProductionRow } from '../db/productions.repository.js';
import { PRODUCTION_EVENT_TYPES, type ProductionEventType } from '../services/production-events.port.js';
import { links } from '../services/production.view.js';
import type { WebhookEvent } from './verify.js';

/** Events about a tenant rather than one production (services/budgets.service.ts): `{ id, type, time, data }`, no production. */
export const TENANT_EVENT_TYPES = ['budget.threshold'] as const;
export type TenantEventType = (typeof TENANT_EVENT_TYPES)[number];

/** Webhooks carry every production event (services/production-events.port.ts) and the tenant events. */
export const WEBHOOK_EVENT_TYPES = [...PRODUCTION_EVENT_TYPES, ...TENANT_EVENT_TYPES] as const;
export type WebhookEventType = ProductionEventType | TenantEventType;

/** A brief's own webhookUrl hears how the production ends, and when it waits for review. */
export const BRIEF_URL_EVENTS: readonly WebhookEventType[] = ['production.succeeded', 'production.failed', 'production.canceled', 'production.awaiting_review'];

export interface ProductionSummary {
  id: string;
  status: string;
  stage: string | null;
  progress: number;
  title: string | null;
  metadata: Record<string, string>;
  error: { code: string; message: string } | null;
  durationSec: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** API paths (they need an API key with productions:read); S3-signed URLs would expire before a late retry. */
  outputs: { name: string; kind: string; mime: string; bytes: number; url: string }[];
  links: { self: string; events: string; storyboard: string };
}

export type WebhookEventBody = WebhookEvent<{ production: ProductionSummary }>;

export const newId = (prefix: string): string => `${prefix}_${randomUUID().replace(/-/g, '')}`;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function productionSummary(row: ProductionRow, outputs: OutputRow[]): ProductionSummary {
  const brief = row.brief as { title?: string };
  const storyboard = row.storyboard as { title?: string } | null;
  return {
    id: row.id,
    status: row.status,
    stage: row.stage,
    progress: Math.round(row.progress * 10) / 10,
    title: storyboard?.title ?? brief.title ?? null,
    metadata: row.metadata,
    error: row.error ? { code: row.error.code, message: row.error.message } : null,
    durationSec: row.durationSec,
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    outputs: outputs.map((o) => ({ name: o.name, kind: o.kind, mime: o.mime, bytes: o.bytes, url: `/v1/productions/${row.id}/outputs/${encodeURIComponent(o.name)}` })),
    links: links(row.id),
  };
}

export function eventBody(type: WebhookEventType, row: ProductionRow, outputs: OutputRow[], at: Date = new Date()): WebhookEventBody {
  return { id: newId('evt'), type, time: at.toISOString(), data: { production: productionSummary(row, outputs) } };
}
