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
  if (http.code === 'database_unavailable') {
    // One line per request, no stack: an outage makes many of them, and the driver's text (hosts,
    // SQL) stays in the log.
    request.log.warn({ requestId: request.id, cause: causeText(error) }, 'database unavailable');
    if (!reply.hasHeader('retry-after')) reply.header('retry-after', '5');
    return reply.status(503).send({ error: { code: http.code, message: `the database is unavailable; retry shortly (request id ${request.id})` } });
  }
  if (http.status >= 500) {
    request.log.error({ err: error, requestId: request.id }, 'request failed');
    const body = http.code === 'internal' ? { code: 'internal', message: `internal error; quote request id ${request.id}` } : http.toJSON();
    return reply.status(http.status).send({ error: body });
  }
  if ((http.code === 'rate_limited' || http.code === 'not_ready') && !reply.hasHeader('retry-after')) reply.header('retry-after', '5');
  return reply.status(http.status).send({ error: http.toJSON() });
}

/** The innermost message of an error chain (the driver's own words). */
function causeText(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
