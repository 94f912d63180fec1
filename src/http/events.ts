/**
 * Fans production change notifications (PostgreSQL NOTIFY on `aiprod_production`, from the API
 * and from workers on any machine) out to the SSE streams open in this process.
 */
import type { Database } from '../db/database.js';
import { EVENTS_CHANNEL } from '../services/productions.service.js';

export class EventHub {
  private readonly listeners = new Map<string, Set<() => void | Promise<void>>>();
  private stop: (() => Promise<void>) | undefined;

  async start(database: Database): Promise<void> {
    this.stop = await database.listen(EVENTS_CHANNEL, (payload) => {
      try {
        const { id } = JSON.parse(payload) as { id: string };
        for (const listener of this.listeners.get(id) ?? []) void Promise.resolve(listener()).catch(() => undefined);
      } catch {
        // a payload that is not ours: ignore
      }
    });
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
