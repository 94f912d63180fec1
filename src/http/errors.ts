/**
 * Errors → HTTP, in one place. Every error body is `{ error: { code, message, details? } }`; the
 * request id travels in `x-request-id`. A database that cannot be reached is a 503
 * `database_unavailable` (with Retry-After). Anything unexpected is a 500 with the id logged and no
 * stack trace sent.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, isDatabaseUnavailable, type ErrorCode } from '../contract/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The code a body that fails its schema gets (default invalid_request). */
    invalidBodyCode?: ErrorCode;
    /**
     * A route of the original API (routes/compat/): its error bodies also carry FastAPI's
     * `detail` (the message; for a request that fails its schema, 422 with a list of
     * `{ loc, msg, type }`), which that API's clients print.
     */
    compat?: boolean;
  }
}

export function toHttpError(error: unknown, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  const fe = error as FastifyError & { validationContext?: string };
  if (hasZodFastifySchemaValidationErrors(fe)) {
    const where = fe.validationContext ?? 'body';
    const details = fe.validation.map((v) => {
      const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
      return { path: where === 'body' ? path || '(root)' : `${where}.${path || '(root)'}`, message: v.message ?? 'invalid' };
    });
    const code = where === 'body' ? (request.routeOptions.config.invalidBodyCode ?? 'invalid_request') : 'invalid_request';
    return new AppError(code, `invalid ${where}: ${details[0]?.path}: ${details[0]?.message}`, { details });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', fe.message, { details: [{ message: 'send a smaller body, or split a batch' }] });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', fe.message, { details: [{ path: 'Content-Type', message: 'send application/json' }] });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_request', fe.message, { details: [{ path: '(body)', message: 'send a valid JSON document' }] });
    default:
      break;
  }
  // A restart, a failover, a terminated backend: the request may be sent again shortly.
  if (isDatabaseUnavailable(error)) return new AppError('database_unavailable', 'the database is unavailable', { cause: error });
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError('invalid_request', fe.message, { status: fe.statusCode });
  }
  return new AppError('internal', 'internal error', { cause: error });
}

export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const http = toHttpError(error, request);
  const { status, body } = errorResponse(error, http, request, reply);
  if (!request.routeOptions.config?.compat) return reply.status(status).send(body);
  // A route of the original API: the same body, plus FastAPI's `detail` that its clients print.
  const fe = error as FastifyError & { validationContext?: string };
  if (hasZodFastifySchemaValidationErrors(fe)) {
    // FastAPI's names for where a value came from.
    const where = ({ querystring: 'query', params: 'path', headers: 'header' } as Record<string, string>)[fe.validationContext ?? 'body'] ?? fe.validationContext ?? 'body';
    const detail = fe.validation.map((v) => ({
      loc: [where, ...v.instancePath.split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p))],
      msg: v.message ?? 'invalid',
      type: String(v.keyword ?? 'value_error'),
    }));
    return reply.status(422).send({ detail, ...body });
  }
  if (status === 401) {
    reply.header('www-authenticate', 'Bearer');
    return reply.status(401).send({ detail: request.headers.authorization ? body.error.message : 'Missing authorization header', ...body });
  }
  return reply.status(status).send({ detail: body.error.message, ...body });
}

/** The status and `{ error }` body of an error (logging what needs it, setting Retry-After where it applies). */
function errorResponse(error: unknown, http: AppError, request: FastifyRequest, reply: FastifyReply): { status: number; body: { error: { code: string; message: string; details?: unknown[] } } } {
  if (http.code === 'database_unavailable') {
    // One line per request, no stack: an outage makes many of them, and the driver's text (hosts,
    // SQL) stays in the log.
    request.log.warn({ requestId: request.id, cause: causeText(error) }, 'database unavailable');
    if (!reply.hasHeader('retry-after')) reply.header('retry-after', '5');
    return { status: 503, body: { error: { code: http.code, message: `the database is unavailable; retry shortly (request id ${request.id})` } } };
  }
  if (http.status >= 500) {
    request.log.error({ err: error, requestId: request.id }, 'request failed');
    return { status: http.status, body: { error: http.code === 'internal' ? { code: 'internal', message: `internal error; quote request id ${request.id}` } : http.toJSON() } };
  }
  if ((http.code === 'rate_limited' || http.code === 'not_ready') && !reply.hasHeader('retry-after')) reply.header('retry-after', '5');
  return { status: http.status, body: { error: http.toJSON() } };
}

/** The innermost message of an error chain (the driver's own words). */
function causeText(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

