/**
 * What the audio vendors' fakes (fake-elevenlabs-audio.ts, fake-suno.ts, fake-freesound.ts) share:
 * a node:http server on 127.0.0.1, every request recorded with its time and the key it carried,
 * a switch that leaves requests unanswered (to test time-outs), and the 501 answer plus an
 * `unexpected` entry for anything a fake does not implement.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path without the query. */
  path: string;
  query: URLSearchParams;
  /** Parsed JSON body, when there was one. */
  body: unknown;
  /** The key the request carried (header or query), undefined when none. */
  key: string | undefined;
  /** When it arrived (ms since the epoch). */
  at: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string | object;
}

export abstract class FakeAudioVendor {
  readonly requests: RecordedRequest[] = [];
  /** Requests the fake does not implement; a test should expect none. */
  readonly unexpected: string[] = [];
  /** While set, requests are read and never answered. */
  hang = false;
  url = '';
  private readonly server: Server;

  protected constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** The keys seen, in order (for tenant-key tests). */
  get keysSeen(): Array<string | undefined> {
    return this.requests.map((r) => r.key);
  }

  protected async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  /** The key a request carries, the vendor's way. */
  protected abstract keyOf(req: IncomingMessage, query: URLSearchParams): string | undefined;

  /** The vendor's answer; undefined means "not implemented". */
  protected abstract route(request: RecordedRequest, req: IncomingMessage): Reply | undefined | Promise<Reply | undefined>;

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const request: RecordedRequest = { method: req.method ?? 'GET', path: target.pathname, query: target.searchParams, body, key: this.keyOf(req, target.searchParams), at: Date.now() };
    this.requests.push(request);
    if (this.hang) return;
    let reply = await this.route(request, req);
    if (!reply) {
      this.unexpected.push(`${request.method} ${target.pathname}${target.search}`);
      reply = { status: 501, body: { detail: 'not implemented by the fake' } };
    }
    const payload = reply.body === undefined ? '' : Buffer.isBuffer(reply.body) || typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    const json = reply.body !== undefined && !Buffer.isBuffer(reply.body) && typeof reply.body !== 'string';
    res.writeHead(reply.status, { ...(json ? { 'content-type': 'application/json' } : {}), ...reply.headers, 'content-length': String(Buffer.byteLength(payload)) });
    res.end(payload);
  }
}
