/**
 * Fans production change notifications (PostgreSQL NOTIFY on `aiprod_production`, from the API
 * and from workers on any machine) out to the SSE streams open in this process.
 */
import { isFinal, type Production, type ProductionEvent } from '../contract/production.js';
import type { Database } from '../db/database.js';
import { EVENTS_CHANNEL, type ProductionsService } from '../services/productions.service.js';

export class EventHub {
  private readonly listeners = new Map<string, Set<() => void | Promise<void>>>();
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

  async close(): Promise<void> {
    await this.stop?.();
    this.listeners.clear();
  }
}

/**
 * Follows one production for a stream (SSE or WebSocket): sends its current state, then every
 * change of status, stage or progress, and calls `end` after a final status or on `stop()`.
 */
export function followProduction(
  hub: EventHub,
  productions: ProductionsService,
  tenantId: string,
  first: Production,
  send: (event: ProductionEvent) => void,
  end: () => void,
): () => void {
  let last = '';
  let stopped = false;
  const emit = (p: Production): void => {
    const key = `${p.status}|${p.stage}|${p.progress}`;
    if (key === last) return;
    last = key;
    send({ id: p.id, status: p.status, stage: p.stage, progress: p.progress, error: p.error, at: new Date().toISOString() });
  };
  let unsubscribe = (): void => undefined;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    end();
  };
  emit(first);
  if (isFinal(first.status)) {
    stop();
    return stop;
  }
  // One read at a time, and one more after it when notifications came in meanwhile: reads in
  // flight together on a connection pool can answer out of order, and progress must not go back.
  let reading = false;
  let dirty = false;
  const read = async (): Promise<void> => {
    if (reading) {
      dirty = true;
      return;
    }
    reading = true;
    try {
      do {
        dirty = false;
        const current = await productions.get(tenantId, first.id).catch(() => undefined);
        if (!current || stopped) return;
        emit(current);
        if (isFinal(current.status)) stop();
      } while (dirty && !stopped);
    } finally {
      reading = false;
    }
  };
  unsubscribe = hub.subscribe(first.id, read);
  return stop;
}
