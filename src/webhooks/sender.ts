/**
 * One webhook POST, SSRF-safe: the URL goes through the same policy as media downloads
 * (net/url-policy.ts: http(s) only, no credentials, the host resolved once and every address
 * checked against the private, loopback and link-local blocks unless allow-listed), the socket
 * connects only to the checked addresses and its peer is verified; no redirect is followed (a 3xx
 * is a failed attempt). The whole exchange has one timeout; the first 512 bytes of the answer are
 * kept for the delivery log. It never throws: the outcome is data.
 *
 * @example
 *   const result = await postWebhook({ url, body, headers }, { timeoutMs: 10_000, allow });
 *   // → { statusCode: 200, latencyMs: 84, responseStart: 'ok', error: null }
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import { AppError } from '../contract/errors.js';
import { inAnyNetwork, parseCidr } from '../net/ip-address.js';
import { pinnedLookup } from '../net/safe-fetch.js';
import { displayUrl, parseMediaUrl, resolveTarget, type AllowList, type CheckedTarget, type LookupAll } from '../net/url-policy.js';

export const RESPONSE_START_BYTES = 512;

export interface WebhookPost {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface WebhookResult {
  /** null when no HTTP answer came (refused URL, connection error, timeout). */
  statusCode: number | null;
  latencyMs: number;
  responseStart: string | null;
  error: string | null;
}

export interface SendOptions {
  timeoutMs: number;
  allow: AllowList;
  lookup?: LookupAll;
}

/** Text for the attempt log: printable, no NUL (PostgreSQL text refuses it). */
const clean = (text: string): string => text.replaceAll('\u0000', '');

function describe(error: unknown): string {
  if (error instanceof AppError) return `${error.code}: ${error.message}`;
  const e = error as NodeJS.ErrnoException;
  return clean(e.code ? `${e.code}: ${e.message}` : String(e.message ?? error));
}

function exchange(target: CheckedTarget, post: WebhookPost, signal: AbortSignal): Promise<{ statusCode: number; start: string }> {
  const checked = target.addresses.map((a) => parseCidr(a.address));
  const options = {
    host: target.hostname,
    port: target.port,
    path: `${target.url.pathname}${target.url.search}`,
    method: 'POST',
    agent: false as const,
    lookup: pinnedLookup(target.addresses),
    signal,
    headers: { ...post.headers, host: target.url.host, 'content-length': String(Buffer.byteLength(post.body)), 'accept-encoding': 'identity' },
  };
  const req = target.url.protocol === 'https:' ? https.request({ ...options, servername: isIP(target.hostname) === 0 ? target.hostname : undefined }) : http.request(options);
  req.once('socket', (socket: Socket) => {
    const verifyPeer = (): void => {
      const peer = socket.remoteAddress ?? '';
      if (!inAnyNetwork(peer, checked)) req.destroy(new AppError('unsafe_url', `connected to ${peer}, which is not an address that was checked`));
    };
    if (socket.connecting || socket.remoteAddress === undefined) socket.once('connect', verifyPeer);
    else verifyPeer();
  });
  return new Promise((resolve, reject) => {
    let response: IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    let bytes = 0;
    // Only the start of the answer matters: stop reading there (or at its end, or when it breaks off).
    const done = (): void => {
      if (!response) return;
      resolve({ statusCode: response.statusCode ?? 0, start: clean(Buffer.concat(chunks).subarray(0, RESPONSE_START_BYTES).toString('utf8')) });
      response.destroy();
    };
    req.on('error', (error) => (response ? done() : reject(error)));
    req.once('response', (res: IncomingMessage) => {
      response = res;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        bytes += chunk.length;
        if (bytes >= RESPONSE_START_BYTES) done();
      });
      res.once('end', done);
      res.once('close', done);
      res.on('error', done);
    });
    req.end(post.body);
  });
}

export async function postWebhook(post: WebhookPost, options: SendOptions): Promise<WebhookResult> {
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`timeout: no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
  const latencyMs = (): number => Math.round(performance.now() - started);
  try {
    const ctx = { field: 'url', subject: displayUrl(post.url) };
    const url = parseMediaUrl(post.url, ctx);
    const target = await resolveTarget(url, options.allow, ctx, options.lookup, controller.signal);
    const { statusCode, start } = await exchange(target, post, controller.signal);
    return { statusCode, latencyMs: latencyMs(), responseStart: start, error: null };
  } catch (error) {
    const reason = controller.signal.aborted ? (controller.signal.reason as Error).message : describe(error);
    return { statusCode: null, latencyMs: latencyMs(), responseStart: null, error: reason.slice(0, 1000) };
  } finally {
    clearTimeout(timer);
  }
}
