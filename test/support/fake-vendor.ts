/**
 * What the picture vendors' fakes share: a node:http server on 127.0.0.1 (port 0) that records
 * every request (time, key), answers an unknown request 501 (and records it in `unexpected`),
 * serves the media it generated at `/media/<id>`, and plays switchable failure scenarios.
 * Each vendor's fake (fake-runway.ts, fake-veo.ts, …) supplies how its key is carried, its error
 * JSON, and its routes.
 *
 * Scenarios apply to API calls (not media downloads): `scenario` stays until changed;
 * `next` is consumed one per API call first (e.g. `fake.next.push('rate_limited')` for one 429).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fakeClip, fakeImage } from './fake-media.js';

export type Scenario =
  | 'ok'
  /** The key is refused (the vendor's own status and body). */
  | 'unauthorized'
  /** 429 with Retry-After: 1. */
  | 'rate_limited'
  | 'server_error'
  /** The request is accepted and never answered. */
  | 'hang'
  /** 200 with a body that is not JSON. */
  | 'malformed'
  /** The vendor refuses the prompt on policy grounds (at once, or as a failed task). */
  | 'refused'
  /** A long task that runs, then ends failed (non-task vendors: a 400). */
  | 'task_failed';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
  /** Date.now() when it arrived. */
  at: number;
  /** The key it carried, if any. */
  key?: string;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  raw?: Buffer | string;
}

export interface RouteInput {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
  /** The scenario this call plays. */
  scenario: Scenario;
}

export abstract class FakeVendor {
  url = '';
  scenario: Scenario = 'ok';
  readonly next: Scenario[] = [];
  readonly requests: RecordedRequest[] = [];
  readonly unexpected: string[] = [];
  /** Every key a request carried, in order (undefined: none). */
  readonly keysSeen: Array<string | undefined> = [];
  /** Media paths downloaded (`/media/<id>`), in order. */
  readonly downloads: string[] = [];
  /** Task/operation checks answered "still running" before one finishes. */
  runningPolls = 1;
  private readonly media = new Map<string, { bytes: Buffer; type: string }>();
  private readonly server: Server;

  protected constructor(readonly apiKey: string) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  protected async listen(): Promise<void> {
    // The media every answer is cut from, made now so the first answer is not slow.
    await Promise.all([fakeImage('png', 1024, 576), fakeImage('jpg', 1024, 576), fakeClip(1280, 720)]);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  /** API calls (media downloads excluded) whose path matches. */
  calls(match: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => match.test(`${r.method} ${r.path}`));
  }

  /** Keeps bytes to serve at `/media/<id>.<ext>`; returns the URL. */
  protected serve(bytes: Buffer, type: string, ext: string): string {
    const id = `${randomUUID()}.${ext}`;
    this.media.set(id, { bytes, type });
    return `${this.url}/media/${id}`;
  }

  protected mediaAt(id: string): { bytes: Buffer; type: string } | undefined {
    return this.media.get(id);
  }

  /** The key the request carried, as the vendor reads it. */
  protected abstract keyOf(req: IncomingMessage, query: URLSearchParams): string | undefined;
  /** The vendor's answer to a refused key. */
  protected abstract authError(): Answer;
  /** The vendor's error JSON for a status. */
  protected abstract errorJson(status: number, message: string): unknown;
  /** The vendor's routes; undefined for an unknown request. */
  protected abstract route(input: RouteInput): Promise<Answer | undefined> | Answer | undefined;
  /** Paths that need no key (media URLs are signed, or public). */
  protected isPublic(path: string): boolean {
    return path.startsWith('/media/');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const raw = await readAll(req);
    let body: unknown = undefined;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = raw.toString('utf8');
      }
    }
    if (this.isPublic(target.pathname)) {
      const file = method === 'GET' ? this.media.get(target.pathname.slice('/media/'.length)) : undefined;
      if (!file) return send(res, { status: 404, raw: 'not found' });
      this.downloads.push(target.pathname);
      return send(res, { status: 200, headers: { 'content-type': file.type }, raw: file.bytes });
    }
    const key = this.keyOf(req, target.searchParams);
    this.keysSeen.push(key);
    this.requests.push({ method, path: target.pathname, query: target.searchParams, headers: req.headers, body, at: Date.now(), key });
    const scenario = this.next.shift() ?? this.scenario;
    if (key !== this.apiKey || scenario === 'unauthorized') return send(res, this.authError());
    switch (scenario) {
      case 'hang':
        return;
      case 'rate_limited':
        return send(res, { status: 429, headers: { 'retry-after': '1' }, json: this.errorJson(429, 'Too many requests, slow down') });
      case 'server_error':
        return send(res, { status: 500, json: this.errorJson(500, 'Internal error') });
      case 'malformed':
        return send(res, { status: 200, headers: { 'content-type': 'application/json' }, raw: '{"id": "broken' });
      case 'ok':
      case 'refused':
      case 'task_failed':
        break;
    }
    let answer: Answer | undefined;
    try {
      answer = await this.route({ method, path: target.pathname, query: target.searchParams, headers: req.headers, body, scenario });
    } catch (error) {
      this.unexpected.push(`${method} ${target.pathname}: ${error instanceof Error ? error.message : String(error)}`);
      return send(res, { status: 400, json: this.errorJson(400, error instanceof Error ? error.message : String(error)) });
    }
    if (!answer) {
      this.unexpected.push(`${method} ${target.pathname}${target.search}`);
      return send(res, { status: 501, json: this.errorJson(501, 'not implemented by the fake') });
    }
    send(res, answer);
  }
}

function send(res: ServerResponse, answer: Answer): void {
  const payload = answer.json !== undefined ? JSON.stringify(answer.json) : answer.raw;
  const headers: Record<string, string> = { ...(answer.json !== undefined ? { 'content-type': 'application/json' } : {}), ...answer.headers };
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(answer.status, headers);
  res.end(payload);
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Throws (→ a 400 in the vendor's shape, and an `unexpected` entry) unless the condition holds. */
export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
