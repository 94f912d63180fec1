/**
 * Which URLs webhooks may be sent to: the media-download policy of net/url-policy.ts (http(s) only,
 * no credentials, no odd host spellings, nothing that is or resolves to a private, loopback,
 * link-local or otherwise internal address unless allow-listed). Checked when a URL is given
 * (422 unsafe_url) and again, with a fresh lookup pinned for the connection, at every attempt.
 */
import { AppError } from '../contract/errors.js';
import { MediaFetchError } from './media-fetch-error.js';
import { displayUrl, parseMediaUrl, resolveTarget, type AllowList, type LookupAll } from './url-policy.js';

const REMEDY = 'use a public http(s) URL; an operator can allow internal hosts with WEBHOOK_ALLOW_HOSTS or WEBHOOK_ALLOW_CIDRS';

/** No resolution: only literal addresses and localhost are judged (a name's addresses may change anyway). */
const noLookup: LookupAll = async () => [];

/**
 * Throws 422 unsafe_url naming `field` when `url` may not receive webhooks. With `lookup` the host
 * is resolved and every address checked; a host that does not resolve now is accepted (its
 * attempts will say so).
 */
export async function checkWebhookUrl(url: string, options: { allow: AllowList; lookup?: LookupAll; resolve?: boolean; field?: string }): Promise<void> {
  const field = options.field ?? 'url';
  const ctx = { field, subject: displayUrl(url) };
  try {
    await resolveTarget(parseMediaUrl(url, ctx), options.allow, ctx, options.resolve === false ? noLookup : options.lookup);
  } catch (error) {
    if (!(error instanceof MediaFetchError)) throw error;
    if (error.kind === 'unsafe_url') throw new AppError('unsafe_url', error.message, { details: [{ path: field, message: REMEDY }] });
  }
}
