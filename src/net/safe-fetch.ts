/**
 * Downloads media a brief links by URL without letting the URL reach inside our network (SSRF).
 * Each hop: parse and check the URL, resolve its host once, check every address, then connect to
 * exactly those addresses (Node is handed a lookup that answers from the checked list, and the
 * socket's peer is verified on connect) while Host and TLS SNI keep the original name. Redirects
 * are followed by hand so each target goes through the same checks. The body is streamed to a
 * `.part` file, counted against the size limit and sniffed for its real type before it is kept.
 *
 * @example
 *   const media = await fetchMedia('https://cdn.example.com/logo.png', {
 *     dir: workDir, allowedKinds: ['image'], maxBytes: 20e6, field: 'scenes.0.visual.src',
 *   });
 *   // → { path: '<workDir>/<uuid>.png', bytes: 48213, contentType: 'image/png', kind: 'image', finalUrl }
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction, Socket } from 'node:net';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../contract/errors.js';
import { inAnyNetwork, parseCidr } from './ip-address.js';
import { MediaFetchError, toFetchError } from './media-fetch-error.js';
import { decideKind, sniffMedia, SNIFF_BYTES, type MediaKind } from './media-sniff.js';
import {
  compileAllowList,
  displayUrl,
  parseMediaUrl,
  resolveTarget,
  type AllowList,
  type CheckContext,
  type CheckedTarget,
  type LookupAll,
} from './url-policy.js';

export type { MediaKind } from './media-sniff.js';
export type { LookupAll } from './url-policy.js';

export interface FetchMediaOptions {
  /** Directory the file is written to (created if missing). */
  dir: string;
  /** Kinds the caller accepts; the file's bytes decide its kind, not the server's Content-Type. */
  allowedKinds: readonly MediaKind[];
  /** Largest body accepted, in bytes. Default 100 MiB. */
  maxBytes?: number;
  /** The whole download, from the first DNS lookup to the last byte, in ms. Default 120 000. */
  timeoutMs?: number;
  /** Each TCP connect, in ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Redirects followed before giving up. Default 3. */
  maxRedirects?: number;
  /** Hosts fetched even when they resolve to private addresses (`media.internal`, `*.corp.example`). */
  allowHosts?: readonly string[];
  /** Addresses connected to even though private (`10.1.0.0/16`, `fd00::/8`, `127.0.0.1`). */
  allowCidrs?: readonly string[];
  signal?: AbortSignal;
  /** Host resolution; default `dns.promises.lookup` (honours /etc/hosts). Tests inject names. */
  lookup?: LookupAll;
  /** The brief field the URL came from, named in every error. Default `url`. */
  field?: string;
  /** File name without extension (the sniffed type's extension is appended). Default a random UUID. */
  fileName?: string;
  /** Extra trusted certificate authorities (PEM), for private deployments with an internal CA. */
  ca?: string | Buffer | (string | Buffer)[];
  userAgent?: string;
}

export interface FetchedMedia {
  path: string;
  bytes: number;
  /** The sniffed MIME type, e.g. `image/png` (what the bytes are, whatever the server said). */
  contentType: string;
  kind: MediaKind;
  /** The URL after redirects. */
  finalUrl: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface Settings {
  dir: string;
  allowedKinds: readonly MediaKind[];
  field: string;
  maxBytes: number;
  timeoutMs: number;
  connectTimeoutMs: number;
  maxRedirects: number;
  allow: AllowList;
  lookup: LookupAll | undefined;
  fileName: string;
  ca: FetchMediaOptions['ca'];
  userAgent: string;
}

function wholeNumber(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 0) throw new AppError('internal', `fetchMedia: ${name} must be a whole number ≥ 0, got ${n}`);
  return n;
}

function settle(o: FetchMediaOptions): Settings {
  const fileName = o.fileName ?? randomUUID();
  if (!/^[\w-][\w.-]{0,127}$/.test(fileName)) throw new AppError('internal', `fetchMedia: fileName "${fileName}" must be a plain file name`);
  if (o.allowedKinds.length === 0) throw new AppError('internal', 'fetchMedia: allowedKinds is empty');
  return {
    dir: o.dir,
    allowedKinds: o.allowedKinds,
    field: o.field ?? 'url',
    maxBytes: wholeNumber('maxBytes', o.maxBytes, 100 * 1024 * 1024),
    timeoutMs: wholeNumber('timeoutMs', o.timeoutMs, 120_000),
    connectTimeoutMs: wholeNumber('connectTimeoutMs', o.connectTimeoutMs, 10_000),
    maxRedirects: wholeNumber('maxRedirects', o.maxRedirects, 3),
    allow: compileAllowList(o.allowHosts, o.allowCidrs),
    lookup: o.lookup,
    fileName,
    ca: o.ca,
    userAgent: o.userAgent ?? 'AIPROD-media-fetch/1',
  };
}

