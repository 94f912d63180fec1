/**
 * Request hardening around every route: IP allow and deny lists (CIDR), a JSON parser that refuses
 * bodies nested deeper than a limit (before JSON.parse can recurse into them), security headers,
 * and CORS for an allow-list of origins, and the errors Node's HTTP server raises before any route
 * runs (request timeout, oversized headers, malformed requests) in the API's error shape. Body size
 * and request timeouts are fastify options set in app.ts; unknown fields are refused by the strict
 * zod schemas of each route.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../contract/errors.js';
import { inAnyNetwork, parseCidr, type Cidr } from '../net/ip-address.js';

export interface HardeningOptions {
  /** When non-empty, only these networks may call the API (403 ip_denied otherwise). */
  ipAllow: string[];
  /** These networks may never call it. */
  ipDeny: string[];
  /** Origins browsers may call the API from (exact, e.g. https://app.example.com); empty: none. */
  corsOrigins: string[];
  maxJsonDepth: number;
}

/** Parses a comma-separated list of CIDRs (or single addresses), naming the variable on a bad one. */
export function parseCidrList(text: string | undefined, variable: string): Cidr[] {
  const items = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return items.map((item) => {
    try {
      return parseCidr(item.includes('/') ? item : `${item}/${item.includes(':') ? 128 : 32}`);
    } catch {
      throw new AppError('internal', `invalid configuration: ${variable}: ${item} is not an address or CIDR (e.g. 10.0.0.0/8, 2001:db8::/32)`);
    }
  });
}

/**
 * The deepest nesting of objects and arrays in `text`, scanning once and stopping as soon as
 * `limit` is passed (strings, with their escapes, are skipped).
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};
/** The API answers JSON and media: nothing in it should ever run as a page. Swagger UI needs its own scripts. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'";

export function registerHardening(app: FastifyInstance, options: HardeningOptions): void {
  const allow = parseCidrList(options.ipAllow.join(','), 'IP_ALLOW');
  const deny = parseCidrList(options.ipDeny.join(','), 'IP_DENY');
  const origins = new Set(options.corsOrigins);

  app.addHook('onRequest', async (request, reply) => {
    const ip = request.ip;
    if ((allow.length > 0 && !inAnyNetwork(ip, allow)) || (deny.length > 0 && inAnyNetwork(ip, deny))) {
      throw new AppError('ip_denied', `requests from ${ip} are not accepted`, { details: [{ message: 'ask the operator to allow your address (IP_ALLOW / IP_DENY)' }] });
    }
    reply.headers(SECURITY_HEADERS);
    reply.header('content-security-policy', request.url.startsWith('/docs') ? DOCS_CSP : API_CSP);
    cors(request, reply, origins);
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
      // A preflight: answered here, whether or not the origin is allowed (without CORS headers it fails in the browser).
      return reply.status(204).send();
    }
    return undefined;
  });

  // JSON bodies: the depth is checked on the raw text, so a deeply nested body never reaches the parser.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      done(null, undefined);
      return;
    }
    if (jsonDepthExceeds(text, options.maxJsonDepth)) {
      done(new AppError('invalid_request', `the JSON body is nested deeper than ${options.maxJsonDepth} levels`, { details: [{ message: 'flatten the request' }] }), undefined);
      return;
    }
    try {
      // The reviver costs a call per value; most bodies cannot contain what it looks for.
      done(null, SUSPECT.test(text) ? JSON.parse(text, refusePrototypeKeys) : JSON.parse(text));
    } catch (error) {
      if (error instanceof AppError) {
        done(error, undefined);
        return;
      }
      done(new AppError('invalid_request', `the body is not valid JSON: ${(error as Error).message}`, { details: [{ message: 'send a JSON document with content-type application/json' }] }), undefined);
    }
  });
}

/** Text a JSON body needs the careful parse for: prototype keys, escaped NULs or surrogates (raw ones cannot survive UTF-8 decoding). */
const SUSPECT = /__proto__|constructor|\\u0000|\\u[dD][89a-fA-F]/;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A string that cannot be stored faithfully: a NUL (PostgreSQL text and jsonb refuse it) or half a surrogate pair. */
export function unstorableText(text: string): string | undefined {
  if (text.includes('\u0000')) return 'a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'an unpaired UTF-16 surrogate';
  return undefined;
}

/**
 * Reviver for request JSON: `__proto__` (and `constructor.prototype`) keys are how merged JSON
 * pollutes prototypes, and text that cannot be stored would fail deep inside the database: both are
 * refused here with a 400 that names the key.
 */
function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__' || (key === 'constructor' && value !== null && typeof value === 'object' && 'prototype' in value)) {
    throw new AppError('invalid_request', `the JSON body has a forbidden key: ${key}`, { details: [{ path: key, message: 'remove it' }] });
  }
  const bad = unstorableText(key) ?? (typeof value === 'string' ? unstorableText(value) : undefined);
  if (bad) throw new AppError('invalid_request', `the JSON body has ${bad} in ${key === '' ? 'its text' : `"${key.slice(0, 64)}"`}`, { details: [{ path: key, message: 'remove it' }] });
  return value;
}

function cors(request: FastifyRequest, reply: FastifyReply, origins: Set<string>): void {
  const origin = request.headers.origin;
  reply.header('vary', 'Origin');
  if (!origin || !origins.has(origin)) return;
  reply.header('access-control-allow-origin', origin);
  reply.header('access-control-expose-headers', 'x-request-id, location, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, idempotent-replayed');
  if (request.method === 'OPTIONS') {
    reply.header('access-control-allow-methods', 'GET, POST, PATCH, DELETE, OPTIONS');
    reply.header('access-control-allow-headers', 'authorization, content-type, idempotency-key, x-request-id');
    reply.header('access-control-max-age', '600');
  }
}

/**
 * Node's HTTP server options for a whole-request limit of `timeoutMs`: headers and body must both
 * arrive within it. Node checks running requests every `connectionsCheckingInterval` (30 s by
 * default), so without a shorter interval a slow body outlives the limit by up to that much.
 */
export function serverTimeouts(timeoutMs: number): { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number } {
  return { requestTimeout: timeoutMs, headersTimeout: timeoutMs, connectionsCheckingInterval: Math.min(1000, timeoutMs) };
}

/**
 * Answers what Node's HTTP parser refuses before fastify sees a request — a request over the time
 * limit (408), headers over the size limit (431), anything malformed (400) — with the API's error
 * body and a request id, then closes the connection.
 */
export function clientErrorHandler(log: () => FastifyBaseLogger, timeoutSec: number): (error: Error & { code?: string }, socket: Socket) => void {
  return (error, socket) => {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const refusal =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new AppError('request_timeout', `the request was not received within ${timeoutSec} s`, { details: [{ message: 'send the whole request, headers and body, within REQUEST_TIMEOUT_SEC' }] })
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? new AppError('headers_too_large', 'the request headers are too large', { details: [{ message: 'send fewer or shorter headers (at most 16 KiB in all)' }] })
          : new AppError('invalid_request', 'the request is not valid HTTP/1.1', { details: [{ message: 'check the request line, headers and framing' }] });
    const id = randomUUID();
    log().info({ requestId: id, code: error.code, remoteAddress: socket.remoteAddress }, `client error: ${refusal.code}`);
    // Only when no response of this request has started (as Node itself does): half an answer
    // followed by another would corrupt the stream. Earlier answers on a kept-alive connection are whole.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify({ error: refusal.toJSON() });
      socket.write(
        `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Error'}\r\n` +
          `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
          `x-request-id: ${id}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };
}
