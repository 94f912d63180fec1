/**
 * The failures of fetching media by URL, with their codes: unsafe_url 422, media_too_large 413,
 * media_type_refused 415, media_fetch_failed 502 (retryable for 5xx, timeouts, connection errors).
 */
import { AppError } from '../contract/errors.js';

export type MediaFetchErrorKind = 'unsafe_url' | 'media_too_large' | 'media_type_refused' | 'media_fetch_failed';

const SPEC: Record<MediaFetchErrorKind, { status: number; remedy: string }> = {
  unsafe_url: {
    status: 422,
    remedy: 'use a public http(s) URL; for an internal host, an operator can allow it with MEDIA_FETCH_ALLOW_HOSTS or MEDIA_FETCH_ALLOW_CIDRS',
  },
  media_too_large: { status: 413, remedy: 'use a smaller file, or upload it instead of linking it' },
  media_type_refused: {
    status: 415,
    remedy: 'link the media file itself (not a web page), in a format this field accepts',
  },
  media_fetch_failed: { status: 502, remedy: 'check that the URL downloads from a public network' },
};

export class MediaFetchError extends AppError {
  readonly kind: MediaFetchErrorKind;

  constructor(kind: MediaFetchErrorKind, field: string, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    const spec = SPEC[kind];
    super(kind, `${field}: ${message}`, {
      status: spec.status,
      retryable: options.retryable ?? false,
      details: [{ path: field, message: spec.remedy }],
      cause: options.cause,
    });
    this.name = 'MediaFetchError';
    this.kind = kind;
  }
}

const RETRYABLE_NET = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Anything thrown on the way becomes an AppError: ours pass through, network errors are 502s. */
export function toFetchError(error: unknown, field: string, shown: string): AppError {
  if (error instanceof AppError) return error;
  const e = error as NodeJS.ErrnoException;
  // Errors with a path come from our own disk (mkdir, write, rename): not the remote's fault.
  if (e.path !== undefined) return new AppError('internal', `${field}: could not store ${shown}: ${e.message}`, { cause: error });
  const code = e.code ?? '';
  const reason = code.startsWith('HPE_') ? 'did not answer with valid HTTP' : `failed: ${e.message}`;
  return new MediaFetchError('media_fetch_failed', field, `${shown} ${reason}`, { retryable: RETRYABLE_NET.has(code), cause: error });
}