/** Downloads `url` into `options.dir`, refusing anything unsafe, too large or of the wrong kind. */
export async function fetchMedia(url: string, options: FetchMediaOptions): Promise<FetchedMedia> {
  const settings = settle(options);
  const controller = new AbortController();
  const timer = setTimeout(() => {
    const message = `${displayUrl(url)} did not finish downloading within ${settings.timeoutMs} ms`;
    controller.abort(new MediaFetchError('media_fetch_failed', settings.field, message, { retryable: true }));
  }, settings.timeoutMs);
  const onAbort = (): void => controller.abort(new AppError('aborted', `${settings.field}: download of ${displayUrl(url)} was cancelled`));
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const { response, finalUrl } = await openFollowingRedirects(url, settings, controller.signal);
    return await saveBody(response, finalUrl, settings, controller.signal);
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw toFetchError(error, settings.field, displayUrl(url));
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

async function openFollowingRedirects(raw: string, s: Settings, signal: AbortSignal): Promise<{ response: IncomingMessage; finalUrl: URL }> {
  const origin: CheckContext = { field: s.field, subject: displayUrl(raw) };
  let url = parseMediaUrl(raw, origin);
  for (let hop = 0; ; hop++) {
    const ctx = hop === 0 ? origin : { field: s.field, subject: `${displayUrl(raw)} redirects to ${displayUrl(url)}, which` };
    const target = await resolveTarget(url, s.allow, ctx, s.lookup, signal);
    const response = await request(target, s, ctx, signal);
    const status = response.statusCode ?? 0;
    if (!REDIRECTS.has(status)) {
      if (status === 200 || status === 203) return { response, finalUrl: url };
      response.destroy();
      const retryable = status >= 500 || status === 408 || status === 429;
      throw new MediaFetchError('media_fetch_failed', s.field, `${ctx.subject} answered HTTP ${status}`, { retryable });
    }
    response.destroy();
    const location = response.headers.location;
    if (!location) throw new MediaFetchError('media_fetch_failed', s.field, `${ctx.subject} answered HTTP ${status} without a Location`);
    if (hop >= s.maxRedirects) {
      throw new MediaFetchError('media_fetch_failed', s.field, `${origin.subject} redirects more than ${s.maxRedirects} times; link the file's final URL`);
    }
    const next = parseMediaUrl(location, { field: s.field, subject: `${origin.subject} redirects to ${displayUrl(location)}, which` }, url);
    if (url.protocol === 'https:' && next.protocol === 'http:') {
      throw new MediaFetchError('unsafe_url', s.field, `${origin.subject} redirects from https to plain http (${displayUrl(next)})`);
    }
    url = next;
  }
}

/** A lookup that answers only from the checked addresses, so Node cannot resolve the name again. */
export function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const usable = addresses.filter((a) => !options.family || options.family === a.family);
    const first = usable[0];
    // Answer asynchronously, as dns.lookup does: net attaches its listeners after calling lookup.
    process.nextTick(() => {
      if (!first) callback(Object.assign(new Error(`no checked IPv${options.family} address`), { code: 'ENOTFOUND' }), '');
      else if (options.all) callback(null, usable.map((a) => ({ ...a })));
      else callback(null, first.address, first.family);
    });
  };
}

