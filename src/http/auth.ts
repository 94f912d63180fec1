/** Bearer API keys on every /v1 route (and the legacy /pipeline aliases); the principal (tenant, scopes) is attached to the request. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../contract/errors.js';
import type { AppDb } from '../db/database.js';
import { CachedAuthenticator, type Principal, type Scope } from '../services/tenants.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function principal(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthorized', 'no API key', { details: [{ path: 'Authorization', message: 'send "Authorization: Bearer aiprod_<id>_<secret>"' }] });
  return request.principal;
}

/** Which scope a route needs: reads need productions:read, everything else productions:write. */
function scopeFor(method: string): Scope {
  return method === 'GET' || method === 'HEAD' ? 'productions:read' : 'productions:write';
}

/** Everything under /v1 and the legacy aliases that touch productions; /health, /ready, /metrics, /docs and /presets are open. */
const PROTECTED = /^\/(v1\/|pipeline\/|cost-estimate(\?|$))/;

/**
 * Browsers cannot set headers on EventSource or WebSocket, so the two event streams also take the
 * key as `?access_token=`. Nowhere else: URLs end up in logs and histories.
 */
function streamToken(url: string): string | undefined {
  const [path, query] = url.split('?', 2);
  if (!query || !/^\/v1\/productions\/[^/]+\/(events|ws)$/.test(path ?? '')) return undefined;
  return new URLSearchParams(query).get('access_token') ?? undefined;
}

export function registerAuth(app: FastifyInstance, db: AppDb): void {
  const keys = new CachedAuthenticator(db);
  app.addHook('onRequest', async (request) => {
    if (!PROTECTED.test(request.url)) return;
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : streamToken(request.url);
    if (!token) throw new AppError('unauthorized', 'missing API key', { details: [{ path: 'Authorization', message: 'send "Authorization: Bearer aiprod_<id>_<secret>"' }] });
    const who = await keys.authenticate(token);
    const needed = scopeFor(request.method);
    if (!who.scopes.includes(needed) && !who.scopes.includes('admin')) {
      throw new AppError('forbidden', `this key lacks the ${needed} scope`, { details: [{ path: 'Authorization', message: `use a key with ${needed}` }] });
    }
    request.principal = who;
  });
}
