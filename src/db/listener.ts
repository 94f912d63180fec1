/**
 * LISTEN on PostgreSQL over one dedicated connection that comes back: when the connection drops
 * (a restart, a failover, `pg_terminate_backend`, a proxy's idle timeout) it reconnects with
 * backoff (capped at `maxBackoffMs`) and LISTENs every channel again, then tells each subscriber
 * (`onReconnect`), since notifications sent while it was away are lost. Its state feeds /ready.
 */
import pg from 'pg';
import { AppError } from '../contract/errors.js';

export type ListenerState = 'ok' | 'reconnecting';

export interface Subscription {
  onMessage: (payload: string) => void;
  /** Called after the listener came back from a drop (messages may have been missed meanwhile). */
  onReconnect?: () => void;
}

export interface PgListenerOptions {
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A `select 1` on the connection this often, so a connection that died silently is noticed. */
  pingMs?: number;
}

export class PgListener {
  private readonly channels = new Map<string, Set<Subscription>>();
  private client: pg.Client | undefined;
  /** Channels LISTENed on the current client. */
  private listening = new Set<string>();
  private opening: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private ping: NodeJS.Timeout | undefined;
  private failures = 0;
  private dropped = false;
  private closed = false;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly options: PgListenerOptions = {},
  ) {}

  /** 'ok' while LISTEN is in place (or nothing listens yet); 'reconnecting' after a drop until it is back. */
  get state(): ListenerState {
    return this.dropped ? 'reconnecting' : 'ok';
  }

  /**
   * Subscribes to `channel`; returns the unsubscribe. The first call connects (and throws when it
   * cannot); later ones never wait for a reconnect — they are LISTENed once the connection is back.
   */
  async listen(channel: string, subscription: Subscription): Promise<() => Promise<void>> {
    if (this.closed) throw new AppError('internal', 'the listener is closed');
    let subscribers = this.channels.get(channel);
    if (!subscribers) this.channels.set(channel, (subscribers = new Set()));
    subscribers.add(subscription);
    try {
      if (!this.client && !this.dropped) await (this.opening ??= this.open().finally(() => (this.opening = undefined)));
      if (this.client && !this.listening.has(channel)) {
        await this.client.query(`listen ${pg.escapeIdentifier(channel)}`);
        this.listening.add(channel);
      }
    } catch (error) {
      // Never established: the caller learns it. Once running, a drop is the reconnect loop's to mend.
      if (!this.dropped) {
        this.remove(channel, subscription);
        throw error;
      }
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      if (this.remove(channel, subscription) && this.client && this.listening.delete(channel)) {
        await this.client.query(`unlisten ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.ping);
    const client = this.client;
    this.client = undefined;
    this.channels.clear();
    await client?.end().catch(() => undefined);
  }

  /** True when `channel` has no subscriber left. */
  private remove(channel: string, subscription: Subscription): boolean {
    const subscribers = this.channels.get(channel);
    subscribers?.delete(subscription);
    if (subscribers && subscribers.size > 0) return false;
    this.channels.delete(channel);
    return true;
  }

  /** Connects, LISTENs every channel, and only then becomes the current client. */
  private async open(): Promise<void> {
    // A ping that never answers (a half-open connection) times out, which counts as a drop.
    const client = new pg.Client({ query_timeout: 10_000, ...this.config, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    // Before connect: an error event without a listener would end the process.
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      for (const subscription of this.channels.get(message.channel) ?? []) {
        try {
          subscription.onMessage(message.payload ?? '');
        } catch (error) {
          this.options.log?.('warn', 'a notification handler failed', { channel: message.channel, message: error instanceof Error ? error.message : String(error) });
        }
      }
    });
    try {
      await client.connect();
      const listening = new Set<string>();
      for (const channel of this.channels.keys()) {
        await client.query(`listen ${pg.escapeIdentifier(channel)}`);
        listening.add(channel);
      }
      if (this.closed) throw new AppError('internal', 'the listener is closed');
      this.client = client;
      this.listening = listening;
      // Channels subscribed while the loop above ran.
      for (const channel of this.channels.keys()) {
        if (listening.has(channel)) continue;
        await client.query(`listen ${pg.escapeIdentifier(channel)}`);
        listening.add(channel);
      }
    } catch (error) {
      if (this.client === client) this.client = undefined;
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    clearInterval(this.ping);
    this.ping = setInterval(() => {
      if (this.client !== client) return;
      // A failed ping means the connection is gone without having said so: end it, which reconnects.
      client.query('select 1').catch((error: unknown) => this.lost(client, error instanceof Error ? error : new Error(String(error))));
    }, this.options.pingMs ?? 30_000);
    this.ping.unref();
  }

  private lost(client: pg.Client, error?: Error): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    this.listening = new Set();
    this.dropped = true;
    clearInterval(this.ping);
    client.end().catch(() => undefined);
    this.options.log?.('warn', 'database listener connection lost; reconnecting', { message: error?.message ?? 'connection ended' });
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    const min = this.options.minBackoffMs ?? 250;
    const max = this.options.maxBackoffMs ?? 10_000;
    const delay = Math.min(max, min * 2 ** this.failures) * (0.75 + Math.random() * 0.5);
    this.retry = setTimeout(() => void this.reconnect(), Math.min(max, delay));
    this.retry.unref();
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    try {
      await (this.opening ??= this.open().finally(() => (this.opening = undefined)));
    } catch (error) {
      this.failures++;
      if (this.failures === 1 || this.failures % 10 === 0) {
        this.options.log?.('warn', 'database listener still reconnecting', { attempts: this.failures, message: error instanceof Error ? error.message : String(error) });
      }
      this.schedule();
      return;
    }
    this.failures = 0;
    this.dropped = false;
    this.options.log?.('info', 'database listener reconnected', { channels: [...this.channels.keys()] });
    for (const subscribers of this.channels.values()) {
      for (const subscription of subscribers) {
        try {
          subscription.onReconnect?.();
        } catch {
          // a subscriber's catch-up is its own business
        }
      }
    }
  }
}