function request(target: CheckedTarget, s: Settings, ctx: CheckContext, signal: AbortSignal): Promise<IncomingMessage> {
  const checked = target.addresses.map((a) => parseCidr(a.address));
  const common = {
    host: target.hostname,
    port: target.port,
    path: `${target.url.pathname}${target.url.search}`,
    method: 'GET',
    agent: false as const,
    lookup: pinnedLookup(target.addresses),
    signal,
    headers: {
      host: target.url.host,
      'user-agent': s.userAgent,
      accept: 'image/*, video/*, audio/*;q=0.9, */*;q=0.1',
      'accept-encoding': 'identity',
    },
  };
  const req =
    target.url.protocol === 'https:'
      ? https.request({ ...common, servername: isIP(target.hostname) === 0 ? target.hostname : undefined, ca: s.ca })
      : http.request(common);
  req.once('socket', (socket: Socket) => {
    const timer = setTimeout(() => {
      const message = `${ctx.subject} did not accept a connection within ${s.connectTimeoutMs} ms`;
      req.destroy(new MediaFetchError('media_fetch_failed', s.field, message, { retryable: true }));
    }, s.connectTimeoutMs);
    // Belt and braces: whatever Node did, the peer must be an address we checked.
    const verifyPeer = (): void => {
      clearTimeout(timer);
      const peer = socket.remoteAddress ?? '';
      if (!inAnyNetwork(peer, checked)) {
        req.destroy(new MediaFetchError('unsafe_url', s.field, `${ctx.subject} connected to ${peer}, which is not an address that was checked`));
      }
    };
    socket.once('close', () => clearTimeout(timer));
    if (socket.connecting || socket.remoteAddress === undefined) socket.once('connect', verifyPeer);
    else verifyPeer();
  });
  return new Promise((resolve, reject) => {
    req.on('error', reject);
    req.once('response', resolve);
    req.end();
  });
}

async function saveBody(response: IncomingMessage, finalUrl: URL, s: Settings, signal: AbortSignal): Promise<FetchedMedia> {
  const shown = displayUrl(finalUrl);
  const tooLarge = (what: string): MediaFetchError =>
    new MediaFetchError('media_too_large', s.field, `${shown} ${what}, over the limit of ${s.maxBytes} bytes`);
  const declaredLength = Number(response.headers['content-length'] ?? NaN);
  if (Number.isFinite(declaredLength) && declaredLength > s.maxBytes) {
    response.destroy();
    throw tooLarge(`is ${declaredLength} bytes`);
  }
  const declaredType = response.headers['content-type'];
  const refuse = (what: string): MediaFetchError => new MediaFetchError('media_type_refused', s.field, `${shown} ${what}`);
  let bytes = 0;
  let result: { contentType: string; ext: string; kind: MediaKind } | undefined;

  const decide = (head: Buffer): typeof result => {
    const sniffed = sniffMedia(head);
    const served = declaredType ? `served as ${declaredType}` : 'served without a Content-Type';
    if (!sniffed) throw refuse(head.length === 0 ? 'is empty' : `is not an image, video or audio file we read (${served})`);
    const decision = decideKind(sniffed, declaredType, s.allowedKinds);
    if ('contradicts' in decision) throw refuse(`is ${served}, but its bytes are ${sniffed.mime}`);
    if (!decision.allowed) throw refuse(`is ${decision.kind} (${sniffed.mime}); ${s.field} accepts ${s.allowedKinds.join(' or ')}`);
    return { contentType: sniffed.mime, ext: sniffed.ext, kind: decision.kind };
  };

  // Counts every byte (servers lie about Content-Length, or send none) and holds the first ones
  // back until the type is known, so nothing of a refused file is written beyond its head.
  async function* guard(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let head: Buffer[] = [];
    let headBytes = 0;
    for await (const chunk of source) {
      bytes += chunk.length;
      if (bytes > s.maxBytes) throw tooLarge('sends more than that without declaring its length');
      if (result) {
        yield chunk;
        continue;
      }
      head.push(chunk);
      headBytes += chunk.length;
      if (headBytes < SNIFF_BYTES) continue;
      const all = Buffer.concat(head);
      result = decide(all);
      head = [];
      yield all;
    }
    if (!result) {
      result = decide(Buffer.concat(head));
      yield Buffer.concat(head);
    }
  }

  await mkdir(s.dir, { recursive: true });
  const partPath = join(s.dir, `${s.fileName}.part`);
  const out = createWriteStream(partPath, { flags: 'wx' });
  try {
    await pipeline(response, guard, out, { signal });
    if (!result) throw new AppError('internal', 'media type undecided after the download');
    const path = join(s.dir, `${s.fileName}.${result.ext}`);
    await rename(partPath, path);
    return { path, bytes, contentType: result.contentType, kind: result.kind, finalUrl: finalUrl.href };
  } catch (error) {
    // A refusal can come before the file has even opened: wait until the stream has closed, or
    // the file would be created after its removal.
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    await rm(partPath, { force: true });
    throw error;
  }
}
