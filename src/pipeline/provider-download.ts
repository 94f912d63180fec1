/**
 * How providers download what a vendor returned by URL (a generated clip, a stock photo, a track):
 * through the SSRF-safe fetcher, with the operator's media-fetch limits. Only public addresses are
 * reached, plus the host of the provider's own base URL — so a self-hosted gateway or a test
 * server on a private address works — and nothing else private.
 */
import { isIP } from 'node:net';
import type { Download } from '../providers/provider.js';
import { fetchMedia } from '../net/safe-fetch.js';
import type { MediaFetchConfig } from './media-urls.js';

export function providerDownload(config: MediaFetchConfig): (baseUrl: string) => Download {
  return (baseUrl) => {
    const host = new URL(baseUrl).hostname.replace(/^\[(.*)\]$/, '$1');
    const literal = isIP(host);
    const allowHosts = [...config.allowHosts, ...(literal ? [] : [host])];
    const allowCidrs = [...config.allowCidrs, ...(literal === 4 ? [`${host}/32`] : literal === 6 ? [`${host}/128`] : [])];
    return async (url, options) => {
      const fetched = await fetchMedia(url, {
        dir: options.dir,
        allowedKinds: options.kinds,
        maxBytes: config.maxBytes,
        timeoutMs: config.timeoutMs,
        allowHosts,
        allowCidrs,
        lookup: config.lookup,
        signal: options.signal,
        field: 'provider media',
      });
      return { path: fetched.path, bytes: fetched.bytes, contentType: fetched.contentType };
    };
  };
}
