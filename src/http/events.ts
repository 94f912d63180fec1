/**
 * Fans production change notifications (PostgreSQL NOTIFY on `aiprod_production`, from the API
 * and from workers on any machine) out to the SSE streams open in this process.
 */
import { isFinal, type Production, type ProductionEvent } from '../contract/production.js';
import type { Database } from '../db/database.js';
import { EVENTS_CHANNEL } from '../db/channels.js';
import type { ProductionsService } from '../services/productions.service.js';

export class EventHub {
  private readonly listeners = new Map<string, Set<() => void | Promise<void>>>();
  private readonly streams = new Set<() => void>();
  private stop: (() => Promise<void>) | undefined;

  async start(database: Database): Promise<void> {
    this.stop = await database.listen(
      EVENTS_CHANNEL,
      (payload) => {
        try {
          const { id } = JSON.parse(payload) as { id: string };
          for (const listener of this.listeners.get(id) ?? []) void Promise.resolve(listener()).catch(() => undefined);
        } catch {
          // a payload that is not ours: ignore
        }
      },
      // Notifications sent while the listener was reconnecting are lost: every stream reads again.
      { onReconnect: () => this.wakeAll() },
    );
  }

  private wakeAll(): void {
    for (const set of this.listeners.values()) for (const listener of set) void Promise.resolve(listener()).catch(() => undefined);
  }

  subscribe(id: string, listener: () => void | Promise<void>): () => void {
    const set = this.listeners.get(id) ?? new Set();
    set.add(listener);
    this.listeners.set(id, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  /** Registers an open stream's shutdown; returns the unregister. */
  track(shutdown: () => void): () => void {
    this.streams.add(shutdown);
    return () => this.streams.delete(shutdown);
  }

  /** Ends every open stream (SSE: a final `shutdown` event; WebSocket: close code 1001), so the server can close. */
  endStreams(): void {
    for (const shutdown of [...this.streams]) shutdown();
  }

  async close(): Promise<void> {
    this.endStreams();
    await this.stop?.();
    this.listeners.clear();
  }
}

/**
 * Runs `read` one call at a time; calls made while one runs are folded into a single run after it.
 * Reads in flight together on a connection pool can answer out of order, and a stream must not
 * go back (progress, states); a notification during a read must not be lost either.
 */
export function oneAtATime(read: () => Promise<void>): () => Promise<void> {
  let running = false;
  let again = false;
  return async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await read();
      } while (again);
    } finally {
      running = false;
    }
  };
}

/** Why a stream ended: a final status, the client went away, or the server is shutting down. */
export type EndReason = 'final' | 'closed' | 'shutdown';

export interface Follower {
  /** The production as read after subscribing (a missing one threw `not_found` instead). */
  first: Production;
  /** Sends `first`, then every change; `end` runs once, after a final status, `stop()`, or shutdown. */
  start(send: (event: ProductionEvent) => void, end: (reason: EndReason) => void): () => void;
  /** Ends the stream (idempotent). */
  stop(): void;
}

/**
 * Follows one production for a stream (SSE or WebSocket). It subscribes first and reads second:
 * a final status written between the two is then seen either by the read or by a notification
 * (a read done before subscribing would miss it, and the stream would wait forever). Events are
 * deduplicated by status, stage and progress, and reads run one at a time so progress never goes
 * back. Throws (not_found) when the production is not the tenant's, before anything is sent.
 */
export async function followProduction(hub: EventHub, productions: ProductionsService, tenantId: string, id: string): Promise<Follower> {
  let last = '';
  let stopped = false;
  let started = false;
  let pending = false;
  let send: (event: ProductionEvent) => void = () => undefined;
  let end: (reason: EndReason) => void = () => undefined;
  const emit = (p: Production): void => {
    const key = `${p.status}|${p.stage}|${p.progress}`;
    if (key === last) return;
    last = key;
    send({ id: p.id, status: p.status, stage: p.stage, progress: p.progress, error: p.error, fallbacks: p.fallbacks, at: new Date().toISOString() });
  };
  const finish = (reason: EndReason): void => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    untrack();
    if (started) end(reason);
  };
  const readOnce = oneAtATime(async () => {
    const current = await productions.get(tenantId, id).catch(() => undefined);
    if (!current || stopped) return;
    emit(current);
    if (isFinal(current.status)) finish('final');
  });
  const read = async (): Promise<void> => {
    if (!started) {
      pending = true; // the stream is not open yet: read once it is
      return;
    }
    await readOnce();
  };
  const unsubscribe = hub.subscribe(id, read);
  const untrack = hub.track(() => finish('shutdown'));
  let first: Production;
  try {
    first = await productions.get(tenantId, id);
  } catch (error) {
    unsubscribe();
    untrack();
    throw error;
  }
  return {
    first,
    start(onEvent, onEnd) {
      send = onEvent;
      end = onEnd;
      started = true;
      if (stopped) {
        end('shutdown');
        return () => undefined;
      }
      emit(first);
      if (isFinal(first.status)) finish('final');
      else if (pending) void read();
      return () => finish('closed');
    },
    stop: () => finish('closed'),
  };
}
