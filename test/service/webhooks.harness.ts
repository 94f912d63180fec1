/**
 * Webhook tests' support: a real receiver (node:http on 127.0.0.1, reached as `receiver.test`
 * through an injected lookup and the WEBHOOK_ALLOW_HOSTS allow-list), the service with webhook
 * delivery running, and a render worker that emits webhook events.
 */
import { EventEmitter, once } from 'node:events';
import { mkdirSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { loadEnv } from '../../src/config/env.js';
import { ActiveRenders, handleRender } from '../../src/jobs/render.handler.js';
import { createPipelineDeps, mediaFetchConfig } from '../../src/main/container.js';
import type { LookupAll } from '../../src/net/url-policy.js';
import type { WebhookOptions } from '../../src/webhooks/config.js';
import { createWebhooks, type Webhooks } from '../../src/main/webhooks.js';
import type { WebhookEmitter } from '../../src/webhooks/emitter.js';
import type { WebhookEventBody } from '../../src/webhooks/events.js';
import { createWebhookMetrics } from '../../src/webhooks/metrics.js';
import { webhookRoutes } from '../../src/http/routes/webhooks.routes.js';
import { startTestService, type TestService } from './harness.js';

export const RECEIVER_HOST = 'receiver.test';

export interface Received {
  /** ms since the epoch when the request was read (before the answer). */
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  event: WebhookEventBody;
  status: number;
}

export interface Reply {
  status?: number;
  body?: string;
  /** Answer this late (longer than the webhook timeout: a timed-out attempt). */
  delayMs?: number;
}

/** What to answer the n-th request (1-based) to a path; default 200 "ok". */
export type Plan = (request: Omit<Received, 'status'>, nth: number) => Reply;

export class Receiver {
  readonly received: Received[] = [];
  private readonly plans = new Map<string, Plan>();
  private readonly counts = new Map<string, number>();
  private readonly changes = new EventEmitter();

  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<Receiver> {
    const server = http.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const receiver = new Receiver(server, (server.address() as AddressInfo).port);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => receiver.handle(req, res));
    return receiver;
  }

  /** Answers requests to `path` by `plan`. */
  on(path: string, plan: Plan): void {
    this.plans.set(path, plan);
  }

  url(path: string, host = RECEIVER_HOST): string {
    return `http://${host}:${this.port}${path}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const body = Buffer.concat(chunks).toString('utf8');
      const request = { at: Date.now(), path, headers: req.headers, body, event: JSON.parse(body) as WebhookEventBody };
      const nth = (this.counts.get(path) ?? 0) + 1;
      this.counts.set(path, nth);
      const reply = this.plans.get(path)?.(request, nth) ?? {};
      const status = reply.status ?? 200;
      this.received.push({ ...request, status });
      this.changes.emit('request');
      const answer = (): void => void res.writeHead(status, { 'content-type': 'text/plain' }).end(reply.body ?? 'ok');
      if (reply.delayMs) setTimeout(answer, reply.delayMs).unref();
      else answer();
    });
  }

  /** Resolves once `done(received)` holds, checked at every request. */
  async waitFor(done: (received: Received[]) => boolean, timeoutMs = 30_000): Promise<Received[]> {
    if (done(this.received)) return this.received;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done(this.received)) return;
        clearTimeout(timer);
        this.changes.off('request', check);
        resolve(this.received);
      };
      const timer = setTimeout(() => {
        this.changes.off('request', check);
        reject(new Error(`timed out waiting for webhook requests; got ${JSON.stringify(this.received.map((r) => [r.path, r.event.type, r.status]))}`));
      }, timeoutMs);
      this.changes.on('request', check);
    });
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

/** Polls `check` (a database state written by a webhook job) until it holds. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface WebhookTestService {
  svc: TestService;
  webhooks: Webhooks;
  /** The registry the webhook metrics of this instance are in. */
  registry: Registry;
  /** Host names the injected lookup answers (receiver.test → 127.0.0.1). */
  names: Map<string, string>;
  stop(): Promise<void>;
}

/**
 * The service (API role, on PGlite or `databaseUrl`) with webhook delivery: the routes are
 * registered here when the app does not have them yet, and this instance's delivery worker uses the
 * injected lookup. The WEBHOOK_* variables carry the same settings for a service that reads them.
 */
export async function startWebhookService(options: { databaseUrl?: string; dataDir?: string; webhooks: WebhookOptions; deliver?: boolean; concurrency?: number; env?: Record<string, string> }): Promise<WebhookTestService> {
  const settings = options.webhooks;
  const svc = await startTestService({
    role: 'api',
    databaseUrl: options.databaseUrl,
    env: {
      ...(options.dataDir ? { AIPROD_DATA_DIR: options.dataDir } : {}),
      WEBHOOK_ALLOW_HOSTS: (settings.allowHosts ?? []).join(','),
      WEBHOOK_ALLOW_CIDRS: (settings.allowCidrs ?? []).join(','),
      ...(settings.retryScheduleSec ? { WEBHOOK_RETRY_SCHEDULE_SEC: settings.retryScheduleSec.join(',') } : {}),
      ...(settings.timeoutMs ? { WEBHOOK_TIMEOUT_MS: String(settings.timeoutMs) } : {}),
      ...(settings.disableAfterFailures ? { WEBHOOK_DISABLE_AFTER_FAILURES: String(settings.disableAfterFailures) } : {}),
      ...options.env,
    },
  });
  const names = new Map([[RECEIVER_HOST, '127.0.0.1']]);
  const lookup: LookupAll = async (hostname) => {
    const address = names.get(hostname);
    if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };
  const registry = new Registry();
  const webhooks = createWebhooks({
    database: svc.database, queue: svc.queue, secrets: svc.secrets, audit: svc.access.audit,
    options: { ...settings, lookup }, metrics: createWebhookMetrics(registry),
  });
  const app = svc.app;
  if (app && !app.hasRoute({ method: 'GET', url: '/v1/webhooks' })) await app.register(webhookRoutes({ webhooks: webhooks.service }));
  if (options.deliver ?? true) await webhooks.work(options.concurrency ?? 2);
  return {
    svc, webhooks, registry, names,
    async stop() {
      await svc.queue.stopWorking();
      await webhooks.stop();
      await svc.stop();
    },
  };
}

/** A render worker in this process whose status changes emit webhook events (as service.ts wires it). */
export async function startRenderWorker(svc: TestService, emitter: WebhookEmitter): Promise<void> {
  const env = loadEnv({ ...process.env, AIPROD_DATA_DIR: svc.dataDir, AIPROD_CACHE_DIR: join(svc.dataDir, 'cache'), LOG_LEVEL: 'error' });
  const pipeline = await createPipelineDeps(env);
  const tmpDir = join(svc.dataDir, 'tmp');
  const assetsDir = join(svc.dataDir, 'assets');
  mkdirSync(tmpDir, { recursive: true });
  const active = new ActiveRenders();
  const shutdown = new AbortController();
  await svc.queue.work('render', 1, (job) =>
    handleRender(job, {
      database: svc.database, storage: svc.storage, queue: svc.queue, pipeline, workerId: 'webhook-test-worker', assetsDir, tmpDir,
      stallTimeoutSec: 60, heartbeatSec: 5, maxAttempts: 1, shutdown: shutdown.signal, webhooks: emitter, mediaFetch: mediaFetchConfig(env), log: () => undefined,
    }, active),
  );
}
