/**
 * A worker process says it is alive: one row in `workers`, its heartbeat refreshed every
 * HEARTBEAT_SEC, removed on a clean shutdown. aiprod_workers_alive counts the rows heard from
 * within STALL_TIMEOUT_SEC, so "no live workers" is known from any process, whichever one
 * Prometheus scrapes, and a killed worker drops out by itself. Rows of workers gone for a day are
 * deleted by the next beat of any worker.
 */
import { hostname } from 'node:os';
import type { Database } from '../db/database.js';

export class WorkerPresence {
  constructor(
    private readonly database: Database,
    private readonly self: { id: string; version: string; slots: number; busy: () => number },
  ) {}

  async beat(): Promise<void> {
    await this.database.executeSql(
      `insert into workers (id, host, pid, version, slots, busy, started_at, heartbeat_at)
       values ($1, $2, $3, $4, $5, $6, now(), now())
       on conflict (id) do update set busy = excluded.busy, slots = excluded.slots, heartbeat_at = now()`,
      [this.self.id, hostname(), process.pid, this.self.version, this.self.slots, this.self.busy()],
    );
    await this.database.executeSql(`delete from workers where heartbeat_at < now() - interval '1 day'`);
  }

  async leave(): Promise<void> {
    await this.database.executeSql(`delete from workers where id = $1`, [this.self.id]);
  }
}
