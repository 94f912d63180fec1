/**
 * Which URLs the server may fetch, and the addresses it may connect to for them. A URL passes when
 * it is plain http(s) without credentials and every address its host resolves to is public — or
 * the operator's allow-list names the host or the address. Each redirect hop is checked again.
 */
import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { classifyAddress, describeAddress, inAnyNetwork, parseCidr, type Cidr } from './ip-address.js';
import { MediaFetchError } from './media-fetch-error.js';

/** `dns.promises.lookup` with `all: true`, or a stand-in for tests. */
export type LookupAll = (hostname: string, options: { all: true }) => Promise<LookupAddress[]>;

export interface AllowList {
  /** Lower-case host names; `*.example.com` matches every subdomain of example.com. */
  hosts: readonly string[];
  cidrs: readonly Cidr[];
}

/** A hop that passed every check: connect only to `addresses`, announce `url.host`. */
export interface CheckedTarget {
  url: URL;
  /** The host without IPv6 brackets. */
  hostname: string;
  port: number;
  addresses: LookupAddress[];
}

/** How messages name the URL being checked, e.g. `http://a/x` or `http://a/x redirects to http://b/, which`. */
export interface CheckContext {
  field: string;
  subject: string;
}

export function compileAllowList(hosts: readonly string[] = [], cidrs: readonly string[] = []): AllowList {
  return {
    hosts: hosts.map((h) => h.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')).filter((h) => h !== ''),
    cidrs: cidrs.filter((c) => c.trim() !== '').map(parseCidr),
  };
}

/** The URL as messages show it: no credentials, no query string (it may carry a signature). */
export function displayUrl(url: URL | string): string {
  let text: string;
  if (typeof url !== 'string') {
    text = `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
  } else if (URL.canParse(url)) {
    return displayUrl(new URL(url));
  } else {
    // Unparsable or relative (a Location header): still drop credentials and the query.
    text = url.replace(/\/\/[^/?#]*@/, '//').replace(/[?#].*$/s, (rest) => (rest.startsWith('?') ? '?…' : ''));
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

const unsafe = (ctx: CheckContext, reason: string): MediaFetchError => new MediaFetchError('unsafe_url', ctx.field, `${ctx.subject} ${reason}`);

/** The authority of a raw URL string, to spot an `@` the parser would silently drop (`http://@host/`). */
function rawAuthority(raw: string): string {
  return /^[a-z][a-z0-9+.-]*:[/\\]*([^/\\?#]*)/i.exec(raw.trim())?.[1] ?? '';
}

/**
 * Parses `raw` (relative to `base` for a Location header) and refuses what is never fetched:
 * other schemes, credentials, and host spellings that are not a name or a canonical IP.
 */
export function parseMediaUrl(raw: string, ctx: CheckContext, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw unsafe(ctx, 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw unsafe(ctx, `uses the ${url.protocol.slice(0, -1)}: scheme; only http and https URLs are fetched`);
  }
  if (url.username !== '' || url.password !== '' || rawAuthority(raw).includes('@')) {
    throw unsafe(ctx, 'contains a user name or password; put credentials in no URL, or make the file public');
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  // The WHATWG parser turns 2130706433, 0x7f.1 and 017700000001 into 127.0.0.1 already; a numeric
  // last label that survived as a name would be resolved by the OS's inet_aton, so never pass one on.
  if (isIP(hostname) === 0 && /(^|\.)(0x[0-9a-f]*|\d+)\.?$/i.test(hostname)) {
    throw unsafe(ctx, `has a numeric host "${hostname}" that is not a canonical IP address`);
  }
  if (hostname === '') throw unsafe(ctx, 'has no host');
  return url;
}

function hostAllowed(hostname: string, allow: AllowList): boolean {
  return allow.hosts.some((h) => (h.startsWith('*.') ? hostname.endsWith(h.slice(1)) : hostname === h));
}

function lookupFailure(ctx: CheckContext, hostname: string, error: unknown): MediaFetchError {
  const code = (error as NodeJS.ErrnoException).code;
  const missing = code === 'ENOTFOUND' || code === 'ENODATA';
  const reason = missing ? `names a host that does not exist (${hostname})` : `could not be resolved (${code ?? String(error)})`;
  return new MediaFetchError('media_fetch_failed', ctx.field, `${ctx.subject} ${reason}`, { retryable: !missing, cause: error });
}

/** Rejects with the signal's reason as soon as it aborts, for work that takes no signal. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Resolves the host once and checks every address; any unsafe address refuses the whole URL, since
 * the connection could otherwise land on it. The caller must connect only to the returned addresses.
 */
export async function resolveTarget(
  url: URL,
  allow: AllowList,
  ctx: CheckContext,
  lookup: LookupAll = dns.lookup,
  signal?: AbortSignal,
): Promise<CheckedTarget> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const literal = isIP(hostname);
  const trustedHost = hostAllowed(hostname, allow);
  if (!trustedHost && literal === 0 && (hostname === 'localhost' || hostname.endsWith('.localhost'))) {
    throw unsafe(ctx, 'names this machine (localhost)');
  }
  let addresses: LookupAddress[];
  if (literal !== 0) {
    addresses = [{ address: hostname, family: literal }];
  } else {
    try {
      addresses = await untilAborted(lookup(hostname, { all: true }), signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      throw lookupFailure(ctx, hostname, error);
    }
    if (addresses.length === 0) throw lookupFailure(ctx, hostname, Object.assign(new Error('no addresses'), { code: 'ENODATA' }));
  }
  if (!trustedHost) {
    for (const { address } of addresses) {
      const cls = classifyAddress(address);
      if (cls.kind === 'public' || inAnyNetwork(address, allow.cidrs)) continue;
      const verb = literal !== 0 ? 'points to' : 'resolves to';
      throw unsafe(ctx, `${verb} ${describeAddress(address, cls)}`);
    }
  }
  return { url, hostname, port, addresses };
}
